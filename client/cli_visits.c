/*
 * cli_visits.c: `baobao visits`, reporting-cycle completeness
 * (coverage.visits): per township, how many enterprises were visited in
 * the reporting cycle and which were not.
 *
 * For: saying in plain words what the server's answer holds: the cycle
 * (its first and last days, its length, the day counted up to), then per
 * township a line with its counts and a table of the enterprises not
 * visited (never visited first, then the longest unvisited), saying when
 * the list was cut (--limit shows more). Township staff get their own
 * townships, supervisors and admins every one (--township narrows it).
 * --json prints the result as the server sent it. Options and help come
 * from the method spec (cli_spec.c).
 * Not for: deciding what counts as a visit or how long a cycle is (the
 * server: sql/021_visits.sql and its setting visit_cycle_months), or the
 * tables' layout (table.h).
 */
#include "cli_visits.h"

#include "cli.h"
#include "i18n.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest name or date cell this file copies out of a result. */
#define VISITS_TEXT_MAX 512

static const char visits_about[] = N_(
    "Per township, the enterprises (not deregistered) visited and not visited in\n"
    "the reporting cycle: the calendar month by default, or the cycle the server\n"
    "is set to (visit_cycle_months: 3 for quarters). An enterprise was visited\n"
    "when it has a status report dated in the cycle up to the day counted (today,\n"
    "or --on DATE: the cycle that holds that day); withdrawn reports do not count.\n"
    "Township staff see their own townships, supervisors and admins every one.\n"
    "Each township lists at most --limit enterprises not visited.\n");

/* ---- reading the result ---- */

/* ---- printing ---- */

/* The cycle's length in words. */
static void cycle_words(int64_t months, char *out, size_t n)
{
    if (months == 1)
        snprintf(out, n, "%s", _("a calendar month"));
    else if (months == 3)
        snprintf(out, n, "%s", _("a quarter"));
    else if (months == 12)
        snprintf(out, n, "%s", _("a calendar year"));
    else
        snprintf(out, n, _("%lld months"), (long long)months);
}

/* The enterprises of one township not visited, as a table. */
static int print_unvisited(const msgpack_object *items)
{
    uint32_t n = items->via.array.size;
    table *t = table_new(3);
    if (t == NULL)
        return cli_oom();
    table_set_align(t, 0, TABLE_RIGHT);
    const char *head[3] = {_("ID"), _("ENTERPRISE"), _("LAST VISIT")};
    bool ok = table_add_row(t, head) == 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char id[24], name[VISITS_TEXT_MAX], last[32];
        snprintf(id, sizeof id, "%" PRId64, cli_map_int(it, "id"));
        cli_map_str(it, "name", name, sizeof name);
        cli_map_str(it, "last_visit", last, sizeof last);
        const char *row[3] = {id, name, last[0] ? last : _("never")};
        ok = table_add_row(t, row) == 0;
    }
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    return cli_put(text) ? CLI_EXIT_OK : cli_oom();
}

static int print_township(const msgpack_object *tw)
{
    char name[VISITS_TEXT_MAX];
    cli_map_str(tw, "township", name, sizeof name);
    int64_t not_visited = cli_map_int(tw, "not_visited");
    printf(_("%s: enterprises %lld, visited %lld, not visited %lld\n"), name,
           (long long)cli_map_int(tw, "enterprises"), (long long)cli_map_int(tw, "visited"),
           (long long)not_visited);
    const msgpack_object *items = bb_map_get(tw, "items");
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || items->via.array.size == 0)
        return CLI_EXIT_OK;
    int rc = print_unvisited(items);
    const msgpack_object *more = bb_map_get(tw, "more");
    if (rc == CLI_EXIT_OK && more != NULL && more->type == MSGPACK_OBJECT_BOOLEAN &&
        more->via.boolean)
        printf(_("(the first %u are shown; there are more: raise --limit)\n"),
               (unsigned)items->via.array.size);
    return rc;
}

static int print_visits(const msgpack_object *res)
{
    char start[32], end[32], on[32], words[64];
    cli_map_str(res, "cycle_start", start, sizeof start);
    cli_map_str(res, "cycle_end", end, sizeof end);
    cli_map_str(res, "on", on, sizeof on);
    cycle_words(cli_map_int(res, "cycle_months"), words, sizeof words);
    printf(_("Reporting cycle: %s to %s (%s), counted up to %s.\n"), start, end, words, on);
    const msgpack_object *ts = bb_map_get(res, "townships");
    uint32_t n = ts != NULL && ts->type == MSGPACK_OBJECT_ARRAY ? ts->via.array.size : 0;
    if (n == 0) {
        /* Staff without a township, or a --township outside theirs. */
        printf("%s\n", _("No township to show: township staff see only their own townships "
                         "(an admin gives them), and --township only the one it names."));
        return CLI_EXIT_OK;
    }
    int rc = CLI_EXIT_OK;
    for (uint32_t i = 0; i < n && rc == CLI_EXIT_OK; i++) {
        printf("\n");
        rc = print_township(&ts->via.array.ptr[i]);
    }
    return rc;
}

static const cli_mech visits_cmd = {
    .cmd = "visits", .method = "coverage.visits", .print = print_visits,
    .about = visits_about,
};

int cli_visits(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_run(ctx, &visits_cmd, argc, argv);
}
