/* placeholder: being written. */
#include "cli.h"
int cli_import(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return cli_usage_error("", "not yet"); }
