/*
 * cli_overdue.c: `baobao overdue milestones|problems` and
 * `baobao due milestones|problems`, the supervisors' view of what is late
 * and what falls due soon (overdue.*, due.*).
 *
 * For: options to arguments (raw cli_call with bbi_args: no typed library
 * functions for these methods), paging with --all, and printing a table
 * lined up by display width whose first column is the traffic light:
 * coloured (red, yellow, green) when stdout is a terminal and NO_COLOR is
 * not set, or with --color always; plain text when piped. --json prints
 * the server's result as it is.
 * Not for: deciding levels or days (the server does, from its clock and
 * its thresholds), checking filter values (the server refuses unknown
 * stages, states and levels with invalid_argument).
 */
#include "cli.h"
#include "table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Widest description cell, in columns (the rest is cut with "…"). */
#define OD_DESC_COLS 30
/* ANSI colours of the lights. */
#define OD_RED "\033[31m"
#define OD_YELLOW "\033[33m"
#define OD_GREEN "\033[32m"
#define OD_RESET "\033[0m"

static const char overdue_help[] =
    "Usage: baobao overdue milestones|problems [options]\n"
    "\n"
    "What is late, most overdue first: milestones whose planned date has passed\n"
    "without an actual date (overdue.milestones), problems past their deadline and\n"
    "not closed (overdue.problems). Each row has a traffic light: 红 (red) when more\n"
    "than the server's overdue_red_after_days late (default 30), else 黄 (yellow).\n"
    "Run 'baobao overdue milestones --help' for the options.\n";

static const char due_help[] =
    "Usage: baobao due milestones|problems [options]\n"
    "\n"
    "What falls due soon: milestones planned (problems with a deadline) from today\n"
    "to today + N days, not done; soonest first. DAYS is negative: days left.\n"
    "Run 'baobao due milestones --help' for the options.\n";

static const char list_help[] =
    "Usage: baobao overdue|due milestones|problems [--township T] [--cluster C]\n"
    "           [--stage S | --state S] [--official ID] [--unit ID]\n"
    "           [--level red|yellow | --within N] [--limit N] [--after CURSOR]\n"
    "           [--all] [--color auto|always|never]\n"
    "\n"
    "Prints a table: LIGHT, DAYS (days overdue; negative = days left), the planned\n"
    "date or deadline, the project and node or the problem, its stage or state,\n"
    "township, enterprise, and the officials and units responsible (with their\n"
    "roles). Today is the server's date in its time zone.\n"
    "\n"
    "  --township T     only in this township, street or park\n"
    "  --cluster C      only this industry cluster (of the project / enterprise)\n"
    "  --stage S        milestones: only projects at this stage (e.g. 签约)\n"
    "  --state S        problems: only in this state (受理 交办 办理 反馈)\n"
    "  --official ID    only where this official is responsible\n"
    "  --unit ID        only where this unit is responsible (lead unit, 责任单位,\n"
    "                   or a problem's assignee)\n"
    "  --level L        overdue only: red or yellow\n"
    "  --within N       due only: days ahead (default: the server's due_soon_days, 7)\n"
    "  --limit N        rows per page (default: the server's page_limit_default)\n"
    "  --after CURSOR   start after this position (the cursor printed for the next page)\n"
    "  --all            fetch every page; with --json prints {\"items\": [...], \"next\": null}\n"
    "  --color WHEN     colour the lights: auto (on a terminal, unless NO_COLOR is\n"
    "                   set; the default), always, never\n";

/* A page's people list [{id, name, role}] as "name(role)、name(role)". */
static char *join_people(const msgpack_object *arr)
{
    size_t cap = 2;   /* "-" for an empty list */
    if (arr != NULL && arr->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < arr->via.array.size; i++)
            cap += 64 + 8;
    if (arr != NULL && arr->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < arr->via.array.size; i++) {
            const msgpack_object *n = bbi_map_get(&arr->via.array.ptr[i], "name");
            const msgpack_object *r = bbi_map_get(&arr->via.array.ptr[i], "role");
            cap += (n && n->type == MSGPACK_OBJECT_STR ? n->via.str.size : 0) +
                   (r && r->type == MSGPACK_OBJECT_STR ? r->via.str.size : 0);
        }
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t len = 0;
    out[0] = '\0';
    if (arr == NULL || arr->type != MSGPACK_OBJECT_ARRAY || arr->via.array.size == 0) {
        snprintf(out, cap, "-");
        return out;
    }
    for (uint32_t i = 0; i < arr->via.array.size; i++) {
        const msgpack_object *n = bbi_map_get(&arr->via.array.ptr[i], "name");
        const msgpack_object *r = bbi_map_get(&arr->via.array.ptr[i], "role");
        int w = snprintf(out + len, cap - len, "%s%.*s(%.*s)", i ? "、" : "",
                         n && n->type == MSGPACK_OBJECT_STR ? (int)n->via.str.size : 1,
                         n && n->type == MSGPACK_OBJECT_STR ? n->via.str.ptr : "?",
                         r && r->type == MSGPACK_OBJECT_STR ? (int)r->via.str.size : 1,
                         r && r->type == MSGPACK_OBJECT_STR ? r->via.str.ptr : "?");
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    return out;
}

/* A str field as a NUL-terminated copy ("-" for nil or missing). */
static char *str_field(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = bbi_map_get(map, key);
    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return strdup("-");
    char *s = malloc(o->via.str.size + 1);
    if (s != NULL) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

static long long int_field(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = bbi_map_get(map, key);
    if (o == NULL)
        return 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (long long)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (long long)o->via.i64;
    return 0;
}

/* The light of a level: its cell text and colour. */
static const char *light_cell(const char *level, const char **colour)
{
    if (strcmp(level, "red") == 0) {
        *colour = OD_RED;
        return "● 红";
    }
    if (strcmp(level, "yellow") == 0) {
        *colour = OD_YELLOW;
        return "● 黄";
    }
    *colour = OD_GREEN;
    return "● 绿";
}

enum { OD_NCOLS = 10 };

/* Adds one item as a table row; its light's colour goes to colours[row]. */
static int add_item(table *t, const msgpack_object *it, bool milestones, const char **colour)
{
    char *level = str_field(it, "level");
    char *date = str_field(it, milestones ? "planned_date" : "deadline");
    char *what = str_field(it, milestones ? "name" : "description");
    char *node = milestones ? str_field(it, "node") : NULL;
    char *stage = str_field(it, milestones ? "stage" : "state");
    char *township = str_field(it, "township");
    const msgpack_object *ent = bbi_map_get(it, "enterprise");
    char *ename = ent != NULL && ent->type == MSGPACK_OBJECT_MAP ? str_field(ent, "name")
                                                                   : strdup("-");
    char *officials = join_people(bbi_map_get(it, "officials"));
    char *units = join_people(bbi_map_get(it, "units"));
    char *desc = what != NULL ? text_cell(what, milestones ? 0 : OD_DESC_COLS) : NULL;
    char days[24], id[24], whatcell[512];
    snprintf(days, sizeof days, "%lld", int_field(it, "days_overdue"));
    snprintf(id, sizeof id, "%lld", int_field(it, milestones ? "project_id" : "problem_id"));
    int rc = -1;
    if (level != NULL && date != NULL && desc != NULL && (!milestones || node != NULL) &&
        stage != NULL && township != NULL && ename != NULL && officials != NULL &&
        units != NULL) {
        if (milestones)
            snprintf(whatcell, sizeof whatcell, "%s %s", desc, node);
        else
            snprintf(whatcell, sizeof whatcell, "%s", desc);
        const char *row[OD_NCOLS] = {light_cell(level, colour), days, date, id, whatcell,
                                     stage, township, ename, officials, units};
        rc = table_add_row(t, row);
    }
    free(level);
    free(date);
    free(what);
    free(node);
    free(stage);
    free(township);
    free(ename);
    free(officials);
    free(units);
    free(desc);
    return rc;
}

/* Prints every item of the pages as one table; colour wraps each light. */
static int print_table(const cli_replies *rs, bool milestones, bool colour)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++)
        n += bbi_map_get(bb_reply_result(rs->r[i]), "items")->via.array.size;
    table *t = table_new(OD_NCOLS);
    const char **colours = calloc(n + 1, sizeof *colours);
    if (t == NULL || colours == NULL) {
        table_free(t);
        free(colours);
        cli_put(NULL);
        return CLI_EXIT_PROTOCOL;
    }
    table_set_align(t, 1, TABLE_RIGHT);
    table_set_align(t, 3, TABLE_RIGHT);
    const char *header[OD_NCOLS] = {"LIGHT", "DAYS", milestones ? "PLANNED" : "DEADLINE",
                                    milestones ? "PROJECT" : "PROBLEM",
                                    milestones ? "NAME NODE" : "DESCRIPTION",
                                    milestones ? "STAGE" : "STATE", "TOWNSHIP", "ENTERPRISE",
                                    "OFFICIALS", "UNITS"};
    bool ok = table_add_row(t, header) == 0;
    size_t k = 0;
    for (size_t i = 0; ok && i < rs->n; i++) {
        const msgpack_object *a = bbi_map_get(bb_reply_result(rs->r[i]), "items");
        for (uint32_t j = 0; ok && j < a->via.array.size; j++)
            ok = add_item(t, &a->via.array.ptr[j], milestones, &colours[k++]) == 0;
    }
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    if (text == NULL || !colour) {
        free(colours);
        return cli_put(text) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
    }
    /* Every line after the header starts with its light's cell: wrap the
     * cell in its colour (escape sequences take no columns, so the table
     * stays lined up). */
    const char *line = strchr(text, '\n');
    fwrite(text, 1, line != NULL ? (size_t)(line - text) + 1 : strlen(text), stdout);
    for (size_t r = 0; line != NULL && line[1] != '\0' && r < k; r++) {
        const char *start = line + 1;
        line = strchr(start, '\n');
        size_t len = line != NULL ? (size_t)(line - start) + 1 : strlen(start);
        const char *cell = strlen("● 红") <= len ? start : NULL;
        size_t cell_len = strlen("● 红");   /* every light cell has this length */
        if (cell != NULL && colours[r] != NULL) {
            fputs(colours[r], stdout);
            fwrite(start, 1, cell_len, stdout);
            fputs(OD_RESET, stdout);
            fwrite(start + cell_len, 1, len - cell_len, stdout);
        } else {
            fwrite(start, 1, len, stdout);
        }
    }
    free(colours);
    free(text);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

/* Checks a text option's UTF-8 before anything is packed. */
static int check_opt(const char *key, const char *v, bb_error *err)
{
    return v == NULL ? BB_C_OK : bbi_check_text(key, v, err);
}

static int od_list(cli_ctx *ctx, int argc, char **argv, bool due, bool milestones)
{
    cli_opt o[] = {
        { .name = "--township", .metavar = "T" },
        { .name = "--cluster", .metavar = "C" },
        { .name = "--stage", .metavar = "S" },
        { .name = "--state", .metavar = "S" },
        { .name = "--official", .metavar = "ID" },
        { .name = "--unit", .metavar = "ID" },
        { .name = "--level", .metavar = "L" },
        { .name = "--within", .metavar = "N" },
        { .name = "--limit", .metavar = "N" },
        { .name = "--after", .metavar = "CURSOR" },
        { .name = "--all" },
        { .name = "--color", .metavar = "WHEN" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "%s %s", due ? "due" : "overdue",
             milestones ? "milestones" : "problems");
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, list_help);
    if (rc != 0)
        return rc;
    int64_t official = 0, unit = 0, within = -1, limit = 0;
    const char *filter_key = milestones ? "--stage" : "--state";
    const char *other_key = milestones ? "--state" : "--stage";
    if (cli_get(o, no, other_key)->count > 0)
        rc = cli_usage_error(cmd, "%s is for %s", other_key,
                             milestones ? "problems" : "milestones");
    if (rc == 0 && due && cli_get(o, no, "--level")->count > 0)
        rc = cli_usage_error(cmd, "--level is for overdue (every row of due is green)");
    if (rc == 0 && !due && cli_get(o, no, "--within")->count > 0)
        rc = cli_usage_error(cmd, "--within is for due");
    if (rc == 0 && cli_get(o, no, "--official")->count > 0)
        rc = cli_int_arg(cmd, "--official", cli_get(o, no, "--official")->value, INT64_MIN,
                         INT64_MAX, &official);
    if (rc == 0 && cli_get(o, no, "--unit")->count > 0)
        rc = cli_int_arg(cmd, "--unit", cli_get(o, no, "--unit")->value, INT64_MIN, INT64_MAX,
                         &unit);
    if (rc == 0 && cli_get(o, no, "--within")->count > 0)
        rc = cli_int_arg(cmd, "--within", cli_get(o, no, "--within")->value, INT64_MIN,
                         INT64_MAX, &within);
    if (rc == 0 && cli_get(o, no, "--limit")->count > 0)
        rc = cli_int_arg(cmd, "--limit", cli_get(o, no, "--limit")->value, INT64_MIN,
                         INT64_MAX, &limit);
    bool colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
    const char *when = cli_get(o, no, "--color")->value;
    if (rc == 0 && when != NULL) {
        if (strcmp(when, "always") == 0)
            colour = true;
        else if (strcmp(when, "never") == 0)
            colour = false;
        else if (strcmp(when, "auto") != 0)
            rc = cli_usage_error(cmd, "--color must be auto, always or never");
    }
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    const char *township = cli_get(o, no, "--township")->value;
    const char *cluster = cli_get(o, no, "--cluster")->value;
    const char *filter = cli_get(o, no, filter_key)->value;
    const char *level = cli_get(o, no, "--level")->value;
    const char *after = cli_get(o, no, "--after")->value;
    bool all = cli_get(o, no, "--all")->count > 0;
    char method[32];
    snprintf(method, sizeof method, "%s.%s", due ? "due" : "overdue",
             milestones ? "milestones" : "problems");
    bb_error err;
    if (check_opt("township", township, &err) != BB_C_OK ||
        check_opt("cluster", cluster, &err) != BB_C_OK ||
        check_opt(milestones ? "stage" : "state", filter, &err) != BB_C_OK ||
        check_opt("level", level, &err) != BB_C_OK || check_opt("after", after, &err) != BB_C_OK) {
        cli_opts_free(o, no);
        return cli_fail(&err);
    }
    cli_replies rs = { 0 };
    char *next = NULL;
    char *cursor = after != NULL ? strdup(after) : NULL;
    for (;;) {
        bbi_args a;
        bbi_args_init(&a);
        uint32_t n = (township != NULL) + (cluster != NULL) + (filter != NULL) +
                     (official != 0) + (unit != 0) + (level != NULL) + (within >= 0) +
                     (cursor != NULL) + (limit != 0);
        msgpack_pack_map(&a.pk, n);
        if (township != NULL) bbi_pack_kv_str(&a.pk, "township", township);
        if (cluster != NULL) bbi_pack_kv_str(&a.pk, "cluster", cluster);
        if (filter != NULL) bbi_pack_kv_str(&a.pk, milestones ? "stage" : "state", filter);
        if (official != 0) bbi_pack_kv_int(&a.pk, "official_id", official);
        if (unit != 0) bbi_pack_kv_int(&a.pk, "unit_id", unit);
        if (level != NULL) bbi_pack_kv_str(&a.pk, "level", level);
        if (within >= 0) bbi_pack_kv_int(&a.pk, "within_days", within);
        if (cursor != NULL) bbi_pack_kv_str(&a.pk, "after", cursor);
        if (limit != 0) bbi_pack_kv_int(&a.pk, "limit", limit);
        bb_reply *r = NULL;
        rc = cli_call(ctx, method, &a, false, &r, &err);
        bbi_args_free(&a);
        const msgpack_object *res = rc == BB_C_OK ? bb_reply_result(r) : NULL;
        const msgpack_object_array *items = NULL;
        if (rc == BB_C_OK)
            rc = bbi_get_array(res, method, "items", &items, &err);
        free(next);
        next = NULL;
        if (rc == BB_C_OK)
            rc = bbi_get_nstr(res, method, "next", &next, &err);
        if (rc == BB_C_OK)
            rc = cli_replies_add(&rs, r, &err);
        else if (r != NULL)
            bb_reply_free(r);
        if (rc == BB_C_OK && all && next != NULL && cursor != NULL && strcmp(next, cursor) == 0)
            rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: next does not move past after",
                         method);
        if (rc != BB_C_OK) {
            cli_replies_free(&rs);
            free(next);
            free(cursor);
            cli_opts_free(o, no);
            return cli_fail(&err);
        }
        if (!all || next == NULL)
            break;
        free(cursor);
        cursor = strdup(next);
        if (cursor == NULL) {
            rc = bbi_err(&err, BB_C_ENOMEM, NULL, NULL, "out of memory");
            cli_replies_free(&rs);
            free(next);
            cli_opts_free(o, no);
            return cli_fail(&err);
        }
    }
    if (ctx->json)
        rc = all ? cli_print_all_json(&rs) : cli_print_json(bb_reply_result(rs.r[0]));
    else
        rc = print_table(&rs, milestones, colour);
    if (!all && next != NULL)
        fprintf(stderr, "baobao: more rows follow: add --after %s (or use --all)\n", next);
    cli_replies_free(&rs);
    free(next);
    free(cursor);
    cli_opts_free(o, no);
    return rc;
}

static int od_command(cli_ctx *ctx, int argc, char **argv, bool due)
{
    const char *name = due ? "due" : "overdue";
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, name, due ? due_help : overdue_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error(name, "missing subcommand (milestones, problems)");
    const char *sub = argv[first];
    if (strcmp(sub, "milestones") == 0)
        return od_list(ctx, argc - first - 1, argv + first + 1, due, true);
    if (strcmp(sub, "problems") == 0)
        return od_list(ctx, argc - first - 1, argv + first + 1, due, false);
    return cli_usage_error(name, "unknown subcommand \"%s\"", sub);
}

int cli_overdue(cli_ctx *ctx, int argc, char **argv)
{
    return od_command(ctx, argc, argv, false);
}

int cli_due(cli_ctx *ctx, int argc, char **argv)
{
    return od_command(ctx, argc, argv, true);
}
