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

#include <stdio.h>

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char problem_intro[] =
    "Problems (诉求) enterprises raise, and their workflow\n"
    "受理 → 交办 → 办理 → 反馈 → 确认 (closed). Township staff work on the problems\n"
    "of their own townships; supervisors on all; admins only read.\n";

static const char trouble_intro[] =
    "The troubled-enterprise file (困难企业): why an enterprise is idle, its idle\n"
    "land (亩) and factory floor (m²), strengths, revival plan (盘活) and progress.\n";

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
    {"ID", "id"},          {"企业", "enterprise_name"},   {"乡镇", "township"},
    {"类别", "category"},  {"状态", "state"},             {"期限", "deadline"},
    {"承办单位", "assignee_unit"}, {"承办人", "assignee_official"}, {"描述", "description"},
};
static const cli_col event_table[] = {
    {"时间(UTC)", "at"}, {"用户", "user"}, {"从", "from_state"}, {"到", "to_state"},
    {"说明", "note"},
};
static const cli_col trouble_table[] = {
    {"企业ID", "enterprise_id"},        {"企业", "enterprise_name"},
    {"乡镇", "township"},               {"闲置原因", "idle_reason"},
    {"闲置土地(亩)", "idle_land_mu"},   {"闲置厂房(m²)", "idle_floor_m2"},
    {"盘活进展", "revival_progress"},
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

static const cli_mech problem_cmds[] = {
    {.cmd = "problem create", .method = "problem.create", .aliases = prb_alias},
    {.cmd = "problem get", .method = "problem.get", .pos = "id", .print = print_problem},
    {.cmd = "problem list", .method = "problem.list", .aliases = prb_alias,
     .flags = list_flags, .fmts = prb_fmts, .cols = prb_table, .ncols = NCOLS(prb_table)},
    {.cmd = "problem advance", .method = "problem.advance", .pos = "id", .pos2 = "to_state",
     .version_from = "problem.get",
     .about = "One step forward: 交办, 办理, 反馈 or 确认. 交办 needs an assignee (see\n"
              "'baobao problem assign').\n"},
    {.cmd = "problem reopen", .method = "problem.reopen", .pos = "id",
     .version_from = "problem.get",
     .about = "确认 → 办理. The deadline stays: give a new one with 'problem assign'.\n"},
    {.cmd = "problem assign", .method = "problem.assign", .pos = "id", .aliases = prb_alias,
     .version_from = "problem.get",
     .about = "A problem past 受理 must keep a unit or an official; a deadline may not be\n"
              "before today.\n"},
    {.cmd = NULL},
};

static const cli_mech trouble_cmds[] = {
    {.cmd = "trouble set", .method = "trouble.set", .pos = "enterprise_id",
     .aliases = prb_alias, .version_from = "trouble.get",
     .about = "Creates the file (--idle-reason required) or changes the given fields of it;\n"
              "without --version the current file is read first: none yet means create.\n"},
    {.cmd = "trouble get", .method = "trouble.get", .pos = "enterprise_id"},
    {.cmd = "trouble list", .method = "trouble.list", .fmts = prb_fmts, .cols = trouble_table,
     .ncols = NCOLS(trouble_table)},
    {.cmd = NULL},
};

int cli_problem(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "problem", problem_intro, problem_cmds, argc, argv);
}

int cli_trouble(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "trouble", trouble_intro, trouble_cmds, argc, argv);
}
