/*
 * cli_export.c: `baobao export run [--wait]`, `baobao export list` and
 * `baobao export get [DATE] [--to DIR]`, the supervisors' handle on the
 * nightly exports (export.run, export.list, export.read).
 *
 * For: `export run`, which does more than call and print (a longer timeout
 * with --wait, exit 1 when the run failed, the run's files as a table);
 * the columns of `export list` (options, help and paging from the method
 * spec, cli_spec.c); and `export get`, which downloads a finished run's
 * files over the connection: each file in chunks of export.read into
 * NAME.part, checked against the SHA-256 of the run's manifest
 * (ExportRun.files), then renamed to NAME. A .part left by a download that
 * stopped (a dropped connection, a server restart, Ctrl-C) is continued
 * from its size by the next `export get`; one whose bytes turn out wrong is
 * downloaded again from the start. --json prints the server's result (or,
 * for get, what was saved) as JSON.
 * Not for: the export itself (baobaod writes the folder on its own
 * machine), or reading the files (they are CSV and reports for people).
 */
#include "cli.h"

#include "i18n.h"
#include "input.h"
#include "resolve.h"

#include "bb_limits.h"
#include "bb_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* `export run --wait` waits this long for the run when --timeout was not
 * given (a run of a large database takes minutes, not seconds). */
#define CLI_EXPORT_WAIT_TIMEOUT_MS 3600000
/* Bytes read at once when hashing what is already on disk. */
#define CLI_EXPORT_HASH_BUF 65536
/* Columns of the progress bar itself (between the brackets). */
#define CLI_EXPORT_BAR_COLS 24
/* The progress line is redrawn at most this often (and at the end). */
#define CLI_EXPORT_BAR_MS 100
/* Pause before reconnecting after a dropped connection. */
#define CLI_EXPORT_RETRY_PAUSE_MS 300
/* Longest path of a file written (DIR/NAME.part). */
#define CLI_EXPORT_PATH_MAX 4096
/* A file's name as a manifest lists it (proto/spec/export.c). */
#define CLI_EXPORT_NAME_MAX 64

static const char *const export_intro =
    N_("Nightly exports (supervisors and admins). baobaod writes every run to a dated\n"
       "folder under its export_dir: one CSV per entity, reports.xlsx and reports.html,\n"
       "and manifest.json last (a folder without it is incomplete). 'export get'\n"
       "downloads a finished run's files to this machine.\n");

static const char *const run_help =
    N_("Usage: baobao export run [--wait]\n"
       "\n"
       "Starts an export now and prints the run (status running). A run already in\n"
       "progress is not started twice: you get that run.\n"
       "\n"
       "  --wait           wait until the run has finished and print its outcome and\n"
       "                   files; exit 1 when it failed (default timeout 1 hour\n"
       "                   unless --timeout is given)\n");

static const char *const get_help =
    N_("Usage: baobao export get [DATE] [--to DIR] [--run ID]\n"
       "\n"
       "Downloads the files of a finished export run from the server: the newest\n"
       "run that ended ok, or the newest one of DATE (2026-11-26, 2026/11/26,\n"
       "2026年11月26日, 昨天 ...), or run ID.\n"
       "Each file is checked against the SHA-256 of the run's manifest; a file\n"
       "being downloaded is NAME.part until it is complete and checked. A download\n"
       "that stopped (a dropped connection, Ctrl-C) continues where it stopped\n"
       "when you run the same command again. Files already there and correct are\n"
       "not downloaded again. A progress bar is shown on a terminal.\n"
       "\n"
       "  --to DIR         the folder to save into (made when missing); default: the\n"
       "                   run's folder name (e.g. 2026-11-26) in the current folder\n"
       "  --run ID         that run (see 'baobao export list') instead of a date\n");

static const cli_col file_table[] = {
    {N_("FILE"), "name"}, {N_("ROWS"), "rows"}, {N_("BYTES"), "bytes"},
    {N_("SHA256"), "sha256"},
};

/* One run as a field block, then its files as a table. */
static int print_run(const msgpack_object *run)
{
    const msgpack_object *files = bb_map_get(run, "files");
    bool ok = cli_print_fields(run, NULL);
    if (ok && files != NULL && files->type == MSGPACK_OBJECT_ARRAY && files->via.array.size > 0) {
        fputs("\n", stdout);
        ok = cli_print_table(files, file_table, sizeof file_table / sizeof file_table[0], NULL);
    }
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

static int export_run(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {{.name = "--wait"}};
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, "export run", run_help);
    if (rc != 0)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    bool wait = cli_get(o, no, "--wait")->count > 0;
    cli_opts_free(o, no);
    if (wait && ctx->timeout_ms == BB_CLIENT_DEFAULT_TIMEOUT_MS)
        ctx->timeout_ms = CLI_EXPORT_WAIT_TIMEOUT_MS;
    bbi_kvs k = {.n = 0};
    bbi_kv_bool(&k, "wait", wait);
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    bb_error err;
    rc = bbi_pack(&a, "export.run", &k, &err);
    /* Not retried as a write: a second export.run joins the run in
     * progress anyway, and a run is no record to store twice. */
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "export.run", &a, false, &r, &err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return cli_fail_in(ctx, "export.run", &err);
    const msgpack_object *res = bb_reply_result(r);
    if (bbi_want_map(res, "export.run", &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail_in(ctx, "export.run", &err);
    }
    rc = ctx->json ? cli_print_json(res) : print_run(res);
    const msgpack_object *st = bb_map_get(res, "status");
    bool ok = st != NULL && st->type == MSGPACK_OBJECT_STR && st->via.str.size == 2 &&
              memcmp(st->via.str.ptr, "ok", 2) == 0;
    if (rc == CLI_EXIT_OK && wait && !ok) {
        fprintf(stderr, _("baobao: export run: the run ended with status %.*s\n"),
                st != NULL && st->type == MSGPACK_OBJECT_STR ? (int)st->via.str.size : 1,
                st != NULL && st->type == MSGPACK_OBJECT_STR ? st->via.str.ptr : "?");
        rc = CLI_EXIT_REFUSED;
    }
    bb_reply_free(r);
    return rc;
}

/* ---- export get: finding the run ---- */

/* A number as text, for messages: a translation then has plain %s, not
 * the <inttypes.h> macros. */
#define NUM_BUF 24
static const char *num(int64_t v, char buf[NUM_BUF])
{
    snprintf(buf, NUM_BUF, "%" PRId64, v);
    return buf;
}

static bool obj_int(const msgpack_object *o, int64_t *v)
{
    if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *v = (int64_t)o->via.u64;
    else if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *v = o->via.i64;
    else
        return false;
    return true;
}

/* True when map[key] is a str equal to want. */
static bool str_is(const msgpack_object *map, const char *key, const char *want)
{
    const msgpack_object *o = bb_map_get(map, key);
    size_t n = strlen(want);
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, want, n) == 0;
}

/* Copies map[key], a str of 1..cap-1 bytes, into out. */
static bool str_copy(const msgpack_object *map, const char *key, char *out, size_t cap)
{
    const msgpack_object *o = bb_map_get(map, key);
    if (o == NULL || o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 ||
        o->via.str.size >= cap || memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
        return false;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
    return true;
}

/* The run asked for: run_id > 0 that run; else the newest run of date
 * (NULL: any date) whose status is ok. Pages export.list (newest first)
 * until found. *reply holds the page the run is in (owned), *run the run
 * in it. 0, or an exit code (printed). */
static int find_run(cli_ctx *ctx, const char *date, int64_t run_id, bb_reply **reply,
                    const msgpack_object **run)
{
    /* Ids below after: run_id + 1 puts the run itself first; the largest
     * id has no "+ 1", and needs none (all ids are below it or it). */
    int64_t after = run_id > 0 && run_id < INT64_MAX ? run_id + 1 : 0;
    for (;;) {
        bbi_kvs k = {.n = 0};
        if (after > 0)
            bbi_kv_int(&k, "after", after);
        if (run_id > 0)
            bbi_kv_int(&k, "limit", 1);   /* ids below run_id + 1: the run itself first */
        bbi_args a;
        bbi_args_init(&a);
        bb_error err;
        bb_reply *r = NULL;
        int rc = bbi_pack(&a, "export.list", &k, &err);
        if (rc == BB_C_OK)
            rc = cli_call(ctx, "export.list", &a, false, &r, &err);
        bbi_args_free(&a);
        if (rc != BB_C_OK)
            return cli_fail_in(ctx, "export.list", &err);
        const msgpack_object *res = bb_reply_result(r);
        const msgpack_object *items = bb_map_get(res, "items");
        const msgpack_object *next = bb_map_get(res, "next");
        if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY) {
            bb_reply_free(r);
            bbi_err(&err, BB_C_EPROTO, NULL, NULL, "export.list: the result has no items");
            return cli_fail_in(ctx, "export.list", &err);
        }
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            int64_t id;
            bool pick = run_id > 0 ? obj_int(bb_map_get(it, "id"), &id) && id == run_id
                                   : str_is(it, "status", "ok") &&
                                         (date == NULL || str_is(it, "export_date", date));
            if (pick) {
                *reply = r;
                *run = it;
                return 0;
            }
        }
        int64_t nx = 0;
        bool more = run_id == 0 && obj_int(next, &nx) && nx > 0 && nx < (after ? after : INT64_MAX);
        bb_reply_free(r);
        if (!more)
            break;
        after = nx;
    }
    char b1[NUM_BUF];
    if (run_id > 0)
        fprintf(stderr, _("baobao: export get: there is no export run %s (see 'baobao export "
                          "list')\n"),
                num(run_id, b1));
    else if (date != NULL)
        fprintf(stderr, _("baobao: export get: no export of %s has finished without error "
                          "(see 'baobao export list')\n"),
                date);
    else
        fprintf(stderr, _("baobao: export get: no export has finished without error yet "
                          "(start one with 'baobao export run --wait')\n"));
    return CLI_EXIT_REFUSED;
}

/* ---- export get: one file ---- */

/* A file of the run as its manifest lists it. */
typedef struct dl_file {
    char name[CLI_EXPORT_NAME_MAX];
    int64_t rows;
    uint64_t bytes;
    char sha256[65];
    /* what happened */
    const char *what;              /* "downloaded", "resumed", "present" */
    uint64_t resumed_from;
} dl_file;

/* The progress line on stderr (a terminal only). */
typedef struct progress {
    bool on;
    const char *name;
    uint64_t total, done;
    int64_t last_ms;
} progress;

static void human(uint64_t n, char *out, size_t cap)
{
    if (n < 1024)
        snprintf(out, cap, "%" PRIu64 " B", n);
    else if (n < 1024 * 1024)
        snprintf(out, cap, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, cap, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}

static void progress_draw(progress *p, bool last)
{
    if (!p->on)
        return;
    int64_t now = bbi_now_ms();
    if (!last && now - p->last_ms < CLI_EXPORT_BAR_MS)
        return;
    p->last_ms = now;
    unsigned pct = p->total > 0 ? (unsigned)(p->done * 100 / p->total) : 100;
    unsigned fill = pct * CLI_EXPORT_BAR_COLS / 100;
    char bar[CLI_EXPORT_BAR_COLS + 1], a[32], b[32];
    for (unsigned i = 0; i < CLI_EXPORT_BAR_COLS; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[CLI_EXPORT_BAR_COLS] = '\0';
    human(p->done, a, sizeof a);
    human(p->total, b, sizeof b);
    /* \033[K: clear what a longer line before left behind. */
    fprintf(stderr, "\r%-28s [%s] %3u%%  %s / %s\033[K%s", p->name, bar, pct, a, b,
            last ? "\n" : "");
    fflush(stderr);
}

static void hex(const unsigned char *d, unsigned n, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n && i < 32; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * (n < 32 ? n : 32)] = '\0';
}

/* Hashes the first n bytes of fd into sha (from offset 0). 0 or -1 (errno). */
static int hash_fd(int fd, uint64_t n, EVP_MD_CTX *sha)
{
    static unsigned char buf[CLI_EXPORT_HASH_BUF];
    uint64_t off = 0;
    while (off < n) {
        size_t want = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        ssize_t r = pread(fd, buf, want, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;   /* shorter than fstat said */
            return -1;
        }
        if (EVP_DigestUpdate(sha, buf, (size_t)r) != 1) {
            errno = ENOMEM;
            return -1;
        }
        off += (uint64_t)r;
    }
    return 0;
}

/* Whether dir/name is already the file of the manifest (size and SHA-256). */
static bool already_there(int dirfd, const dl_file *f)
{
    int fd = openat(dirfd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == f->bytes;
    EVP_MD_CTX *sha = same ? EVP_MD_CTX_new() : NULL;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    char h[65];
    same = sha != NULL && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) == 1 &&
           hash_fd(fd, f->bytes, sha) == 0 && EVP_DigestFinal_ex(sha, d, &dn) == 1;
    EVP_MD_CTX_free(sha);
    close(fd);
    if (!same)
        return false;
    hex(d, dn, h);
    return strcmp(h, f->sha256) == 0;
}

static int write_all(int fd, const char *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* The failures after which a new connection may get further: the
 * connection dropped or timed out, or the server was busy. */
static bool worth_reconnecting(const bb_error *err)
{
    return err->rc == BB_C_ETIMEOUT || err->rc == BB_C_EIO ||
           (err->rc == BB_C_ESERVER && (strcmp(err->code, "unavailable") == 0 ||
                                        strcmp(err->code, "shutting_down") == 0));
}

/* One export.read of name at off: *out is the reply (owned), *data and
 * *eof from it. BB_C_* with err. */
static int read_chunk(cli_ctx *ctx, int64_t run, const char *name, uint64_t off,
                      bb_reply **out, const msgpack_object_bin **data, bool *eof, bb_error *err)
{
    bbi_kvs k = {.n = 0};
    bbi_kv_int(&k, "id", run);
    bbi_kv_str(&k, "name", name);
    bbi_kv_int(&k, "offset", (int64_t)off);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack(&a, "export.read", &k, err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "export.read", &a, false, out, err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return rc;
    const msgpack_object *res = bb_reply_result(*out);
    const msgpack_object *d = bb_map_get(res, "data"), *e = bb_map_get(res, "eof");
    if (d == NULL || d->type != MSGPACK_OBJECT_BIN || e == NULL ||
        e->type != MSGPACK_OBJECT_BOOLEAN)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL,
                       "export.read: the result is not {data: bin, eof: bool}");
    *data = &d->via.bin;
    *eof = e->via.boolean;
    return BB_C_OK;
}

/*
 * Fills fd (NAME.part, holding *have bytes already) up to f->bytes with
 * export.read, hashing everything into sha (what was there first too). A
 * dropped connection is reconnected while chunks still arrive in between;
 * otherwise what arrived stays for the next run of the command. Returns 0,
 * -1 (errno: the local file), or an exit code (printed).
 */
static int fill_part(cli_ctx *ctx, int fd, int64_t run, const dl_file *f, uint64_t *have,
                     EVP_MD_CTX *sha, progress *p)
{
    if (EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 || hash_fd(fd, *have, sha) != 0)
        return -1;
    unsigned since_connect = 0;   /* chunks since the last (re)connection */
    bool eof = *have == f->bytes;
    while (!eof) {
        p->done = *have;
        progress_draw(p, false);
        bb_reply *r = NULL;
        const msgpack_object_bin *data = NULL;
        bb_error err;
        if (read_chunk(ctx, run, f->name, *have, &r, &data, &eof, &err) != BB_C_OK) {
            bb_reply_free(r);
            if (worth_reconnecting(&err) && since_connect > 0) {
                /* Chunks were coming: a new connection is likely to get
                 * further. */
                cli_disconnect(ctx);
                since_connect = 0;
                struct timespec ts = {.tv_sec = 0,
                                      .tv_nsec = CLI_EXPORT_RETRY_PAUSE_MS * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
            if (p->on)
                fputc('\n', stderr);
            int rc = cli_fail_in(ctx, "export.read", &err);
            char b1[NUM_BUF], b2[NUM_BUF];
            if (*have > 0 && worth_reconnecting(&err))
                fprintf(stderr, _("baobao: export get: %s stopped at %s of %s bytes; run the "
                                  "same command again to continue from there\n"),
                        f->name, num((int64_t)*have, b1), num((int64_t)f->bytes, b2));
            return rc;
        }
        since_connect++;
        if (data->size > f->bytes - *have || (data->size == 0 && !eof) ||
            (eof && *have + data->size != f->bytes)) {
            char b1[NUM_BUF], b2[NUM_BUF], b3[NUM_BUF];
            fprintf(stderr, _("baobao: export get: %s: the server sent %s bytes at offset %s, "
                              "which does not fit its manifest (%s bytes)\n"),
                    f->name, num(data->size, b1), num((int64_t)*have, b2),
                    num((int64_t)f->bytes, b3));
            bb_reply_free(r);
            return CLI_EXIT_PROTOCOL;
        }
        if (write_all(fd, data->ptr, data->size, *have) != 0 ||
            EVP_DigestUpdate(sha, data->ptr, data->size) != 1) {
            bb_reply_free(r);
            return -1;
        }
        *have += data->size;
        bb_reply_free(r);
    }
    p->done = *have;
    progress_draw(p, true);
    return 0;
}

/*
 * Downloads f of run into dirfd (dir names it in messages): NAME.part,
 * continued from its size, checked against the manifest's SHA-256, then
 * renamed to NAME. A part kept from before that turns out wrong is
 * downloaded again from the start, once. Returns 0 or an exit code
 * (printed).
 */
static int get_file(cli_ctx *ctx, int dirfd, const char *dir, int64_t run, dl_file *f,
                    bool bar)
{
    if (already_there(dirfd, f)) {
        f->what = "present";
        return 0;
    }
    char part[CLI_EXPORT_NAME_MAX + 8];
    snprintf(part, sizeof part, "%s.part", f->name);
    int fd = openat(dirfd, part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, _("baobao: export get: %s/%s: %s\n"), dir, part, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    struct stat st;
    uint64_t have = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    int rc = sha != NULL ? 0 : cli_oom();
    progress p = {.on = bar, .name = f->name, .total = f->bytes, .last_ms = 0};
    char h[65] = "";
    for (int attempt = 0; rc == 0 && attempt < 2; attempt++) {
        /* Longer than the manifest says: not this file's beginning. */
        if (have > f->bytes || attempt > 0) {
            if (ftruncate(fd, 0) != 0) {
                rc = -1;
                break;
            }
            have = 0;
        }
        f->resumed_from = have;
        rc = fill_part(ctx, fd, run, f, &have, sha, &p);
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dn = 0;
        if (rc == 0 && EVP_DigestFinal_ex(sha, d, &dn) != 1)
            rc = -1;
        if (rc != 0)
            break;
        hex(d, dn, h);
        if (strcmp(h, f->sha256) == 0)
            break;
        if (f->resumed_from == 0 || attempt > 0) {
            fprintf(stderr, _("baobao: export get: %s: the SHA-256 of the file downloaded (%s) "
                              "is not the manifest's (%s); nothing was saved under its name\n"),
                    f->name, h, f->sha256);
            (void)unlinkat(dirfd, part, 0);
            rc = CLI_EXIT_PROTOCOL;
            break;
        }
        /* The part kept from before was not this file's beginning: again
         * from the start, once. */
        fprintf(stderr, _("baobao: export get: %s: what was downloaded before does not "
                          "match; downloading it again from the start\n"),
                f->name);
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    if (rc == 0 && renameat(dirfd, part, dirfd, f->name) != 0)
        rc = -1;
    if (rc == -1) {
        fprintf(stderr, _("baobao: export get: %s/%s: %s\n"), dir, f->name, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    EVP_MD_CTX_free(sha);
    close(fd);
    if (rc == 0)
        f->what = f->resumed_from > 0 ? "resumed" : "downloaded";
    return rc;
}

/* ---- export get: the command ---- */

/* mkdir -p dir (mode 0700 for what it makes: exports hold personal data). */
static int make_dir(const char *dir)
{
    char p[CLI_EXPORT_PATH_MAX];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* The files of the run (its manifest), into files[0..*n). */
static int read_files(const msgpack_object *run, dl_file **files, size_t *n)
{
    const msgpack_object *arr = bb_map_get(run, "files");
    *files = NULL;
    *n = 0;
    if (arr == NULL || arr->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    *files = calloc(arr->via.array.size + 1, sizeof **files);
    if (*files == NULL)
        return -1;
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *o = &arr->via.array.ptr[i];
        dl_file *f = &(*files)[i];
        int64_t bytes = -1;
        if (!str_copy(o, "name", f->name, sizeof f->name) || f->name[0] == '.' ||
            strchr(f->name, '/') != NULL || !obj_int(bb_map_get(o, "bytes"), &bytes) ||
            bytes < 0 || !str_copy(o, "sha256", f->sha256, sizeof f->sha256) ||
            strlen(f->sha256) != 64)
            return -1;
        (void)obj_int(bb_map_get(o, "rows"), &f->rows);
        f->bytes = (uint64_t)bytes;
        (*n)++;
    }
    return 0;
}

/* What was saved, as a msgpack map (for --json and the table). */
static int pack_summary(msgpack_sbuffer *sb, int64_t run, const char *export_date,
                        const char *dir, const dl_file *files, size_t n)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
#define PSTR(s)                                                                           \
    do {                                                                                  \
        size_t l_ = strlen(s);                                                            \
        msgpack_pack_str(&pk, l_);                                                        \
        msgpack_pack_str_body(&pk, (s), l_);                                              \
    } while (0)
    msgpack_pack_map(&pk, 4);
    PSTR("run_id");
    msgpack_pack_int64(&pk, run);
    PSTR("export_date");
    PSTR(export_date);
    PSTR("dir");
    PSTR(dir);
    PSTR("files");
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map(&pk, 6);
        PSTR("name");
        PSTR(files[i].name);
        PSTR("rows");
        msgpack_pack_int64(&pk, files[i].rows);
        PSTR("bytes");
        msgpack_pack_uint64(&pk, files[i].bytes);
        PSTR("sha256");
        PSTR(files[i].sha256);
        PSTR("result");
        PSTR(files[i].what != NULL ? files[i].what : "-");
        PSTR("resumed_from");
        msgpack_pack_uint64(&pk, files[i].resumed_from);
    }
#undef PSTR
    return 0;
}

/* The people's words for a file's result (the table; --json keeps the
 * codes). */
static const char *result_text(const dl_file *f, char *buf, size_t cap)
{
    if (f->what == NULL)
        return "-";
    if (strcmp(f->what, "present") == 0)
        return _("already there");
    if (strcmp(f->what, "resumed") == 0) {
        char b1[NUM_BUF];
        snprintf(buf, cap, _("continued from byte %s"), num((int64_t)f->resumed_from, b1));
        return buf;
    }
    return _("downloaded");
}

static const cli_col summary_cols[] = {
    {N_("FILE"), "name"}, {N_("ROWS"), "rows"}, {N_("BYTES"), "bytes"},
    {N_("RESULT"), "text"},
};

/* The table of what was saved (cli_print_table, from maps made here). */
static int print_summary(const dl_file *files, size_t n, const char *dir)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        char buf[96];
        const char *t = result_text(&files[i], buf, sizeof buf);
        msgpack_pack_map(&pk, 4);
        msgpack_pack_str(&pk, 4);
        msgpack_pack_str_body(&pk, "name", 4);
        msgpack_pack_str(&pk, strlen(files[i].name));
        msgpack_pack_str_body(&pk, files[i].name, strlen(files[i].name));
        msgpack_pack_str(&pk, 4);
        msgpack_pack_str_body(&pk, "rows", 4);
        msgpack_pack_int64(&pk, files[i].rows);
        msgpack_pack_str(&pk, 5);
        msgpack_pack_str_body(&pk, "bytes", 5);
        msgpack_pack_uint64(&pk, files[i].bytes);
        msgpack_pack_str(&pk, 4);
        msgpack_pack_str_body(&pk, "text", 4);
        msgpack_pack_str(&pk, strlen(t));
        msgpack_pack_str_body(&pk, t, strlen(t));
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    bool ok = msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS;
    cli_col cols[sizeof summary_cols / sizeof summary_cols[0]];
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
        cols[c] = (cli_col){_(summary_cols[c].head), summary_cols[c].key};
    if (ok)
        ok = cli_print_table(&up.data, cols, sizeof cols / sizeof cols[0], NULL);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
    if (ok)
        printf(_("Saved in %s; every file matches the SHA-256 of the run's manifest.\n"), dir);
    return ok ? CLI_EXIT_OK : cli_oom();
}

/* DATE as people type it (2026-11-26, 2026/11/26, 2026年11月26日, 昨天:
 * input.h), into out as YYYY-MM-DD; a form relative to today asks the
 * server's today. 0 or an exit code (printed). */
static int read_date(cli_ctx *ctx, const char *text, char out[BBI_DATE_BUF])
{
    char why[BBI_INPUT_WHY], today[BBI_DATE_BUF];
    int r = bbi_input_date(text, NULL, out, why, sizeof why);
    if (r == BBI_IN_NEED_TODAY) {
        bb_error err;
        cli_resolve_today(ctx);
        if (bbi_input_today("date", today, &err) != BB_C_OK)
            return cli_fail_in(ctx, "server.info", &err);
        r = bbi_input_date(text, today, out, why, sizeof why);
    }
    if (r != BBI_IN_OK)
        return cli_usage_error("export get", _("\"%s\" is not a date (%s)"), text, why);
    return 0;
}

static int export_get(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {{.name = "--to", .metavar = "DIR"}, {.name = "--run", .metavar = "ID"}};
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, "export get", get_help);
    if (rc != 0)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    const char *to = cli_get(o, no, "--to")->value;
    const char *run_text = cli_get(o, no, "--run")->value;
    const char *date = npos > 0 ? pos[0] : NULL;
    int64_t run_id = 0;
    if (run_text != NULL && date != NULL)
        rc = cli_usage_error("export get", _("give either DATE or --run, not both"));
    else if (run_text != NULL)
        rc = cli_int_arg("export get", "--run", run_text, 1, INT64_MAX, &run_id);
    if (to != NULL && to[0] == '\0')
        rc = cli_usage_error("export get", _("--to: an empty folder name"));
    cli_opts_free(o, no);
    char day[BBI_DATE_BUF];
    if (rc == 0 && run_text == NULL && date != NULL) {
        rc = read_date(ctx, date, day);
        date = day;
    }
    if (rc != 0)
        return rc;

    bb_reply *page = NULL;
    const msgpack_object *run = NULL;
    if ((rc = find_run(ctx, date, run_id, &page, &run)) != 0)
        return rc;
    int64_t id = 0;
    char folder[CLI_EXPORT_NAME_MAX] = "", export_date[16] = "";
    dl_file *files = NULL;
    size_t n = 0;
    /* export_date may name the folder below: a calendar date, or the run
     * is not one. */
    if (!obj_int(bb_map_get(run, "id"), &id) ||
        !str_copy(run, "export_date", export_date, sizeof export_date) ||
        bb_date_check(export_date, strlen(export_date)) != BB_DATE_OK ||
        read_files(run, &files, &n) != 0) {
        bb_reply_free(page);
        free(files);
        bb_error err;
        bbi_err(&err, BB_C_EPROTO, NULL, NULL, "export.list: the run is not an ExportRun");
        return cli_fail_in(ctx, "export.list", &err);
    }
    bool ok_status = str_is(run, "status", "ok");
    (void)str_copy(run, "folder", folder, sizeof folder);
    bb_reply_free(page);
    if (!ok_status) {
        char b1[NUM_BUF];
        fprintf(stderr, _("baobao: export get: export run %s has not finished without error: "
                          "it has no files to download\n"),
                num(id, b1));
        free(files);
        return CLI_EXIT_REFUSED;
    }
    /* The default folder is the run's own name, never a path from the
     * server. */
    const char *dir = to != NULL ? to : folder[0] != '\0' && folder[0] != '.' &&
                                                strchr(folder, '/') == NULL
                                            ? folder
                                            : export_date;
    int dirfd = -1;
    if (make_dir(dir) != 0 || (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, _("baobao: export get: %s: %s\n"), dir, strerror(errno));
        free(files);
        return CLI_EXIT_USAGE;
    }
    bool bar = isatty(STDERR_FILENO) == 1;
    char b1[NUM_BUF], b2[NUM_BUF];
    if (bar)
        fprintf(stderr, _("Export run %s of %s: %s files, into %s\n"), num(id, b1), export_date,
                num((int64_t)n, b2), dir);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = get_file(ctx, dirfd, dir, id, &files[i], bar);
    if (rc == 0 && fsync(dirfd) != 0) {
        fprintf(stderr, _("baobao: export get: %s: %s\n"), dir, strerror(errno));
        rc = CLI_EXIT_USAGE;
    }
    close(dirfd);
    if (rc == 0 && ctx->json) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        (void)pack_summary(&sb, id, export_date, dir, files, n);
        rc = msgpack_unpack_next(&up, sb.data, sb.size, NULL) == MSGPACK_UNPACK_SUCCESS
                 ? cli_print_json(&up.data)
                 : cli_oom();
        msgpack_unpacked_destroy(&up);
        msgpack_sbuffer_destroy(&sb);
    } else if (rc == 0) {
        rc = print_summary(files, n, dir);
    }
    free(files);
    return rc;
}

static const cli_col run_table[] = {
    {N_("ID"), "id"},          {N_("KIND"), "kind"},       {N_("DATE"), "export_date"},
    {N_("STATUS"), "status"},  {N_("STARTED"), "started_at"}, {N_("MS"), "duration_ms"},
    {N_("FOLDER"), "folder"},  {N_("BY"), "requested_by"}, {N_("ERROR"), "error"},
};
static const cli_fmt run_fmts[] = {{"error", CLI_F_CLIP}, {NULL, CLI_F_TEXT}};

static const char *const no_spec_opts[] = {NULL};

const cli_mech cli_export_cmds[] = {
    {.cmd = "export run", .method = "export.run", .run = export_run},
    {.cmd = "export list", .method = "export.list", .fmts = run_fmts, .cols = run_table,
     .ncols = sizeof run_table / sizeof run_table[0], .about = N_("Newest first.\n")},
    /* Its options are its own (export_get): none of export.read's
     * arguments is one (so the completion offers none of them). */
    {.cmd = "export get", .method = "export.read", .run = export_get, .only = no_spec_opts},
    {.cmd = NULL},
};

int cli_export(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "export", export_intro, cli_export_cmds, argc, argv);
}
