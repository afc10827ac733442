/*
 * test_export_get.c: downloading an export run over the protocol
 * (export.read, `baobao export get`) against a real server writing real
 * folders: every file of a run saved byte for byte as the server wrote it
 * and matching the manifest's SHA-256; chunks of at most
 * BB_EXPORT_READ_CHUNK_BYTES (a file of several chunks), the end of a file,
 * many reads sent at once; only the files the manifest lists (no path from
 * the client: ../, manifest.json, .partial refused), a run that is gone;
 * who may read; a download cut by a dropped connection (a proxy that cuts
 * the server's bytes part-way), then the server killed and restarted, and
 * the next `export get` continuing from the .part's size to the right
 * SHA-256; a dropped connection reconnected by the command itself; a
 * damaged .part downloaded again; files already there not downloaded
 * again; the run chosen by date or id (the largest id too); a run whose
 * date is no date refused (a scripted server); the progress bar on a
 * terminal.
 *
 * Each test binary fills status_report with enough rows that
 * status_reports.csv spans several chunks, and each test starts its own
 * server with its own export_dir under /tmp.
 * Not for: the content of the files (test_export.c, test_reports.c).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* proto/bb_limits.h BB_EXPORT_READ_CHUNK_BYTES, written out: the test
 * pins the protocol's number, not whatever the header says. */
#define CHUNK 262144
#define RUN_TIMEOUT_MS 120000
#define CLI_MS 120000
/* Rows of status_report: status_reports.csv of about 1 MB, 4 chunks. */
#define BIG_ROWS "6000"
#define MAX_FILES 16
#define PIPELINED 12

static char g_top[256];
static unsigned g_dirs;
static uint32_t g_msgid = 100;

/* ---- files ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf != NULL && (k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf != NULL)
        *len = n;
    return buf;
}

static bool exists(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

static long long file_size(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* dir_a/name and dir_b/name hold the same bytes. */
static int same_file(const char *dir_a, const char *dir_b, const char *name)
{
    char pa[1024], pb[1024];
    snprintf(pa, sizeof pa, "%s/%s", dir_a, name);
    snprintf(pb, sizeof pb, "%s/%s", dir_b, name);
    size_t la = 0, lb = 0;
    char *a = slurp(pa, &la), *b = slurp(pb, &lb);
    bool same = a != NULL && b != NULL && la == lb && memcmp(a, b, la) == 0;
    if (!same)
        it_note("%s: %zu bytes on the server, %zu downloaded (%s)", name, la, lb,
                a == NULL || b == NULL ? "missing" : "different bytes");
    free(a);
    free(b);
    return same ? 0 : -1;
}

/* The SHA-256 of a file, by sha256sum (independent of the client's). */
static int sha256_of(const char *dir, const char *name, char out[65])
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    const char *argv[] = {"sha256sum", p, NULL};
    it_cli r;
    IT_CHECK(it_run(&r, argv, 30000) == 0);
    bool ok = r.status == 0 && strlen(r.out) >= 64;
    if (ok)
        snprintf(out, 65, "%.64s", r.out);
    it_cli_free(&r);
    IT_CHECK(ok);
    return 0;
}

/* ---- the server and its runs ---- */

static int setup(void)
{
    snprintf(g_top, sizeof g_top, "/tmp/it-export-get-%d", (int)getpid());
    IT_CHECK(mkdir(g_top, 0755) == 0);
    char cc[19];
    it_credit_code(930001, cc);
    const char *p[] = {"下载测试企业", cc};
    long long eid = it_pg_int("INSERT INTO enterprise (name, credit_code, township_id, cluster)"
                              " VALUES ($1, $2, 4, '青砖茶') RETURNING id", 2, p);
    IT_CHECK(eid > 0);
    char e[24];
    snprintf(e, sizeof e, "%lld", eid);
    const char *q[] = {e};
    IT_CHECK(it_pg_exec("INSERT INTO status_report (enterprise_id, report_date, reporter,"
                        " production_status, output_value, employees, note)"
                        " SELECT $1::bigint, DATE '2026-01-01' + (g % 300), '王五', '正常', g,"
                        " g % 500, repeat('下载测试走访记录,', 6) FROM generate_series(1, "
                        BIG_ROWS ") g", 1, q) == 0);
    return 0;
}

/* A server of its own with a fresh export_dir (path into dir). */
typedef struct srv {
    it_server *s;
    char dir[512];
    char set[600];
    char addr[64];
} srv;

static int srv_start(srv *v, bool fresh)
{
    if (fresh) {
        snprintf(v->dir, sizeof v->dir, "%s/d%u", g_top, ++g_dirs);
        snprintf(v->set, sizeof v->set, "export_dir=%s", v->dir);
    }
    const char *sets[] = {v->set, "export_time=", NULL};
    v->s = it_server_start(sets);
    IT_CHECK(v->s != NULL);
    snprintf(v->addr, sizeof v->addr, "127.0.0.1:%d", v->s->port);
    return 0;
}

/* One run, as export.run answers it with wait. */
typedef struct run {
    int64_t id;
    char date[16];
    char folder[600];        /* export_dir/<folder> */
    size_t n;
    char names[MAX_FILES][64];
    long long bytes[MAX_FILES];
    char sha[MAX_FILES][65];
    size_t big;              /* the index of the largest file */
} run;

static int run_export(const srv *v, run *out)
{
    it_conn *c = it_connect(v->s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, id, RUN_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    char f[64] = "";
    memset(out, 0, sizeof *out);
    bool ok = !m.is_error && it_get_str_eq(m.result, "status", "ok") &&
              it_get_int(m.result, "id", &out->id) &&
              it_get_str(m.result, "folder", f, sizeof f) &&
              it_get_str(m.result, "export_date", out->date, sizeof out->date);
    const msgpack_object *files = ok ? it_map_get(m.result, "files") : NULL;
    ok = ok && files != NULL && files->type == MSGPACK_OBJECT_ARRAY &&
         files->via.array.size > 1 && files->via.array.size <= MAX_FILES;
    for (uint32_t i = 0; ok && i < files->via.array.size; i++) {
        const msgpack_object *o = &files->via.array.ptr[i];
        int64_t bytes = 0;
        ok = it_get_str(o, "name", out->names[i], sizeof out->names[i]) &&
             it_get_int(o, "bytes", &bytes) && it_get_str(o, "sha256", out->sha[i], 65);
        out->bytes[i] = bytes;
        if (ok && out->bytes[i] > out->bytes[out->big])
            out->big = i;
        out->n++;
    }
    char d[800];
    IT_CHECKF(ok, "export.run: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_close(c);
    snprintf(out->folder, sizeof out->folder, "%s/%s", v->dir, f);
    /* The test needs a file of several chunks. */
    IT_CHECKF(out->bytes[out->big] > 3 * CHUNK, "the largest file is %lld bytes",
              out->bytes[out->big]);
    return 0;
}

/* Every file of r in dir as on the server, with the manifest's SHA-256,
 * and no .part left. */
static int check_download(const run *r, const char *dir)
{
    for (size_t i = 0; i < r->n; i++) {
        IT_CHECK(same_file(r->folder, dir, r->names[i]) == 0);
        char h[65];
        IT_CHECK(sha256_of(dir, r->names[i], h) == 0);
        IT_CHECK_STR(h, r->sha[i]);
        char part[80];
        snprintf(part, sizeof part, "%s.part", r->names[i]);
        IT_CHECKF(!exists(dir, part), "%s left behind", part);
    }
    return 0;
}

static int cli_as(it_cli *out, const char *server, const char *user, const char *const *args)
{
    char u[64];
    snprintf(u, sizeof u, "BAOBAO_USER=%s", user);
    const char *env[] = {u, "BAOBAO_LANG=en", NULL};
    return it_cli_run_env(out, server, CLI_MS, args, env);
}

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status, r->out,
           r->err);
}

#define CLI_EXPECT(r, server, user, args, code)                                        \
    do {                                                                                \
        IT_CHECK(cli_as(&(r), (server), (user), (args)) == 0);                          \
        if ((r).status != (code)) {                                                     \
            show(&(r), (args)[0]);                                                      \
            it_cli_free(&(r));                                                          \
            IT_CHECKF(false, "exit status not %d", (code));                             \
        }                                                                               \
    } while (0)

/* ---- export.read over a raw connection ---- */

/* offset NO_OFFSET: left out. */
#define NO_OFFSET INT64_MIN
static void read_req(it_buf *b, uint32_t id, int64_t run_id, const char *name, int64_t offset)
{
    it_req(b, id, "export.read", offset != NO_OFFSET ? 3 : 2);
    it_kv_int(b, "id", run_id);
    it_kv_str(b, "name", name);
    if (offset != NO_OFFSET)
        it_kv_int(b, "offset", offset);
}

/* data and eof of an export.read result. */
static bool chunk_of(const it_msg *m, const msgpack_object_bin **data, bool *eof)
{
    const msgpack_object *d = it_map_get(m->result, "data"), *e = it_map_get(m->result, "eof");
    if (m->is_error || m->result == NULL || m->result->type != MSGPACK_OBJECT_MAP ||
        m->result->via.map.size != 2 || d == NULL || d->type != MSGPACK_OBJECT_BIN ||
        e == NULL || e->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *data = &d->via.bin;
    *eof = e->via.boolean;
    return true;
}

static int expect_read_err(it_conn *c, int64_t run_id, const char *name, int64_t offset,
                           const char *code, const char *field)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    read_req(&b, id, run_id, name, offset);
    int r = it_buf_err(c, &b, id, code, field);
    it_buf_free(&b);
    IT_CHECKF(r == 0, "export.read %" PRId64 " \"%s\" at %" PRId64, run_id, name, offset);
    return 0;
}

static int export_read_answers_chunks_of_at_most_the_limit(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", r.folder, r.names[r.big]);
    size_t len = 0;
    char *file = slurp(path, &len);
    IT_CHECK(file != NULL && (long long)len == r.bytes[r.big]);
    it_conn *c = it_connect(v.s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    const msgpack_object_bin *data;
    bool eof;
    /* From the start (offset left out): one full chunk, more to come. */
    uint32_t id = ++g_msgid;
    read_req(&b, id, r.id, r.names[r.big], NO_OFFSET);
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    IT_CHECK(chunk_of(&m, &data, &eof) && data->size == CHUNK && !eof);
    IT_CHECK(memcmp(data->ptr, file, CHUNK) == 0);
    it_msg_free(&m);
    /* The last bytes: fewer than a chunk, and the end. */
    id = ++g_msgid;
    read_req(&b, id, r.id, r.names[r.big], (int64_t)len - 1000);
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    IT_CHECK(chunk_of(&m, &data, &eof) && data->size == 1000 && eof);
    IT_CHECK(memcmp(data->ptr, file + len - 1000, 1000) == 0);
    it_msg_free(&m);
    /* At the end: nothing, and the end. */
    id = ++g_msgid;
    read_req(&b, id, r.id, r.names[r.big], (int64_t)len);
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    IT_CHECK(chunk_of(&m, &data, &eof) && data->size == 0 && eof);
    it_msg_free(&m);
    IT_CHECK(expect_read_err(c, r.id, r.names[r.big], (int64_t)len + 1, "invalid_argument",
                             "offset") == 0);

    /* Many reads at once (more than the server opens at a time): each
     * answered with its own bytes. */
    for (int i = 0; i < PIPELINED; i++) {
        int64_t off = (int64_t)(((size_t)i * 99991u) % len);
        read_req(&b, 5000u + (uint32_t)i, r.id, r.names[r.big], off);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_reset(&b);
    bool seen[PIPELINED] = {false};
    for (int n = 0; n < PIPELINED; n++) {
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        int i = (int)m.msgid - 5000;
        IT_CHECKF(m.kind == 1 && i >= 0 && i < PIPELINED && !seen[i], "msgid %u", m.msgid);
        seen[i] = true;
        size_t off = ((size_t)i * 99991u) % len;
        size_t want = len - off < CHUNK ? len - off : CHUNK;
        IT_CHECK(chunk_of(&m, &data, &eof) && data->size == want && eof == (off + want == len));
        IT_CHECK(memcmp(data->ptr, file + off, want) == 0);
        it_msg_free(&m);
    }
    it_buf_free(&b);
    free(file);
    return 0;
}

static int export_read_reads_only_what_the_manifest_lists(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    /* A file in the run's folder that is not in its manifest. */
    char stray[1024];
    snprintf(stray, sizeof stray, "%s/stray.csv", r.folder);
    FILE *f = fopen(stray, "w");
    IT_CHECK(f != NULL && fputs("secret\n", f) >= 0 && fclose(f) == 0);
    it_conn *c = it_connect(v.s->port);
    IT_CHECK(c != NULL);
    static const char *const refused[] = {
        "manifest.json", "stray.csv", "../../etc/passwd", "/etc/passwd", "enterprises.csv.partial",
        ".", "..", "enterprises.csv/",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        IT_CHECK(expect_read_err(c, r.id, refused[i], 0, "not_found", "name") == 0);
    /* No such run; a run that did not end ok lists nothing. */
    IT_CHECK(expect_read_err(c, r.id + 1000, r.names[0], 0, "not_found", "id") == 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%" PRId64, r.id);
    const char *p[] = {ids};
    long long failed = it_pg_int("INSERT INTO export_run (kind, export_date, status, finished_at,"
                                 " folder, files, error) SELECT 'manual', export_date, 'failed',"
                                 " now(), folder, files, 'test' FROM export_run"
                                 " WHERE id = $1::bigint RETURNING id", 1, p);
    IT_CHECK(failed > 0);
    IT_CHECK(expect_read_err(c, failed, r.names[0], 0, "not_found", "name") == 0);
    /* Arguments. */
    IT_CHECK(expect_read_err(c, r.id, r.names[0], -1, "invalid_argument", "offset") == 0);
    IT_CHECK(expect_read_err(c, 0, r.names[0], 0, "invalid_argument", "id") == 0);
    char long_name[80];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    IT_CHECK(expect_read_err(c, r.id, long_name, 0, "invalid_argument", "name") == 0);
    /* The folder gone (pruned): the run's files are no longer there. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s", r.folder);
    const char *rm[] = {"rm", "-rf", cmd, NULL};
    it_cli out;
    IT_CHECK(it_run(&out, rm, 30000) == 0 && out.status == 0);
    it_cli_free(&out);
    IT_CHECK(expect_read_err(c, r.id, r.names[0], 0, "not_found", "id") == 0);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

static int only_supervisors_and_admins_may_read_exports(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    it_conn *staff = it_connect_as(v.s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *admin = it_connect_as(v.s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *anon = it_connect_anon(v.s->port);
    IT_CHECK(staff != NULL && admin != NULL && anon != NULL);
    IT_CHECK(expect_read_err(staff, r.id, r.names[0], 0, "forbidden", "") == 0);
    IT_CHECK(expect_read_err(anon, r.id, r.names[0], 0, "unauthenticated", "") == 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    read_req(&b, id, r.id, r.names[0], 0);
    IT_CHECK(it_buf_ok(admin, &b, id, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    /* The command: refused for township staff (exit 1), nothing saved. */
    char to[600];
    snprintf(to, sizeof to, "%s/staff", v.dir);
    const char *args[] = {"export", "get", "--to", to, NULL};
    it_cli out;
    CLI_EXPECT(out, v.addr, IT_USER_STAFF, args, 1);
    IT_CHECKF(strstr(out.err, "forbidden") != NULL, "stderr: %s", out.err);
    it_cli_free(&out);
    IT_CHECK(!exists(to, r.names[0]));
    CLI_EXPECT(out, v.addr, IT_USER_ADMIN, args, 0);
    it_cli_free(&out);
    IT_CHECK(check_download(&r, to) == 0);
    return 0;
}

/* ---- export get ---- */

static int export_get_saves_every_file_as_the_server_wrote_it(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    char to[600];
    snprintf(to, sizeof to, "%s/get/nested", v.dir);
    const char *args[] = {"export", "get", "--to", to, NULL};
    it_cli out;
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, args, 0);
    IT_CHECK(check_download(&r, to) == 0);
    IT_CHECKF(strstr(out.out, r.names[r.big]) != NULL && strstr(out.out, "downloaded") != NULL,
              "stdout: %s", out.out);
    it_cli_free(&out);
    /* Again: every file is there already and nothing is downloaded. */
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, args, 0);
    IT_CHECKF(strstr(out.out, "already there") != NULL && strstr(out.out, "downloaded") == NULL,
              "stdout: %s", out.out);
    it_cli_free(&out);
    /* --json: what was saved. */
    const char *json[] = {"--json", "export", "get", "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, json, 0);
    IT_CHECKF(strstr(out.out, "\"result\": \"present\"") != NULL &&
                  strstr(out.out, r.sha[r.big]) != NULL,
              "stdout: %s", out.out);
    it_cli_free(&out);
    return 0;
}

static int export_get_chooses_the_run_by_date_or_id(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r1, r2;
    IT_CHECK(run_export(&v, &r1) == 0);
    IT_CHECK(run_export(&v, &r2) == 0);
    IT_CHECK(r2.id > r1.id);
    char to[600], ids[24];
    it_cli out;
    /* --run: that run, not the newest. */
    snprintf(to, sizeof to, "%s/by-id", v.dir);
    snprintf(ids, sizeof ids, "%" PRId64, r1.id);
    const char *by_id[] = {"--json", "export", "get", "--run", ids, "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, by_id, 0);
    char want[64];
    snprintf(want, sizeof want, "\"run_id\": %" PRId64, r1.id);
    IT_CHECKF(strstr(out.out, want) != NULL, "stdout: %s", out.out);
    it_cli_free(&out);
    IT_CHECK(check_download(&r1, to) == 0);
    /* A date: its newest ok run. */
    snprintf(to, sizeof to, "%s/by-date", v.dir);
    const char *by_date[] = {"--json", "export", "get", r2.date, "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, by_date, 0);
    snprintf(want, sizeof want, "\"run_id\": %" PRId64, r2.id);
    IT_CHECKF(strstr(out.out, want) != NULL, "stdout: %s", out.out);
    it_cli_free(&out);
    /* The same day as people type it: 2026年12月7日. */
    char typed[40];
    snprintf(typed, sizeof typed, "%.4s年%d月%d日", r2.date, atoi(r2.date + 5), atoi(r2.date + 8));
    const char *by_typed[] = {"--json", "export", "get", typed, "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, by_typed, 0);
    IT_CHECKF(strstr(out.out, want) != NULL && strstr(out.out, "\"present\"") != NULL,
              "stdout: %s", out.out);
    it_cli_free(&out);
    /* No run that day, no such run: refused (exit 1); not a date: usage. */
    const char *none[] = {"export", "get", "2001-01-01", "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, none, 1);
    it_cli_free(&out);
    const char *no_run[] = {"export", "get", "--run", "99999999", "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, no_run, 1);
    it_cli_free(&out);
    /* The largest id there can be: no such run either (once "id + 1"
     * overflowed, which UBSan stops with exit 1 too: the message tells). */
    const char *max_run[] = {"export", "get", "--run", "9223372036854775807", "--to", to, NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, max_run, 1);
    IT_CHECKF(strstr(out.err, "there is no export run 9223372036854775807") != NULL &&
                  strstr(out.err, "runtime error") == NULL,
              "stderr: %s", out.err);
    it_cli_free(&out);
    const char *bad[] = {"export", "get", "2001-02-30", NULL};
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, bad, 2);
    it_cli_free(&out);
    /* Without --to: the run's folder name in the current folder. */
    char cwd[600], script[1400];
    snprintf(cwd, sizeof cwd, "%s/cwd", v.dir);
    IT_CHECK(mkdir(cwd, 0755) == 0);
    snprintf(script, sizeof script,
             "cd '%s' && BAOBAO_USER=%s BAOBAO_PASSWORD='%s' BAOBAO_LANG=en "
             "XDG_CONFIG_HOME=/nonexistent/baobao-itest-config exec '%s' "
             "--server %s export get",
             cwd, IT_USER_SUPER, IT_PASSWORD, getenv("BAOBAO_CLI"), v.addr);
    const char *sh[] = {"sh", "-c", script, NULL};
    IT_CHECK(it_run(&out, sh, CLI_MS) == 0);
    if (out.status != 0)
        show(&out, "export get (cwd)");
    IT_CHECK(out.status == 0);
    it_cli_free(&out);
    const char *slash = strrchr(r2.folder, '/');
    char in_cwd[1200];
    snprintf(in_cwd, sizeof in_cwd, "%s/%s", cwd, slash + 1);
    IT_CHECK(check_download(&r2, in_cwd) == 0);
    return 0;
}

/* ---- a server that sends what baobaod never would ---- */

static void pk_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* Answers one connection's requests: session.login with a user, export.list
 * with one run, id 7, whose folder is empty and whose export_date is
 * `date` (not a date: a path), anything else with unknown_method. */
static void scripted_answers(int fd, const char *date)
{
    msgpack_unpacker up;
    if (!msgpack_unpacker_init(&up, 1 << 16))
        return;
    msgpack_unpacked msg;
    msgpack_unpacked_init(&msg);
    for (;;) {
        if (msgpack_unpacker_buffer_capacity(&up) < 4096 &&
            !msgpack_unpacker_reserve_buffer(&up, 1 << 16))
            break;
        ssize_t k = read(fd, msgpack_unpacker_buffer(&up), msgpack_unpacker_buffer_capacity(&up));
        if (k <= 0)
            break;
        msgpack_unpacker_buffer_consumed(&up, (size_t)k);
        while (msgpack_unpacker_next(&up, &msg) == MSGPACK_UNPACK_SUCCESS) {
            const msgpack_object *o = &msg.data;
            if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
                o->via.array.ptr[2].type != MSGPACK_OBJECT_STR)
                continue;
            uint64_t id = o->via.array.ptr[1].via.u64;
            const msgpack_object_str *m = &o->via.array.ptr[2].via.str;
            msgpack_sbuffer sb;
            msgpack_sbuffer_init(&sb);
            msgpack_packer pk;
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            msgpack_pack_array(&pk, 4);
            msgpack_pack_int(&pk, 1);
            msgpack_pack_uint64(&pk, id);
            if (m->size == 13 && memcmp(m->ptr, "session.login", 13) == 0) {
                msgpack_pack_nil(&pk);
                msgpack_pack_map(&pk, 3);
                pk_str(&pk, "login");
                pk_str(&pk, IT_USER_SUPER);
                pk_str(&pk, "display_name");
                pk_str(&pk, "脚本");
                pk_str(&pk, "role");
                pk_str(&pk, "supervisor");
            } else if (m->size == 11 && memcmp(m->ptr, "export.list", 11) == 0) {
                msgpack_pack_nil(&pk);
                msgpack_pack_map(&pk, 2);
                pk_str(&pk, "items");
                msgpack_pack_array(&pk, 1);
                msgpack_pack_map(&pk, 5);
                pk_str(&pk, "id");
                msgpack_pack_int(&pk, 7);
                pk_str(&pk, "status");
                pk_str(&pk, "ok");
                pk_str(&pk, "export_date");
                pk_str(&pk, date);
                pk_str(&pk, "folder");
                pk_str(&pk, "");
                pk_str(&pk, "files");
                msgpack_pack_array(&pk, 0);
                pk_str(&pk, "next");
                msgpack_pack_nil(&pk);
            } else {
                msgpack_pack_map(&pk, 2);
                pk_str(&pk, "code");
                pk_str(&pk, "unknown_method");
                pk_str(&pk, "message");
                pk_str(&pk, "not scripted");
                msgpack_pack_nil(&pk);
            }
            bool ok = write(fd, sb.data, sb.size) == (ssize_t)sb.size;
            msgpack_sbuffer_destroy(&sb);
            if (!ok)
                goto done;
        }
    }
done:
    msgpack_unpacked_destroy(&msg);
    msgpack_unpacker_destroy(&up);
}

/* A child on a port of its own answering as scripted_answers, connection
 * after connection. Its pid (0 on failure); *port its port. */
static pid_t scripted_server(const char *date, int *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) != 0) {
        if (l >= 0)
            close(l);
        return 0;
    }
    *port = ntohs(sa.sin_port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0) {
        close(l);
        return pid < 0 ? 0 : pid;
    }
    alarm(CLI_MS / 1000);
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            _exit(1);
        scripted_answers(c, date);
        close(c);
    }
}

/* A run whose folder name is empty and whose export_date is not a date
 * (a path, say): the run is malformed (exit 4); export get never makes a
 * folder named by what the server sent. */
static int export_get_refuses_a_run_whose_date_is_no_date(void)
{
    static const char *const dates[] = {"evil-date", "../evil", "2026-02-30"};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        int port = 0;
        pid_t pid = scripted_server(dates[i], &port);
        IT_CHECK(pid > 0);
        char cwd[300], script[1400], addr[64];
        snprintf(cwd, sizeof cwd, "%s/scripted-%zu", g_top, i);
        IT_CHECK(mkdir(cwd, 0755) == 0);
        snprintf(cwd + strlen(cwd), sizeof cwd - strlen(cwd), "/in");
        IT_CHECK(mkdir(cwd, 0755) == 0);
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        snprintf(script, sizeof script,
                 "cd '%s' && BAOBAO_USER=%s BAOBAO_PASSWORD='%s' BAOBAO_LANG=en "
                 "XDG_CONFIG_HOME=/nonexistent/baobao-itest-config exec '%s' "
                 "--server %s export get --run 7",
                 cwd, IT_USER_SUPER, IT_PASSWORD, getenv("BAOBAO_CLI"), addr);
        const char *sh[] = {"sh", "-c", script, NULL};
        it_cli out;
        int ran = it_run(&out, sh, CLI_MS);
        kill(pid, SIGKILL);   /* it answers until killed */
        waitpid(pid, NULL, 0);
        IT_CHECK(ran == 0);
        if (out.status != 4)
            show(&out, dates[i]);
        IT_CHECKF(out.status == 4 && strstr(out.err, "protocol_error") != NULL,
                  "%s: exit %d", dates[i], out.status);
        it_cli_free(&out);
        /* Nothing made, here or one folder up. */
        const char *ls[] = {"sh", "-c", NULL, NULL};
        char cmd[700];
        snprintf(cmd, sizeof cmd, "cd '%s' && ls -A . ..", cwd);
        ls[2] = cmd;
        IT_CHECK(it_run(&out, ls, CLI_MS) == 0);
        IT_CHECKF(strstr(out.out, "evil") == NULL && strstr(out.out, "2026") == NULL,
                  "%s: a folder was made: %s", dates[i], out.out);
        it_cli_free(&out);
    }
    return 0;
}

/* ---- a connection cut part-way ---- */

/* A TCP proxy in a child process on a port of its own: forwards the
 * client's bytes freely and the server's until `budget` bytes, then closes
 * both sides (a connection dropped mid-download). Connections after the
 * first (at most conns in all) are forwarded whole. The listening socket
 * goes with the last connection accepted, so a further connect is
 * refused. Returns the child's pid (0 on failure); *port its port. */
static void relay(int a, int b, long long budget)
{
    char buf[65536];
    long long sent = 0;
    for (;;) {
        struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        if (poll(p, 2, 60000) <= 0)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t k = read(p[i].fd, buf, sizeof buf);
            if (k <= 0)
                return;
            int to = i == 0 ? b : a;
            bool cut = false;
            if (i == 1 && budget >= 0 && sent + k > budget) {
                k = (ssize_t)(budget - sent);
                cut = true;
            }
            for (ssize_t off = 0; off < k;) {
                ssize_t w = write(to, buf + off, (size_t)(k - off));
                if (w <= 0)
                    return;
                off += w;
            }
            if (i == 1)
                sent += k;
            if (cut)
                return;
        }
    }
}

static pid_t cut_proxy(int server_port, long long budget, int conns, int *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) != 0) {
        if (l >= 0)
            close(l);
        return 0;
    }
    *port = ntohs(sa.sin_port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0) {
        close(l);
        return pid < 0 ? 0 : pid;
    }
    for (int n = 0; n < conns; n++) {
        int c = accept(l, NULL, NULL);
        if (n + 1 == conns)
            close(l);
        if (c < 0)
            _exit(1);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) != 0)
            _exit(1);
        relay(c, s, n == 0 ? budget : -1);
        close(c);
        close(s);
    }
    _exit(0);
}

static void reap(pid_t pid)
{
    int st;
    if (pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
}

/* The bytes the server sends before the download of the largest file is
 * cut in its second chunk: every smaller file before it in the manifest,
 * its first chunk, and half a chunk (the logins, pages and envelopes are
 * far less). */
static long long cut_budget(const run *r)
{
    long long before = 0;
    for (size_t i = 0; i < r->big; i++)
        before += r->bytes[i];
    return before + CHUNK + CHUNK / 2;
}

static int download_cut_then_server_restarted_continues_from_the_part(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    int port = 0;
    pid_t proxy = cut_proxy(v.s->port, cut_budget(&r), 1, &port);
    IT_CHECK(proxy > 0);
    char via[64], to[600];
    snprintf(via, sizeof via, "127.0.0.1:%d", port);
    snprintf(to, sizeof to, "%s/cut", v.dir);
    const char *args[] = {"export", "get", "--to", to, NULL};
    it_cli out;
    int rc = cli_as(&out, via, IT_USER_SUPER, args);
    reap(proxy);
    IT_CHECK(rc == 0);
    /* Unreachable (exit 3), told how to go on; the files before the big
     * one complete, the big one a .part of whole chunks, its beginning. */
    if (out.status != 3)
        show(&out, "export get (cut)");
    IT_CHECK(out.status == 3);
    IT_CHECKF(strstr(out.err, "run the same command again") != NULL, "stderr: %s", out.err);
    it_cli_free(&out);
    for (size_t i = 0; i < r.big; i++)
        IT_CHECK(same_file(r.folder, to, r.names[i]) == 0);
    char part[80];
    snprintf(part, sizeof part, "%s.part", r.names[r.big]);
    long long have = file_size(to, part);
    IT_CHECKF(have >= CHUNK && have < r.bytes[r.big] && have % CHUNK == 0, "%s: %lld bytes",
              part, have);
    IT_CHECK(!exists(to, r.names[r.big]));
    char sp[1024], pp[1024];
    snprintf(sp, sizeof sp, "%s/%s", r.folder, r.names[r.big]);
    snprintf(pp, sizeof pp, "%s/%s", to, part);
    size_t ls = 0, lp = 0;
    char *a = slurp(sp, &ls), *b = slurp(pp, &lp);
    IT_CHECK(a != NULL && b != NULL && lp == (size_t)have && memcmp(a, b, lp) == 0);
    free(a);
    free(b);

    /* The server killed and started again on the same database and
     * export_dir: the next export get continues from the .part. */
    it_server_signal(v.s, SIGKILL);
    IT_CHECK(it_server_wait(v.s, IT_STOP_TIMEOUT_MS) != -1);
    IT_CHECK(srv_start(&v, false) == 0);
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, args, 0);
    char want[64];
    snprintf(want, sizeof want, "continued from byte %lld", have);
    IT_CHECKF(strstr(out.out, want) != NULL, "stdout: %s", out.out);
    it_cli_free(&out);
    IT_CHECK(check_download(&r, to) == 0);
    return 0;
}

static int dropped_connection_is_reconnected_while_chunks_come(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    int port = 0;
    pid_t proxy = cut_proxy(v.s->port, cut_budget(&r), 2, &port);
    IT_CHECK(proxy > 0);
    char via[64], to[600];
    snprintf(via, sizeof via, "127.0.0.1:%d", port);
    snprintf(to, sizeof to, "%s/reconnect", v.dir);
    const char *args[] = {"export", "get", "--to", to, NULL};
    it_cli out;
    int rc = cli_as(&out, via, IT_USER_SUPER, args);
    reap(proxy);
    IT_CHECK(rc == 0);
    if (out.status != 0)
        show(&out, "export get (reconnect)");
    IT_CHECK(out.status == 0);
    it_cli_free(&out);
    IT_CHECK(check_download(&r, to) == 0);
    return 0;
}

static int damaged_part_is_downloaded_again(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    char to[600], p[1024];
    snprintf(to, sizeof to, "%s/damaged", v.dir);
    IT_CHECK(mkdir(to, 0700) == 0);
    /* A .part of the right length's beginning but the wrong bytes, and one
     * longer than the file. */
    snprintf(p, sizeof p, "%s/%s.part", to, r.names[r.big]);
    FILE *f = fopen(p, "wb");
    IT_CHECK(f != NULL);
    for (int i = 0; i < CHUNK + 5; i++)
        fputc('x', f);
    IT_CHECK(fclose(f) == 0);
    snprintf(p, sizeof p, "%s/%s.part", to, r.names[0]);
    f = fopen(p, "wb");
    IT_CHECK(f != NULL);
    for (long long i = 0; i < r.bytes[0] + 10; i++)
        fputc('y', f);
    IT_CHECK(fclose(f) == 0);
    const char *args[] = {"export", "get", "--to", to, NULL};
    it_cli out;
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, args, 0);
    IT_CHECKF(strstr(out.err, "does not match; downloading it again") != NULL, "stderr: %s",
              out.err);
    it_cli_free(&out);
    IT_CHECK(check_download(&r, to) == 0);
    return 0;
}

/* A file changed on the server after its run: the same size but other
 * bytes are caught by the SHA-256 (exit 4, nothing saved under its name);
 * another size is refused by the server (internal, logged). */
static int a_file_changed_on_the_server_is_not_saved(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    char p[1024], to[600];
    snprintf(p, sizeof p, "%s/%s", r.folder, r.names[0]);
    FILE *f = fopen(p, "r+b");
    IT_CHECK(f != NULL && fseek(f, -3, SEEK_END) == 0 && fputc('#', f) != EOF && fclose(f) == 0);
    snprintf(to, sizeof to, "%s/changed", v.dir);
    const char *args[] = {"export", "get", "--to", to, NULL};
    it_cli out;
    CLI_EXPECT(out, v.addr, IT_USER_SUPER, args, 4);
    IT_CHECKF(strstr(out.err, "is not the manifest's") != NULL, "stderr: %s", out.err);
    it_cli_free(&out);
    char part[80];
    snprintf(part, sizeof part, "%s.part", r.names[0]);
    IT_CHECK(!exists(to, r.names[0]) && !exists(to, part));
    f = fopen(p, "ab");
    IT_CHECK(f != NULL && fputc('#', f) != EOF && fclose(f) == 0);
    it_conn *c = it_connect(v.s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_read_err(c, r.id, r.names[0], 0, "internal", "") == 0);
    IT_CHECK(it_server_log_has(v.s, "event=export_read_failed"));
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

/* On a terminal, a progress bar on stderr ends at 100%. */
static int progress_bar_on_a_terminal(void)
{
    srv v;
    IT_CHECK(srv_start(&v, true) == 0);
    run r;
    IT_CHECK(run_export(&v, &r) == 0);
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    char to[600];
    snprintf(to, sizeof to, "%s/tty", v.dir);
    fflush(stdout);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        setenv("BAOBAO_SERVER", v.addr, 1);
        setenv("BAOBAO_USER", IT_USER_SUPER, 1);
        setenv("BAOBAO_PASSWORD", IT_PASSWORD, 1);
        setenv("BAOBAO_LANG", "en", 1);
        setenv("XDG_CONFIG_HOME", "/nonexistent/baobao-itest-config", 1);
        unsetenv("BAOBAO_CONFIG");
        execl(cli_bin, cli_bin, "export", "get", "--to", to, (char *)NULL);
        _exit(127);
    }
    static char out[1 << 20];
    size_t len = 0;
    int64_t deadline = it_now_ms() + CLI_MS;
    while (it_now_ms() < deadline && len + 1 < sizeof out) {
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t k = read(master, out + len, sizeof out - 1 - len);
        if (k <= 0)
            break;   /* EIO: the child closed the terminal */
        len += (size_t)k;
    }
    out[len] = '\0';
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(master);
    char want[128];
    snprintf(want, sizeof want, "%s", r.names[r.big]);
    bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(out, "100%") != NULL &&
              strstr(out, "[########################]") != NULL && strstr(out, want) != NULL;
    if (!ok)
        printf("  ---- terminal output (status %d):\n%s\n  ----\n", st, out);
    IT_CHECK(ok);
    IT_CHECK(check_download(&r, to) == 0);
    return 0;
}

static const it_test tests[] = {
    {"export_read_answers_chunks_of_at_most_the_limit",
     export_read_answers_chunks_of_at_most_the_limit},
    {"export_read_reads_only_what_the_manifest_lists",
     export_read_reads_only_what_the_manifest_lists},
    {"only_supervisors_and_admins_may_read_exports", only_supervisors_and_admins_may_read_exports},
    {"export_get_saves_every_file_as_the_server_wrote_it",
     export_get_saves_every_file_as_the_server_wrote_it},
    {"export_get_chooses_the_run_by_date_or_id", export_get_chooses_the_run_by_date_or_id},
    {"export_get_refuses_a_run_whose_date_is_no_date",
     export_get_refuses_a_run_whose_date_is_no_date},
    {"download_cut_then_server_restarted_continues_from_the_part",
     download_cut_then_server_restarted_continues_from_the_part},
    {"dropped_connection_is_reconnected_while_chunks_come",
     dropped_connection_is_reconnected_while_chunks_come},
    {"damaged_part_is_downloaded_again", damaged_part_is_downloaded_again},
    {"a_file_changed_on_the_server_is_not_saved", a_file_changed_on_the_server_is_not_saved},
    {"progress_bar_on_a_terminal", progress_bar_on_a_terminal},
};

int main(int argc, char **argv)
{
    int rc = it_main(argc, argv, "export_get", tests, sizeof tests / sizeof tests[0], setup);
    /* The export folders and downloads of every test (the servers are
     * gone); kept when a test failed, to look at. */
    if (rc == 0 && g_top[0] != '\0') {
        const char *rm[] = {"rm", "-rf", g_top, NULL};
        it_cli out;
        if (it_run(&out, rm, 60000) == 0)
            it_cli_free(&out);
    }
    return rc;
}
