/*
 * delivery.c: delivery of 督办 notices beyond the clients (issue 13): the
 * outbox notice_delivery (sql/023), drained by the configured
 * delivery_command, which receives one notice as JSON on its stdin and
 * exits 0 when it sent it (by SMS, WeChat, e-mail: its business).
 * PROTOCOL.md section 6, "Delivery of notices", is the command's contract;
 * sql/025_delivery.sql holds the rules (claim with a lease, attempts,
 * backoff, expiry), so several baobaod on one database share the work.
 *
 * When it drains: at start (as soon as the pool is up), on every
 * notification of the channel bb_delivery (the sweep queued some) and
 * after every (re)connect of the LISTEN connection, when a child ends (a
 * slot is free), and on a timer set to the earliest moment a pending
 * delivery can be claimed (a retry's next_at, or the end of the lease of
 * a process that died). At most delivery_parallel commands run at once.
 * Nothing runs when delivery_command is empty.
 *
 * A command runs in a process group of its own (UV_PROCESS_DETACHED):
 * at delivery_timeout_ms the whole group is killed (SIGKILL), so a shell
 * script's children die with it; when the command exits by itself, what
 * it left running in its group gets SIGTERM. stdout goes to /dev/null;
 * the last DELIVERY_STDERR_KEEP bytes of stderr are kept and recorded
 * with the attempt (cut to 500 characters in SQL). Nothing here blocks the loop.
 *
 * Shutdown: the commands still running are killed (their process group,
 * SIGKILL) at once, without waiting for shutdown_deadline_ms, and their
 * attempts are not recorded: the pool is closing and a result could not
 * be written anyway. Their leases end and the next claim (by any baobaod,
 * or this one restarted) records them as 'lost' and sends again: at least
 * once.
 *
 * Not for: making notices or queueing deliveries (the sweep, supervise.c
 * and sql/023), pushing to clients (push.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bb_utf8.h"
#include "listen.h"
#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "pool.h"
#include "server.h"

/* The lease is delivery_timeout_ms plus this: time to kill the command,
 * reap it and record the attempt before another process may take the
 * delivery over. */
#define DELIVERY_LEASE_GRACE_MS 5000u
/* Bytes of the command's stderr kept: the tail (its last words). */
#define DELIVERY_STDERR_KEEP 2048u
/* After the command exited, how long to wait for the end of its stderr
 * (a child it left behind may hold the pipe). */
#define DELIVERY_EXIT_GRACE_MS 200u
/* A pass that could not reach the database is tried again this much
 * later. */
#define DELIVERY_RETRY_POOL_MS 1000u
/* The shortest wait of the timer (a delivery due now that another
 * process holds locked for its claim). */
#define DELIVERY_MIN_WAKE_MS 100u
/* While the LISTEN connection is down, a new delivery would be noticed
 * only at the next wake: look at least this often then. */
#define DELIVERY_POLL_MS 60000u
/* Words of delivery_command (the program and its arguments). */
#define DELIVERY_ARGV_MAX 32

/* Columns: delivery_id, attempt, payload, given_up (NULL: run the command;
 * 'expired' or 'no_payload': the claim gave the delivery up, payload NULL).
 * The :_x values are numbered in the order they first appear ($1..$4). */
static const char *const claim_extras[] = {"_process", "_limit", "_lease_ms", "_max_age", NULL};
static mstmt st_claim = {
    .name = "delivery_claim", .extras = claim_extras, .sql =
    "SELECT delivery_id, attempt, payload, given_up FROM bb_delivery_claim("
    "p_process => :_process, p_limit => :_limit::int, p_lease_ms => :_lease_ms::int,"
    " p_max_age_hours => :_max_age::int)"};

static const char *const finish_extras[] = {"_delivery", "_attempt", "_process", "_outcome",
                                            "_exit_code", "_detail", "_retry_min",
                                            "_retry_max", "_max_age", NULL};
static mstmt st_finish = {
    .name = "delivery_finish", .extras = finish_extras, .sql =
    "SELECT state, attempts FROM bb_delivery_finish("
    "p_delivery => :_delivery::bigint, p_attempt => :_attempt::int, p_process => :_process,"
    " p_outcome => :_outcome, p_exit_code => :_exit_code::int, p_detail => :_detail,"
    " p_retry_min_ms => :_retry_min::int, p_retry_max_ms => :_retry_max::int,"
    " p_max_age_hours => :_max_age::int)"};

static mstmt st_next = {
    .name = "delivery_next", .sql = "SELECT bb_delivery_next_ms()"};

/* One running command. Freed in the close callback of its last handle. */
typedef struct job {
    uv_process_t proc;
    uv_pipe_t in;                /* the child's stdin: the payload, then EOF */
    uv_pipe_t err;               /* the child's stderr */
    uv_timer_t timer;            /* delivery_timeout_ms, then the exit grace */
    uv_write_t wr;
    char *payload;               /* owned */
    int64_t delivery_id;
    int attempt;
    char tail[DELIVERY_STDERR_KEEP];
    size_t tail_len;
    bool spawned, exited, err_eof, timed_out, finished;
    int64_t exit_status;
    int term_signal;
    int open_handles;
    struct job *prev, *next;     /* D.jobs */
} job;

static struct {
    server *s;
    bool stopped;
    int argc;
    char *argv[DELIVERY_ARGV_MAX + 1];
    char cmd[sizeof(((config *)0)->delivery_command)];
    char process[300];           /* host:pid */
    uv_timer_t timer;
    bool timer_open;
    bool claiming, next_asked, again;
    bool next_again;             /* asked again while a next query was out: its
                                    answer may be stale (an attempt finished
                                    since), so ask once more before arming */
    unsigned running;
    job *jobs;
} D;

static void drain(void);
static void ask_next(void);

static void on_tick(uv_timer_t *t)
{
    (void)t;
    drain();
}

static void arm(uint64_t ms)
{
    if (!D.stopped && D.timer_open)
        (void)uv_timer_start(&D.timer, on_tick, ms, 0);
}

/* ---- one command ---- */

static void job_closed(uv_handle_t *h)
{
    job *j = h->data;
    if (--j->open_handles > 0)
        return;
    free(j->payload);
    free(j);
}

static void job_close(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, job_closed);
}

static void job_unlink(job *j)
{
    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        D.jobs = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
}

/* The bytes as PostgreSQL text can hold them: invalid UTF-8 and NUL bytes
 * become '?'; a character cut at the front of the kept tail too. */
static void clean_text(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (n > 0 && i + n <= len && bb_utf8_valid(s + i, n)) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            out[o++] = '?';
            i++;
        }
    }
    out[o] = '\0';
}

static void finish_done(void *arg, const PGresult *res, const pool_error *e)
{
    int64_t id = (int64_t)(intptr_t)arg;
    if (e != NULL)
        log_event(LOG_WARN, "delivery_unrecorded", "delivery_id=%" PRId64 " why=%s", id,
                  log_q(e->message));
    else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "expired") == 0)
        log_event(LOG_WARN, "delivery_expired", "delivery_id=%" PRId64 " attempts=%s", id,
                  PQgetvalue(res, 0, 1));
    drain();   /* a slot is free */
}

/* The command ended (or could not start): records the attempt, closes
 * the job's handles. Once per job. */
static void job_finish(job *j, const char *why)
{
    if (j->finished)
        return;
    j->finished = true;
    job_unlink(j);
    D.running--;

    /* A command that exited by itself says how it went, even when the
     * timeout fired before its exit was reaped (then the kill found it
     * gone already); one the kill reached ended by SIGKILL. */
    const char *outcome;
    char code[24] = "";
    bool exited_itself = j->spawned && j->exited && j->term_signal == 0;
    if (exited_itself)
        outcome = j->exit_status == 0 ? "sent" : "failed";
    else if (j->spawned && j->timed_out)
        outcome = "timeout";
    else
        outcome = "failed";
    if (exited_itself)
        snprintf(code, sizeof code, "%" PRId64, j->exit_status);

    /* What the command left running in its group (a gateway's background
     * child, also one that closed its stderr) ends with it. Linux does not
     * hand out a number while a group of that number has a member, so this
     * reaches our group or, when it is empty, a group made since the
     * leader was reaped (this loop turn, or DELIVERY_EXIT_GRACE_MS while
     * stderr is held, when the group is not empty): a wrap-around of pids
     * within that time, left as it is. */
    if (j->spawned && !j->timed_out && kill(-j->proc.pid, SIGTERM) == 0)
        log_event(LOG_INFO, "delivery_leftovers_killed", "delivery_id=%" PRId64 " pgid=%d",
                  j->delivery_id, j->proc.pid);

    char detail[DELIVERY_STDERR_KEEP * 3 + 64];
    if (why != NULL)
        snprintf(detail, sizeof detail, "%s", why);
    else
        clean_text(j->tail, j->tail_len, detail);

    char id[24], att[16], rmin[16], rmax[16], age[16];
    snprintf(id, sizeof id, "%" PRId64, j->delivery_id);
    snprintf(att, sizeof att, "%d", j->attempt);
    snprintf(rmin, sizeof rmin, "%u", D.s->cfg.delivery_retry_min_ms);
    snprintf(rmax, sizeof rmax, "%u", D.s->cfg.delivery_retry_max_ms);
    snprintf(age, sizeof age, "%u", D.s->cfg.delivery_max_age_hours);
    const char *vals[] = {id, att, D.process, outcome, code[0] ? code : NULL,
                          detail, rmin, rmax, age};

    metrics_count(METRICS_DELIVERY_ATTEMPTS, outcome);
    if (strcmp(outcome, "sent") == 0)
        log_event(LOG_INFO, "delivery_sent", "delivery_id=%s attempt=%s", id, att);
    else
        log_event(LOG_WARN, "delivery_failed",
                  "delivery_id=%s attempt=%s outcome=%s exit_code=%s signal=%d detail=%s", id,
                  att, outcome, code[0] ? code : "-", j->term_signal, log_q(detail));

    int rc = pool_query(D.s->pool, &st_finish.ps, vals, NULL, finish_done,
                        (void *)(intptr_t)j->delivery_id);
    if (rc < 0) {   /* the lease ends, the next claim records it 'lost' and sends again */
        log_event(LOG_WARN, "delivery_unrecorded", "delivery_id=%s why=pool_unavailable", id);
        arm(DELIVERY_RETRY_POOL_MS);
    }

    job_close((uv_handle_t *)&j->proc);
    job_close((uv_handle_t *)&j->in);
    job_close((uv_handle_t *)&j->err);
    job_close((uv_handle_t *)&j->timer);
}

static void on_timer(uv_timer_t *t)
{
    job *j = t->data;
    if (j->exited) {   /* the exit grace ended: whatever stderr said is kept */
        job_finish(j, NULL);
        return;
    }
    j->timed_out = true;
    /* The group: a script's children die with it (detached: pgid = pid). */
    if (kill(-j->proc.pid, SIGKILL) != 0 && errno != ESRCH)
        (void)uv_process_kill(&j->proc, SIGKILL);
    log_event(LOG_WARN, "delivery_timeout", "delivery_id=%" PRId64 " attempt=%d pid=%d",
              j->delivery_id, j->attempt, j->proc.pid);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
    job *j = p->data;
    j->exited = true;
    j->exit_status = status;
    j->term_signal = term_signal;
    if (j->err_eof)
        job_finish(j, NULL);
    else
        (void)uv_timer_start(&j->timer, on_timer, DELIVERY_EXIT_GRACE_MS, 0);
}

static void err_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h, (void)suggested;
    static char chunk[4096];   /* copied into the job's tail at once */
    *buf = uv_buf_init(chunk, sizeof chunk);
}

static void on_err_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    job *j = st->data;
    if (n > 0) {
        size_t k = (size_t)n;
        const char *src = buf->base;
        if (k >= DELIVERY_STDERR_KEEP) {
            src += k - DELIVERY_STDERR_KEEP;
            k = DELIVERY_STDERR_KEEP;
            j->tail_len = 0;
        } else if (j->tail_len + k > DELIVERY_STDERR_KEEP) {
            size_t drop = j->tail_len + k - DELIVERY_STDERR_KEEP;
            memmove(j->tail, j->tail + drop, j->tail_len - drop);
            j->tail_len -= drop;
        }
        memcpy(j->tail + j->tail_len, src, k);
        j->tail_len += k;
        return;
    }
    if (n < 0) {   /* EOF, or an error: nothing more to read either way */
        uv_read_stop(st);
        j->err_eof = true;
        if (j->exited)
            job_finish(j, NULL);
    }
}

static void on_written(uv_write_t *w, int status)
{
    job *j = w->data;
    (void)status;   /* EPIPE: the command did not read; its exit says the rest */
    job_close((uv_handle_t *)&j->in);   /* EOF on its stdin */
}

/* Starts the command for one claimed attempt; payload is taken. */
static void job_start(int64_t delivery_id, int attempt, char *payload)
{
    job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        free(payload);   /* the lease ends and it is tried again */
        log_event(LOG_ERROR, "delivery_oom", "delivery_id=%" PRId64, delivery_id);
        return;
    }
    j->payload = payload;
    j->delivery_id = delivery_id;
    j->attempt = attempt;
    (void)uv_pipe_init(D.s->loop, &j->in, 0);
    (void)uv_pipe_init(D.s->loop, &j->err, 0);
    (void)uv_timer_init(D.s->loop, &j->timer);
    j->proc.data = j->in.data = j->err.data = j->timer.data = j->wr.data = j;
    j->open_handles = 4;
    j->next = D.jobs;
    if (D.jobs != NULL)
        D.jobs->prev = j;
    D.jobs = j;
    D.running++;

    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&j->in},
        {.flags = UV_IGNORE},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&j->err},
    };
    uv_process_options_t o = {
        .exit_cb = on_exit_cb,
        .file = D.argv[0],
        .args = D.argv,
        .flags = UV_PROCESS_DETACHED,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int r = uv_spawn(D.s->loop, &j->proc, &o);
    if (r != 0) {
        char why[256];
        snprintf(why, sizeof why, "spawn %s: %s", D.argv[0], uv_strerror(r));
        job_finish(j, why);   /* closes the process handle too, as libuv asks */
        return;
    }
    j->spawned = true;
    log_event(LOG_DEBUG, "delivery_started", "delivery_id=%" PRId64 " attempt=%d pid=%d",
              delivery_id, attempt, j->proc.pid);
    uv_buf_t b = uv_buf_init(j->payload, (unsigned)strlen(j->payload));
    if (uv_write(&j->wr, (uv_stream_t *)&j->in, &b, 1, on_written) != 0)
        job_close((uv_handle_t *)&j->in);
    if (uv_read_start((uv_stream_t *)&j->err, err_alloc, on_err_read) != 0)
        j->err_eof = true;
    (void)uv_timer_start(&j->timer, on_timer, D.s->cfg.delivery_timeout_ms, 0);
}

/* ---- draining ---- */

static void next_done(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    D.next_asked = false;
    if (D.stopped)
        return;
    if (D.next_again) {
        /* This answer was read before the change that asked again (a
         * finished attempt's next_at): arming from it could sleep until a
         * lease that no longer holds. */
        D.next_again = false;
        ask_next();
        return;
    }
    if (e != NULL) {
        arm(DELIVERY_RETRY_POOL_MS);
        return;
    }
    uint64_t wait = DELIVERY_POLL_MS;
    bool none = PQntuples(res) != 1 || PQgetisnull(res, 0, 0);
    if (!none) {
        long long ms = atoll(PQgetvalue(res, 0, 0));
        wait = ms < (long long)DELIVERY_MIN_WAKE_MS ? DELIVERY_MIN_WAKE_MS : (uint64_t)ms;
    }
    if (!listen_is_up() && wait > DELIVERY_POLL_MS)
        wait = DELIVERY_POLL_MS;
    if (none && listen_is_up())
        uv_timer_stop(&D.timer);   /* bb_delivery says when there is work */
    else
        arm(wait);
}

static void ask_next(void)
{
    if (D.next_asked) {
        D.next_again = true;
        return;
    }
    D.next_asked = true;
    if (pool_query(D.s->pool, &st_next.ps, NULL, NULL, next_done, NULL) < 0) {
        D.next_asked = false;
        arm(DELIVERY_RETRY_POOL_MS);
    }
}

static void claim_done(void *arg, const PGresult *res, const pool_error *e)
{
    unsigned asked = (unsigned)(uintptr_t)arg;
    D.claiming = false;
    if (D.stopped)
        return;   /* claimed attempts stay open: recorded 'lost' after their lease */
    if (e != NULL) {
        log_event(LOG_WARN, "delivery_claim_failed", "why=%s", log_q(e->message));
        arm(DELIVERY_RETRY_POOL_MS);
        return;
    }
    unsigned started = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        if (!PQgetisnull(res, r, 3) && strcmp(PQgetvalue(res, r, 3), "no_payload") == 0) {
            log_event(LOG_ERROR, "delivery_no_payload", "delivery_id=%" PRId64 " attempt=%s",
                      id, PQgetvalue(res, r, 1));
            started++;   /* it took one of the slots asked for */
            continue;
        }
        if (!PQgetisnull(res, r, 3) || PQgetisnull(res, r, 2)) {   /* too old */
            log_event(LOG_WARN, "delivery_expired", "delivery_id=%" PRId64 " attempts=%s", id,
                      PQgetisnull(res, r, 1) ? "0" : PQgetvalue(res, r, 1));
            continue;
        }
        char *payload = strdup(PQgetvalue(res, r, 2));
        if (payload == NULL) {
            log_event(LOG_ERROR, "delivery_oom", "delivery_id=%" PRId64, id);
            continue;
        }
        job_start(id, atoi(PQgetvalue(res, r, 1)), payload);
        started++;
    }
    if (D.again || started == asked)
        drain();   /* more may be waiting (or a notification came meanwhile) */
    else
        ask_next();
}

/* Claims as many due deliveries as there are free slots and starts their
 * commands; then sets the timer to the next moment one is due. */
static void drain(void)
{
    if (D.stopped || D.argc == 0)
        return;
    if (D.claiming) {   /* one claim at a time: drain again when it is back */
        D.again = true;
        return;
    }
    D.again = false;
    unsigned slots = D.s->cfg.delivery_parallel > D.running
                         ? D.s->cfg.delivery_parallel - D.running : 0;
    if (slots == 0)
        return;   /* a command ending drains again */
    char limit[16], lease[24], age[16];
    snprintf(limit, sizeof limit, "%u", slots);
    snprintf(lease, sizeof lease, "%llu",
             (unsigned long long)D.s->cfg.delivery_timeout_ms + DELIVERY_LEASE_GRACE_MS);
    snprintf(age, sizeof age, "%u", D.s->cfg.delivery_max_age_hours);
    const char *vals[] = {D.process, limit, lease, age};
    D.claiming = true;
    if (pool_query(D.s->pool, &st_claim.ps, vals, NULL, claim_done,
                   (void *)(uintptr_t)slots) < 0) {
        D.claiming = false;   /* the pool is not up (yet) */
        arm(DELIVERY_RETRY_POOL_MS);
    }
}

static void on_notify(void *arg, const char *payload)
{
    (void)arg, (void)payload;
    drain();
}

static void on_ready(void *arg)
{
    (void)arg;
    drain();   /* notifications sent while LISTEN was down are lost */
}

/* ---- module ---- */

static int delivery_start(server *s)
{
    memset(&D, 0, sizeof D);
    D.s = s;
    snprintf(D.cmd, sizeof D.cmd, "%s", s->cfg.delivery_command);
    for (char *p = strtok(D.cmd, " "); p != NULL; p = strtok(NULL, " ")) {
        if (D.argc == DELIVERY_ARGV_MAX) {
            log_event(LOG_ERROR, "delivery_command_too_long", "words_max=%d",
                      DELIVERY_ARGV_MAX);
            return UV_E2BIG;
        }
        D.argv[D.argc++] = p;
    }
    D.argv[D.argc] = NULL;
    if (D.argc == 0)
        return 0;   /* no delivery: the outbox waits (PROTOCOL.md) */

    char host[256] = "";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(D.process, sizeof D.process, "%s:%ld", host, (long)getpid());

    int r = uv_timer_init(s->loop, &D.timer);
    if (r != 0)
        return r;
    D.timer_open = true;
    if (listen_on("bb_delivery", on_notify, on_ready, NULL) != 0)
        return UV_EINVAL;
    log_event(LOG_INFO, "delivery_ready", "command=%s parallel=%u timeout_ms=%u process=%s",
              log_q(s->cfg.delivery_command), s->cfg.delivery_parallel,
              s->cfg.delivery_timeout_ms, log_q(D.process));
    arm(0);   /* once at start */
    return 0;
}

static void delivery_stop(server *s)
{
    (void)s;
    D.stopped = true;
    unsigned killed = 0;
    while (D.jobs != NULL) {
        job *j = D.jobs;
        job_unlink(j);
        j->finished = true;
        if (j->spawned && !j->exited) {
            (void)kill(-j->proc.pid, SIGKILL);
            killed++;
        }
        job_close((uv_handle_t *)&j->proc);
        job_close((uv_handle_t *)&j->in);
        job_close((uv_handle_t *)&j->err);
        job_close((uv_handle_t *)&j->timer);
    }
    if (killed > 0)
        log_event(LOG_INFO, "delivery_abandoned", "killed=%u", killed);
    D.running = 0;
    if (D.timer_open) {
        D.timer_open = false;
        uv_timer_stop(&D.timer);
        uv_close((uv_handle_t *)&D.timer, NULL);
    }
}

static mstmt *const delivery_stmts[] = {&st_claim, &st_finish, &st_next, NULL};

const method_module delivery_module = {
    .name = "delivery",
    .stmts = delivery_stmts,
    .start = delivery_start,
    .stop = delivery_stop,
};
