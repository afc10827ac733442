/*
 * test_cli_input.c: forgiving input and names for ids, through the
 * `baobao` command and a real server (issue 11): `status submit
 * --enterprise 赵李桥 --output-value ８５６万` stores 8560000 for that
 * enterprise; every date form is stored as its date, "today" being the
 * server's pinned one; an ambiguous name lists its candidates and stores
 * nothing (exit 2), or on a terminal lets the user pick (a wrong answer
 * asks again, end of input cancels); an exact name beats a partial one;
 * a credit code (also typed full-width) names its enterprise; a name
 * outside the caller's townships is not found; users, units and officials
 * by name too; and the server itself (a raw call, not only the CLI)
 * refuses a reporter of one U+3000, and spaces at the ends, which the
 * command trims before it sends (also each --label of a repeated
 * option). An amount that is not one gets the packer's reason; 今天 with
 * the server unreachable is exit 3, as any unreachable server is.
 *
 * Not for: the forms one by one (tests/unit/test_input.c).
 */
#include "harness.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MS 30000
/* The server's pinned clock for the date forms: a past date, so that
 * PostgreSQL's own "not after today" (the real clock) never refuses it. */
#define FAKE_NOW "fake_now=2025-12-20T10:00:00+08:00"
/* As resolve.c: candidates listed, rows scanned. */
#define SHOW_MAX 20
#define SCAN_MAX 200

static char g_server[64];
static uint32_t g_msgid = 100;

/* The enterprises every test may name. */
static int64_t g_zlq, g_ylq1, g_ylq2, g_exact, g_exact_longer, g_coded;
static char g_code[19];

static int64_t make(it_conn *c, unsigned long n, const char *name, const char *township)
{
    char cc[19];
    it_credit_code(n, cc);
    return it_create_enterprise(c, name, cc, township);
}

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* Only one name contains 赵李桥; two contain 羊楼洞砖茶. */
    g_zlq = make(c, 7101, "赵李桥砖茶厂", "赵李桥镇");
    g_ylq1 = make(c, 7102, "羊楼洞砖茶一厂", "赵李桥镇");
    g_ylq2 = make(c, 7103, "羊楼洞砖茶二厂", "新店镇");
    g_exact = make(c, 7104, "赤壁青砖茶", "赤壁镇");
    g_exact_longer = make(c, 7105, "赤壁青砖茶厂", "赤壁镇");
    it_credit_code(7106, g_code);
    g_coded = it_create_enterprise(c, "凭代码企业", g_code, "车埠镇");
    it_close(c);
    IT_CHECK(g_zlq > 0 && g_ylq1 > 0 && g_ylq2 > 0 && g_exact > 0 && g_exact_longer > 0 &&
             g_coded > 0);
    return 0;
}

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status, r->out,
           r->err);
}

/* Runs the CLI against server (NULL: the shared one), in English, with
 * extra environment env (NULL: none); 0 when it exited with code. */
static int run(it_cli *r, const char *server, const char *const *args, const char *const *env,
               int code)
{
    const char *e[8] = {"BAOBAO_LANG=en", "BAOBAO_NO_PROMPT=1"};
    size_t n = 2;
    for (size_t i = 0; env != NULL && env[i] != NULL && n < 7; i++)
        e[n++] = env[i];
    e[n] = NULL;
    IT_CHECK(it_cli_run_env(r, server != NULL ? server : g_server, CLI_MS, args, e) == 0);
    if (r->status != code) {
        show(r, args[0]);
        IT_CHECKF(r->status == code, "exit %d, expected %d", r->status, code);
    }
    return 0;
}

#define RUN(r, args, code) IT_CHECK(run(&(r), NULL, (args), NULL, (code)) == 0)

/* Reports of an enterprise by a reporter. */
static long long reports(int64_t enterprise, const char *reporter)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)enterprise);
    const char *p[] = {id, reporter};
    return it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                     " AND reporter = $2", 2, p);
}

static long long reports_by(const char *reporter)
{
    const char *p[] = {reporter};
    return it_pg_int("SELECT count(*) FROM status_report WHERE reporter = $1", 1, p);
}

/* ---- the one-liner ---- */

static int submit_by_name_with_full_width_amount(void)
{
    it_cli r;
    const char *args[] = {"status", "submit", "--enterprise", "赵李桥", "--date", "2024-05-06",
                          "--reporter", "王五", "--production-status", "正常",
                          "--output-value", "８５６万", "--employees", "１２", NULL};
    RUN(r, args, 0);
    it_cli_free(&r);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)g_zlq);
    const char *p[] = {id};
    IT_CHECK(it_pg_int("SELECT output_value FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND reporter = '王五'", 1, p) == 8560000);
    IT_CHECK(it_pg_int("SELECT employees FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND reporter = '王五'", 1, p) == 12);
    IT_CHECK(reports_by("王五") == 1);
    return 0;
}

static int amounts_in_every_form(void)
{
    static const struct {
        const char *typed;
        long long yuan;
    } forms[] = {
        {"856 万元", 8560000}, {"1.2亿", 120000000}, {"1,234,567", 1234567},
        {"12.5万", 125000},   {"\xe3\x80\x80" "42 ", 42},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char reporter[32], id[24];
        snprintf(reporter, sizeof reporter, "金额%zu", i);
        snprintf(id, sizeof id, "%lld", (long long)g_zlq);
        it_cli r;
        const char *args[] = {"status", "submit", "--enterprise", id, "--date", "2024-05-07",
                              "--reporter", reporter, "--production-status", "正常",
                              "--output-value", forms[i].typed, NULL};
        RUN(r, args, 0);
        it_cli_free(&r);
        const char *p[] = {reporter};
        long long got = it_pg_int("SELECT output_value FROM status_report WHERE reporter = $1",
                                  1, p);
        IT_CHECKF(got == forms[i].yuan, "\"%s\" stored as %lld, expected %lld", forms[i].typed,
                  got, forms[i].yuan);
    }
    /* Not a whole number of yuan: refused before anything is sent. */
    it_cli r;
    const char *bad[] = {"status", "submit", "--enterprise", "赵李桥", "--date", "2024-05-07",
                         "--reporter", "金额坏", "--production-status", "正常",
                         "--output-value", "12.34567万", NULL};
    RUN(r, bad, 2);
    IT_CHECKF(strstr(r.err, "output_value") != NULL && strstr(r.err, "12.34567万") != NULL,
              "stderr: %s", r.err);
    /* The packer's reason, which says what is wrong with it. */
    IT_CHECKF(strstr(r.err, "not a whole number") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    IT_CHECK(reports_by("金额坏") == 0);
    return 0;
}

/* An array given one element per option (--label, repeated) is cleaned
 * element by element as any text is: stored trimmed, never refused for
 * the spaces a person typed around a label. */
static int repeated_array_elements_are_trimmed(void)
{
    char code[19];
    it_credit_code(7107, code);
    it_cli r;
    const char *args[] = {"enterprise", "add", "--name", "标签留白企业", "--credit-code", code,
                          "--township", "赤壁镇", "--label", " 规上\xe3\x80\x80",
                          "--label", "高新技术企业 ", NULL};
    RUN(r, args, 0);
    it_cli_free(&r);
    const char *p[] = {code};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1"
                       " AND labels::text[] @> ARRAY['规上', '高新技术企业']"
                       " AND cardinality(labels) = 2", 1, p) == 1);
    return 0;
}

/* 今天 needs the server's today: when the server cannot be reached, that
 * is said as any unreachable server is (exit 3), not as a usage error. */
static int today_from_an_unreachable_server_is_exit_3(void)
{
    it_cli r;
    const char *args[] = {"status", "submit", "--enterprise", "1", "--date", "今天",
                          "--reporter", "无服务器", "--production-status", "正常", NULL};
    IT_CHECK(run(&r, "127.0.0.1:1", args, NULL, 3) == 0);
    IT_CHECKF(strstr(r.err, "connect_failed") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return 0;
}

/* ---- dates ---- */

static int every_date_form_stored_as_its_date(void)
{
    it_server *s = it_server_start((const char *const[]){FAKE_NOW, NULL});
    IT_CHECK(s != NULL);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    static const struct {
        const char *typed;   /* NULL: no --date at all */
        long long want;      /* YYYYMMDD */
    } forms[] = {
        {"2025-12-05", 20251205}, {"2025/12/1", 20251201},  {"2025.12.2", 20251202},
        {"2025年12月3日", 20251203}, {"12月4日", 20251204},  {"今天", 20251220},
        {"昨天", 20251219},       {"前天", 20251218},       {"today", 20251220},
        {"yesterday", 20251219},  {"２０２５年１１月３０日", 20251130}, {NULL, 20251220},
    };
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)g_zlq);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char reporter[32];
        snprintf(reporter, sizeof reporter, "日期%zu", i);
        it_cli r;
        const char *with[] = {"status", "submit", "--enterprise", id, "--reporter", reporter,
                              "--production-status", "正常", "--date", forms[i].typed, NULL};
        if (forms[i].typed == NULL)
            with[8] = NULL;   /* no --date: the server's today */
        IT_CHECK(run(&r, server, with, NULL, 0) == 0);
        it_cli_free(&r);
        const char *p[] = {reporter};
        long long got = it_pg_int("SELECT to_char(report_date, 'YYYYMMDD')::int"
                                  " FROM status_report WHERE reporter = $1", 1, p);
        IT_CHECKF(got == forms[i].want, "\"%s\" stored as %lld, expected %lld",
                  forms[i].typed ? forms[i].typed : "(no --date)", got, forms[i].want);
    }
    return 0;
}

/* The server fills in today when a raw call leaves report_date out. */
static int server_fills_in_todays_report_date(void)
{
    it_server *s = it_server_start((const char *const[]){FAKE_NOW, NULL});
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "status.submit", 3);
    it_kv_int(&b, "enterprise_id", g_zlq);
    it_kv_str(&b, "reporter", "默认日期");
    it_kv_str(&b, "production_status", "正常");
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "report_date", "2025-12-20"));
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* ---- names ---- */

static int ambiguous_name_lists_candidates_and_stores_nothing(void)
{
    it_cli r;
    const char *args[] = {"status", "submit", "--enterprise", "羊楼洞", "--date", "2024-05-08",
                          "--reporter", "歧义", "--production-status", "正常", NULL};
    RUN(r, args, 2);
    char id1[24], id2[24];
    snprintf(id1, sizeof id1, "%lld", (long long)g_ylq1);
    snprintf(id2, sizeof id2, "%lld", (long long)g_ylq2);
    IT_CHECKF(strstr(r.err, "羊楼洞砖茶一厂") != NULL && strstr(r.err, "羊楼洞砖茶二厂") != NULL &&
                  strstr(r.err, id1) != NULL && strstr(r.err, id2) != NULL &&
                  strstr(r.err, "赵李桥镇") != NULL && strstr(r.err, "新店镇") != NULL,
              "the candidates (name, id, township) are not all listed: %s", r.err);
    IT_CHECKF(strstr(r.err, "1) ") != NULL && strstr(r.err, "2) ") != NULL,
              "not numbered: %s", r.err);
    it_cli_free(&r);
    IT_CHECK(reports_by("歧义") == 0);
    return 0;
}

static int exact_name_beats_partial(void)
{
    it_cli r;
    const char *args[] = {"status", "submit", "--enterprise", " 赤壁青砖茶　", "--date",
                          "2024-05-08", "--reporter", "精确", "--production-status", "正常", NULL};
    RUN(r, args, 0);
    it_cli_free(&r);
    IT_CHECK(reports(g_exact, "精确") == 1);
    IT_CHECK(reports(g_exact_longer, "精确") == 0);
    /* A unique part still names the longer one. */
    const char *part[] = {"status", "submit", "--enterprise", "青砖茶厂", "--date", "2024-05-08",
                          "--reporter", "部分", "--production-status", "正常", NULL};
    RUN(r, part, 0);
    it_cli_free(&r);
    IT_CHECK(reports(g_exact_longer, "部分") == 1);
    return 0;
}

static int credit_code_names_its_enterprise(void)
{
    it_cli r;
    const char *args[] = {"status", "submit", "--enterprise", g_code, "--date", "2024-05-09",
                          "--reporter", "代码", "--production-status", "正常", NULL};
    RUN(r, args, 0);
    it_cli_free(&r);
    IT_CHECK(reports(g_coded, "代码") == 1);
    /* Full-width, as a Chinese input method may type it. */
    char wide[19 * 3 + 1];
    size_t o = 0;
    for (size_t i = 0; g_code[i] != '\0'; i++) {
        unsigned cp = (unsigned char)g_code[i] + 0xfee0u;
        wide[o++] = (char)(0xe0 | (cp >> 12));
        wide[o++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        wide[o++] = (char)(0x80 | (cp & 0x3f));
    }
    wide[o] = '\0';
    const char *show_args[] = {"enterprise", "show", wide, NULL};
    RUN(r, show_args, 0);
    IT_CHECKF(strstr(r.out, "凭代码企业") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    /* A valid code nobody has: not found, exit 2. */
    char other[19];
    it_credit_code(7999, other);
    const char *none[] = {"enterprise", "show", other, NULL};
    RUN(r, none, 2);
    IT_CHECKF(strstr(r.err, other) != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return 0;
}

static int full_width_id_and_positional_name(void)
{
    char wide[64];
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)g_zlq);
    size_t o = 0;
    for (size_t i = 0; id[i] != '\0'; i++) {   /* ０..９ are EF BC 90..99 */
        wide[o++] = (char)0xef;
        wide[o++] = (char)0xbc;
        wide[o++] = (char)(0x90 + (id[i] - '0'));
    }
    wide[o] = '\0';
    it_cli r;
    const char *by_id[] = {"enterprise", "show", wide, NULL};
    RUN(r, by_id, 0);
    IT_CHECKF(strstr(r.out, "赵李桥砖茶厂") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    const char *by_name[] = {"enterprise", "show", "赵李桥砖茶厂", NULL};
    RUN(r, by_name, 0);
    IT_CHECKF(strstr(r.out, id) != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    return 0;
}

static int name_outside_the_scope_is_not_found(void)
{
    it_cli r;
    /* it_staff2 has 新店镇 only: 赵李桥砖茶厂 is not theirs to see. */
    const char *args[] = {"enterprise", "show", "赵李桥砖茶厂", NULL};
    const char *staff2[] = {"BAOBAO_USER=" IT_USER_STAFF2, NULL};
    IT_CHECK(run(&r, NULL, args, staff2, 2) == 0);
    IT_CHECKF(strstr(r.err, "赵李桥砖茶厂") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* 羊楼洞 is ambiguous for a supervisor, one enterprise for it_staff2. */
    const char *ylq[] = {"enterprise", "show", "羊楼洞", NULL};
    IT_CHECK(run(&r, NULL, ylq, staff2, 0) == 0);
    IT_CHECKF(strstr(r.out, "羊楼洞砖茶二厂") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    return 0;
}

static int users_units_and_officials_by_name(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);   /* a supervisor writes the directory */
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "unit.create", 1);
    it_kv_str(&b, "name", "输入测试局");
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    int64_t unit = -1;
    IT_CHECK(it_get_int(m.result, "id", &unit));
    it_msg_free(&m);
    it_req(&b, ++g_msgid, "official.create", 2);
    it_kv_str(&b, "name", "李输入");
    it_kv_int(&b, "unit_id", unit);
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    int64_t official = -1;
    IT_CHECK(it_get_int(m.result, "id", &official));
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)official);
    it_cli r;
    /* a unit_id filter by the unit's name */
    const char *list[] = {"--json", "official", "list", "--unit", "输入测试", NULL};
    RUN(r, list, 0);
    IT_CHECKF(strstr(r.out, "李输入") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    const char *get[] = {"official", "get", "李输入", NULL};
    RUN(r, get, 0);
    IT_CHECKF(strstr(r.out, oid) != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    /* users (admins only): the exact login it_staff beats it_staff2, which
     * contains it; the display name names it_staff2 */
    const char *admin[] = {"BAOBAO_USER=" IT_USER_ADMIN, NULL};
    char staff[24], staff2[24];
    snprintf(staff, sizeof staff, "%lld", (long long)it_user_id(IT_USER_STAFF));
    snprintf(staff2, sizeof staff2, "%lld", (long long)it_user_id(IT_USER_STAFF2));
    const char *by_login[] = {"--json", "user", "get", IT_USER_STAFF, NULL};
    IT_CHECK(run(&r, NULL, by_login, admin, 0) == 0);
    IT_CHECKF(strstr(r.out, "\"login\": \"" IT_USER_STAFF "\"") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    const char *by_name[] = {"--json", "user", "get", "测试乡镇二", NULL};
    IT_CHECK(run(&r, NULL, by_name, admin, 0) == 0);
    IT_CHECKF(strstr(r.out, "\"login\": \"" IT_USER_STAFF2 "\"") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    return 0;
}

static int too_many_candidates_are_cut(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* SHOW_MAX + 3 of one name part: the first SHOW_MAX listed, "3 more" */
    for (unsigned i = 0; i < SHOW_MAX + 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "多家同名企业%02u", i);
        IT_CHECK(make(c, 7200 + i, name, "赤壁镇") > 0);
    }
    /* more than SCAN_MAX: not even listed */
    for (unsigned i = 0; i < SCAN_MAX + 1; i++) {
        char name[64];
        snprintf(name, sizeof name, "海量企业%03u", i);
        IT_CHECK(make(c, 7300 + i, name, "赤壁镇") > 0);
    }
    it_close(c);
    it_cli r;
    const char *many[] = {"enterprise", "show", "多家同名企业", NULL};
    RUN(r, many, 2);
    IT_CHECKF(strstr(r.err, "多家同名企业19") != NULL && strstr(r.err, "多家同名企业20") == NULL &&
                  strstr(r.err, "3 more") != NULL,
              "expected %d listed and \"3 more\": %s", SHOW_MAX, r.err);
    it_cli_free(&r);
    const char *huge[] = {"enterprise", "show", "海量企业", NULL};
    RUN(r, huge, 2);
    IT_CHECKF(strstr(r.err, "too many") != NULL && strstr(r.err, "海量企业000") == NULL,
              "stderr: %s", r.err);
    it_cli_free(&r);
    /* an exact name among them is still found */
    const char *one[] = {"enterprise", "show", "海量企业007", NULL};
    RUN(r, one, 0);
    it_cli_free(&r);
    return 0;
}

/* ---- picking on a terminal ---- */

/* Runs `baobao ARGS` on a pseudo-terminal, typing answers[i] (a line, or
 * "\x04" for end of input) at the i-th "Pick one" prompt. *status: the
 * exit code (-1 when killed); out: everything the terminal showed. */
static int on_terminal(const char *const *args, const char *const *answers, size_t nanswers,
                       int *status, char *out, size_t cap)
{
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    char home[] = "/tmp/bb-input-XXXXXX";
    IT_CHECK(mkdtemp(home) != NULL);
    const char *argv[16] = {cli_bin};
    size_t n = 1;
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        setenv("BAOBAO_SERVER", g_server, 1);
        setenv("BAOBAO_USER", IT_USER_SUPER, 1);
        setenv("BAOBAO_PASSWORD", IT_PASSWORD, 1);
        setenv("BAOBAO_LANG", "en", 1);
        setenv("HOME", home, 1);
        setenv("XDG_CONFIG_HOME", "/nonexistent/baobao-itest-config", 1);
        unsetenv("BAOBAO_CONFIG");
        unsetenv("BAOBAO_NO_PROMPT");
        execv(cli_bin, (char *const *)(void *)argv);
        _exit(127);
    }
    size_t len = 0, asked = 0;
    const char *seen = out;
    out[0] = '\0';
    int64_t deadline = it_now_ms() + CLI_MS;
    for (;;) {
        int64_t left = deadline - it_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t k = read(master, out + len, cap - 1 - len);
        if (k <= 0)
            break;   /* EIO: the child closed the terminal */
        len += (size_t)k;
        out[len] = '\0';
        const char *prompt = strstr(seen, "Pick one");
        if (prompt != NULL && strstr(prompt, ": ") != NULL && asked < nanswers) {
            seen = strstr(prompt, ": ") + 2;
            it_sleep_ms(100);
            IT_CHECK(write(master, answers[asked], strlen(answers[asked])) ==
                     (ssize_t)strlen(answers[asked]));
            asked++;
        }
    }
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(master);
    char rm[64];
    snprintf(rm, sizeof rm, "%s", home);
    rmdir(rm);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    IT_CHECKF(asked == nanswers, "%zu of %zu answers typed; the terminal showed:\n%s", asked,
              nanswers, out);
    return 0;
}

static int terminal_pick_asks_again_until_a_valid_number(void)
{
    static char out[65536];
    const char *args[] = {"enterprise", "show", "羊楼洞砖茶", NULL};
    const char *answers[] = {"7\n", "二\n", "2\n"};
    int st;
    IT_CHECK(on_terminal(args, answers, 3, &st, out, sizeof out) == 0);
    char code[19];
    it_credit_code(7103, code);   /* 羊楼洞砖茶二厂, listed second (ids ascend) */
    if (st != 0 || strstr(out, code) == NULL)
        printf("  ---- terminal:\n%s\n  ----\n", out);
    IT_CHECKF(st == 0, "exit %d", st);
    IT_CHECKF(strstr(out, "Please type a number from 1 to 2") != NULL, "no second ask");
    IT_CHECKF(strstr(out, code) != NULL, "the record picked (2) was not shown");
    return 0;
}

/* A read command: a write on a terminal also asks for its optional values
 * (guided entry), which is not what this test is about. */
static int terminal_pick_cancelled_by_end_of_input(void)
{
    static char out[65536];
    const char *args[] = {"enterprise", "show", "羊楼洞", NULL};
    const char *answers[] = {"\x04"};
    int st;
    IT_CHECK(on_terminal(args, answers, 1, &st, out, sizeof out) == 0);
    char code1[19], code2[19];
    it_credit_code(7102, code1);
    it_credit_code(7103, code2);
    if (st != 2)
        printf("  ---- terminal:\n%s\n  ----\n", out);
    IT_CHECKF(st == 2, "exit %d, expected 2", st);
    /* The one wording of a cancel, as at guided entry's questions. */
    IT_CHECKF(strstr(out, "Cancelled: nothing was sent.") != NULL, "no word of the cancel: %s",
              out);
    IT_CHECKF(strstr(out, code1) == NULL && strstr(out, code2) == NULL,
              "a record was shown after the cancel: %s", out);
    return 0;
}

/* ---- the server's own check ---- */

static int server_refuses_blank_reporter_and_spaces_at_the_ends(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    static const char *const blank[] = {"\xe3\x80\x80", " \xe3\x80\x80 ", "\xc2\xa0", ""};
    it_buf b;
    it_buf_init(&b);
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        it_req(&b, ++g_msgid, "status.submit", 4);
        it_kv_int(&b, "enterprise_id", g_zlq);
        it_kv_str(&b, "report_date", "2024-05-11");
        it_kv_str(&b, "reporter", blank[i]);
        it_kv_str(&b, "production_status", "正常");
        IT_CHECK(it_buf_err(c, &b, g_msgid, "invalid_argument", "reporter") == 0);
    }
    /* An optional str of spaces is refused too (leave it out instead). */
    it_req(&b, ++g_msgid, "status.submit", 5);
    it_kv_int(&b, "enterprise_id", g_zlq);
    it_kv_str(&b, "report_date", "2024-05-11");
    it_kv_str(&b, "reporter", "张三");
    it_kv_str(&b, "production_status", "正常");
    it_kv_str(&b, "note", "\xe3\x80\x80\n");
    IT_CHECK(it_buf_err(c, &b, g_msgid, "invalid_argument", "note") == 0);
    /* One checked form: a space at either end is refused, never cut (the
     * client trims); spaces inside are the value's. */
    static const struct {
        const char *arg, *val;
    } ends[] = {
        {"reporter", " 王六"}, {"reporter", "王六\xe3\x80\x80"}, {"production_status", "正常 "},
        {"note", "备注\xc2\xa0"},
    };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        bool note = strcmp(ends[i].arg, "note") == 0;
        it_req(&b, ++g_msgid, "status.submit", note ? 5 : 4);
        it_kv_int(&b, "enterprise_id", g_zlq);
        it_kv_str(&b, "report_date", "2024-05-11");
        it_kv_str(&b, "reporter", strcmp(ends[i].arg, "reporter") == 0 ? ends[i].val : "王六");
        it_kv_str(&b, "production_status",
                  strcmp(ends[i].arg, "production_status") == 0 ? ends[i].val : "正常");
        if (note)
            it_kv_str(&b, "note", ends[i].val);
        IT_CHECK(it_buf_err(c, &b, g_msgid, "invalid_argument", ends[i].arg) == 0);
    }
    it_req(&b, ++g_msgid, "status.submit", 4);
    it_kv_int(&b, "enterprise_id", g_zlq);
    it_kv_str(&b, "report_date", "2024-05-11");
    it_kv_str(&b, "reporter", "王\xe3\x80\x80六");
    it_kv_str(&b, "production_status", "正常");
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "reporter", "王\xe3\x80\x80六"));
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    /* The CLI trims before it sends: stored as the server wants it. */
    it_cli r;
    const char *trim[] = {"status", "submit", "--enterprise", "赵李桥", "--date", "2024-05-12",
                          "--reporter", " 赵\xe3\x80\x80七\xe3\x80\x80",
                          "--production-status", "正常 ", NULL};
    RUN(r, trim, 0);
    it_cli_free(&r);
    IT_CHECK(reports(g_zlq, "赵\xe3\x80\x80七") == 1);
    /* A reporter of spaces only is blank once trimmed: the server's
     * refusal is exit 1. */
    const char *args[] = {"status", "submit", "--enterprise", "赵李桥", "--date", "2024-05-11",
                          "--reporter", "\xe3\x80\x80", "--production-status", "正常", NULL};
    RUN(r, args, 1);
    IT_CHECKF(strstr(r.err, "reporter") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)g_zlq);
    const char *p[] = {id};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND report_date = DATE '2024-05-11'", 1, p) == 1);   /* 王　六 only */
    return 0;
}

static const it_test tests[] = {
    {"submit_by_name_with_full_width_amount", submit_by_name_with_full_width_amount},
    {"amounts_in_every_form", amounts_in_every_form},
    {"repeated_array_elements_are_trimmed", repeated_array_elements_are_trimmed},
    {"today_from_an_unreachable_server_is_exit_3", today_from_an_unreachable_server_is_exit_3},
    {"every_date_form_stored_as_its_date", every_date_form_stored_as_its_date},
    {"server_fills_in_todays_report_date", server_fills_in_todays_report_date},
    {"ambiguous_name_lists_candidates_and_stores_nothing",
     ambiguous_name_lists_candidates_and_stores_nothing},
    {"exact_name_beats_partial", exact_name_beats_partial},
    {"credit_code_names_its_enterprise", credit_code_names_its_enterprise},
    {"full_width_id_and_positional_name", full_width_id_and_positional_name},
    {"name_outside_the_scope_is_not_found", name_outside_the_scope_is_not_found},
    {"users_units_and_officials_by_name", users_units_and_officials_by_name},
    {"too_many_candidates_are_cut", too_many_candidates_are_cut},
    {"terminal_pick_asks_again_until_a_valid_number",
     terminal_pick_asks_again_until_a_valid_number},
    {"terminal_pick_cancelled_by_end_of_input", terminal_pick_cancelled_by_end_of_input},
    {"server_refuses_blank_reporter_and_spaces_at_the_ends",
     server_refuses_blank_reporter_and_spaces_at_the_ends},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "cli_input", tests, sizeof tests / sizeof tests[0], setup);
}
