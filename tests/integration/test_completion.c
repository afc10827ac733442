/*
 * test_completion.c: the bash completion of `baobao` (client/cli_complete.c)
 * in a real bash. The script meson wrote is the one `baobao completion
 * bash` prints. A line is completed as bash does it (the script sourced,
 * COMP_WORDS, COMP_CWORD and COMP_LINE set, the completion function
 * called, COMPREPLY printed): commands, subcommands, options, the values
 * the spec allows, and reference values asked of a real server (with the
 * reference data of 赤壁市) as the user on the line, live (a value an admin
 * adds is offered, a retired one no more), logged in with the session
 * `baobao login` keeps or the password in the environment. The hidden
 * `completion values` never prompts (not even on a terminal), never prints
 * an error, and gives up after its own short timeout.
 *
 * Not for: what the options do (test_cli.c runs the commands).
 */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MS 30000
/* cli_complete.c's CLI_COMPLETE_TIMEOUT_MS (its test is below), and the
 * client's default timeout it replaces. */
#define COMPLETE_TIMEOUT_MS 2000
#define DEFAULT_TIMEOUT_MS 10000

static char g_server[64];
static char g_home[512];   /* an empty HOME: no stored session, no config */

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    const char *dir = getenv("IT_LOG_DIR");
    snprintf(g_home, sizeof g_home, "%s/completion-home-%d", dir ? dir : "/tmp", (int)getpid());
    IT_CHECKF(mkdir(g_home, 0700) == 0 || errno == EEXIST, "mkdir %s", g_home);
    return 0;
}

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: status %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status,
           r->out ? r->out : "", r->err ? r->err : "");
}

/*
 * Completes a line in a real bash with the script meson wrote sourced.
 * line: what was typed after the program; words: its words as bash cuts
 * them (also at "=" and ":"), NULL-ended, the last the one completed; the
 * program is the built baobao. The user is IT_USER_SUPER with the password
 * in the environment, the server the shared one; env: more for env(1),
 * "NAME=value" or "NAME" (unset), NULL-ended or NULL. r->out: the
 * candidates, one a line.
 */
static int complete(it_cli *r, const char *line, const char *const *words,
                    const char *const *env)
{
    static const char prog[] =
        "f=$1 line=$2; shift 2\n"
        "source \"$f\" || exit 97\n"
        "COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 ))\n"
        "COMP_LINE=$line; COMP_POINT=${#line}\n"
        "_baobao baobao \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
        "(( ${#COMPREPLY[@]} == 0 )) || printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    const char *bin = getenv("BAOBAO_CLI"), *script = getenv("BAOBAO_COMPLETION");
    IT_CHECKF(bin != NULL && script != NULL, "BAOBAO_CLI and BAOBAO_COMPLETION must be set");
    static char full[4096], home[600], server[100];
    snprintf(full, sizeof full, "%s %s", bin, line);
    snprintf(home, sizeof home, "HOME=%s", g_home);
    snprintf(server, sizeof server, "BAOBAO_SERVER=%s", g_server);
    const char *defaults[] = {home, "XDG_CONFIG_HOME=/nonexistent/baobao-itest-config", server,
                              "BAOBAO_USER=" IT_USER_SUPER, "BAOBAO_PASSWORD=" IT_PASSWORD};
    const char *argv[64];
    size_t n = 0;
    argv[n++] = "env";
    static const char *const unset[] = {"BAOBAO_CONFIG", "BAOBAO_TLS", "BAOBAO_CA",
                                        "BAOBAO_SERVER_NAME", "BAOBAO_LANG", "XDG_STATE_HOME"};
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) {
        argv[n++] = "-u";
        argv[n++] = unset[i];
    }
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        if (strchr(env[i], '=') == NULL) {
            argv[n++] = "-u";
            argv[n++] = env[i];
        }
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        bool dropped = false;
        size_t nl = strcspn(defaults[i], "=");
        for (size_t j = 0; env != NULL && env[j] != NULL; j++)
            dropped = dropped || (strchr(env[j], '=') == NULL && strlen(env[j]) == nl &&
                                  strncmp(env[j], defaults[i], nl) == 0);
        if (!dropped)
            argv[n++] = defaults[i];
    }
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        if (strchr(env[i], '=') != NULL)
            argv[n++] = env[i];
    const char *tail[] = {"bash", "--norc", "--noprofile", "-c", prog, "bash", script, full, bin};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        argv[n++] = tail[i];
    for (size_t i = 0; words[i] != NULL && n < 63; i++)
        argv[n++] = words[i];
    argv[n] = NULL;
    IT_CHECK(it_run(r, argv, CLI_MS) == 0);
    return 0;
}

/* complete() and the candidates are exactly want ("a\nb\n"; "" for none),
 * with nothing on stderr. */
static int expect(const char *line, const char *const *words, const char *const *env,
                  const char *want)
{
    it_cli r;
    if (complete(&r, line, words, env) != 0)
        return -1;
    bool ok = r.status == 0 && strcmp(r.out, want) == 0 && r.errlen == 0;
    if (!ok) {
        printf("  completing \"%s\": expected:\n%s", line, want);
        show(&r, "bash");
    }
    it_cli_free(&r);
    IT_CHECKF(ok, "completing \"%s\"", line);
    return 0;
}

static int script_meson_wrote_is_what_completion_bash_prints(void)
{
    const char *path = getenv("BAOBAO_COMPLETION");
    IT_CHECK(path != NULL);
    FILE *f = fopen(path, "r");
    IT_CHECKF(f != NULL, "cannot open %s", path);
    static char built[1 << 20];
    size_t len = fread(built, 1, sizeof built - 1, f);
    fclose(f);
    built[len] = '\0';
    it_cli r;
    const char *args[] = {"completion", "bash", NULL};
    IT_CHECK(it_cli_run(&r, NULL, CLI_MS, args) == 0);
    bool same = r.status == 0 && r.outlen == len && memcmp(r.out, built, len) == 0;
    if (!same)
        show(&r, "baobao completion bash");
    it_cli_free(&r);
    IT_CHECKF(same, "%s differs from `baobao completion bash`", path);
    IT_CHECK(strstr(built, "complete -F _baobao baobao\n") != NULL);
    /* bash reads it without a syntax error. */
    const char *check[] = {"bash", "-n", path, NULL};
    IT_CHECK(it_run(&r, check, CLI_MS) == 0);
    bool parsed = r.status == 0 && r.errlen == 0;
    if (!parsed)
        show(&r, "bash -n");
    it_cli_free(&r);
    IT_CHECK(parsed);
    return 0;
}

static int completes_a_command(void)
{
    const char *w[] = {"sta", NULL};
    return expect("sta", w, NULL, "status\n");
}

static int completes_a_groups_command(void)
{
    const char *w[] = {"status", "su", NULL};
    IT_CHECK(expect("status su", w, NULL, "submit\n") == 0);
    /* Every command of a group, in the table's order. */
    const char *all[] = {"status", "", NULL};
    return expect("status ", all, NULL, "submit\nlist\nshow\ncorrect\nwithdraw\n");
}

static int completes_an_option_from_the_spec(void)
{
    const char *w[] = {"status", "submit", "--out", NULL};
    IT_CHECK(expect("status submit --out", w, NULL, "--output-value\n") == 0);
    /* call's methods, and a method's options. */
    const char *m[] = {"call", "status.sub", NULL};
    IT_CHECK(expect("call status.sub", m, NULL, "status.submit\n") == 0);
    const char *o[] = {"call", "status.submit", "--emp", NULL};
    IT_CHECK(expect("call status.submit --emp", o, NULL, "--employees\n") == 0);
    /* After the value of an option, options again; global ones too. */
    const char *after[] = {"status", "submit", "--note", "\"a b\"", "--out", NULL};
    IT_CHECK(expect("status submit --note \"a b\" --out", after, NULL, "--output-value\n") == 0);
    const char *glob[] = {"status", "submit", "--ti", NULL};
    return expect("status submit --ti", glob, NULL, "--timeout\n");
}

static int completes_an_options_allowed_values(void)
{
    const char *w[] = {"user", "create", "--role", "s", NULL};
    IT_CHECK(expect("user create --role s", w, NULL, "supervisor\n") == 0);
    const char *all[] = {"user", "create", "--role", "", NULL};
    IT_CHECK(expect("user create --role ", all, NULL, "township_staff\nsupervisor\nadmin\n") == 0);
    /* Chinese values, and "--opt=" as bash cuts it (--priority, =, 市). */
    const char *zh[] = {"project", "add", "--priority", "=", "市", NULL};
    IT_CHECK(expect("project add --priority=市", zh, NULL, "市级重点\n") == 0);
    const char *b[] = {"user", "update", "--disabled", "", NULL};
    return expect("user update --disabled ", b, NULL, "true\nfalse\n");
}

static int completes_a_reference_value_from_the_server(void)
{
    const char *w[] = {"enterprise", "add", "--township", "赵", NULL};
    IT_CHECK(expect("enterprise add --township 赵", w, NULL, "赵李桥镇\n") == 0);
    const char *eq[] = {"enterprise", "add", "--township", "=", "赵", NULL};
    IT_CHECK(expect("enterprise add --township=赵", eq, NULL, "赵李桥镇\n") == 0);
    /* A filter named for a kind (no `ref` in the spec) offers it too. */
    const char *f[] = {"enterprise", "list", "--township", "赤", NULL};
    IT_CHECK(expect("enterprise list --township 赤", f, NULL, "赤马港街道\n赤壁镇\n") == 0);
    const char *p[] = {"status", "submit", "--production-status", "半", NULL};
    return expect("status submit --production-status 半", p, NULL, "半停产\n");
}

/* The server and user given on the line are the ones asked: bash cuts
 * "--server 127.0.0.1:PORT" at the ":" and the script joins it again. */
static int asks_the_server_and_user_on_the_line(void)
{
    char port[16], line[256];
    const char *colon = strrchr(g_server, ':');
    IT_CHECK(colon != NULL);
    snprintf(port, sizeof port, "%s", colon + 1);
    snprintf(line, sizeof line, "--server %s --user %s enterprise add --township 赵", g_server,
             IT_USER_STAFF);
    const char *w[] = {"--server", "127.0.0.1", ":", port, "--user", IT_USER_STAFF,
                       "enterprise", "add", "--township", "赵", NULL};
    /* The environment names a server nobody listens on, and a user that
     * does not exist. */
    const char *env[] = {"BAOBAO_SERVER=127.0.0.1:1", "BAOBAO_USER=nobody_here", NULL};
    return expect(line, w, env, "赵李桥镇\n");
}

/* Reference data is data: what an admin adds is offered at once, what
 * they retire no more. */
static int offers_the_current_values_of_the_day(void)
{
    const char *w[] = {"enterprise", "add", "--cluster", "补全", NULL};
    IT_CHECK(expect("enterprise add --cluster 补全", w, NULL, "") == 0);
    it_cli r;
    const char *admin[] = {"BAOBAO_USER=" IT_USER_ADMIN, NULL};
    const char *add[] = {"call", "ref.add", "--kind", "cluster", "--value", "补全测试集群", NULL};
    IT_CHECK(it_cli_run_env(&r, g_server, CLI_MS, add, admin) == 0);
    if (r.status != 0)
        show(&r, "ref.add");
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    IT_CHECK(expect("enterprise add --cluster 补全", w, NULL, "补全测试集群\n") == 0);
    const char *retire[] = {"call", "ref.retire", "--kind", "cluster", "--value", "补全测试集群",
                            NULL};
    IT_CHECK(it_cli_run_env(&r, g_server, CLI_MS, retire, admin) == 0);
    if (r.status != 0)
        show(&r, "ref.retire");
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    return expect("enterprise add --cluster 补全", w, NULL, "");
}

/* With no way to log in quietly, or no server, completion offers nothing
 * and prints nothing. */
static int offers_nothing_quietly_when_it_cannot_ask(void)
{
    const char *w[] = {"enterprise", "add", "--township", "赵", NULL};
    const char *nopw[] = {"BAOBAO_PASSWORD", NULL};
    IT_CHECK(expect("enterprise add --township 赵", w, nopw, "") == 0);
    const char *dead[] = {"BAOBAO_SERVER=127.0.0.1:1", NULL};
    IT_CHECK(expect("enterprise add --township 赵", w, dead, "") == 0);
    const char *badpw[] = {"BAOBAO_PASSWORD=not-the-password", NULL};
    return expect("enterprise add --township 赵", w, badpw, "");
}

static int completion_values_prints_one_current_value_a_line(void)
{
    it_cli r;
    const char *args[] = {"completion", "values", "township", NULL};
    IT_CHECK(it_cli_run(&r, g_server, CLI_MS, args) == 0);
    bool ok = r.status == 0 && r.errlen == 0 &&
              strncmp(r.out, "蒲圻街道\n陆水湖街道\n赤马港街道\n", strlen("蒲圻街道\n陆水湖街道\n赤马港街道\n")) == 0 &&
              strstr(r.out, "\n赵李桥镇\n") != NULL && strstr(r.out, "美丽健康产业园\n") != NULL;
    if (!ok)
        show(&r, "completion values township");
    it_cli_free(&r);
    IT_CHECK(ok);
    /* Not a kind of reference data: exit 2, and still nothing printed. */
    const char *bad[] = {"completion", "values", "planets", NULL};
    IT_CHECK(it_cli_run(&r, g_server, CLI_MS, bad) == 0);
    ok = r.status == 2 && r.outlen == 0 && r.errlen == 0;
    if (!ok)
        show(&r, "completion values planets");
    it_cli_free(&r);
    IT_CHECK(ok);
    return 0;
}

/* What a run on a terminal did. */
typedef struct on_tty {
    char out[8192];     /* everything written on the terminal */
    size_t len;
    bool done;          /* exited before CLI_MS */
    bool typed;         /* the answer was typed */
    int status;         /* wait status when done */
} on_tty;

/*
 * Runs the built baobao with args (NULL-ended) on a new pseudo-terminal,
 * as IT_USER_SUPER of the shared server with an empty HOME and no password
 * in the environment; env: more, "NAME=value" or "NAME" (unset). When the
 * terminal shows prompt, answer is typed once (prompt NULL: never).
 */
static int run_on_terminal(const char *const *args, const char *const *env, const char *prompt,
                           const char *answer, on_tty *t)
{
    const char *bin = getenv("BAOBAO_CLI");
    IT_CHECK(bin != NULL);
    memset(t, 0, sizeof *t);
    fflush(stdout);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        setenv("BAOBAO_SERVER", g_server, 1);
        setenv("BAOBAO_USER", IT_USER_SUPER, 1);
        setenv("BAOBAO_LANG", "en", 1);
        setenv("HOME", g_home, 1);
        setenv("XDG_CONFIG_HOME", "/nonexistent/baobao-itest-config", 1);
        unsetenv("XDG_STATE_HOME");
        unsetenv("BAOBAO_PASSWORD");
        unsetenv("BAOBAO_CONFIG");
        for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
            const char *eq = strchr(env[i], '=');
            char name[128];
            size_t nl = eq != NULL ? (size_t)(eq - env[i]) : strlen(env[i]);
            snprintf(name, sizeof name, "%.*s", (int)nl, env[i]);
            if (eq != NULL)
                setenv(name, eq + 1, 1);
            else
                unsetenv(name);
        }
        const char *argv[16];
        size_t n = 0;
        argv[n++] = bin;
        for (size_t i = 0; args[i] != NULL && n < 15; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int64_t deadline = it_now_ms() + CLI_MS;
    for (;;) {
        int64_t left = deadline - it_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t k = read(master, t->out + t->len, sizeof t->out - 1 - t->len);
        if (k <= 0)
            break;   /* EIO: the program closed the terminal */
        t->len += (size_t)k;
        t->out[t->len] = '\0';
        if (prompt != NULL && !t->typed && strstr(t->out, prompt) != NULL) {
            /* Let the prompt's tcsetattr finish before typing. */
            it_sleep_ms(200);
            size_t alen = strlen(answer);
            IT_CHECK(write(master, answer, alen) == (ssize_t)alen && write(master, "\n", 1) == 1);
            t->typed = true;
        }
    }
    t->out[t->len] = '\0';
    /* The terminal closes as the program exits: give it until the
     * deadline to be reaped. */
    while (!(t->done = waitpid(pid, &t->status, WNOHANG) == pid) && it_now_ms() < deadline)
        it_sleep_ms(10);
    if (!t->done) {
        kill(pid, SIGKILL);
        waitpid(pid, &t->status, 0);
    }
    close(master);
    return 0;
}

/* On a terminal, without a password: no prompt (a completion must never
 * stop the typing), nothing printed, exit 2 (no_credentials). The program
 * leads its terminal's session here, so this also runs the path where it
 * cannot leave the terminal itself (a child does the work). */
static int completion_values_never_prompts_on_a_terminal(void)
{
    const char *args[] = {"completion", "values", "township", NULL};
    on_tty t;
    IT_CHECK(run_on_terminal(args, NULL, NULL, NULL, &t) == 0);
    if (!t.done || t.len > 0)
        printf("  ---- terminal output:\n%s\n  ----\n", t.out);
    IT_CHECKF(t.done, "still running after %d ms: waiting for a password?", CLI_MS);
    IT_CHECKF(t.len == 0, "printed on the terminal");
    IT_CHECKF(WIFEXITED(t.status) && WEXITSTATUS(t.status) == 2, "status %d", t.status);
    /* With the password at hand, the values, from the child that left the
     * terminal. */
    const char *pw[] = {"BAOBAO_PASSWORD=" IT_PASSWORD, NULL};
    IT_CHECK(run_on_terminal(args, pw, NULL, NULL, &t) == 0);
    bool ok = t.done && WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0 &&
              strstr(t.out, "\r\n赵李桥镇\r\n") != NULL;
    if (!ok)
        printf("  ---- with a password (status %d):\n%s\n  ----\n", t.status, t.out);
    IT_CHECK(ok);
    return 0;
}

/* The session `baobao login` keeps (asked for the password on a terminal)
 * is what completion logs in with when no password is at hand; after
 * `baobao logout` it offers nothing again. */
static int uses_the_session_baobao_login_keeps(void)
{
    char state[600], state_env[640];
    snprintf(state, sizeof state, "%s/state", g_home);
    IT_CHECKF(mkdir(state, 0700) == 0 || errno == EEXIST, "mkdir %s", state);
    snprintf(state_env, sizeof state_env, "XDG_STATE_HOME=%s", state);
    const char *tty_env[] = {state_env, NULL};
    const char *login[] = {"login", NULL};
    on_tty t;
    IT_CHECK(run_on_terminal(login, tty_env, "Password", IT_PASSWORD, &t) == 0);
    bool ok = t.done && t.typed && WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0;
    if (!ok)
        printf("  ---- baobao login on a terminal (status %d):\n%s\n  ----\n", t.status, t.out);
    IT_CHECK(ok);

    const char *w[] = {"enterprise", "add", "--township", "赵", NULL};
    const char *env[] = {"BAOBAO_PASSWORD", state_env, NULL};
    IT_CHECK(expect("enterprise add --township 赵", w, env, "赵李桥镇\n") == 0);

    const char *logout[] = {"logout", NULL};
    IT_CHECK(run_on_terminal(logout, tty_env, NULL, NULL, &t) == 0);
    ok = t.done && WIFEXITED(t.status) && WEXITSTATUS(t.status) == 0;
    if (!ok)
        printf("  ---- baobao logout (status %d):\n%s\n  ----\n", t.status, t.out);
    IT_CHECK(ok);
    return expect("enterprise add --township 赵", w, env, "");
}

/* A server that takes the connection and never answers: given up after
 * CLI_COMPLETE_TIMEOUT_MS, not the client's default 10 s; nothing printed. */
static int completion_values_gives_up_after_its_short_timeout(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    IT_CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 8) == 0 &&
              getsockname(fd, (struct sockaddr *)&a, &alen) == 0;
    if (!ok)
        close(fd);
    IT_CHECK(ok);
    char mute[64];
    snprintf(mute, sizeof mute, "127.0.0.1:%d", ntohs(a.sin_port));
    it_cli r;
    const char *args[] = {"completion", "values", "township", NULL};
    int64_t t0 = it_now_ms();
    int rc = it_cli_run(&r, mute, CLI_MS, args);
    int64_t took = it_now_ms() - t0;
    close(fd);
    IT_CHECK(rc == 0);
    ok = r.status == 3 && r.outlen == 0 && r.errlen == 0;
    if (!ok)
        show(&r, "completion values against a mute server");
    it_cli_free(&r);
    IT_CHECK(ok);
    IT_CHECKF(took >= COMPLETE_TIMEOUT_MS - 100 && took < DEFAULT_TIMEOUT_MS - 1000,
              "took %lld ms", (long long)took);
    return 0;
}

static const it_test tests[] = {
    {"script_meson_wrote_is_what_completion_bash_prints",
     script_meson_wrote_is_what_completion_bash_prints},
    {"completes_a_command", completes_a_command},
    {"completes_a_groups_command", completes_a_groups_command},
    {"completes_an_option_from_the_spec", completes_an_option_from_the_spec},
    {"completes_an_options_allowed_values", completes_an_options_allowed_values},
    {"completes_a_reference_value_from_the_server", completes_a_reference_value_from_the_server},
    {"asks_the_server_and_user_on_the_line", asks_the_server_and_user_on_the_line},
    {"offers_the_current_values_of_the_day", offers_the_current_values_of_the_day},
    {"offers_nothing_quietly_when_it_cannot_ask", offers_nothing_quietly_when_it_cannot_ask},
    {"completion_values_prints_one_current_value_a_line",
     completion_values_prints_one_current_value_a_line},
    {"completion_values_never_prompts_on_a_terminal",
     completion_values_never_prompts_on_a_terminal},
    {"uses_the_session_baobao_login_keeps", uses_the_session_baobao_login_keeps},
    {"completion_values_gives_up_after_its_short_timeout",
     completion_values_gives_up_after_its_short_timeout},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "completion", tests, sizeof tests / sizeof tests[0], setup);
}
