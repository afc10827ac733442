/*
 * cli_problem.c: `baobao problem create|get|list|advance|reopen|assign`
 * (诉求) and `baobao trouble set|get|list` (the 困难企业 file), issue 5.
 *
 * For: turning options into problem.* and trouble.* arguments (raw calls
 * through cli_call with bbi_args: no typed library functions), reading the
 * current version first when the user did not give --version (advance,
 * reopen, assign, and trouble set, which also decides between creating
 * and updating the file that way), paging lists for --all, and printing
 * the results: "field: value" lines or a table, or the server's own
 * result as JSON with --json.
 * Not for: the rules the server checks (the workflow, deadlines, scope:
 * those answers are printed and exit 1), connecting and retrying
 * (cli_call.c).
 */
#include "cli.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns a description takes in a list before it is cut with "…". */
#define PROB_LIST_DESC_COLS 30
/* Named arguments one request of this file carries at most. */
#define PROB_MAX_ARGS 12

static const char problem_help[] =
    "Usage: baobao problem COMMAND ...\n"
    "\n"
    "Problems (诉求) enterprises raise, and their workflow\n"
    "受理 → 交办 → 办理 → 反馈 → 确认 (closed). Township staff work on the problems\n"
    "of their own townships; supervisors on all; admins only read.\n"
    "\n"
    "Commands:\n"
    "  create               record a problem (problem.create)\n"
    "  get ID               one problem and its history (problem.get)\n"
    "  list                 problems, filtered, in pages (problem.list)\n"
    "  advance ID STATE     move a problem one step forward (problem.advance)\n"
    "  reopen ID            reopen a closed problem (确认 → 办理) (problem.reopen)\n"
    "  assign ID            change its unit, official or deadline (problem.assign)\n"
    "Run 'baobao problem COMMAND --help' for a command's options.\n";

static const char create_help[] =
    "Usage: baobao problem create --enterprise ID --category CATEGORY --description TEXT\n"
    "                             [--report ID] [--unit ID] [--official ID]\n"
    "                             [--deadline YYYY-MM-DD] [--idempotency-key KEY]\n"
    "\n"
    "Records a problem (state 受理) and prints it.\n"
    "\n"
    "  --enterprise ID      the enterprise that raised it\n"
    "  --category C         用地 | 用工 | 融资 | 用电 | 审批 | 物流 | 市场 | 其他\n"
    "  --description TEXT   1-2000 characters (line breaks allowed)\n"
    "  --report ID          the status report it was raised in\n"
    "  --unit ID            the unit it is assigned to\n"
    "  --official ID        the official it is assigned to\n"
    "  --deadline DATE      default: 5 working days (Monday-Friday) after today\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char get_help[] =
    "Usage: baobao problem get ID\n"
    "\n"
    "Prints one problem as \"field: value\" lines, then its history (who moved it,\n"
    "when, from which state to which, with the note).\n";

static const char list_help[] =
    "Usage: baobao problem list [--enterprise ID] [--township T] [--state S]\n"
    "                           [--unit ID] [--official ID] [--open]\n"
    "                           [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints problems in ascending id as a table. One page unless --all; when more\n"
    "pages follow, the --after value is printed to stderr.\n"
    "\n"
    "  --enterprise ID   problems of this enterprise\n"
    "  --township T      of enterprises in this township or park\n"
    "  --state S         受理 | 交办 | 办理 | 反馈 | 确认\n"
    "  --unit ID         assigned to this unit\n"
    "  --official ID     assigned to this official\n"
    "  --open            only problems not closed (not 确认)\n"
    "  --limit N         rows per page (1 - the server's page_limit_max)\n"
    "  --after ID        start after this id (the `next` of the previous page)\n"
    "  --all             fetch every page; with --json prints {\"items\": [...], \"next\": null}\n";

static const char advance_help[] =
    "Usage: baobao problem advance ID STATE [--note TEXT] [--version V]\n"
    "                              [--idempotency-key KEY]\n"
    "\n"
    "Moves problem ID one step forward to STATE (交办, 办理, 反馈 or 确认) and\n"
    "prints it. 交办 needs an assignee (see 'baobao problem assign').\n"
    "\n"
    "  --note TEXT     what was done (1-2000 characters, line breaks allowed)\n"
    "  --version V     the version your step is based on (default: the current one,\n"
    "                  read first)\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char reopen_help[] =
    "Usage: baobao problem reopen ID --reason TEXT [--version V] [--idempotency-key KEY]\n"
    "\n"
    "Reopens closed problem ID (确认 → 办理) and prints it. The deadline stays:\n"
    "give a new one with 'baobao problem assign ID --deadline DATE'.\n"
    "\n"
    "  --reason TEXT   why (1-500 characters), required\n"
    "  --version V     default: the current one, read first\n";

static const char assign_help[] =
    "Usage: baobao problem assign ID [--unit ID | --no-unit] [--official ID | --no-official]\n"
    "                             [--deadline YYYY-MM-DD] [--version V]\n"
    "                             [--idempotency-key KEY]\n"
    "\n"
    "Changes who handles problem ID, or its deadline, and prints it. A problem past\n"
    "受理 must keep a unit or an official; a deadline may not be before today.\n"
    "\n"
    "  --unit ID / --no-unit          set / clear the unit\n"
    "  --official ID / --no-official  set / clear the official\n"
    "  --deadline DATE                new deadline\n"
    "  --version V                    default: the current one, read first\n";

static const char trouble_help[] =
    "Usage: baobao trouble COMMAND ...\n"
    "\n"
    "The troubled-enterprise file (困难企业): why an enterprise is idle, its idle\n"
    "land (亩) and factory floor (m²), strengths, revival plan (盘活) and progress.\n"
    "\n"
    "Commands:\n"
    "  set ENTERPRISE_ID    create or change the file (trouble.set)\n"
    "  get ENTERPRISE_ID    print the file (trouble.get)\n"
    "  list                 files, by township, in pages (trouble.list)\n"
    "Run 'baobao trouble COMMAND --help' for a command's options.\n";

static const char tset_help[] =
    "Usage: baobao trouble set ENTERPRISE_ID [--idle-reason TEXT] [--idle-land MU]\n"
    "                          [--idle-floor M2] [--strengths TEXT] [--plan TEXT]\n"
    "                          [--progress TEXT] [--version V] [--idempotency-key KEY]\n"
    "\n"
    "Creates the file of an enterprise (--idle-reason required), or changes the\n"
    "given fields of its file (the others stay), and prints it. Without --version\n"
    "the current file is read first: none yet means create.\n"
    "\n"
    "  --idle-reason TEXT  why it is idle (闲置原因), 1-500 characters\n"
    "  --idle-land MU      idle land in 亩, at most 2 decimals, e.g. 12.5\n"
    "  --idle-floor M2     idle factory floor in m², at most 2 decimals\n"
    "  --strengths TEXT    its strengths (优势), 1-2000 characters\n"
    "  --plan TEXT         the revival plan (盘活方案)\n"
    "  --progress TEXT     how far the revival has got (进展)\n"
    "  --version V         change the file at this version (version_conflict if not)\n";

static const char tget_help[] =
    "Usage: baobao trouble get ENTERPRISE_ID\n"
    "\n"
    "Prints the troubled-enterprise file of an enterprise.\n";

static const char tlist_help[] =
    "Usage: baobao trouble list [--township T] [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints the files in ascending enterprise id as a table.\n"
    "\n"
    "  --township T   files of enterprises in this township or park\n"
    "  --limit N      rows per page\n"
    "  --after ID     start after this enterprise id (the `next` of the previous page)\n"
    "  --all          fetch every page\n";

/* ---- arguments ---- */

/* One named argument of a request. */
typedef struct kv {
    const char *key;
    enum { KV_STR, KV_INT, KV_NIL, KV_TRUE } type;
    const char *s;
    int64_t i;
} kv;

/* The named arguments of one request, packed into a map at the end. */
typedef struct kvs {
    size_t n;
    kv a[PROB_MAX_ARGS];
} kvs;

static void kv_str(kvs *k, const char *key, const char *s)
{
    if (s != NULL && k->n < PROB_MAX_ARGS)
        k->a[k->n++] = (kv){key, KV_STR, s, 0};
}

static void kv_int(kvs *k, const char *key, int64_t v)
{
    if (k->n < PROB_MAX_ARGS)
        k->a[k->n++] = (kv){key, KV_INT, NULL, v};
}

static void kv_nil(kvs *k, const char *key)
{
    if (k->n < PROB_MAX_ARGS)
        k->a[k->n++] = (kv){key, KV_NIL, NULL, 0};
}

static void kv_true(kvs *k, const char *key)
{
    if (k->n < PROB_MAX_ARGS)
        k->a[k->n++] = (kv){key, KV_TRUE, NULL, 0};
}

/* Checks every str (UTF-8), then packs the map. */
static int kv_pack(const kvs *k, bbi_args *a, bb_error *err)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->a[i].type == KV_STR && bbi_check_text(k->a[i].key, k->a[i].s, err) != BB_C_OK)
            return err->rc;
    msgpack_pack_map(&a->pk, k->n);
    for (size_t i = 0; i < k->n; i++) {
        switch (k->a[i].type) {
        case KV_STR:
            bbi_pack_kv_str(&a->pk, k->a[i].key, k->a[i].s);
            break;
        case KV_INT:
            bbi_pack_kv_int(&a->pk, k->a[i].key, k->a[i].i);
            break;
        case KV_NIL:
            bbi_pack_kv_nil(&a->pk, k->a[i].key);
            break;
        case KV_TRUE:
            msgpack_pack_str(&a->pk, strlen(k->a[i].key));
            msgpack_pack_str_body(&a->pk, k->a[i].key, strlen(k->a[i].key));
            msgpack_pack_true(&a->pk);
            break;
        }
    }
    return BB_C_OK;
}

/* Calls method with k; *out the reply (owned). */
static int call_kvs(cli_ctx *ctx, const char *method, const kvs *k, bool is_write, bb_reply **out,
                    bb_error *err)
{
    bbi_args a;
    bbi_args_init(&a);
    int rc = kv_pack(k, &a, err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, method, &a, is_write, out, err);
    bbi_args_free(&a);
    return rc;
}

/* An integer option when given: 0 or CLI_EXIT_USAGE. *has tells. */
static int opt_int(const char *cmd, cli_opt *o, size_t no, const char *name, int64_t *out,
                   bool *has)
{
    cli_opt *x = cli_get(o, no, name);
    *has = x->count > 0;
    if (!*has)
        return 0;
    return cli_int_arg(cmd, name, x->value, INT64_MIN, INT64_MAX, out);
}

static const char *key_or_new(cli_opt *o, char buf[37])
{
    if (o->value != NULL)
        return o->value;
    cli_new_key(buf);
    return buf;
}

/* The one ID word of a command. */
static int id_word(const char *cmd, const char *what, const char *const *pos, size_t npos,
                   size_t want, int64_t *id)
{
    if (npos != want)
        return cli_usage_error(cmd, "expected %s", what);
    return cli_int_arg(cmd, "ID", pos[0], INT64_MIN, INT64_MAX, id);
}

/* ---- reading results ---- */

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static bool map_int(const msgpack_object *m, const char *key, int64_t *out)
{
    const msgpack_object *v = map_get(m, key);
    if (v == NULL)
        return false;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= (uint64_t)INT64_MAX)
        *out = (int64_t)v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *out = v->via.i64;
    else
        return false;
    return true;
}

/* A value as text for a cell: str as is, ints in decimal, nil as "-".
 * Returned malloc'd (NULL on no memory). */
static char *val_text(const msgpack_object *v)
{
    char buf[32];
    if (v == NULL || v->type == MSGPACK_OBJECT_NIL)
        return strdup("-");
    if (v->type == MSGPACK_OBJECT_STR)
        return cli_dup_n(v->via.str.ptr, v->via.str.size);
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf(buf, sizeof buf, "%" PRIu64, v->via.u64);
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf(buf, sizeof buf, "%" PRId64, v->via.i64);
    else if (v->type == MSGPACK_OBJECT_BOOLEAN)
        snprintf(buf, sizeof buf, "%s", v->via.boolean ? "true" : "false");
    else
        snprintf(buf, sizeof buf, "?");
    return strdup(buf);
}

/* The version of a record (problem.get / trouble.get reply). */
static int reply_version(bb_reply *r, const char *method, int64_t *v, bb_error *err)
{
    if (!map_int(bb_reply_result(r), "version", v))
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "%s: the result has no version", method);
    return BB_C_OK;
}

/* Prints the keys of a record map as "name: value" lines, except the
 * keys listed in skip (NULL-terminated). */
static bool print_fields(const msgpack_object *m, const char *const *skip)
{
    if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
        return false;
    uint32_t n = m->via.map.size, k = 0;
    const char **names = calloc(n + 1, sizeof *names);
    char **vals = calloc(n + 1, sizeof *vals);
    char **keys = calloc(n + 1, sizeof *keys);
    bool ok = names != NULL && vals != NULL && keys != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        const msgpack_object *key = &m->via.map.ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        keys[k] = cli_dup_n(key->via.str.ptr, key->via.str.size);
        bool skipped = false;
        for (size_t s = 0; keys[k] != NULL && skip[s] != NULL; s++)
            skipped = skipped || strcmp(skip[s], keys[k]) == 0;
        if (skipped) {
            free(keys[k]);
            keys[k] = NULL;
            continue;
        }
        vals[k] = val_text(&m->via.map.ptr[i].val);
        ok = keys[k] != NULL && vals[k] != NULL;
        names[k] = keys[k];
        k++;
    }
    if (ok)
        ok = cli_put(fields_render(names, (const char *const *)vals, k));
    for (uint32_t i = 0; keys != NULL && vals != NULL && i <= n; i++) {
        free(keys[i]);
        free(vals[i]);
    }
    free(keys);
    free(vals);
    free(names);
    return ok;
}

/* Prints a reply's record (JSON with --json); frees r. */
static int print_record(cli_ctx *ctx, bb_reply *r, const char *const *skip)
{
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(bb_reply_result(r));
    else if (!print_fields(bb_reply_result(r), skip))
        rc = CLI_EXIT_PROTOCOL;
    bb_reply_free(r);
    return rc;
}

static const char *const no_skip[] = {NULL};

/* The end of every write command: the idempotency key (--idempotency-key,
 * or a new one, the same for the CLI's one retry), the call, the options
 * freed, the record printed. */
static int send_write(cli_ctx *ctx, const char *method, kvs *k, cli_opt *o, size_t no)
{
    char keybuf[37];
    kv_str(k, "idempotency_key", key_or_new(cli_get(o, no, "--idempotency-key"), keybuf));
    bb_error err;
    bb_reply *r = NULL;
    int rc = call_kvs(ctx, method, k, true, &r, &err);
    cli_opts_free(o, no);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    return print_record(ctx, r, no_skip);
}

/* A table row from the keys of one item; a key NULL leaves the cell empty.
 * desc_key (may be NULL) is cut to PROB_LIST_DESC_COLS columns. */
static bool add_item_row(table *t, const msgpack_object *item, const char *const *keys,
                         size_t n, const char *desc_key)
{
    char *cells[16] = {0};
    bool ok = n <= 16;
    for (size_t i = 0; ok && i < n; i++) {
        char *v = val_text(map_get(item, keys[i]));
        if (v != NULL && desc_key != NULL && strcmp(keys[i], desc_key) == 0) {
            char *cut = text_cell(v, PROB_LIST_DESC_COLS);
            free(v);
            v = cut;
        }
        cells[i] = v;
        ok = v != NULL;
    }
    ok = ok && table_add_row(t, (const char *const *)cells) == 0;
    for (size_t i = 0; i < n && i < 16; i++)
        free(cells[i]);
    return ok;
}

/* Prints the items of every page as one table (or JSON). */
static int print_pages(cli_ctx *ctx, const cli_replies *rs, bool all, const char *const *head,
                       const char *const *keys, size_t ncols, const char *desc_key)
{
    if (ctx->json)
        return all ? cli_print_all_json(rs) : cli_print_json(bb_reply_result(rs->r[0]));
    table *t = table_new(ncols);
    bool ok = t != NULL && table_add_row(t, head) == 0;
    for (size_t p = 0; ok && p < rs->n; p++) {
        const msgpack_object *items = map_get(bb_reply_result(rs->r[p]), "items");
        if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY) {
            ok = false;
            break;
        }
        for (uint32_t i = 0; ok && i < items->via.array.size; i++)
            ok = add_item_row(t, &items->via.array.ptr[i], keys, ncols, desc_key);
    }
    ok = ok && cli_put(table_render(t, NULL));
    table_free(t);
    if (!ok) {
        fprintf(stderr, "baobao: out of memory or an unexpected result\n");
        return CLI_EXIT_PROTOCOL;
    }
    return CLI_EXIT_OK;
}

/* A list being paged: kvs k holds the filters and has room for after (sent
 * when given, and from the second page on); the replies go to rs. */
typedef struct lister {
    const char *method;
    kvs *k;
    size_t base;          /* k->n without after */
    cli_replies *rs;
} lister;

static int list_pack(void *self, bbi_args *a, int64_t after, bool has_after, bb_error *err)
{
    lister *l = self;
    l->k->n = l->base;
    if (has_after)
        kv_int(l->k, "after", after);
    return kv_pack(l->k, a, err);
}

static int list_keep(void *self, bb_reply *r, int64_t after, int64_t *next, bb_error *err)
{
    (void)after;
    lister *l = self;
    const msgpack_object *nx = map_get(bb_reply_result(r), "next");
    int64_t n = 0;
    if (nx == NULL || (nx->type != MSGPACK_OBJECT_NIL && !map_int(bb_reply_result(r), "next", &n)))
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "%s: the result has no next", l->method);
    int rc = cli_replies_add(l->rs, r, err);
    if (rc == BB_C_OK)
        *next = n;
    return rc;
}

/* Calls a list method page after page (all) or once (cli_page); *next is
 * the last page's next (0 = none). */
static int fetch_pages(cli_ctx *ctx, const char *method, kvs *k, int64_t after, bool has_after,
                       bool all, cli_replies *rs, int64_t *next, bb_error *err)
{
    lister l = {method, k, k->n, rs};
    cli_pager pg = {method, list_pack, list_keep};
    return cli_page(ctx, &pg, &l, after, has_after, all, next, err);
}

/* ---- problem ... ---- */

static int problem_create(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--enterprise", .metavar = "ID"},
        {.name = "--report", .metavar = "ID"},
        {.name = "--category", .metavar = "C"},
        {.name = "--description", .metavar = "TEXT"},
        {.name = "--unit", .metavar = "ID"},
        {.name = "--official", .metavar = "ID"},
        {.name = "--deadline", .metavar = "DATE"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "problem create";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, create_help);
    const char *need[] = {"--enterprise", "--category", "--description"};
    for (size_t i = 0; rc == 0 && i < 3; i++)
        if (cli_get(o, no, need[i])->count == 0)
            rc = cli_usage_error(cmd, "%s is required", need[i]);
    int64_t eid = 0, report = 0, unit = 0, off = 0;
    bool has_e, has_r, has_u, has_o;
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--enterprise", &eid, &has_e);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--report", &report, &has_r);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--unit", &unit, &has_u);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--official", &off, &has_o);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs k = {0};
    kv_int(&k, "enterprise_id", eid);
    if (has_r)
        kv_int(&k, "status_report_id", report);
    kv_str(&k, "category", cli_get(o, no, "--category")->value);
    kv_str(&k, "description", cli_get(o, no, "--description")->value);
    if (has_u)
        kv_int(&k, "assignee_unit_id", unit);
    if (has_o)
        kv_int(&k, "assignee_official_id", off);
    kv_str(&k, "deadline", cli_get(o, no, "--deadline")->value);
    return send_write(ctx, "problem.create", &k, o, no);
}

static int get_problem(cli_ctx *ctx, int64_t id, bb_reply **out, bb_error *err)
{
    kvs k = {0};
    kv_int(&k, "id", id);
    return call_kvs(ctx, "problem.get", &k, false, out, err);
}

static int problem_get(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    const char *cmd = "problem get";
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, get_help);
    if (rc == 0)
        rc = id_word(cmd, "one problem ID", pos, npos, 1, &id);
    if (rc != 0)
        return rc;
    bb_error err;
    bb_reply *r = NULL;
    if (get_problem(ctx, id, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    if (ctx->json) {
        rc = cli_print_json(bb_reply_result(r));
        bb_reply_free(r);
        return rc;
    }
    static const char *const skip[] = {"events", NULL};
    bool ok = print_fields(bb_reply_result(r), skip);
    const msgpack_object *ev = map_get(bb_reply_result(r), "events");
    if (ok && ev != NULL && ev->type == MSGPACK_OBJECT_ARRAY) {
        static const char *const head[] = {"时间(UTC)", "用户", "从", "到", "说明"};
        static const char *const keys[] = {"at", "user", "from_state", "to_state", "note"};
        table *t = table_new(5);
        ok = t != NULL && table_add_row(t, head) == 0;
        for (uint32_t i = 0; ok && i < ev->via.array.size; i++)
            ok = add_item_row(t, &ev->via.array.ptr[i], keys, 5, NULL);
        printf("\n");
        ok = ok && cli_put(table_render(t, NULL));
        table_free(t);
    }
    bb_reply_free(r);
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

static int problem_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--enterprise", .metavar = "ID"},
        {.name = "--township", .metavar = "T"},
        {.name = "--state", .metavar = "S"},
        {.name = "--unit", .metavar = "ID"},
        {.name = "--official", .metavar = "ID"},
        {.name = "--open"},
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "problem list";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, list_help);
    int64_t eid = 0, unit = 0, off = 0, limit = 0, after = 0;
    bool has_e = false, has_u = false, has_o = false, has_l = false, has_a = false;
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--enterprise", &eid, &has_e);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--unit", &unit, &has_u);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--official", &off, &has_o);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--limit", &limit, &has_l);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--after", &after, &has_a);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs k = {0};
    if (has_e)
        kv_int(&k, "enterprise_id", eid);
    kv_str(&k, "township", cli_get(o, no, "--township")->value);
    kv_str(&k, "state", cli_get(o, no, "--state")->value);
    if (has_u)
        kv_int(&k, "assignee_unit_id", unit);
    if (has_o)
        kv_int(&k, "assignee_official_id", off);
    if (cli_get(o, no, "--open")->count > 0)
        kv_true(&k, "open_only");
    if (has_l)
        kv_int(&k, "limit", limit);
    bool all = cli_get(o, no, "--all")->count > 0;
    cli_replies rs = {0};
    int64_t next;
    bb_error err;
    rc = fetch_pages(ctx, "problem.list", &k, after, has_a, all, &rs, &next, &err);
    cli_opts_free(o, no);
    if (rc != BB_C_OK) {
        cli_replies_free(&rs);
        return cli_fail(&err);
    }
    static const char *const head[] = {"ID", "企业", "乡镇", "类别", "状态", "期限",
                                       "承办单位", "承办人", "描述"};
    static const char *const keys[] = {"id", "enterprise_name", "township", "category",
                                       "state", "deadline", "assignee_unit",
                                       "assignee_official", "description"};
    rc = print_pages(ctx, &rs, all, head, keys, 9, "description");
    if (!all && next != 0)
        fprintf(stderr, "baobao: more problems follow: add --after %" PRId64 " (or use --all)\n",
                next);
    cli_replies_free(&rs);
    return rc;
}

/* --version when given, else the current version from problem.get. */
static int problem_version(cli_ctx *ctx, const char *cmd, cli_opt *o, size_t no, int64_t id,
                           int64_t *v, bb_error *err, int *usage)
{
    bool has;
    *usage = opt_int(cmd, o, no, "--version", v, &has);
    if (*usage != 0 || has)
        return BB_C_OK;
    bb_reply *r = NULL;
    int rc = get_problem(ctx, id, &r, err);
    if (rc == BB_C_OK)
        rc = reply_version(r, "problem.get", v, err);
    bb_reply_free(r);
    return rc;
}

static int problem_advance(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--note", .metavar = "TEXT"},
        {.name = "--version", .metavar = "V"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[2];
    const char *cmd = "problem advance";
    int64_t id = 0, v = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 2, &npos, cmd, advance_help);
    if (rc == 0)
        rc = id_word(cmd, "a problem ID and the next STATE", pos, npos, 2, &id);
    bb_error err;
    if (rc == 0 && problem_version(ctx, cmd, o, no, id, &v, &err, &rc) != BB_C_OK) {
        cli_opts_free(o, no);
        return cli_fail(&err);
    }
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs k = {0};
    kv_int(&k, "id", id);
    kv_int(&k, "version", v);
    kv_str(&k, "to_state", pos[1]);
    kv_str(&k, "note", cli_get(o, no, "--note")->value);
    return send_write(ctx, "problem.advance", &k, o, no);
}

static int problem_reopen(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--reason", .metavar = "TEXT"},
        {.name = "--version", .metavar = "V"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "problem reopen";
    int64_t id = 0, v = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, reopen_help);
    if (rc == 0)
        rc = id_word(cmd, "one problem ID", pos, npos, 1, &id);
    if (rc == 0 && cli_get(o, no, "--reason")->count == 0)
        rc = cli_usage_error(cmd, "--reason is required");
    bb_error err;
    if (rc == 0 && problem_version(ctx, cmd, o, no, id, &v, &err, &rc) != BB_C_OK) {
        cli_opts_free(o, no);
        return cli_fail(&err);
    }
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs k = {0};
    kv_int(&k, "id", id);
    kv_int(&k, "version", v);
    kv_str(&k, "reason", cli_get(o, no, "--reason")->value);
    return send_write(ctx, "problem.reopen", &k, o, no);
}

static int problem_assign(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--unit", .metavar = "ID"},
        {.name = "--no-unit"},
        {.name = "--official", .metavar = "ID"},
        {.name = "--no-official"},
        {.name = "--deadline", .metavar = "DATE"},
        {.name = "--version", .metavar = "V"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "problem assign";
    int64_t id = 0, v = 0, unit = 0, off = 0;
    bool has_u = false, has_o = false;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, assign_help);
    if (rc == 0)
        rc = id_word(cmd, "one problem ID", pos, npos, 1, &id);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--unit", &unit, &has_u);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--official", &off, &has_o);
    bool no_u = cli_get(o, no, "--no-unit")->count > 0;
    bool no_o = cli_get(o, no, "--no-official")->count > 0;
    if (rc == 0 && has_u && no_u)
        rc = cli_usage_error(cmd, "--unit and --no-unit exclude each other");
    if (rc == 0 && has_o && no_o)
        rc = cli_usage_error(cmd, "--official and --no-official exclude each other");
    bb_error err;
    if (rc == 0 && problem_version(ctx, cmd, o, no, id, &v, &err, &rc) != BB_C_OK) {
        cli_opts_free(o, no);
        return cli_fail(&err);
    }
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs k = {0};
    kv_int(&k, "id", id);
    kv_int(&k, "version", v);
    if (has_u)
        kv_int(&k, "assignee_unit_id", unit);
    else if (no_u)
        kv_nil(&k, "assignee_unit_id");
    if (has_o)
        kv_int(&k, "assignee_official_id", off);
    else if (no_o)
        kv_nil(&k, "assignee_official_id");
    kv_str(&k, "deadline", cli_get(o, no, "--deadline")->value);
    return send_write(ctx, "problem.assign", &k, o, no);
}

int cli_problem(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "problem", problem_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("problem", "missing subcommand (create, get, list, advance, "
                                          "reopen, assign)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "create") == 0)
        return problem_create(ctx, sargc, sargv);
    if (strcmp(sub, "get") == 0)
        return problem_get(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return problem_list(ctx, sargc, sargv);
    if (strcmp(sub, "advance") == 0)
        return problem_advance(ctx, sargc, sargv);
    if (strcmp(sub, "reopen") == 0)
        return problem_reopen(ctx, sargc, sargv);
    if (strcmp(sub, "assign") == 0)
        return problem_assign(ctx, sargc, sargv);
    return cli_usage_error("problem", "unknown subcommand \"%s\"", sub);
}

/* ---- trouble ... ---- */

static int trouble_set(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--idle-reason", .metavar = "TEXT"},
        {.name = "--idle-land", .metavar = "MU"},
        {.name = "--idle-floor", .metavar = "M2"},
        {.name = "--strengths", .metavar = "TEXT"},
        {.name = "--plan", .metavar = "TEXT"},
        {.name = "--progress", .metavar = "TEXT"},
        {.name = "--version", .metavar = "V"},
        {.name = "--idempotency-key", .metavar = "KEY"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "trouble set";
    int64_t eid = 0, v = 0;
    bool has_v = false;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, tset_help);
    if (rc == 0)
        rc = id_word(cmd, "one ENTERPRISE_ID", pos, npos, 1, &eid);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--version", &v, &has_v);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    bb_error err;
    kvs k = {0};
    kv_int(&k, "enterprise_id", eid);
    if (!has_v) {
        /* Is there a file? Its version, or none: then create. */
        bb_reply *g = NULL;
        rc = call_kvs(ctx, "trouble.get", &k, false, &g, &err);
        if (rc == BB_C_OK) {
            rc = reply_version(g, "trouble.get", &v, &err);
            has_v = rc == BB_C_OK;
        } else if (rc == BB_C_ESERVER && strcmp(err.code, "not_found") == 0) {
            rc = BB_C_OK;
        }
        bb_reply_free(g);
        if (rc != BB_C_OK) {
            cli_opts_free(o, no);
            return cli_fail(&err);
        }
    }
    if (has_v)
        kv_int(&k, "version", v);
    kv_str(&k, "idle_reason", cli_get(o, no, "--idle-reason")->value);
    kv_str(&k, "idle_land_mu", cli_get(o, no, "--idle-land")->value);
    kv_str(&k, "idle_floor_m2", cli_get(o, no, "--idle-floor")->value);
    kv_str(&k, "strengths", cli_get(o, no, "--strengths")->value);
    kv_str(&k, "revival_plan", cli_get(o, no, "--plan")->value);
    kv_str(&k, "revival_progress", cli_get(o, no, "--progress")->value);
    return send_write(ctx, "trouble.set", &k, o, no);
}

static int trouble_get(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    const char *cmd = "trouble get";
    int64_t eid;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, tget_help);
    if (rc == 0)
        rc = id_word(cmd, "one ENTERPRISE_ID", pos, npos, 1, &eid);
    if (rc != 0)
        return rc;
    kvs k = {0};
    kv_int(&k, "enterprise_id", eid);
    bb_error err;
    bb_reply *r = NULL;
    if (call_kvs(ctx, "trouble.get", &k, false, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    return print_record(ctx, r, no_skip);
}

static int trouble_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--township", .metavar = "T"},
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "trouble list";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, tlist_help);
    int64_t limit = 0, after = 0;
    bool has_l = false, has_a = false;
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--limit", &limit, &has_l);
    if (rc == 0)
        rc = opt_int(cmd, o, no, "--after", &after, &has_a);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    kvs k = {0};
    kv_str(&k, "township", cli_get(o, no, "--township")->value);
    if (has_l)
        kv_int(&k, "limit", limit);
    bool all = cli_get(o, no, "--all")->count > 0;
    cli_replies rs = {0};
    int64_t next;
    bb_error err;
    rc = fetch_pages(ctx, "trouble.list", &k, after, has_a, all, &rs, &next, &err);
    cli_opts_free(o, no);
    if (rc != BB_C_OK) {
        cli_replies_free(&rs);
        return cli_fail(&err);
    }
    static const char *const head[] = {"企业ID", "企业", "乡镇", "闲置原因", "闲置土地(亩)",
                                       "闲置厂房(m²)", "盘活进展"};
    static const char *const keys[] = {"enterprise_id", "enterprise_name", "township",
                                       "idle_reason", "idle_land_mu", "idle_floor_m2",
                                       "revival_progress"};
    rc = print_pages(ctx, &rs, all, head, keys, 7, "revival_progress");
    if (!all && next != 0)
        fprintf(stderr, "baobao: more files follow: add --after %" PRId64 " (or use --all)\n",
                next);
    cli_replies_free(&rs);
    return rc;
}

int cli_trouble(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "trouble", trouble_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("trouble", "missing subcommand (set, get, list)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "set") == 0)
        return trouble_set(ctx, sargc, sargv);
    if (strcmp(sub, "get") == 0)
        return trouble_get(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return trouble_list(ctx, sargc, sargv);
    return cli_usage_error("trouble", "unknown subcommand \"%s\"", sub);
}
