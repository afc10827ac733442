/*
 * cli_project.c: `baobao project add|show|list|edit|move|plan|history`
 * (the project.* methods of issue 5).
 *
 * For: turning options into project.* arguments (raw calls: cli_call with
 * a packed bbi_args, no typed library functions), paging project.list for
 * --all, and printing Projects: a "field: value" block and a table of the
 * five milestones for one project, a table for lists and for the history,
 * the raw result as JSON with --json. Money is read as yuan, 万 or 亿
 * (money.h) and shown in yuan and 万元.
 * Not for: rules the server checks (stages, priorities, dates, who may
 * write): a refusal prints the server's code and exits 1.
 */
#include "cli.h"

#include "money.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Arguments a command sends at most (project.update has 10). */
#define PRJ_MAX_ARGS 12
#define PRJ_CELL 160

static const char project_help[] =
    "Usage: baobao project COMMAND ...\n"
    "\n"
    "Investment projects (招商项目 / 重点项目): their lifecycle stage and milestone plan.\n"
    "Everyone may read (township staff: their own townships); supervisors write.\n"
    "\n"
    "Commands:\n"
    "  add        register a project (project.create)\n"
    "  show ID    one project with its five milestones (project.get)\n"
    "  list       projects, filtered, in pages (project.list)\n"
    "  edit ID    change a project's fields (project.update)\n"
    "  move ID    move the stage forward, pause or terminate (project.move_stage)\n"
    "  plan ID    set a milestone's planned or actual date (project.set_milestone)\n"
    "  history ID stage moves and replanning, newest first (project.history)\n"
    "Run 'baobao project COMMAND --help' for a command's options.\n";

static const char add_help[] =
    "Usage: baobao project add --name NAME --investment AMOUNT --priority PRIORITY\n"
    "                          --township TOWNSHIP [--cluster CLUSTER] [--enterprise ID]\n"
    "                          [--lead-unit ID] [--stage STAGE] [--idempotency-key KEY]\n"
    "\n"
    "Registers a project and prints it (version 1, five milestones without dates).\n"
    "\n"
    "  --name NAME            1-100 characters, e.g. 维达力四期\n"
    "  --investment AMOUNT    planned investment in whole yuan: 3000000000, 30亿, 5.2亿元\n"
    "  --priority PRIORITY    省级重点 | 市级重点 | 一般\n"
    "  --township TOWNSHIP    a known township, street or park, e.g. 赵李桥镇\n"
    "  --cluster CLUSTER      industry cluster, e.g. 电子信息\n"
    "  --enterprise ID        the investor enterprise, when registered\n"
    "  --lead-unit ID         the lead unit (牵头单位)\n"
    "  --stage STAGE          the starting stage (default 信息收集): 信息收集 研判 洽谈\n"
    "                         签约 注册 开工 投产 竣工\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char show_help[] =
    "Usage: baobao project show ID\n"
    "\n"
    "Prints one project as \"field: value\" lines and its milestones as a table\n"
    "(or JSON with --json).\n";

static const char list_help[] =
    "Usage: baobao project list [--township T] [--cluster C] [--stage S] [--priority P]\n"
    "                           [--lead-unit ID] [--min AMOUNT] [--max AMOUNT]\n"
    "                           [--name TEXT] [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints projects in ascending id as a table. Filters combine; --name matches a\n"
    "part of the name; --min/--max bound the planned investment (inclusive). One\n"
    "page unless --all; when more pages follow, the --after value for the next\n"
    "one is printed to stderr.\n";

static const char edit_help[] =
    "Usage: baobao project edit ID --version V [--name NAME] [--investment AMOUNT]\n"
    "                          [--priority P] [--township T]\n"
    "                          [--cluster C | --no-cluster]\n"
    "                          [--enterprise ID | --no-enterprise]\n"
    "                          [--lead-unit ID | --no-lead-unit] [--idempotency-key KEY]\n"
    "\n"
    "Changes the given fields of project ID and prints it with its new version.\n"
    "--version is the version your edit is based on (version_conflict, exit 1, when\n"
    "someone changed it since). The stage changes with 'project move', dates with\n"
    "'project plan'.\n";

static const char move_help[] =
    "Usage: baobao project move ID --version V --stage STAGE [--reason TEXT]\n"
    "                          [--idempotency-key KEY]\n"
    "\n"
    "Moves the project's stage: forward one or more stages (a jump records the\n"
    "stages passed over), to 暂停 (paused) or 终止 (terminated), both with --reason.\n"
    "A paused project resumes at the stage it was paused at, or a later one.\n"
    "终止 and 竣工 are final. Stages: 信息收集 研判 洽谈 签约 注册 开工 投产 竣工.\n";

static const char plan_help[] =
    "Usage: baobao project plan ID --node NODE [--planned DATE | --no-planned]\n"
    "                          [--actual DATE | --no-actual] [--reason TEXT]\n"
    "                          [--idempotency-key KEY]\n"
    "\n"
    "Sets a milestone's planned and/or actual date (YYYY-MM-DD). Nodes: 签约 注册\n"
    "开工 投产 竣工. Changing a planned date that was set needs --reason (kept in\n"
    "the history). An actual date may not be after today, 投产 not before 开工;\n"
    "an actual date of a node the project has not reached moves its stage there.\n";

static const char history_help[] =
    "Usage: baobao project history ID\n"
    "\n"
    "Prints the project's stage moves and planned-date changes, newest first.\n";

/* ---- arguments ---- */

/* One argument of a request being built. */
typedef struct parg {
    const char *key;
    char type;            /* 's' str, 'i' int, 'n' nil */
    const char *s;
    int64_t i;
} parg;

typedef struct pargs {
    parg a[PRJ_MAX_ARGS];
    size_t n;
} pargs;

static void add_s(pargs *p, const char *key, const char *s)
{
    if (s != NULL && p->n < PRJ_MAX_ARGS)
        p->a[p->n++] = (parg){key, 's', s, 0};
}
static void add_i(pargs *p, const char *key, int64_t i)
{
    if (p->n < PRJ_MAX_ARGS)
        p->a[p->n++] = (parg){key, 'i', NULL, i};
}
static void add_nil(pargs *p, const char *key)
{
    if (p->n < PRJ_MAX_ARGS)
        p->a[p->n++] = (parg){key, 'n', NULL, 0};
}

/* Checks every text, then packs the map. */
static int pack_args(bbi_args *out, const pargs *p, bb_error *err)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->a[i].type == 's' && bbi_check_text(p->a[i].key, p->a[i].s, err) != BB_C_OK)
            return BB_C_EARG;
    msgpack_pack_map(&out->pk, (uint32_t)p->n);
    for (size_t i = 0; i < p->n; i++) {
        if (p->a[i].type == 's')
            bbi_pack_kv_str(&out->pk, p->a[i].key, p->a[i].s);
        else if (p->a[i].type == 'i')
            bbi_pack_kv_int(&out->pk, p->a[i].key, p->a[i].i);
        else
            bbi_pack_kv_nil(&out->pk, p->a[i].key);
    }
    return BB_C_OK;
}

/* Calls method with p; *out the reply (owned). */
static int call(cli_ctx *ctx, const char *method, const pargs *p, bool is_write, bb_reply **out,
                bb_error *err)
{
    bbi_args a;
    bbi_args_init(&a);
    int rc = pack_args(&a, p, err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, method, &a, is_write, out, err);
    bbi_args_free(&a);
    return rc;
}

static const char *key_or_new(cli_opt *o, char buf[37])
{
    if (o->value != NULL)
        return o->value;
    cli_new_key(buf);
    return buf;
}

/* The ID word of show, edit, move, plan and history. */
static int id_arg(const char *cmd, const char *const *pos, size_t npos, int64_t *id)
{
    if (npos != 1)
        return cli_usage_error(cmd, "expected one project ID");
    return cli_int_arg(cmd, "ID", pos[0], INT64_MIN, INT64_MAX, id);
}

/* ---- printing ---- */

/* Text of a scalar for a cell: str as is, int in decimal, nil "-" (also for
 * anything else). Written into one of a ring of buffers. */
typedef struct cells {
    char b[24][PRJ_CELL];
    int next;
} cells;

static const char *cell(cells *c, const msgpack_object *map, const char *key)
{
    char *s = c->b[c->next++ % 24];
    const msgpack_object *v = bbi_map_get(map, key);
    if (v != NULL && v->type == MSGPACK_OBJECT_STR) {
        size_t n = v->via.str.size < PRJ_CELL - 1 ? v->via.str.size : PRJ_CELL - 1;
        memcpy(s, v->via.str.ptr, n);
        s[n] = '\0';
    } else if (v != NULL && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        snprintf(s, PRJ_CELL, "%" PRIu64, v->via.u64);
    } else if (v != NULL && v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        snprintf(s, PRJ_CELL, "%" PRId64, v->via.i64);
    } else {
        snprintf(s, PRJ_CELL, "-");
    }
    return s;
}

/* Planned investment in yuan and 万元 (long) or 万元 only (short). */
static const char *money(cells *c, const msgpack_object *map, bool long_form)
{
    char *s = c->b[c->next++ % 24];
    const msgpack_object *v = bbi_map_get(map, "planned_investment");
    if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        snprintf(s, PRJ_CELL, "-");
        return s;
    }
    char yuan[MONEY_BUF], wan[MONEY_BUF];
    money_yuan((int64_t)v->via.u64, yuan, sizeof yuan);
    money_wan((int64_t)v->via.u64, wan, sizeof wan);
    if (long_form)
        snprintf(s, PRJ_CELL, "%s 元 (%s 万元)", yuan, wan);
    else
        snprintf(s, PRJ_CELL, "%s", wan);
    return s;
}

static bool is_project(const msgpack_object *p)
{
    const msgpack_object *ms = bbi_map_get(p, "milestones");
    return p->type == MSGPACK_OBJECT_MAP && bbi_map_get(p, "id") != NULL && ms != NULL &&
           ms->type == MSGPACK_OBJECT_ARRAY;
}

static int print_project(const msgpack_object *p)
{
    cells c = {.next = 0};
    const char *names[] = {"id", "name", "enterprise_id", "cluster", "planned_investment",
                           "priority", "lead_unit_id", "township", "stage", "stage_reason",
                           "paused_from", "version", "created_at", "updated_at"};
    const char *values[] = {cell(&c, p, "id"), cell(&c, p, "name"), cell(&c, p, "enterprise_id"),
                            cell(&c, p, "cluster"), money(&c, p, true), cell(&c, p, "priority"),
                            cell(&c, p, "lead_unit_id"), cell(&c, p, "township"),
                            cell(&c, p, "stage"), cell(&c, p, "stage_reason"),
                            cell(&c, p, "paused_from"), cell(&c, p, "version"),
                            cell(&c, p, "created_at"), cell(&c, p, "updated_at")};
    if (!cli_put(fields_render(names, values, sizeof names / sizeof names[0])))
        return CLI_EXIT_PROTOCOL;
    table *t = table_new(3);
    if (t == NULL)
        return cli_put(NULL) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
    const char *header[3] = {"MILESTONE", "PLANNED", "ACTUAL"};
    bool good = table_add_row(t, header) == 0;
    const msgpack_object *ms = bbi_map_get(p, "milestones");
    for (uint32_t i = 0; good && i < ms->via.array.size; i++) {
        const msgpack_object *m = &ms->via.array.ptr[i];
        cells mc = {.next = 0};
        const char *row[3] = {cell(&mc, m, "node"), cell(&mc, m, "planned_date"),
                              cell(&mc, m, "actual_date")};
        good = table_add_row(t, row) == 0;
    }
    fputs("\n", stdout);
    bool put = good && cli_put(table_render(t, NULL));
    table_free(t);
    return put ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

/* Prints a reply holding one Project (decoded, or raw with --json); frees r. */
static int print_project_reply(cli_ctx *ctx, bb_reply *r)
{
    const msgpack_object *p = bb_reply_result(r);
    int rc;
    if (!is_project(p)) {
        bb_error err;
        bbi_err(&err, BB_C_EPROTO, NULL, NULL, "the result is not a Project");
        rc = cli_fail(&err);
    } else if (ctx->json) {
        rc = cli_print_json(p);
    } else {
        rc = print_project(p);
    }
    bb_reply_free(r);
    return rc;
}

static int write_and_print(cli_ctx *ctx, const char *method, const pargs *p)
{
    bb_error err;
    bb_reply *r = NULL;
    if (call(ctx, method, p, true, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    return print_project_reply(ctx, r);
}

/* ---- commands ---- */

static int project_add(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--name", .metavar = "NAME"},
        {.name = "--investment", .metavar = "AMOUNT"},
        {.name = "--priority", .metavar = "PRIORITY"},
        {.name = "--township", .metavar = "TOWNSHIP"},
        {.name = "--cluster", .metavar = "CLUSTER"},
        {.name = "--enterprise", .metavar = "ID"},
        {.name = "--lead-unit", .metavar = "ID"},
        {.name = "--stage", .metavar = "STAGE"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "project add";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, add_help);
    const char *need[] = {"--name", "--investment", "--priority", "--township"};
    for (size_t i = 0; rc == 0 && i < 4; i++)
        if (cli_get(o, no, need[i])->count == 0)
            rc = cli_usage_error(cmd, "%s is required", need[i]);
    int64_t money_v = 0, ent = 0, unit = 0;
    if (rc == 0)
        rc = cli_money_arg(cmd, "--investment", cli_get(o, no, "--investment")->value, &money_v);
    if (rc == 0 && cli_get(o, no, "--enterprise")->count > 0)
        rc = cli_int_arg(cmd, "--enterprise", cli_get(o, no, "--enterprise")->value, INT64_MIN,
                         INT64_MAX, &ent);
    if (rc == 0 && cli_get(o, no, "--lead-unit")->count > 0)
        rc = cli_int_arg(cmd, "--lead-unit", cli_get(o, no, "--lead-unit")->value, INT64_MIN,
                         INT64_MAX, &unit);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    pargs p = {.n = 0};
    add_s(&p, "name", cli_get(o, no, "--name")->value);
    if (cli_get(o, no, "--enterprise")->count > 0)
        add_i(&p, "enterprise_id", ent);
    add_s(&p, "cluster", cli_get(o, no, "--cluster")->value);
    add_i(&p, "planned_investment", money_v);
    add_s(&p, "priority", cli_get(o, no, "--priority")->value);
    if (cli_get(o, no, "--lead-unit")->count > 0)
        add_i(&p, "lead_unit_id", unit);
    add_s(&p, "township", cli_get(o, no, "--township")->value);
    add_s(&p, "stage", cli_get(o, no, "--stage")->value);
    add_s(&p, "idempotency_key", key_or_new(cli_get(o, no, "--idempotency-key"), keybuf));
    rc = write_and_print(ctx, "project.create", &p);
    cli_opts_free(o, no);
    return rc;
}

/* A command whose only argument is the ID: show and history. */
static int id_only(cli_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
                   int64_t *id)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, id);
    return rc;
}

static int project_show(cli_ctx *ctx, int argc, char **argv)
{
    int64_t id;
    int rc = id_only(ctx, argc, argv, "project show", show_help, &id);
    if (rc != 0)
        return rc;
    pargs p = {.n = 0};
    add_i(&p, "id", id);
    bb_error err;
    bb_reply *r = NULL;
    if (call(ctx, "project.get", &p, false, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    return print_project_reply(ctx, r);
}

static int project_edit(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--version", .metavar = "V"},
        {.name = "--name", .metavar = "NAME"},
        {.name = "--enterprise", .metavar = "ID"},
        {.name = "--no-enterprise"},
        {.name = "--cluster", .metavar = "CLUSTER"},
        {.name = "--no-cluster"},
        {.name = "--investment", .metavar = "AMOUNT"},
        {.name = "--priority", .metavar = "PRIORITY"},
        {.name = "--lead-unit", .metavar = "ID"},
        {.name = "--no-lead-unit"},
        {.name = "--township", .metavar = "TOWNSHIP"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "project edit";
    int64_t id = 0, version = 0, ent = 0, unit = 0, money_v = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, edit_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc == 0 && cli_get(o, no, "--version")->count == 0)
        rc = cli_usage_error(cmd, "--version is required (the version your edit is based on)");
    if (rc == 0)
        rc = cli_int_arg(cmd, "--version", cli_get(o, no, "--version")->value, INT64_MIN,
                         INT64_MAX, &version);
    static const char *const pairs[3][2] = {{"--enterprise", "--no-enterprise"},
                                            {"--cluster", "--no-cluster"},
                                            {"--lead-unit", "--no-lead-unit"}};
    for (int i = 0; rc == 0 && i < 3; i++)
        if (cli_get(o, no, pairs[i][0])->count > 0 && cli_get(o, no, pairs[i][1])->count > 0)
            rc = cli_usage_error(cmd, "%s and %s exclude each other", pairs[i][0], pairs[i][1]);
    if (rc == 0 && cli_get(o, no, "--enterprise")->count > 0)
        rc = cli_int_arg(cmd, "--enterprise", cli_get(o, no, "--enterprise")->value, INT64_MIN,
                         INT64_MAX, &ent);
    if (rc == 0 && cli_get(o, no, "--lead-unit")->count > 0)
        rc = cli_int_arg(cmd, "--lead-unit", cli_get(o, no, "--lead-unit")->value, INT64_MIN,
                         INT64_MAX, &unit);
    if (rc == 0 && cli_get(o, no, "--investment")->count > 0)
        rc = cli_money_arg(cmd, "--investment", cli_get(o, no, "--investment")->value, &money_v);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    pargs p = {.n = 0};
    add_i(&p, "id", id);
    add_i(&p, "version", version);
    add_s(&p, "name", cli_get(o, no, "--name")->value);
    if (cli_get(o, no, "--enterprise")->count > 0)
        add_i(&p, "enterprise_id", ent);
    else if (cli_get(o, no, "--no-enterprise")->count > 0)
        add_nil(&p, "enterprise_id");
    if (cli_get(o, no, "--cluster")->count > 0)
        add_s(&p, "cluster", cli_get(o, no, "--cluster")->value);
    else if (cli_get(o, no, "--no-cluster")->count > 0)
        add_nil(&p, "cluster");
    if (cli_get(o, no, "--investment")->count > 0)
        add_i(&p, "planned_investment", money_v);
    add_s(&p, "priority", cli_get(o, no, "--priority")->value);
    if (cli_get(o, no, "--lead-unit")->count > 0)
        add_i(&p, "lead_unit_id", unit);
    else if (cli_get(o, no, "--no-lead-unit")->count > 0)
        add_nil(&p, "lead_unit_id");
    add_s(&p, "township", cli_get(o, no, "--township")->value);
    add_s(&p, "idempotency_key", key_or_new(cli_get(o, no, "--idempotency-key"), keybuf));
    rc = write_and_print(ctx, "project.update", &p);
    cli_opts_free(o, no);
    return rc;
}

static int project_move(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--version", .metavar = "V"},
        {.name = "--stage", .metavar = "STAGE"},
        {.name = "--reason", .metavar = "TEXT"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "project move";
    int64_t id = 0, version = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, move_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc == 0 && cli_get(o, no, "--version")->count == 0)
        rc = cli_usage_error(cmd, "--version is required (see 'baobao project show ID')");
    if (rc == 0 && cli_get(o, no, "--stage")->count == 0)
        rc = cli_usage_error(cmd, "--stage is required");
    if (rc == 0)
        rc = cli_int_arg(cmd, "--version", cli_get(o, no, "--version")->value, INT64_MIN,
                         INT64_MAX, &version);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    pargs p = {.n = 0};
    add_i(&p, "id", id);
    add_i(&p, "version", version);
    add_s(&p, "stage", cli_get(o, no, "--stage")->value);
    add_s(&p, "reason", cli_get(o, no, "--reason")->value);
    add_s(&p, "idempotency_key", key_or_new(cli_get(o, no, "--idempotency-key"), keybuf));
    rc = write_and_print(ctx, "project.move_stage", &p);
    cli_opts_free(o, no);
    return rc;
}

static int project_plan(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--node", .metavar = "NODE"},
        {.name = "--planned", .metavar = "DATE"},
        {.name = "--no-planned"},
        {.name = "--actual", .metavar = "DATE"},
        {.name = "--no-actual"},
        {.name = "--reason", .metavar = "TEXT"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "project plan";
    int64_t id = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, plan_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc == 0 && cli_get(o, no, "--node")->count == 0)
        rc = cli_usage_error(cmd, "--node is required (签约 注册 开工 投产 竣工)");
    bool planned = cli_get(o, no, "--planned")->count > 0;
    bool no_planned = cli_get(o, no, "--no-planned")->count > 0;
    bool actual = cli_get(o, no, "--actual")->count > 0;
    bool no_actual = cli_get(o, no, "--no-actual")->count > 0;
    if (rc == 0 && planned && no_planned)
        rc = cli_usage_error(cmd, "--planned and --no-planned exclude each other");
    if (rc == 0 && actual && no_actual)
        rc = cli_usage_error(cmd, "--actual and --no-actual exclude each other");
    if (rc == 0 && !planned && !no_planned && !actual && !no_actual)
        rc = cli_usage_error(cmd, "give --planned, --actual (or --no-planned, --no-actual)");
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    pargs p = {.n = 0};
    add_i(&p, "id", id);
    add_s(&p, "node", cli_get(o, no, "--node")->value);
    if (planned)
        add_s(&p, "planned_date", cli_get(o, no, "--planned")->value);
    else if (no_planned)
        add_nil(&p, "planned_date");
    if (actual)
        add_s(&p, "actual_date", cli_get(o, no, "--actual")->value);
    else if (no_actual)
        add_nil(&p, "actual_date");
    add_s(&p, "reason", cli_get(o, no, "--reason")->value);
    add_s(&p, "idempotency_key", key_or_new(cli_get(o, no, "--idempotency-key"), keybuf));
    rc = write_and_print(ctx, "project.set_milestone", &p);
    cli_opts_free(o, no);
    return rc;
}

/* The history as a table: when, who, what changed, why. */
static int print_history(const msgpack_object *items)
{
    table *t = table_new(5);
    if (t == NULL)
        return cli_put(NULL) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
    const char *header[5] = {"AT", "USER", "KIND", "CHANGE", "REASON"};
    bool good = table_add_row(t, header) == 0;
    for (uint32_t i = 0; good && i < items->via.array.size; i++) {
        const msgpack_object *e = &items->via.array.ptr[i];
        cells c = {.next = 0};
        char change[4 * PRJ_CELL];
        const char *kind = cell(&c, e, "kind");
        if (strcmp(kind, "plan") == 0) {
            snprintf(change, sizeof change, "%s planned %s → %s", cell(&c, e, "node"),
                     cell(&c, e, "old_planned"), cell(&c, e, "new_planned"));
        } else {
            const msgpack_object *sk = bbi_map_get(e, "skipped");
            size_t l = (size_t)snprintf(change, sizeof change, "%s → %s",
                                        cell(&c, e, "from_stage"), cell(&c, e, "to_stage"));
            if (sk != NULL && sk->type == MSGPACK_OBJECT_ARRAY && sk->via.array.size > 0) {
                l += (size_t)snprintf(change + l, sizeof change - l, " (skipped");
                for (uint32_t k = 0; k < sk->via.array.size && l < sizeof change; k++) {
                    const msgpack_object *s = &sk->via.array.ptr[k];
                    if (s->type == MSGPACK_OBJECT_STR)
                        l += (size_t)snprintf(change + l, sizeof change - l, " %.*s",
                                              (int)s->via.str.size, s->via.str.ptr);
                }
                if (l < sizeof change)
                    snprintf(change + l, sizeof change - l, ")");
            }
        }
        const char *row[5] = {cell(&c, e, "at"), cell(&c, e, "user"), kind, change,
                              cell(&c, e, "reason")};
        good = table_add_row(t, row) == 0;
    }
    bool put = good && cli_put(table_render(t, NULL));
    table_free(t);
    return put ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

static int project_history(cli_ctx *ctx, int argc, char **argv)
{
    int64_t id;
    int rc = id_only(ctx, argc, argv, "project history", history_help, &id);
    if (rc != 0)
        return rc;
    pargs p = {.n = 0};
    add_i(&p, "id", id);
    bb_error err;
    bb_reply *r = NULL;
    if (call(ctx, "project.history", &p, false, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    const msgpack_object *items = bbi_map_get(bb_reply_result(r), "items");
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY) {
        bbi_err(&err, BB_C_EPROTO, NULL, NULL, "project.history: no items array");
        rc = cli_fail(&err);
    } else {
        rc = ctx->json ? cli_print_json(bb_reply_result(r)) : print_history(items);
    }
    bb_reply_free(r);
    return rc;
}

/* Adds a page's rows to the table t. */
static bool list_rows(table *t, const msgpack_object *items)
{
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *e = &items->via.array.ptr[i];
        cells c = {.next = 0};
        const char *row[8] = {cell(&c, e, "id"),       cell(&c, e, "name"),
                              cell(&c, e, "township"), cell(&c, e, "stage"),
                              cell(&c, e, "priority"), money(&c, e, false),
                              cell(&c, e, "cluster"),  cell(&c, e, "version")};
        if (table_add_row(t, row) != 0)
            return false;
    }
    return true;
}

/* A `project list` being paged: the options ask, the table and rs keep. */
typedef struct lister {
    cli_opt *o;
    size_t no;
    int64_t unit, lo, hi, limit;
    table *t;
    cli_replies *rs;
    bool good;            /* false: out of memory filling the table */
} lister;

static int list_pack(void *self, bbi_args *a, int64_t after, bool has_after, bb_error *err)
{
    (void)has_after;   /* after is sent when it is not 0 */
    const lister *l = self;
    cli_opt *o = l->o;
    size_t no = l->no;
    pargs p = {.n = 0};
    add_s(&p, "township", cli_get(o, no, "--township")->value);
    add_s(&p, "cluster", cli_get(o, no, "--cluster")->value);
    add_s(&p, "stage", cli_get(o, no, "--stage")->value);
    add_s(&p, "priority", cli_get(o, no, "--priority")->value);
    if (cli_get(o, no, "--lead-unit")->count > 0)
        add_i(&p, "lead_unit_id", l->unit);
    if (cli_get(o, no, "--min")->count > 0)
        add_i(&p, "investment_min", l->lo);
    if (cli_get(o, no, "--max")->count > 0)
        add_i(&p, "investment_max", l->hi);
    add_s(&p, "name_contains", cli_get(o, no, "--name")->value);
    if (after != 0)
        add_i(&p, "after", after);
    if (l->limit != 0)
        add_i(&p, "limit", l->limit);
    return pack_args(a, &p, err);
}

/* Checks the page (even without --all: next must move past after), adds
 * its rows to the table and keeps r. Out of memory in the table stops the
 * paging with l->good false (the caller reports it, not as err). */
static int list_keep(void *self, bb_reply *r, int64_t after, int64_t *next, bb_error *err)
{
    lister *l = self;
    const msgpack_object *items = bbi_map_get(bb_reply_result(r), "items");
    const msgpack_object *nx = bbi_map_get(bb_reply_result(r), "next");
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || nx == NULL ||
        (nx->type != MSGPACK_OBJECT_NIL && nx->type != MSGPACK_OBJECT_POSITIVE_INTEGER) ||
        (nx->type == MSGPACK_OBJECT_POSITIVE_INTEGER && (int64_t)nx->via.u64 <= after))
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "project.list: not a page, or next "
                                                     "does not move past after");
    *next = nx->type == MSGPACK_OBJECT_NIL ? 0 : (int64_t)nx->via.u64;
    l->good = list_rows(l->t, items);
    if (!l->good)
        *next = 0;   /* stop here; the caller reports it */
    return cli_replies_add(l->rs, r, err);
}

static const cli_pager list_pager = {"project.list", list_pack, list_keep};

static int project_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--township", .metavar = "T"},   {.name = "--cluster", .metavar = "C"},
        {.name = "--stage", .metavar = "S"},      {.name = "--priority", .metavar = "P"},
        {.name = "--lead-unit", .metavar = "ID"}, {.name = "--min", .metavar = "AMOUNT"},
        {.name = "--max", .metavar = "AMOUNT"},   {.name = "--name", .metavar = "TEXT"},
        {.name = "--limit", .metavar = "N"},      {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "project list";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, list_help);
    int64_t limit = 0, after = 0, unit = 0, lo = 0, hi = 0;
    if (rc == 0 && cli_get(o, no, "--limit")->count > 0)
        rc = cli_int_arg(cmd, "--limit", cli_get(o, no, "--limit")->value, 1, UINT32_MAX, &limit);
    if (rc == 0 && cli_get(o, no, "--after")->count > 0)
        rc = cli_int_arg(cmd, "--after", cli_get(o, no, "--after")->value, INT64_MIN, INT64_MAX,
                         &after);
    if (rc == 0 && cli_get(o, no, "--lead-unit")->count > 0)
        rc = cli_int_arg(cmd, "--lead-unit", cli_get(o, no, "--lead-unit")->value, INT64_MIN,
                         INT64_MAX, &unit);
    if (rc == 0 && cli_get(o, no, "--min")->count > 0)
        rc = cli_money_arg(cmd, "--min", cli_get(o, no, "--min")->value, &lo);
    if (rc == 0 && cli_get(o, no, "--max")->count > 0)
        rc = cli_money_arg(cmd, "--max", cli_get(o, no, "--max")->value, &hi);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    bool all = cli_get(o, no, "--all")->count > 0;
    table *t = table_new(8);
    cli_replies rs = {0};
    bb_error err;
    if (t == NULL) {
        cli_opts_free(o, no);
        return cli_put(NULL) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
    }
    table_set_align(t, 0, TABLE_RIGHT);
    table_set_align(t, 5, TABLE_RIGHT);
    table_set_align(t, 7, TABLE_RIGHT);
    const char *header[8] = {"ID", "NAME", "TOWNSHIP", "STAGE", "PRIORITY", "INVEST_万元",
                             "CLUSTER", "VERSION"};
    bool good = table_add_row(t, header) == 0;
    int64_t next = 0;
    rc = CLI_EXIT_OK;
    lister l = {.o = o, .no = no, .unit = unit, .lo = lo, .hi = hi, .limit = limit, .t = t,
                .rs = &rs, .good = good};
    if (good && cli_page(ctx, &list_pager, &l, after, after != 0, all, &next, &err) != BB_C_OK)
        rc = cli_fail(&err);
    good = l.good;
    if (rc == CLI_EXIT_OK) {
        if (!good)
            rc = cli_put(NULL) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
        else if (ctx->json)
            rc = all ? cli_print_all_json(&rs) : cli_print_json(bb_reply_result(rs.r[0]));
        else if (!cli_put(table_render(t, NULL)))
            rc = CLI_EXIT_PROTOCOL;
        if (rc == CLI_EXIT_OK && !all && next != 0)
            fprintf(stderr, "baobao: more projects follow: add --after %lld (or use --all)\n",
                    (long long)next);
    }
    cli_replies_free(&rs);
    table_free(t);
    cli_opts_free(o, no);
    return rc;
}

int cli_project(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "project", project_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("project",
                               "missing subcommand (add, show, list, edit, move, plan, history)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "add") == 0)
        return project_add(ctx, sargc, sargv);
    if (strcmp(sub, "show") == 0)
        return project_show(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return project_list(ctx, sargc, sargv);
    if (strcmp(sub, "edit") == 0)
        return project_edit(ctx, sargc, sargv);
    if (strcmp(sub, "move") == 0)
        return project_move(ctx, sargc, sargv);
    if (strcmp(sub, "plan") == 0)
        return project_plan(ctx, sargc, sargv);
    if (strcmp(sub, "history") == 0)
        return project_history(ctx, sargc, sargv);
    return cli_usage_error("project", "unknown subcommand \"%s\"", sub);
}
