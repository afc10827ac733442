/*
 * migrate.c: brings the database schema up to the migrations embedded in
 * this binary (see migrate.h and scripts/embed_sql.py).
 *
 * For: startup, before the event loop runs, so blocking libpq (PQexec) is
 * fine and keeps this short. Each migration runs in its own transaction
 * together with its schema_migrations row, under a transaction-level
 * advisory lock taken first in that same transaction, so two servers
 * starting at once apply each migration exactly once. The lock is per
 * transaction, not per session, so that it holds through a pooler in
 * transaction mode too (each transaction is one server connection there;
 * a session lock would be taken on one and released on another).
 * Not for: anything at run time (the pool and its prepared statements), or
 * downgrades: a database that has versions this binary does not know is
 * left alone (logged).
 */
#include "migrate.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"

/* pg_advisory_lock key: "baobao" in ASCII, so it is recognisable in pg_locks. */
#define MIGRATE_LOCK_KEY "108170620068207"
/* Unless the conninfo says otherwise: libpq's blocking connect waits this
 * long (s) per host of a multi-host conninfo, and a host that drops
 * packets silently fails after tcp_user_timeout (ms) rather than the
 * kernel's SYN retries (about 127 s), so the next host gets its turn. */
#define MIGRATE_CONNECT_TIMEOUT_S "10"

static const char sql_create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version int PRIMARY KEY,"
    " name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* libpq messages end in a newline; a log line must not. */
    size_t n = strlen(err);
    while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    log_event(LOG_DEBUG, "migrate_notice", "msg=%s", log_q(message));
}

/* Runs one command; returns 0 or -1 with err "what: postgres message". */
static int exec_ok(PGconn *pg, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        set_err(err, errlen, "%s: %s", what,
                r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(pg));
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

/* Version from a file name: its leading digits ("001_schema.sql" -> 1). */
static int version_of(const char *name)
{
    char *end = NULL;
    long v = strtol(name, &end, 10);
    if (end == name || *end != '_' || v <= 0 || v > 1000000)
        return -1;
    return (int)v;
}

/* 1 when applied, 0 when not, -1 on error. */
static int is_applied(PGconn *pg, const char *vtext, const char *name, char *err, size_t errlen)
{
    const char *vals[1] = {vtext};
    PGresult *r = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1::int",
                               1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        set_err(err, errlen, "%s: checking schema_migrations: %s", name,
                PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    int applied = PQntuples(r) > 0;
    PQclear(r);
    return applied;
}

/* BEGIN, then the lock: every transaction of the migrations opens so. */
static int begin_locked(PGconn *pg, const char *what, char *err, size_t errlen)
{
    if (exec_ok(pg, "BEGIN", what, err, errlen) < 0)
        return -1;
    if (exec_ok(pg, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", what, err, errlen) < 0) {
        PGresult *rb = PQexec(pg, "ROLLBACK");
        PQclear(rb);
        return -1;
    }
    return 0;
}

static int apply_one(PGconn *pg, const bb_migration *m, char *err, size_t errlen)
{
    int version = version_of(m->name);
    if (version < 0) {
        set_err(err, errlen, "%s: a migration file name must start with its number and '_'",
                m->name);
        return -1;
    }
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", version);
    /* Checked under the lock: another server may have applied it while we
     * waited for the lock. */
    if (begin_locked(pg, m->name, err, errlen) < 0)
        return -1;
    int applied = is_applied(pg, vtext, m->name, err, errlen);
    if (applied != 0) {
        if (applied < 0)
            goto rollback;
        return exec_ok(pg, "COMMIT", m->name, err, errlen);
    }
    /* PQexec: the migration is many statements; they run in our transaction. */
    if (exec_ok(pg, m->sql, m->name, err, errlen) < 0)
        goto rollback;
    const char *vals[2] = {vtext, m->name};
    PGresult *r = PQexecParams(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)",
                               2, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        set_err(err, errlen, "%s: recording it in schema_migrations: %s", m->name,
                PQresultErrorMessage(r));
        PQclear(r);
        goto rollback;
    }
    PQclear(r);
    if (exec_ok(pg, "COMMIT", m->name, err, errlen) < 0)
        goto rollback;
    log_event(LOG_INFO, "migration_applied", "version=%d name=%s", version, log_q(m->name));
    return 0;

rollback:;
    PGresult *rb = PQexec(pg, "ROLLBACK");
    PQclear(rb);
    return -1;
}

/* Warns when the database holds migrations newer than this binary's. */
static void warn_newer(PGconn *pg)
{
    int latest = 0;
    for (size_t i = 0; i < bb_migrations_count; i++) {
        int v = version_of(bb_migrations[i].name);
        if (v > latest)
            latest = v;
    }
    char vtext[16];
    snprintf(vtext, sizeof vtext, "%d", latest);
    const char *vals[1] = {vtext};
    PGresult *r = PQexecParams(pg, "SELECT max(version) FROM schema_migrations WHERE version > $1::int",
                               1, NULL, vals, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        log_event(LOG_WARN, "schema_newer_than_server", "db_version=%s server_version=%d",
                  PQgetvalue(r, 0, 0), latest);
    PQclear(r);
}

int migrate_run(const char *conninfo, char *err, size_t errlen)
{
    /* Ours before dbname: the operator's conninfo, expanded from it, wins. */
    const char *keys[] = {"fallback_application_name", "connect_timeout", "tcp_user_timeout",
                          "dbname", NULL};
    const char *vals[] = {"baobaod-migrate", MIGRATE_CONNECT_TIMEOUT_S,
                          POOL_TCP_USER_TIMEOUT_MS, conninfo != NULL ? conninfo : "", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (pg == NULL) {
        set_err(err, errlen, "migrate: out of memory");
        log_event(LOG_ERROR, "migrate_failed", "msg=%s", log_q(err));
        return -1;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        set_err(err, errlen, "migrate: cannot connect to the database: %s", PQerrorMessage(pg));
        log_event(LOG_ERROR, "migrate_failed", "msg=%s", log_q(err));
        PQfinish(pg);
        return -1;
    }
    PQsetNoticeProcessor(pg, notice_to_log, NULL);

    int rc = -1;
    /* Under the lock too: two CREATE TABLE IF NOT EXISTS at once can both
     * try to create it (a unique violation in pg_type). */
    if (begin_locked(pg, "migrate: advisory lock", err, errlen) < 0)
        goto out;
    if (exec_ok(pg, sql_create_table, "migrate: creating schema_migrations", err, errlen) < 0 ||
        exec_ok(pg, "COMMIT", "migrate: creating schema_migrations", err, errlen) < 0) {
        PGresult *rb = PQexec(pg, "ROLLBACK");
        PQclear(rb);
        goto out;
    }
    for (size_t i = 0; i < bb_migrations_count; i++)
        if (apply_one(pg, &bb_migrations[i], err, errlen) < 0)
            goto out;
    warn_newer(pg);
    rc = 0;

out:
    if (rc < 0)
        log_event(LOG_ERROR, "migrate_failed", "msg=%s", log_q(err));
    PQfinish(pg);
    return rc;
}
