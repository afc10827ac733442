/*
 * resolve.c: names for ids (resolve.h). Where a command takes an
 * enterprise, project, official, unit or user, the user types what they
 * know: its id, its name, a part of the name, or (an enterprise) its
 * credit code. This file asks the server's list methods, which show only
 * what the caller may see, and puts the id in the argument's place:
 *
 *   - all digits (full-width too): an id, sent as it is;
 *   - an enterprise's credit code (18 characters that pass its check
 *     character): enterprise.list credit_code;
 *   - anything else: the list method's name filter (name_contains; for a
 *     user the login or the display name). A record whose name is exactly
 *     what was typed beats those that only contain it; one left is the
 *     answer. Several: on a terminal they are listed, numbered, and the
 *     user picks one with guided entry's line editor (a wrong answer asks
 *     again; Ctrl-D or Ctrl-C cancels the command, nothing sent);
 *     otherwise they are listed on stderr and the command fails (exit 2).
 *
 * Also here, because it is the other thing typed that only the server can
 * turn into what is sent: the packer's "today" (input.h), which the CLI
 * takes from server.info on its connection, so 今天 and 昨天 are the
 * server's dates, in its time_zone.
 *
 * Not for: checking the id (the server does), ids of records that have no
 * name (assignments, problems, reports), or the list commands themselves.
 */
#include "resolve.h"

#include "guided.h"
#include "i18n.h"
#include "input.h"

#include "bb_creditcode.h"
#include "bb_utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows of name matches read before giving up ("type more of the name"):
 * a few pages of the server's default size. */
#define RESOLVE_SCAN_MAX 200
/* Candidates listed when a name is ambiguous; past this many the user is
 * told how many more there are. */
#define RESOLVE_SHOW_MAX 20
/* The question of a pick, translated, with its number filled in. */
#define RESOLVE_PROMPT_BYTES 256

/* A kind of record: how it is listed, which keys name it, and what tells
 * two of the same name apart. */
typedef struct kind_info {
    const char *kind;        /* "enterprise" */
    const char *label;       /* N_: the kind, as messages start ("enterprise: ...") */
    const char *list;        /* the list method, with name_contains */
    const char *name_key;    /* the key of its name */
    const char *alt_key;     /* another key that names it exactly (a login), or NULL */
    const char *detail_key;  /* shown next to a candidate: township, unit; or NULL */
} kind_info;

static const kind_info kinds[] = {
    {"enterprise", N_("enterprise"), "enterprise.list", "name", NULL, "township"},
    {"project", N_("project"), "project.list", "name", NULL, "township"},
    {"official", N_("official"), "official.list", "name", NULL, "unit_name"},
    {"unit", N_("unit"), "unit.list", "name", NULL, NULL},
    {"user", N_("user"), "user.list", "display_name", "login", "login"},
};

static const kind_info *kind_find(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return &kinds[i];
    return NULL;
}

/* Whether s ends with suffix. */
static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

const char *cli_resolve_kind(const bb_method_spec *ms, const char *arg)
{
    const bb_arg *a = bb_spec_arg(ms, arg, strlen(arg));
    if (a == NULL || a->type != BB_T_INT)
        return NULL;
    /* The positional id of a record's own methods: enterprise.get's id is
     * an enterprise. */
    if (strcmp(arg, "id") == 0) {
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            size_t n = strlen(kinds[i].kind);
            if (strncmp(ms->name, kinds[i].kind, n) == 0 && ms->name[n] == '.')
                return kinds[i].kind;
        }
        return NULL;
    }
    /* enterprise_id, project_id, official_id, unit_id, user_id, and the
     * roles built on them: lead_unit_id, assignee_unit_id,
     * assignee_official_id. */
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char suffix[32];
        snprintf(suffix, sizeof suffix, "%s_id", kinds[i].kind);
        if (strcmp(arg, suffix) == 0 ||
            (ends_with(arg, suffix) && arg[strlen(arg) - strlen(suffix) - 1] == '_'))
            return kinds[i].kind;
    }
    return NULL;
}

/* ---- the server's today, for the packer ---- */

/* server.info's today, asked once per run (a run is short: it does not
 * outlive the day in any way that matters). */
static char g_today[BBI_DATE_BUF];

static int today_of_server(void *ud, char out[BBI_DATE_BUF], bb_error *err)
{
    cli_ctx *ctx = ud;
    if (g_today[0] == '\0') {
        bb_server_info info;
        int rc = cli_connect(ctx, err);
        if (rc == BB_C_OK)
            rc = bb_server_info_get(ctx->client, &info, err);
        if (rc != BB_C_OK)
            return rc;
        bool ok = strlen(info.today) == 10 && bb_date_check(info.today, 10) == BB_DATE_OK;
        if (ok)
            memcpy(g_today, info.today, BBI_DATE_BUF);
        bb_server_info_free(&info);
        if (!ok)
            return bbi_err(err, BB_C_EPROTO, NULL, NULL, "server.info: today is not a date");
    }
    memcpy(out, g_today, BBI_DATE_BUF);
    return BB_C_OK;
}

void cli_resolve_today(cli_ctx *ctx)
{
    bbi_input_set_today(today_of_server, ctx);
}

bool cli_resolve_today_text(cli_ctx *ctx, char out[BBI_DATE_BUF])
{
    bb_error err;
    return today_of_server(ctx, out, &err) == BB_C_OK;
}

/* ---- candidates ---- */

typedef struct cand {
    int64_t id;
    char *name, *alt, *detail;   /* owned; alt and detail may be NULL */
} cand;

typedef struct cands {
    cand *c;
    size_t n;
    size_t exact;     /* how many have exactly the typed name (first in c) */
    bool more;        /* the scan stopped at RESOLVE_SCAN_MAX */
} cands;

static void cands_free(cands *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->c[i].name);
        free(cs->c[i].alt);
        free(cs->c[i].detail);
    }
    free(cs->c);
    *cs = (cands){0};
}

/* A str value as a C string (malloc'd), NULL when absent, nil or not a
 * str. */
static char *str_of(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = map != NULL ? bb_map_get(map, key) : NULL;
    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return NULL;
    char *s = malloc((size_t)o->via.str.size + 1);
    if (s != NULL) {
        if (o->via.str.size > 0)
            memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

/* Adds the items of one page; exact names go to the front. */
static int cands_add(cands *cs, const kind_info *k, const msgpack_object *items,
                     const char *typed, bb_error *err)
{
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        const msgpack_object *id = it->type == MSGPACK_OBJECT_MAP ? bb_map_get(it, "id") : NULL;
        if (id == NULL || id->type != MSGPACK_OBJECT_POSITIVE_INTEGER || id->via.u64 > INT64_MAX)
            return bbi_err(err, BB_C_EPROTO, NULL, NULL, "%s: an item without an id", k->list);
        cand c = {.id = (int64_t)id->via.u64, .name = str_of(it, k->name_key),
                  .alt = k->alt_key != NULL ? str_of(it, k->alt_key) : NULL,
                  .detail = k->detail_key != NULL ? str_of(it, k->detail_key) : NULL};
        if (c.name == NULL) {
            free(c.alt);
            free(c.detail);
            return bbi_err(err, BB_C_EPROTO, NULL, NULL, "%s: an item without a %s", k->list,
                           k->name_key);
        }
        cand *grown = realloc(cs->c, (cs->n + 1) * sizeof *grown);
        if (grown == NULL) {
            free(c.name);
            free(c.alt);
            free(c.detail);
            return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        }
        cs->c = grown;
        bool exact = strcmp(c.name, typed) == 0 || (c.alt != NULL && strcmp(c.alt, typed) == 0);
        if (exact) {
            memmove(&cs->c[cs->exact + 1], &cs->c[cs->exact],
                    (cs->n - cs->exact) * sizeof cs->c[0]);
            cs->c[cs->exact++] = c;
        } else {
            cs->c[cs->n] = c;
        }
        cs->n++;
    }
    return BB_C_OK;
}

/* Reads the records of k whose filter (name_contains or credit_code)
 * holds value, page after page up to RESOLVE_SCAN_MAX rows. */
static int cands_read(cli_ctx *ctx, const kind_info *k, const char *filter, const char *value,
                      const char *typed, cands *cs, bb_error *err)
{
    int64_t after = 0;
    for (;;) {
        bbi_kvs kv = {.n = 0};
        bbi_kv_str(&kv, filter, value);
        if (after > 0)
            bbi_kv_int(&kv, "after", after);
        bbi_args a;
        bbi_args_init(&a);
        bb_reply *r = NULL;
        int rc = bbi_pack(&a, k->list, &kv, err);
        if (rc == BB_C_OK)
            rc = cli_call(ctx, k->list, &a, false, &r, err);
        bbi_args_wipe(&a);
        const msgpack_object *res = r != NULL ? bb_reply_result(r) : NULL;
        const msgpack_object *items = res != NULL ? bb_map_get(res, "items") : NULL;
        const msgpack_object *next = res != NULL ? bb_map_get(res, "next") : NULL;
        if (rc == BB_C_OK && (items == NULL || items->type != MSGPACK_OBJECT_ARRAY))
            rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "%s: the result has no items", k->list);
        if (rc == BB_C_OK)
            rc = cands_add(cs, k, items, typed, err);
        bool go_on = rc == BB_C_OK && next != NULL &&
                     next->type == MSGPACK_OBJECT_POSITIVE_INTEGER && next->via.u64 <= INT64_MAX;
        if (go_on)
            after = (int64_t)next->via.u64;
        bb_reply_free(r);
        if (rc != BB_C_OK)
            return rc;
        if (!go_on)
            return BB_C_OK;
        if (cs->n >= RESOLVE_SCAN_MAX) {
            cs->more = true;
            return BB_C_OK;
        }
    }
}

/* "赵李桥茶厂 (id 12, 赵李桥镇)" */
static void put_cand(FILE *f, const cand *c)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, c->id);
    if (c->detail != NULL)
        fprintf(f, _("%s (id %s, %s)"), c->name, id, c->detail);
    else
        fprintf(f, _("%s (id %s)"), c->name, id);
}

/* The numbered list of the first n candidates, and how many more. */
static void list_cands(const cands *cs, size_t n)
{
    size_t shown = n < RESOLVE_SHOW_MAX ? n : RESOLVE_SHOW_MAX;
    for (size_t i = 0; i < shown; i++) {
        fprintf(stderr, "  %zu) ", i + 1);
        put_cand(stderr, &cs->c[i]);
        fputc('\n', stderr);
    }
    if (n > shown) {
        char more[24];
        snprintf(more, sizeof more, "%zu", n - shown);
        fprintf(stderr, _("  ... and %s more\n"), more);
    }
}

/* Asks for one of the first n candidates on the terminal, with guided
 * entry's line editor (guided.h: the same keys, history and Ctrl-C as at
 * every other question): *pick is its index. A wrong answer asks again.
 * 0, CLI_RESOLVE_CANCELLED (Ctrl-D: said), or an exit code. */
static int ask_pick(size_t n, size_t *pick)
{
    char prompt[RESOLVE_PROMPT_BYTES], max[24];
    snprintf(max, sizeof max, "%zu", n);
    snprintf(prompt, sizeof prompt, _("Pick one (1-%s), or Ctrl-D to cancel: "), max);
    for (;;) {
        char *line = NULL;
        int rc = cli_guided_ask(prompt, &line);
        if (rc == CLI_EXIT_USAGE)
            return CLI_RESOLVE_CANCELLED;   /* Ctrl-D, said by cli_guided_ask */
        if (rc != 0)
            return rc;
        int64_t v;
        bool ok = bbi_input_int(line, &v, NULL, 0) == BBI_IN_OK && v >= 1 && (uint64_t)v <= n;
        free(line);
        if (ok) {
            *pick = (size_t)v - 1;
            return 0;
        }
        fprintf(stderr, _("Please type a number from 1 to %s.\n"), max);
    }
}

/* "baobao: enterprise: " before a message about a kind. */
static void say_kind(const kind_info *k)
{
    fprintf(stderr, "baobao: %s: ", _(k->label));
}

/* The single candidate of cs for typed, asked or refused. code: typed is
 * a credit code. */
static int choose(const kind_info *k, const cands *cs, const char *typed, bool code,
                  int64_t *id)
{
    size_t n = cs->exact > 0 ? cs->exact : cs->n;
    if (cs->exact == 0 && cs->more) {
        say_kind(k);
        fprintf(stderr, _("\"%s\" matches too many; type more of the name, or the id"), typed);
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    if (n == 0) {
        say_kind(k);
        if (code)
            fprintf(stderr, _("none you can see has the credit code %s"), typed);
        else
            fprintf(stderr, _("none you can see matches \"%s\""), typed);
        fputc('\n', stderr);
        return CLI_EXIT_USAGE;
    }
    if (n == 1) {
        *id = cs->c[0].id;
        return 0;
    }
    say_kind(k);
    fprintf(stderr, _("\"%s\" matches several:"), typed);
    fputc('\n', stderr);
    list_cands(cs, n);
    if (!cli_guided_available() || n > RESOLVE_SHOW_MAX) {
        fprintf(stderr, "baobao: %s\n", n > RESOLVE_SHOW_MAX
                                            ? _("type more of the name, or the id")
                                            : _("give the id (or more of the name) instead"));
        return CLI_EXIT_USAGE;
    }
    size_t pick;
    int rc = ask_pick(n, &pick);
    if (rc == 0)
        *id = cs->c[pick].id;
    return rc;
}

/* Whether clean is an id: 1 to 19 ASCII digits. */
static bool is_id(const char *clean)
{
    size_t n = strspn(clean, "0123456789");
    return n > 0 && n <= 19 && clean[n] == '\0';
}

int cli_resolve_one(cli_ctx *ctx, const char *kind, const char *typed, char **id_out)
{
    *id_out = NULL;
    const kind_info *k = kind_find(kind);
    size_t len = strlen(typed);
    char *clean = malloc(len + 1), *name = malloc(len + 1);
    if (clean == NULL || name == NULL) {
        free(clean);
        free(name);
        return cli_oom();
    }
    /* The machine form for ids and codes (full-width digits folded); the
     * name as typed between its end spaces, as the server compares it. */
    bool utf8 = bb_utf8_valid(typed, len);
    if (utf8) {
        bbi_input_clean(typed, len, true, clean);
        bbi_input_clean(typed, len, false, name);
    }
    int rc = 0;
    int64_t id = 0;
    bool code = false;
    if (!utf8 || k == NULL || is_id(clean) || name[0] == '\0') {
        /* Not a name this file can look up: the packer and the server say
         * what is wrong with it. */
        *id_out = strdup(utf8 && is_id(clean) ? clean : typed);
        rc = *id_out != NULL ? 0 : cli_oom();
        free(clean);
        free(name);
        return rc;
    }
    if (strcmp(k->kind, "enterprise") == 0) {
        for (char *c = clean; *c != '\0'; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        code = bb_creditcode_check(clean, strlen(clean)) == BB_CC_OK;
    }
    cands cs = {0};
    bb_error err;
    int brc = code ? cands_read(ctx, k, "credit_code", clean, clean, &cs, &err)
                   : cands_read(ctx, k, "name_contains", name, name, &cs, &err);
    if (brc != BB_C_OK)
        rc = cli_fail_in(ctx, k->list, &err);
    else
        rc = choose(k, &cs, code ? clean : name, code, &id);
    cands_free(&cs);
    free(clean);
    free(name);
    if (rc != 0)
        return rc;
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, id);
    *id_out = strdup(buf);
    return *id_out != NULL ? 0 : cli_oom();
}

int cli_resolve_args(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                     cli_mech_args *t)
{
    (void)m;
    cli_resolve_today(ctx);
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(ms, all);
    for (unsigned i = 0; i < n; i++) {
        const char *kind = cli_resolve_kind(ms, all[i]->name);
        const char *typed = kind != NULL ? cli_mech_get(t, all[i]->name) : NULL;
        if (typed == NULL || typed[0] == '\0')
            continue;   /* not given, or nil (--no-X) */
        char *id;
        int rc = cli_resolve_one(ctx, kind, typed, &id);
        if (rc == CLI_RESOLVE_CANCELLED)
            return CLI_EXIT_USAGE;   /* said; nothing sent */
        if (rc != 0)
            return rc;
        if (strcmp(id, typed) == 0) {
            free(id);   /* already an id: left as typed */
            continue;
        }
        if (cli_mech_own(t, all[i]->name, id) != 0)
            return cli_oom();
    }
    return 0;
}
