/*
 * test_audit_cli.c: `baobao audit list|show|as-of|logins` against a real
 * server: a change shown with who, when and a table of each field changed
 * before and after (in English, and in Chinese with the fields named as
 * the method spec names them), the list of changes newest first, a record
 * as it was, the login log for admins and refused for supervisors and
 * township staff, --json as the server answered.
 *
 * Not for: what the server stores in the trail or its filters
 * (test_audit.c), the printers' layout (test_cli.c).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MS 30000

static char g_server[64];
static uint32_t g_msgid = 10;
static int64_t g_eid, g_audit_update, g_audit_create;

static int run_cli(it_cli *r, const char *user, const char *lang, const char *const *args)
{
    it_server *s = it_shared_server();
    if (s != NULL)
        snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    char u[64], l[32];
    snprintf(u, sizeof u, "BAOBAO_USER=%s", user);
    snprintf(l, sizeof l, "BAOBAO_LANG=%s", lang);
    const char *env[] = {u, l, NULL};
    return it_cli_run_env(r, g_server, CLI_MS, args, env);
}

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status, r->out,
           r->err);
}

#define CLI_EXPECT(r, user, lang, args, code)                                          \
    do {                                                                                \
        IT_CHECK(run_cli(&(r), (user), (lang), (args)) == 0);                           \
        if ((r).status != (code)) {                                                     \
            show(&(r), (args)[1]);                                                      \
            it_cli_free(&(r));                                                          \
            IT_CHECKF(false, "exit status not %d", (code));                             \
        }                                                                               \
    } while (0)

/* The line of text that contains all of the words, in that order; NULL
 * when none does. Points into text (up to its newline). */
static const char *line_with(const char *text, const char *const *words, size_t n)
{
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
        const char *p = line;
        size_t i = 0;
        for (; i < n; i++) {
            const char *f = NULL;
            size_t wl = strlen(words[i]);
            for (const char *q = p; q + wl <= line + len; q++)
                if (memcmp(q, words[i], wl) == 0) {
                    f = q;
                    break;
                }
            if (f == NULL)
                break;
            p = f + wl;
        }
        if (i == n)
            return line;
        line = eol != NULL ? eol + 1 : NULL;
    }
    return NULL;
}

#define EXPECT_LINE(text, ...)                                                          \
    do {                                                                                \
        const char *const w_[] = {__VA_ARGS__};                                         \
        IT_CHECKF(line_with((text), w_, sizeof w_ / sizeof w_[0]) != NULL,              \
                  "no line with %s ... in:\n%s", w_[0], (text));                       \
    } while (0)

/* An enterprise created and renamed by it_super, and the ids of their
 * audit records. */
static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(940001, cc);
    g_eid = it_create_enterprise(c, "审计命令企业", cc, "赤壁镇");
    IT_CHECK(g_eid > 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.update", 4);
    it_kv_int(&b, "id", g_eid);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "name", "审计命令企业改名");
    static const char *const labels[] = {"规上"};
    it_kv_strs(&b, "labels", labels, 1);
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    char e[24];
    snprintf(e, sizeof e, "%" PRId64, g_eid);
    const char *p[] = {e};
    g_audit_update = it_pg_int("SELECT id FROM audit_log WHERE entity = 'enterprise'"
                               " AND entity_id = $1::bigint AND method = 'enterprise.update'",
                               1, p);
    g_audit_create = it_pg_int("SELECT id FROM audit_log WHERE entity = 'enterprise'"
                               " AND entity_id = $1::bigint AND method = 'enterprise.create'",
                               1, p);
    IT_CHECK(g_audit_update > g_audit_create && g_audit_create > 0);
    it_close(c);
    return 0;
}

static int audit_show_tables_each_field_before_and_after(void)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, g_audit_update);
    const char *args[] = {"audit", "show", id, NULL};
    it_cli r;
    CLI_EXPECT(r, IT_USER_SUPER, "en", args, 0);
    /* Who, what, which record. */
    EXPECT_LINE(r.out, "user", IT_USER_SUPER);
    EXPECT_LINE(r.out, "method", "enterprise.update");
    EXPECT_LINE(r.out, "entity", "enterprise");
    /* The fields changed: name, labels, updated_at, version. */
    EXPECT_LINE(r.out, "FIELD", "BEFORE", "AFTER");
    EXPECT_LINE(r.out, "name", "审计命令企业", "审计命令企业改名");
    EXPECT_LINE(r.out, "version", "1", "2");
    EXPECT_LINE(r.out, "labels", "-", "规上");
    IT_CHECKF(line_with(r.out, (const char *const[]){"credit_code"}, 1) == NULL,
              "a field that did not change is listed:\n%s", r.out);
    /* Times as the printers show them, never the wire's UTC form. */
    IT_CHECKF(strstr(r.out, "Z\n") == NULL && strstr(r.out, "T0") == NULL &&
                  strstr(r.out, "T1") == NULL && strstr(r.out, "T2") == NULL,
              "a time in the wire's form:\n%s", r.out);
    it_cli_free(&r);

    /* In Chinese: the action as the spec says it, the fields by their
     * names in the spec. */
    CLI_EXPECT(r, IT_USER_SUPER, "zh_CN", args, 0);
    EXPECT_LINE(r.out, "修改企业");
    EXPECT_LINE(r.out, "企业名称 (name)", "审计命令企业", "审计命令企业改名");
    EXPECT_LINE(r.out, "标签 (labels)", "规上");
    it_cli_free(&r);

    /* The create: nothing before. */
    snprintf(id, sizeof id, "%" PRId64, g_audit_create);
    CLI_EXPECT(r, IT_USER_SUPER, "en", args, 0);
    EXPECT_LINE(r.out, "name", "-", "审计命令企业");
    EXPECT_LINE(r.out, "credit_code", "-", "91421281");
    it_cli_free(&r);

    /* --json: the Audit as the server sent it. */
    const char *json[] = {"--json", "audit", "show", id, NULL};
    CLI_EXPECT(r, IT_USER_SUPER, "en", json, 0);
    IT_CHECKF(strstr(r.out, "\"method\": \"enterprise.create\"") != NULL &&
                  strstr(r.out, "\"before\": null") != NULL,
              "stdout: %s", r.out);
    it_cli_free(&r);

    /* No such record: refused, exit 1. */
    const char *none[] = {"audit", "show", "9000000000000000000", NULL};
    CLI_EXPECT(r, IT_USER_SUPER, "en", none, 1);
    IT_CHECKF(strstr(r.err, "not_found") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return 0;
}

static int audit_list_shows_the_changes_of_a_record_newest_first(void)
{
    char e[24];
    snprintf(e, sizeof e, "%" PRId64, g_eid);
    const char *args[] = {"audit", "list", "--entity", "enterprise", "--entity-id", e, NULL};
    it_cli r;
    CLI_EXPECT(r, IT_USER_ADMIN, "en", args, 0);
    char up[24], cr[24];
    snprintf(up, sizeof up, "%" PRId64, g_audit_update);
    snprintf(cr, sizeof cr, "%" PRId64, g_audit_create);
    EXPECT_LINE(r.out, "TIME", "BY", "ACTION", "RECORD");
    EXPECT_LINE(r.out, up, IT_USER_SUPER, "enterprise.update", "enterprise", e, "labels");
    EXPECT_LINE(r.out, cr, IT_USER_SUPER, "enterprise.create", "enterprise", e);
    const char *u = strstr(r.out, "enterprise.update"), *c = strstr(r.out, "enterprise.create");
    IT_CHECKF(u != NULL && c != NULL && u < c, "not newest first:\n%s", r.out);
    it_cli_free(&r);
    /* --by-user: another user's changes only (none by it_admin here). */
    const char *by[] = {"audit", "list", "--entity", "enterprise", "--entity-id", e,
                        "--by-user", IT_USER_ADMIN, NULL};
    CLI_EXPECT(r, IT_USER_SUPER, "en", by, 0);
    IT_CHECKF(strstr(r.out, "enterprise.update") == NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    /* A record as it was. */
    const char *as_of[] = {"audit", "as-of", "enterprise", e, "--at", "2999-01-01", NULL};
    CLI_EXPECT(r, IT_USER_SUPER, "en", as_of, 0);
    EXPECT_LINE(r.out, "name", "审计命令企业改名");
    it_cli_free(&r);
    /* Township staff may not read the trail. */
    const char *list[] = {"audit", "list", NULL};
    CLI_EXPECT(r, IT_USER_STAFF, "en", list, 1);
    IT_CHECKF(strstr(r.err, "forbidden") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    return 0;
}

static int login_log_for_admins_refused_for_others(void)
{
    /* A failed login to find. */
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    it_msg m;
    IT_CHECK(it_login(anon, IT_USER_STAFF2, "wrong-password", IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECK(m.is_error);
    it_msg_free(&m);
    it_close(anon);
    const char *args[] = {"audit", "logins", "--login", IT_USER_STAFF2, NULL};
    it_cli r;
    CLI_EXPECT(r, IT_USER_ADMIN, "en", args, 0);
    EXPECT_LINE(r.out, "TIME", "LOGIN", "ADDRESS", "OUTCOME");
    EXPECT_LINE(r.out, IT_USER_STAFF2, "127.0.0.1", "wrong password");
    it_cli_free(&r);
    const char *ok[] = {"audit", "logins", "--login", IT_USER_ADMIN, "--outcome", "ok", NULL};
    CLI_EXPECT(r, IT_USER_ADMIN, "en", ok, 0);
    EXPECT_LINE(r.out, IT_USER_ADMIN, "logged in");
    IT_CHECKF(strstr(r.out, "wrong password") == NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    const char *json[] = {"--json", "audit", "logins", "--login", IT_USER_STAFF2, NULL};
    CLI_EXPECT(r, IT_USER_ADMIN, "en", json, 0);
    IT_CHECKF(strstr(r.out, "\"outcome\": \"bad_password\"") != NULL, "stdout: %s", r.out);
    it_cli_free(&r);
    /* A value not allowed: refused (by the server, exit 1, or before
     * sending, exit 2), naming the option. */
    const char *bad[] = {"audit", "logins", "--outcome", "success", NULL};
    IT_CHECK(run_cli(&r, IT_USER_ADMIN, "en", bad) == 0);
    IT_CHECKF((r.status == 1 || r.status == 2) && strstr(r.err, "outcome") != NULL &&
                  strstr(r.err, "bad_password") != NULL && strstr(r.err, "bad_token") != NULL,
              "exit %d, stderr (the allowed values listed): %s", r.status, r.err);
    it_cli_free(&r);
    /* Supervisors and township staff: forbidden, exit 1. */
    const char *all[] = {"audit", "logins", NULL};
    CLI_EXPECT(r, IT_USER_SUPER, "en", all, 1);
    IT_CHECKF(strstr(r.err, "forbidden") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    CLI_EXPECT(r, IT_USER_STAFF, "en", all, 1);
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"audit_show_tables_each_field_before_and_after",
     audit_show_tables_each_field_before_and_after},
    {"audit_list_shows_the_changes_of_a_record_newest_first",
     audit_list_shows_the_changes_of_a_record_newest_first},
    {"login_log_for_admins_refused_for_others", login_log_for_admins_refused_for_others},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "audit_cli", tests, sizeof tests / sizeof tests[0], setup);
}
