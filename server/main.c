/*
 * main.c: baobaod's start and stop, in order.
 *
 * Start: settings -> logging -> libsodium -> TZ (so localtime is the
 * city's zone) -> SIGPIPE ignored -> file-descriptor limit raised ->
 * migrations (blocking, before the loop) -> [--create-admin: the first
 * admin, then exit] -> statements registered -> pool -> listener ->
 * signals -> loop.
 *
 * Stop (SIGINT/SIGTERM), in phases:
 *   RUNNING   -> DRAINING: stop accepting; every connection stops reading,
 *             answers what it received but did not dispatch with
 *             `shutting_down`, lets its in-flight requests finish, flushes
 *             and closes; a deadline timer (shutdown_deadline_ms) runs.
 *   DRAINING  -> POOL_CLOSING: when the last connection closed, or at the
 *             deadline (which closes what is left; a second signal brings
 *             the deadline forward). pool_close fails what is queued and
 *             waits for queries already sent; at the deadline pool_abort
 *             closes the database connections at once instead.
 *   POOL_CLOSING -> DONE: our own handles are closed, uv_run returns, any
 *             handle left is closed, and uv_loop_close must return 0.
 *
 * Not for: parsing settings (config.c) or anything per connection.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "health.h"
#include "listen.h"
#include "listener.h"
#include "nodes.h"
#include "log.h"
#include "methods.h"
#include "migrate.h"
#include "pool.h"
#include "proxy.h"
#include "replica.h"
#include "server.h"
#include "tls.h"
#include "user.h"

/* The POSIX zone to fall back on for Asia/Shanghai when the system has no
 * zone database (minimal containers): China has no daylight saving. */
#define SHANGHAI_POSIX_TZ "CST-8"

typedef enum stop_phase { PHASE_RUNNING = 0, PHASE_DRAINING, PHASE_POOL_CLOSING, PHASE_DONE } stop_phase;

static server srv;
static uv_signal_t sig_int, sig_term;
static uv_timer_t deadline_timer;
static stop_phase phase = PHASE_RUNNING;

static void close_if_open(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_pool_closed(void *arg)
{
    server *s = arg;
    s->pool = NULL; /* frees itself after this returns */
    phase = PHASE_DONE;
    uv_timer_stop(&deadline_timer);
    close_if_open((uv_handle_t *)&deadline_timer);
    close_if_open((uv_handle_t *)&sig_int);
    close_if_open((uv_handle_t *)&sig_term);
    client_module_close(s);
}

static void close_pool(server *s, bool after_deadline)
{
    if (phase >= PHASE_POOL_CLOSING)
        return;
    phase = PHASE_POOL_CLOSING;
    uv_timer_stop(&deadline_timer);
    if (s->pool == NULL) {
        on_pool_closed(s);
        return;
    }
    pool_close(s->pool, on_pool_closed, s);
    /* At the deadline nobody waits for queries still in the database:
     * their connections are closed (PostgreSQL rolls back what they had
     * open) and the requests complete as unavailable. */
    if (after_deadline && s->pool != NULL)
        pool_abort(s->pool);
    if (after_deadline)
        replica_abort();
}

static void on_clients_gone(server *s)
{
    if (phase != PHASE_DRAINING)
        return;
    log_event(LOG_INFO, "connections_closed", NULL);
    close_pool(s, false);
}

/* Stops the modules that run work of their own (the nightly export), in
 * the reverse order of their start. */
static void stop_modules(server *s)
{
    size_t n = 0;
    while (bb_modules[n] != NULL)
        n++;
    while (n-- > 0)
        if (bb_modules[n]->stop != NULL)
            bb_modules[n]->stop(s);
    nodes_stop(s);
    listen_stop(s);
    health_stop(s);
    replica_stop(s);
}

static void on_deadline(uv_timer_t *t)
{
    server *s = t->data;
    log_event(LOG_WARN, "shutdown_deadline", "clients=%u", s->nclients);
    client_close_all(s, "shutdown_deadline");
    close_pool(s, true);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server *s = h->data;
    if (phase == PHASE_RUNNING) {
        phase = PHASE_DRAINING;
        s->shutting_down = true;
        log_event(LOG_INFO, "shutdown_begin", "signal=%d clients=%u deadline_ms=%u", signum,
                  s->nclients, s->cfg.shutdown_deadline_ms);
        listener_stop(s);
        stop_modules(s);
        (void)uv_timer_start(&deadline_timer, on_deadline, s->cfg.shutdown_deadline_ms, 0);
        client_shutdown_all(s);
        if (s->nclients == 0)
            on_clients_gone(s);
    } else if (phase == PHASE_DRAINING) {
        log_event(LOG_WARN, "shutdown_hurried", "signal=%d", signum);
        uv_timer_stop(&deadline_timer);
        on_deadline(&deadline_timer);
    } else {
        log_event(LOG_INFO, "shutdown_in_progress", "signal=%d", signum);
    }
}

/* Sets TZ so localtime() is the configured zone. Returns 0 or -1.
 * The zone must be a name of the zone database ($TZDIR, else
 * /usr/share/zoneinfo), because PostgreSQL is given the same name to
 * compute "today": a POSIX string like "Foo" would be UTC here and an
 * error there. Asia/Shanghai alone has a fallback for machines without
 * the zone database (China has no daylight saving time). */
static int set_time_zone(const char *zone)
{
    char path[512];
    const char *tz = zone;
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/usr/share/zoneinfo";
    bool plausible = zone[0] != '\0' && zone[0] != '/' && strstr(zone, "..") == NULL;
    snprintf(path, sizeof path, "%s/%s", dir, zone);
    if (!plausible || access(path, R_OK) != 0) {
        if (strcmp(zone, "Asia/Shanghai") == 0) {
            log_event(LOG_WARN, "time_zone_fallback", "zone=%s using=%s", zone,
                      SHANGHAI_POSIX_TZ);
            tz = SHANGHAI_POSIX_TZ;
        } else {
            log_event(LOG_ERROR, "time_zone_unknown", "zone=%s zoneinfo=%s", log_q(zone),
                      log_q(dir));
            return -1;
        }
    }
    if (setenv("TZ", tz, 1) != 0)
        return -1;
    tzset();
    return 0;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_event(LOG_WARN, "fd_limit_unchanged", "soft=%llu hard=%llu",
                      (unsigned long long)rl.rlim_cur, (unsigned long long)want);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    log_event(LOG_DEBUG, "fd_limit", "soft=%llu", (unsigned long long)rl.rlim_cur);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)srv.cfg.max_connections + 64)
        log_event(LOG_WARN, "fd_limit_low", "soft=%llu max_connections=%u",
                  (unsigned long long)rl.rlim_cur, srv.cfg.max_connections);
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        log_event(LOG_WARN, "handle_left_open", "type=%s", uv_handle_type_name(h->type));
        uv_close(h, NULL);
    }
}

int main(int argc, char **argv)
{
    char err[1024];
    config_defaults(&srv.cfg);
    int r = config_from_args(&srv.cfg, argc, argv, err, sizeof err);
    if (r == 1)
        return 0;
    if (r != 0 || config_validate(&srv.cfg, err, sizeof err) != 0 ||
        health_check_setting(&srv.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%sbaobaod: %s\n", log_stderr_prefix(), err);
        return 2;
    }
    log_init_from_env();
    /* libsodium (password hashes) must be initialised once, before any
     * thread of libuv's pool can use it. */
    if (sodium_init() < 0) {
        fprintf(stderr, "%sbaobaod: libsodium cannot be initialised\n", log_stderr_prefix());
        return 1;
    }
    /* rand() draws the reconnect jitter (pgconn.c, listen.c): seeded once
     * here, so several baobaod started together do not knock at the
     * database at the same instants. */
    srand(randombytes_random());
    /* Certificates are read now, before anything is served (tls.h); a
     * non-loopback listen address without TLS is refused here. */
    if (tls_server_init(&srv, err, sizeof err) != 0) {
        fprintf(stderr, "%sbaobaod: %s\n", log_stderr_prefix(), err);
        return 2;
    }
    /* proxy_trusted: parsed once; a bad entry stops the start, since a
     * typo could trust the wrong peers (or none, locking the balancer out) */
    static proxy_acl trusted;
    if (proxy_acl_parse(&trusted, srv.cfg.proxy_trusted, err, sizeof err) != 0) {
        fprintf(stderr, "%sbaobaod: proxy_trusted: %s\n", log_stderr_prefix(), err);
        return 2;
    }
    srv.proxy_trusted = trusted.n > 0 ? &trusted : NULL;
    if (set_time_zone(srv.cfg.time_zone) != 0) {
        fprintf(stderr, "%sbaobaod: time_zone: unknown zone \"%s\"\n", log_stderr_prefix(),
                srv.cfg.time_zone);
        return 2;
    }
    /* Behind a pooler in transaction mode, LISTEN (pushes, session changes)
     * and the exporter's lock would lose their session between
     * transactions: they need session_db. The migrations alone work
     * through such a pooler (their lock is per transaction). */
    if (!srv.cfg.migrate_only && strcmp(srv.cfg.db_pooler, "transaction") == 0 &&
        srv.cfg.session_db[0] == '\0') {
        fprintf(stderr,
                "%sbaobaod: db_pooler=transaction needs session_db (the LISTEN connection "
                "and the exporter's lock need a session of their own)\n",
                log_stderr_prefix());
        return 2;
    }
    if (clock_init(srv.cfg.fake_now, err, sizeof err) != 0) {
        fprintf(stderr, "%sbaobaod: %s\n", log_stderr_prefix(), err);
        return 2;
    }
    if (clock_is_fake())
        log_event(LOG_WARN, "clock_pinned", "fake_now=%s why=\"the fake_now setting (tests)\"",
                  srv.cfg.fake_now);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    log_event(LOG_INFO, "starting", "version=%s pid=%ld time_zone=%s", BAOBAOD_VERSION,
              (long)getpid(), srv.cfg.time_zone);

    /* session_db: the migrations' lock is per transaction, so a pooler in
     * transaction mode on db would do too, but a session is safer. */
    if (migrate_run(config_session_db(&srv.cfg), err,
                    sizeof err) != 0)
        return 1; /* migrate_run logged why (event=migrate_failed) */
    if (srv.cfg.migrate_only) {
        log_event(LOG_INFO, "migrate_done", NULL);
        return 0;
    }
    /* Bootstrap: the first admin, before any loop exists (user.h). */
    if (srv.cfg.create_admin[0] != '\0') {
        r = user_create_admin(&srv, srv.cfg.create_admin,
                              srv.cfg.admin_display_name[0] != '\0' ? srv.cfg.admin_display_name
                                                                     : NULL);
        tls_server_free(&srv);
        return r;
    }
    /* Every method of the spec, with its statements (methods.h). */
    for (size_t i = 0; bb_modules[i] != NULL; i++)
        if (method_module_register(bb_modules[i]) != 0)
            return 1; /* logged */
    if (dispatch_check_complete() != 0)
        return 1; /* logged: a method of the spec without an implementation */
    if (health_register() != 0 || replica_register() != 0)
        return 1; /* logged */
    if (nodes_register() != 0)
        return 1; /* logged */

    uv_loop_t loop;
    if ((r = uv_loop_init(&loop)) < 0) {
        log_event(LOG_ERROR, "startup_failed", "what=loop err=%s", uv_err_name(r));
        return 1;
    }
    srv.loop = &loop;
    srv.started_at_ms = uv_now(&loop);
    srv.clients_gone = on_clients_gone;

    pool_config pc = {
        .conninfo = srv.cfg.conninfo,
        .size = srv.cfg.pool_size,
        .pipeline_depth = srv.cfg.pipeline_depth,
        .queue_max = srv.cfg.pool_queue_max,
        .reconnect_min_ms = srv.cfg.reconnect_min_ms,
        .reconnect_max_ms = srv.cfg.reconnect_max_ms,
        .pooler = (pool_pooler)pool_pooler_parse(srv.cfg.db_pooler), /* checked by config.c */
        .statement_timeout_ms = srv.cfg.statement_timeout_ms,
    };
    srv.pool = pool_create(&loop, &pc);
    if (srv.pool == NULL) {
        log_event(LOG_ERROR, "startup_failed", "what=pool");
        return 1;
    }
    /* The read pool (read_db), before the listener: reads may use it from
     * the first request on. */
    if (replica_start(&srv) != 0)
        return 1; /* logged */
    if ((r = client_module_init(&srv)) < 0 || (r = listener_start(&srv)) < 0) {
        log_event(LOG_ERROR, "startup_failed", "what=listener err=%s", uv_err_name(r));
        return 1;
    }
    for (size_t i = 0; bb_modules[i] != NULL; i++)
        if (bb_modules[i]->start != NULL && (r = bb_modules[i]->start(&srv)) < 0) {
            log_event(LOG_ERROR, "startup_failed", "module=%s err=%s", bb_modules[i]->name,
                      uv_err_name(r));
            return 1;
        }
    /* Sessions across processes (nodes.h): the 'bb_session' channel. */
    if ((r = nodes_start(&srv)) < 0) {
        log_event(LOG_ERROR, "startup_failed", "what=nodes err=%s", uv_err_name(r));
        return 1;
    }
    /* After the modules: they asked for their channels in .start. */
    if ((r = listen_start(&srv)) < 0) {
        log_event(LOG_ERROR, "startup_failed", "what=listen err=%s", uv_err_name(r));
        return 1;
    }
    if ((r = health_start(&srv)) < 0) {
        log_event(LOG_ERROR, "startup_failed", "what=health_listen err=%s", uv_err_name(r));
        return 1;
    }
    (void)uv_timer_init(&loop, &deadline_timer);
    deadline_timer.data = &srv;
    uv_signal_t *sigs[2] = {&sig_int, &sig_term};
    int signums[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        (void)uv_signal_init(&loop, sigs[i]);
        sigs[i]->data = &srv;
        if ((r = uv_signal_start(sigs[i], on_signal, signums[i])) < 0) {
            log_event(LOG_ERROR, "startup_failed", "what=signal err=%s", uv_err_name(r));
            return 1;
        }
    }

    uv_run(&loop, UV_RUN_DEFAULT);
    uint64_t uptime_ms = uv_now(&loop) - srv.started_at_ms;

    /* Whatever is still open (unreferenced or stopped handles) is closed
     * now, so the loop can be closed cleanly. */
    uv_walk(&loop, on_walk_close, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    r = uv_loop_close(&loop);
    if (r != 0) {
        log_event(LOG_ERROR, "loop_close_failed", "err=%s", uv_err_name(r));
        return 1;
    }
    tls_server_free(&srv);
    log_event(LOG_INFO, "stopped", "uptime_ms=%llu", (unsigned long long)uptime_ms);
    return 0;
}
