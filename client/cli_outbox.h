/*
 * cli_outbox.h: working offline. A write that cannot reach the server is
 * kept in the outbox (journal.h) and sent later, once, in order.
 *
 * When a write (a method with BB_M_WRITE, carrying its idempotency key)
 * fails because the server cannot be reached (connect_failed,
 * connection_lost, timeout, unavailable, shutting_down: exit 3's codes,
 * tls_failed excepted, which is a setting to fix), cli_call keeps it in the
 * outbox and the command ends with CLI_EXIT_QUEUED, telling the user so.
 * The next command that logs in to that server as that login sends what
 * waits first, oldest first, each entry claimed by one process at a time;
 * `baobao sync` does only that, `baobao outbox` lists what waits (and what
 * was refused or is too old to send), `baobao outbox drop ID` removes one.
 *
 * Never kept: a write with a password among its arguments (user.create:
 * a password never goes to disk), the bulk imports (their answer is a
 * line per row to read, and their file is their own journal: run them
 * again), a call without an idempotency key (it could not be resent
 * safely), and commands that must read first (a name for an id, 今天, an
 * edit without --version): those fail as any read does.
 *
 * Two windows: the server keeps idempotency records idempotency_keep_days
 * (server.info); the outbox sends an entry that may have reached the
 * server at most $BAOBAO_OUTBOX_MAX_DAYS days (default CLI_OUTBOX_MAX_DAYS)
 * after its first such try, and never later than the server's window less
 * CLI_OUTBOX_MARGIN_S. An older one is not sent (it could be stored twice):
 * it is marked expired, kept, and the user told. An entry that never left
 * this computer cannot be stored twice and waits however long it takes.
 *
 * For: the decisions and the words. Not for: the file (journal.c), the
 * connection or the retry of a write (cli_call.c).
 */
#ifndef BB_CLI_OUTBOX_H
#define BB_CLI_OUTBOX_H

#include "cli.h"

/* Exit code of a write kept in the outbox: not stored yet, nothing to
 * retry by hand (a script that retried on exit 3 would queue it twice). */
#define CLI_EXIT_QUEUED 5

/* The outbox's own window, in days, when $BAOBAO_OUTBOX_MAX_DAYS is not
 * set: below the server's default idempotency_keep_days (7) with room to
 * spare. */
#define CLI_OUTBOX_MAX_DAYS 3
#define CLI_OUTBOX_MAX_DAYS_MAX 365
/* Kept off the end of the server's window: the clocks of client and
 * server may differ, and the first attempt reached the server a little
 * before it was queued. */
#define CLI_OUTBOX_MARGIN_S 86400
/* The server's window when its server.info does not say (a server older
 * than the setting): the 7 days PROTOCOL.md promised before. */
#define CLI_OUTBOX_LEGACY_KEEP_DAYS 7

/*
 * cli_call's last step for a write that failed with err (the method, the
 * packed arguments; maybe_sent: the request may have reached the server,
 * so its bytes must stay exactly as they are). When the write can be kept
 * (see above), it is, and err becomes the client's code "queued" with a
 * message saying so (cli_exit_code: CLI_EXIT_QUEUED). Otherwise err is
 * left as it was (a line on stderr says why it could not be kept, when
 * that is the journal's fault). Returns err->rc.
 */
int cli_outbox_keep(cli_ctx *ctx, const char *method, const bbi_args *args, bool maybe_sent,
                    bb_error *err);
/* cli_connect's step once logged in to server (cli_settings' address, NULL
 * for the default): sends what waits in the queue of that server and
 * ctx->login, once per run, saying on stderr what became of each. Never
 * fails the command. */
void cli_outbox_send_waiting(cli_ctx *ctx, const char *server);

int cli_outbox(cli_ctx *ctx, int argc, char **argv);   /* baobao outbox [drop ID] */
int cli_sync(cli_ctx *ctx, int argc, char **argv);     /* baobao sync */

#endif
