/*
 * cli_enterprise.c: `baobao enterprise add|show|list|edit` and `baobao
 * status submit|list`, the enterprise register and its status reports.
 *
 * For: which method each command calls, the option names users know that
 * differ from the argument names (--label for labels, --enterprise for
 * enterprise_id, ...), the columns of the tables, and how money and long
 * notes are shown. Options, help, required arguments and paging come from
 * the method spec (cli_spec.c).
 * Not for: the rules the server checks (credit codes, known townships,
 * clusters, statuses, dates, lengths: exit 1 with the server's code).
 */
#include "cli.h"

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char enterprise_intro[] =
    "Enterprises (企业) of the register. Everyone reads those of their townships;\n"
    "township staff and supervisors write them.\n";

static const char status_intro[] =
    "Status reports (走访 / 调度记录) of an enterprise: production, output value\n"
    "(yuan, or 万 / 亿), employees, labour shortage, a note.\n";

static const cli_col ent_table[] = {
    {"ID", "id"},           {"NAME", "name"},     {"CREDIT_CODE", "credit_code"},
    {"TOWNSHIP", "township"}, {"CLUSTER", "cluster"}, {"STATUS", "status"},
    {"LABELS", "labels"},   {"VERSION", "version"},
};
static const cli_alias ent_alias[] = {{"label", "labels"}, {NULL, NULL}};
static const cli_alias ent_list_alias[] = {{"name", "name_contains"}, {NULL, NULL}};

static const cli_mech enterprise_cmds[] = {
    {.cmd = "enterprise add", .method = "enterprise.create", .aliases = ent_alias},
    {.cmd = "enterprise show", .method = "enterprise.get", .pos = "id"},
    {.cmd = "enterprise list", .method = "enterprise.list", .aliases = ent_list_alias,
     .cols = ent_table, .ncols = NCOLS(ent_table)},
    {.cmd = "enterprise edit", .method = "enterprise.update", .pos = "id", .aliases = ent_alias,
     .about = "--version is the version your edit is based on: when someone changed the\n"
              "enterprise since, the server refuses with version_conflict (exit 1); show it\n"
              "again and redo the edit. --label replaces the labels (repeat it for more, one\n"
              "label each); --no-labels removes them all.\n"},
    {.cmd = NULL},
};

static const cli_col status_table[] = {
    {"ID", "id"},
    {"DATE", "report_date"},
    {"REPORTER", "reporter"},
    {"PRODUCTION", "production_status"},
    {"OUTPUT_VALUE(元)", "output_value"},
    {"EMPLOYEES", "employees"},
    {"SHORTAGE", "labour_shortage"},
    {"NOTE", "note"},
};
static const cli_alias status_alias[] = {
    {"enterprise", "enterprise_id"}, {"date", "report_date"}, {"shortage", "labour_shortage"},
    {NULL, NULL},
};
static const cli_fmt status_fmts[] = {
    {"output_value", CLI_F_MONEY}, {"note", CLI_F_CLIP}, {NULL, CLI_F_TEXT},
};

static const cli_mech status_cmds[] = {
    {.cmd = "status submit", .method = "status.submit", .aliases = status_alias,
     .fmts = status_fmts},
    {.cmd = "status list", .method = "status.list", .aliases = status_alias,
     .fmts = status_fmts, .cols = status_table, .ncols = NCOLS(status_table),
     .about = "Newest report_date first.\n"},
    {.cmd = NULL},
};

int cli_enterprise(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "enterprise", enterprise_intro, enterprise_cmds, argc, argv);
}

int cli_status(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "status", status_intro, status_cmds, argc, argv);
}
