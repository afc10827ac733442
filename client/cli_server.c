/*
 * cli_server.c: `baobao server info`.
 *
 * For: showing server.info (version, limits, whether the database is up),
 * the one command that needs no login. Not for: anything that changes
 * the server.
 */
#include "cli.h"

#include "i18n.h"

/* server.info answers before login: the one command that needs no
 * credentials (to check a server is there and which it is). */
static int anonymous(cli_ctx *ctx, cli_mech_args *t)
{
    (void)t;
    ctx->anonymous = true;
    return 0;
}

const cli_mech cli_server_cmds[] = {
    {.cmd = "server info", .method = "server.info", .fill = anonymous,
     .about = N_("Works also while the database is down, and without logging in.\n")},
    {.cmd = NULL},
};

int cli_server(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "server", NULL, cli_server_cmds, argc, argv);
}
