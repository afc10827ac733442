/*
 * import.c (spec): the bulk imports, enterprise.import and status.import
 * (PROTOCOL.md section 6). Their rows are handed over unchecked (BB_T_ANY)
 * and checked one by one by the server, with the dispatcher's own checks
 * (margs_check_into), as the single method of a row would check them:
 * enterprise.create's arguments without its idempotency key, or the row of
 * status.import (bb_spec_status_import_row, proto/spec/status.c: the
 * arguments of status.submit, the enterprise named by enterprise_id or
 * credit_code). A bad row is answered in its item, it never refuses the
 * call. Not for: how they run (server/methods/import.c).
 */
#include "spec.h"

#include "bb_limits.h"

#define COMMIT {"commit", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "true 保存；默认 false 只试运行"}

static const bb_arg ent_import[] = {
    {"rows", BB_T_ANY, BB_A_REQ, 1, BB_MAX_IMPORT_ROWS, 0, NULL, NULL,
     "企业，每行一个 map，键同 enterprise.create；按信用代码新建或更新"},
    COMMIT,
    {NULL},
};
static const bb_arg status_import[] = {
    {"rows", BB_T_ANY, BB_A_REQ, 1, BB_MAX_IMPORT_ROWS, 0, NULL, NULL,
     "状态报告，每行一个 map，键同 status.submit，企业用 enterprise_id 或 credit_code 指明"},
    COMMIT,
    {"allow_duplicates", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL,
     "同一企业、同一报告日期、同一填报人已有内容不同的报告时仍然保存；默认 false"},
    {NULL},
};

const bb_method_spec bb_spec_import[] = {
    {"enterprise.import", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, ent_import,
     "items of ImportItem", "批量导入企业"},
    {"status.import", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, status_import,
     "items of ImportItem", "批量导入状态报告"},
    {NULL},
};
