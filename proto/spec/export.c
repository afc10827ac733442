/*
 * export.c (spec): export runs (PROTOCOL.md sections 6 and 7): export.run
 * starts one now, export.list pages through them newest first,
 * export.read reads a chunk of a file a finished run's manifest lists.
 *
 * Not for: the nightly schedule or the files a run writes (they are no
 * method: server/methods/export*.c).
 */
#include "spec.h"

static const bb_arg export_run[] = {
    {"wait", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "等导出结束再回答；默认 false"},
    {NULL},
};
/* Newest first, so `after` is the smallest id seen (1 or more), not the
 * ascending cursor of BB_M_PAGED: declared here, with BB_M_LIMIT. */
static const bb_arg export_list[] = {
    {"after", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "上一页的 next（只列编号更小的）"},
    {NULL},
};

/* A file's name as a manifest lists it: at most EXPORT_NAME_MAX - 1 bytes
 * (server/methods/export_files.h). */
#define FILE_NAME_BYTES 63
static const bb_arg export_read[] = {
    {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "导出记录的编号"},
    {"name", BB_T_STR, BB_A_REQ | BB_A_BYTES, 1, FILE_NAME_BYTES, 0, NULL, NULL,
     "文件名：清单（files）里的一个"},
    {"offset", BB_T_INT, 0, 0, INT64_MAX, 0, NULL, NULL, "从第几个字节读起；默认 0"},
    {NULL},
};

const bb_method_spec bb_spec_export[] = {
    {"export.run", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_WRITES, export_run, "ExportRun",
     "立即导出一次"},
    {"export.list", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_LIMIT, export_list,
     "page of ExportRun", "列出导出记录（新的在前）"},
    {"export.read", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, 0, export_read, "ExportChunk",
     "下载导出的文件（按块读取）"},
    {NULL},
};
