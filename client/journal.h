/*
 * journal.h: the outbox journal, the private file in which `baobao` keeps
 * the writes it could not deliver until they are sent.
 *
 * One SQLite file per person on this computer: $XDG_STATE_HOME/baobao/
 * outbox.db, else ~/.local/state/baobao/outbox.db (the folder made 0700,
 * the file 0600). A file that is not a regular file owned by the caller
 * with no group or other permission bits, or a symbolic link, is refused
 * and not used: whoever reads it sees what was written, and whoever may
 * change it could make the CLI send writes in its user's name. SQLite's
 * rollback journal with synchronous=EXTRA: an entry is on disk when
 * cli_journal_add returns, and a crash at any moment leaves either the
 * whole entry or none of it.
 *
 * Each entry belongs to one queue, a server (as the commands resolve it)
 * and a login, and holds the method, the exact argument bytes (they carry
 * the idempotency key, so a resend is the same request), when it was
 * queued, when it may first have reached the server (maybe_sent_at: the
 * first attempt whose answer did not come, or the first claim by a
 * sender; NULL while it certainly never left this computer), its state
 * and how many times it was sent. States:
 *   waiting  not sent yet, or sent without an answer (it may be stored:
 *            the next send, same bytes and key, is answered from the
 *            server's idempotency record instead of storing it twice)
 *   sending  claimed by one process, which is sending it now; a claim
 *            whose process is gone (killed) is taken over by the next
 *   sent     the server stored it (result_id: the id it answered)
 *   refused  the server refused it (code, field, message); kept until
 *            dropped on purpose
 *   expired  too old to send safely (cli_journal_expire: it may have
 *            reached the server too long ago); kept until dropped on
 *            purpose
 * Sent entries are removed CLI_JOURNAL_SENT_KEEP_DAYS after they were sent.
 *
 * For: the file (where, its checks, its schema), adding, claiming,
 * finishing, expiring, listing and dropping entries, and the server facts
 * the outbox remembers between runs (time zone, idempotency window).
 * Not for: when a write is queued or sent, what the user is told, or the
 * windows themselves (cli_outbox.c).
 *
 * Errors are BB_C_EARG with code "outbox_file_error" (exit 2, like the
 * session file's session_file_error; a code of the client's own, never on
 * the wire) with a translated message, "outbox_full" past
 * CLI_JOURNAL_MAX_UNSENT, or BB_C_ENOMEM.
 */
#ifndef BB_CLI_JOURNAL_H
#define BB_CLI_JOURNAL_H

#include "client_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries not yet sent (waiting, sending, refused, expired) one file may
 * hold: a CLI left offline for weeks must not grow a file without end,
 * and a person cannot review more than this anyway. */
#define CLI_JOURNAL_MAX_UNSENT 1000
/* The longest argument map kept: the server's default max_message_bytes. */
#define CLI_JOURNAL_MAX_ARGS_BYTES (1024u * 1024u)
/* Sent entries are kept this long (for `baobao outbox --all`), then removed. */
#define CLI_JOURNAL_SENT_KEEP_DAYS 30
/* A claim older than this is taken over even when its process seems alive
 * (its id reused by another program). Sending twice is harmless (the same
 * key); the claim only keeps two processes from doing it at once. */
#define CLI_JOURNAL_CLAIM_STALE_S 3600

/* Returned besides the BB_C_* codes (which are 0 or negative). */
#define CLI_JOURNAL_NONE 1

typedef enum cli_jstate {
    CLI_J_WAITING = 0,
    CLI_J_SENDING,
    CLI_J_SENT,
    CLI_J_REFUSED,
    CLI_J_EXPIRED,
} cli_jstate;
/* "waiting", "sending", "sent", "refused", "expired" (stored, and in JSON). */
const char *cli_jstate_name(cli_jstate s);

/* One entry; strings and args owned (cli_jentry_free). */
typedef struct cli_jentry {
    int64_t id;
    char *server, *login, *method, *key;
    unsigned char *args;        /* the argument map as sent */
    size_t args_len;
    int64_t queued_at;          /* seconds since the epoch */
    cli_jstate state;
    int64_t attempts;           /* times claimed for sending */
    int64_t claimed_pid;        /* sending: the process; else 0 */
    int64_t done_at;            /* sent, refused or expired: when; else 0 */
    char *code, *field, *message; /* the refusal, the expiry, or the last
                                     failure to reach the server; NULL: none */
    bool has_result_id;
    int64_t result_id;          /* sent: the id the result carried */
    bool maybe_sent;            /* it may have reached the server ... */
    int64_t maybe_sent_at;      /* ... first at this time; else 0 */
} cli_jentry;
void cli_jentry_free(cli_jentry *e);

typedef struct cli_journal cli_journal;

/*
 * Opens the journal. create: makes the folder and the file when missing;
 * otherwise a missing file is CLI_JOURNAL_NONE (nothing queued, ever).
 * BB_C_OK (*out owned: cli_journal_close), CLI_JOURNAL_NONE, or an error.
 */
BBI_WUR int cli_journal_open(bool create, cli_journal **out, bb_error *err);
void cli_journal_close(cli_journal *j);
/* The file's path (borrowed from j). */
const char *cli_journal_path(const cli_journal *j);

/* Adds a waiting entry of the queue (server, login); maybe_sent: the
 * attempt that failed may have reached the server (maybe_sent_at is now),
 * else it certainly never left this computer. *id its number. */
BBI_WUR int cli_journal_add(cli_journal *j, const char *server, const char *login,
                            const char *method, const char *key, const void *args, size_t len,
                            bool maybe_sent, int64_t *id, bb_error *err);
/* Whether the queue has entries waiting (or claims left by a process
 * that is gone). */
BBI_WUR int cli_journal_pending(cli_journal *j, const char *server, const char *login,
                                bool *any, bb_error *err);
/*
 * Marks expired the entries of the queue that wait (or whose claim is
 * stale) and may first have reached the server before cutoff (seconds
 * since the epoch), with code and message. *n how many. An entry that
 * never left this computer is never expired: it cannot be stored twice.
 */
BBI_WUR int cli_journal_expire(cli_journal *j, const char *server, const char *login,
                               int64_t cutoff, const char *code, const char *message,
                               int64_t *n, bb_error *err);
/*
 * Claims the queue's first entry for sending, in the order they were
 * queued: the first that waits, or whose claim is stale, becomes
 * `sending` by this process (attempts + 1; maybe_sent_at now when it was
 * not set: it is about to be sent), committed before this returns.
 * CLI_JOURNAL_NONE when nothing waits; *busy_pid (when not NULL) is then
 * the process sending an earlier entry (the queue is left to it, to keep
 * the order), else 0. BB_C_OK: *out filled (cli_jentry_free).
 */
BBI_WUR int cli_journal_claim(cli_journal *j, const char *server, const char *login,
                              cli_jentry *out, int64_t *busy_pid, bb_error *err);
/*
 * Ends this process's claim of entry id: state (waiting: back in the
 * queue; sent, refused, expired: done), with code, field and message
 * (NULL: none) and the result's id (NULL: none). Nothing changes when the
 * entry is not claimed by this process any more.
 */
BBI_WUR int cli_journal_finish(cli_journal *j, int64_t id, cli_jstate state, const char *code,
                               const char *field, const char *message,
                               const int64_t *result_id, bb_error *err);
/* Every entry (all: sent ones too), oldest first: *out an array of *n
 * (each cli_jentry_free'd, then free(*out)). */
BBI_WUR int cli_journal_list(cli_journal *j, bool all, cli_jentry **out, size_t *n,
                             bb_error *err);
/* Removes entry id. CLI_JOURNAL_NONE: no such entry. BB_C_EARG
 * "outbox_busy" when a live process is sending it. */
BBI_WUR int cli_journal_drop(cli_journal *j, int64_t id, bb_error *err);

/* What the outbox remembers of a server between runs (from server.info). */
BBI_WUR int cli_journal_server_put(cli_journal *j, const char *server, const char *time_zone,
                                   int64_t keep_days, bb_error *err);
/* *time_zone (owned, NULL when not known) and *keep_days (0 when not
 * known). CLI_JOURNAL_NONE when nothing is remembered. */
BBI_WUR int cli_journal_server_get(cli_journal *j, const char *server, char **time_zone,
                                   int64_t *keep_days, bb_error *err);

#endif
