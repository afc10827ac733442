/* placeholder: being written. */
#include "cli.h"
int cli_export(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return cli_usage_error("", "not yet"); }
