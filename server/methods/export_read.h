/*
 * export_read.h: export.read (PROTOCOL.md section 6), reading the files of
 * a finished export run over the protocol, one chunk per request, so that
 * a supervisor can download last night's export without a login on the
 * server's machine.
 *
 * Only a file the run's manifest lists (export_run.files) is read, from
 * the run's own folder: the name a client sends is compared with the
 * manifest, never used as a path. Chunks are at most
 * BB_EXPORT_READ_CHUNK_BYTES (proto/bb_limits.h); the file is opened,
 * checked and read with uv_fs_* on libuv's thread pool, never on the loop.
 *
 * Not for: writing the files (export_files.c), the runs themselves
 * (export.c, export_worker.c), or how a client puts chunks together (it
 * checks each file against the manifest's SHA-256: client/cli_export.c).
 */
#ifndef BB_EXPORT_READ_H
#define BB_EXPORT_READ_H

#include "method.h"

/* The handler of export.read (export.c's method row). */
void export_read(request *req, const margs *a);

/* Its statement (listed in export.c's module so it is registered). */
extern mstmt export_read_stmt;

#endif
