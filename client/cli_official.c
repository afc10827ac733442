/* placeholder: being written. */
#include "cli.h"
int cli_unit(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return cli_usage_error("", "not yet"); }
int cli_official(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return cli_usage_error("", "not yet"); }
int cli_assign(cli_ctx *ctx, int argc, char **argv) { (void)ctx; (void)argc; (void)argv; return cli_usage_error("", "not yet"); }
