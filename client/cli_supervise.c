/*
 * cli_supervise.c: `baobao supervise` (supervise.run: run the sweep now
 * and say what it did) and `baobao history (--problem ID | --project ID
 * --node N)` (light.history: when an item turned which light, as a table).
 *
 * For: saying in Chinese what the answers hold. The history's rows are in
 * the order the sweeps made them; dates are the server's days, the time a
 * change was recorded is shown in the server's time zone (cli_time_text),
 * never in UTC. --json prints the result as the server sent it. Options
 * and help come from the method spec (cli_spec.c).
 * Not for: deciding lights (the server's sweep, sql/023_supervision.sql),
 * notices (cli_notice.c), watching changes as they come (cli_watch.c).
 */
#include "cli.h"
#include "i18n.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The longest title or date cell this file copies out of a result. */
#define SUP_TEXT_MAX 512

static const char supervise_about[] = N_(
    "Runs the supervision sweep now, as the server does by itself every hour, after\n"
    "midnight and after every change: the traffic light of every open milestone and\n"
    "problem is worked out for today, changes are recorded, and 督办 notices are\n"
    "issued (due soon, yellow, red, escalated) or closed (done). Says what changed.\n");

static const char history_about[] = N_(
    "The traffic-light history of one item: a problem (--problem ID), or a\n"
    "milestone of a project (--project ID --node 签约|注册|开工|投产|竣工). Each row is\n"
    "one change: the day it happened (the server's today), the light before and\n"
    "after, how many days the item was overdue, its due date, and when it was\n"
    "recorded (in the server's time zone).\n");

/* ---- supervise ---- */

static int print_run(const msgpack_object *res)
{
    printf(_("Supervision sweep done: %lld light changes, %lld notices issued, %lld notices "
             "closed.\n"),
           (long long)cli_map_int(res, "changes"), (long long)cli_map_int(res, "notices"),
           (long long)cli_map_int(res, "closed"));
    const msgpack_object *behind = bb_map_get(res, "clock_behind");
    const msgpack_object *more = bb_map_get(res, "more");
    if (behind != NULL && behind->type == MSGPACK_OBJECT_BOOLEAN && behind->via.boolean)
        printf("%s\n", _("Nothing was swept: the server's today is before the day of the last "
                         "sweep (a server with another clock or time zone on this database)."));
    else if (more != NULL && more->type == MSGPACK_OBJECT_BOOLEAN && more->via.boolean)
        printf("%s\n", _("That was the first part of a large sweep; the server sweeps the rest "
                         "by itself."));
    return CLI_EXIT_OK;
}

static const cli_mech supervise_cmd = {
    .cmd = "supervise", .method = "supervise.run", .print = print_run, .about = supervise_about,
};

int cli_supervise(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_run(ctx, &supervise_cmd, argc, argv);
}

/* ---- history ---- */

enum { HIST_NCOLS = 6 };

static int print_history(const msgpack_object *res)
{
    const msgpack_object *items = bb_map_get(res, "items");
    uint32_t n = items != NULL && items->type == MSGPACK_OBJECT_ARRAY ? items->via.array.size : 0;
    if (n == 0) {
        printf("%s\n", _("No light recorded for this item yet (the sweep has not seen it, or it "
                         "has no planned date)."));
        return CLI_EXIT_OK;
    }
    char title[SUP_TEXT_MAX];
    cli_map_str(&items->via.array.ptr[0], "title", title, sizeof title);
    printf(_("Light history of %s: %u changes\n"), title, (unsigned)n);
    table *t = table_new(HIST_NCOLS);
    if (t == NULL)
        return cli_oom();
    table_set_align(t, 3, TABLE_RIGHT);
    const char *head[HIST_NCOLS] = {_("CHANGED ON"), _("LIGHT BEFORE"), _("LIGHT AFTER"),
                                    _("DAYS OVERDUE"), _("DUE DATE"), _("RECORDED AT")};
    bool ok = table_add_row(t, head) == 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char on[32], from[32], to[32], days[24], due[32], at[64], when[CLI_TIME_BUF];
        cli_map_str(it, "on_date", on, sizeof on);
        cli_map_str(it, "from_light", from, sizeof from);
        cli_map_str(it, "to_light", to, sizeof to);
        snprintf(days, sizeof days, "%" PRId64, cli_map_int(it, "days_overdue"));
        cli_map_str(it, "due_date", due, sizeof due);
        cli_map_str(it, "at", at, sizeof at);
        const char *shown = cli_time_text(at, strlen(at), when) ? when : at;
        const char *row[HIST_NCOLS] = {on, cli_light_text(from), cli_light_text(to), days,
                                       due[0] ? due : "-", shown};
        ok = table_add_row(t, row) == 0;
    }
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    return cli_put(text) ? CLI_EXIT_OK : cli_oom();
}

static const cli_alias history_alias[] = {
    {"problem", "problem_id"}, {"project", "project_id"}, {NULL, NULL}};

static const cli_mech history_cmd = {
    .cmd = "history", .method = "light.history", .aliases = history_alias,
    .print = print_history, .about = history_about,
};

int cli_history(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_run(ctx, &history_cmd, argc, argv);
}
