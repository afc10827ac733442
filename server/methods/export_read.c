/*
 * export_read.c: export.read (export_read.h): one chunk of a file of a
 * finished export run.
 *
 * A request goes through three steps: the database says where the file
 * is and how long it is (the run's folder and the manifest's entry of
 * that name, st_read); the request waits its turn (at most
 * EXPORT_READS_AT_ONCE files are open at once, server-wide); then open,
 * fstat (a regular file of the manifest's size), read and close, each a
 * uv_fs_* request on libuv's thread pool. The answer is sent as soon as
 * the bytes are read; the file is closed after.
 *
 * The path is made of export_dir, the run's folder as the database has
 * it (a run folder's name, checked again here) and the name as the
 * manifest lists it; the client's text only selects an entry of the
 * manifest. O_NOFOLLOW: a symbolic link put in a run's folder is not
 * followed.
 *
 * Not for: the files' content or their manifest (export_files.c), the
 * runs (export.c), the client's side of a download (client/cli_export.c).
 */
#include "export_read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "bb_limits.h"
#include "export_files.h"
#include "log.h"
#include "server.h"

/* Files open for export.read at once, server-wide. Each holds a thread of
 * libuv's pool for a moment and a chunk buffer until answered; more wait
 * in a queue (they are answered in turn, never refused), so a client that
 * sends many reads at once neither starves the password checks that share
 * the pool nor makes the server hold many chunks. */
#define EXPORT_READS_AT_ONCE 4

/* The run and the manifest's entry for the name asked (NULL name: the
 * manifest does not list it). */
static const rp_col read_cols[] = {
    {"status", RP_TEXT}, {"folder", RP_TEXT}, {"name", RP_TEXT}, {"bytes", RP_INT},
};
enum { RC_STATUS, RC_FOLDER, RC_NAME, RC_BYTES, RC_N };

mstmt export_read_stmt = {
    .name = "export_read", .sql =
    "SELECT r.status, r.folder, f.v->>'name' AS name, (f.v->>'bytes')::bigint AS bytes"
    "  FROM export_run r"
    "  LEFT JOIN LATERAL (SELECT e.v FROM jsonb_array_elements(coalesce(r.files, '[]'::jsonb))"
    "                        AS e(v)"
    "                      WHERE e.v->>'name' = :name::text LIMIT 1) f ON true"
    " WHERE r.id = :id::bigint",
    .cols = read_cols, .ncols = RC_N};

/* One export.read from the database's answer to its close. */
typedef struct read_op {
    struct read_op *next;        /* the queue of reads waiting their turn */
    request *req;                /* until answered; NULL after */
    server *srv;                 /* borrowed */
    uv_fs_t fs;
    uv_file fd;                  /* -1 until opened */
    int64_t run_id;
    uint64_t offset, size;       /* where to read; the manifest's bytes */
    uint64_t want, got;          /* this chunk */
    char *buf;                   /* owned: the chunk */
    char name[EXPORT_NAME_MAX];  /* as asked (messages) */
    char path[EXPORT_PATH_MAX];
} read_op;

/* The loop thread's: the queue and how many files are open. */
static struct {
    read_op *head, *tail;
    unsigned running;
} R;

static void pump(void);

static void op_free(read_op *op)
{
    free(op->buf);
    free(op);
}

/* The op ends: frees it, and the next waiting read starts. */
static void op_done(read_op *op)
{
    R.running--;
    op_free(op);
    pump();
}

static void on_close(uv_fs_t *fs)
{
    read_op *op = fs->data;
    uv_fs_req_cleanup(fs);
    op_done(op);
}

/* Closes the file when open, then ends the op (the request has been
 * answered). */
static void op_close(read_op *op)
{
    if (op->fd < 0) {
        op_done(op);
        return;
    }
    op->fs.data = op;
    if (uv_fs_close(op->srv->loop, &op->fs, op->fd, on_close) != 0) {
        log_event(LOG_ERROR, "export_read_failed", "path=%s why=\"close could not start\"",
                  log_q(op->path));
        op_done(op);
    }
}

/* An unexpected failure at step (a word), logged with why (uverr's text
 * when not 0), answered `internal`; then closed. */
static void op_fail(read_op *op, const char *step, int uverr, const char *why)
{
    log_event(LOG_ERROR, "export_read_failed", "run=%" PRId64 " path=%s step=%s why=%s",
              op->run_id, log_q(op->path), step, log_q(uverr != 0 ? uv_strerror(uverr) : why));
    req_reply_error(op->req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
    op->req = NULL;
    op_close(op);
}

static void reply_chunk(read_op *op)
{
    msgpack_packer *pk = req_result_begin(op->req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "data");
    msgpack_pack_bin(pk, (size_t)op->want);
    if (op->want > 0)
        msgpack_pack_bin_body(pk, op->buf, (size_t)op->want);
    rowpack_str(pk, "eof");
    if (op->offset + op->want == op->size)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    req_result_end(op->req);
    op->req = NULL;
    op_close(op);
}

static void read_more(read_op *op);

static void on_read(uv_fs_t *fs)
{
    read_op *op = fs->data;
    ssize_t r = fs->result;
    uv_fs_req_cleanup(fs);
    if (r < 0) {
        op_fail(op, "read", (int)r, NULL);
        return;
    }
    if (r == 0) {
        /* Shorter than fstat said a moment ago: changed under us. */
        op_fail(op, "read", 0, "the file shrank while it was read");
        return;
    }
    op->got += (uint64_t)r;
    if (op->got < op->want)
        read_more(op);
    else
        reply_chunk(op);
}

static void read_more(read_op *op)
{
    uv_buf_t b = uv_buf_init(op->buf + op->got, (unsigned)(op->want - op->got));
    op->fs.data = op;
    int rc = uv_fs_read(op->srv->loop, &op->fs, op->fd, &b, 1, (int64_t)(op->offset + op->got),
                        on_read);
    if (rc != 0)
        op_fail(op, "read", rc, NULL);
}

static void on_fstat(uv_fs_t *fs)
{
    read_op *op = fs->data;
    ssize_t r = fs->result;
    uint64_t mode = fs->statbuf.st_mode, size = fs->statbuf.st_size;
    uv_fs_req_cleanup(fs);
    if (r < 0) {
        op_fail(op, "fstat", (int)r, NULL);
        return;
    }
    if (!S_ISREG(mode) || size != op->size) {
        op_fail(op, "fstat", 0,
                "the file does not match its manifest entry (not a regular file, or another "
                "size)");
        return;
    }
    if (op->want == 0) {
        reply_chunk(op);
        return;
    }
    op->buf = malloc((size_t)op->want);
    if (op->buf == NULL) {
        op_fail(op, "read", UV_ENOMEM, NULL);
        return;
    }
    read_more(op);
}

static void on_open(uv_fs_t *fs)
{
    read_op *op = fs->data;
    ssize_t r = fs->result;
    uv_fs_req_cleanup(fs);
    if (r == UV_ENOENT || r == UV_ENOTDIR) {
        /* Pruned (export_keep_days), or export_dir is another folder now. */
        req_reply_error(op->req, BB_E_NOT_FOUND, "id",
                        "the files of export run %" PRId64 " are no longer on the server "
                        "(runs older than export_keep_days are removed)",
                        op->run_id);
        op->req = NULL;
        op_done(op);
        return;
    }
    if (r < 0) {
        log_event(LOG_ERROR, "export_read_failed", "run=%" PRId64 " path=%s step=open why=%s",
                  op->run_id, log_q(op->path), log_q(uv_strerror((int)r)));
        req_reply_error(op->req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        op->req = NULL;
        op_done(op);
        return;
    }
    op->fd = (uv_file)r;
    op->fs.data = op;
    int rc = uv_fs_fstat(op->srv->loop, &op->fs, op->fd, on_fstat);
    if (rc != 0)
        op_fail(op, "fstat", rc, NULL);
}

static void op_start(read_op *op)
{
    R.running++;
    op->fs.data = op;
    int rc = uv_fs_open(op->srv->loop, &op->fs, op->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0,
                        on_open);
    if (rc != 0) {
        /* Failed synchronously: on_open will not run. */
        log_event(LOG_ERROR, "export_read_failed", "run=%" PRId64 " path=%s step=open why=%s",
                  op->run_id, log_q(op->path), log_q(uv_strerror(rc)));
        req_reply_error(op->req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        op->req = NULL;
        op_done(op);
    }
}

/* Starts waiting reads while fewer than EXPORT_READS_AT_ONCE are open. */
static void pump(void)
{
    while (R.running < EXPORT_READS_AT_ONCE && R.head != NULL) {
        read_op *op = R.head;
        R.head = op->next;
        if (R.head == NULL)
            R.tail = NULL;
        op->next = NULL;
        op_start(op);
    }
}

/* A name as a manifest may list it: one path component, no dot first. */
static bool plain_file_name(const char *n)
{
    size_t len = strlen(n);
    return len > 0 && len < EXPORT_NAME_MAX && n[0] != '.' && strchr(n, '/') == NULL;
}

static void on_row(request *req, const PGresult *res, void *ctx)
{
    read_op *op = ctx;
    op->req = req;
    if (PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "export run %" PRId64 " does not exist",
                        op->run_id);
        op_free(op);
        return;
    }
    const char *status = PQgetvalue(res, 0, RC_STATUS);
    if (strcmp(status, "ok") != 0) {
        /* A run lists its files once it is over and ok (ExportRun.files). */
        req_reply_error(req, BB_E_NOT_FOUND, "name",
                        "export run %" PRId64 " has no files to read: its status is %s",
                        op->run_id, status);
        op_free(op);
        return;
    }
    if (PQgetisnull(res, 0, RC_NAME)) {
        req_reply_error(req, BB_E_NOT_FOUND, "name",
                        "export run %" PRId64 " has no file named %s (export.list lists its "
                        "files)",
                        op->run_id, op->name);
        op_free(op);
        return;
    }
    const char *folder = PQgetisnull(res, 0, RC_FOLDER) ? "" : PQgetvalue(res, 0, RC_FOLDER);
    const char *name = PQgetvalue(res, 0, RC_NAME);
    int64_t bytes = PQgetisnull(res, 0, RC_BYTES) ? -1
                                                  : strtoll(PQgetvalue(res, 0, RC_BYTES), NULL, 10);
    const char *dir = op->srv->cfg.export_dir;
    int n = snprintf(op->path, sizeof op->path, "%s/%s/%s", dir, folder, name);
    /* What the database holds was written by export_worker.c; checked
     * again so that nothing but a run folder's file is ever opened. */
    if (!expf_is_run_folder_name(folder) || !plain_file_name(name) || bytes < 0 || n < 0 ||
        (size_t)n >= sizeof op->path) {
        log_event(LOG_ERROR, "export_read_failed",
                  "run=%" PRId64 " why=\"the run's folder or manifest entry is not usable\" "
                  "folder=%s name=%s",
                  op->run_id, log_q(folder), log_q(name));
        req_reply_error(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        op_free(op);
        return;
    }
    op->size = (uint64_t)bytes;
    if (op->offset > op->size) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "offset",
                        "offset: %" PRIu64 " is past the end of %s (%" PRIu64 " bytes)",
                        op->offset, op->name, op->size);
        op_free(op);
        return;
    }
    op->want = op->size - op->offset;
    if (op->want > BB_EXPORT_READ_CHUNK_BYTES)
        op->want = BB_EXPORT_READ_CHUNK_BYTES;
    if (R.tail != NULL)
        R.tail->next = op;
    else
        R.head = op;
    R.tail = op;
    pump();
}

void export_read(request *req, const margs *a)
{
    read_op *op = req_alloc(req, sizeof *op);
    if (op == NULL)
        return;
    const bb_val *name = margs_get(a, "name");
    op->srv = req_server(req);
    op->fd = -1;
    op->run_id = margs_int(a, "id", 0);
    op->offset = (uint64_t)margs_int(a, "offset", 0);
    /* The spec bounds name to EXPORT_NAME_MAX - 1 bytes. */
    snprintf(op->name, sizeof op->name, "%.*s", (int)name->len, name->s);
    mstmt_query(req, &export_read_stmt, a, NULL, on_row, op, free);
}
