/*
 * harness_replica.h: a real streaming replica of the test cluster for the
 * tests of read_db (test_replica.c): pg_basebackup -R -X stream from the
 * cluster of $PGHOST, a second postmaster on a socket folder and port of
 * its own, as the user PostgreSQL runs as (scripts/lib.sh, bb_as_pg), and
 * a plain HTTP GET for /metrics and /ready of health_listen.
 *
 * The replica's folder is made in $BAOBAO_PG_DIR (the test cluster's,
 * removed by scripts/test even after a crash; the orphaned postmaster then
 * stops within a minute, its lock file gone), else in /tmp.
 *
 * Not for: the primary (harness.h), or a replica of a cluster that is not
 * scripts/pg-local's ($BAOBAO_PG_LOCAL tells where scripts/lib.sh is).
 */
#ifndef IT_HARNESS_REPLICA_H
#define IT_HARNESS_REPLICA_H

#include <libpq-fe.h>
#include <stdbool.h>

/* How long the replica may take to be made, start and catch up. */
#define ITR_START_MS 120000

typedef struct itr_replica {
    char dir[256];       /* its folder: data/, log, the socket */
    int port;            /* names the socket (no TCP listener) */
    char conninfo[512];  /* the test database on the replica */
    bool running;
} itr_replica;

/* Makes and starts a replica of the test cluster; waits until it accepts
 * connections and has replayed the primary's current WAL position. 0 or -1
 * (printed). Stopped by itr_stop, also when the test failed (call it in
 * every path). */
int itr_start(itr_replica *r);
/* Stops the replica (immediate) and removes its folder. Safe twice. */
void itr_stop(itr_replica *r);
/* Stops the postmaster only (the folder stays, for a restart). 0 or -1. */
int itr_halt(itr_replica *r);
/* Starts a halted replica again (same folder and port). 0 or -1. */
int itr_restart(itr_replica *r);
/* From a signal handler (async-signal-safe: fork, execve, waitpid): stops
 * the replica, removes its folder and also (a path, or NULL). */
void itr_kill(const itr_replica *r, const char *also);
/* A new connection to the replica's test database (caller PQfinish-es);
 * NULL on failure (printed). */
PGconn *itr_connect(const itr_replica *r);
/* Runs sql on the replica; 0 or -1 (printed). */
int itr_exec(const itr_replica *r, const char *sql);
/* First column of the first row of sql on the replica as an integer; -1 on
 * error. */
long long itr_int(const itr_replica *r, const char *sql);
/* Waits until the replica has replayed the primary's WAL position of now.
 * 0 or -1 after timeout_ms. */
int itr_catch_up(const itr_replica *r, int timeout_ms);

/* The port of a server's health listener (its event=health_listening log
 * line); 0 when not found. */
struct it_server;
int itr_health_port(const struct it_server *s);
/* GET path from 127.0.0.1:port: the whole answer (malloc'd), NULL when no
 * connection. */
char *itr_http_get(int port, const char *path);
/* The HTTP status of GET path, or -1. */
int itr_http_status(int port, const char *path);
/* The value of one sample line "name value" (labels included in name) of
 * the /metrics page; -2 when absent or unreadable. */
long long itr_metric(int port, const char *name);

#endif
