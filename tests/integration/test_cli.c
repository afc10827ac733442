/*
 * test_cli.c: the `baobao` command against a real server: adding an
 * enterprise with a Chinese name, submitting and listing status reports,
 * tables whose columns line up by display width (CJK counts 2), field
 * blocks whose values start in one column, --json that parses, the exit
 * codes of client/README.md (0 ok, 1 refused, 2 usage, 3 unreachable,
 * 4 internal) and --help on every command. Issue 4: logging in (every
 * command but `server info`), login_failed, no password without a
 * terminal, the config file refused unless private, flags > environment >
 * config file, the password prompt on a pseudo-terminal without echo,
 * `passwd`, and `user create|get|list|update|disable|enable|set-password`
 * as an admin, with a township staff user made by the CLI seeing only its
 * townships. Issue 11: Chinese and English (help, table headers, errors as
 * sentences naming the field, the allowed values of a refused one), how
 * the language is chosen, "did you mean", times in the server's zone.
 * Issue 12: records labelled in Chinese (报告日期, 创建时间), their keys
 * as they are in English and --json.
 *
 * Not for: the width tables themselves (tests/unit/test_table.c). The width
 * rule here is written independently of client/table.c on purpose.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MS 30000

static char g_server[64];
static unsigned long g_code_n = 8000;

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    return 0;
}

/* Runs the CLI against the shared server; prints its output on a bad exit. */
static int cli(it_cli *r, const char *const *args)
{
    it_server *s = it_shared_server();
    if (s != NULL)
        snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    return it_cli_run(r, g_server, CLI_MS, args);
}

/* The same with extra environment (it_cli_run_env). */
static int cli_env(it_cli *r, const char *const *args, const char *const *env)
{
    it_server *s = it_shared_server();
    if (s != NULL)
        snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    return it_cli_run_env(r, g_server, CLI_MS, args, env);
}

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status, r->out,
           r->err);
}

#define CLI_EXPECT_ENV(r, args, env, code)                                           \
    do {                                                                            \
        IT_CHECK(cli_env(&(r), (args), (env)) == 0);                                \
        if ((r).status != (code)) {                                                 \
            show(&(r), (args)[0]);                                                  \
            IT_CHECKF((r).status == (code), "exit %d, expected %d", (r).status, (code)); \
        }                                                                           \
    } while (0)

#define CLI_EXPECT(r, args, code)                                                   \
    do {                                                                            \
        IT_CHECK(cli(&(r), (args)) == 0);                                           \
        if ((r).status != (code)) {                                                 \
            show(&(r), (args)[0]);                                                  \
            IT_CHECKF((r).status == (code), "exit %d, expected %d", (r).status, (code)); \
        }                                                                           \
    } while (0)

/* ---- display width, independent of client/table.c ---- */

static unsigned next_cp(const char *s, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[*i];
    int n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    unsigned cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < n && u[*i + (size_t)k] != 0; k++)
        cp = (cp << 6) | (u[*i + (size_t)k] & 0x3f);
    *i += (size_t)n;
    return cp;
}

/* 2 for East Asian Wide/Fullwidth, 0 for combining marks, else 1. */
static int cp_width(unsigned cp)
{
    if ((cp >= 0x0300 && cp <= 0x036f) || cp == 0x200b)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
        (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x2fffd) ||
        (cp >= 0x30000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

#define MAX_LINES 256
#define MAX_COLS 1024

/*
 * Checks that text is a table of ncols columns laid out by display width:
 * the blank gutters (runs of >= 2 columns blank on every line) split it into
 * exactly ncols bands, and in each band every line's text starts at the
 * band's start (left-aligned) or ends at its end (right-aligned). A cell
 * padded by bytes or characters instead of columns shifts what follows on
 * its line and breaks one of the two.
 */
static int check_table(const char *text, size_t ncols, size_t expect_lines)
{
    static unsigned char occ[MAX_LINES][MAX_COLS];
    memset(occ, 0, sizeof occ);
    size_t nl = 0, maxw = 0;
    const char *p = text;
    while (*p != '\0' && nl < MAX_LINES) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t col = 0;
        for (size_t i = 0; i < len && col < MAX_COLS - 2;) {
            unsigned cp = next_cp(p, &i);
            int w = cp_width(cp);
            if (cp != ' ')
                for (int k = 0; k < w; k++)
                    occ[nl][col + (size_t)k] = 1;
            col += (size_t)w;
        }
        if (col > maxw)
            maxw = col;
        nl++;
        p = eol ? eol + 1 : p + len;
    }
    IT_CHECKF(nl == expect_lines, "%zu lines, expected %zu (header + rows)", nl, expect_lines);
    bool blank[MAX_COLS];
    size_t first = MAX_COLS, last = 0;
    for (size_t c = 0; c < maxw; c++) {
        blank[c] = true;
        for (size_t l = 0; l < nl; l++)
            if (occ[l][c])
                blank[c] = false;
        if (!blank[c]) {
            if (first == MAX_COLS)
                first = c;
            last = c;
        }
    }
    /* Bands between gutters. */
    size_t bs[64], be[64], nb = 0;
    size_t c = first;
    bs[0] = first;
    while (c <= last) {
        if (blank[c]) {
            size_t g = c;
            while (g <= last && blank[g])
                g++;
            if (g - c >= 2 && nb < 63) {
                be[nb++] = c;
                bs[nb] = g;
            }
            c = g;
        } else {
            c++;
        }
    }
    be[nb++] = last + 1;
    IT_CHECKF(nb == ncols, "the table splits into %zu columns by its blank gutters, expected %zu "
              "(a row whose wide characters were not counted as 2 shifts into a gutter)",
              nb, ncols);
    for (size_t b = 0; b < nb; b++) {
        bool left = true, right = true;
        for (size_t l = 0; l < nl; l++) {
            size_t f = MAX_COLS, e = 0;
            for (size_t k = bs[b]; k < be[b]; k++)
                if (occ[l][k]) {
                    if (f == MAX_COLS)
                        f = k;
                    e = k;
                }
            if (f == MAX_COLS)
                continue;   /* an empty cell */
            if (f != bs[b])
                left = false;
            if (e != be[b] - 1)
                right = false;
        }
        IT_CHECKF(left || right, "column %zu (display columns %zu-%zu) is neither left- nor "
                  "right-aligned on every line", b + 1, bs[b], be[b] - 1);
    }
    return 0;
}

/* "key: value" lines: every value starts at one display column. */
static int check_fields(const char *text, size_t min_lines)
{
    size_t n = 0, vcol = 0;
    const char *p = text;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        size_t col = 0, i = 0;
        bool seen_colon = false;
        /* display column of the first non-space after the first ':' */
        while (i < len) {
            size_t at = i;
            unsigned cp = next_cp(p, &i);
            if (seen_colon && cp != ' ') {
                (void)at;
                break;
            }
            if (cp == ':' && !seen_colon)
                seen_colon = true;
            col += (size_t)cp_width(cp);
        }
        if (seen_colon && p[0] != ' ') {
            if (n == 0)
                vcol = col;
            IT_CHECKF(col == vcol, "value of line %zu starts at display column %zu, others at %zu: "
                      "%.*s", n + 1, col, vcol, (int)len, p);
            n++;
        }
        p = eol ? eol + 1 : p + len;
    }
    IT_CHECKF(n >= min_lines, "%zu field lines, expected at least %zu", n, min_lines);
    return 0;
}

/* The value of "key: value" in a field block (malloc'd), NULL when absent. */
static char *field_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    const char *p = text;
    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == ':') {
            const char *v = p + kl + 1;
            while (*v == ' ')
                v++;
            return strndup(v, (size_t)(p + len - v));
        }
        p = eol ? eol + 1 : p + len;
    }
    return NULL;
}

/* Checks that text is JSON (python3's json module), and optionally that
 * json[key] == want. */
static int check_json(const char *text, const char *key, const char *want)
{
    char path[256];
    const char *dir = getenv("IT_LOG_DIR");
    snprintf(path, sizeof path, "%s/itest-cli-%d.json", dir ? dir : ".", (int)getpid());
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    const char *argv[] = {
        "python3", "-c",
        "import json,sys\n"
        "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "if len(sys.argv) > 3 and d.get(sys.argv[2]) != sys.argv[3]:\n"
        "    sys.exit('json[%r] is %r, expected %r' % (sys.argv[2], d.get(sys.argv[2]), sys.argv[3]))\n",
        path, key, want, NULL};
    if (key == NULL)
        argv[4] = NULL;
    it_cli r;
    IT_CHECK(it_run(&r, argv, CLI_MS) == 0);
    if (r.status != 0)
        show(&r, "python3 json check");
    IT_CHECKF(r.status == 0, "output is not the JSON expected");
    it_cli_free(&r);
    unlink(path);
    return 0;
}

/* enterprise add with a Chinese name; returns the id printed. */
static int add_enterprise(const char *name, const char *township, const char *cluster,
                          const char *label, long long *id)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *args[20] = {"enterprise", "add", "--name", name, "--credit-code", cc,
                            "--township", township};
    size_t n = 8;
    if (cluster) {
        args[n++] = "--cluster";
        args[n++] = cluster;
    }
    if (label) {
        args[n++] = "--label";
        args[n++] = label;
        args[n++] = "--label";
        args[n++] = "规上";
    }
    args[n] = NULL;
    it_cli r;
    CLI_EXPECT(r, args, 0);
    IT_CHECK(check_fields(r.out, 10) == 0);
    char *v = field_value(r.out, "name");
    IT_CHECKF(v != NULL && strcmp(v, name) == 0, "name printed as %s", v ? v : "(none)");
    free(v);
    v = field_value(r.out, "id");
    IT_CHECK(v != NULL);
    *id = atoll(v);
    free(v);
    IT_CHECK(*id > 0);
    const char *q[] = {cc, name};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1 AND name = $2", 2,
                       q) == 1);
    it_cli_free(&r);
    return 0;
}

static int help_on_every_command_exits_0(void)
{
    static const char *const cmds[][4] = {
        {"--help", NULL}, {"help", NULL}, {"server", "--help", NULL},
        {"server", "info", "--help", NULL}, {"enterprise", "--help", NULL},
        {"enterprise", "add", "--help", NULL}, {"enterprise", "show", "--help", NULL},
        {"enterprise", "list", "--help", NULL}, {"enterprise", "edit", "--help", NULL},
        {"status", "--help", NULL}, {"status", "submit", "--help", NULL},
        {"status", "list", "--help", NULL}, {"enterprise", "add", "-h", NULL},
        {"login", "--help", NULL}, {"whoami", "--help", NULL}, {"passwd", "--help", NULL},
        {"user", "--help", NULL}, {"user", "create", "--help", NULL},
        {"user", "get", "--help", NULL}, {"user", "list", "--help", NULL},
        {"user", "update", "--help", NULL}, {"user", "disable", "--help", NULL},
        {"user", "enable", "--help", NULL}, {"user", "set-password", "--help", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        it_cli r;
        /* No server needed: help must not connect. */
        IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, cmds[i]) == 0);
        if (r.status != 0 || r.outlen == 0)
            show(&r, cmds[i][0]);
        IT_CHECKF(r.status == 0, "`baobao %s %s %s` exit %d", cmds[i][0],
                  cmds[i][1] ? cmds[i][1] : "", cmds[i][1] && cmds[i][2] ? cmds[i][2] : "",
                  r.status);
        IT_CHECKF(strstr(r.out, "Usage") != NULL || strstr(r.out, "usage") != NULL,
                  "no usage text on stdout for `baobao %s %s`", cmds[i][0],
                  cmds[i][1] ? cmds[i][1] : "");
        it_cli_free(&r);
    }
    return 0;
}

static int enterprise_add_with_chinese_name_then_show(void)
{
    long long id;
    IT_CHECK(add_enterprise("住方科技（赤壁）有限公司", "赤壁镇", "电子信息", "高新技术企业", &id) ==
             0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *args[] = {"enterprise", "show", ids, NULL};
    it_cli r;
    CLI_EXPECT(r, args, 0);
    IT_CHECK(check_fields(r.out, 10) == 0);
    char *v = field_value(r.out, "labels");
    IT_CHECKF(v != NULL && strcmp(v, "高新技术企业, 规上") == 0, "labels printed as %s",
              v ? v : "(none)");
    free(v);
    v = field_value(r.out, "township");
    IT_CHECKF(v != NULL && strcmp(v, "赤壁镇") == 0, "township printed as %s", v ? v : "(none)");
    free(v);
    it_cli_free(&r);
    return 0;
}

static int enterprise_list_table_lines_up_by_display_width(void)
{
    long long id;
    /* Names of very different display widths, mixed scripts. */
    IT_CHECK(add_enterprise("凯利隆", "神山镇", "纺织服装", NULL, &id) == 0);
    IT_CHECK(add_enterprise("ABC Trading", "神山镇", NULL, "隐形冠军", &id) == 0);
    IT_CHECK(add_enterprise("诚森桦泰智能电子数码科技有限公司", "神山镇", "电子信息",
                            "专精特新\"小巨人\"", &id) == 0);
    IT_CHECK(add_enterprise("华润X电厂2号", "神山镇", "电力能源", NULL, &id) == 0);
    const char *args[] = {"enterprise", "list", "--township", "神山镇", NULL};
    it_cli r;
    CLI_EXPECT(r, args, 0);
    printf("%s", r.out);
    IT_CHECK(check_table(r.out, 8, 5) == 0);
    it_cli_free(&r);
    return 0;
}

static int status_submit_and_list_table_lines_up(void)
{
    long long id;
    IT_CHECK(add_enterprise("赤壁青砖茶业", "赵李桥镇", "青砖茶", NULL, &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    static const char *const reporters[] = {"李四", "欧阳建国", "Wang"};
    static const char *const notes[] = {"订单饱满\n缺工 12 人", "ok", "用电增容诉求已交办供电公司处理"};
    static const char *const values[] = {"1234567", "123.45万", "3亿元"};
    for (int i = 0; i < 3; i++) {
        char date[16];
        snprintf(date, sizeof date, "2024-0%d-15", i + 1);
        const char *args[] = {"status", "submit", "--enterprise", ids, "--date", date,
                              "--reporter", reporters[i], "--production-status",
                              i == 1 ? "半停产" : "正常", "--output-value", values[i],
                              "--employees", "250", "--shortage", "12", "--note", notes[i],
                              NULL};
        it_cli r;
        CLI_EXPECT(r, args, 0);
        IT_CHECK(check_fields(r.out, 9) == 0);
        it_cli_free(&r);
    }
    const char *q[] = {ids};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1", 1, q) == 3);
    IT_CHECK(it_pg_int("SELECT output_value FROM status_report WHERE enterprise_id = $1 "
                       "AND report_date = '2024-02-15'", 1, q) == 1234500);
    const char *args[] = {"status", "list", "--enterprise", ids, NULL};
    it_cli r;
    CLI_EXPECT(r, args, 0);
    printf("%s", r.out);
    IT_CHECK(check_table(r.out, 8, 4) == 0);
    it_cli_free(&r);
    return 0;
}

static int json_output_parses(void)
{
    long long id;
    IT_CHECK(add_enterprise("荟海药业 \"JSON\" 测试\\", "美丽健康产业园", "大健康", NULL, &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    it_cli r;
    const char *show_args[] = {"--json", "enterprise", "show", ids, NULL};
    CLI_EXPECT(r, show_args, 0);
    IT_CHECK(check_json(r.out, "name", "荟海药业 \"JSON\" 测试\\") == 0);
    it_cli_free(&r);
    const char *list_args[] = {"enterprise", "list", "--json", "--all", NULL};
    CLI_EXPECT(r, list_args, 0);
    IT_CHECK(check_json(r.out, NULL, NULL) == 0);
    it_cli_free(&r);
    const char *info_args[] = {"server", "info", "--json", NULL};
    CLI_EXPECT(r, info_args, 0);
    IT_CHECK(check_json(r.out, "name", "baobaod") == 0);
    it_cli_free(&r);
    const char *submit_args[] = {"--json", "status", "submit", "--enterprise", ids, "--date",
                                 "2024-05-05", "--reporter", "张三", "--production-status", "正常",
                                 "--note", "第一行\n第二行\t制表", NULL};
    CLI_EXPECT(r, submit_args, 0);
    IT_CHECK(check_json(r.out, "note", "第一行\n第二行\t制表") == 0);
    it_cli_free(&r);
    const char *slist_args[] = {"status", "list", "--enterprise", ids, "--json", NULL};
    CLI_EXPECT(r, slist_args, 0);
    IT_CHECK(check_json(r.out, NULL, NULL) == 0);
    it_cli_free(&r);
    return 0;
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static int exit_codes_follow_the_readme(void)
{
    it_cli r;
    /* 0 */
    const char *ok[] = {"server", "info", NULL};
    CLI_EXPECT(r, ok, 0);
    IT_CHECK(check_fields(r.out, 5) == 0);
    it_cli_free(&r);
    /* 1: refused by the server */
    const char *missing[] = {"enterprise", "show", "987654321", NULL};
    CLI_EXPECT(r, missing, 1);
    IT_CHECKF(strstr(r.err, "not_found") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    long long id;
    IT_CHECK(add_enterprise("重复代码企业", "车埠镇", NULL, NULL, &id) == 0);
    char cc[19];
    it_credit_code(g_code_n - 1, cc);
    const char *dup[] = {"enterprise", "add", "--name", "重复", "--credit-code", cc,
                         "--township", "车埠镇", NULL};
    CLI_EXPECT(r, dup, 1);
    IT_CHECKF(strstr(r.err, "already_exists") != NULL && strstr(r.err, "credit_code") != NULL,
              "stderr: %s", r.err);
    it_cli_free(&r);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *stale[] = {"enterprise", "edit", ids, "--version", "9", "--name", "改", NULL};
    CLI_EXPECT(r, stale, 1);
    IT_CHECKF(strstr(r.err, "version_conflict") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* 1 also for the client's own check of a credit code */
    const char *badcc[] = {"enterprise", "add", "--name", "x", "--credit-code",
                           "914403001922038217", "--township", "车埠镇", NULL};
    CLI_EXPECT(r, badcc, 1);
    it_cli_free(&r);
    /* 2: usage */
    const char *need[] = {"enterprise", "add", "--name", "缺参数", NULL};
    CLI_EXPECT(r, need, 2);
    it_cli_free(&r);
    const char *unknown[] = {"frobnicate", NULL};
    CLI_EXPECT(r, unknown, 2);
    it_cli_free(&r);
    const char *badnum[] = {"enterprise", "list", "--limit", "abc", NULL};
    CLI_EXPECT(r, badnum, 2);
    it_cli_free(&r);
    const char *badopt[] = {"status", "list", "--enterprise", ids, "--bogus", NULL};
    CLI_EXPECT(r, badopt, 2);
    it_cli_free(&r);
    /* 3: no server */
    int port = closed_port();
    IT_CHECK(port > 0);
    char dead[64];
    snprintf(dead, sizeof dead, "127.0.0.1:%d", port);
    const char *info[] = {"server", "info", NULL};
    IT_CHECK(it_cli_run(&r, dead, CLI_MS, info) == 0);
    if (r.status != 3)
        show(&r, "server info (no server)");
    IT_CHECKF(r.status == 3, "no server: exit %d, expected 3", r.status);
    it_cli_free(&r);
    const char *add_dead[] = {"--server", dead, "enterprise", "list", NULL};
    IT_CHECK(it_cli_run(&r, NULL, CLI_MS, add_dead) == 0);
    IT_CHECKF(r.status == 3, "--server to nothing: exit %d, expected 3", r.status);
    it_cli_free(&r);
    return 0;
}

static int internal_error_exits_4(void)
{
    IT_CHECK(it_pg_exec("CREATE OR REPLACE FUNCTION itest_boom() RETURNS trigger "
                        "LANGUAGE plpgsql AS $$ BEGIN "
                        "IF NEW.name = '触发内部错误' THEN RAISE EXCEPTION 'itest boom'; END IF; "
                        "RETURN NEW; END $$", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("CREATE TRIGGER itest_boom BEFORE INSERT ON enterprise "
                        "FOR EACH ROW EXECUTE FUNCTION itest_boom()", 0, NULL) == 0);
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *args[] = {"enterprise", "add", "--name", "触发内部错误", "--credit-code", cc,
                          "--township", "赤壁镇", NULL};
    it_cli r;
    IT_CHECK(cli(&r, args) == 0);
    int st = r.status;
    if (st != 4)
        show(&r, "enterprise add (internal)");
    bool says = strstr(r.err, "internal") != NULL;
    it_cli_free(&r);
    IT_CHECK(it_pg_exec("DROP TRIGGER itest_boom ON enterprise", 0, NULL) == 0);
    IT_CHECKF(st == 4, "internal: exit %d, expected 4", st);
    IT_CHECK(says);
    return 0;
}

/* ---- issue 4: logging in ---- */

#define NEW_PW "新密码-cli-2026"

/* A catalogue folder (BAOBAO_LOCALEDIR) whose zh_CN catalogue holds no
 * text at all, under test_dir(). */
#define EMPTY_MO_DIR "locale-empty"
#define EMPTY_MO EMPTY_MO_DIR "/zh_CN/LC_MESSAGES/baobao.mo"

/* A private folder for config files (and a HOME without one). */
static char g_dir[64];

/* Removes g_dir and what the tests put in it (config files hold the
 * test password). */
static void remove_test_dir(void)
{
    static const char *const files[] = {"config-open", "config-precedence", "config-tls",
                                        "xdg/baobao/config", "scope.json", "audit.json",
                                        "xdg/baobao", "xdg", EMPTY_MO, EMPTY_MO_DIR "/zh_CN/LC_MESSAGES",
                                        EMPTY_MO_DIR "/zh_CN", EMPTY_MO_DIR};
    char path[160];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, files[i]);
        if (unlink(path) != 0)
            rmdir(path);
    }
    rmdir(g_dir);
}

static const char *test_dir(void)
{
    if (g_dir[0] == '\0') {
        snprintf(g_dir, sizeof g_dir, "/tmp/itest-cli-XXXXXX");
        if (mkdtemp(g_dir) == NULL)
            return NULL;
        atexit(remove_test_dir);
    }
    return g_dir;
}

/* Writes a config file of mode `mode` and returns its path (static). */
static const char *write_config(const char *name, const char *text, mode_t mode)
{
    static char path[128];
    const char *d = test_dir();
    if (d == NULL)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", d, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return NULL;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    close(fd);
    if (!ok || chmod(path, mode) != 0)
        return NULL;
    return path;
}

/* Failed logins count against 127.0.0.1 too: forget them, so this binary's
 * deliberate failures never lock out the tests after them. */
static int forget_failures(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    return 0;
}

/* The first "key: value" line's value equals want. */
static int check_field(const char *text, const char *key, const char *want)
{
    char *v = field_value(text, key);
    IT_CHECKF(v != NULL && strcmp(v, want) == 0, "%s printed as \"%s\", expected \"%s\"", key,
              v ? v : "(none)", want);
    free(v);
    return 0;
}

static int login_prints_who_you_are(void)
{
    const char *args[] = {"login", NULL};
    it_cli r;
    CLI_EXPECT(r, args, 0);
    IT_CHECK(check_fields(r.out, 10) == 0);
    IT_CHECK(check_field(r.out, "login", IT_USER_SUPER) == 0);
    IT_CHECK(check_field(r.out, "role", "supervisor") == 0);
    IT_CHECK(check_field(r.out, "unit", "科信局") == 0);
    IT_CHECK(strstr(r.out, IT_PASSWORD) == NULL && strstr(r.err, IT_PASSWORD) == NULL);
    it_cli_free(&r);
    const char *who[] = {"whoami", "--json", NULL};
    const char *env[] = {"BAOBAO_USER=" IT_USER_STAFF, NULL};
    CLI_EXPECT_ENV(r, who, env, 0);
    IT_CHECK(check_json(r.out, "login", IT_USER_STAFF) == 0);
    IT_CHECK(check_json(r.out, "role", "township_staff") == 0);
    it_cli_free(&r);
    return 0;
}

static int wrong_password_is_login_failed_exit_1(void)
{
    const char *args[] = {"enterprise", "list", NULL};
    const char *env[] = {"BAOBAO_PASSWORD=not-the-password", NULL};
    it_cli r;
    CLI_EXPECT_ENV(r, args, env, 1);
    IT_CHECKF(strstr(r.err, "login_failed") != NULL, "stderr: %s", r.err);
    IT_CHECK(strstr(r.err, "not-the-password") == NULL);
    IT_CHECK(r.outlen == 0);
    it_cli_free(&r);
    /* An unknown login gets the very same answer. */
    const char *env2[] = {"BAOBAO_USER=no_such_user", NULL};
    CLI_EXPECT_ENV(r, args, env2, 1);
    IT_CHECKF(strstr(r.err, "login_failed") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return forget_failures();
}

static int no_password_and_no_terminal_is_a_usage_error(void)
{
    const char *d = test_dir();
    IT_CHECK(d != NULL);
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    char home[128], server[96];
    snprintf(home, sizeof home, "HOME=%s", d);
    snprintf(server, sizeof server, "BAOBAO_SERVER=%s", g_server);
    /* setsid: a new session has no controlling terminal, whatever the
     * terminal the tests were started from. */
    const char *argv[] = {"setsid", "-w", "env", "-u", "BAOBAO_PASSWORD", "-u", "BAOBAO_CONFIG",
                          "-u", "XDG_CONFIG_HOME", home, server, "BAOBAO_USER=" IT_USER_SUPER,
                          cli_bin, "whoami", NULL};
    it_cli r;
    IT_CHECK(it_run(&r, argv, CLI_MS) == 0);
    if (r.status != 2)
        show(&r, "whoami without a password");
    IT_CHECKF(r.status == 2, "exit %d, expected 2", r.status);
    IT_CHECKF(strstr(r.err, "no_credentials") != NULL && strstr(r.err, "BAOBAO_PASSWORD") != NULL &&
              strstr(r.err, "terminal") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* No user at all: the same exit code, a message naming the ways to give one. */
    const char *argv2[] = {"setsid", "-w", "env", "-u", "BAOBAO_USER", "-u", "BAOBAO_CONFIG",
                           "-u", "XDG_CONFIG_HOME", home, server, cli_bin, "whoami", NULL};
    IT_CHECK(it_run(&r, argv2, CLI_MS) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "--user") != NULL &&
              strstr(r.err, "BAOBAO_USER") != NULL, "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    /* server info needs neither. */
    const char *argv3[] = {"setsid", "-w", "env", "-u", "BAOBAO_USER", "-u", "BAOBAO_PASSWORD",
                           "-u", "BAOBAO_CONFIG", "-u", "XDG_CONFIG_HOME", home, server, cli_bin,
                           "server", "info", NULL};
    IT_CHECK(it_run(&r, argv3, CLI_MS) == 0);
    IT_CHECKF(r.status == 0, "server info without credentials: exit %d, stderr: %s", r.status,
              r.err);
    it_cli_free(&r);
    return 0;
}

static int config_file_is_refused_unless_private(void)
{
    const char *path = write_config("config-open", "# the staff's config\n"
                                    "user = " IT_USER_STAFF "\n"
                                    "password = " IT_PASSWORD "\n", 0644);
    IT_CHECK(path != NULL);
    char cfg[160];
    snprintf(cfg, sizeof cfg, "BAOBAO_CONFIG=%s", path);
    const char *env[] = {cfg, "BAOBAO_USER", "BAOBAO_PASSWORD", NULL};
    const char *args[] = {"whoami", NULL};
    it_cli r;
    CLI_EXPECT_ENV(r, args, env, 2);
    IT_CHECKF(strstr(r.err, path) != NULL && strstr(r.err, "0644") != NULL &&
              strstr(r.err, "chmod 600") != NULL, "stderr: %s", r.err);
    IT_CHECK(strstr(r.err, IT_PASSWORD) == NULL);
    it_cli_free(&r);
    /* Group-readable only is refused as well. */
    IT_CHECK(chmod(path, 0640) == 0);
    CLI_EXPECT_ENV(r, args, env, 2);
    IT_CHECKF(strstr(r.err, "0640") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* Private: used, user and password both from it. */
    IT_CHECK(chmod(path, 0600) == 0);
    CLI_EXPECT_ENV(r, args, env, 0);
    IT_CHECK(check_field(r.out, "login", IT_USER_STAFF) == 0);
    it_cli_free(&r);
    /* A missing default file is fine (HOME without one); a missing
     * $BAOBAO_CONFIG is not. */
    char home[128], missing[160];
    snprintf(home, sizeof home, "HOME=%s", test_dir());
    snprintf(missing, sizeof missing, "BAOBAO_CONFIG=%s/no-such-config", test_dir());
    const char *env_home[] = {home, "BAOBAO_CONFIG", "XDG_CONFIG_HOME", NULL};
    CLI_EXPECT_ENV(r, args, env_home, 0);
    it_cli_free(&r);
    const char *env_missing[] = {missing, NULL};
    CLI_EXPECT_ENV(r, args, env_missing, 2);
    IT_CHECKF(strstr(r.err, "no-such-config") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* The default place: $XDG_CONFIG_HOME/baobao/config. */
    char xdg_dir[128], xdg[160];
    snprintf(xdg_dir, sizeof xdg_dir, "%s/xdg", test_dir());
    mkdir(xdg_dir, 0700);
    snprintf(xdg, sizeof xdg, "%s/xdg/baobao", test_dir());
    mkdir(xdg, 0700);
    IT_CHECK(write_config("xdg/baobao/config", "user=" IT_USER_STAFF2 "\npassword=" IT_PASSWORD "\n",
                          0600) != NULL);
    snprintf(xdg, sizeof xdg, "XDG_CONFIG_HOME=%s", xdg_dir);
    const char *env_xdg[] = {xdg, "BAOBAO_CONFIG", "BAOBAO_USER", "BAOBAO_PASSWORD", NULL};
    CLI_EXPECT_ENV(r, args, env_xdg, 0);
    IT_CHECK(check_field(r.out, "login", IT_USER_STAFF2) == 0);
    it_cli_free(&r);
    return 0;
}

static int flag_beats_environment_beats_config_file(void)
{
    /* The file names a dead server and it_staff2; the environment the
     * live server and it_staff; the flag it_admin. */
    const char *path = write_config("config-precedence",
                                    "server = 127.0.0.1:1\n"
                                    "user = " IT_USER_STAFF2 "\n"
                                    "password = " IT_PASSWORD "\n", 0600);
    IT_CHECK(path != NULL);
    char cfg[160];
    snprintf(cfg, sizeof cfg, "BAOBAO_CONFIG=%s", path);
    const char *args[] = {"whoami", NULL};
    it_cli r;
    /* file only (but the server from the environment, as every test) */
    const char *env_file[] = {cfg, "BAOBAO_USER", "BAOBAO_PASSWORD", NULL};
    CLI_EXPECT_ENV(r, args, env_file, 0);
    IT_CHECK(check_field(r.out, "login", IT_USER_STAFF2) == 0);
    it_cli_free(&r);
    /* environment over file */
    const char *env_env[] = {cfg, "BAOBAO_USER=" IT_USER_STAFF, "BAOBAO_PASSWORD=" IT_PASSWORD,
                             NULL};
    CLI_EXPECT_ENV(r, args, env_env, 0);
    IT_CHECK(check_field(r.out, "login", IT_USER_STAFF) == 0);
    it_cli_free(&r);
    /* flag over environment */
    const char *flag[] = {"--user", IT_USER_ADMIN, "whoami", NULL};
    CLI_EXPECT_ENV(r, flag, env_env, 0);
    IT_CHECK(check_field(r.out, "login", IT_USER_ADMIN) == 0);
    it_cli_free(&r);
    /* the server: environment over file (the file's is dead) */
    const char *info[] = {"server", "info", NULL};
    CLI_EXPECT_ENV(r, info, env_file, 0);
    it_cli_free(&r);
    /* ... and the file's is used when nothing else names one */
    const char *env_noserver[] = {cfg, "BAOBAO_SERVER", NULL};
    IT_CHECK(it_cli_run_env(&r, NULL, CLI_MS, info, env_noserver) == 0);
    IT_CHECKF(r.status == 3, "server from the config file: exit %d, stderr: %s", r.status,
              r.err);
    it_cli_free(&r);
    return 0;
}

/* Runs `baobao whoami` on a pseudo-terminal with no password anywhere
 * else, types the password at the prompt, and checks it was not echoed. */
static int password_prompt_on_a_terminal_does_not_echo(void)
{
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL && test_dir() != NULL);
    fflush(stdout);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        setenv("BAOBAO_SERVER", g_server, 1);
        setenv("BAOBAO_USER", IT_USER_SUPER, 1);
        setenv("HOME", g_dir, 1);
        unsetenv("BAOBAO_PASSWORD");
        unsetenv("BAOBAO_CONFIG");
        unsetenv("XDG_CONFIG_HOME");
        execl(cli_bin, cli_bin, "whoami", (char *)NULL);
        _exit(127);
    }
    char out[16384];
    size_t len = 0;
    bool typed = false;
    int64_t deadline = it_now_ms() + CLI_MS;
    for (;;) {
        int64_t left = deadline - it_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t k = read(master, out + len, sizeof out - 1 - len);
        if (k <= 0)
            break;   /* EIO: the child closed the terminal */
        len += (size_t)k;
        out[len] = '\0';
        if (!typed && strstr(out, "Password for " IT_USER_SUPER ": ") != NULL) {
            /* Let the prompt's tcsetattr finish before typing. */
            it_sleep_ms(200);
            IT_CHECK(write(master, IT_PASSWORD "\n", strlen(IT_PASSWORD) + 1) ==
                     (ssize_t)strlen(IT_PASSWORD) + 1);
            typed = true;
        }
    }
    out[len] = '\0';
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(master);
    if (!typed || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        printf("  ---- terminal output:\n%s\n  ----\n", out);
    IT_CHECKF(typed, "no password prompt appeared on the terminal");
    IT_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "whoami on a terminal: status %d", st);
    IT_CHECKF(strstr(out, IT_PASSWORD) == NULL, "the password was echoed: %s", out);
    IT_CHECKF(strstr(out, "township") != NULL && strstr(out, IT_USER_SUPER "\r\n") != NULL,
              "no user printed after the prompt: %s", out);
    return 0;
}

/* The id printed in a field block. */
static long long printed_id(const char *text)
{
    char *v = field_value(text, "id");
    long long id = v != NULL ? atoll(v) : -1;
    free(v);
    return id;
}

static const char *const as_admin[] = {"BAOBAO_USER=" IT_USER_ADMIN, NULL};

/* Creates a user through the CLI as it_admin; returns its id or -1. */
static long long create_user(const char *login, const char *name, const char *role,
                             const char *unit, const char *township)
{
    const char *args[16] = {"user", "create", "--login", login, "--name", name, "--role", role};
    size_t n = 8;
    if (unit != NULL) {
        args[n++] = "--unit";
        args[n++] = unit;
    }
    if (township != NULL) {
        args[n++] = "--township";
        args[n++] = township;
    }
    args[n] = NULL;
    const char *env[] = {"BAOBAO_USER=" IT_USER_ADMIN, "BAOBAO_NEW_PASSWORD=" NEW_PW, NULL};
    it_cli r;
    if (cli_env(&r, args, env) != 0)
        return -1;
    long long id = r.status == 0 ? printed_id(r.out) : -1;
    if (id <= 0)
        show(&r, "user create");
    it_cli_free(&r);
    return id;
}

static int admin_creates_lists_gets_disables_users(void)
{
    long long id = create_user("cli_staff", "赵李桥镇包保专班", "township_staff", NULL,
                               "赵李桥镇");
    IT_CHECK(id > 0);
    const char *q[] = {"cli_staff"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM app_user WHERE login = $1 AND role = "
                       "'township_staff'", 1, q) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM app_user WHERE login = $1 AND password_hash LIKE "
                       "'$argon2id$%'", 1, q) == 1);
    long long sid = create_user("cli_super", "招商办 王主任", "supervisor", "招商办", NULL);
    IT_CHECK(sid > 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    it_cli r;
    const char *get[] = {"user", "get", ids, NULL};
    CLI_EXPECT_ENV(r, get, as_admin, 0);
    IT_CHECK(check_fields(r.out, 10) == 0);
    IT_CHECK(check_field(r.out, "login", "cli_staff") == 0);
    IT_CHECK(check_field(r.out, "display_name", "赵李桥镇包保专班") == 0);
    IT_CHECK(check_field(r.out, "townships", "赵李桥镇") == 0);
    IT_CHECK(check_field(r.out, "disabled", "no") == 0);
    IT_CHECK(strstr(r.out, "argon2") == NULL);
    it_cli_free(&r);
    /* list: a table by display width, the filters */
    const char *list[] = {"user", "list", NULL};
    CLI_EXPECT_ENV(r, list, as_admin, 0);
    printf("%s", r.out);
    long long nusers = it_pg_int("SELECT count(*) FROM app_user", 0, NULL);
    IT_CHECK(check_table(r.out, 8, (size_t)nusers + 1) == 0);
    IT_CHECK(strstr(r.out, "cli_super") != NULL && strstr(r.out, "招商办") != NULL);
    it_cli_free(&r);
    const char *by_town[] = {"user", "list", "--township", "赵李桥镇", "--json", NULL};
    CLI_EXPECT_ENV(r, by_town, as_admin, 0);
    IT_CHECK(check_json(r.out, NULL, NULL) == 0);
    IT_CHECK(strstr(r.out, "\"cli_staff\"") != NULL && strstr(r.out, "\"cli_super\"") == NULL);
    it_cli_free(&r);
    const char *by_role[] = {"user", "list", "--role", "supervisor", "--all", NULL};
    CLI_EXPECT_ENV(r, by_role, as_admin, 0);
    IT_CHECK(strstr(r.out, "cli_super") != NULL && strstr(r.out, "cli_staff") == NULL);
    it_cli_free(&r);
    /* update with a version */
    const char *upd[] = {"user", "update", ids, "--version", "1", "--name", "赵李桥镇专班",
                         "--township", "赵李桥镇", "--township", "高新技术产业园区", NULL};
    CLI_EXPECT_ENV(r, upd, as_admin, 0);
    IT_CHECK(check_field(r.out, "display_name", "赵李桥镇专班") == 0);
    IT_CHECK(check_field(r.out, "version", "2") == 0);
    it_cli_free(&r);
    CLI_EXPECT_ENV(r, upd, as_admin, 1);   /* version 1 is stale now */
    IT_CHECKF(strstr(r.err, "version_conflict") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* the new user logs in with the password given at creation */
    const char *who[] = {"whoami", NULL};
    const char *as_staff[] = {"BAOBAO_USER=cli_staff", "BAOBAO_PASSWORD=" NEW_PW, NULL};
    CLI_EXPECT_ENV(r, who, as_staff, 0);
    IT_CHECK(check_field(r.out, "townships", "赵李桥镇, 高新技术产业园区") == 0);
    it_cli_free(&r);
    /* disable: login_failed; enable: back */
    const char *dis[] = {"user", "disable", ids, NULL};
    CLI_EXPECT_ENV(r, dis, as_admin, 0);
    IT_CHECK(check_field(r.out, "disabled", "yes") == 0);
    it_cli_free(&r);
    CLI_EXPECT_ENV(r, who, as_staff, 1);
    IT_CHECKF(strstr(r.err, "login_failed") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    IT_CHECK(forget_failures() == 0);
    const char *en[] = {"user", "enable", ids, NULL};
    CLI_EXPECT_ENV(r, en, as_admin, 0);
    IT_CHECK(check_field(r.out, "disabled", "no") == 0);
    it_cli_free(&r);
    CLI_EXPECT_ENV(r, who, as_staff, 0);
    it_cli_free(&r);
    /* set-password: the old one stops working, the new one works */
    const char *setpw[] = {"user", "set-password", ids, NULL};
    const char *setpw_env[] = {"BAOBAO_USER=" IT_USER_ADMIN,
                               "BAOBAO_NEW_PASSWORD=reset-by-admin-1", NULL};
    CLI_EXPECT_ENV(r, setpw, setpw_env, 0);
    it_cli_free(&r);
    const char *as_staff_new[] = {"BAOBAO_USER=cli_staff", "BAOBAO_PASSWORD=reset-by-admin-1",
                                  NULL};
    CLI_EXPECT_ENV(r, who, as_staff_new, 0);
    it_cli_free(&r);
    /* a supervisor may not manage users */
    CLI_EXPECT(r, list, 1);
    IT_CHECKF(strstr(r.err, "forbidden") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* a password too short is refused before sending */
    const char *create_short[] = {"user", "create", "--login", "cli_short", "--name", "短",
                                  "--role", "supervisor", NULL};
    const char *short_env[] = {"BAOBAO_USER=" IT_USER_ADMIN, "BAOBAO_NEW_PASSWORD=short", NULL};
    CLI_EXPECT_ENV(r, create_short, short_env, 1);
    IT_CHECKF(strstr(r.err, "password") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* a usage error: a missing --role */
    const char *create_bad[] = {"user", "create", "--login", "x", "--name", "x", NULL};
    CLI_EXPECT_ENV(r, create_bad, as_admin, 2);
    it_cli_free(&r);
    return 0;
}

static int passwd_changes_own_password(void)
{
    IT_CHECK(create_user("cli_pw", "改密码的人", "supervisor", "科信局", NULL) > 0);
    const char *args[] = {"passwd", NULL};
    const char *env[] = {"BAOBAO_USER=cli_pw", "BAOBAO_PASSWORD=" NEW_PW,
                         "BAOBAO_NEW_PASSWORD=changed-by-me-1", NULL};
    it_cli r;
    CLI_EXPECT_ENV(r, args, env, 0);
    IT_CHECK(strstr(r.out, "changed-by-me-1") == NULL);
    it_cli_free(&r);
    const char *who[] = {"login", NULL};
    const char *env_new[] = {"BAOBAO_USER=cli_pw", "BAOBAO_PASSWORD=changed-by-me-1", NULL};
    CLI_EXPECT_ENV(r, who, env_new, 0);
    IT_CHECK(check_field(r.out, "login", "cli_pw") == 0);
    it_cli_free(&r);
    return 0;
}

/* Needs the scope rules of issue 4 in the server (sql/006_scope_audit.sql). */
static int township_staff_made_by_cli_lists_only_its_townships(void)
{
    long long in_id, out_id;
    IT_CHECK(add_enterprise("赵李桥茶厂", "赵李桥镇", "青砖茶", NULL, &in_id) == 0);
    IT_CHECK(add_enterprise("新店茶厂", "新店镇", "青砖茶", NULL, &out_id) == 0);
    IT_CHECK(create_user("cli_zlq", "赵李桥镇", "township_staff", NULL, "赵李桥镇") > 0);
    const char *args[] = {"enterprise", "list", "--all", "--json", NULL};
    const char *env[] = {"BAOBAO_USER=cli_zlq", "BAOBAO_PASSWORD=" NEW_PW, NULL};
    it_cli r;
    CLI_EXPECT_ENV(r, args, env, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/scope.json", test_dir());
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs(r.out, f);
    fclose(f);
    it_cli_free(&r);
    char want[32];
    snprintf(want, sizeof want, "%lld", in_id);
    const char *py[] = {
        "python3", "-c",
        "import json,sys\n"
        "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "towns = {e['township'] for e in d['items']}\n"
        "ids = {e['id'] for e in d['items']}\n"
        "if towns != {'赵李桥镇'} or int(sys.argv[2]) not in ids:\n"
        "    sys.exit('township staff of 赵李桥镇 saw townships %r' % sorted(towns))\n",
        path, want, NULL};
    IT_CHECK(it_run(&r, py, CLI_MS) == 0);
    if (r.status != 0)
        show(&r, "scope check");
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    char oid[32];
    snprintf(oid, sizeof oid, "%lld", out_id);
    const char *show_out[] = {"enterprise", "show", oid, NULL};
    CLI_EXPECT_ENV(r, show_out, env, 1);
    IT_CHECKF(strstr(r.err, "not_found") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return 0;
}

/* The TLS settings reach bb_connect_with: against this plaintext server,
 * asking for TLS (flag, --ca, environment, config file) fails the
 * handshake with tls_failed, exit 3; the environment's "0" beats the
 * file's "1". The TLS conversation itself is test_tls.c's. */
static int tls_settings_reach_the_connection(void)
{
    const char *path = write_config("config-tls", "tls = 1\n", 0600);
    IT_CHECK(path != NULL);
    char cfg[160], ca[160];
    snprintf(cfg, sizeof cfg, "BAOBAO_CONFIG=%s", path);
    snprintf(ca, sizeof ca, "%s", path);   /* any file: the handshake fails first */
    const char *info[] = {"server", "info", NULL};
    const char *flag[] = {"--tls", "server", "info", NULL};
    const char *ca_flag[] = {"server", "info", "--ca", ca, NULL};
    const char *env_on[] = {"BAOBAO_TLS=1", NULL};
    const char *file_on[] = {cfg, NULL};
    const char *env_off_file_on[] = {cfg, "BAOBAO_TLS=0", NULL};
    it_cli r;
    const char *const *argvs[] = {flag, ca_flag, info, info};
    const char *const *envs[] = {NULL, NULL, env_on, file_on};
    for (size_t i = 0; i < 4; i++) {
        CLI_EXPECT_ENV(r, argvs[i], envs[i], 3);
        IT_CHECKF(strstr(r.err, "tls_failed") != NULL, "case %zu: stderr: %s", i, r.err);
        it_cli_free(&r);
    }
    CLI_EXPECT_ENV(r, info, env_off_file_on, 0);
    it_cli_free(&r);
    const char *bad[] = {"BAOBAO_TLS=maybe", NULL};
    CLI_EXPECT_ENV(r, info, bad, 2);
    it_cli_free(&r);
    return 0;
}

/* A server that is not this machine gets no password in plaintext unless
 * plaintext was asked for: the CLI refuses before connecting (exit 2). The
 * address is in TEST-NET-1 (RFC 5737): nothing answers there, so a CLI
 * that tried to connect would time out with exit 3 instead. */
static int plaintext_to_another_machine_is_refused(void)
{
    it_cli r;
    const char *args[] = {"enterprise", "list", NULL};
    IT_CHECK(it_cli_run(&r, "192.0.2.1:7420", CLI_MS, args) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "without TLS") != NULL &&
                  strstr(r.err, "BAOBAO_TLS=0") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    /* Loopback by name is this machine: no refusal (the login works). */
    const char *who[] = {"whoami", NULL};
    char srv[64];
    snprintf(srv, sizeof srv, "localhost:%d", it_shared_server()->port);
    IT_CHECK(it_cli_run(&r, srv, CLI_MS, who) == 0);
    IT_CHECKF(r.status == 0, "localhost: exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    return 0;
}

/* ---- commands from the method spec (issue 10) ---- */

static int call_runs_any_method_from_the_spec(void)
{
    it_cli r;
    const char *add[] = {"call", "unit.create", "--name", "规格调用局", NULL};
    IT_CHECK(cli(&r, add) == 0);
    if (r.status != 0)
        show(&r, "call unit.create");
    IT_CHECK(r.status == 0);
    IT_CHECK(check_field(r.out, "name", "规格调用局") == 0);
    it_cli_free(&r);

    const char *list[] = {"call", "unit.list", NULL};
    IT_CHECK(cli(&r, list) == 0);
    if (r.status != 0)
        show(&r, "call unit.list");
    IT_CHECK(r.status == 0);
    IT_CHECK(strstr(r.out, "NAME") != NULL);
    it_cli_free(&r);

    const char *json[] = {"call", "unit.list", "--name-contains", "规格调用", "--json", NULL};
    IT_CHECK(cli(&r, json) == 0);
    IT_CHECK(r.status == 0);
    IT_CHECK(strstr(r.out, "\"规格调用局\"") != NULL);
    IT_CHECK(strstr(r.out, "\"items\"") != NULL);
    it_cli_free(&r);

    /* A list answered whole (ref.list: {items, next} but not paged) is a
     * table too, not a record with nothing in it. */
    const char *refs[] = {"call", "ref.list", "--kind", "cluster", NULL};
    IT_CHECK(cli(&r, refs) == 0);
    if (r.status != 0)
        show(&r, "call ref.list");
    IT_CHECK(r.status == 0);
    IT_CHECKF(strstr(r.out, "VALUE") != NULL && strstr(r.out, "青砖茶") != NULL,
              "call ref.list printed: %s", r.out);
    it_cli_free(&r);

    /* `methods` lists the spec; an unknown method is a usage error. */
    const char *methods[] = {"methods", NULL};
    IT_CHECK(cli(&r, methods) == 0);
    IT_CHECK(r.status == 0);
    IT_CHECK(strstr(r.out, "unit.list") != NULL && strstr(r.out, "列出单位") != NULL);
    it_cli_free(&r);
    const char *bad[] = {"call", "unit.lsit", NULL};
    IT_CHECK(cli(&r, bad) == 0);
    IT_CHECK(r.status == 2);
    it_cli_free(&r);
    return 0;
}

static int mistyped_option_is_refused_with_the_valid_ones(void)
{
    static const char *const cmds[][6] = {
        {"unit", "list", "--name-contians", "x", NULL},
        {"call", "unit.list", "--name-contians", "x", NULL},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        it_cli r;
        IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, cmds[i]) == 0);
        IT_CHECKF(r.status == 2, "`baobao %s %s` exit %d", cmds[i][0], cmds[i][1], r.status);
        IT_CHECKF(strstr(r.err, "--name-contians") != NULL &&
                      strstr(r.err, "--name-contains") != NULL &&
                      strstr(r.err, "--limit") != NULL,
                  "no list of valid options: %s", r.err);
        it_cli_free(&r);
    }
    return 0;
}

static int help_of_a_mechanical_command_comes_from_the_spec(void)
{
    it_cli r;
    const char *h[] = {"unit", "list", "--help", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, h) == 0);
    IT_CHECK(r.status == 0);
    /* The option of argument name_contains, its doc and the summary. */
    IT_CHECK(strstr(r.out, "Usage") != NULL);
    IT_CHECK(strstr(r.out, "--name-contains") != NULL && strstr(r.out, "名称包含") != NULL);
    IT_CHECK(strstr(r.out, "列出单位") != NULL);
    it_cli_free(&r);

    /* Required arguments are marked, allowed values listed. */
    const char *c[] = {"assign", "create", "--help", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, c) == 0);
    IT_CHECK(r.status == 0);
    IT_CHECK(strstr(r.out, "(required)") != NULL && strstr(r.out, "联络员") != NULL);
    it_cli_free(&r);
    return 0;
}

/* The option names users know stay, over the spec's own: --label (repeated)
 * and --no-labels for labels, --enterprise/--date for status reports, and
 * a str cursor paged with --all. */
static int option_aliases_and_flags_reach_the_arguments(void)
{
    long long id;
    IT_CHECK(add_enterprise("别名测试企业", "车埠镇", NULL, "高新技术企业", &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    it_cli r;
    const char *relabel[] = {"enterprise", "edit", ids, "--version", "1", "--label", "专精特新",
                             "--label", "隐形冠军", NULL};
    CLI_EXPECT(r, relabel, 0);
    IT_CHECK(check_field(r.out, "labels", "专精特新, 隐形冠军") == 0);
    IT_CHECK(check_field(r.out, "version", "2") == 0);
    it_cli_free(&r);
    const char *unlabel[] = {"enterprise", "edit", ids, "--version", "2", "--no-labels", NULL};
    CLI_EXPECT(r, unlabel, 0);
    IT_CHECK(check_field(r.out, "labels", "-") == 0);
    it_cli_free(&r);
    /* the same argument under both its names is a usage error */
    const char *twice[] = {"enterprise", "edit", ids, "--version", "3", "--label", "a",
                           "--labels", "b", NULL};
    CLI_EXPECT(r, twice, 2);
    it_cli_free(&r);
    for (int i = 1; i <= 3; i++) {
        char date[16];
        snprintf(date, sizeof date, "2024-0%d-01", i);
        const char *sub[] = {"status", "submit", "--enterprise", ids, "--date", date,
                             "--reporter", "王五", "--production-status", "正常",
                             "--output-value", "1.5万", NULL};
        CLI_EXPECT(r, sub, 0);
        IT_CHECK(check_field(r.out, "output_value", "15,000 元 (1.5 万元)") == 0);
        it_cli_free(&r);
    }
    const char *all[] = {"status", "list", "--enterprise", ids, "--limit", "1", "--all", NULL};
    CLI_EXPECT(r, all, 0);
    IT_CHECK(check_table(r.out, 8, 4) == 0);
    it_cli_free(&r);
    /* not an amount of yuan, not an integer: usage errors before sending */
    const char *badmoney[] = {"status", "submit", "--enterprise", ids, "--date", "2024-04-01",
                              "--reporter", "王五", "--production-status", "正常",
                              "--output-value", "很多", NULL};
    CLI_EXPECT(r, badmoney, 2);
    it_cli_free(&r);
    const char *badint[] = {"problem", "list", "--enterprise", "x", NULL};
    CLI_EXPECT(r, badint, 2);
    it_cli_free(&r);
    return 0;
}

/* ---- review of the spec-driven client ---- */

/* A record prints every value whole (only table cells are cut): a note of
 * 2000 characters, the most the protocol allows, comes back entire. */
static int record_view_prints_long_values_whole(void)
{
    long long id;
    IT_CHECK(add_enterprise("长备注企业", "车埠镇", NULL, NULL, &id) == 0);
    char ids[32], note[2001];
    snprintf(ids, sizeof ids, "%lld", id);
    memset(note, 'n', sizeof note - 1);
    memcpy(note + sizeof note - 4, "END", 4);   /* 1997 'n' + "END" */
    it_cli r;
    const char *sub[] = {"status", "submit", "--enterprise", ids, "--date", "2024-06-01",
                         "--reporter", "长备注", "--production-status", "正常", "--note", note,
                         NULL};
    CLI_EXPECT(r, sub, 0);
    char *v = field_value(r.out, "note");
    IT_CHECKF(v != NULL && strcmp(v, note) == 0, "note printed with %zu bytes, sent 2000",
              v != NULL ? strlen(v) : 0);
    free(v);
    it_cli_free(&r);
    /* The table still cuts it (with "…"). */
    const char *list[] = {"status", "list", "--enterprise", ids, NULL};
    CLI_EXPECT(r, list, 0);
    IT_CHECK(strstr(r.out, "END") == NULL && strstr(r.out, "…") != NULL);
    it_cli_free(&r);
    return 0;
}

/* A relay to the shared server in a child process: the first connection
 * is dropped as soon as the client sends a request naming `drop` (none of
 * it reaches the server), every later one is relayed whole. Returns the
 * relay's port (*pid: the child), or -1. */
static int start_dropping_relay(const char *drop, pid_t *pid)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 8) != 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) != 0) {
        if (ls >= 0)
            close(ls);
        return -1;
    }
    int port = ntohs(sa.sin_port);
    struct sockaddr_in ta = sa;
    ta.sin_port = htons((uint16_t)it_shared_server()->port);
    fflush(stdout);
    *pid = fork();
    if (*pid < 0) {
        close(ls);
        return -1;
    }
    if (*pid > 0) {
        close(ls);
        return port;
    }
    bool dropped = false;
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            _exit(0);
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&ta, sizeof ta) != 0) {
            close(c);
            if (s >= 0)
                close(s);
            continue;
        }
        struct pollfd pf[2] = {{.fd = c, .events = POLLIN}, {.fd = s, .events = POLLIN}};
        static char buf[1 << 16];
        bool open_ = true;
        while (open_ && poll(pf, 2, CLI_MS) > 0) {
            for (int k = 0; k < 2 && open_; k++) {
                if (pf[k].revents == 0)
                    continue;
                ssize_t n = read(pf[k].fd, buf, sizeof buf);
                if (n <= 0) {
                    open_ = false;
                } else if (k == 0 && !dropped && memmem(buf, (size_t)n, drop, strlen(drop))) {
                    dropped = true;
                    open_ = false;
                } else {
                    for (ssize_t off = 0, w; open_ && off < n; off += w) {
                        w = write(pf[1 - k].fd, buf + off, (size_t)(n - off));
                        open_ = w > 0;
                    }
                }
            }
        }
        close(c);
        close(s);
    }
}

static void stop_relay(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* user set-password carries no idempotency key, but setting the same
 * password twice is harmless: after a dropped connection it is sent once
 * more on a new one, and the password is set. */
static int set_password_is_retried_after_a_dropped_connection(void)
{
    long long id = create_user("cli_retry", "重试的人", "supervisor", NULL, NULL);
    IT_CHECK(id > 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    pid_t pid = -1;
    int port = start_dropping_relay("user.set_password", &pid);
    IT_CHECK(port > 0);
    char relay[64];
    snprintf(relay, sizeof relay, "127.0.0.1:%d", port);
    const char *args[] = {"user", "set-password", ids, NULL};
    const char *env[] = {"BAOBAO_USER=" IT_USER_ADMIN, "BAOBAO_NEW_PASSWORD=after-retry-1",
                         NULL};
    it_cli r;
    int ran = it_cli_run_env(&r, relay, CLI_MS, args, env);
    stop_relay(pid);
    IT_CHECK(ran == 0);
    if (r.status != 0)
        show(&r, "user set-password through a dropping relay");
    IT_CHECKF(r.status == 0 && strstr(r.err, "retrying once") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    /* In Chinese the notice is Chinese too. */
    port = start_dropping_relay("user.set_password", &pid);
    IT_CHECK(port > 0);
    snprintf(relay, sizeof relay, "127.0.0.1:%d", port);
    const char *env_zh[] = {"BAOBAO_USER=" IT_USER_ADMIN, "BAOBAO_NEW_PASSWORD=after-retry-1",
                            "BAOBAO_LANG=zh", NULL};
    ran = it_cli_run_env(&r, relay, CLI_MS, args, env_zh);
    stop_relay(pid);
    IT_CHECK(ran == 0);
    IT_CHECKF(r.status == 0 && strstr(r.err, "正在重试一次") != NULL &&
                  strstr(r.err, "retrying once") == NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    const char *who[] = {"whoami", NULL};
    const char *as_new[] = {"BAOBAO_USER=cli_retry", "BAOBAO_PASSWORD=after-retry-1", NULL};
    CLI_EXPECT_ENV(r, who, as_new, 0);
    it_cli_free(&r);
    return 0;
}

/* audit.list's argument `user` is --by-user: --user stays the global
 * option (who logs in) on every command, `call` included. */
static int argument_named_like_a_global_option_is_by_name(void)
{
    it_cli r;
    const char *h[] = {"call", "audit.list", "--help", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, h) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "--by-user") != NULL, "help: %s", r.out);
    it_cli_free(&r);
    /* a write by the admin, then the admin's records only */
    const char *add[] = {"call", "unit.create", "--name", "审计筛选局", NULL};
    const char *admin_env[] = {"BAOBAO_USER=" IT_USER_ADMIN, NULL};
    CLI_EXPECT_ENV(r, add, admin_env, 0);
    it_cli_free(&r);
    const char *by[] = {"call", "audit.list", "--by-user", IT_USER_ADMIN, "--all", "--json",
                        NULL};
    CLI_EXPECT(r, by, 0);
    char path[256];
    snprintf(path, sizeof path, "%s/audit.json", test_dir());
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs(r.out, f);
    fclose(f);
    it_cli_free(&r);
    const char *py[] = {
        "python3", "-c",
        "import json,sys\n"
        "d = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "users = {a['user'] for a in d['items']}\n"
        "if users != {sys.argv[2]}:\n"
        "    sys.exit('audit.list --by-user gave the records of %r' % sorted(users))\n",
        path, IT_USER_ADMIN, NULL};
    IT_CHECK(it_run(&r, py, CLI_MS) == 0);
    if (r.status != 0)
        show(&r, "audit --by-user check");
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    unlink(path);
    /* --user after the command is still who logs in */
    const char *as_nobody[] = {"call", "audit.list", "--user", "no_such_user", NULL};
    CLI_EXPECT(r, as_nobody, 1);
    IT_CHECKF(strstr(r.err, "login_failed") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return forget_failures();
}

/* An array is one element per value: never cut at commas, an empty value
 * refused before sending (exit 2), removing every element said with
 * --no-labels. */
static int array_values_are_one_element_each(void)
{
    long long id;
    IT_CHECK(add_enterprise("数组标签企业", "车埠镇", NULL, "高新技术企业", &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    it_cli r;
    const char *empty[] = {"enterprise", "edit", ids, "--version", "1", "--label", "", NULL};
    CLI_EXPECT(r, empty, 2);
    IT_CHECKF(strstr(r.err, "--no-labels") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    const char *one_empty[] = {"enterprise", "edit", ids, "--version", "1", "--label", "规上",
                               "--label", "", NULL};
    CLI_EXPECT(r, one_empty, 2);
    it_cli_free(&r);
    const char *call_empty[] = {"call", "enterprise.update", "--id", ids, "--version", "1",
                                "--labels", "", NULL};
    CLI_EXPECT(r, call_empty, 2);
    it_cli_free(&r);
    /* nothing was sent: the labels and version are as they were */
    const char *show_args[] = {"enterprise", "show", ids, NULL};
    CLI_EXPECT(r, show_args, 0);
    IT_CHECK(check_field(r.out, "labels", "高新技术企业, 规上") == 0);
    IT_CHECK(check_field(r.out, "version", "1") == 0);
    it_cli_free(&r);
    /* "规上,高新技术企业" is one label (not a known one), never two */
    const char *comma[] = {"enterprise", "edit", ids, "--version", "1", "--label",
                           "规上,高新技术企业", "--json", NULL};
    IT_CHECK(cli(&r, comma) == 0);
    IT_CHECKF(r.status == 1 || (r.status == 0 && strstr(r.out, "\"规上,高新技术企业\"") != NULL),
              "exit %d, stdout: %s, stderr: %s", r.status, r.out, r.err);
    it_cli_free(&r);
    return 0;
}

/* baobao call takes a method's passwords from the environment or the
 * terminal, never from options; with neither, a usage error names the
 * command made for it. */
static int call_asks_for_passwords(void)
{
    long long id = create_user("cli_callpw", "调用改密", "supervisor", NULL, NULL);
    IT_CHECK(id > 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    it_cli r;
    const char *setpw[] = {"call", "user.set_password", "--id", ids, NULL};
    const char *env[] = {"BAOBAO_USER=" IT_USER_ADMIN, "BAOBAO_NEW_PASSWORD=set-by-call-1", NULL};
    CLI_EXPECT_ENV(r, setpw, env, 0);
    IT_CHECK(strstr(r.out, "set-by-call-1") == NULL && strstr(r.err, "set-by-call-1") == NULL);
    it_cli_free(&r);
    const char *who[] = {"whoami", NULL};
    const char *as_new[] = {"BAOBAO_USER=cli_callpw", "BAOBAO_PASSWORD=set-by-call-1", NULL};
    CLI_EXPECT_ENV(r, who, as_new, 0);
    it_cli_free(&r);
    /* no $BAOBAO_NEW_PASSWORD and no terminal (setsid: no controlling one) */
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    char server[96];
    snprintf(server, sizeof server, "BAOBAO_SERVER=%s", g_server);
    const char *argv[] = {"setsid", "-w", "env", "-u", "BAOBAO_NEW_PASSWORD", "-u",
                          "BAOBAO_CONFIG", server, "BAOBAO_USER=" IT_USER_ADMIN,
                          "BAOBAO_PASSWORD=" IT_PASSWORD, cli_bin, "call", "user.set_password",
                          "--id", ids, NULL};
    IT_CHECK(it_run(&r, argv, CLI_MS) == 0);
    if (r.status != 2)
        show(&r, "call user.set_password without a new password");
    IT_CHECKF(r.status == 2 && strstr(r.err, "user set-password") != NULL &&
                  strstr(r.err, "BAOBAO_NEW_PASSWORD") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    /* still the password set above */
    CLI_EXPECT_ENV(r, who, as_new, 0);
    it_cli_free(&r);
    return 0;
}

/* user disable / enable change `disabled` and nothing else: no option can
 * turn disable into enable or change the role; one already disabled is
 * left alone (nothing sent, the version stays). */
static int user_disable_changes_only_disabled(void)
{
    long long id = create_user("cli_switch", "停用开关", "supervisor", NULL, NULL);
    IT_CHECK(id > 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *admin_env[] = {"BAOBAO_USER=" IT_USER_ADMIN, NULL};
    it_cli r;
    const char *flip[] = {"user", "disable", ids, "--disabled", "false", NULL};
    CLI_EXPECT_ENV(r, flip, admin_env, 2);
    it_cli_free(&r);
    const char *role[] = {"user", "disable", ids, "--role", "admin", NULL};
    CLI_EXPECT_ENV(r, role, admin_env, 2);
    it_cli_free(&r);
    const char *q[] = {"cli_switch"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM app_user WHERE login = $1 AND NOT disabled "
                       "AND role = 'supervisor' AND version = 1", 1, q) == 1);
    const char *dis[] = {"user", "disable", ids, NULL};
    CLI_EXPECT_ENV(r, dis, admin_env, 0);
    IT_CHECK(check_field(r.out, "disabled", "yes") == 0);
    IT_CHECK(check_field(r.out, "version", "2") == 0);
    it_cli_free(&r);
    CLI_EXPECT_ENV(r, dis, admin_env, 0);
    IT_CHECKF(strstr(r.err, "already disabled") != NULL && strstr(r.err, "nothing sent") != NULL,
              "stderr: %s", r.err);
    IT_CHECK(check_field(r.out, "disabled", "yes") == 0);
    IT_CHECK(check_field(r.out, "version", "2") == 0);
    it_cli_free(&r);
    const char *en[] = {"user", "enable", ids, NULL};
    CLI_EXPECT_ENV(r, en, admin_env, 0);
    IT_CHECK(check_field(r.out, "disabled", "no") == 0);
    IT_CHECK(check_field(r.out, "version", "3") == 0);
    it_cli_free(&r);
    CLI_EXPECT_ENV(r, en, admin_env, 0);
    IT_CHECKF(strstr(r.err, "already enabled") != NULL, "stderr: %s", r.err);
    IT_CHECK(check_field(r.out, "version", "3") == 0);
    it_cli_free(&r);
    return 0;
}

/* An integer is "-" or a digit first: strtoimax alone would skip a tab or
 * a newline before it. */
static int integers_start_with_a_digit_or_minus(void)
{
    /* Issue 11 (forgiving input): spaces at the ends (also U+3000) are
     * trimmed and full-width digits folded, so " 5", "5 " and "５" are 5;
     * a tab, a line feed, a plus sign, nothing or a lone minus are still
     * not numbers. */
    static const char *const bad[] = {"\t5", "\n5", "+5", "", "-", "5\t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it_cli r;
        const char *list[] = {"enterprise", "list", "--limit", bad[i], NULL};
        CLI_EXPECT(r, list, 2);
        it_cli_free(&r);
        const char *info[] = {"server", "info", "--timeout", bad[i], NULL};
        CLI_EXPECT(r, info, 2);
        it_cli_free(&r);
    }
    static const char *const good[] = {"5", " 5", "5 ", "\xe3\x80\x80" "5", "\xef\xbc\x95"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        it_cli r;
        const char *list[] = {"enterprise", "list", "--limit", good[i], NULL};
        CLI_EXPECT(r, list, 0);
        it_cli_free(&r);
    }
    return 0;
}

/* Help shows positional words as users type them (ENTERPRISE_ID), gives
 * them no option besides, and shows the placeholder on every name of an
 * option. */
static int help_shows_words_and_names_as_typed(void)
{
    it_cli r;
    const char *tg[] = {"trouble", "get", "--help", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, tg) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "trouble get ENTERPRISE_ID") != NULL &&
                  strstr(r.out, "enterprise_id") == NULL &&
                  strstr(r.out, "--enterprise-id") == NULL,
              "help: %s", r.out);
    it_cli_free(&r);
    const char *grp[] = {"trouble", "--help", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, grp) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "get ENTERPRISE_ID") != NULL, "help: %s", r.out);
    it_cli_free(&r);
    const char *ou[] = {"official", "update", "--help", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, ou) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "--unit ID") != NULL &&
                  strstr(r.out, "--unit-id ID") != NULL,
              "help: %s", r.out);
    it_cli_free(&r);
    /* the positional word has no option */
    const char *opt[] = {"unit", "get", "--id", "5", NULL};
    IT_CHECK(it_cli_run(&r, "127.0.0.1:1", CLI_MS, opt) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "unknown option \"--id\"") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    return 0;
}

/* ---- language (issue 11): Chinese and English, did you mean, times ---- */

/* The environment of a run in one language, free of the runner's own
 * locale settings (the harness passes the rest of its environment on). */
static const char *const ZH[] = {"BAOBAO_LANG=zh", "LC_ALL", "LC_MESSAGES", "LANGUAGE", NULL};
static const char *const EN[] = {"BAOBAO_LANG=en", "LC_ALL", "LC_MESSAGES", "LANGUAGE", NULL};

/* Runs args with env, expecting exit code; the output stays in *r. */
static int run_lang(it_cli *r, const char *const *args, const char *const *env, int code)
{
    IT_CHECK(cli_env(r, args, env) == 0);
    if (r->status != code) {
        show(r, args[0]);
        IT_CHECKF(r->status == code, "exit %d, expected %d", r->status, code);
    }
    return 0;
}

#define EXPECT_IN(hay, needle)                                                               \
    IT_CHECKF(strstr((hay), (needle)) != NULL, "\"%s\" not in:\n%s", (needle), (hay))
#define EXPECT_NOT_IN(hay, needle)                                                           \
    IT_CHECKF(strstr((hay), (needle)) == NULL, "\"%s\" unexpectedly in:\n%s", (needle), (hay))

/* The top help lists every command of the table and the global options,
 * in Chinese and in English; neither needs a server. */
static int top_help_in_chinese_and_english(void)
{
    it_cli r;
    const char *help[] = {"--help", NULL};
    IT_CHECK(run_lang(&r, help, ZH, 0) == 0);
    EXPECT_IN(r.out, "用法：baobao");
    EXPECT_IN(r.out, "全局选项");
    EXPECT_IN(r.out, "--lang zh|en");
    EXPECT_IN(r.out, "退出码");
    EXPECT_IN(r.out, "企业状态报告（走访 / 调度记录）");
    EXPECT_NOT_IN(r.out, "Global options");
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, help, EN, 0) == 0);
    EXPECT_IN(r.out, "Usage: baobao");
    EXPECT_IN(r.out, "Global options");
    EXPECT_IN(r.out, "--lang zh|en");
    EXPECT_IN(r.out, "Exit codes");
    EXPECT_NOT_IN(r.out, "全局选项");
    /* Every word of the command table, and the subcommands of a group. */
    static const char *const words[] = {
        "server info", "login", "logout", "whoami", "passwd", "todo", "enterprise add",
        "status submit|list", "user create", "project add", "unit create", "official create",
        "assign create", "problem create", "trouble set", "overdue milestones",
        "due milestones", "audit list", "export run", "import enterprises|status", "call",
        "methods", "completion"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s", words[i]);
        EXPECT_IN(r.out, line);
    }
    it_cli_free(&r);
    /* A group's help and a command's: the help's own words translated, the
     * spec's Chinese summaries as they are. */
    const char *group[] = {"status", "--help", NULL};
    IT_CHECK(run_lang(&r, group, ZH, 0) == 0);
    EXPECT_IN(r.out, "用法：baobao status 命令");
    EXPECT_IN(r.out, "填报企业状态");
    it_cli_free(&r);
    const char *cmd[] = {"status", "submit", "--help", NULL};
    IT_CHECK(run_lang(&r, cmd, ZH, 0) == 0);
    EXPECT_IN(r.out, "选项（来自方法规范）");
    EXPECT_IN(r.out, "--report-date DATE");
    EXPECT_IN(r.out, "（必填）");
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, cmd, EN, 0) == 0);
    EXPECT_IN(r.out, "Options (from the method spec)");
    EXPECT_IN(r.out, " (required)");
    it_cli_free(&r);
    return 0;
}

/* BAOBAO_LANG, --lang and the locale choose as the top help says:
 * --lang > $BAOBAO_LANG > $LC_ALL > $LC_MESSAGES > $LANG, zh_* Chinese.
 * Chinese works here although the machine has no zh_CN locale (CI). */
static int language_is_chosen_by_flag_environment_then_locale(void)
{
    static const struct {
        const char *env[6];
        const char *flag;   /* --lang, or NULL */
        bool zh;
    } cases[] = {
        {{"BAOBAO_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=zh_CN.UTF-8", NULL}, NULL,
         true},
        {{"BAOBAO_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=C.UTF-8", NULL}, NULL, false},
        {{"BAOBAO_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG", NULL}, NULL, false},
        {{"BAOBAO_LANG", "LC_ALL", "LC_MESSAGES=zh_CN.UTF-8", "LANGUAGE", "LANG=en_US.UTF-8",
          NULL}, NULL, true},
        {{"BAOBAO_LANG", "LC_ALL=C", "LC_MESSAGES", "LANGUAGE", "LANG=zh_CN.UTF-8", NULL}, NULL,
         false},
        {{"BAOBAO_LANG=en", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=zh_CN.UTF-8", NULL}, NULL,
         false},
        {{"BAOBAO_LANG=zh", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=C", NULL}, NULL, true},
        {{"BAOBAO_LANG=zh", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=C", NULL}, "en", false},
        {{"BAOBAO_LANG=en", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=C", NULL}, "zh", true},
        /* a BAOBAO_LANG of neither: the locale decides (and it is said) */
        {{"BAOBAO_LANG=fr", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=zh_CN.UTF-8", NULL},
         NULL, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* --lang after the command too: it is a global option. */
        const char *with_flag[] = {"frobnicate", "--lang", cases[i].flag, NULL};
        const char *without[] = {"frobnicate", NULL};
        it_cli r;
        IT_CHECK(run_lang(&r, cases[i].flag ? with_flag : without, cases[i].env, 2) == 0);
        bool zh = strstr(r.err, "没有“frobnicate”这个命令") != NULL;
        bool en = strstr(r.err, "unknown command \"frobnicate\"") != NULL;
        IT_CHECKF(zh == cases[i].zh && en == !cases[i].zh, "case %zu: %s expected:\n%s", i,
                  cases[i].zh ? "Chinese" : "English", r.err);
        it_cli_free(&r);
    }
    /* --lang names neither: a usage error, before anything else. */
    const char *bad[] = {"--lang", "fr", "server", "info", NULL};
    it_cli r;
    IT_CHECK(run_lang(&r, bad, EN, 2) == 0);
    EXPECT_IN(r.err, "--lang must be zh or en");
    it_cli_free(&r);
    const char *bad_after[] = {"server", "info", "--lang=xx", NULL};
    IT_CHECK(run_lang(&r, bad_after, ZH, 2) == 0);
    EXPECT_IN(r.err, "--lang 只能是 zh 或 en");
    it_cli_free(&r);
    return 0;
}

/* Chinese asked for while gettext does not use the catalogue (here: a
 * catalogue without this program's texts; also a machine with neither a
 * C.UTF-8 nor a zh_CN locale): all English, not a mix of English texts
 * and Chinese sentences, and said once when Chinese was asked for by
 * name ($BAOBAO_LANG, --lang), never for a user whose locale merely is
 * Chinese (every command would say it). */
static int chinese_without_a_usable_catalogue_is_english(void)
{
    char dir[128], path[192];
    snprintf(dir, sizeof dir, "%s/" EMPTY_MO_DIR, test_dir());
    IT_CHECK(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/zh_CN", dir);
    IT_CHECK(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/zh_CN/LC_MESSAGES", dir);
    IT_CHECK(mkdir(path, 0700) == 0);
    /* A GNU .mo of no strings: magic, revision 0, 0 strings, both tables
     * and the (empty) hash table at the header's end. */
    static const uint32_t empty[7] = {0x950412deu, 0, 0, 28, 28, 0, 28};
    snprintf(path, sizeof path, "%s/" EMPTY_MO, test_dir());
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    IT_CHECK(fwrite(empty, sizeof empty, 1, f) == 1 && fclose(f) == 0);
    char localedir[160], nowhere[176];
    snprintf(localedir, sizeof localedir, "BAOBAO_LOCALEDIR=%s", dir);
    snprintf(nowhere, sizeof nowhere, "BAOBAO_LOCALEDIR=%s/none", dir);
    static const char *const say = "speaking English";
    const char *cmd[] = {"frobnicate", NULL};
    const char *by_name[] = {"BAOBAO_LANG=zh", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "LANG=C",
                             localedir, NULL};
    const char *by_locale[] = {"BAOBAO_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE",
                               "LANG=zh_CN.UTF-8", localedir, NULL};
    const char *no_catalogue[] = {"BAOBAO_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE",
                                  "LANG=zh_CN.UTF-8", nowhere, NULL};
    it_cli r;
    IT_CHECK(run_lang(&r, cmd, by_name, 2) == 0);
    EXPECT_IN(r.err, "unknown command \"frobnicate\"");
    const char *first = strstr(r.err, say);
    IT_CHECKF(first != NULL && strstr(first + 1, say) == NULL,
              "not said once that it speaks English:\n%s", r.err);
    it_cli_free(&r);
    /* In English, a failure's words stay the wire's ("CODE: MESSAGE"). */
    const char *whoami[] = {"--server", "127.0.0.1:1", "whoami", NULL};
    const char *by_name_pw[] = {"BAOBAO_LANG=zh", "LC_ALL", "LC_MESSAGES", "LANGUAGE",
                                "LANG=C", localedir, "BAOBAO_USER=x", "BAOBAO_PASSWORD=y",
                                NULL};
    IT_CHECK(run_lang(&r, whoami, by_name_pw, 3) == 0);
    EXPECT_IN(r.err, "baobao: connect_failed: ");
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, cmd, by_locale, 2) == 0);
    EXPECT_IN(r.err, "unknown command \"frobnicate\"");
    EXPECT_NOT_IN(r.err, say);
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, cmd, no_catalogue, 2) == 0);
    EXPECT_IN(r.err, "unknown command \"frobnicate\"");
    EXPECT_NOT_IN(r.err, say);
    it_cli_free(&r);
    return 0;
}

/* A table's header in the user's language, lined up by display width in
 * both (Chinese headers are twice as wide per character). */
static int table_headers_in_chinese_and_english(void)
{
    long long id;
    IT_CHECK(add_enterprise("表头测试茶厂", "柳山湖镇", "青砖茶", NULL, &id) == 0);
    IT_CHECK(add_enterprise("Header Test Ltd", "柳山湖镇", NULL, "隐形冠军", &id) == 0);
    const char *args[] = {"enterprise", "list", "--township", "柳山湖镇", NULL};
    it_cli r;
    IT_CHECK(run_lang(&r, args, ZH, 0) == 0);
    printf("%s", r.out);
    EXPECT_IN(r.out, "编号");
    EXPECT_IN(r.out, "统一社会信用代码");
    EXPECT_IN(r.out, "产业集群");
    EXPECT_NOT_IN(r.out, "CREDIT_CODE");
    IT_CHECK(check_table(r.out, 8, 3) == 0);
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, args, EN, 0) == 0);
    EXPECT_IN(r.out, "CREDIT_CODE");
    EXPECT_NOT_IN(r.out, "统一社会信用代码");
    IT_CHECK(check_table(r.out, 8, 3) == 0);
    it_cli_free(&r);
    return 0;
}

/* A refused value: in Chinese a sentence naming the field by its spec doc
 * (报告日期 for report_date) with the code and field in brackets; in
 * English the wire's words as before. Both list the values allowed: the
 * current production statuses of the reference data (ref.list), and the
 * spec's own values of an argument that has them. */
static int errors_are_sentences_with_the_allowed_values(void)
{
    long long id;
    IT_CHECK(add_enterprise("错误提示茶厂", "赵李桥镇", "青砖茶", NULL, &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *future[] = {"status", "submit", "--enterprise", ids, "--date", "2999-01-01",
                            "--reporter", "张三", "--production-status", "正常", NULL};
    it_cli r;
    IT_CHECK(run_lang(&r, future, ZH, 1) == 0);
    EXPECT_IN(r.err, "baobao: 报告日期不能晚于今天。[invalid_argument report_date]\n");
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, future, EN, 1) == 0);
    EXPECT_IN(r.err, "baobao: invalid_argument: report_date: ");
    EXPECT_IN(r.err, "(field: report_date)\n");
    it_cli_free(&r);
    /* A value not in the reference data: the current values listed. */
    const char *status[] = {"status", "submit", "--enterprise", ids, "--date", "2024-01-01",
                            "--reporter", "张三", "--production-status", "关门", NULL};
    IT_CHECK(run_lang(&r, status, ZH, 1) == 0);
    EXPECT_IN(r.err, "生产状态");
    EXPECT_IN(r.err, "[invalid_argument production_status");
    EXPECT_IN(r.err, "baobao: 可选的值：正常、半停产、停产、在建");
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, status, EN, 1) == 0);
    EXPECT_IN(r.err, "(field: production_status)");
    EXPECT_IN(r.err, "baobao: allowed values: 正常, 半停产, 停产, 在建");
    it_cli_free(&r);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1", 1,
                       (const char *const[]){ids}) == 0);
    /* The spec's own values (ref.list's kind). */
    const char *kind[] = {"call", "ref.list", "--kind", "乡镇", NULL};
    IT_CHECK(run_lang(&r, kind, ZH, 1) == 0);
    EXPECT_IN(r.err, "[invalid_argument kind");
    EXPECT_IN(r.err, "baobao: 可选的值：township、township_kind、cluster、label");
    it_cli_free(&r);
    IT_CHECK(run_lang(&r, kind, EN, 1) == 0);
    EXPECT_IN(r.err, "baobao: allowed values: township, township_kind, cluster, label");
    it_cli_free(&r);
    /* Not found, named by the field's doc; the code stays for support. */
    const char *missing[] = {"enterprise", "show", "987654321", NULL};
    IT_CHECK(run_lang(&r, missing, ZH, 1) == 0);
    EXPECT_IN(r.err, "找不到");
    EXPECT_IN(r.err, "[not_found");
    it_cli_free(&r);
    /* Unreachable: the sentence, and the address in the brackets. */
    int port = closed_port();
    IT_CHECK(port > 0);
    char dead[64];
    snprintf(dead, sizeof dead, "127.0.0.1:%d", port);
    const char *info[] = {"--server", dead, "server", "info", NULL};
    IT_CHECK(run_lang(&r, info, ZH, 3) == 0);
    EXPECT_IN(r.err, "baobao: 连不上服务器。[connect_failed: ");
    EXPECT_IN(r.err, dead);
    it_cli_free(&r);
    return 0;
}

/* "Did you mean" for a command, a subcommand and an option, in both
 * languages; a word close to nothing gets no suggestion. */
static int mistyped_words_get_did_you_mean(void)
{
    static const struct {
        const char *args[6];
        const char *en, *zh;
    } cases[] = {
        {{"stauts", "list", NULL}, "unknown command \"stauts\" (did you mean status?)",
         "没有“stauts”这个命令（您是不是要输入 status？）"},
        {{"status", "sumbit", NULL}, "unknown subcommand \"sumbit\" (did you mean submit?)",
         "没有“sumbit”这个子命令（您是不是要输入 submit？）"},
        {{"status", "submit", "--enterprse", "1", NULL},
         "unknown option \"--enterprse\" (did you mean --enterprise? valid: ",
         "没有“--enterprse”这个选项（您是不是要输入 --enterprise？可用的选项："},
        {{"--jsno", "server", "info", NULL}, "unknown option \"--jsno\" (did you mean --json?)",
         "没有“--jsno”这个选项（您是不是要输入 --json？）"},
        {{"call", "enterprise.lsit", NULL}, "(did you mean enterprise.list",
         "（您是不是要输入 enterprise.list"},
        {{"frobnicate", NULL}, "unknown command \"frobnicate\"\n", "没有“frobnicate”这个命令\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        it_cli r;
        IT_CHECK(it_cli_run_env(&r, "127.0.0.1:1", CLI_MS, cases[i].args, EN) == 0);
        IT_CHECKF(r.status == 2, "case %zu: exit %d", i, r.status);
        EXPECT_IN(r.err, cases[i].en);
        it_cli_free(&r);
        IT_CHECK(it_cli_run_env(&r, "127.0.0.1:1", CLI_MS, cases[i].args, ZH) == 0);
        IT_CHECKF(r.status == 2, "case %zu: exit %d", i, r.status);
        EXPECT_IN(r.err, cases[i].zh);
        EXPECT_IN(r.err, "--help' 查看用法。");
        it_cli_free(&r);
    }
    return 0;
}

/* Instants (created_at, updated_at) are shown in the server's time_zone
 * (Asia/Shanghai here) as "YYYY-MM-DD HH:MM:SS", whatever the machine's
 * own zone (TZ=UTC); --json keeps the server's RFC 3339 UTC text. */
static int times_are_shown_in_the_server_time_zone(void)
{
    long long id;
    IT_CHECK(add_enterprise("时区测试茶厂", "赵李桥镇", "青砖茶", NULL, &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *args[] = {"enterprise", "show", ids, NULL};
    static const char *const zh_utc[] = {"BAOBAO_LANG=zh", "LC_ALL", "LC_MESSAGES", "LANGUAGE",
                                         "TZ=UTC", NULL};
    static const char *const en_utc[] = {"BAOBAO_LANG=en", "LC_ALL", "LC_MESSAGES", "LANGUAGE",
                                         "TZ=UTC", NULL};
    const char *const *envs[] = {zh_utc, en_utc};
    for (size_t k = 0; k < 2; k++) {
        it_cli r;
        IT_CHECK(run_lang(&r, args, envs[k], 0) == 0);
        /* In Chinese the line is labelled 创建时间 (labels.h). */
        char *v = field_value(r.out, k == 0 ? "创建时间" : "created_at");
        IT_CHECKF(v != NULL && strlen(v) == 19 && v[10] == ' ' && v[13] == ':',
                  "created_at shown as %s", v != NULL ? v : "(none)");
        const char *q[] = {ids, v};
        IT_CHECKF(it_pg_int("SELECT count(*) FROM enterprise WHERE id = $1 AND "
                            "to_char(created_at AT TIME ZONE 'Asia/Shanghai', "
                            "'YYYY-MM-DD HH24:MI:SS') = $2",
                            2, q) == 1,
                  "created_at %s is not the stored instant in Asia/Shanghai", v);
        IT_CHECKF(it_pg_int("SELECT count(*) FROM enterprise WHERE id = $1 AND "
                            "to_char(created_at AT TIME ZONE 'UTC', "
                            "'YYYY-MM-DD HH24:MI:SS') = $2",
                            2, q) == 0,
                  "created_at %s is shown in UTC", v);
        free(v);
        it_cli_free(&r);
    }
    const char *json[] = {"--json", "enterprise", "show", ids, NULL};
    it_cli r;
    IT_CHECK(run_lang(&r, json, zh_utc, 0) == 0);
    const char *at = strstr(r.out, "\"created_at\": \"");
    IT_CHECKF(at != NULL, "%s", r.out);
    at += strlen("\"created_at\": \"");
    IT_CHECKF(at[10] == 'T' && strchr(at, 'Z') != NULL && strchr(at, 'Z') - at == 26,
              "--json created_at is not the wire's RFC 3339 UTC text: %.40s", at);
    it_cli_free(&r);
    return 0;
}

/* Whether every line of a field block (a line that does not start with a
 * space: the others go on a value) is labelled without a Latin letter:
 * no protocol key left among Chinese labels. */
static int labels_all_chinese(const char *text)
{
    for (const char *p = text; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (p[0] != ' ' && colon != NULL)
            for (const char *c = p; c < colon; c++)
                IT_CHECKF(!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')),
                          "a label in English: %.*s\nin:\n%s", (int)len, p, text);
        p = eol ? eol + 1 : p + len;
    }
    return 0;
}

/* Records printed in Chinese are labelled in Chinese: a key an argument
 * names by the doc of the argument that sets it where such records are
 * made (报告日期, 填报人, 用工人数 - not status.correct's 新的用工人数), the
 * others (created_at, version, reason, ...) by the words of one table
 * (创建时间, 版本号, 原因); the User `baobao login` prints too. English
 * and --json keep the protocol's keys exactly. */
static int records_are_labelled_in_chinese(void)
{
    long long id;
    IT_CHECK(add_enterprise("标签测试茶厂", "车埠镇", "青砖茶", "重点企业", &id) == 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *submit[] = {"status", "submit", "--enterprise", ids, "--date", "2024-06-15",
                            "--reporter", "陈标签", "--production-status", "正常",
                            "--employees", "250", "--note", "第一行\n第二行", NULL};
    it_cli r;
    IT_CHECK(run_lang(&r, submit, ZH, 0) == 0);
    printf("%s", r.out);
    IT_CHECK(check_fields(r.out, 12) == 0);
    IT_CHECK(labels_all_chinese(r.out) == 0);
    IT_CHECK(check_field(r.out, "报告日期", "2024-06-15") == 0);
    IT_CHECK(check_field(r.out, "填报人", "陈标签") == 0);
    IT_CHECK(check_field(r.out, "生产状态", "正常") == 0);
    IT_CHECK(check_field(r.out, "企业编号", ids) == 0);
    IT_CHECK(check_field(r.out, "用工人数", "250") == 0);
    IT_CHECK(check_field(r.out, "版本号", "1") == 0);
    char *v = field_value(r.out, "创建时间");
    IT_CHECKF(v != NULL && strlen(v) == 19, "创建时间 printed as %s", v ? v : "(none)");
    free(v);
    v = field_value(r.out, "报告编号");
    IT_CHECK(v != NULL && atoll(v) > 0);
    char rid[32];
    snprintf(rid, sizeof rid, "%s", v);
    free(v);
    EXPECT_NOT_IN(r.out, "report_date:");
    EXPECT_NOT_IN(r.out, "created_at:");
    it_cli_free(&r);

    /* A correction's record: the fields as a report's, not as what the
     * correction sends. */
    const char *correct[] = {"status", "correct", rid, "--employees", "240", "--reason",
                             "核对人数", NULL};
    IT_CHECK(run_lang(&r, correct, ZH, 0) == 0);
    printf("%s", r.out);
    IT_CHECK(labels_all_chinese(r.out) == 0);
    IT_CHECK(check_field(r.out, "用工人数", "240") == 0);
    IT_CHECK(check_field(r.out, "原因", "核对人数") == 0);
    IT_CHECK(check_field(r.out, "版本号", "2") == 0);
    EXPECT_NOT_IN(r.out, "新的");
    EXPECT_NOT_IN(r.out, "修改所依据");
    it_cli_free(&r);

    /* The enterprise: its get method has no argument but id; the words
     * come from enterprise.create's. */
    const char *show[] = {"enterprise", "show", ids, NULL};
    IT_CHECK(run_lang(&r, show, ZH, 0) == 0);
    printf("%s", r.out);
    IT_CHECK(check_fields(r.out, 10) == 0);
    IT_CHECK(labels_all_chinese(r.out) == 0);
    IT_CHECK(check_field(r.out, "企业名称", "标签测试茶厂") == 0);
    IT_CHECK(check_field(r.out, "产业集群", "青砖茶") == 0);
    IT_CHECK(check_field(r.out, "标签", "重点企业, 规上") == 0);
    IT_CHECK(check_field(r.out, "经营状态", "在营") == 0);
    EXPECT_IN(r.out, "统一社会信用代码:");
    EXPECT_IN(r.out, "最后修改时间:");
    EXPECT_NOT_IN(r.out, "credit_code:");
    it_cli_free(&r);

    /* The User of a login, printed without its method: the table. */
    const char *login[] = {"login", NULL};
    IT_CHECK(run_lang(&r, login, ZH, 0) == 0);
    printf("%s", r.out);
    IT_CHECK(labels_all_chinese(r.out) == 0);
    IT_CHECK(check_field(r.out, "登录名", IT_USER_SUPER) == 0);
    IT_CHECK(check_field(r.out, "角色", "supervisor") == 0);
    it_cli_free(&r);

    /* English, and --json in Chinese: the keys as they are. */
    const char *get[] = {"status", "show", rid, NULL};
    IT_CHECK(run_lang(&r, get, EN, 0) == 0);
    IT_CHECK(check_field(r.out, "report_date", "2024-06-15") == 0);
    IT_CHECK(check_field(r.out, "reporter", "陈标签") == 0);
    IT_CHECK(check_field(r.out, "employees", "240") == 0);
    IT_CHECK(check_field(r.out, "reason", "核对人数") == 0);
    IT_CHECK(check_field(r.out, "version", "2") == 0);
    IT_CHECK(check_field(r.out, "id", rid) == 0);
    v = field_value(r.out, "created_at");
    IT_CHECKF(v != NULL && strlen(v) == 19, "created_at printed as %s", v ? v : "(none)");
    free(v);
    EXPECT_NOT_IN(r.out, "报告日期");
    EXPECT_NOT_IN(r.out, "创建时间");
    it_cli_free(&r);
    const char *json[] = {"--json", "status", "show", rid, NULL};
    IT_CHECK(run_lang(&r, json, ZH, 0) == 0);
    IT_CHECK(check_json(r.out, "report_date", "2024-06-15") == 0);
    EXPECT_NOT_IN(r.out, "报告日期");
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"help_on_every_command_exits_0", help_on_every_command_exits_0},
    {"enterprise_add_with_chinese_name_then_show", enterprise_add_with_chinese_name_then_show},
    {"enterprise_list_table_lines_up_by_display_width",
     enterprise_list_table_lines_up_by_display_width},
    {"status_submit_and_list_table_lines_up", status_submit_and_list_table_lines_up},
    {"json_output_parses", json_output_parses},
    {"exit_codes_follow_the_readme", exit_codes_follow_the_readme},
    {"internal_error_exits_4", internal_error_exits_4},
    {"login_prints_who_you_are", login_prints_who_you_are},
    {"wrong_password_is_login_failed_exit_1", wrong_password_is_login_failed_exit_1},
    {"no_password_and_no_terminal_is_a_usage_error",
     no_password_and_no_terminal_is_a_usage_error},
    {"config_file_is_refused_unless_private", config_file_is_refused_unless_private},
    {"flag_beats_environment_beats_config_file", flag_beats_environment_beats_config_file},
    {"password_prompt_on_a_terminal_does_not_echo",
     password_prompt_on_a_terminal_does_not_echo},
    {"admin_creates_lists_gets_disables_users", admin_creates_lists_gets_disables_users},
    {"passwd_changes_own_password", passwd_changes_own_password},
    {"township_staff_made_by_cli_lists_only_its_townships",
     township_staff_made_by_cli_lists_only_its_townships},
    {"tls_settings_reach_the_connection", tls_settings_reach_the_connection},
    {"plaintext_to_another_machine_is_refused", plaintext_to_another_machine_is_refused},
    {"call_runs_any_method_from_the_spec", call_runs_any_method_from_the_spec},
    {"mistyped_option_is_refused_with_the_valid_ones",
     mistyped_option_is_refused_with_the_valid_ones},
    {"help_of_a_mechanical_command_comes_from_the_spec",
     help_of_a_mechanical_command_comes_from_the_spec},
    {"option_aliases_and_flags_reach_the_arguments",
     option_aliases_and_flags_reach_the_arguments},
    {"record_view_prints_long_values_whole", record_view_prints_long_values_whole},
    {"set_password_is_retried_after_a_dropped_connection",
     set_password_is_retried_after_a_dropped_connection},
    {"argument_named_like_a_global_option_is_by_name",
     argument_named_like_a_global_option_is_by_name},
    {"array_values_are_one_element_each", array_values_are_one_element_each},
    {"call_asks_for_passwords", call_asks_for_passwords},
    {"user_disable_changes_only_disabled", user_disable_changes_only_disabled},
    {"integers_start_with_a_digit_or_minus", integers_start_with_a_digit_or_minus},
    {"help_shows_words_and_names_as_typed", help_shows_words_and_names_as_typed},
    {"top_help_in_chinese_and_english", top_help_in_chinese_and_english},
    {"language_is_chosen_by_flag_environment_then_locale",
     language_is_chosen_by_flag_environment_then_locale},
    {"chinese_without_a_usable_catalogue_is_english",
     chinese_without_a_usable_catalogue_is_english},
    {"table_headers_in_chinese_and_english", table_headers_in_chinese_and_english},
    {"errors_are_sentences_with_the_allowed_values",
     errors_are_sentences_with_the_allowed_values},
    {"mistyped_words_get_did_you_mean", mistyped_words_get_did_you_mean},
    {"times_are_shown_in_the_server_time_zone", times_are_shown_in_the_server_time_zone},
    {"records_are_labelled_in_chinese", records_are_labelled_in_chinese},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "cli", tests, sizeof tests / sizeof tests[0], setup);
}
