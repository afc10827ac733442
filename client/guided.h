/*
 * guided.h: guided entry. On a terminal (stdin and stderr both), a write
 * command missing required values asks for them one by one in the user's
 * language, with choices from the reference data and the records in
 * scope, defaults shown, and a summary to confirm before sending. Line
 * editing and history: libedit.
 *
 * Not for: commands run from scripts (no terminal: a missing value stays a
 * usage error, exit 2) or checking values (the packer and the server do).
 */
#ifndef BB_CLI_GUIDED_H
#define BB_CLI_GUIDED_H

#include "cli.h"

#include "bb_spec.h"

/* Answers kept in the history file ($XDG_STATE_HOME/baobao/history, else
 * ~/.local/state/baobao/history; mode 600, in a folder of the user's that
 * no one else may write to, else no history is kept): the oldest go
 * first. */
#define CLI_GUIDED_HISTORY_MAX 500

/* Whether guided entry may run: stdin and stderr are terminals and
 * $BAOBAO_NO_PROMPT is not set. */
bool cli_guided_available(void);

/* Asks, for a write method on a terminal, every required argument of ms
 * that t lacks (and offers the optional ones the command's method names
 * in its prompt list), storing the texts typed in t. Returns 0 (also when
 * nothing was asked), or an exit code (Ctrl-C / Ctrl-D: CLI_EXIT_USAGE,
 * nothing sent). */
int cli_guided_collect(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                       cli_mech_args *t);

/* When cli_guided_collect asked anything: shows what will be sent (names
 * next to resolved ids) and asks to confirm. Returns 0 to send, or an
 * exit code (declined: CLI_EXIT_USAGE, nothing sent). */
int cli_guided_confirm(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                       const cli_mech_args *t);

/* Asks one line on the terminal with guided entry's editor, history and
 * Ctrl-C handling (for a choice among candidates, resolve.c): prompt is
 * shown as it is. Returns 0 and *out (owned, trimmed of blanks and
 * U+3000), or CLI_EXIT_USAGE after Ctrl-D (Ctrl-C exits the process with
 * CLI_EXIT_USAGE); the short "nothing was sent" message is printed. Only
 * when cli_guided_available(). */
int cli_guided_ask(const char *prompt, char **out);

#endif
