/*
 * cli_project.c: `baobao project add|show|list|edit|move|plan|history`
 * (the project.* methods of issue 5).
 *
 * For: which method each command calls, the option names users know
 * (--investment for planned_investment, --lead-unit, --planned, ...),
 * money read as yuan, 万 or 亿 and shown in yuan and 万元, and the two
 * printers with their own layout: a project with its table of five
 * milestones, and the history with its changes written out. Options,
 * help, required arguments and paging come from the method spec
 * (cli_spec.c).
 * Not for: rules the server checks (stages, priorities, dates, who may
 * write): a refusal prints the server's code and exits 1.
 */
#include "cli.h"

#include "i18n.h"

#include "table.h"

#include <stdio.h>
#include <string.h>

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
/* Room for one cell of the history. */
#define PRJ_CELL 160

static const char project_intro[] = N_(
    "Investment projects (招商项目 / 重点项目): their lifecycle stage and milestone plan.\n"
    "Everyone may read (township staff: their own townships); supervisors write.\n"
    "Stages: 信息收集 研判 洽谈 签约 注册 开工 投产 竣工 (and 暂停, 终止).\n");

static const cli_fmt prj_fmts[] = {
    {"planned_investment", CLI_F_WAN},
    {"investment_min", CLI_F_MONEY},
    {"investment_max", CLI_F_MONEY},
    {NULL, CLI_F_TEXT},
};
static const cli_alias prj_alias[] = {
    {"investment", "planned_investment"}, {"enterprise", "enterprise_id"},
    {"lead-unit", "lead_unit_id"},        {"min", "investment_min"},
    {"max", "investment_max"},            {"name", "name_contains"},
    {"planned", "planned_date"},          {"actual", "actual_date"},
    {NULL, NULL},
};
static const cli_col prj_table[] = {
    {N_("ID"), "id"},           {N_("NAME"), "name"},
    {N_("TOWNSHIP"), "township"}, {N_("STAGE"), "stage"},
    {N_("PRIORITY"), "priority"}, {N_("INVEST_万元"), "planned_investment"},
    {N_("CLUSTER"), "cluster"}, {N_("VERSION"), "version"},
};
static const cli_col milestone_table[] = {
    {N_("MILESTONE"), "node"}, {N_("PLANNED"), "planned_date"}, {N_("ACTUAL"), "actual_date"},
};

/* A project: its fields, then its milestones. */
static int print_project(const msgpack_object *p)
{
    bool ok = cli_print_fields(p, prj_fmts);
    if (ok)
        fputs("\n", stdout);
    ok = ok && cli_print_table(bb_map_get(p, "milestones"), milestone_table,
                               NCOLS(milestone_table), NULL);
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

/* A str or int of map as text ("-" for nil or missing). */
static const char *text_of(const msgpack_object *map, const char *key, char *buf)
{
    const msgpack_object *v = bb_map_get(map, key);
    if (v != NULL && v->type == MSGPACK_OBJECT_STR)
        snprintf(buf, PRJ_CELL, "%.*s", (int)v->via.str.size, v->via.str.ptr);
    else if (v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf(buf, PRJ_CELL, "%llu", (unsigned long long)v->via.u64);
    else
        snprintf(buf, PRJ_CELL, "-");
    return buf;
}

/* The history as a table: when, who, what changed, why. */
static int print_history(const msgpack_object *res)
{
    const msgpack_object *items = bb_map_get(res, "items");
    table *t = table_new(5);
    const char *header[5] = {_("TIME"), _("USER"), _("KIND"), _("CHANGE"), _("REASON")};
    bool good = t != NULL && items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
                table_add_row(t, header) == 0;
    for (uint32_t i = 0; good && i < items->via.array.size; i++) {
        const msgpack_object *e = &items->via.array.ptr[i];
        char b[7][PRJ_CELL], change[4 * PRJ_CELL];
        const char *kind = text_of(e, "kind", b[0]);
        if (strcmp(kind, "plan") == 0) {
            snprintf(change, sizeof change, _("%s planned %s → %s"), text_of(e, "node", b[1]),
                     text_of(e, "old_planned", b[2]), text_of(e, "new_planned", b[3]));
        } else {
            const msgpack_object *sk = bb_map_get(e, "skipped");
            size_t l = (size_t)snprintf(change, sizeof change, "%s → %s",
                                        text_of(e, "from_stage", b[1]),
                                        text_of(e, "to_stage", b[2]));
            for (uint32_t k = 0; sk != NULL && sk->type == MSGPACK_OBJECT_ARRAY &&
                                 k < sk->via.array.size && l < sizeof change; k++) {
                const msgpack_object *s = &sk->via.array.ptr[k];
                if (s->type == MSGPACK_OBJECT_STR)
                    l += (size_t)snprintf(change + l, sizeof change - l, "%s%.*s",
                                          k == 0 ? _(" (skipped ") : " ", (int)s->via.str.size,
                                          s->via.str.ptr);
                if (k + 1 == sk->via.array.size && l < sizeof change)
                    l += (size_t)snprintf(change + l, sizeof change - l, ")");
            }
        }
        /* The time in the server's zone, the kind in the user's words. */
        char when[CLI_TIME_BUF];
        const char *at = text_of(e, "at", b[4]);
        if (cli_time_text(at, strlen(at), when))
            at = when;
        const char *row[5] = {at, text_of(e, "user", b[5]),
                              strcmp(kind, "plan") == 0    ? _("plan")
                              : strcmp(kind, "stage") == 0 ? _("stage")
                                                           : kind,
                              change, text_of(e, "reason", b[6])};
        good = table_add_row(t, row) == 0;
    }
    bool put = good && cli_put(table_render(t, NULL));
    table_free(t);
    return put ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

const cli_mech cli_project_cmds[] = {
    {.cmd = "project add", .method = "project.create", .aliases = prj_alias, .fmts = prj_fmts,
     .print = print_project},
    {.cmd = "project show", .method = "project.get", .pos = "id", .print = print_project},
    {.cmd = "project list", .method = "project.list", .aliases = prj_alias, .fmts = prj_fmts,
     .cols = prj_table, .ncols = NCOLS(prj_table)},
    {.cmd = "project edit", .method = "project.update", .pos = "id", .aliases = prj_alias,
     .fmts = prj_fmts, .print = print_project,
     .about = N_("--version is the version your edit is based on (version_conflict, exit 1, when\n"
                 "someone changed it since). The stage changes with 'project move', dates with\n"
                 "'project plan'.\n")},
    {.cmd = "project move", .method = "project.move_stage", .pos = "id", .print = print_project,
     .about = N_("Forward one or more stages (a jump records the stages passed over), to 暂停\n"
                 "or 终止 (both with --reason). A paused project resumes at the stage it was\n"
                 "paused at, or a later one. 终止 and 竣工 are final.\n")},
    {.cmd = "project plan", .method = "project.set_milestone", .pos = "id", .aliases = prj_alias,
     .print = print_project,
     .about = N_("Changing a planned date that was set needs --reason (kept in the history).\n"
                 "An actual date may not be after today, 投产 not before 开工.\n")},
    {.cmd = "project history", .method = "project.history", .pos = "id",
     .print = print_history},
    {.cmd = NULL},
};

int cli_project(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "project", project_intro, cli_project_cmds, argc, argv);
}
