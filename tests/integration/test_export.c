/*
 * test_export.c: export runs (export.run, export.list, the nightly
 * schedule) against a real server writing real folders: who may run and
 * list them; CSV files with Chinese text, commas, quotes and line feeds
 * parsed back by an independent reader (/usr/bin/python3's csv module),
 * the UTF-8 BOM and CRLF record ends; formula-like cells defused; the
 * manifest's rows, bytes and SHA-256 checked against the files; a second
 * run on one date in <date>-2; paging newest first; the schedule firing
 * (fake_now a few seconds before export_time); the catch-up of a missed
 * run at start, and none on a database that never exported; pruning of old
 * run folders (only folders that look like runs); a run killed part-way (SIGKILL) leaving nothing that looks
 * complete and marked failed by the next start once its heartbeat is stale
 * (two processes: test_export_multi.c); the loop answering
 * server.info while a big export runs; SIGTERM during a run.
 *
 * Each test starts its own server with its own export_dir (a fresh
 * folder under /tmp) and export_time "" unless it tests the schedule.
 * Not for: the reports' content (test_reports.c), importing
 * (test_import.c), the pruning of idempotency records and login throttles
 * (test_housekeeping.c: it runs on its own timer, exports or not).
 */
#include "harness.h"

#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 120000
#define BIG_REPORTS "300000"
#define PY_MAX_ARGS 60

/* The independent reader: python3's csv and json modules.
 *   csv FILE [KEYCOL KEYVAL COL WANT]...  BOM, CRLF record ends, then
 *       each cell (the row whose KEYCOL is KEYVAL) compared with WANT
 *   manifest DIR   every file: bytes, sha256, CSV data rows; no .partial
 *   count FILE     prints the number of data rows */
static const char py_checker[] =
    "import csv, hashlib, io, json, os, sys\n"
    "def rows(p):\n"
    "    raw = open(p, 'rb').read()\n"
    "    assert raw.startswith(b'\\xef\\xbb\\xbf'), p + ': no BOM'\n"
    "    text = raw[3:].decode('utf-8')\n"
    "    r = list(csv.reader(io.StringIO(text, newline='')))\n"
    "    assert raw.count(b'\\r\\n') == len(r), p + ': %d CRLF for %d records' % (raw.count(b'\\r\\n'), len(r))\n"
    "    return r\n"
    "mode = sys.argv[1]\n"
    "if mode == 'csv':\n"
    "    r = rows(sys.argv[2]); h = r[0]; a = sys.argv[3:]\n"
    "    for i in range(0, len(a), 4):\n"
    "        k, kv, c, want = a[i:i+4]\n"
    "        m = [x for x in r[1:] if x[h.index(k)] == kv]\n"
    "        assert len(m) == 1, '%s=%s: %d rows' % (k, kv, len(m))\n"
    "        got = m[0][h.index(c)]\n"
    "        assert got == want, '%s=%s %s: got %r want %r' % (k, kv, c, got, want)\n"
    "    print(','.join(h))\n"
    "elif mode == 'manifest':\n"
    "    d = sys.argv[2]; m = json.load(open(os.path.join(d, 'manifest.json')))\n"
    "    for k in ('export_date', 'run_id', 'kind', 'started_at', 'finished_at', 'snapshot', 'files'):\n"
    "        assert k in m, 'manifest lacks ' + k\n"
    "    assert m['snapshot'] == 'REPEATABLE READ'\n"
    "    names = set()\n"
    "    for f in m['files']:\n"
    "        p = os.path.join(d, f['name']); b = open(p, 'rb').read(); names.add(f['name'])\n"
    "        assert len(b) == f['bytes'], f['name'] + ' bytes'\n"
    "        assert hashlib.sha256(b).hexdigest() == f['sha256'], f['name'] + ' sha256'\n"
    "        if f['name'].endswith('.csv'):\n"
    "            assert len(rows(p)) - 1 == f['rows'], f['name'] + ' rows'\n"
    "    left = [n for n in os.listdir(d) if n != 'manifest.json' and n not in names]\n"
    "    assert not left, 'files not in the manifest: %r' % left\n"
    "    print(len(m['files']))\n"
    "elif mode == 'count':\n"
    "    print(len(rows(sys.argv[2])) - 1)\n";

static char g_top[256];       /* this binary's folder under /tmp */
static unsigned g_dirs;

/* A fresh export_dir for one server: "export_dir=..." in set (kept). */
static const char *new_export_dir(char *path, size_t len, char *set, size_t setlen)
{
    snprintf(path, len, "%s/d%u", g_top, ++g_dirs);
    snprintf(set, setlen, "export_dir=%s", path);
    return path;
}

static bool path_exists(const char *dir, const char *name)
{
    char p[768];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

/* True when any folder under dir holds a manifest.json. */
static bool any_manifest(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d)) != NULL) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s/manifest.json", e->d_name);
        if (e->d_name[0] != '.' && path_exists(dir, sub))
            found = true;
    }
    closedir(d);
    return found;
}

static int py(const char *const *args, it_cli *out)
{
    const char *argv[PY_MAX_ARGS + 4] = {"/usr/bin/python3", "-c", py_checker};
    size_t n = 3;
    for (size_t i = 0; args[i] != NULL && n < PY_MAX_ARGS + 3; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (it_run(out, argv, 60000) != 0)
        return -1;
    if (out->status == 0)
        return 0;
    it_note("python3: %s%s", out->out, out->err);
    it_cli_free(out);
    return -1;
}

/* export.run; *res_out receives the reply (free with it_msg_free). */
static int call_run(it_conn *c, uint32_t msgid, bool wait, int timeout_ms, it_msg *m)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, msgid, "export.run", 1);
    it_str(&b, "wait");
    if (wait)
        msgpack_pack_true(&b.pk);
    else
        msgpack_pack_false(&b.pk);
    int rc = it_call(c, b.sb.data, b.sb.size, msgid, timeout_ms, m);
    it_buf_free(&b);
    return rc;
}

/* Runs an export and waits for it; checks it ended ok; its folder path
 * into folder (export_dir/<folder>). */
static int run_ok(it_conn *c, const char *export_dir, char *folder, size_t len)
{
    it_msg m;
    IT_CHECK(call_run(c, 10, true, RUN_TIMEOUT_MS, &m) == IT_RECV_MSG);
    char status[32] = "", f[64] = "", err[512] = "";
    bool ok = !m.is_error && it_get_str(m.result, "status", status, sizeof status) &&
              it_get_str(m.result, "folder", f, sizeof f);
    (void)it_get_str(m.result, "error", err, sizeof err);
    char d[512];
    it_msg_free(&m);
    IT_CHECKF(ok && strcmp(status, "ok") == 0, "run: status %s error %s (%s)", status, err,
              it_describe(&m, d, sizeof d));
    snprintf(folder, len, "%s/%s", export_dir, f);
    return 0;
}

static it_server *start_with(const char *set_dir, const char *extra1, const char *extra2)
{
    const char *sets[5] = {set_dir, "export_time=", NULL, NULL, NULL};
    size_t n = 2;
    if (extra1 != NULL)
        sets[n++] = extra1;
    if (extra2 != NULL)
        sets[n++] = extra2;
    return it_server_start(sets);
}

/* ---- data ---- */

static int64_t g_ent_quoted, g_ent_plain;

static int64_t mk_enterprise(unsigned long n, const char *name, const char *labels)
{
    char cc[19];
    it_credit_code(n, cc);
    const char *p[] = {name, cc, labels};
    return it_pg_int("INSERT INTO enterprise (name, credit_code, township_id, cluster, labels)"
                     " VALUES ($1, $2, 4, '青砖茶', $3::text[]) RETURNING id",
                     3, p);
}

static int setup(void)
{
    snprintf(g_top, sizeof g_top, "/tmp/it-export-%d", (int)getpid());
    if (mkdir(g_top, 0755) != 0)
        return -1;
    g_ent_quoted = mk_enterprise(910001, "住方科技, \"赤壁\"有限公司", "{规上,高新技术企业}");
    g_ent_plain = mk_enterprise(910002, "高正新材料", "{}");
    if (g_ent_quoted < 0 || g_ent_plain < 0 || mk_enterprise(910003, "=1+1", "{=标签}") < 0 ||
        mk_enterprise(910004, "+86 电话", "{}") < 0 || mk_enterprise(910005, "-3 减", "{}") < 0 ||
        mk_enterprise(910006, "@SUM(A1)", "{}") < 0 ||
        mk_enterprise(910007, "'=已有撇号", "{}") < 0 ||
        mk_enterprise(910008, "A=B 中间等号", "{}") < 0)
        return -1;
    char e[24];
    snprintf(e, sizeof e, "%" PRId64, g_ent_quoted);
    const char *p[] = {e};
    return it_pg_exec("INSERT INTO status_report (enterprise_id, report_date, reporter,"
                      " production_status, output_value, employees, labour_shortage, note)"
                      " VALUES ($1::bigint, '2026-11-01', '张三', '正常', 123456789, 320, 15,"
                      " E'第一行\\n第二行, \"引号\" 与逗号')",
                      1, p);
}

/* ---- tests ---- */

/* Must run first: the table is still empty. */
static int no_catch_up_on_a_database_that_never_exported(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM export_run", 0, NULL) == 0);
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    const char *sets[] = {set, "export_time=02:00", "fake_now=2030-03-10T09:00:00+08:00", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_sleep_ms(3000);
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run", 0, NULL) == 0);
    IT_CHECK(!it_server_log_has(s, "event=export_started"));
    return 0;
}

static int export_methods_follow_roles(void)
{
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(staff != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "export.run", IT_NO_ARGS);
    IT_CHECK(it_send(staff, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(staff, 1, "forbidden", NULL, IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    it_req(&b, 2, "export.list", IT_NO_ARGS);
    IT_CHECK(it_send(staff, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(staff, 2, "forbidden", NULL, IT_REPLY_TIMEOUT_MS) == 0);
    /* admins and supervisors may */
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(admin != NULL);
    it_msg m;
    IT_CHECK(it_call(admin, b.sb.data, b.sb.size, 2, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error && it_map_get(m.result, "items") != NULL);
    it_msg_free(&m);
    IT_CHECK(call_run(admin, 3, true, RUN_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    IT_CHECK(it_get_str_eq(m.result, "requested_by", IT_USER_ADMIN));
    IT_CHECK(it_get_str_eq(m.result, "kind", "manual"));
    it_msg_free(&m);
    /* a bad argument */
    it_buf_reset(&b);
    it_req(&b, 4, "export.run", 1);
    it_kv_str(&b, "wait", "yes");
    IT_CHECK(it_send(admin, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(admin, 4, "invalid_argument", "wait", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    return 0;
}

static int csv_files_parse_back_with_python(void)
{
    char dir[512], set[600], folder[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(run_ok(c, dir, folder, sizeof folder) == 0);
    char ent[640], sr[640], eq[24], ep[24];
    snprintf(ent, sizeof ent, "%s/enterprises.csv", folder);
    snprintf(sr, sizeof sr, "%s/status_reports.csv", folder);
    snprintf(eq, sizeof eq, "%" PRId64, g_ent_quoted);
    snprintf(ep, sizeof ep, "%" PRId64, g_ent_plain);
    it_cli r;
    const char *a1[] = {"csv", ent,
                        "编号", eq, "企业名称", "住方科技, \"赤壁\"有限公司",
                        "编号", eq, "标签", "规上\n高新技术企业",
                        "编号", eq, "乡镇园区", "赤壁镇",
                        "编号", ep, "标签", "", NULL};
    IT_CHECK(py(a1, &r) == 0);
    IT_CHECK_STR(r.out, "编号,企业名称,统一社会信用代码,乡镇园区,产业集群,标签,经营状态,版本,创建时间,更新时间\n");
    it_cli_free(&r);
    const char *a2[] = {"csv", sr,
                        "企业编号", eq, "备注", "第一行\n第二行, \"引号\" 与逗号",
                        "企业编号", eq, "产值(元)", "123456789",
                        "企业编号", eq, "企业名称", "住方科技, \"赤壁\"有限公司",
                        "企业编号", eq, "报告日期", "2026-11-01", NULL};
    IT_CHECK(py(a2, &r) == 0);
    IT_CHECK_STR(r.out, "编号,企业编号,企业名称,报告日期,报告人,生产状态,产值(元),从业人数,缺工人数,备注,创建时间\n");
    it_cli_free(&r);
    static const char *const others[][2] = {
        {"projects.csv", "编号,项目名称,投资企业编号,产业集群,计划投资(元),优先级,牵头单位,乡镇园区,阶段,阶段说明,签约计划,签约实际,注册计划,注册实际,开工计划,开工实际,投产计划,投产实际,竣工计划,竣工实际,版本\n"},
        {"assignments.csv", "编号,包保干部,责任单位,对象类型,企业编号,项目编号,对象名称,角色,开始日期,结束日期\n"},
        {"problems.csv", "编号,企业编号,企业名称,乡镇园区,类别,描述,责任单位,责任人,期限,状态,办结时间,创建时间\n"},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", folder, others[i][0]);
        const char *a[] = {"csv", p, NULL};
        IT_CHECK(py(a, &r) == 0);
        IT_CHECK_STR(r.out, others[i][1]);
        it_cli_free(&r);
    }
    return 0;
}

/* The header PROTOCOL.md section 7 lists for file name (the cell after
 * "| `name` | " in its table of files, up to the ": " that starts its
 * description or the end of the cell), into out. */
static int documented_header(const char *name, char *out, size_t outlen)
{
    const char *path = getenv("IT_PROTOCOL_MD");
    IT_CHECKF(path != NULL, "IT_PROTOCOL_MD is not set (tests/integration/meson.build)");
    FILE *f = fopen(path, "r");
    IT_CHECKF(f != NULL, "%s: cannot open", path);
    char prefix[128], line[2048];
    snprintf(prefix, sizeof prefix, "| `%s` | ", name);
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, prefix, strlen(prefix)) != 0)
            continue;
        const char *cell = line + strlen(prefix);
        const char *end = strstr(cell, " |");
        const char *colon = strstr(cell, ": ");
        if (colon != NULL && (end == NULL || colon < end))
            end = colon;
        if (end != NULL) {
            snprintf(out, outlen, "%.*s", (int)(end - cell), cell);
            found = true;
        }
    }
    fclose(f);
    IT_CHECKF(found, "PROTOCOL.md lists no header for %s", name);
    return 0;
}

/* Every CSV file's header row is, name for name, the one PROTOCOL.md
 * section 7 documents (a client reads columns by these names); and
 * assignments.csv's 对象类型 holds 企业 for an assignment on an
 * enterprise (企业编号 filled, 项目编号 empty) and 项目 for one on a
 * project (the other way round), as documented there. */
static int csv_headers_and_target_kinds_are_as_documented(void)
{
    int64_t unit = it_pg_int("INSERT INTO unit (name) VALUES ('导出对象单位') RETURNING id", 0,
                             NULL);
    IT_CHECK(unit > 0);
    char u[24], e[24];
    snprintf(u, sizeof u, "%" PRId64, unit);
    snprintf(e, sizeof e, "%" PRId64, g_ent_plain);
    const char *pu[] = {u};
    int64_t prj = it_pg_int("INSERT INTO project (name, township_id, lead_unit_id, stage,"
                            " planned_investment, priority)"
                            " VALUES ('导出对象项目', 4, $1::bigint, '洽谈', 1, '一般')"
                            " RETURNING id",
                            1, pu);
    IT_CHECK(prj > 0);
    char pj[24];
    snprintf(pj, sizeof pj, "%" PRId64, prj);
    const char *pa[] = {u, e};
    int64_t a_ent = it_pg_int("INSERT INTO assignment (unit_id, enterprise_id, role, period_start)"
                              " VALUES ($1::bigint, $2::bigint, '责任单位', '2026-01-01')"
                              " RETURNING id",
                              2, pa);
    const char *pb[] = {u, pj};
    int64_t a_prj = it_pg_int("INSERT INTO assignment (unit_id, project_id, role, period_start)"
                              " VALUES ($1::bigint, $2::bigint, '责任单位', '2026-01-01')"
                              " RETURNING id",
                              2, pb);
    IT_CHECK(a_ent > 0 && a_prj > 0);
    char dir[512], set[600], folder[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(run_ok(c, dir, folder, sizeof folder) == 0);
    static const char *const files[] = {"enterprises.csv", "status_reports.csv", "projects.csv",
                                        "assignments.csv", "problems.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char doc[1024], path[700];
        IT_CHECK(documented_header(files[i], doc, sizeof doc) == 0);
        snprintf(path, sizeof path, "%s/%s", folder, files[i]);
        const char *a[] = {"csv", path, NULL};
        it_cli r;
        IT_CHECK(py(a, &r) == 0);   /* prints the header row, names joined by "," */
        size_t n = strlen(r.out);
        while (n > 0 && (r.out[n - 1] == '\n' || r.out[n - 1] == '\r'))
            r.out[--n] = '\0';
        bool same = strcmp(r.out, doc) == 0;
        IT_CHECKF(same, "%s: header %s, PROTOCOL.md says %s", files[i], r.out, doc);
        it_cli_free(&r);
    }
    char path[700], ae[24], ap[24];
    snprintf(path, sizeof path, "%s/assignments.csv", folder);
    snprintf(ae, sizeof ae, "%" PRId64, a_ent);
    snprintf(ap, sizeof ap, "%" PRId64, a_prj);
    const char *a[] = {"csv", path,
                       "编号", ae, "对象类型", "企业", "编号", ae, "企业编号", e,
                       "编号", ae, "项目编号", "",
                       "编号", ap, "对象类型", "项目", "编号", ap, "项目编号", pj,
                       "编号", ap, "企业编号", "", NULL};
    it_cli r;
    IT_CHECK(py(a, &r) == 0);
    it_cli_free(&r);
    return 0;
}

static int formula_like_cells_are_defused(void)
{
    char dir[512], set[600], folder[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(run_ok(c, dir, folder, sizeof folder) == 0);
    char ent[640];
    snprintf(ent, sizeof ent, "%s/enterprises.csv", folder);
    char cc[8][19];
    for (int i = 0; i < 6; i++)
        it_credit_code(910003ul + (unsigned long)i, cc[i]);
    it_cli r;
    const char *a[] = {"csv", ent,
                       "统一社会信用代码", cc[0], "企业名称", "'=1+1",
                       "统一社会信用代码", cc[0], "标签", "'=标签",
                       "统一社会信用代码", cc[1], "企业名称", "'+86 电话",
                       "统一社会信用代码", cc[2], "企业名称", "'-3 减",
                       "统一社会信用代码", cc[3], "企业名称", "'@SUM(A1)",
                       "统一社会信用代码", cc[4], "企业名称", "''=已有撇号",
                       "统一社会信用代码", cc[5], "企业名称", "A=B 中间等号", NULL};
    IT_CHECK(py(a, &r) == 0);
    it_cli_free(&r);
    return 0;
}

static int manifest_matches_the_files(void)
{
    char dir[512], set[600], folder[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(run_ok(c, dir, folder, sizeof folder) == 0);
    it_cli r;
    const char *a[] = {"manifest", folder, NULL};
    IT_CHECK(py(a, &r) == 0);
    IT_CHECK_STR(r.out, "8\n");   /* six CSV files and two reports */
    it_cli_free(&r);
    IT_CHECK(path_exists(folder, "reports.xlsx") && path_exists(folder, "reports.html"));
    /* export.list shows the same files */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 20, "export.list", 1);
    it_kv_int(&b, "limit", 1);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 20, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->via.array.size == 1);
    const msgpack_object *run = &items->via.array.ptr[0];
    const msgpack_object *files = it_map_get(run, "files");
    IT_CHECK(files != NULL && files->type == MSGPACK_OBJECT_ARRAY && files->via.array.size == 8);
    IT_CHECK(it_get_str_eq(&files->via.array.ptr[0], "name", "enterprises.csv"));
    int64_t rows = -1, dur = -1;
    IT_CHECK(it_get_int(&files->via.array.ptr[0], "rows", &rows) && rows >= 8);
    IT_CHECK(it_get_int(run, "duration_ms", &dur) && dur >= 0);
    IT_CHECK(it_get_str_eq(run, "status", "ok"));
    it_msg_free(&m);
    return 0;
}

static int second_run_on_a_date_gets_its_own_folder_and_list_pages_newest_first(void)
{
    char dir[512], set[600], f1[600], f2[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, "fake_now=2030-05-05T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(run_ok(c, dir, f1, sizeof f1) == 0);
    IT_CHECK(run_ok(c, dir, f2, sizeof f2) == 0);
    char want1[600], want2[600];
    snprintf(want1, sizeof want1, "%s/2030-05-05", dir);
    snprintf(want2, sizeof want2, "%s/2030-05-05-2", dir);
    IT_CHECK_STR(f1, want1);
    IT_CHECK_STR(f2, want2);
    /* newest first, one per page */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 30, "export.list", 1);
    it_kv_int(&b, "limit", 1);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 30, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    const msgpack_object *items = it_map_get(m.result, "items");
    int64_t next = 0, id1 = 0;
    IT_CHECK(items->via.array.size == 1 && it_get_int(m.result, "next", &next));
    IT_CHECK(it_get_int(&items->via.array.ptr[0], "id", &id1) && id1 == next);
    IT_CHECK(it_get_str_eq(&items->via.array.ptr[0], "folder", "2030-05-05-2"));
    it_msg_free(&m);
    it_buf_reset(&b);
    it_req(&b, 31, "export.list", 2);
    it_kv_int(&b, "limit", 1);
    it_kv_int(&b, "after", next);
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 31, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    items = it_map_get(m.result, "items");
    int64_t id2 = 0;
    IT_CHECK(items->via.array.size == 1 && it_get_int(&items->via.array.ptr[0], "id", &id2));
    IT_CHECK(id2 < id1);
    IT_CHECK(it_get_str_eq(&items->via.array.ptr[0], "folder", "2030-05-05"));
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* Polls until SQL's count is at least want. */
static bool wait_count(const char *sql, int n, const char *const *p, long long want, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (it_pg_int(sql, n, p) >= want)
            return true;
        it_sleep_ms(200);
    }
    return false;
}

static int schedule_runs_at_export_time(void)
{
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    const char *sets[] = {set, "export_time=02:00", "fake_now=2030-01-10T01:59:56+08:00", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE kind = 'scheduled' AND status = 'ok'"
                        " AND export_date = '2030-01-10'",
                        0, NULL, 1, 60000));
    IT_CHECK(path_exists(dir, "2030-01-10/manifest.json"));
    return 0;
}

static int missed_run_catches_up_at_start(void)
{
    IT_CHECK(it_pg_exec("INSERT INTO export_run (kind, export_date, status, finished_at, folder)"
                        " VALUES ('scheduled', '2030-02-01', 'ok', now(), '2030-02-01')",
                        0, NULL) == 0);
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    /* 09:00: today's 02:00 run was missed */
    const char *sets[] = {set, "export_time=02:00", "fake_now=2030-02-10T09:00:00+08:00", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE kind = 'catch_up' AND status = 'ok'"
                        " AND export_date = '2030-02-10'",
                        0, NULL, 1, 60000));
    IT_CHECK(path_exists(dir, "2030-02-10/manifest.json"));
    /* once caught up, a restart does not run it again */
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_sleep_ms(3000);
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE export_date = '2030-02-10'", 0,
                       NULL) == 1);
    return 0;
}

static int old_run_folders_are_pruned(void)
{
    char dir[512], set[600], folder[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    IT_CHECK(mkdir(dir, 0755) == 0);
    static const char *const mk[] = {"2030-03-01", "2030-03-01-2", "2030-04-01", "notes",
                                     "2030-03-01x"};
    for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", dir, mk[i]);
        IT_CHECK(mkdir(p, 0755) == 0);
        snprintf(p, sizeof p, "%s/%s/old.csv", dir, mk[i]);
        FILE *f = fopen(p, "w");
        IT_CHECK(f != NULL);
        fputs("x\n", f);
        fclose(f);
    }
    /* today 2030-04-20, keep 30 days: before 2030-03-21 goes */
    it_server *s = start_with(set, "fake_now=2030-04-20T10:00:00+08:00", "export_keep_days=30");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(run_ok(c, dir, folder, sizeof folder) == 0);
    IT_CHECK(!path_exists(dir, "2030-03-01"));
    IT_CHECK(!path_exists(dir, "2030-03-01-2"));
    IT_CHECK(path_exists(dir, "2030-04-01/old.csv"));
    IT_CHECK(path_exists(dir, "notes/old.csv"));
    IT_CHECK(path_exists(dir, "2030-03-01x/old.csv"));
    IT_CHECK(path_exists(dir, "2030-04-20/manifest.json"));
    return 0;
}

static bool g_big;

/* Enough status reports that an export takes seconds under the sanitizers. */
static int big_data(void)
{
    if (g_big)
        return 0;
    char e[24];
    snprintf(e, sizeof e, "%" PRId64, g_ent_plain);
    const char *p[] = {e};
    IT_CHECK(it_pg_exec("INSERT INTO status_report (enterprise_id, report_date, reporter,"
                        " production_status, output_value, employees, note)"
                        " SELECT $1::bigint, DATE '2026-01-01' + (g % 300), '李四', '正常', g, g % 500,"
                        " repeat('走访记录,', 8) FROM generate_series(1, " BIG_REPORTS ") g",
                        1, p) == 0);
    IT_CHECK(it_pg_exec("ANALYZE status_report", 0, NULL) == 0);
    g_big = true;
    return 0;
}

/* Waits until the folder of the running export holds a .partial file of
 * status_reports.csv (the big file is being written). */
static bool wait_partial(const char *dir, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s/status_reports.csv.partial", e->d_name);
            if (e->d_name[0] != '.' && path_exists(dir, sub)) {
                closedir(d);
                return true;
            }
        }
        if (d != NULL)
            closedir(d);
        it_sleep_ms(20);
    }
    return false;
}

static int run_killed_part_way_leaves_nothing_complete(void)
{
    IT_CHECK(big_data() == 0);
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    IT_CHECK(call_run(c, 40, false, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    int64_t id = 0;
    IT_CHECK(!m.is_error && it_get_int(m.result, "id", &id));
    IT_CHECK(it_get_str_eq(m.result, "status", "running"));
    it_msg_free(&m);
    IT_CHECK(wait_partial(dir, 60000));
    it_server_signal(s, SIGKILL);
    IT_CHECK(it_server_wait(s, IT_STOP_TIMEOUT_MS) != -1);
    IT_CHECK(!any_manifest(dir));
    char idt[24];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    const char *p[] = {idt};
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE id = $1::bigint AND status = 'running'",
                       1, p) == 1);
    /* the next start marks it failed and removes its folder, once its
     * owner's heartbeat is EXPORT_OWNER_STALE_MS old (30 s; issue 14: a
     * younger one may be another live process's); the start-up looks
     * again a stale time later, so up to twice that, under ASan */
    s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE id = $1::bigint AND status = 'failed'"
                        " AND error IS NOT NULL",
                        1, p, 1, 120000));
    char folder[64];
    IT_CHECK(it_pg_exec("SELECT 1", 0, NULL) == 0);
    int64_t end = it_now_ms() + 10000;
    snprintf(folder, sizeof folder, "2026");
    bool gone = false;
    while (!gone && it_now_ms() < end) {
        DIR *d = opendir(dir);
        struct dirent *e;
        gone = true;
        while (d != NULL && (e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                gone = false;
        if (d != NULL)
            closedir(d);
        if (!gone)
            it_sleep_ms(100);
    }
    IT_CHECKF(gone, "the killed run's folder is still in %s", dir);
    return 0;
}

static int loop_answers_while_a_big_export_runs(void)
{
    IT_CHECK(big_data() == 0);
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, NULL, NULL);
    IT_CHECK(s != NULL);
    it_conn *waiter = it_connect(s->port);
    it_conn *probe = it_connect(s->port);
    IT_CHECK(waiter != NULL && probe != NULL);
    /* one request waits for the end of the run ... */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 50, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    IT_CHECK(it_send(waiter, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    IT_CHECK(wait_partial(dir, 60000));
    /* ... while server.info is answered at once, many times */
    int answered = 0;
    int64_t worst = 0;
    unsigned char info[32];
    while (it_pg_int("SELECT count(*) FROM export_run WHERE status = 'running'", 0, NULL) > 0) {
        size_t n = it_server_info_bytes(4000000000u, info);
        int64_t t0 = it_now_ms();
        it_msg m;
        IT_CHECK(it_call(probe, info, n, 4000000000u, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        it_msg_free(&m);
        int64_t dt = it_now_ms() - t0;
        if (dt > worst)
            worst = dt;
        answered++;
        it_sleep_ms(10);
    }
    it_note("server.info answered %d times during the export, slowest %" PRId64 " ms", answered,
            worst);
    IT_CHECK(answered >= 5);
    IT_CHECK(worst < 1000);
    it_msg m;
    IT_CHECK(it_recv(waiter, RUN_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(m.msgid == 50 && !m.is_error && it_get_str_eq(m.result, "status", "ok"));
    it_msg_free(&m);
    return 0;
}

/* The shutdown deadline the SIGTERM tests set, and how much later than it
 * baobaod may still exit (a hang guard, not a speed check: a run the
 * shutdown could not stop keeps the loop alive far past the deadline). */
#define SIGTERM_DEADLINE_MS 3000
#define SIGTERM_DEADLINE_SET "shutdown_deadline_ms=3000"
#define SIGTERM_MARGIN_MS 2000

/* Waits until the run's CSV files are all renamed (the last is the audit
 * file): the run is in the reports, or just finished. */
static bool wait_csvs_done(const char *dir, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char sub[128];
            snprintf(sub, sizeof sub, "%.64s/audit_%.10s.csv", e->d_name, e->d_name);
            if (path_exists(dir, sub)) {
                closedir(d);
                return true;
            }
        }
        if (d != NULL)
            closedir(d);
        it_sleep_ms(5);
    }
    return false;
}

static int sigterm_during_a_run_stops_it_cleanly(void)
{
    IT_CHECK(big_data() == 0);
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, SIGTERM_DEADLINE_SET, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 60, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    IT_CHECK(wait_partial(dir, 60000));
    int64_t t0 = it_now_ms();
    it_server_signal(s, SIGTERM);
    /* the waiting request is answered: the run failed */
    it_msg m;
    IT_CHECK(it_recv(c, IT_STOP_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(m.msgid == 60 && !m.is_error && it_get_str_eq(m.result, "status", "failed"));
    it_msg_free(&m);
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    int64_t took = it_now_ms() - t0;
    it_note("SIGTERM during COPY: exited after %" PRId64 " ms", took);
    IT_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    IT_CHECK(took < SIGTERM_DEADLINE_MS + SIGTERM_MARGIN_MS);
    IT_CHECK(!any_manifest(dir));
    return 0;
}

/* SIGTERM once the CSV files are written: the reports are cancelled (their
 * queries through PQcancel, their row loops through the cancel flag), and
 * baobaod exits within the deadline. The run may have just finished (then
 * it is complete, status ok); else it failed and left no manifest. */
static int sigterm_during_the_reports_stops_them(void)
{
    IT_CHECK(big_data() == 0);
    char dir[512], set[600];
    new_export_dir(dir, sizeof dir, set, sizeof set);
    it_server *s = start_with(set, SIGTERM_DEADLINE_SET, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 61, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    IT_CHECK(wait_csvs_done(dir, 120000));
    int64_t t0 = it_now_ms();
    it_server_signal(s, SIGTERM);
    it_msg m;
    IT_CHECK(it_recv(c, IT_STOP_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(m.msgid == 61);
    /* A third outcome, rare (seen once in CI): the shutdown's cancel hit
     * the statements that record the run's end or read it back; the
     * waiter is then answered shutting_down (export.c answer_unended,
     * "status=unknown closing=1" in the log), never with a row that still
     * says running. The run may have written its manifest just before. */
    bool unrecorded = m.is_error && strcmp(m.code, "shutting_down") == 0;
    bool failed = !m.is_error && it_get_str_eq(m.result, "status", "failed");
    bool ok = unrecorded || failed || (!m.is_error && it_get_str_eq(m.result, "status", "ok"));
    it_msg_free(&m);
    IT_CHECK(ok);
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    int64_t took = it_now_ms() - t0;
    it_note("SIGTERM during the reports: run %s, exited after %" PRId64 " ms",
            unrecorded ? "unrecorded" : failed ? "failed" : "finished", took);
    IT_CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    IT_CHECK(took < SIGTERM_DEADLINE_MS + SIGTERM_MARGIN_MS);
    /* the log is complete once the server has exited */
    IT_CHECKF(!unrecorded || it_server_log_has(s, "status=unknown closing=1"),
              "answered shutting_down without the log's status=unknown closing=1");
    if (failed)
        IT_CHECK(!any_manifest(dir));
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"no_catch_up_on_a_database_that_never_exported", no_catch_up_on_a_database_that_never_exported},
        {"export_methods_follow_roles", export_methods_follow_roles},
        {"csv_files_parse_back_with_python", csv_files_parse_back_with_python},
        {"csv_headers_and_target_kinds_are_as_documented",
         csv_headers_and_target_kinds_are_as_documented},
        {"formula_like_cells_are_defused", formula_like_cells_are_defused},
        {"manifest_matches_the_files", manifest_matches_the_files},
        {"second_run_on_a_date_gets_its_own_folder_and_list_pages_newest_first",
         second_run_on_a_date_gets_its_own_folder_and_list_pages_newest_first},
        {"schedule_runs_at_export_time", schedule_runs_at_export_time},
        {"missed_run_catches_up_at_start", missed_run_catches_up_at_start},
        {"old_run_folders_are_pruned", old_run_folders_are_pruned},
        {"run_killed_part_way_leaves_nothing_complete", run_killed_part_way_leaves_nothing_complete},
        {"loop_answers_while_a_big_export_runs", loop_answers_while_a_big_export_runs},
        {"sigterm_during_a_run_stops_it_cleanly", sigterm_during_a_run_stops_it_cleanly},
        {"sigterm_during_the_reports_stops_them", sigterm_during_the_reports_stops_them},
    };
    int rc = it_main(argc, argv, "export", tests, sizeof tests / sizeof tests[0], setup);
    if (g_top[0] != '\0') {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_top);
        if (rc == 0 && system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
