/*
 * test_guided.c: guided entry (client/guided.c) as a person meets it. The
 * real `baobao` runs on a pseudo-terminal against a real baobaod as the
 * township staff user, and the test types what a person would: with
 * BAOBAO_LANG=zh, `baobao status submit` and no flags asks in Chinese for
 * the enterprise (by its id, or a part of its name: several candidates
 * are listed and one is picked by number), the report date (Enter:
 * today), the reporter (Enter: the user's own name), the production
 * status (a number from the reference list) and the figures, then shows
 * a summary and asks to confirm; the report stored is checked in the
 * database. With some options given only the missing required values are
 * asked. A wrong answer is asked again. Declining, Ctrl-C and Ctrl-D
 * (at a question or at the choice among candidates) store nothing and
 * exit 2;
 * without a terminal the same command stays a usage error; English
 * prompts with BAOBAO_LANG=en; the history file is private, kept to
 * CLI_GUIDED_HISTORY_MAX answers, and its answers come back with Ctrl-P.
 *
 * Not for: the values themselves (test_cli.c, test_status_reports.c) or
 * finding records by name in general (the resolver's own tests).
 */
#include "harness.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MS 30000
/* client/guided.h CLI_GUIDED_HISTORY_MAX: the answers the history keeps. */
#define HISTORY_MAX 500
/* The terminal is wide, so that no prompt wraps. */
#define TERM_COLS 200

#define ENTERPRISE_NAME "测试赵李桥向导茶厂"
#define ENTERPRISE_PART "向导茶"   /* only ENTERPRISE_NAME has it */
#define OTHER_NAME "测试赵李桥向导砖厂"
#define COMMON_PART "向导"          /* both have it */
#define STAFF_NAME "测试乡镇一"   /* IT_USER_STAFF's display_name (harness.c) */

static char g_server[64];
static char g_dir[64];
static int64_t g_ent = -1;
static char g_ent_id[24];

static void remove_dir(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", dir);
    (void)!system(cmd);
}

static void remove_test_dir(void)
{
    if (g_dir[0] != '\0')
        remove_dir(g_dir);
}

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    snprintf(g_dir, sizeof g_dir, "/tmp/itest-guided-XXXXXX");
    IT_CHECK(mkdtemp(g_dir) != NULL);
    atexit(remove_test_dir);
    g_ent = it_shared_enterprise(9100, ENTERPRISE_NAME, "赵李桥镇");
    IT_CHECK(g_ent > 0);
    snprintf(g_ent_id, sizeof g_ent_id, "%lld", (long long)g_ent);
    IT_CHECK(it_shared_enterprise(9101, OTHER_NAME, "赵李桥镇") > 0);
    return 0;
}

/* The reports stored for the test's enterprise. */
static long long reports(void)
{
    const char *p[1] = {g_ent_id};
    return it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint", 1, p);
}

/* Withdraws (with SQL) the reports of the test's enterprise stored so far:
 * each test here stores today's report by the default reporter, which the
 * duplicate rule would refuse as a second one (test_duplicates.c). */
static int withdraw_earlier_reports(void)
{
    const char *p[1] = {g_ent_id};
    return it_pg_exec("UPDATE status_report SET withdrawn_at = now(), withdrawn_by = created_by,"
                      " reason = 'test_guided: a new test', version = version + 1"
                      " WHERE enterprise_id = $1::bigint AND withdrawn_at IS NULL",
                      1, p);
}

/* ---- the CLI on a pseudo-terminal ---- */

/* What the test waits for on the terminal, then types (send NULL: only
 * waits; PICK: the number that starts the line where expect showed, and
 * Enter, as a person picks from a numbered list whatever its order). */
#define PICK "\001pick"
typedef struct step {
    const char *expect;
    const char *send;
} step;

typedef struct term_run {
    int status;          /* exit code; -1 when killed by a signal or still running */
    int signal;          /* the signal that ended it, 0 when none */
    size_t steps_done;
    char out[65536];     /* everything the terminal showed */
    size_t len;
} term_run;

/* Reads what the terminal shows for up to ms (less when it closes). */
static bool read_some(int fd, term_run *r, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return true;
    ssize_t k = read(fd, r->out + r->len, sizeof r->out - 1 - r->len);
    if (k <= 0)
        return false;   /* EIO: the child closed the terminal */
    r->len += (size_t)k;
    r->out[r->len] = '\0';
    return true;
}

/*
 * Runs `baobao ARGS` on a new pseudo-terminal as IT_USER_STAFF with
 * BAOBAO_LANG=lang, HOME and XDG_STATE_HOME under the test's folder (state:
 * its own history folder), then the extra "NAME=value" env. For each step
 * waits until its expect shows after where the previous one did, then
 * types its send. Then waits for the end. 0 when it ran (look at r).
 */
static int run_term(const char *const *args, const char *lang, const char *state,
                    const char *const *env, const step *steps, size_t nsteps, term_run *r)
{
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    memset(r, 0, sizeof *r);
    r->status = -1;
    char state_dir[128];
    snprintf(state_dir, sizeof state_dir, "%s/%s", g_dir, state);
    fflush(stdout);
    int master;
    struct winsize ws = {.ws_row = 50, .ws_col = TERM_COLS};
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        setenv("BAOBAO_SERVER", g_server, 1);
        setenv("BAOBAO_USER", IT_USER_STAFF, 1);
        setenv("BAOBAO_PASSWORD", IT_PASSWORD, 1);
        setenv("BAOBAO_LANG", lang, 1);
        setenv("HOME", g_dir, 1);
        setenv("XDG_STATE_HOME", state_dir, 1);
        setenv("TERM", "dumb", 1);
        setenv("LANG", "C.UTF-8", 1);
        unsetenv("LC_ALL");
        unsetenv("BAOBAO_CONFIG");
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("BAOBAO_NO_PROMPT");
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            putenv((char *)(uintptr_t)env[i]);
        const char *argv[16] = {cli_bin};
        size_t n = 1;
        for (size_t i = 0; args[i] != NULL && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(cli_bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int64_t deadline = it_now_ms() + CLI_MS;
    size_t seen = 0;   /* output before this was matched already */
    bool open = true;
    while (open && r->steps_done < nsteps && it_now_ms() < deadline) {
        const step *s = &steps[r->steps_done];
        char *at = strstr(r->out + seen, s->expect);
        if (at == NULL) {
            open = read_some(master, r, 200);
            continue;
        }
        seen = (size_t)(at - r->out) + strlen(s->expect);
        char pick[24];
        const char *send = s->send;
        if (send != NULL && strcmp(send, PICK) == 0) {
            const char *line = at;
            while (line > r->out && line[-1] != '\n')
                line--;
            line += strspn(line, " \t");
            snprintf(pick, sizeof pick, "%.*s\r", (int)strspn(line, "0123456789"), line);
            send = pick;
        }
        if (send != NULL) {
            /* Let the prompt finish drawing before typing. */
            it_sleep_ms(100);
            IT_CHECK(write(master, send, strlen(send)) == (ssize_t)strlen(send));
        }
        r->steps_done++;
    }
    int st = 0;
    pid_t w = 0;
    while (open && (w = waitpid(pid, &st, WNOHANG)) == 0 && it_now_ms() < deadline)
        open = read_some(master, r, 200);
    while (read_some(master, r, 0) && r->len < sizeof r->out - 1 && it_now_ms() < deadline)
        ;   /* what is left */
    if (w == 0 && (w = waitpid(pid, &st, WNOHANG)) == 0) {
        int64_t until = it_now_ms() + 5000;
        while ((w = waitpid(pid, &st, WNOHANG)) == 0 && it_now_ms() < until)
            it_sleep_ms(50);
        if (w == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    }
    close(master);
    if (WIFEXITED(st))
        r->status = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
        r->signal = WTERMSIG(st);
    return 0;
}

/* Prints the terminal of a run that went wrong. */
static void show(const term_run *r, size_t nsteps, const step *steps)
{
    printf("  ---- terminal (exit %d, signal %d, %zu of %zu steps", r->status, r->signal,
           r->steps_done, nsteps);
    if (r->steps_done < nsteps)
        printf("; waiting for \"%s\"", steps[r->steps_done].expect);
    printf("):\n%s\n  ----\n", r->out);
}

#define RUN_TERM(r, args, lang, state, env, steps, code)                                     \
    do {                                                                                     \
        size_t n_ = sizeof(steps) / sizeof((steps)[0]);                                      \
        IT_CHECK(run_term((args), (lang), (state), (env), (steps), n_, &(r)) == 0);          \
        if ((r).steps_done != n_ || (r).status != (code))                                    \
            show(&(r), n_, (steps));                                                         \
        IT_CHECKF((r).steps_done == n_, "the terminal stopped at step %zu", (r).steps_done); \
        IT_CHECKF((r).status == (code), "exit %d (signal %d), expected %d", (r).status,      \
                  (r).signal, (code));                                                       \
    } while (0)

static const char *const submit[] = {"status", "submit", NULL};

/* The Chinese prompts of status submit (po/zh_CN.po). */
#define ZH_ENTERPRISE "企业（名称中的几个字，或编号）："
#define ZH_DATE "报告日期（如 2026-12-05；回车 = 今天）："
#define ZH_REPORTER "填报人（回车 = " STAFF_NAME "）："
#define ZH_STATUS "生产状态（填序号或名称）："
#define ZH_OUTPUT "产值（元）（可写 856万、1.2亿；回车跳过）："
#define ZH_EMPLOYEES "用工人数（回车跳过）："
#define ZH_SHORTAGE "缺工人数（回车跳过）："
#define ZH_NOTE "备注（回车跳过）："
#define ZH_CONFIRM "确认提交？[Y/n] "
#define ZH_CANCELLED "已取消，没有提交任何内容。"
/* The choice among candidates (the count after it depends on the tests
 * run before). */
#define ZH_PICK "请选择一个（1-"

/* The reports of the enterprise with these answers, stored today. */
static long long stored(const char *status, const char *output, const char *employees,
                        const char *note)
{
    const char *p[5] = {g_ent_id, status, output, employees, note};
    return it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                     " AND production_status = $2 AND output_value = $3::bigint"
                     " AND employees = $4::int AND labour_shortage IS NULL AND note = $5"
                     " AND reporter = '" STAFF_NAME "'"
                     " AND report_date = (now() AT TIME ZONE 'Asia/Shanghai')::date",
                     5, p);
}

/* Every question of status submit answered, the enterprise by id: Enter
 * takes today and the user's own name, "2" the second production status
 * (半停产, data/reference/chibi.sql), 856万 is 8,560,000 yuan; the summary
 * shows it all; Enter confirms; the report is stored as answered. */
static int guided_submit_stores_the_answers(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    char ent[32];
    snprintf(ent, sizeof ent, "%s\r", g_ent_id);
    const step steps[] = {
        {"请逐项填写", NULL},
        {ZH_ENTERPRISE, ent},
        {ZH_DATE, "\r"},
        {ZH_REPORTER, "\r"},
        {"1. 正常", NULL},
        {"2. 半停产", NULL},
        {ZH_STATUS, "2\r"},
        {ZH_OUTPUT, "856万\r"},
        {ZH_EMPLOYEES, "120\r"},
        {ZH_SHORTAGE, "\r"},
        {ZH_NOTE, "向导走访：一切正常\r"},
        {"将要提交：", NULL},
        {"半停产", NULL},
        {"8,560,000 元 (856 万元)", NULL},
        {ZH_CONFIRM, "\r"},
        {"创建时间", NULL},   /* the stored record, printed (labelled in Chinese) */
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s1", NULL, steps, 0);
    IT_CHECK(reports() == before + 1);
    IT_CHECKF(stored("半停产", "8560000", "120", "向导走访：一切正常") == 1,
              "no report stored with the answers:\n%s", r.out);
    /* The summary names the enterprise next to its id, and says today. */
    char named[128];
    snprintf(named, sizeof named, "%s（%s）", g_ent_id, ENTERPRISE_NAME);
    IT_CHECKF(strstr(r.out, named) != NULL, "no \"%s\" in the summary:\n%s", named, r.out);
    IT_CHECKF(strstr(r.out, "今天") != NULL, "the summary does not say today:\n%s", r.out);
    return 0;
}

/* The enterprise by a part of its name that two enterprises share: the
 * candidates are listed and the user picks one by its number; a status by
 * its name. */
static int guided_submit_finds_the_enterprise_by_name(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    const step steps[] = {
        {ZH_ENTERPRISE, COMMON_PART "\r"},
        {ENTERPRISE_NAME, PICK},
        {ZH_DATE, "\r"},
        {ZH_REPORTER, "\r"},
        {ZH_STATUS, "在建\r"},
        {ZH_OUTPUT, "1.2亿\r"},
        {ZH_EMPLOYEES, "8\r"},
        {ZH_SHORTAGE, "\r"},
        {ZH_NOTE, "按名称找到\r"},
        {ENTERPRISE_NAME, NULL},   /* in the summary */
        {ZH_CONFIRM, "是\r"},
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s2", NULL, steps, 0);
    IT_CHECKF(strstr(r.out, OTHER_NAME) != NULL, "the other candidate was not listed:\n%s",
              r.out);
    IT_CHECK(reports() == before + 1);
    IT_CHECKF(stored("在建", "120000000", "8", "按名称找到") == 1,
              "no report stored with the answers:\n%s", r.out);
    return 0;
}

/* Options given: only the required values that are missing are asked
 * (no date, no figures, no note), then the summary. The enterprise by a
 * unique part of its name, the amount in full-width digits. */
static int guided_asks_only_what_the_options_lack(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    const char *args[] = {"status", "submit", "--enterprise", ENTERPRISE_PART,
                          "--output-value", "８５６万", "--employees", "7", "--note", "一行",
                          NULL};
    const step steps[] = {
        {ZH_REPORTER, "\r"},
        {ZH_STATUS, "1\r"},
        {"将要提交：", NULL},
        {ENTERPRISE_NAME, NULL},
        {ZH_CONFIRM, "y\r"},
        {"创建时间", NULL},   /* the stored record */
    };
    term_run r;
    RUN_TERM(r, args, "zh", "s10", NULL, steps, 0);
    IT_CHECKF(strstr(r.out, "报告日期（") == NULL && strstr(r.out, "缺工人数（") == NULL,
              "asked more than what was missing:\n%s", r.out);
    IT_CHECK(reports() == before + 1);
    IT_CHECKF(stored("正常", "8560000", "7", "一行") == 1, "not stored:\n%s", r.out);
    return 0;
}

/* A wrong answer is asked again, with the reason: a number outside the
 * list, an amount that is not one, a required value left empty. */
static int guided_submit_asks_again_after_a_wrong_answer(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    char ent[32];
    snprintf(ent, sizeof ent, "%s\r", g_ent_id);
    const step steps[] = {
        {ZH_ENTERPRISE, "\r"},
        {"此项必填。", NULL},
        {ZH_ENTERPRISE, ent},
        {ZH_DATE, "\r"},
        {ZH_REPORTER, "\r"},
        {ZH_STATUS, "99\r"},
        {"请输入 1 到", NULL},
        {ZH_STATUS, "1\r"},
        {ZH_OUTPUT, "很多\r"},
        {"不是金额", NULL},
        {ZH_OUTPUT, "\r"},
        {ZH_EMPLOYEES, "-3\r"},
        {"请输入 0 到 1000000 之间的数。", NULL},
        {ZH_EMPLOYEES, "\r"},
        {ZH_SHORTAGE, "\r"},
        {ZH_NOTE, "\r"},
        {ZH_CONFIRM, "n\r"},
        {ZH_CANCELLED, NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s3", NULL, steps, 2);
    IT_CHECK(reports() == before);
    return 0;
}

/* Declined at the confirmation: nothing stored, exit 2. */
static int guided_submit_declined_stores_nothing(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    char ent[32];
    snprintf(ent, sizeof ent, "%s\r", g_ent_id);
    const step steps[] = {
        {ZH_ENTERPRISE, ent},
        {ZH_DATE, "\r"},
        {ZH_REPORTER, "\r"},
        {ZH_STATUS, "1\r"},
        {ZH_OUTPUT, "5万\r"},
        {ZH_EMPLOYEES, "\r"},
        {ZH_SHORTAGE, "\r"},
        {ZH_NOTE, "不要提交\r"},
        {ZH_CONFIRM, "n\r"},
        {ZH_CANCELLED, NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s4", NULL, steps, 2);
    IT_CHECK(reports() == before);
    return 0;
}

/* Ctrl-C at a prompt, and at the confirmation: the short message, exit 2
 * (not death by SIGINT), nothing stored. */
static int guided_submit_ctrl_c_stores_nothing(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    char ent[32];
    snprintf(ent, sizeof ent, "%s\r", g_ent_id);
    const step steps[] = {
        {ZH_ENTERPRISE, ent},
        {ZH_DATE, "\r"},
        {ZH_REPORTER, "\r"},
        {ZH_STATUS, "\x03"},
        {ZH_CANCELLED, NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s5", NULL, steps, 2);
    IT_CHECK(reports() == before);
    /* ... and at the confirmation too */
    const step at_confirm[] = {
        {ZH_ENTERPRISE, ent},
        {ZH_DATE, "\r"},
        {ZH_REPORTER, "\r"},
        {ZH_STATUS, "1\r"},
        {ZH_OUTPUT, "\r"},
        {ZH_EMPLOYEES, "\r"},
        {ZH_SHORTAGE, "\r"},
        {ZH_NOTE, "\r"},
        {ZH_CONFIRM, "\x03"},
        {ZH_CANCELLED, NULL},
    };
    RUN_TERM(r, submit, "zh", "s5", NULL, at_confirm, 2);
    IT_CHECK(reports() == before);
    return 0;
}

/* Ctrl-D at the first prompt: the same. */
static int guided_submit_ctrl_d_stores_nothing(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    const step steps[] = {
        {ZH_ENTERPRISE, "\x04"},
        {ZH_CANCELLED, NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s6", NULL, steps, 2);
    IT_CHECK(reports() == before);
    return 0;
}

/* Ctrl-D and Ctrl-C at the choice among the candidates of a name (guided
 * entry, and a name given as an option): the command ends with the short
 * message, exit 2, nothing stored; the question is not asked again. */
static int guided_pick_cancelled_stores_nothing(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    const step ctrl_d[] = {
        {ZH_ENTERPRISE, COMMON_PART "\r"},
        {ENTERPRISE_NAME, NULL},
        {ZH_PICK, "\x04"},
        {ZH_CANCELLED, NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "zh", "s13", NULL, ctrl_d, 2);
    IT_CHECK(reports() == before);
    const char *again = strstr(r.out, ZH_ENTERPRISE);
    IT_CHECKF(again != NULL && strstr(again + 1, ZH_ENTERPRISE) == NULL,
              "the enterprise was asked again after Ctrl-D:\n%s", r.out);
    const step ctrl_c[] = {
        {ZH_ENTERPRISE, COMMON_PART "\r"},
        {ENTERPRISE_NAME, NULL},
        {ZH_PICK, "\x03"},
        {ZH_CANCELLED, NULL},
    };
    RUN_TERM(r, submit, "zh", "s13", NULL, ctrl_c, 2);
    IT_CHECK(reports() == before);
    /* The name given as an option: the same question, the same end. */
    const char *args[] = {"status", "submit", "--enterprise", COMMON_PART, "--reporter", "某人",
                          "--production-status", "正常", NULL};
    const step opt_d[] = {
        {ENTERPRISE_NAME, NULL},
        {ZH_PICK, "\x04"},
        {ZH_CANCELLED, NULL},
    };
    RUN_TERM(r, args, "zh", "s13", NULL, opt_d, 2);
    IT_CHECK(reports() == before);
    return 0;
}

/* Without a terminal nothing is asked: a usage error, as before. */
static int without_a_terminal_missing_values_are_a_usage_error(void)
{
    IT_CHECK(withdraw_earlier_reports() == 0);
    long long before = reports();
    it_cli r;
    const char *env[] = {"BAOBAO_USER=" IT_USER_STAFF, "BAOBAO_LANG=zh", NULL};
    IT_CHECK(it_cli_run_env(&r, g_server, CLI_MS, submit, env) == 0);
    IT_CHECKF(r.status == 2, "exit %d, stderr: %s", r.status, r.err);
    IT_CHECKF(strstr(r.err, "--enterprise") != NULL, "stderr: %s", r.err);
    it_cli_free(&r);
    /* ... and on a terminal with BAOBAO_NO_PROMPT set */
    const step steps[] = {{"--enterprise", NULL}};
    const char *no_prompt[] = {"BAOBAO_NO_PROMPT=1", NULL};
    term_run t;
    RUN_TERM(t, submit, "zh", "s7", no_prompt, steps, 2);
    IT_CHECK(reports() == before);
    return 0;
}

/* In English the prompts are the arguments' names, with English hints. */
static int english_prompts(void)
{
    char ent[32];
    snprintf(ent, sizeof ent, "%s\r", g_ent_id);
    const step steps[] = {
        {"Please fill in the missing values (Ctrl-C cancels).", NULL},
        {"enterprise (a part of its name, or its id): ", ent},
        {"report date (e.g. 2026-12-05; Enter = today): ", "\r"},
        {"reporter (Enter = " STAFF_NAME "): ", "\r"},
        {"production status (its number or name): ", "\x04"},
        {"Cancelled: nothing was sent.", NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "en", "s8", NULL, steps, 2);
    return 0;
}

/* enterprise add with nothing given: the name, the credit code, the
 * township from a list of the staff user's own townships only (the
 * server would refuse the others), the cluster offered and skipped. */
static int guided_enterprise_add_offers_only_my_townships(void)
{
    char code[19], typed[24];
    it_credit_code(9102, code);
    snprintf(typed, sizeof typed, "%s\r", code);
    const char *args[] = {"enterprise", "add", NULL};
    const step steps[] = {
        {"企业名称：", "向导新建企业\r"},
        {"统一社会信用代码：", typed},
        {"赵李桥镇", NULL},
        {"高新技术产业园区", NULL},
        {"所在乡镇（街道、园区）（填序号或名称）：", "赵李桥\r"},
        {"产业集群（填序号或名称；回车跳过）：", "\r"},
        {ZH_CONFIRM, "\r"},
        {"向导新建企业", NULL},   /* the record, printed */
    };
    term_run r;
    RUN_TERM(r, args, "zh", "s11", NULL, steps, 0);
    IT_CHECKF(strstr(r.out, "新店镇") == NULL && strstr(r.out, "蒲圻街道") == NULL,
              "townships outside the user's were offered:\n%s", r.out);
    const char *p[1] = {code};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise e JOIN township t ON t.id = e.township_id"
                       " WHERE e.credit_code = $1 AND e.name = '向导新建企业'"
                       " AND t.name = '赵李桥镇' AND e.cluster IS NULL", 1, p) == 1);
    return 0;
}

/* Lines of a file, -1 when it cannot be read; *last gets the last one. */
static long count_lines(const char *path, char *last, size_t lastlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[512];
    long n = 0;
    last[0] = '\0';
    while (fgets(line, sizeof line, f) != NULL) {
        n++;
        line[strcspn(line, "\n")] = '\0';
        snprintf(last, lastlen, "%s", line);
    }
    fclose(f);
    return n;
}

/* The history: kept in a private file under a private folder that
 * baobao makes; a file of group- and world-readable answers is made
 * private, kept to HISTORY_MAX answers (the oldest go), its last answer
 * comes back with Ctrl-P, and a new answer is added at its end; a link
 * in its place is left alone, and so is a folder others may write to. */
static int history_is_private_bounded_and_recalled(void)
{
    char ent[32];
    snprintf(ent, sizeof ent, "%s\r", g_ent_id);
    const step first[] = {
        {"enterprise (a part of its name, or its id): ", ent},
        {"report date", "\x04"},
        {"Cancelled: nothing was sent.", NULL},
    };
    term_run r;
    RUN_TERM(r, submit, "en", "s9", NULL, first, 2);
    char dir[160], path[192], last[512];
    snprintf(dir, sizeof dir, "%s/s9/baobao", g_dir);
    snprintf(path, sizeof path, "%s/history", dir);
    struct stat st;
    IT_CHECK(stat(dir, &st) == 0);
    IT_CHECKF((st.st_mode & 0777) == 0700, "history folder mode %o",
              (unsigned)(st.st_mode & 0777));
    IT_CHECK(stat(path, &st) == 0);
    IT_CHECKF((st.st_mode & 0777) == 0600, "history mode %o", (unsigned)(st.st_mode & 0777));
    IT_CHECKF(count_lines(path, last, sizeof last) == 2, "history:\n%s", last);
    IT_CHECK_STR(last, g_ent_id);

    /* More answers than kept, readable by all, the newest an id. */
    FILE *f = fopen(path, "w");
    IT_CHECK(f != NULL);
    fprintf(f, "_HiStOrY_V2_\n");
    for (int i = 0; i < HISTORY_MAX + 100; i++)
        fprintf(f, "old%d\n", i);
    fprintf(f, "%s\n", g_ent_id);
    fclose(f);
    IT_CHECK(chmod(path, 0644) == 0);
    const step again[] = {
        {"enterprise (a part of its name, or its id): ", "\x10\r"},   /* Ctrl-P, Enter */
        {"report date", "2026-01-02\r"},   /* asked: the id came back */
        {"reporter", "\x04"},
        {"Cancelled: nothing was sent.", NULL},
    };
    RUN_TERM(r, submit, "en", "s9", NULL, again, 2);
    IT_CHECK(stat(path, &st) == 0);
    IT_CHECKF((st.st_mode & 0777) == 0600, "history mode %o", (unsigned)(st.st_mode & 0777));
    long n = count_lines(path, last, sizeof last);
    IT_CHECKF(n == HISTORY_MAX + 1, "history has %ld lines, expected %d", n, HISTORY_MAX + 1);
    IT_CHECK_STR(last, "2026-01-02");

    /* A history that is a link (to a file of someone else's, say) is
     * neither read nor written, and the user is told. */
    char target[160], linked[192];
    snprintf(target, sizeof target, "%s/not-history", g_dir);
    snprintf(dir, sizeof dir, "%s/s12/baobao", g_dir);
    snprintf(linked, sizeof linked, "%s/history", dir);
    f = fopen(target, "w");
    IT_CHECK(f != NULL);
    fprintf(f, "keep me\n");
    fclose(f);
    char parent[160];
    snprintf(parent, sizeof parent, "%s/s12", g_dir);
    IT_CHECK(mkdir(parent, 0700) == 0 && mkdir(dir, 0700) == 0);
    IT_CHECK(symlink(target, linked) == 0);
    const step linked_steps[] = {
        {"is not a private file of yours: no history kept", NULL},
        {"enterprise (a part of its name, or its id): ", ent},
        {"report date", "\x04"},
        {"Cancelled: nothing was sent.", NULL},
    };
    RUN_TERM(r, submit, "en", "s12", NULL, linked_steps, 2);
    IT_CHECKF(count_lines(target, last, sizeof last) == 1, "the linked file was written");
    IT_CHECK_STR(last, "keep me");

    /* A history folder others may write to (they could put a link of
     * theirs in place of the file at any time): no history is read or
     * kept there, and the user is told. */
    snprintf(parent, sizeof parent, "%s/s14", g_dir);
    snprintf(dir, sizeof dir, "%s/s14/baobao", g_dir);
    IT_CHECK(mkdir(parent, 0700) == 0 && mkdir(dir, 0700) == 0 && chmod(dir, 0777) == 0);
    const step open_dir_steps[] = {
        {"is not a private folder of yours: no history kept", NULL},
        {"enterprise (a part of its name, or its id): ", ent},
        {"report date", "\x04"},
        {"Cancelled: nothing was sent.", NULL},
    };
    RUN_TERM(r, submit, "en", "s14", NULL, open_dir_steps, 2);
    snprintf(path, sizeof path, "%s/history", dir);
    IT_CHECKF(access(path, F_OK) != 0, "a history was kept in a folder others may write to");
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"guided_submit_stores_the_answers", guided_submit_stores_the_answers},
        {"guided_submit_finds_the_enterprise_by_name", guided_submit_finds_the_enterprise_by_name},
        {"guided_asks_only_what_the_options_lack", guided_asks_only_what_the_options_lack},
        {"guided_submit_asks_again_after_a_wrong_answer",
         guided_submit_asks_again_after_a_wrong_answer},
        {"guided_submit_declined_stores_nothing", guided_submit_declined_stores_nothing},
        {"guided_submit_ctrl_c_stores_nothing", guided_submit_ctrl_c_stores_nothing},
        {"guided_submit_ctrl_d_stores_nothing", guided_submit_ctrl_d_stores_nothing},
        {"guided_pick_cancelled_stores_nothing", guided_pick_cancelled_stores_nothing},
        {"without_a_terminal_missing_values_are_a_usage_error",
         without_a_terminal_missing_values_are_a_usage_error},
        {"guided_enterprise_add_offers_only_my_townships",
         guided_enterprise_add_offers_only_my_townships},
        {"english_prompts", english_prompts},
        {"history_is_private_bounded_and_recalled", history_is_private_bounded_and_recalled},
    };
    return it_main(argc, argv, "guided", tests, sizeof tests / sizeof tests[0], setup);
}
