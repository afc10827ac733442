/*
 * dup_confirm.h: what `baobao status submit` does when the server refuses
 * a report as a second one of the same enterprise, date and reporter
 * (duplicate_report): on a terminal it asks whether to store it anyway,
 * and sends it again with allow_duplicate; without one it fails as any
 * refusal does (exit 1) and says how to force it (--allow-duplicate).
 *
 * Not for: finding duplicates (the server does, sql/020_corrections.sql),
 * or any other refusal (said as cli_fail_in says it).
 */
#ifndef BB_CLI_DUP_CONFIRM_H
#define BB_CLI_DUP_CONFIRM_H

#include "cli.h"

/* The `refused` hook of the status submit row (cli.h, cli_mech): returns
 * CLI_MECH_AGAIN when the user agreed (allow_duplicate set in t), else an
 * exit code once the refusal has been said. */
int cli_dup_confirm(cli_ctx *ctx, const cli_mech *m, cli_mech_args *t, const bb_error *err);

#endif
