/*
 * cli_spec.c: the commands of `baobao` that come from the method spec
 * (proto/bb_spec.h): a mechanical command calls one method and prints its
 * record or page, and everything else about it (options, help, required
 * arguments, allowed values, paging, the idempotency key of a write) is
 * read from the method's declaration. Also `baobao call METHOD ...` (any
 * method), `baobao methods`, and the printers of records and tables every
 * command uses (formats: money in yuan and 万元, long text cut in tables).
 *
 * Options: argument `name_contains` is `--name-contains VALUE`; a command
 * may add another name for one (`--unit` for `unit_id`) and flags that
 * send a fixed text (`--open`); an argument that takes nil also has
 * `--no-X` (sends nil: clears it); an array's option is repeated; a paged
 * method has `--all`; a password (BB_A_SECRET) is never an option. The
 * values are converted by the one packer (args.c): a text not of its type
 * is a usage error. The server checks the rest and its refusal is exit 1.
 * Not for: what a command does beyond call and print (each in its file:
 * asking passwords, imports), the option parser itself (cli_opts.c).
 */
#include "cli.h"

#include "bb_spec.h"
#include "money.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 512
/* Options one command may have: each argument, another name, --no-X for
 * both, and --all, and its flags. */
#define OPT_MAX (BB_SPEC_MAX_ARGS * 4 + 8)
#define OPT_NAME 64
/* Columns a CLI_F_CLIP value takes in a table before it is cut with "…". */
#define CLIP_COLS 30

/* ---- printing records and pages ---- */

static bool as_int(const msgpack_object *o, int64_t *v)
{
    if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
        *v = (int64_t)o->via.u64;
    else if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *v = o->via.i64;
    else
        return false;
    return true;
}

/* A scalar as text: str as is, int in decimal, nil "-", bool yes/no;
 * anything else "?". buf holds the text. */
static const char *scalar(const msgpack_object *o, char *buf, size_t buflen)
{
    int64_t v;
    if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
        return "-";
    if (as_int(o, &v)) {
        snprintf(buf, buflen, "%" PRId64, v);
        return buf;
    }
    if (o->type == MSGPACK_OBJECT_BOOLEAN)
        return o->via.boolean ? "yes" : "no";
    if (o->type != MSGPACK_OBJECT_STR)
        return "?";
    snprintf(buf, buflen, "%.*s", (int)o->via.str.size, o->via.str.ptr);
    return buf;
}

/* Shown as a field or a cell: a scalar, or an array of scalars. */
static bool shown(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; o->type == MSGPACK_OBJECT_ARRAY && i < o->via.array.size; i++)
        if (o->via.array.ptr[i].type == MSGPACK_OBJECT_MAP ||
            o->via.array.ptr[i].type == MSGPACK_OBJECT_ARRAY)
            return false;
    return true;
}

static cli_fmt_kind fmt_of(const cli_fmt *fmts, const char *key, size_t klen)
{
    for (; fmts != NULL && fmts->key != NULL; fmts++)
        if (strlen(fmts->key) == klen && memcmp(fmts->key, key, klen) == 0)
            return fmts->kind;
    return CLI_F_TEXT;
}

/* A value as text, by its format (in a table or in a record): an array
 * of scalars joined with ", " ("-" when empty), money in yuan and 万元. */
static const char *cell(const msgpack_object *o, cli_fmt_kind kind, bool in_table, char *buf,
                        size_t len)
{
    int64_t v;
    if (o != NULL && o->type == MSGPACK_OBJECT_ARRAY) {
        size_t used = 0;
        for (uint32_t i = 0; i < o->via.array.size && used < len; i++) {
            char one[CELL_MAX];
            int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                             scalar(&o->via.array.ptr[i], one, sizeof one));
            used += w > 0 ? (size_t)w : 0;
        }
        return o->via.array.size > 0 ? buf : "-";
    }
    if ((kind == CLI_F_MONEY || kind == CLI_F_WAN) && as_int(o, &v)) {
        char yuan[MONEY_BUF], wan[MONEY_BUF];
        money_yuan(v, yuan, sizeof yuan);
        money_wan(v, wan, sizeof wan);
        if (in_table)
            snprintf(buf, len, "%s", kind == CLI_F_WAN ? wan : yuan);
        else if (v >= 10000 || v <= -10000)
            snprintf(buf, len, "%s 元 (%s 万元)", yuan, wan);
        else
            snprintf(buf, len, "%s 元", yuan);
        return buf;
    }
    const char *s = scalar(o, buf, len);
    char *cut = kind == CLI_F_CLIP && in_table ? text_cell(s, CLIP_COLS) : NULL;
    if (cut != NULL) {
        snprintf(buf, len, "%s", cut);
        free(cut);
        return buf;
    }
    return s;
}

/* The lines of a record: its names, their values, and room for both. */
typedef struct fieldset {
    const char **names, **values;
    char (*keys)[CELL_MAX], (*bufs)[CELL_MAX];
    size_t n;
} fieldset;

/* Adds the shown keys of map, and those of a map inside it as
 * "key.sub" (server.info's limits), to f. */
static void add_fields(fieldset *f, const msgpack_object *map, const char *prefix,
                       const cli_fmt *fmts)
{
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *e = &map->via.map.ptr[i];
        if (e->key.type != MSGPACK_OBJECT_STR)
            continue;
        char *key = f->keys[f->n];
        snprintf(key, CELL_MAX, "%s%.*s", prefix, (int)e->key.via.str.size, e->key.via.str.ptr);
        if (e->val.type == MSGPACK_OBJECT_MAP && prefix[0] == '\0') {
            char sub[CELL_MAX];
            snprintf(sub, sizeof sub, "%s.", key);
            add_fields(f, &e->val, sub, fmts);
        } else if (shown(&e->val)) {
            f->names[f->n] = key;
            f->values[f->n] = cell(&e->val, fmt_of(fmts, key, strlen(key)), false, f->bufs[f->n],
                                   CELL_MAX);
            f->n++;
        }
    }
}

bool cli_print_fields(const msgpack_object *map, const cli_fmt *fmts)
{
    if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
        return false;
    size_t cap = map->via.map.size + 1;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (map->via.map.ptr[i].val.type == MSGPACK_OBJECT_MAP)
            cap += map->via.map.ptr[i].val.via.map.size;
    fieldset f = {.names = calloc(cap, sizeof *f.names), .values = calloc(cap, sizeof *f.values),
                  .keys = calloc(cap, sizeof *f.keys), .bufs = calloc(cap, sizeof *f.bufs)};
    bool ok = f.names != NULL && f.values != NULL && f.keys != NULL && f.bufs != NULL;
    if (ok) {
        add_fields(&f, map, "", fmts);
        ok = cli_put(fields_render(f.names, f.values, f.n));
    }
    free(f.names);
    free(f.values);
    free(f.keys);
    free(f.bufs);
    return ok;
}

bool cli_print_table(const msgpack_object *items, const cli_col *cols, size_t ncols,
                     const cli_fmt *fmts)
{
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY)
        return false;
    /* No columns given: the keys of the first item, as they come. */
    cli_col gen[BB_SPEC_MAX_ARGS];
    char heads[BB_SPEC_MAX_ARGS][OPT_NAME], keys[BB_SPEC_MAX_ARGS][OPT_NAME];
    if (cols == NULL) {
        ncols = 0;
        const msgpack_object *first = items->via.array.size > 0 ? &items->via.array.ptr[0] : NULL;
        for (uint32_t i = 0; first != NULL && first->type == MSGPACK_OBJECT_MAP &&
                             i < first->via.map.size && ncols < BB_SPEC_MAX_ARGS; i++) {
            const msgpack_object_kv *e = &first->via.map.ptr[i];
            if (e->key.type != MSGPACK_OBJECT_STR || !shown(&e->val))
                continue;
            snprintf(keys[ncols], OPT_NAME, "%.*s", (int)e->key.via.str.size,
                     e->key.via.str.ptr);
            size_t j = 0;
            for (; keys[ncols][j] != '\0'; j++)
                heads[ncols][j] = (char)(keys[ncols][j] >= 'a' && keys[ncols][j] <= 'z'
                                             ? keys[ncols][j] - 'a' + 'A'
                                             : keys[ncols][j]);
            heads[ncols][j] = '\0';
            gen[ncols] = (cli_col){heads[ncols], keys[ncols]};
            ncols++;
        }
        cols = gen;
        if (ncols == 0)
            return true;   /* nothing to show */
    }
    table *t = table_new(ncols);
    const char **row = calloc(ncols, sizeof *row);
    char (*bufs)[CELL_MAX] = calloc(ncols, sizeof *bufs);
    cli_fmt_kind *kinds = calloc(ncols, sizeof *kinds);
    bool ok = t != NULL && row != NULL && bufs != NULL && kinds != NULL;
    for (size_t c = 0; ok && c < ncols; c++) {
        row[c] = cols[c].head;
        kinds[c] = fmt_of(fmts, cols[c].key, strlen(cols[c].key));
        if (kinds[c] == CLI_F_MONEY || kinds[c] == CLI_F_WAN)
            table_set_align(t, c, TABLE_RIGHT);
    }
    ok = ok && table_add_row(t, row) == 0;
    for (uint32_t i = 0; ok && i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        for (size_t c = 0; c < ncols; c++)
            row[c] = cell(bb_map_get(it, cols[c].key), kinds[c], true, bufs[c], CELL_MAX);
        ok = table_add_row(t, row) == 0;
    }
    if (ok)
        ok = cli_put(table_render(t, NULL));
    else
        cli_put(NULL);
    table_free(t);
    free(row);
    free(bufs);
    free(kinds);
    return ok;
}

/* ---- options from the spec ---- */

/* One option of a command and the argument it gives. */
typedef struct optmap {
    const bb_arg *arg;   /* NULL: --all */
    bool clear;          /* --no-X: sends nil */
    const char *text;    /* a flag of the command: sends this */
} optmap;

typedef struct optset {
    cli_opt o[OPT_MAX];
    optmap map[OPT_MAX];
    char names[OPT_MAX][OPT_NAME];
    size_t n;
} optset;

static bool paged(const bb_method_spec *m)
{
    return (m->flags & (BB_M_PAGED | BB_M_LIMIT)) && bb_spec_arg(m, "after", 5) != NULL;
}

/* "--" + name with '_' as '-'. */
static void dashed(char *out, const char *prefix, const char *name)
{
    snprintf(out, OPT_NAME, "--%s%s", prefix, name);
    for (char *p = out + 2; *p != '\0'; p++)
        if (*p == '_')
            *p = '-';
}

static const char *metavar(const bb_arg *a)
{
    size_t n = strlen(a->name);
    switch (a->type) {
    case BB_T_INT:
        return strcmp(a->name, "id") == 0 || (n > 3 && strcmp(a->name + n - 3, "_id") == 0)
                   ? "ID"
                   : "N";
    case BB_T_DATE: return "DATE";
    case BB_T_BOOL: return "true|false";
    case BB_T_STRS: return "A,B,...";
    default: return a->values != NULL ? "VALUE" : "TEXT";
    }
}

static void add_opt(optset *s, const char *prefix, const char *name, const bb_arg *arg,
                    bool clear, const char *text)
{
    if (s->n >= OPT_MAX)
        return;
    dashed(s->names[s->n], prefix, name);
    s->o[s->n] = (cli_opt){.name = s->names[s->n],
                           .metavar = clear || text != NULL || arg == NULL ? NULL
                                                                           : metavar(arg),
                           /* an array: --label A --label B is "A,B" */
                           .repeatable = arg != NULL && arg->type == BB_T_STRS};
    s->map[s->n] = (optmap){arg, clear, text};
    s->n++;
}

/* The other name a command gives an argument, or NULL. */
static const char *alias_of(const cli_mech *m, const char *arg)
{
    for (const cli_alias *a = m->aliases; a != NULL && a->opt != NULL; a++)
        if (strcmp(a->arg, arg) == 0)
            return a->opt;
    return NULL;
}

static void build_opts(optset *s, const cli_mech *m, const bb_method_spec *ms)
{
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(ms, all);
    s->n = 0;
    for (unsigned i = 0; i < n; i++) {
        const char *alias = alias_of(m, all[i]->name);
        if (all[i]->flags & BB_A_SECRET)
            continue;   /* a password never comes from the command line */
        add_opt(s, "", all[i]->name, all[i], false, NULL);
        if (alias != NULL)
            add_opt(s, "", alias, all[i], false, NULL);
        if (all[i]->flags & BB_A_NIL) {
            add_opt(s, "no-", all[i]->name, all[i], true, NULL);
            if (alias != NULL)
                add_opt(s, "no-", alias, all[i], true, NULL);
        }
    }
    for (const cli_flag *f = m->flags; f != NULL && f->arg != NULL; f++)
        if (f->opt != NULL)
            add_opt(s, "", f->opt, bb_spec_arg(ms, f->arg, strlen(f->arg)), false, f->text);
    if (paged(ms))
        add_opt(s, "", "all", NULL, false, NULL);
}

/* ---- help from the spec ---- */

static void print_help(const cli_mech *m, const bb_method_spec *ms)
{
    char name[OPT_NAME];
    printf("Usage: baobao %s%s%s%s%s [OPTIONS]\n\n", m->cmd, m->pos ? " " : "",
           m->pos ? (strcmp(m->pos, "id") == 0 ? "ID" : m->pos) : "", m->pos2 ? " " : "",
           m->pos2 ? m->pos2 : "");
    printf("%s (%s; result: %s).\n", ms->summary ? ms->summary : "", ms->name,
           ms->result ? ms->result : "-");
    if (m->about != NULL)
        printf("%s", m->about);
    printf("\nOptions (from the method spec):\n");
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(ms, all);
    for (unsigned i = 0; i < n; i++) {
        const bb_arg *a = all[i];
        const char *alias = alias_of(m, a->name);
        char left[2 * OPT_NAME + 32];
        if (a->flags & BB_A_SECRET)
            continue;
        if ((m->pos != NULL && strcmp(m->pos, a->name) == 0) ||
            (m->pos2 != NULL && strcmp(m->pos2, a->name) == 0)) {
            snprintf(left, sizeof left, "%s", strcmp(a->name, "id") == 0 ? "ID" : a->name);
        } else {
            dashed(name, "", alias != NULL ? alias : a->name);
            snprintf(left, sizeof left, "%s %s", name, metavar(a));
        }
        printf("  %-26s %s", left, a->doc ? a->doc : "");
        if (a->flags & BB_A_REQ)
            printf(" (required)");
        if (a->flags & BB_A_TODAY)
            printf(" (default: today)");
        if (a->values != NULL) {
            printf(" (one of:");
            for (size_t v = 0; a->values[v] != NULL; v++)
                printf(" %s%s", a->values[v], a->values[v + 1] ? " |" : "");
            printf(")");
        }
        if (a->type == BB_T_STRS)
            printf(" (repeat the option for more)");
        if (fmt_of(m->fmts, a->name, strlen(a->name)) == CLI_F_MONEY ||
            fmt_of(m->fmts, a->name, strlen(a->name)) == CLI_F_WAN)
            printf(" (yuan: 1234567, 123.45万, 3亿)");
        if (strcmp(a->name, "idempotency_key") == 0)
            printf(" (default: a random UUID)");
        if (strcmp(a->name, "version") == 0 && m->version_from != NULL)
            printf(" (default: the current one, read with %s)", m->version_from);
        printf("\n");
        if (alias != NULL) {
            dashed(name, "", a->name);
            printf("  %-26s the same as %s\n", name, left);
        }
        if (a->flags & BB_A_NIL) {
            dashed(name, "no-", alias != NULL ? alias : a->name);
            printf("  %-26s clear it (send nil)\n", name);
        }
    }
    for (const cli_flag *f = m->flags; f != NULL && f->arg != NULL; f++) {
        if (f->opt == NULL)
            continue;
        dashed(name, "", f->opt);
        printf("  %-26s sends %s = \"%s\"\n", name, f->arg, f->text);
    }
    if (paged(ms))
        printf("  %-26s fetch every page; with --json prints {\"items\": [...], "
               "\"next\": null}\n"
               "One page unless --all; when more pages follow, the --after value is\n"
               "printed to stderr.\n",
               "--all");
}

/* ---- running ---- */

/* The arguments as parsed: (name, text) pairs (the after of paging is
 * replaced page after page); the texts the command made (joined arrays,
 * money in yuan, a version, a password) are owned, zeroed and freed at
 * the end. */
struct cli_mech_args {
    bb_arg_text a[OPT_MAX];
    size_t n;
    char *owned[OPT_MAX];
    size_t nowned;
};
typedef struct cli_mech_args targs;

const char *cli_mech_get(const cli_mech_args *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->a[i].name, name) == 0)
            return t->a[i].text != NULL ? t->a[i].text : "";
    return NULL;
}

static bool targ_has(const targs *t, const char *name)
{
    return cli_mech_get(t, name) != NULL;
}

int cli_mech_set(cli_mech_args *t, const char *name, const char *text)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->a[i].name, name) == 0) {
            t->a[i].text = text;
            return 0;
        }
    if (t->n >= OPT_MAX)
        return -1;
    t->a[t->n++] = (bb_arg_text){name, text};
    return 0;
}

int cli_mech_own(cli_mech_args *t, const char *name, char *text)
{
    if (text == NULL || t->nowned >= OPT_MAX || cli_mech_set(t, name, text) != 0) {
        cli_password_free(text);
        return -1;
    }
    t->owned[t->nowned++] = text;
    return 0;
}

static void targs_free(targs *t)
{
    for (size_t i = 0; i < t->nowned; i++)
        cli_password_free(t->owned[i]);   /* zeroes: it may be a password */
    free(t);
}

/* Converts t's texts for method: BB_C_EARG names the text at fault. */
static int kvs_text(bbi_kvs *k, const bb_method_spec *ms, const targs *t, bb_error *err)
{
    int rc = BB_C_OK;
    for (size_t i = 0; rc == BB_C_OK && i < t->n; i++)
        rc = bbi_kv_text(k, ms->name, t->a[i].name, t->a[i].text, err);
    return rc;
}

/* Packs t for method and calls it; a write is retried once (cli_call). */
static int call_text(cli_ctx *ctx, const bb_method_spec *ms, const targs *t, bb_reply **out,
                     bb_error *err)
{
    bbi_kvs k = {.n = 0};
    int rc = kvs_text(&k, ms, t, err);
    bbi_args a;
    bbi_args_init(&a);
    if (rc == BB_C_OK)
        rc = bbi_pack(&a, ms->name, &k, err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, ms->name, &a, (ms->flags & BB_M_WRITE) != 0, out, err);
    bbi_args_wipe(&a);
    bbi_kvs_free(&k);
    return rc;
}

/* The pages of a list: their replies (which own the items) and every
 * item of them in one array. */
typedef struct pages {
    bb_reply **r;
    size_t nr;
    msgpack_object *items;
    size_t n;
} pages;

/* Takes r (on success) and its items. */
static int pages_add(pages *p, bb_reply *r, const msgpack_object_array *items, bb_error *err)
{
    bb_reply **nr = realloc(p->r, (p->nr + 1) * sizeof *nr);
    if (nr != NULL)
        p->r = nr;
    msgpack_object *ni = nr == NULL ? NULL : realloc(p->items, (p->n + items->size + 1) *
                                                                   sizeof *ni);
    if (ni == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    p->items = ni;
    p->r[p->nr++] = r;
    if (items->size > 0)
        memcpy(p->items + p->n, items->ptr, items->size * sizeof *ni);
    p->n += items->size;
    return BB_C_OK;
}

static void pages_free(pages *p)
{
    for (size_t i = 0; i < p->nr; i++)
        bb_reply_free(p->r[i]);
    free(p->r);
    free(p->items);
}

/* Prints the pages: with --json the one page as the server sent it, or
 * for --all {"items": [every item], "next": null}; else a table. */
static int print_pages(cli_ctx *ctx, const cli_mech *m, const pages *p, bool all)
{
    msgpack_object arr = {.type = MSGPACK_OBJECT_ARRAY};
    arr.via.array.ptr = p->items;
    arr.via.array.size = (uint32_t)p->n;
    if (ctx->json && !all)
        return cli_print_json(bb_reply_result(p->r[0]));
    if (ctx->json) {
        msgpack_object_kv kv[2] = {
            {.key = {.type = MSGPACK_OBJECT_STR, .via.str = {5, "items"}}, .val = arr},
            {.key = {.type = MSGPACK_OBJECT_STR, .via.str = {4, "next"}},
             .val = {.type = MSGPACK_OBJECT_NIL}},
        };
        msgpack_object root = {.type = MSGPACK_OBJECT_MAP, .via.map = {2, kv}};
        return cli_print_json(&root);
    }
    if (m->print_items != NULL)
        return m->print_items(ctx, &arr);
    return cli_print_table(&arr, m->cols, m->ncols, m->fmts) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

/* Pages of a list: one, or with all every one. */
static int run_pages(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms, targs *t,
                     bool all)
{
    pages p = {.nr = 0};
    bb_error err;
    char cursor[CELL_MAX], last[CELL_MAX];
    bool more = false;
    const char *given = cli_mech_get(t, "after");
    snprintf(last, sizeof last, "%s", given != NULL ? given : "");
    for (;;) {
        bb_reply *r = NULL;
        int rc = call_text(ctx, ms, t, &r, &err);
        const msgpack_object *res = rc == BB_C_OK ? bb_reply_result(r) : NULL;
        const msgpack_object *items = bb_map_get(res, "items");
        const msgpack_object *next = bb_map_get(res, "next");
        if (rc == BB_C_OK && (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
                              next == NULL || (next->type != MSGPACK_OBJECT_NIL &&
                                               next->type != MSGPACK_OBJECT_STR &&
                                               next->type != MSGPACK_OBJECT_POSITIVE_INTEGER)))
            rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: result without items or next",
                         ms->name);
        if (rc == BB_C_OK)
            rc = pages_add(&p, r, &items->via.array, &err);
        if (rc != BB_C_OK)
            bb_reply_free(r);
        more = rc == BB_C_OK && next->type != MSGPACK_OBJECT_NIL;
        if (more) {
            char buf[CELL_MAX];
            snprintf(cursor, sizeof cursor, "%s", scalar(next, buf, sizeof buf));
            /* A cursor that does not move would make --all loop for ever
             * (lists go up by id, or down: export.list). */
            if (all && strcmp(cursor, last) == 0)
                rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: next does not move past after",
                             ms->name);
            snprintf(last, sizeof last, "%s", cursor);
            if (cli_mech_set(t, "after", cursor) != 0)
                more = false;
        }
        if (rc != BB_C_OK) {
            pages_free(&p);
            return cli_fail(&err);
        }
        if (!all || !more)
            break;
    }
    int rc = print_pages(ctx, m, &p, all);
    if (!all && more)
        fprintf(stderr, "baobao: more rows follow: add --after %s (or use --all)\n", cursor);
    pages_free(&p);
    return rc;
}

/* The version of a record: its own "version", or that of the record it
 * holds ({"assignment": {...}}). */
static bool record_version(const msgpack_object *res, int64_t *v)
{
    if (as_int(bb_map_get(res, "version"), v))
        return true;
    for (uint32_t i = 0; res != NULL && res->type == MSGPACK_OBJECT_MAP && i < res->via.map.size;
         i++)
        if (res->via.map.ptr[i].val.type == MSGPACK_OBJECT_MAP &&
            as_int(bb_map_get(&res->via.map.ptr[i].val, "version"), v))
            return true;
    return false;
}

/* No --version: the current one, read with m->version_from (called with
 * the positional argument). When the method's version is optional (a
 * record created by the first write) not_found leaves it out. */
static int read_version(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms, targs *t)
{
    if (m->version_from == NULL || m->pos == NULL || targ_has(t, "version") ||
        !targ_has(t, m->pos))
        return 0;
    const bb_method_spec *g = bb_spec_find(m->version_from, strlen(m->version_from));
    targs *get = calloc(1, sizeof *get);
    if (g == NULL || get == NULL) {
        free(get);
        return cli_usage_error(m->cmd, "%s: not a method of the spec", m->version_from);
    }
    cli_mech_set(get, m->pos, cli_mech_get(t, m->pos));
    bb_error err;
    bb_reply *r = NULL;
    int rc = call_text(ctx, g, get, &r, &err);
    targs_free(get);
    const bb_arg *va = bb_spec_arg(ms, "version", 7);
    if (rc == BB_C_ESERVER && strcmp(err.code, "not_found") == 0 && va != NULL &&
        !(va->flags & BB_A_REQ))
        return 0;
    int64_t v = 0;
    if (rc == BB_C_OK && !record_version(bb_reply_result(r), &v))
        rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL, "%s: the result has no version",
                     m->version_from);
    bb_reply_free(r);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cli_mech_own(t, "version", strdup(buf)) == 0 ? 0 : CLI_EXIT_PROTOCOL;
}

/* Options to arguments: a flag's text, an array's values joined with
 * commas, money read as yuan, the positional words, the presets. */
static int collect(const cli_mech *m, const optset *s, const char *const *pos, size_t npos,
                   targs *t, bool *all)
{
    for (size_t i = 0; i < s->n; i++) {
        const cli_opt *o = &s->o[i];
        const optmap *om = &s->map[i];
        if (o->count == 0)
            continue;
        if (om->arg == NULL) {
            *all = true;
            continue;
        }
        if (targ_has(t, om->arg->name))
            return cli_usage_error(m->cmd, "%s: given twice (or with its other name)", o->name);
        if (om->text != NULL || om->clear) {
            cli_mech_set(t, om->arg->name, om->text);
        } else if (o->nvalues > 1) {
            size_t len = 1;
            for (size_t v = 0; v < o->nvalues; v++) {
                if (strchr(o->values[v], ',') != NULL)
                    return cli_usage_error(m->cmd, "%s: a value may not hold a comma", o->name);
                len += strlen(o->values[v]) + 1;
            }
            char *joined = calloc(1, len);
            for (size_t v = 0; joined != NULL && v < o->nvalues; v++)
                strcat(strcat(joined, v ? "," : ""), o->values[v]);
            if (cli_mech_own(t, om->arg->name, joined) != 0)
                return CLI_EXIT_PROTOCOL;
        } else {
            cli_mech_set(t, om->arg->name, o->value);
        }
    }
    const char *names[2] = {m->pos, m->pos2};
    size_t want = (m->pos != NULL) + (m->pos2 != NULL);
    if (npos != want)
        return cli_usage_error(m->cmd, "expected %s%s%s", m->pos ? m->pos : "no word",
                               m->pos2 ? " and " : "", m->pos2 ? m->pos2 : "");
    for (size_t i = 0; i < want; i++) {
        if (targ_has(t, names[i]))
            return cli_usage_error(m->cmd, "%s is given twice", names[i]);
        cli_mech_set(t, names[i], pos[i]);
    }
    for (const cli_flag *f = m->flags; f != NULL && f->arg != NULL; f++)
        if (f->opt == NULL && !targ_has(t, f->arg))
            cli_mech_set(t, f->arg, f->text);
    for (const cli_fmt *f = m->fmts; f != NULL && f->key != NULL; f++) {
        const char *text = cli_mech_get(t, f->key);
        int64_t yuan;
        if ((f->kind != CLI_F_MONEY && f->kind != CLI_F_WAN) || text == NULL || text[0] == '\0')
            continue;
        if (money_parse(text, &yuan) != 0)
            return cli_usage_error(m->cmd, "%s: \"%s\" is not an amount of yuan (e.g. 1234567, "
                                   "123.45万, 3亿)", f->key, text);
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRId64, yuan);
        if (cli_mech_own(t, f->key, strdup(buf)) != 0)
            return CLI_EXIT_PROTOCOL;
    }
    return 0;
}

/* A result that is not a record: `true` as "ok", another scalar as is. */
static int print_result(const msgpack_object *res, const cli_fmt *fmts)
{
    if (res != NULL && res->type == MSGPACK_OBJECT_MAP)
        return cli_print_fields(res, fmts) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
    char buf[CELL_MAX];
    bool yes = res != NULL && res->type == MSGPACK_OBJECT_BOOLEAN && res->via.boolean;
    printf("%s\n", yes ? "ok" : scalar(res, buf, sizeof buf));
    return CLI_EXIT_OK;
}

int cli_mech_run(cli_ctx *ctx, const cli_mech *m, int argc, char **argv)
{
    const bb_method_spec *ms = bb_spec_find(m->method, strlen(m->method));
    if (ms == NULL)
        return cli_usage_error(m->cmd, "%s: not a method of this client's protocol spec "
                               "(run 'baobao methods')", m->method);
    optset *s = calloc(1, sizeof *s);
    targs *t = calloc(1, sizeof *t);
    if (s == NULL || t == NULL) {
        free(s);
        free(t);
        return cli_usage_error(m->cmd, "out of memory");
    }
    build_opts(s, m, ms);
    const char *pos[2];
    size_t npos = 0;
    char help_mark[] = "";
    bool all = false;
    int rc = cli_parse(ctx, argc, argv, s->o, s->n, pos, 2, &npos, m->cmd, help_mark);
    if (rc == CLI_HELP_SHOWN)
        print_help(m, ms);
    if (rc == 0)
        rc = collect(m, s, pos, npos, t, &all);
    char key[37];
    if (rc == 0 && (ms->flags & BB_M_WRITE) && !targ_has(t, "idempotency_key")) {
        cli_new_key(key);
        cli_mech_set(t, "idempotency_key", key);
    }
    /* Texts not of their type and missing arguments are usage errors (exit
     * 2), found before anything is asked or sent; the passwords and the
     * version the command finds itself come after. */
    bb_error err;
    bbi_kvs k = {.n = 0};
    if (rc == 0 && kvs_text(&k, ms, t, &err) != BB_C_OK)
        rc = cli_usage_error(m->cmd, "%s", err.message);
    bbi_kvs_free(&k);
    const bb_arg *every[BB_SPEC_MAX_ARGS];
    unsigned na = bb_spec_args(ms, every);
    for (unsigned i = 0; rc == 0 && i < na; i++) {
        const bb_arg *a = every[i];
        if (!(a->flags & BB_A_REQ) || (a->flags & BB_A_SECRET) || targ_has(t, a->name) ||
            (m->version_from != NULL && strcmp(a->name, "version") == 0))
            continue;
        char name[OPT_NAME];
        const char *alias = alias_of(m, a->name);
        dashed(name, "", alias != NULL ? alias : a->name);
        rc = cli_usage_error(m->cmd, "%s is required (%s)", name, a->doc ? a->doc : a->name);
    }
    if (rc == 0 && m->fill != NULL)
        rc = m->fill(ctx, t);
    if (rc == 0)
        rc = read_version(ctx, m, ms, t);
    if (rc == 0) {
        if (paged(ms) && m->print == NULL) {
            rc = run_pages(ctx, m, ms, t, all);
        } else {
            bb_reply *r = NULL;
            if (call_text(ctx, ms, t, &r, &err) != BB_C_OK) {
                rc = cli_fail(&err);
            } else {
                const msgpack_object *res = bb_reply_result(r);
                if (ctx->json)
                    rc = cli_print_json(res);
                else if (m->print != NULL)
                    rc = m->print(res);
                else
                    rc = print_result(res, m->fmts);
                bb_reply_free(r);
            }
        }
    }
    cli_opts_free(s->o, s->n);
    free(s);
    targs_free(t);
    return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
}

/* The word of a command in its group ("unit list" -> "list"). */
static const char *sub_word(const cli_mech *m)
{
    const char *sp = strchr(m->cmd, ' ');
    return sp != NULL ? sp + 1 : m->cmd;
}

int cli_mech_group(cli_ctx *ctx, const char *group, const char *intro, const cli_mech *subs,
                   int argc, char **argv)
{
    /* The group's help: the intro, then every command with the summary of
     * its method. */
    char help[4096];
    size_t used = (size_t)snprintf(help, sizeof help, "Usage: baobao %s COMMAND ...\n\n%s%s"
                                   "Commands:\n", group, intro ? intro : "", intro ? "\n" : "");
    for (const cli_mech *m = subs; m->cmd != NULL && used < sizeof help; m++) {
        const bb_method_spec *ms = bb_spec_find(m->method, strlen(m->method));
        char word[OPT_NAME];
        snprintf(word, sizeof word, "%s%s", sub_word(m), m->pos ? " ID" : "");
        int w = snprintf(help + used, sizeof help - used, "  %-16s %s (%s)\n", word,
                         ms != NULL && ms->summary ? ms->summary : "", m->method);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < sizeof help)
        snprintf(help + used, sizeof help - used,
                 "Run 'baobao %s COMMAND --help' for a command's options.\n", group);
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, group, help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error(group, "missing subcommand (see 'baobao %s --help')", group);
    for (const cli_mech *m = subs; m->cmd != NULL; m++)
        if (strcmp(sub_word(m), argv[first]) == 0)
            return m->run != NULL ? m->run(ctx, argc - first - 1, argv + first + 1)
                                  : cli_mech_run(ctx, m, argc - first - 1, argv + first + 1);
    return cli_usage_error(group, "unknown subcommand \"%s\"", argv[first]);
}

/* ---- baobao call, baobao methods ---- */

static const char call_help[] =
    "Usage: baobao call METHOD [--ARG VALUE ...] [--no-ARG] [--all]\n"
    "\n"
    "Calls any method of the protocol with the arguments given as options:\n"
    "argument name_contains is --name-contains. int: decimal; bool: true|false;\n"
    "array of str: comma-separated; --no-ARG (or an empty VALUE) sends nil where\n"
    "the method takes it. A write gets a random idempotency key unless\n"
    "--idempotency-key is given. Prints the record as \"field: value\" lines, a page\n"
    "as a table, or the result as JSON with --json.\n"
    "'baobao methods' lists the methods; 'baobao call METHOD --help' its options.\n";

int cli_call_cmd(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "call", call_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("call", "missing METHOD (run 'baobao methods')");
    const char *method = argv[first];
    if (bb_spec_find(method, strlen(method)) == NULL)
        return cli_usage_error("call", "unknown method \"%s\" (run 'baobao methods')", method);
    char cmd[OPT_NAME + 8];
    snprintf(cmd, sizeof cmd, "call %s", method);
    cli_mech m = {.cmd = cmd, .method = method};
    return cli_mech_run(ctx, &m, argc - first - 1, argv + first + 1);
}

static const char methods_help[] =
    "Usage: baobao methods\n"
    "\n"
    "Lists the methods of the protocol this client was built with, with what\n"
    "each does (call one with 'baobao call METHOD ...').\n";

int cli_methods(cli_ctx *ctx, int argc, char **argv)
{
    const char *pos[1];
    size_t npos;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "methods", methods_help);
    if (rc != 0)
        return rc;
    table *t = table_new(3);
    const char *head[] = {"METHOD", "KIND", "SUMMARY"};
    bool ok = t != NULL && table_add_row(t, head) == 0;
    for (size_t i = 0; ok && bb_spec_tables[i] != NULL; i++)
        for (const bb_method_spec *m = bb_spec_tables[i]; ok && m->name != NULL; m++) {
            const char *kind = (m->flags & BB_M_WRITE) ? "write"
                               : paged(m)             ? "list"
                                                      : "read";
            const char *row[] = {m->name, kind, m->summary ? m->summary : ""};
            ok = table_add_row(t, row) == 0;
        }
    if (ok)
        ok = cli_put(table_render(t, NULL));
    table_free(t);
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}
