/*
 * cli_overdue.c: `baobao overdue milestones|problems` and
 * `baobao due milestones|problems`, the supervisors' view of what is late
 * and what falls due soon (overdue.*, due.*).
 *
 * For: the option names users know (--unit, --official, --within) and the
 * printer: a table lined up by display width whose first column is the
 * traffic light, coloured (red, yellow, green) when stdout is a terminal
 * and NO_COLOR is not set, or with --color always; plain text when piped.
 * Options, help and paging come from the method spec (cli_spec.c).
 * Not for: deciding levels or days (the server does, from its clock and
 * its thresholds), checking filter values (the server refuses unknown
 * stages, states and levels with invalid_argument).
 */
#include "cli.h"

#include "i18n.h"
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

static const char overdue_intro[] = N_(
    "What is late, most overdue first: milestones whose planned date has passed\n"
    "without an actual date, problems past their deadline and not closed. Each row\n"
    "has a traffic light: 红 (red) when more than the server's\n"
    "overdue_red_after_days late (default 30), else 黄 (yellow). DAYS: days overdue.\n"
    "The lights are coloured on a terminal without $NO_COLOR; --color always|never\n"
    "(a global option) decides otherwise.\n");

static const char due_intro[] = N_(
    "What falls due soon: milestones planned (problems with a deadline) from today\n"
    "to today + N days, not done; soonest first. DAYS is negative: days left.\n");

/* A page's people list [{id, name, role}] as "name(role)、name(role)". */
static char *join_people(const msgpack_object *arr)
{
    size_t cap = 2;   /* "-" for an empty list */
    if (arr != NULL && arr->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < arr->via.array.size; i++)
            cap += 64 + 8;
    if (arr != NULL && arr->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < arr->via.array.size; i++) {
            const msgpack_object *n = bb_map_get(&arr->via.array.ptr[i], "name");
            const msgpack_object *r = bb_map_get(&arr->via.array.ptr[i], "role");
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
        const msgpack_object *n = bb_map_get(&arr->via.array.ptr[i], "name");
        const msgpack_object *r = bb_map_get(&arr->via.array.ptr[i], "role");
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
    const msgpack_object *o = bb_map_get(map, key);
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
    const msgpack_object *o = bb_map_get(map, key);
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
    const msgpack_object *ent = bb_map_get(it, "enterprise");
    char *ename = ent != NULL && ent->type == MSGPACK_OBJECT_MAP ? str_field(ent, "name")
                                                                   : strdup("-");
    char *officials = join_people(bb_map_get(it, "officials"));
    char *units = join_people(bb_map_get(it, "units"));
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

/* Prints the items as one table; colour wraps each light. */
static int print_table(const msgpack_object *a, bool milestones, bool colour)
{
    size_t n = a->via.array.size;
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
    const char *header[OD_NCOLS] = {_("LIGHT"), _("DAYS"),
                                    milestones ? _("PLANNED") : _("DEADLINE"),
                                    milestones ? _("PROJECT") : _("PROBLEM"),
                                    milestones ? _("NAME NODE") : _("DESCRIPTION"),
                                    milestones ? _("STAGE") : _("STATE"), _("TOWNSHIP"),
                                    _("ENTERPRISE"), _("OFFICIALS"), _("UNITS")};
    bool ok = table_add_row(t, header) == 0;
    size_t k = 0;
    for (uint32_t j = 0; ok && j < a->via.array.size; j++)
        ok = add_item(t, &a->via.array.ptr[j], milestones, &colours[k++]) == 0;
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

/* --color always / never, else a terminal without $NO_COLOR. */
static bool colour_on(const cli_ctx *ctx)
{
    if (ctx->color >= 0)
        return ctx->color == 1;
    return isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
}

static int print_milestones(cli_ctx *ctx, const msgpack_object *items)
{
    return print_table(items, true, colour_on(ctx));
}

static int print_problems(cli_ctx *ctx, const msgpack_object *items)
{
    return print_table(items, false, colour_on(ctx));
}

static const cli_alias od_alias[] = {
    {"official", "official_id"}, {"unit", "unit_id"}, {"within", "within_days"}, {NULL, NULL},
};

const cli_mech cli_overdue_cmds[] = {
    {.cmd = "overdue milestones", .method = "overdue.milestones", .aliases = od_alias,
     .print_items = print_milestones},
    {.cmd = "overdue problems", .method = "overdue.problems", .aliases = od_alias,
     .print_items = print_problems},
    {.cmd = NULL},
};

const cli_mech cli_due_cmds[] = {
    {.cmd = "due milestones", .method = "due.milestones", .aliases = od_alias,
     .print_items = print_milestones},
    {.cmd = "due problems", .method = "due.problems", .aliases = od_alias,
     .print_items = print_problems},
    {.cmd = NULL},
};

int cli_overdue(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "overdue", overdue_intro, cli_overdue_cmds, argc, argv);
}

int cli_due(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "due", due_intro, cli_due_cmds, argc, argv);
}
