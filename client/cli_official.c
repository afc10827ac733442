/*
 * cli_official.c: `baobao unit ...`, `baobao official ...` and `baobao
 * assign ...` (issue 5): the directory of units and officials, 包保
 * assignments, portfolios and coverage gaps.
 *
 * For: turning options into the arguments of unit.*, official.*,
 * assignment.* and coverage.gaps (raw calls through cli_call with
 * bbi_args), paging the lists for --all, and printing results: "field:
 * value" blocks for one record, tables for lists (by display width, so
 * Chinese lines up), the raw result with --json. Results are read as
 * generic msgpack maps (no typed library functions for these methods), so
 * a cell shows what the server sent: nil as "-".
 * Not for: the rules the server checks (holders, targets, roles, periods,
 * who may do what: exit 1 with the server's code), logging in (cli_call.c).
 */
#include "cli.h"

#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char unit_help[] =
    "Usage: baobao unit COMMAND ...\n"
    "\n"
    "Units (单位: bureaus, township governments, ...). Everyone reads them;\n"
    "supervisors and admins create them.\n"
    "\n"
    "Commands:\n"
    "  create --name NAME       add a unit (unit.create)\n"
    "  get ID                   one unit (unit.get)\n"
    "  list                     units in pages (unit.list)\n"
    "  portfolio ID [--on DATE] what the unit is responsible for on a day: its\n"
    "                           assignments, the projects it leads, its open problems\n"
    "Run 'baobao unit COMMAND --help' for a command's options.\n";

static const char official_help[] =
    "Usage: baobao official COMMAND ...\n"
    "\n"
    "Officials (干部: city leaders, bureau heads, liaisons). Everyone reads them;\n"
    "supervisors and admins create and change them.\n"
    "\n"
    "Commands:\n"
    "  create --name NAME ...    add an official (official.create)\n"
    "  get ID                    one official (official.get)\n"
    "  update ID --version V ... change an official (official.update)\n"
    "  list                      officials in pages, optionally of one unit\n"
    "  portfolio ID [--on DATE]  the official's active assignments and open problems\n"
    "Run 'baobao official COMMAND --help' for a command's options.\n";

static const char assign_help[] =
    "Usage: baobao assign COMMAND ...\n"
    "\n"
    "包保 assignments: an official (包保市领导, 联络员) or a unit (责任单位)\n"
    "responsible for an enterprise or a project for a period. Supervisors write\n"
    "them; everyone reads those of their townships.\n"
    "\n"
    "Commands:\n"
    "  create ...        add an assignment (assignment.create)\n"
    "  get ID            one assignment (assignment.get)\n"
    "  end ID --on DATE  set the last day of its period (assignment.end)\n"
    "  list              assignments in pages, filtered (assignment.list)\n"
    "  gaps              key enterprises and projects missing a role (coverage.gaps)\n"
    "Run 'baobao assign COMMAND --help' for a command's options.\n";

static const char unit_create_help[] =
    "Usage: baobao unit create --name NAME [--idempotency-key KEY]\n"
    "\n"
    "Adds a unit and prints it.\n"
    "\n"
    "  --name NAME            1-50 characters, unique, e.g. 招商服务中心\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char unit_get_help[] =
    "Usage: baobao unit get ID\n"
    "\n"
    "Prints one unit as \"field: value\" lines (or JSON with --json).\n";

static const char unit_list_help[] =
    "Usage: baobao unit list [--name-contains TEXT] [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints units in ascending id as a table. One page unless --all; when more\n"
    "pages follow, the --after value is printed to stderr.\n"
    "\n"
    "  --name-contains TEXT  units whose name contains TEXT\n"
    "  --limit N             rows per page (1 - the server's page_limit_max)\n"
    "  --after ID            start after this id (the `next` of the previous page)\n"
    "  --all                 fetch every page; with --json prints {\"items\": [...], \"next\": null}\n";

static const char portfolio_help_unit[] =
    "Usage: baobao unit portfolio ID [--on DATE]\n"
    "\n"
    "What unit ID is responsible for on DATE (default: today in the server's time\n"
    "zone): its assignments active that day, the projects it leads that are still\n"
    "going (not 终止, not 竣工), and the problems assigned to it that are not closed.\n"
    "Township staff see only what lies in their townships.\n";

static const char portfolio_help_official[] =
    "Usage: baobao official portfolio ID [--on DATE]\n"
    "\n"
    "The assignments official ID holds on DATE (default: today in the server's\n"
    "time zone), each with the enterprise or project it concerns, and the problems\n"
    "assigned to the official that are not closed. Township staff see only what\n"
    "lies in their townships.\n";

static const char off_create_help[] =
    "Usage: baobao official create --name NAME [--title TITLE] [--unit UNIT_ID]\n"
    "                              [--phone PHONE] [--user-id USER_ID]\n"
    "                              [--idempotency-key KEY]\n"
    "\n"
    "Adds an official and prints it.\n"
    "\n"
    "  --name NAME            1-50 characters, e.g. 王建国\n"
    "  --title TITLE          1-50 characters, e.g. 副市长\n"
    "  --unit UNIT_ID         the unit the official works for\n"
    "  --phone PHONE          a digit, then digits, spaces, + or -; 3-32 characters\n"
    "  --user-id USER_ID      the official's baobao user, when they have one\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char off_get_help[] =
    "Usage: baobao official get ID\n"
    "\n"
    "Prints one official as \"field: value\" lines (or JSON with --json).\n";

static const char off_update_help[] =
    "Usage: baobao official update ID --version V [--name NAME]\n"
    "                              [--title TITLE | --no-title] [--unit UNIT_ID | --no-unit]\n"
    "                              [--phone PHONE | --no-phone]\n"
    "                              [--user-id USER_ID | --no-user-id]\n"
    "                              [--idempotency-key KEY]\n"
    "\n"
    "Changes the given fields of official ID and prints it with its new version.\n"
    "--version is the version your change is based on (version_conflict, exit 1,\n"
    "when someone changed the official since). --no-X clears X.\n";

static const char off_list_help[] =
    "Usage: baobao official list [--unit UNIT_ID] [--name-contains TEXT] [--limit N]\n"
    "                            [--after ID] [--all]\n"
    "\n"
    "Prints officials in ascending id as a table; paging as in 'baobao unit list'.\n";

static const char asg_create_help[] =
    "Usage: baobao assign create (--official ID | --unit ID)\n"
    "                            (--enterprise ID | --project ID)\n"
    "                            --role ROLE --from DATE [--to DATE]\n"
    "                            [--idempotency-key KEY]\n"
    "\n"
    "Adds an assignment and prints it.\n"
    "\n"
    "  --official ID / --unit ID       who holds it: 责任单位 is held by a unit,\n"
    "                                  包保市领导 and 联络员 by officials\n"
    "  --enterprise ID / --project ID  what it concerns\n"
    "  --role ROLE                     包保市领导 | 责任单位 | 联络员\n"
    "  --from DATE                     first day, YYYY-MM-DD\n"
    "  --to DATE                       last day (default: open-ended)\n"
    "  --idempotency-key KEY           key of this write (default: a random UUID)\n";

static const char asg_get_help[] =
    "Usage: baobao assign get ID\n"
    "\n"
    "Prints one assignment as \"field: value\" lines (or JSON with --json).\n";

static const char asg_end_help[] =
    "Usage: baobao assign end ID --on DATE [--version V] [--idempotency-key KEY]\n"
    "\n"
    "Sets DATE as the last day of assignment ID's period and prints it. Without\n"
    "--version the current version is read first (assignment.get).\n";

static const char asg_list_help[] =
    "Usage: baobao assign list [--enterprise ID] [--project ID] [--official ID]\n"
    "                          [--unit ID] [--role ROLE] [--active-on DATE]\n"
    "                          [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints assignments in ascending id as a table; filters combine with AND.\n"
    "--active-on DATE keeps those whose period includes DATE. Paging as in\n"
    "'baobao unit list'.\n";

static const char gaps_help[] =
    "Usage: baobao assign gaps [--kind enterprise|project] [--role ROLE]\n"
    "                          [--township T] [--on DATE] [--limit N] [--after CURSOR]\n"
    "                          [--all]\n"
    "\n"
    "Key enterprises (labelled 规上 or 重点企业, not 注销) and key projects\n"
    "(省级重点 or 市级重点, not 终止 or 竣工) without an assignment active on DATE\n"
    "(default: today) in a role: one row per missing (target, role). One page\n"
    "unless --all; when more pages follow, the --after value is printed to stderr.\n";

/* ---- arguments ---- */

/* One argument of a request: a str, an int or nil. */
typedef enum kv_type { KV_STR, KV_INT, KV_NIL } kv_type;
typedef struct kv {
    const char *key;
    kv_type type;
    const char *s;
    int64_t i;
} kv;

#define KV_MAX 12

typedef struct kvs {
    kv v[KV_MAX];
    size_t n;
} kvs;

static void add_str(kvs *a, const char *key, const char *s)
{
    if (s != NULL && a->n < KV_MAX)
        a->v[a->n++] = (kv){.key = key, .type = KV_STR, .s = s};
}

static void add_int(kvs *a, const char *key, int64_t i)
{
    if (a->n < KV_MAX)
        a->v[a->n++] = (kv){.key = key, .type = KV_INT, .i = i};
}

static void add_nil(kvs *a, const char *key)
{
    if (a->n < KV_MAX)
        a->v[a->n++] = (kv){.key = key, .type = KV_NIL};
}

/* Packs the map (texts checked first, so a failure packs nothing). */
static int pack_kvs(bbi_args *args, const kvs *a, bb_error *err)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].type == KV_STR && bbi_check_text(a->v[i].key, a->v[i].s, err) != BB_C_OK)
            return BB_C_EARG;
    msgpack_pack_map(&args->pk, (uint32_t)a->n);
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].type == KV_STR)
            bbi_pack_kv_str(&args->pk, a->v[i].key, a->v[i].s);
        else if (a->v[i].type == KV_INT)
            bbi_pack_kv_int(&args->pk, a->v[i].key, a->v[i].i);
        else
            bbi_pack_kv_nil(&args->pk, a->v[i].key);
    }
    return BB_C_OK;
}

/* Calls method with a; *out the reply (owned) on success. */
static int call_kvs(cli_ctx *ctx, const char *method, const kvs *a, bool is_write,
                    bb_reply **out, bb_error *err)
{
    bbi_args args;
    bbi_args_init(&args);
    int rc = pack_kvs(&args, a, err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, method, &args, is_write, out, err);
    bbi_args_free(&args);
    return rc;
}

/* An integer option, when given, as argument key. 0 or CLI_EXIT_USAGE. */
static int opt_int_kv(kvs *a, const char *cmd, cli_opt *o, const char *key)
{
    if (o->count == 0)
        return 0;
    int64_t v;
    int rc = cli_int_arg(cmd, o->name, o->value, INT64_MIN, INT64_MAX, &v);
    if (rc == 0)
        add_int(a, key, v);
    return rc;
}

/* The single ID word of get, update, end, portfolio. */
static int id_arg(const char *cmd, const char *what, const char *const *pos, size_t npos,
                  int64_t *id)
{
    if (npos != 1)
        return cli_usage_error(cmd, "expected one %s ID", what);
    return cli_int_arg(cmd, "ID", pos[0], INT64_MIN, INT64_MAX, id);
}

static const char *key_or_new(cli_opt *o, char buf[37])
{
    if (o->value != NULL)
        return o->value;
    cli_new_key(buf);
    return buf;
}

/* ---- printing ---- */

/* A scalar as text: str as is, int in decimal, nil "-", bool true/false;
 * anything else "?". buf holds numbers. */
static const char *cell(const msgpack_object *o, char *buf, size_t buflen)
{
    if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
        return "-";
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(buf, buflen, "%" PRIu64, o->via.u64);
        return buf;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(buf, buflen, "%" PRId64, o->via.i64);
        return buf;
    case MSGPACK_OBJECT_BOOLEAN:
        return o->via.boolean ? "true" : "false";
    case MSGPACK_OBJECT_STR:
        snprintf(buf, buflen, "%.*s", (int)o->via.str.size, o->via.str.ptr);
        return buf;
    default:
        return "?";
    }
}

#define CELL_MAX 512

/* Every scalar key of a map as "key: value" lines. */
static bool print_fields(const msgpack_object *map)
{
    if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
        return false;
    uint32_t n = map->via.map.size;
    const char **names = calloc(n + 1, sizeof *names);
    const char **values = calloc(n + 1, sizeof *values);
    char (*bufs)[CELL_MAX] = calloc(n + 1, sizeof *bufs);
    char (*keys)[CELL_MAX] = calloc(n + 1, sizeof *keys);
    bool ok = names != NULL && values != NULL && bufs != NULL && keys != NULL;
    size_t k = 0;
    for (uint32_t i = 0; ok && i < n; i++) {
        const msgpack_object_kv *e = &map->via.map.ptr[i];
        if (e->key.type != MSGPACK_OBJECT_STR || e->val.type == MSGPACK_OBJECT_MAP ||
            e->val.type == MSGPACK_OBJECT_ARRAY)
            continue;
        snprintf(keys[k], CELL_MAX, "%.*s", (int)e->key.via.str.size, e->key.via.str.ptr);
        names[k] = keys[k];
        values[k] = cell(&e->val, bufs[k], CELL_MAX);
        k++;
    }
    if (ok)
        ok = cli_put(fields_render(names, values, k));
    free(names);
    free(values);
    free(bufs);
    free(keys);
    return ok;
}

/* A table column: the header and the key it shows. */
typedef struct col {
    const char *head;
    const char *key;
} col;

/* The rows of array `items` (maps) as a table of the given columns. */
static bool print_table(const msgpack_object *items, const col *cols, size_t ncols)
{
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY)
        return false;
    table *t = table_new(ncols);
    const char **row = calloc(ncols, sizeof *row);
    char (*bufs)[CELL_MAX] = calloc(ncols, sizeof *bufs);
    bool ok = t != NULL && row != NULL && bufs != NULL;
    for (size_t c = 0; ok && c < ncols; c++)
        row[c] = cols[c].head;
    ok = ok && table_add_row(t, row) == 0;
    for (uint32_t i = 0; ok && i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        for (size_t c = 0; c < ncols; c++)
            row[c] = cell(bbi_map_get(it, cols[c].key), bufs[c], CELL_MAX);
        ok = table_add_row(t, row) == 0;
    }
    if (ok)
        ok = cli_put(table_render(t, NULL));
    else
        cli_put(NULL);
    table_free(t);
    free(row);
    free(bufs);
    return ok;
}

static const col unit_table[] = {
    {"ID", "id"}, {"NAME", "name"}, {"VERSION", "version"},
};
static const col off_table[] = {
    {"ID", "id"}, {"NAME", "name"}, {"TITLE", "title"}, {"UNIT", "unit_name"},
    {"PHONE", "phone"}, {"VERSION", "version"},
};
static const col asg_table[] = {
    {"ID", "id"},          {"ROLE", "role"},           {"OFFICIAL", "official_name"},
    {"UNIT", "unit_name"}, {"ENTERPRISE", "enterprise_id"}, {"PROJECT", "project_id"},
    {"TARGET", "target_name"}, {"TOWNSHIP", "township"}, {"FROM", "period_start"},
    {"TO", "period_end"},  {"VERSION", "version"},
};
static const col gap_table[] = {
    {"KIND", "kind"}, {"ID", "id"}, {"NAME", "name"}, {"TOWNSHIP", "township"},
    {"MISSING_ROLE", "role"}, {"PRIORITY", "priority"}, {"STAGE", "stage"},
};
static const col prj_ref_table[] = {
    {"PROJECT", "id"}, {"NAME", "name"}, {"TOWNSHIP", "township"}, {"STAGE", "stage"},
    {"PRIORITY", "priority"},
};
static const col prb_ref_table[] = {
    {"PROBLEM", "id"}, {"ENTERPRISE", "enterprise_name"}, {"TOWNSHIP", "township"},
    {"CATEGORY", "category"}, {"STATE", "state"}, {"DEADLINE", "deadline"},
};
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

/* Prints one record (fields, or JSON); frees r. */
static int print_record(cli_ctx *ctx, bb_reply *r)
{
    const msgpack_object *res = bb_reply_result(r);
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(res);
    else if (!print_fields(res))
        rc = CLI_EXIT_PROTOCOL;
    bb_reply_free(r);
    return rc;
}

/* ---- one record ---- */

/* Calls a method that answers one record and prints it. */
static int call_print(cli_ctx *ctx, const char *method, const kvs *a, bool is_write)
{
    bb_error err;
    bb_reply *r = NULL;
    if (call_kvs(ctx, method, a, is_write, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    return print_record(ctx, r);
}

/* `X get ID`. */
static int get_cmd(cli_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
                   const char *method, const char *what)
{
    size_t npos;
    const char *pos[1];
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, help);
    if (rc == 0)
        rc = id_arg(cmd, what, pos, npos, &id);
    if (rc != 0)
        return rc;
    kvs a = {.n = 0};
    add_int(&a, "id", id);
    return call_print(ctx, method, &a, false);
}

/* ---- lists ---- */

/*
 * Pages of a list method: filters in base, the cursor added as `after`
 * (an int, or a str when str_cursor), `limit` when given. Prints a table
 * of cols, or JSON. One page unless all.
 */
static int list_cmd(cli_ctx *ctx, const char *cmd, const char *method, const kvs *base,
                    cli_opt *limit_o, cli_opt *after_o, bool all, bool str_cursor,
                    const col *cols, size_t ncols)
{
    int64_t limit = 0, after_i = 0;
    int rc = 0;
    if (limit_o->count > 0)
        rc = cli_int_arg(cmd, "--limit", limit_o->value, INT64_MIN, INT64_MAX, &limit);
    if (rc == 0 && after_o->count > 0 && !str_cursor)
        rc = cli_int_arg(cmd, "--after", after_o->value, INT64_MIN, INT64_MAX, &after_i);
    if (rc != 0)
        return rc;
    char *after_s = after_o->count > 0 && str_cursor ? strdup(after_o->value) : NULL;
    bool have_after = after_o->count > 0;
    cli_replies reps = {0};
    bb_error err;
    bool more = false;
    for (;;) {
        kvs a = *base;
        if (limit_o->count > 0)
            add_int(&a, "limit", limit);
        if (have_after) {
            if (str_cursor)
                add_str(&a, "after", after_s);
            else
                add_int(&a, "after", after_i);
        }
        bb_reply *r = NULL;
        rc = call_kvs(ctx, method, &a, false, &r, &err);
        const msgpack_object *res = rc == BB_C_OK ? bb_reply_result(r) : NULL;
        const msgpack_object *items = res != NULL ? bbi_map_get(res, "items") : NULL;
        const msgpack_object *next = res != NULL ? bbi_map_get(res, "next") : NULL;
        if (rc == BB_C_OK && (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
                              next == NULL)) {
            bb_reply_free(r);
            rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: result without items or next",
                         method);
        }
        if (rc == BB_C_OK && (rc = cli_replies_add(&reps, r, &err)) != BB_C_OK)
            bb_reply_free(r);
        if (rc != BB_C_OK) {
            free(after_s);
            cli_replies_free(&reps);
            return cli_fail(&err);
        }
        more = next->type != MSGPACK_OBJECT_NIL;
        if (more) {
            bool had_after = have_after;
            have_after = true;
            if (str_cursor && next->type == MSGPACK_OBJECT_STR) {
                free(after_s);
                after_s = cli_dup_n(next->via.str.ptr, next->via.str.size);
            } else if (!str_cursor && next->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                int64_t nx = (int64_t)next->via.u64;
                if (all && had_after && nx <= after_i) {
                    free(after_s);
                    cli_replies_free(&reps);
                    bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: next does not move forward",
                            method);
                    return cli_fail(&err);
                }
                after_i = nx;
            } else {
                free(after_s);
                cli_replies_free(&reps);
                bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: next of an unexpected type", method);
                return cli_fail(&err);
            }
        }
        if (!all || !more)
            break;
    }
    if (ctx->json) {
        rc = all ? cli_print_all_json(&reps) : cli_print_json(bb_reply_result(reps.r[0]));
    } else {
        /* One table for all pages: gather the items first. */
        rc = CLI_EXIT_OK;
        size_t total = 0;
        for (size_t i = 0; i < reps.n; i++)
            total += bbi_map_get(bb_reply_result(reps.r[i]), "items")->via.array.size;
        msgpack_object *all_items = calloc(total + 1, sizeof *all_items);
        if (all_items == NULL) {
            rc = CLI_EXIT_PROTOCOL;
        } else {
            size_t k = 0;
            for (size_t i = 0; i < reps.n; i++) {
                const msgpack_object *it = bbi_map_get(bb_reply_result(reps.r[i]), "items");
                for (uint32_t j = 0; j < it->via.array.size; j++)
                    all_items[k++] = it->via.array.ptr[j];
            }
            msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY};
            arr.via.array.ptr = all_items;
            arr.via.array.size = (uint32_t)total;
            if (!print_table(&arr, cols, ncols))
                rc = CLI_EXIT_PROTOCOL;
            free(all_items);
        }
    }
    if (!all && more) {
        if (str_cursor)
            fprintf(stderr, "baobao: more rows follow: add --after %s (or use --all)\n", after_s);
        else
            fprintf(stderr, "baobao: more rows follow: add --after %" PRId64 " (or use --all)\n",
                    after_i);
    }
    free(after_s);
    cli_replies_free(&reps);
    return rc;
}

/* ---- portfolios ---- */

static int portfolio_cmd(cli_ctx *ctx, int argc, char **argv, bool is_unit)
{
    cli_opt o[] = {{.name = "--on", .metavar = "DATE"}};
    size_t no = 1, npos;
    const char *pos[1];
    const char *cmd = is_unit ? "unit portfolio" : "official portfolio";
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd,
                       is_unit ? portfolio_help_unit : portfolio_help_official);
    if (rc == 0)
        rc = id_arg(cmd, is_unit ? "unit" : "official", pos, npos, &id);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs a = {.n = 0};
    add_int(&a, "id", id);
    add_str(&a, "on", o[0].value);
    bb_error err;
    bb_reply *r = NULL;
    rc = call_kvs(ctx, is_unit ? "unit.portfolio" : "official.portfolio", &a, false, &r, &err);
    cli_opts_free(o, no);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    const msgpack_object *res = bb_reply_result(r);
    if (ctx->json) {
        rc = cli_print_json(res);
        bb_reply_free(r);
        return rc;
    }
    char buf[CELL_MAX];
    bool ok = print_fields(bbi_map_get(res, is_unit ? "unit" : "official"));
    printf("on: %s\n\nassignments:\n", cell(bbi_map_get(res, "on"), buf, sizeof buf));
    ok = ok && print_table(bbi_map_get(res, "assignments"), asg_table, NCOLS(asg_table));
    if (ok && is_unit) {
        printf("\nprojects led:\n");
        ok = print_table(bbi_map_get(res, "projects"), prj_ref_table, NCOLS(prj_ref_table));
    }
    if (ok) {
        printf("\nopen problems:\n");
        ok = print_table(bbi_map_get(res, "problems"), prb_ref_table, NCOLS(prb_ref_table));
    }
    bb_reply_free(r);
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

/* ---- unit ... ---- */

static int unit_create(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--name", .metavar = "NAME"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "unit create";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, unit_create_help);
    if (rc == 0 && o[0].count == 0)
        rc = cli_usage_error(cmd, "--name is required");
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    kvs a = {.n = 0};
    add_str(&a, "name", o[0].value);
    add_str(&a, "idempotency_key", key_or_new(&o[1], keybuf));
    rc = call_print(ctx, "unit.create", &a, true);
    cli_opts_free(o, no);
    return rc;
}

static int unit_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--name-contains", .metavar = "TEXT"},
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "unit list";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, unit_list_help);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs a = {.n = 0};
    add_str(&a, "name_contains", o[0].value);
    rc = list_cmd(ctx, cmd, "unit.list", &a, &o[1], &o[2], o[3].count > 0, false, unit_table,
                  NCOLS(unit_table));
    cli_opts_free(o, no);
    return rc;
}

int cli_unit(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "unit", unit_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("unit", "missing subcommand (create, get, list, portfolio)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "create") == 0)
        return unit_create(ctx, sargc, sargv);
    if (strcmp(sub, "get") == 0)
        return get_cmd(ctx, sargc, sargv, "unit get", unit_get_help, "unit.get", "unit");
    if (strcmp(sub, "list") == 0)
        return unit_list(ctx, sargc, sargv);
    if (strcmp(sub, "portfolio") == 0)
        return portfolio_cmd(ctx, sargc, sargv, true);
    return cli_usage_error("unit", "unknown subcommand \"%s\"", sub);
}

/* ---- official ... ---- */

static int official_create(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--name", .metavar = "NAME"},
        {.name = "--title", .metavar = "TITLE"},
        {.name = "--unit", .metavar = "UNIT_ID"},
        {.name = "--phone", .metavar = "PHONE"},
        {.name = "--user-id", .metavar = "USER_ID"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "official create";
    kvs a = {.n = 0};
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, off_create_help);
    if (rc == 0 && o[0].count == 0)
        rc = cli_usage_error(cmd, "--name is required");
    if (rc == 0) {
        add_str(&a, "name", o[0].value);
        add_str(&a, "title", o[1].value);
        rc = opt_int_kv(&a, cmd, &o[2], "unit_id");
    }
    if (rc == 0) {
        add_str(&a, "phone", o[3].value);
        rc = opt_int_kv(&a, cmd, &o[4], "user_id");
    }
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    add_str(&a, "idempotency_key", key_or_new(&o[5], keybuf));
    rc = call_print(ctx, "official.create", &a, true);
    cli_opts_free(o, no);
    return rc;
}

/* --X VALUE or --no-X: set (str), clear (nil) or leave out. */
static int set_or_clear(kvs *a, const char *cmd, cli_opt *set, cli_opt *clear, const char *key,
                        bool is_int)
{
    if (set->count > 0 && clear->count > 0)
        return cli_usage_error(cmd, "%s and %s exclude each other", set->name, clear->name);
    if (clear->count > 0) {
        add_nil(a, key);
        return 0;
    }
    if (is_int)
        return opt_int_kv(a, cmd, set, key);
    add_str(a, key, set->value);
    return 0;
}

static int official_update(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--version", .metavar = "V"},
        {.name = "--name", .metavar = "NAME"},
        {.name = "--title", .metavar = "TITLE"},
        {.name = "--no-title"},
        {.name = "--unit", .metavar = "UNIT_ID"},
        {.name = "--no-unit"},
        {.name = "--phone", .metavar = "PHONE"},
        {.name = "--no-phone"},
        {.name = "--user-id", .metavar = "USER_ID"},
        {.name = "--no-user-id"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "official update";
    int64_t id = 0;
    kvs a = {.n = 0};
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, off_update_help);
    if (rc == 0)
        rc = id_arg(cmd, "official", pos, npos, &id);
    if (rc == 0 && o[0].count == 0)
        rc = cli_usage_error(cmd, "--version is required (the version your change is based on)");
    if (rc == 0) {
        add_int(&a, "id", id);
        rc = opt_int_kv(&a, cmd, &o[0], "version");
    }
    if (rc == 0) {
        add_str(&a, "name", o[1].value);
        rc = set_or_clear(&a, cmd, &o[2], &o[3], "title", false);
    }
    if (rc == 0)
        rc = set_or_clear(&a, cmd, &o[4], &o[5], "unit_id", true);
    if (rc == 0)
        rc = set_or_clear(&a, cmd, &o[6], &o[7], "phone", false);
    if (rc == 0)
        rc = set_or_clear(&a, cmd, &o[8], &o[9], "user_id", true);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    char keybuf[37];
    add_str(&a, "idempotency_key", key_or_new(&o[10], keybuf));
    rc = call_print(ctx, "official.update", &a, true);
    cli_opts_free(o, no);
    return rc;
}

static int official_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--unit", .metavar = "UNIT_ID"},
        {.name = "--name-contains", .metavar = "TEXT"},
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "official list";
    kvs a = {.n = 0};
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, off_list_help);
    if (rc == 0)
        rc = opt_int_kv(&a, cmd, &o[0], "unit_id");
    if (rc == 0) {
        add_str(&a, "name_contains", o[1].value);
        rc = list_cmd(ctx, cmd, "official.list", &a, &o[2], &o[3], o[4].count > 0, false,
                      off_table, NCOLS(off_table));
    }
    cli_opts_free(o, no);
    return rc;
}

int cli_official(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "official", official_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("official",
                               "missing subcommand (create, get, update, list, portfolio)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "create") == 0)
        return official_create(ctx, sargc, sargv);
    if (strcmp(sub, "get") == 0)
        return get_cmd(ctx, sargc, sargv, "official get", off_get_help, "official.get",
                       "official");
    if (strcmp(sub, "update") == 0)
        return official_update(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return official_list(ctx, sargc, sargv);
    if (strcmp(sub, "portfolio") == 0)
        return portfolio_cmd(ctx, sargc, sargv, false);
    return cli_usage_error("official", "unknown subcommand \"%s\"", sub);
}

/* ---- assign ... ---- */

static int assign_create(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--official", .metavar = "ID"},
        {.name = "--unit", .metavar = "ID"},
        {.name = "--enterprise", .metavar = "ID"},
        {.name = "--project", .metavar = "ID"},
        {.name = "--role", .metavar = "ROLE"},
        {.name = "--from", .metavar = "DATE"},
        {.name = "--to", .metavar = "DATE"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "assign create";
    kvs a = {.n = 0};
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, asg_create_help);
    if (rc == 0 && o[4].count == 0)
        rc = cli_usage_error(cmd, "--role is required");
    if (rc == 0 && o[5].count == 0)
        rc = cli_usage_error(cmd, "--from is required (the first day, YYYY-MM-DD)");
    /* Which of --official/--unit and --enterprise/--project is the
     * server's rule (invalid_argument with the field): passed as given. */
    if (rc == 0)
        rc = opt_int_kv(&a, cmd, &o[0], "official_id");
    if (rc == 0)
        rc = opt_int_kv(&a, cmd, &o[1], "unit_id");
    if (rc == 0)
        rc = opt_int_kv(&a, cmd, &o[2], "enterprise_id");
    if (rc == 0)
        rc = opt_int_kv(&a, cmd, &o[3], "project_id");
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    add_str(&a, "role", o[4].value);
    add_str(&a, "period_start", o[5].value);
    add_str(&a, "period_end", o[6].value);
    char keybuf[37];
    add_str(&a, "idempotency_key", key_or_new(&o[7], keybuf));
    rc = call_print(ctx, "assignment.create", &a, true);
    cli_opts_free(o, no);
    return rc;
}

static int assign_end(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--on", .metavar = "DATE"},
        {.name = "--version", .metavar = "V"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "assign end";
    int64_t id = 0, version = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, asg_end_help);
    if (rc == 0)
        rc = id_arg(cmd, "assignment", pos, npos, &id);
    if (rc == 0 && o[0].count == 0)
        rc = cli_usage_error(cmd, "--on is required (the last day, YYYY-MM-DD)");
    if (rc == 0 && o[1].count > 0)
        rc = cli_int_arg(cmd, "--version", o[1].value, INT64_MIN, INT64_MAX, &version);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    bb_error err;
    if (o[1].count == 0) {
        kvs g = {.n = 0};
        add_int(&g, "id", id);
        bb_reply *r = NULL;
        if (call_kvs(ctx, "assignment.get", &g, false, &r, &err) != BB_C_OK ||
            bbi_get_int(bb_reply_result(r), "assignment", "version", &version, &err) !=
                BB_C_OK) {
            bb_reply_free(r);
            cli_opts_free(o, no);
            return cli_fail(&err);
        }
        bb_reply_free(r);
    }
    kvs a = {.n = 0};
    add_int(&a, "id", id);
    add_int(&a, "version", version);
    add_str(&a, "period_end", o[0].value);
    char keybuf[37];
    add_str(&a, "idempotency_key", key_or_new(&o[2], keybuf));
    rc = call_print(ctx, "assignment.end", &a, true);
    cli_opts_free(o, no);
    return rc;
}

static int assign_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--enterprise", .metavar = "ID"},
        {.name = "--project", .metavar = "ID"},
        {.name = "--official", .metavar = "ID"},
        {.name = "--unit", .metavar = "ID"},
        {.name = "--role", .metavar = "ROLE"},
        {.name = "--active-on", .metavar = "DATE"},
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "assign list";
    kvs a = {.n = 0};
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, asg_list_help);
    static const char *const keys[] = {"enterprise_id", "project_id", "official_id", "unit_id"};
    for (size_t i = 0; rc == 0 && i < 4; i++)
        rc = opt_int_kv(&a, cmd, &o[i], keys[i]);
    if (rc == 0) {
        add_str(&a, "role", o[4].value);
        add_str(&a, "active_on", o[5].value);
        rc = list_cmd(ctx, cmd, "assignment.list", &a, &o[6], &o[7], o[8].count > 0, false,
                      asg_table, NCOLS(asg_table));
    }
    cli_opts_free(o, no);
    return rc;
}

static int assign_gaps(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--kind", .metavar = "KIND"},
        {.name = "--role", .metavar = "ROLE"},
        {.name = "--township", .metavar = "T"},
        {.name = "--on", .metavar = "DATE"},
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "CURSOR"},
        {.name = "--all"},
    };
    size_t no = NCOLS(o), npos;
    const char *pos[1];
    const char *cmd = "assign gaps";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, gaps_help);
    if (rc == 0) {
        kvs a = {.n = 0};
        add_str(&a, "kind", o[0].value);
        add_str(&a, "role", o[1].value);
        add_str(&a, "township", o[2].value);
        add_str(&a, "on", o[3].value);
        rc = list_cmd(ctx, cmd, "coverage.gaps", &a, &o[4], &o[5], o[6].count > 0, true,
                      gap_table, NCOLS(gap_table));
    }
    cli_opts_free(o, no);
    return rc;
}

int cli_assign(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "assign", assign_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("assign", "missing subcommand (create, get, end, list, gaps)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "create") == 0)
        return assign_create(ctx, sargc, sargv);
    if (strcmp(sub, "get") == 0)
        return get_cmd(ctx, sargc, sargv, "assign get", asg_get_help, "assignment.get",
                       "assignment");
    if (strcmp(sub, "end") == 0)
        return assign_end(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return assign_list(ctx, sargc, sargv);
    if (strcmp(sub, "gaps") == 0)
        return assign_gaps(ctx, sargc, sargv);
    return cli_usage_error("assign", "unknown subcommand \"%s\"", sub);
}
