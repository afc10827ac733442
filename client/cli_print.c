/*
 * cli_print.c: what `baobao` prints on success.
 *
 * For: --json (the raw result as JSON, the pages of --all as one) and
 * writing rendered text. Records and tables are laid out by cli_spec.c.
 * Not for: errors (cli_call.c prints those to stderr).
 */
#include "cli.h"

#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cli_put(char *s)
{
    if (s == NULL) {
        fputs("baobao: out_of_memory: could not lay out the output\n", stderr);
        return false;
    }
    fputs(s, stdout);
    free(s);
    return true;
}

int cli_print_json(const msgpack_object *result)
{
    json_out j;
    json_out_init(&j);
    json_value(&j, result, 2);
    json_raw(&j, "\n", 1);
    if (j.failed) {
        json_out_free(&j);
        fputs("baobao: out_of_memory: could not write JSON\n", stderr);
        return CLI_EXIT_PROTOCOL;
    }
    fwrite(j.data, 1, j.len, stdout);
    json_out_free(&j);
    return CLI_EXIT_OK;
}
