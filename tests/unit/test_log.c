/*
 * test_log.c: server/log.c never blocks its caller on stderr, drops (and
 * counts) lines when its queue is full, and delivers every queued line
 * before the process exits.
 *
 * Each test runs the logger in a forked child (log.c's queue and writer
 * thread are process state), with the child's stderr on a pipe the parent
 * controls: a reader that does not read is the stalled journald or the
 * terminal on ^S that must not stall the server.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Lines the stalled-reader child logs: about 6 MiB, far more than the
 * queue (1 MiB) plus a pipe's buffer (64 KiB). */
#define STALL_LINES 30000
/* How long the parent waits for the child to finish logging before it
 * calls the logger blocked (a hang guard, not a speed check). */
#define STALL_GUARD_MS 30000

/* Reads everything from fd until EOF into a malloc'd NUL-terminated buffer. */
static char *read_all(int fd, size_t *len_out)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static size_t count_lines_with(const char *buf, const char *needle)
{
    size_t n = 0;
    for (const char *p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void stalled_reader_does_not_block_and_drops_are_counted(void **state)
{
    (void)state;
    int errp[2], donep[2];
    assert_int_equal(pipe(errp), 0);
    assert_int_equal(pipe(donep), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(errp[0]);
        close(donep[0]);
        dup2(errp[1], STDERR_FILENO);
        close(errp[1]);
        log_init_from_env();
        char filler[160];
        memset(filler, 'x', sizeof filler - 1);
        filler[sizeof filler - 1] = '\0';
        for (int i = 0; i < STALL_LINES; i++)
            log_conn(LOG_INFO, (uint64_t)i, "test_line", "n=%d filler=%s", i, filler);
        /* All calls returned although nobody has read stderr yet. */
        ssize_t w = write(donep[1], "d", 1);
        exit(w == 1 ? 0 : 3); /* exit, not _exit: the queue drains at exit */
    }
    close(errp[1]);
    close(donep[1]);
    struct pollfd pfd = {.fd = donep[0], .events = POLLIN};
    int pr = poll(&pfd, 1, STALL_GUARD_MS);
    if (pr != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("the logging calls blocked on a stderr nobody reads");
    }
    size_t len;
    char *out = read_all(errp[0], &len);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(errp[0]);
    close(donep[0]);

    size_t written = count_lines_with(out, "event=test_line");
    assert_true(written > 0);
    assert_true(written < STALL_LINES); /* some were dropped ... */
    const char *d = strstr(out, "event=log_lines_dropped count=");
    assert_non_null(d);                 /* ... and that was reported */
    unsigned long long dropped_total = 0;
    for (const char *p = out; (p = strstr(p, "event=log_lines_dropped count=")) != NULL;) {
        p += strlen("event=log_lines_dropped count=");
        dropped_total += strtoull(p, NULL, 10);
    }
    /* Every line is either written whole or counted as dropped. */
    assert_int_equal(written + dropped_total, STALL_LINES);
    /* Whole lines only: every line ends with the filler and a newline. */
    assert_int_equal(count_lines_with(out, "\n"), written + count_lines_with(out, "log_lines_dropped"));
    free(out);
}

static void every_line_reaches_stderr_before_exit(void **state)
{
    (void)state;
    int errp[2];
    assert_int_equal(pipe(errp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(errp[0]);
        dup2(errp[1], STDERR_FILENO);
        close(errp[1]);
        log_init_from_env();
        for (int i = 0; i < 2000; i++)
            log_req(LOG_WARN, 7, (uint32_t)i, "exit_line", "n=%d", i);
        exit(0); /* the atexit drain must deliver all 2,000 */
    }
    close(errp[1]);
    size_t len;
    char *out = read_all(errp[0], &len);
    close(errp[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(count_lines_with(out, "event=exit_line conn=7 req="), 2000);
    /* In order: the last line is the 1,999th. */
    assert_non_null(strstr(out, "req=1999 n=1999\n"));
    assert_null(strstr(out, "log_lines_dropped"));
    free(out);
}

/* A process whose stderr nobody reads still exits: the drain at exit
 * gives up after a bound (log.c LOG_EXIT_DRAIN_MS, 2 s) instead of hanging
 * after the server's shutdown deadline. */
static void exit_does_not_hang_on_a_stalled_stderr(void **state)
{
    (void)state;
    int errp[2];
    assert_int_equal(pipe(errp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(errp[0]);
        dup2(errp[1], STDERR_FILENO);
        close(errp[1]);
        log_init_from_env();
        char filler[200];
        memset(filler, 'y', sizeof filler - 1);
        filler[sizeof filler - 1] = '\0';
        for (int i = 0; i < 2000; i++)   /* ~0.5 MiB: more than the pipe takes */
            log_event(LOG_INFO, "stall_line", "n=%d filler=%s", i, filler);
        exit(0);
    }
    close(errp[1]);
    /* Never read errp[0]. Wait up to STALL_GUARD_MS for the exit. */
    int st = 0;
    pid_t got = 0;
    for (int waited = 0; waited < STALL_GUARD_MS && got == 0; waited += 50) {
        got = waitpid(pid, &st, WNOHANG);
        if (got == 0) {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (got != pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(errp[0]);
        fail_msg("exit hung on a stderr nobody reads");
    }
    close(errp[0]);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stalled_reader_does_not_block_and_drops_are_counted),
        cmocka_unit_test(every_line_reaches_stderr_before_exit),
        cmocka_unit_test(exit_does_not_hang_on_a_stalled_stderr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
