/*
 * test_cli.c: the `baobao` command against a real server: adding an
 * enterprise with a Chinese name, submitting and listing status reports,
 * tables whose columns line up by display width (CJK counts 2), field
 * blocks whose values start in one column, --json that parses, the exit
 * codes of client/README.md (0 ok, 1 refused, 2 usage, 3 unreachable,
 * 4 internal) and --help on every command.
 *
 * Not for: the width tables themselves (tests/unit/test_table.c). The width
 * rule here is written independently of client/table.c on purpose.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
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

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status, r->out,
           r->err);
}

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

static const it_test tests[] = {
    {"help_on_every_command_exits_0", help_on_every_command_exits_0},
    {"enterprise_add_with_chinese_name_then_show", enterprise_add_with_chinese_name_then_show},
    {"enterprise_list_table_lines_up_by_display_width",
     enterprise_list_table_lines_up_by_display_width},
    {"status_submit_and_list_table_lines_up", status_submit_and_list_table_lines_up},
    {"json_output_parses", json_output_parses},
    {"exit_codes_follow_the_readme", exit_codes_follow_the_readme},
    {"internal_error_exits_4", internal_error_exits_4},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "cli", tests, sizeof tests / sizeof tests[0], setup);
}
