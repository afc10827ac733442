/*
 * cli_problem.c: `baobao problem create|get|list|advance|reopen|assign`
 * (诉求) and `baobao trouble set|get|list` (the 困难企业 file), issue 5.
 *
 * For: which method each command calls, the option names users know
 * (--unit for assignee_unit_id, --open, --plan for revival_plan, ...),
 * the columns of the tables, and a problem printed with its history.
 * Without --version, advance, reopen, assign and trouble set read the
 * current version first; trouble set creates the file when there is none.
 * Options, help, required arguments and paging come from the method spec
 * (cli_spec.c).
 * Not for: the rules the server checks (the workflow, deadlines, scope:
 * those answers are printed and exit 1).
 */
#include "cli.h"

#include "i18n.h"

#include <stdio.h>

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char problem_intro[] = N_(
    "Problems (诉求) enterprises raise, and their workflow\n"
    "受理 → 交办 → 办理 → 反馈 → 确认 (closed). Township staff work on the problems\n"
    "of their own townships; supervisors on all; admins only read.\n");

static const char trouble_intro[] = N_(
    "The troubled-enterprise file (困难企业): why an enterprise is idle, its idle\n"
    "land (亩) and factory floor (m²), strengths, revival plan (盘活) and progress.\n");

static const cli_alias prb_alias[] = {
    {"enterprise", "enterprise_id"},  {"report", "status_report_id"},
    {"unit", "assignee_unit_id"},     {"official", "assignee_official_id"},
    {"idle-land", "idle_land_mu"},    {"idle-floor", "idle_floor_m2"},
    {"plan", "revival_plan"},         {"progress", "revival_progress"},
    {NULL, NULL},
};
static const cli_flag list_flags[] = {{"open", "open_only", "true"}, {NULL, NULL, NULL}};
static const cli_fmt prb_fmts[] = {
    {"description", CLI_F_CLIP}, {"revival_progress", CLI_F_CLIP}, {NULL, CLI_F_TEXT},
};
static const cli_col prb_table[] = {
    {N_("ID"), "id"},
    {N_("ENTERPRISE"), "enterprise_name"},
    {N_("TOWNSHIP"), "township"},
    {N_("CATEGORY"), "category"},
    {N_("STATE"), "state"},
    {N_("DEADLINE"), "deadline"},
    {N_("ASSIGNED_UNIT"), "assignee_unit"},
    {N_("ASSIGNED_OFFICIAL"), "assignee_official"},
    {N_("DESCRIPTION"), "description"},
};
/* at: shown in the server's time zone (cli_print_table). */
static const cli_col event_table[] = {
    {N_("TIME"), "at"}, {N_("USER"), "user"}, {N_("FROM_STATE"), "from_state"},
    {N_("TO_STATE"), "to_state"}, {N_("NOTE"), "note"},
};
static const cli_col trouble_table[] = {
    {N_("ENTERPRISE_ID"), "enterprise_id"},
    {N_("ENTERPRISE"), "enterprise_name"},
    {N_("TOWNSHIP"), "township"},
    {N_("IDLE_REASON"), "idle_reason"},
    {N_("IDLE_LAND(亩)"), "idle_land_mu"},
    {N_("IDLE_FLOOR(m²)"), "idle_floor_m2"},
    {N_("REVIVAL_PROGRESS"), "revival_progress"},
};

/* A problem, then its history: who moved it, when, where, with the note. */
static int print_problem(const msgpack_object *res)
{
    bool ok = cli_print_fields(res, NULL);
    const msgpack_object *ev = bb_map_get(res, "events");
    if (ok && ev != NULL) {
        fputs("\n", stdout);
        ok = cli_print_table(ev, event_table, NCOLS(event_table), NULL);
    }
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

const cli_mech cli_problem_cmds[] = {
    {.cmd = "problem create", .method = "problem.create", .aliases = prb_alias},
    {.cmd = "problem get", .method = "problem.get", .pos = "id", .print = print_problem},
    {.cmd = "problem list", .method = "problem.list", .aliases = prb_alias,
     .flags = list_flags, .fmts = prb_fmts, .cols = prb_table, .ncols = NCOLS(prb_table)},
    {.cmd = "problem advance", .method = "problem.advance", .pos = "id", .pos2 = "to_state",
     .version_from = "problem.get",
     .about = N_("One step forward: 交办, 办理, 反馈 or 确认. 交办 needs an assignee (see\n"
                 "'baobao problem assign').\n")},
    {.cmd = "problem reopen", .method = "problem.reopen", .pos = "id",
     .version_from = "problem.get",
     .about = N_("确认 → 办理. The deadline stays: give a new one with 'problem assign'.\n")},
    {.cmd = "problem assign", .method = "problem.assign", .pos = "id", .aliases = prb_alias,
     .version_from = "problem.get",
     .about = N_("A problem past 受理 must keep a unit or an official; a deadline may not be\n"
                 "before today.\n")},
    {.cmd = NULL},
};

const cli_mech cli_trouble_cmds[] = {
    {.cmd = "trouble set", .method = "trouble.set", .pos = "enterprise_id",
     .aliases = prb_alias, .version_from = "trouble.get",
     .about = N_("Creates the file (--idle-reason required) or changes the given fields of it;\n"
                 "without --version the current file is read first: none yet means create.\n")},
    {.cmd = "trouble get", .method = "trouble.get", .pos = "enterprise_id"},
    {.cmd = "trouble list", .method = "trouble.list", .fmts = prb_fmts, .cols = trouble_table,
     .ncols = NCOLS(trouble_table)},
    {.cmd = NULL},
};

int cli_problem(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "problem", problem_intro, cli_problem_cmds, argc, argv);
}

int cli_trouble(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "trouble", trouble_intro, cli_trouble_cmds, argc, argv);
}
