/*
 * resolve.h: names for ids. Where a command takes an enterprise, project,
 * official, unit or user (an argument named enterprise_id, project_id,
 * official_id, unit_id, user_id, or the positional id of a command of that
 * record), the user may type the id, the name (exact, or a unique part of
 * it within what the caller may see) or, for an enterprise, its credit
 * code; resolve.c asks the server and puts the id in its place. The same
 * names with a role in front count too: lead_unit_id, assignee_unit_id and
 * assignee_official_id name a unit, a unit and an official.
 *
 * Also the packer's "today" (input.h): 今天, 昨天, 12月5日 are the server's
 * dates, taken from server.info on the command's connection.
 *
 * Not for: checking the id (the server does) or other arguments.
 */
#ifndef BB_CLI_RESOLVE_H
#define BB_CLI_RESOLVE_H

#include "cli.h"

#include "bb_spec.h"
#include "input.h"

/* The kind of record an argument of method ms names ("enterprise", ...),
 * or NULL when it names none. */
const char *cli_resolve_kind(const bb_method_spec *ms, const char *arg);

/* Replaces, in t, every argument of m that names a record and was given
 * as something other than a plain id, by the id it names. Several
 * candidates: on a terminal the user picks one; otherwise the candidates
 * are listed on stderr and the command fails (CLI_EXIT_USAGE). None: the
 * same, with "not found". Returns 0 or an exit code. */
int cli_resolve_args(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                     cli_mech_args *t);

/* Makes the packer ask ctx's server (server.info, once per run) when a
 * text is a date relative to today. cli_resolve_args does it; call it
 * before converting texts elsewhere (guided entry). */
void cli_resolve_today(cli_ctx *ctx);
/* The server's today ("YYYY-MM-DD", asked once per run) into out; false
 * when the server cannot tell (not reached: nothing printed). */
bool cli_resolve_today_text(cli_ctx *ctx, char out[BBI_DATE_BUF]);

/* cli_resolve_one's answer when the user cancelled the choice among
 * candidates (Ctrl-D at the question; "nothing was sent" is said). Not an
 * exit code: the caller ends the command with CLI_EXIT_USAGE, where a
 * CLI_EXIT_USAGE of its own (not found, several and no terminal) may be
 * asked again by guided entry. */
#define CLI_RESOLVE_CANCELLED (-1)

/* One record of kind by what a user typed (id, name part, credit code):
 * as above, for a single value; *id_out (owned) is the id in decimal.
 * Returns 0, CLI_RESOLVE_CANCELLED, or an exit code. */
int cli_resolve_one(cli_ctx *ctx, const char *kind, const char *typed, char **id_out);

#endif
