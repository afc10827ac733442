/*
 * dup_confirm.c: the question `baobao status submit` asks when the server
 * refuses a report as a duplicate (dup_confirm.h). The refused request
 * stored nothing, so the one sent after a "yes" keeps its idempotency key
 * (free again) and carries allow_duplicate true.
 *
 * Not for: other commands or other refusals.
 */
#include "dup_confirm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guided.h"
#include "i18n.h"

/* The answers that mean yes (anything else, or just Enter, is no: storing
 * a second report must be meant). */
static bool said_yes(const char *a)
{
    static const char *const yes[] = {"y", "yes", "Y", "YES", "Yes", "是", "好", "确认", "对"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(a, yes[i]) == 0)
            return true;
    return false;
}

int cli_dup_confirm(cli_ctx *ctx, const cli_mech *m, cli_mech_args *t, const bb_error *err)
{
    if (err->rc != BB_C_ESERVER || strcmp(err->code, "duplicate_report") != 0 ||
        cli_mech_get(t, "allow_duplicate") != NULL)
        return cli_fail_in(ctx, m->method, err);
    if (!cli_guided_available() || ctx->json) {
        int rc = cli_fail_in(ctx, m->method, err);
        fprintf(stderr, "%s", _("baobao: to store it anyway as a second report, run the same "
                                "command again with --allow-duplicate.\n"));
        return rc;
    }
    const char *date = cli_mech_get(t, "report_date");
    const char *who = cli_mech_get(t, "reporter");
    char prompt[512];
    snprintf(prompt, sizeof prompt,
             _("This enterprise already has a report of %s by %s. Store this one as a second "
               "report? [y/N] "),
             date != NULL && date[0] != '\0' ? date : _("today"), who != NULL ? who : "");
    char *ans = NULL;
    int rc = cli_guided_ask(prompt, &ans);
    if (rc != 0)
        return rc;   /* Ctrl-D: "nothing was sent" said by cli_guided_ask */
    bool yes = said_yes(ans);
    free(ans);
    if (!yes) {
        fprintf(stderr, "%s", _("Not stored: the report there already stays as it is.\n"));
        return CLI_EXIT_REFUSED;
    }
    if (cli_mech_set(t, "allow_duplicate", "true") != 0)
        return cli_oom();
    return CLI_MECH_AGAIN;
}
