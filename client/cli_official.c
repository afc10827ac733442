/*
 * cli_official.c: `baobao unit ...`, `baobao official ...` and `baobao
 * assign ...` (issue 5): the directory of units and officials, 包保
 * assignments, portfolios and coverage gaps.
 *
 * For: which method each subcommand calls, the option names users know
 * that differ from the argument names (--unit for unit_id, --from for
 * period_start, ...), the columns of each table, and the two things that
 * are more than a call and a print: a portfolio prints several tables. Options, help,
 * required arguments and paging come from the method spec (cli_spec.c).
 * Not for: the rules the server checks (holders, targets, roles, periods,
 * who may do what: exit 1 with the server's code), logging in (cli_call.c).
 */
#include "cli.h"

#include "i18n.h"

#include <stdio.h>
#include <string.h>

static const char unit_intro[] = N_(
    "Units (单位: bureaus, township governments, ...). Everyone reads them;\n"
    "supervisors and admins create them.\n");

static const char official_intro[] = N_(
    "Officials (干部: city leaders, bureau heads, liaisons). Everyone reads them;\n"
    "supervisors and admins create and change them.\n");

static const char assign_intro[] = N_(
    "包保 assignments: an official (包保市领导, 联络员) or a unit (责任单位)\n"
    "responsible for an enterprise or a project for a period. Supervisors write\n"
    "them; everyone reads those of their townships.\n");


#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const cli_col unit_table[] = {
    {N_("ID"), "id"}, {N_("NAME"), "name"}, {N_("VERSION"), "version"},
};
static const cli_col off_table[] = {
    {N_("ID"), "id"}, {N_("NAME"), "name"}, {N_("TITLE"), "title"}, {N_("UNIT"), "unit_name"},
    {N_("PHONE"), "phone"}, {N_("VERSION"), "version"},
};
static const cli_col asg_table[] = {
    {N_("ID"), "id"},          {N_("ROLE"), "role"},           {N_("OFFICIAL"), "official_name"},
    {N_("UNIT"), "unit_name"}, {N_("ENTERPRISE"), "enterprise_id"}, {N_("PROJECT"), "project_id"},
    {N_("TARGET"), "target_name"}, {N_("TOWNSHIP"), "township"}, {N_("FROM"), "period_start"},
    {N_("TO"), "period_end"},  {N_("VERSION"), "version"},
};
static const cli_col gap_table[] = {
    {N_("KIND"), "kind"}, {N_("ID"), "id"}, {N_("NAME"), "name"}, {N_("TOWNSHIP"), "township"},
    {N_("MISSING_ROLE"), "role"}, {N_("PRIORITY"), "priority"}, {N_("STAGE"), "stage"},
};
static const cli_col prj_ref_table[] = {
    {N_("PROJECT"), "id"}, {N_("NAME"), "name"}, {N_("TOWNSHIP"), "township"},
    {N_("STAGE"), "stage"}, {N_("PRIORITY"), "priority"},
};
static const cli_col prb_ref_table[] = {
    {N_("PROBLEM"), "id"}, {N_("ENTERPRISE"), "enterprise_name"}, {N_("TOWNSHIP"), "township"},
    {N_("CATEGORY"), "category"}, {N_("STATE"), "state"}, {N_("DEADLINE"), "deadline"},
};

/* The names users type for these arguments (kept from before the spec). */
static const cli_alias unit_alias[] = {{"unit", "unit_id"}, {NULL, NULL}};
static const cli_alias asg_alias[] = {
    {"official", "official_id"}, {"unit", "unit_id"},     {"enterprise", "enterprise_id"},
    {"project", "project_id"},   {"from", "period_start"}, {"to", "period_end"},
    {NULL, NULL},
};
static const cli_alias end_alias[] = {{"on", "period_end"}, {NULL, NULL}};

/* ---- portfolios: the record, then its tables ---- */

static int print_portfolio(const msgpack_object *res, bool is_unit)
{
    const msgpack_object *on = bb_map_get(res, "on");
    bool ok = cli_print_fields(bb_map_get(res, is_unit ? "unit" : "official"), NULL);
    if (ok) {
        printf(_("on: %.*s\n\nassignments:\n"),
               on != NULL && on->type == MSGPACK_OBJECT_STR ? (int)on->via.str.size : 1,
               on != NULL && on->type == MSGPACK_OBJECT_STR ? on->via.str.ptr : "-");
        ok = cli_print_table(bb_map_get(res, "assignments"), asg_table, NCOLS(asg_table), NULL);
    }
    if (ok && is_unit) {
        fputs(_("\nprojects led:\n"), stdout);
        ok = cli_print_table(bb_map_get(res, "projects"), prj_ref_table, NCOLS(prj_ref_table),
                             NULL);
    }
    if (ok) {
        fputs(_("\nopen problems:\n"), stdout);
        ok = cli_print_table(bb_map_get(res, "problems"), prb_ref_table, NCOLS(prb_ref_table),
                             NULL);
    }
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

static int print_unit_portfolio(const msgpack_object *res)
{
    return print_portfolio(res, true);
}

static int print_official_portfolio(const msgpack_object *res)
{
    return print_portfolio(res, false);
}

const cli_mech cli_unit_cmds[] = {
    {.cmd = "unit create", .method = "unit.create"},
    {.cmd = "unit get", .method = "unit.get", .pos = "id"},
    {.cmd = "unit list", .method = "unit.list", .cols = unit_table, .ncols = NCOLS(unit_table)},
    {.cmd = "unit portfolio", .method = "unit.portfolio", .pos = "id",
     .print = print_unit_portfolio,
     .about = N_("Its assignments active that day, the projects it leads that are still going\n"
                 "(not 终止, not 竣工), and the problems assigned to it that are not closed.\n"
                 "Township staff see only what lies in their townships.\n")},
    {.cmd = NULL},
};

const cli_mech cli_official_cmds[] = {
    {.cmd = "official create", .method = "official.create", .aliases = unit_alias},
    {.cmd = "official get", .method = "official.get", .pos = "id"},
    {.cmd = "official update", .method = "official.update", .pos = "id", .aliases = unit_alias,
     .about = N_("--version is the version your change is based on (version_conflict, exit 1,\n"
                 "when someone changed the official since).\n")},
    {.cmd = "official list", .method = "official.list", .aliases = unit_alias,
     .cols = off_table, .ncols = NCOLS(off_table)},
    {.cmd = "official portfolio", .method = "official.portfolio", .pos = "id",
     .print = print_official_portfolio,
     .about = N_("The assignments the official holds that day, each with the enterprise or\n"
                 "project it concerns, and the problems assigned to the official that are\n"
                 "not closed. Township staff see only what lies in their townships.\n")},
    {.cmd = NULL},
};

const cli_mech cli_assign_cmds[] = {
    {.cmd = "assign create", .method = "assignment.create", .aliases = asg_alias,
     .about = N_("责任单位 is held by a unit (--unit), 包保市领导 and 联络员 by officials\n"
                 "(--official); it concerns an enterprise or a project.\n")},
    {.cmd = "assign get", .method = "assignment.get", .pos = "id"},
    {.cmd = "assign end", .method = "assignment.end", .pos = "id", .aliases = end_alias,
     .version_from = "assignment.get"},
    {.cmd = "assign list", .method = "assignment.list", .aliases = asg_alias,
     .cols = asg_table, .ncols = NCOLS(asg_table)},
    {.cmd = "assign gaps", .method = "coverage.gaps", .cols = gap_table,
     .ncols = NCOLS(gap_table),
     .about = N_("Key enterprises (a label the reference data marks key, not 注销) and key projects\n"
                 "(省级重点 or 市级重点, not 终止 or 竣工) without an assignment active on the\n"
                 "day in a role: one row per missing (target, role).\n")},
    {.cmd = NULL},
};

int cli_unit(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "unit", unit_intro, cli_unit_cmds, argc, argv);
}

int cli_official(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "official", official_intro, cli_official_cmds, argc, argv);
}

int cli_assign(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "assign", assign_intro, cli_assign_cmds, argc, argv);
}
