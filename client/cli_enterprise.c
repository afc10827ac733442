/*
 * cli_enterprise.c: `baobao enterprise add|show|list|edit` and `baobao
 * status submit|list|show|correct|withdraw`, the enterprise register and
 * its status reports.
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

#include "dup_confirm.h"
#include "i18n.h"

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char enterprise_intro[] = N_(
    "Enterprises (企业) of the register. Everyone reads those of their townships;\n"
    "township staff and supervisors write them.\n");

static const char status_intro[] = N_(
    "Status reports (走访 / 调度记录) of an enterprise: production, output value\n"
    "(yuan, or 万 / 亿), employees, labour shortage, a note. A report with a\n"
    "mistake is corrected or withdrawn, with a reason; the audit keeps what it was.\n");

static const cli_col ent_table[] = {
    {N_("ID"), "id"},           {N_("NAME"), "name"},     {N_("CREDIT_CODE"), "credit_code"},
    {N_("TOWNSHIP"), "township"}, {N_("CLUSTER"), "cluster"}, {N_("STATUS"), "status"},
    {N_("LABELS"), "labels"},   {N_("VERSION"), "version"},
};
static const cli_alias ent_alias[] = {{"label", "labels"}, {NULL, NULL}};
static const cli_alias ent_list_alias[] = {{"name", "name_contains"}, {NULL, NULL}};

const cli_mech cli_enterprise_cmds[] = {
    {.cmd = "enterprise add", .method = "enterprise.create", .aliases = ent_alias},
    {.cmd = "enterprise show", .method = "enterprise.get", .pos = "id"},
    {.cmd = "enterprise list", .method = "enterprise.list", .aliases = ent_list_alias,
     .cols = ent_table, .ncols = NCOLS(ent_table)},
    {.cmd = "enterprise edit", .method = "enterprise.update", .pos = "id", .aliases = ent_alias,
     .about = N_("--version is the version your edit is based on: when someone changed the\n"
                 "enterprise since, the server refuses with version_conflict (exit 1); show it\n"
                 "again and redo the edit. --label replaces the labels (repeat it for more, one\n"
                 "label each); --no-labels removes them all.\n")},
    {.cmd = NULL},
};

static const cli_col status_table[] = {
    {N_("ID"), "id"},
    {N_("DATE"), "report_date"},
    {N_("REPORTER"), "reporter"},
    {N_("PRODUCTION"), "production_status"},
    {N_("OUTPUT_VALUE(元)"), "output_value"},
    {N_("EMPLOYEES"), "employees"},
    {N_("SHORTAGE"), "labour_shortage"},
    {N_("NOTE"), "note"},
};
static const cli_alias status_alias[] = {
    {"enterprise", "enterprise_id"}, {"date", "report_date"}, {"shortage", "labour_shortage"},
    {NULL, NULL},
};
static const cli_fmt status_fmts[] = {
    {"output_value", CLI_F_MONEY}, {"note", CLI_F_CLIP}, {NULL, CLI_F_TEXT},
};
/* A correction names the report by its id: no --enterprise. */
static const cli_alias status_change_alias[] = {
    {"date", "report_date"}, {"shortage", "labour_shortage"}, {NULL, NULL},
};

/* status submit: allow_duplicate is the flag --allow-duplicate, not an
 * option taking true|false (every other argument keeps its option). */
static const char *const submit_opts[] = {
    "enterprise_id", "report_date", "reporter", "production_status", "output_value",
    "employees", "labour_shortage", "note", "idempotency_key", NULL,
};
static const cli_flag submit_flags[] = {
    {"allow-duplicate", "allow_duplicate", "true"}, {NULL, NULL, NULL},
};

const cli_mech cli_status_cmds[] = {
    {.cmd = "status submit", .method = "status.submit", .aliases = status_alias,
     .fmts = status_fmts, .only = submit_opts, .flags = submit_flags,
     .refused = cli_dup_confirm,
     .about = N_("A second report of the same enterprise, date and reporter is refused\n"
                 "(duplicate_report): on a terminal you are asked whether to store it anyway;\n"
                 "--allow-duplicate stores it without asking.\n")},
    {.cmd = "status list", .method = "status.list", .aliases = status_alias,
     .fmts = status_fmts, .cols = status_table, .ncols = NCOLS(status_table),
     .about = N_("Newest report_date first. Withdrawn reports are not listed.\n")},
    {.cmd = "status show", .method = "status.get", .pos = "id", .fmts = status_fmts},
    {.cmd = "status correct", .method = "status.correct", .pos = "id",
     .aliases = status_change_alias, .fmts = status_fmts, .version_from = "status.get",
     .about = N_("Give the fields to change and --reason. You may correct a report you stored\n"
                 "yourself for a few days (the server's status_correct_days, 7 unless set\n"
                 "otherwise); a supervisor may correct any report. --no-note (and the like)\n"
                 "clears a field.\n")},
    {.cmd = "status withdraw", .method = "status.withdraw", .pos = "id",
     .fmts = status_fmts, .version_from = "status.get",
     .about = N_("The report is kept, marked withdrawn, and counts nowhere any more (lists,\n"
                 "exports, reports). It cannot be corrected or withdrawn again. The same\n"
                 "people may withdraw it as may correct it.\n")},
    {.cmd = NULL},
};

int cli_enterprise(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "enterprise", enterprise_intro, cli_enterprise_cmds, argc, argv);
}

int cli_status(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "status", status_intro, cli_status_cmds, argc, argv);
}
