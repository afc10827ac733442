/*
 * journal.c: the outbox journal, a private SQLite file of the writes the
 * CLI could not deliver (journal.h).
 *
 * For: where the file is, the checks that keep it private (a regular file
 * owned by the caller with no group or other bits, not a symbolic link,
 * in a folder of the caller's that nobody else may write to), its schema,
 * and every change to it, each one transaction. Durability is SQLite's:
 * the rollback journal (not WAL: no shared-memory file, and it works on
 * the network home folders some offices have) with synchronous=EXTRA (in
 * DELETE mode the commit is the journal's unlink, and only EXTRA syncs the
 * folder after it: with FULL a power cut could bring the journal back and
 * roll back an entry the user was told is queued), so a committed entry
 * survives a crash or a power cut and a half-written one
 * is rolled back the next time the file is opened. Transactions that read
 * and then change (claim, drop, add) begin IMMEDIATE: two processes never
 * both claim one entry. Not for: when a write is queued or sent, the
 * windows, or what the user reads (cli_outbox.c).
 */
#include "journal.h"

#include "i18n.h"
#include "state_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CLI_JOURNAL_NAME "outbox.db"
#define CLI_JOURNAL_PATH_MAX 4096u
/* How long a change waits for another process's transaction (they last
 * milliseconds; a process stopped inside one is what this bounds). */
#define CLI_JOURNAL_BUSY_MS 10000
/* The schema's version (PRAGMA user_version). 2: entry.maybe_sent_at. */
#define CLI_JOURNAL_SCHEMA 2

struct cli_journal {
    sqlite3 *db;
    char path[CLI_JOURNAL_PATH_MAX];
};

static const char *const state_names[] = {"waiting", "sending", "sent", "refused", "expired"};

const char *cli_jstate_name(cli_jstate s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

static cli_jstate state_of(const char *s)
{
    for (size_t i = 0; s != NULL && i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(s, state_names[i]) == 0)
            return (cli_jstate)i;
    return CLI_J_WAITING;
}

void cli_jentry_free(cli_jentry *e)
{
    if (e == NULL)
        return;
    free(e->server);
    free(e->login);
    free(e->method);
    free(e->key);
    free(e->args);
    free(e->code);
    free(e->field);
    free(e->message);
    memset(e, 0, sizeof *e);
}

/* Fills err as BB_C_EARG "outbox_file_error" (exit 2): the file or its
 * folder is at fault; the message (translated) says how. */
__attribute__((format(printf, 2, 3)))
static int file_error(bb_error *err, const char *fmt, ...)
{
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bbi_err(err, BB_C_EARG, "outbox_file_error", NULL, "%s", msg);
}

/* An error of SQLite on j's file. */
static int db_error(cli_journal *j, bb_error *err)
{
    int code = sqlite3_errcode(j->db);
    if (code == SQLITE_NOMEM)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return file_error(err, _("the outbox %s is held by another baobao for too long; try "
                                 "again"),
                          j->path);
    return file_error(err, _("cannot use the outbox %s: %s"), j->path, sqlite3_errmsg(j->db));
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- where, and the checks ---- */

/* The folder (made first when create) must be the caller's, and nobody
 * else may write to it (else they could put a file of their own in place
 * of the outbox). CLI_JOURNAL_NONE when it does not exist. */
static int check_dir(const char *dir, bool create, bb_error *err)
{
    int fd;
    switch (cli_state_dir_open(dir, create, &fd)) {
    case CLI_STATE_DIR_OK:
        close(fd);
        return BB_C_OK;
    case CLI_STATE_DIR_EOPEN:
        if (errno == ENOENT || errno == ENOTDIR)
            return CLI_JOURNAL_NONE;
        return file_error(err, _("cannot open the folder %s of the outbox: %s"), dir,
                          strerror(errno));
    case CLI_STATE_DIR_EMAKE:
        return file_error(err, _("cannot make the folder %s for the outbox: %s"), dir,
                          strerror(errno));
    case CLI_STATE_DIR_NOT_PRIVATE:
        break;
    }
    return file_error(err,
                      _("refusing to use the outbox in %s: the folder must be yours and "
                        "writable by you only (chmod 700 %s)"),
                      dir, dir);
}

/* The checks of the file, on the opened file (fstat): what is checked is
 * what SQLite opens next (the folder is checked too, so nobody can swap
 * it in between). */
static int check_file(int fd, const char *path, bb_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return file_error(err, _("cannot read the outbox %s: %s"), path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return file_error(err, _("refusing to use the outbox %s: it is not a regular file"),
                          path);
    if (st.st_uid != geteuid())
        return file_error(err,
                          _("refusing to use the outbox %s: it is owned by uid %lu, not by "
                            "you (uid %lu); the writes in it would be sent in your name"),
                          path, (unsigned long)st.st_uid, (unsigned long)geteuid());
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return file_error(err,
                          _("refusing to use the outbox %s: its mode is %04o, so others on "
                            "this machine can read or change the writes waiting in it; make "
                            "it private with: chmod 600 %s"),
                          path, (unsigned)(st.st_mode & 07777), path);
    return BB_C_OK;
}

/* ---- statements ---- */

static sqlite3_stmt *prep(cli_journal *j, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Binds text s (NULL: SQL NULL) at i. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s != NULL ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

/* Runs sql (no rows) in j. */
static int exec(cli_journal *j, const char *sql, bb_error *err)
{
    if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(j, err);
    return BB_C_OK;
}

static void rollback(cli_journal *j)
{
    (void)sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

/* pid_gone(pid): 1 when no process pid exists any more (a claim left by
 * a killed process), else 0. */
static void fn_pid_gone(sqlite3_context *c, int argc, sqlite3_value **argv)
{
    (void)argc;
    sqlite3_int64 pid = sqlite3_value_int64(argv[0]);
    bool gone = pid <= 0 || pid > INT_MAX || (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
    sqlite3_result_int(c, gone ? 1 : 0);
}

/* An entry whose claim has ended: its process gone, or older than
 * CLI_JOURNAL_CLAIM_STALE_S (?1 is now - that). */
#define STALE_CLAIM "(claimed_pid IS NULL OR pid_gone(claimed_pid) OR claimed_at < ?1)"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS entry ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " server TEXT NOT NULL,"
    " login TEXT NOT NULL,"
    " method TEXT NOT NULL,"
    " idempotency_key TEXT NOT NULL,"
    " args BLOB NOT NULL,"
    " queued_at INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('waiting', 'sending', 'sent', 'refused', 'expired')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " claimed_pid INTEGER,"
    " claimed_at INTEGER,"
    " done_at INTEGER,"
    " code TEXT, field TEXT, message TEXT,"
    " result_id INTEGER,"
    " maybe_sent_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS entry_queue ON entry (server, login, id);"
    "CREATE TABLE IF NOT EXISTS server ("
    " server TEXT PRIMARY KEY,"
    " time_zone TEXT,"
    " idempotency_keep_days INTEGER,"
    " seen_at INTEGER NOT NULL);";

/* Whether the entry table has the column maybe_sent_at: a file of schema
 * 1 has the table without it. -1 on error. */
static int has_maybe_sent_at(cli_journal *j)
{
    sqlite3_stmt *st = prep(j, "SELECT count(*) FROM pragma_table_info('entry')"
                               " WHERE name = 'maybe_sent_at'");
    int n = st != NULL && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

/* Creates the schema in a new file, or checks an existing file's version
 * and brings an older one up to this one. Schema 1 did not record whether
 * an entry may have reached the server: its entries are taken to have
 * been sent when they were queued (so they expire as they did then). */
static int schema_ready(cli_journal *j, bb_error *err)
{
    int rc = exec(j, "BEGIN IMMEDIATE", err);
    if (rc != BB_C_OK)
        return rc;
    sqlite3_stmt *st = prep(j, "PRAGMA user_version");
    int version = -1;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        rc = db_error(j, err);
    else if (version > CLI_JOURNAL_SCHEMA)
        rc = file_error(err, _("the outbox %s was written by a newer baobao (version %d); use "
                               "that one to send what waits in it"),
                        j->path, version);
    else if (version < CLI_JOURNAL_SCHEMA) {
        rc = exec(j, schema, err);
        int has = rc == BB_C_OK ? has_maybe_sent_at(j) : 1;
        if (has < 0)
            rc = db_error(j, err);
        else if (has == 0)
            rc = exec(j, "ALTER TABLE entry ADD COLUMN maybe_sent_at INTEGER;"
                         "UPDATE entry SET maybe_sent_at = queued_at;", err);
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d;", CLI_JOURNAL_SCHEMA);
        if (rc == BB_C_OK)
            rc = exec(j, sql, err);
    }
    if (rc != BB_C_OK) {
        rollback(j);
        return rc;
    }
    return exec(j, "COMMIT", err);
}

void cli_journal_close(cli_journal *j)
{
    if (j == NULL)
        return;
    sqlite3_close(j->db);
    free(j);
}

const char *cli_journal_path(const cli_journal *j)
{
    return j->path;
}

int cli_journal_open(bool create, cli_journal **out, bb_error *err)
{
    *out = NULL;
    char dir[CLI_JOURNAL_PATH_MAX];
    if (!cli_state_dir(dir, sizeof dir)) {
        if (!create)
            return CLI_JOURNAL_NONE;
        return file_error(err, _("cannot keep an outbox: neither $XDG_STATE_HOME nor $HOME is "
                                 "set"));
    }
    int rc = check_dir(dir, create, err);
    if (rc != BB_C_OK)
        return rc;
    cli_journal *j = calloc(1, sizeof *j);
    if (j == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    int pn = snprintf(j->path, sizeof j->path, "%s/" CLI_JOURNAL_NAME, dir);
    if (pn < 0 || (size_t)pn >= sizeof j->path) {
        free(j);
        return file_error(err, _("the folder %s is too long a path"), dir);
    }
    int fd = open(j->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
                               (create ? O_CREAT : 0), 0600);
    if (fd < 0) {
        int e = errno;
        rc = !create && (e == ENOENT || e == ENOTDIR) ? CLI_JOURNAL_NONE
             : e == ELOOP ? file_error(err, _("refusing to use the outbox %s: it is a symbolic "
                                              "link"),
                                       j->path)
                          : file_error(err, _("cannot open the outbox %s: %s"), j->path,
                                       strerror(e));
        free(j);
        return rc;
    }
    rc = check_file(fd, j->path, err);
    /* SQLite opens the same path (the folder is ours alone, so it is the
     * same file); the descriptor is kept open until then. */
    if (rc == BB_C_OK &&
        sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
            SQLITE_OK)
        rc = j->db != NULL ? db_error(j, err)
                           : bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    close(fd);
    if (rc == BB_C_OK && sqlite3_busy_timeout(j->db, CLI_JOURNAL_BUSY_MS) != SQLITE_OK)
        rc = db_error(j, err);
    if (rc == BB_C_OK)
        rc = exec(j, "PRAGMA journal_mode = DELETE; PRAGMA synchronous = EXTRA;", err);
    if (rc == BB_C_OK && sqlite3_create_function(j->db, "pid_gone", 1,
                                                 SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
                                                 fn_pid_gone, NULL, NULL) != SQLITE_OK)
        rc = db_error(j, err);
    if (rc == BB_C_OK)
        rc = schema_ready(j, err);
    if (rc != BB_C_OK) {
        cli_journal_close(j);
        return rc;
    }
    *out = j;
    return BB_C_OK;
}

/* ---- entries ---- */

static const char entry_cols[] =
    "id, server, login, method, idempotency_key, args, queued_at, state, attempts,"
    " claimed_pid, done_at, code, field, message, result_id, maybe_sent_at";

static char *col_text(sqlite3_stmt *st, int i, bool *oom)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    if (s == NULL)
        return NULL;
    char *c = strdup((const char *)s);
    if (c == NULL)
        *oom = true;
    return c;
}

/* The row of st (columns entry_cols) into e. false on no memory. */
static bool read_entry(sqlite3_stmt *st, cli_jentry *e)
{
    bool oom = false;
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->server = col_text(st, 1, &oom);
    e->login = col_text(st, 2, &oom);
    e->method = col_text(st, 3, &oom);
    e->key = col_text(st, 4, &oom);
    int n = sqlite3_column_bytes(st, 5);
    const void *b = sqlite3_column_blob(st, 5);
    e->args = malloc(n > 0 ? (size_t)n : 1);
    if (e->args == NULL)
        oom = true;
    else if (n > 0 && b != NULL)
        memcpy(e->args, b, (size_t)n);
    e->args_len = n > 0 ? (size_t)n : 0;
    e->queued_at = sqlite3_column_int64(st, 6);
    e->state = state_of((const char *)sqlite3_column_text(st, 7));
    e->attempts = sqlite3_column_int64(st, 8);
    e->claimed_pid = sqlite3_column_int64(st, 9);
    e->done_at = sqlite3_column_int64(st, 10);
    e->code = col_text(st, 11, &oom);
    e->field = col_text(st, 12, &oom);
    e->message = col_text(st, 13, &oom);
    e->has_result_id = sqlite3_column_type(st, 14) != SQLITE_NULL;
    e->result_id = sqlite3_column_int64(st, 14);
    e->maybe_sent = sqlite3_column_type(st, 15) != SQLITE_NULL;
    e->maybe_sent_at = sqlite3_column_int64(st, 15);
    if (oom || e->server == NULL || e->login == NULL || e->method == NULL || e->key == NULL) {
        cli_jentry_free(e);
        return false;
    }
    return true;
}

int cli_journal_add(cli_journal *j, const char *server, const char *login, const char *method,
                    const char *key, const void *args, size_t len, bool maybe_sent, int64_t *id,
                    bb_error *err)
{
    if (len > CLI_JOURNAL_MAX_ARGS_BYTES)
        return bbi_err(err, BB_C_EARG, "outbox_full", NULL,
                       _("the write is larger than the outbox keeps (%u bytes)"),
                       CLI_JOURNAL_MAX_ARGS_BYTES);
    int rc = exec(j, "BEGIN IMMEDIATE", err);
    if (rc != BB_C_OK)
        return rc;
    int64_t now = now_s();
    /* Sent entries are history; past their keep they go, here, where the
     * file grows. */
    sqlite3_stmt *st = prep(j, "DELETE FROM entry WHERE state = 'sent' AND done_at < ?1");
    bool ok = st != NULL &&
              sqlite3_bind_int64(st, 1, now - (int64_t)CLI_JOURNAL_SENT_KEEP_DAYS * 86400) ==
                  SQLITE_OK &&
              sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    int64_t unsent = -1;
    st = ok ? prep(j, "SELECT count(*) FROM entry WHERE state <> 'sent'") : NULL;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        unsent = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (ok && unsent >= CLI_JOURNAL_MAX_UNSENT) {
        rollback(j);
        return bbi_err(err, BB_C_EARG, "outbox_full", NULL,
                       _("the outbox %s already holds %d writes not sent; send them ('baobao "
                         "sync') or drop what is not needed ('baobao outbox drop ID')"),
                       j->path, CLI_JOURNAL_MAX_UNSENT);
    }
    st = ok && unsent >= 0
             ? prep(j, "INSERT INTO entry (server, login, method, idempotency_key, args,"
                       " queued_at, state, maybe_sent_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'waiting', ?7)")
             : NULL;
    ok = st != NULL && bind_text(st, 1, server) == SQLITE_OK &&
         bind_text(st, 2, login) == SQLITE_OK && bind_text(st, 3, method) == SQLITE_OK &&
         bind_text(st, 4, key) == SQLITE_OK &&
         sqlite3_bind_blob(st, 5, len > 0 ? args : "", (int)len, SQLITE_TRANSIENT) ==
             SQLITE_OK &&
         sqlite3_bind_int64(st, 6, now) == SQLITE_OK &&
         (maybe_sent ? sqlite3_bind_int64(st, 7, now) : sqlite3_bind_null(st, 7)) == SQLITE_OK &&
         sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok) {
        rc = db_error(j, err);
        rollback(j);
        return rc;
    }
    *id = sqlite3_last_insert_rowid(j->db);
    return exec(j, "COMMIT", err);
}

int cli_journal_pending(cli_journal *j, const char *server, const char *login, bool *any,
                        bb_error *err)
{
    *any = false;
    sqlite3_stmt *st = prep(j, "SELECT EXISTS (SELECT 1 FROM entry WHERE server = ?1"
                               " AND login = ?2 AND state IN ('waiting', 'sending'))");
    bool ok = st != NULL && bind_text(st, 1, server) == SQLITE_OK &&
              bind_text(st, 2, login) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *any = sqlite3_column_int(st, 0) != 0;
    sqlite3_finalize(st);
    return ok ? BB_C_OK : db_error(j, err);
}

int cli_journal_expire(cli_journal *j, const char *server, const char *login, int64_t cutoff,
                       const char *code, const char *message, int64_t *n, bb_error *err)
{
    *n = 0;
    int64_t now = now_s();
    sqlite3_stmt *st = prep(j,
        "UPDATE entry SET state = 'expired', code = ?2, field = NULL, message = ?3,"
        " done_at = ?4, claimed_pid = NULL, claimed_at = NULL"
        " WHERE server = ?5 AND login = ?6"
        "   AND maybe_sent_at IS NOT NULL AND maybe_sent_at < ?7"
        "   AND (state = 'waiting' OR (state = 'sending' AND " STALE_CLAIM "))");
    bool ok = st != NULL &&
              sqlite3_bind_int64(st, 1, now - CLI_JOURNAL_CLAIM_STALE_S) == SQLITE_OK &&
              bind_text(st, 2, code) == SQLITE_OK && bind_text(st, 3, message) == SQLITE_OK &&
              sqlite3_bind_int64(st, 4, now) == SQLITE_OK &&
              bind_text(st, 5, server) == SQLITE_OK && bind_text(st, 6, login) == SQLITE_OK &&
              sqlite3_bind_int64(st, 7, cutoff) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok)
        return db_error(j, err);
    *n = sqlite3_changes(j->db);
    return BB_C_OK;
}

int cli_journal_claim(cli_journal *j, const char *server, const char *login, cli_jentry *out,
                      int64_t *busy_pid, bb_error *err)
{
    memset(out, 0, sizeof *out);
    if (busy_pid != NULL)
        *busy_pid = 0;
    int rc = exec(j, "BEGIN IMMEDIATE", err);
    if (rc != BB_C_OK)
        return rc;
    int64_t now = now_s();
    /* The queue's first entry not done: it goes first, whoever sends it. */
    sqlite3_stmt *st = prep(j,
        "SELECT id, state = 'waiting' OR " STALE_CLAIM ", claimed_pid FROM entry"
        " WHERE server = ?2 AND login = ?3 AND state IN ('waiting', 'sending')"
        " ORDER BY id LIMIT 1");
    bool ok = st != NULL &&
              sqlite3_bind_int64(st, 1, now - CLI_JOURNAL_CLAIM_STALE_S) == SQLITE_OK &&
              bind_text(st, 2, server) == SQLITE_OK && bind_text(st, 3, login) == SQLITE_OK;
    int step = ok ? sqlite3_step(st) : SQLITE_ERROR;
    int64_t id = 0, pid = 0;
    bool free_to_take = false;
    if (step == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        free_to_take = sqlite3_column_int(st, 1) != 0;
        pid = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = db_error(j, err);
        rollback(j);
        return rc;
    }
    if (step == SQLITE_DONE || !free_to_take) {
        if (step == SQLITE_ROW && busy_pid != NULL)
            *busy_pid = pid;
        rollback(j);
        return CLI_JOURNAL_NONE;
    }
    /* The claim comes right before the send: from here on the entry may
     * have reached the server (this process may die before it hears). */
    st = prep(j, "UPDATE entry SET state = 'sending', claimed_pid = ?1, claimed_at = ?2,"
                 " attempts = attempts + 1, maybe_sent_at = coalesce(maybe_sent_at, ?2)"
                 " WHERE id = ?3");
    ok = st != NULL && sqlite3_bind_int64(st, 1, (int64_t)getpid()) == SQLITE_OK &&
         sqlite3_bind_int64(st, 2, now) == SQLITE_OK && sqlite3_bind_int64(st, 3, id) == SQLITE_OK &&
         sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM entry WHERE id = ?1", entry_cols);
    st = ok ? prep(j, sql) : NULL;
    ok = st != NULL && sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
         sqlite3_step(st) == SQLITE_ROW;
    bool read = ok && read_entry(st, out);
    sqlite3_finalize(st);
    if (!read) {
        rc = ok ? bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory") : db_error(j, err);
        rollback(j);
        return rc;
    }
    rc = exec(j, "COMMIT", err);
    if (rc != BB_C_OK)
        cli_jentry_free(out);
    return rc;
}

int cli_journal_finish(cli_journal *j, int64_t id, cli_jstate state, const char *code,
                       const char *field, const char *message, const int64_t *result_id,
                       bb_error *err)
{
    bool done = state == CLI_J_SENT || state == CLI_J_REFUSED || state == CLI_J_EXPIRED;
    sqlite3_stmt *st = prep(j,
        "UPDATE entry SET state = ?1, code = ?2, field = ?3, message = ?4, result_id = ?5,"
        " done_at = ?6, claimed_pid = NULL, claimed_at = NULL"
        " WHERE id = ?7 AND state = 'sending' AND claimed_pid = ?8");
    bool ok = st != NULL && bind_text(st, 1, cli_jstate_name(state)) == SQLITE_OK &&
              bind_text(st, 2, code) == SQLITE_OK && bind_text(st, 3, field) == SQLITE_OK &&
              bind_text(st, 4, message) == SQLITE_OK &&
              (result_id != NULL ? sqlite3_bind_int64(st, 5, *result_id)
                                 : sqlite3_bind_null(st, 5)) == SQLITE_OK &&
              (done ? sqlite3_bind_int64(st, 6, now_s()) : sqlite3_bind_null(st, 6)) ==
                  SQLITE_OK &&
              sqlite3_bind_int64(st, 7, id) == SQLITE_OK &&
              sqlite3_bind_int64(st, 8, (int64_t)getpid()) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? BB_C_OK : db_error(j, err);
}

int cli_journal_list(cli_journal *j, bool all, cli_jentry **out, size_t *n, bb_error *err)
{
    *out = NULL;
    *n = 0;
    char sql[320];
    snprintf(sql, sizeof sql, "SELECT %s FROM entry%s ORDER BY id", entry_cols,
             all ? "" : " WHERE state <> 'sent'");
    sqlite3_stmt *st = prep(j, sql);
    if (st == NULL)
        return db_error(j, err);
    int rc = BB_C_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        cli_jentry *grown = realloc(*out, (*n + 1) * sizeof *grown);
        if (grown == NULL || !read_entry(st, &grown[*n])) {
            if (grown != NULL)
                *out = grown;
            rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
            break;
        }
        *out = grown;
        (*n)++;
    }
    if (rc == BB_C_OK && step != SQLITE_DONE)
        rc = db_error(j, err);
    sqlite3_finalize(st);
    if (rc != BB_C_OK) {
        for (size_t i = 0; i < *n; i++)
            cli_jentry_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int cli_journal_drop(cli_journal *j, int64_t id, bb_error *err)
{
    int rc = exec(j, "BEGIN IMMEDIATE", err);
    if (rc != BB_C_OK)
        return rc;
    sqlite3_stmt *st = prep(j, "SELECT state = 'sending' AND NOT " STALE_CLAIM ", claimed_pid"
                               " FROM entry WHERE id = ?2");
    bool ok = st != NULL &&
              sqlite3_bind_int64(st, 1, now_s() - CLI_JOURNAL_CLAIM_STALE_S) == SQLITE_OK &&
              sqlite3_bind_int64(st, 2, id) == SQLITE_OK;
    int step = ok ? sqlite3_step(st) : SQLITE_ERROR;
    bool busy = step == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
    int64_t pid = step == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? CLI_JOURNAL_NONE : db_error(j, err);
        rollback(j);
        return rc;
    }
    if (busy) {
        rollback(j);
        return bbi_err(err, BB_C_EARG, "outbox_busy", NULL,
                       _("entry %lld is being sent by another baobao (process %lld) just now; "
                         "look again when it is done"),
                       (long long)id, (long long)pid);
    }
    st = prep(j, "DELETE FROM entry WHERE id = ?1");
    ok = st != NULL && sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
         sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!ok) {
        rc = db_error(j, err);
        rollback(j);
        return rc;
    }
    return exec(j, "COMMIT", err);
}

/* ---- what is remembered of a server ---- */

int cli_journal_server_put(cli_journal *j, const char *server, const char *time_zone,
                           int64_t keep_days, bb_error *err)
{
    sqlite3_stmt *st = prep(j, "INSERT OR REPLACE INTO server (server, time_zone,"
                               " idempotency_keep_days, seen_at) VALUES (?1, ?2, ?3, ?4)");
    bool ok = st != NULL && bind_text(st, 1, server) == SQLITE_OK &&
              bind_text(st, 2, time_zone) == SQLITE_OK &&
              (keep_days > 0 ? sqlite3_bind_int64(st, 3, keep_days) : sqlite3_bind_null(st, 3))
                  == SQLITE_OK &&
              sqlite3_bind_int64(st, 4, now_s()) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok ? BB_C_OK : db_error(j, err);
}

int cli_journal_server_get(cli_journal *j, const char *server, char **time_zone,
                           int64_t *keep_days, bb_error *err)
{
    *time_zone = NULL;
    *keep_days = 0;
    sqlite3_stmt *st = prep(j, "SELECT time_zone, idempotency_keep_days FROM server"
                               " WHERE server = ?1");
    bool ok = st != NULL && bind_text(st, 1, server) == SQLITE_OK;
    int step = ok ? sqlite3_step(st) : SQLITE_ERROR;
    int rc = BB_C_OK;
    if (step == SQLITE_ROW) {
        bool oom = false;
        *time_zone = col_text(st, 0, &oom);
        *keep_days = sqlite3_column_int64(st, 1);
        if (oom)
            rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    } else {
        rc = step == SQLITE_DONE ? CLI_JOURNAL_NONE : db_error(j, err);
    }
    sqlite3_finalize(st);
    return rc;
}
