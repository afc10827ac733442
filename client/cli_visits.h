/*
 * cli_visits.h: `baobao visits` (cli_visits.c), reporting-cycle
 * completeness: per township, the enterprises visited and not visited in
 * the reporting cycle (coverage.visits).
 * Not for: the other commands (cli.h).
 */
#ifndef BB_CLI_VISITS_H
#define BB_CLI_VISITS_H

#include "cli.h"

/* `baobao visits [--township NAME] [--on DATE] [--limit N]`: an exit code. */
int cli_visits(cli_ctx *ctx, int argc, char **argv);

#endif
