/*
 * cli_todo.c: `baobao todo`, what is waiting for me (todo.mine).
 *
 * For: saying in plain words what the server's answer holds for the
 * caller's role. Township staff: the enterprises of their townships not
 * visited this month (a table with each one's last visit), then their
 * townships' problems overdue or falling due soon. Supervisors: the
 * overdue milestones and problems of their unit and of themselves. Each
 * section says how many rows it has and whether the list was cut (--limit
 * shows more); the problem and milestone tables are those of `baobao
 * overdue` (cli_overdue.c: traffic lights, coloured on a terminal), so both
 * commands read alike. --json prints the result as the server sent it.
 * Options and help come from the method spec (cli_spec.c).
 * Not for: deciding what is waiting (the server does, from its clock and
 * its settings: sql/017_todo.sql), or the tables' layout (table.h).
 */
#include "cli.h"
#include "i18n.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest name or date cell this file copies out of a result. */
#define TODO_TEXT_MAX 512

static const char todo_about[] = N_(
    "Township staff: the enterprises of your townships with no status report\n"
    "(visit) this month, and your townships' open problems that are overdue or\n"
    "due within --within days (default: the server's due_soon_days, 7).\n"
    "Supervisors: the overdue milestones and problems of your unit and those you\n"
    "are responsible for yourself. \"This month\" and \"today\" are the server's, in\n"
    "its time zone. Each list shows at most --limit rows.\n");

static const cli_alias todo_alias[] = {{"within", "within_days"}, {NULL, NULL}};

/* The print hook of a mechanical command gets the result only; the tables
 * of `baobao overdue` need the run's context (--color). Set by cli_todo
 * for its one run. */
static cli_ctx *g_ctx;

/* ---- reading the result ---- */

/* A list of the result ({items, more}): its items (NULL when the list is
 * nil: it does not apply to the caller's role) and whether it was cut. */
static const msgpack_object *list_of(const msgpack_object *res, const char *key, bool *more)
{
    const msgpack_object *l = bb_map_get(res, key);
    *more = false;
    if (l == NULL || l->type != MSGPACK_OBJECT_MAP)
        return NULL;
    const msgpack_object *m = bb_map_get(l, "more");
    *more = m != NULL && m->type == MSGPACK_OBJECT_BOOLEAN && m->via.boolean;
    const msgpack_object *items = bb_map_get(l, "items");
    return items != NULL && items->type == MSGPACK_OBJECT_ARRAY ? items : NULL;
}

/* "2026-12" as the reporting month in words ("2026年12月"). */
static void month_words(const char *month, char *out, size_t n)
{
    int y = 0, m = 0;
    if (sscanf(month, "%d-%d", &y, &m) == 2)
        snprintf(out, n, _("%d-%02d"), y, m);
    else
        snprintf(out, n, "%s", month);
}

/* ---- the sections ---- */

/* "Section title: count" and, when the list was cut, how to see more. */
static void say_count(const char *title, uint32_t n, bool more)
{
    printf(_("%s: %u\n"), title, (unsigned)n);
    if (more)
        printf(_("(the first %u are shown; there are more: raise --limit)\n"), (unsigned)n);
}

static int print_unvisited(const msgpack_object *items, bool more, const char *month)
{
    char words[64], title[256];
    month_words(month, words, sizeof words);
    uint32_t n = items->via.array.size;
    if (n == 0) {
        printf(_("Every enterprise of your townships has been visited in %s.\n"), words);
        return CLI_EXIT_OK;
    }
    snprintf(title, sizeof title, _("Enterprises not visited in %s"), words);
    say_count(title, n, more);
    table *t = table_new(4);
    if (t == NULL)
        return cli_oom();
    table_set_align(t, 0, TABLE_RIGHT);
    const char *head[4] = {_("ID"), _("ENTERPRISE"), _("TOWNSHIP"), _("LAST VISIT")};
    bool ok = table_add_row(t, head) == 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char id[24], name[TODO_TEXT_MAX], township[TODO_TEXT_MAX], last[32];
        snprintf(id, sizeof id, "%" PRId64, cli_map_int(it, "id"));
        cli_map_str(it, "name", name, sizeof name);
        cli_map_str(it, "township", township, sizeof township);
        cli_map_str(it, "last_visit", last, sizeof last);
        const char *row[4] = {id, name, township, last[0] ? last : _("never")};
        ok = table_add_row(t, row) == 0;
    }
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    return cli_put(text) ? CLI_EXIT_OK : cli_oom();
}

/* The table `baobao overdue METHOD` prints for items (cli_overdue.c). */
static int overdue_table(const char *method, const msgpack_object *items)
{
    for (const cli_mech *m = cli_overdue_cmds; m->cmd != NULL; m++)
        if (strcmp(m->method, method) == 0 && m->print_items != NULL)
            return m->print_items(g_ctx, items);
    return cli_print_table(items, NULL, 0, NULL) ? CLI_EXIT_OK : cli_oom();
}

static int print_problems(const msgpack_object *items, bool more, bool staff, int64_t within)
{
    uint32_t n = items->via.array.size;
    char title[256];
    if (staff)
        snprintf(title, sizeof title, _("Problems of your townships overdue or due within %lld "
                                        "days"), (long long)within);
    else
        snprintf(title, sizeof title, "%s", _("Overdue problems"));
    if (n == 0) {
        printf(_("%s: none.\n"), title);
        return CLI_EXIT_OK;
    }
    say_count(title, n, more);
    if (staff)
        printf("%s\n", _("DAYS: days overdue; 0: due today; negative: days left."));
    return overdue_table("overdue.problems", items);
}

static int print_milestones(const msgpack_object *items, bool more)
{
    uint32_t n = items->via.array.size;
    const char *title = _("Overdue project milestones");
    if (n == 0) {
        printf(_("%s: none.\n"), title);
        return CLI_EXIT_OK;
    }
    say_count(title, n, more);
    return overdue_table("overdue.milestones", items);
}

/* Who the lists are about: the townships (staff), the unit and the
 * official (supervisors), with a hint when the account maps to neither. */
static void print_who(const msgpack_object *res, bool staff)
{
    char today[32], buf[TODO_TEXT_MAX];
    printf("%s%s\n", _("Today: "), cli_map_str(res, "today", today, sizeof today));
    if (staff) {
        const msgpack_object *ts = bb_map_get(res, "townships");
        uint32_t n = ts != NULL && ts->type == MSGPACK_OBJECT_ARRAY ? ts->via.array.size : 0;
        printf("%s", _("Your townships: "));
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object *t = &ts->via.array.ptr[i];
            if (t->type == MSGPACK_OBJECT_STR)
                printf("%s%.*s", i ? _(", ") : "", (int)t->via.str.size, t->via.str.ptr);
        }
        /* Staff without a township see nothing: say why. */
        printf("%s\n", n == 0 ? _("none (ask an admin to give you your townships)") : "");
        return;
    }
    const msgpack_object *unit = bb_map_get(res, "unit");
    const msgpack_object *off = bb_map_get(res, "official");
    bool has_unit = unit != NULL && unit->type == MSGPACK_OBJECT_MAP;
    bool has_off = off != NULL && off->type == MSGPACK_OBJECT_MAP;
    if (has_unit)
        printf("%s%s\n", _("Your unit: "), cli_map_str(unit, "name", buf, sizeof buf));
    if (has_off)
        printf("%s%s\n", _("You, as an official: "), cli_map_str(off, "name", buf, sizeof buf));
    if (!has_unit && !has_off)
        printf("%s\n", _("Your account names no unit of the directory and no official is linked "
                         "to it, so nothing can be yours yet: ask an admin to set your unit "
                         "(user update --unit), or link an official to your user."));
}

static int print_todo(const msgpack_object *res)
{
    char role[32], month[16];
    cli_map_str(res, "role", role, sizeof role);
    cli_map_str(res, "month", month, sizeof month);
    bool staff = strcmp(role, "township_staff") == 0;
    print_who(res, staff);
    bool more;
    int rc = CLI_EXIT_OK;
    const msgpack_object *items = list_of(res, "unvisited", &more);
    if (items != NULL) {
        printf("\n");
        rc = print_unvisited(items, more, month);
    }
    items = list_of(res, "milestones", &more);
    if (rc == CLI_EXIT_OK && items != NULL) {
        printf("\n");
        rc = print_milestones(items, more);
    }
    items = list_of(res, "problems", &more);
    if (rc == CLI_EXIT_OK && items != NULL) {
        printf("\n");
        rc = print_problems(items, more, staff, cli_map_int(res, "within_days"));
    }
    return rc;
}

static const cli_mech todo_cmd = {
    .cmd = "todo", .method = "todo.mine", .aliases = todo_alias, .print = print_todo,
    .about = todo_about,
};

int cli_todo(cli_ctx *ctx, int argc, char **argv)
{
    g_ctx = ctx;
    int rc = cli_mech_run(ctx, &todo_cmd, argc, argv);
    g_ctx = NULL;
    return rc;
}
