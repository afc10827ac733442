/*
 * cli_audit.c: `baobao audit list|show|as-of|logins`: who changed what and
 * when (audit.list, audit.get, audit.as_of), and the login log for admins
 * (audit.logins).
 *
 * For: how the trail reads for a person: a list of changes (time, who,
 * what was done, to which record, the fields changed), one change as a
 * field block and a table of its fields before and after, and the logins
 * with their outcome in words. Options, help and paging come from the
 * method spec (cli_spec.c); times are shown by its printers in the
 * server's time zone; --json prints the server's result as it is, codes
 * and all.
 * Not for: writing the trail (the server writes it with every change) or
 * its rules (PROTOCOL.md, "The audit trail").
 */
#include "cli.h"

#include "i18n.h"
#include "json.h"

#include "bb_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field's name as a person reads it, from an argument's doc: the doc up
 * to its first clause mark, at most this many bytes. */
#define AUDIT_LABEL_MAX 96

static const char *const audit_intro =
    N_("The audit trail (supervisors and admins): every change with who made it,\n"
       "when, from where, and the record before and after. The login log is for\n"
       "admins.\n");

/* ---- words for codes ---- */

/* A code and the words for it (N_: translated when shown). */
typedef struct word {
    const char *code, *text;
} word;

/* The kinds of record the trail names (PROTOCOL.md, the Audit object). */
static const word entity_words[] = {
    {"enterprise", N_("enterprise")},
    {"status_report", N_("status report")},
    {"user", N_("user")},
    {"project", N_("project")},
    {"unit", N_("unit")},
    {"official", N_("official")},
    {"assignment", N_("assignment")},
    {"problem", N_("problem")},
    {"enterprise_trouble", N_("troubled-enterprise file")},
    {"township", N_("township")},
    {"ref_value", N_("reference value")},
    {"notice", N_("supervision notice")},
    {NULL, NULL},
};

/* The outcomes of a login (PROTOCOL.md section 3, "Failed logins"). */
static const word outcome_words[] = {
    {"ok", N_("logged in")},
    {"unknown_user", N_("no such login")},
    {"bad_password", N_("wrong password")},
    {"disabled", N_("account disabled")},
    {"locked", N_("locked after failed logins")},
    {"refused", N_("refused: too many checks at once")},
    {"unavailable", N_("not checked: server busy")},
    {NULL, NULL},
};

static bool str_eq(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

/* ---- packing the rows shown ---- */

static void pk_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* The value of o (nil when NULL). */
static void pk_obj(msgpack_packer *pk, const msgpack_object *o)
{
    if (o == NULL)
        msgpack_pack_nil(pk);
    else
        msgpack_pack_object(pk, *o);
}

/* A code as words (translated) when words has it; else the code as it
 * came. */
static void pk_words(msgpack_packer *pk, const msgpack_object *o, const word *words)
{
    for (; words->code != NULL; words++)
        if (str_eq(o, words->code)) {
            pk_str(pk, _(words->text));
            return;
        }
    pk_obj(pk, o);
}

/* What a change did: in Chinese the summary of its method in the spec
 * ("修改企业"), else (and for a method this client does not know) the
 * method's name. */
static void pk_action(msgpack_packer *pk, const msgpack_object *method)
{
    const bb_method_spec *ms =
        method != NULL && method->type == MSGPACK_OBJECT_STR
            ? bb_spec_find(method->via.str.ptr, method->via.str.size)
            : NULL;
    if (cli_lang_zh() && ms != NULL && ms->summary != NULL)
        pk_str(pk, ms->summary);
    else
        pk_obj(pk, method);
}

/* An array of str as one text "a, b, c" (so that a table cuts it like
 * any long text); anything else as it is. */
static void pk_joined(msgpack_packer *pk, const msgpack_object *o)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY) {
        pk_obj(pk, o);
        return;
    }
    size_t len = 0;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (o->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
            len += o->via.array.ptr[i].via.str.size + 2;
    msgpack_pack_str(pk, len >= 2 ? len - 2 : 0);
    bool first = true;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_STR)
            continue;
        if (!first)
            msgpack_pack_str_body(pk, ", ", 2);
        msgpack_pack_str_body(pk, e->via.str.ptr, e->via.str.size);
        first = false;
    }
}

/* How a column shows a key of the server's item. */
typedef enum col_how {
    SHOW_AS_IS = 0,
    SHOW_ACTION,     /* the method as words (pk_action) */
    SHOW_WORDS,      /* a code as words (pk_words) */
    SHOW_JOINED,     /* an array of str as one text (pk_joined) */
} col_how;

/* A column: its header (N_), the key of the item it shows, and how. */
typedef struct shown_col {
    const char *head;
    const char *key;
    col_how how;
    const word *words;   /* SHOW_WORDS */
} shown_col;

/* One row: a map of cols' keys, each value of item shown as its column
 * says. */
static void pk_row(msgpack_packer *pk, const msgpack_object *item, const shown_col *cols,
                   size_t n)
{
    msgpack_pack_map(pk, n);
    for (size_t c = 0; c < n; c++) {
        const msgpack_object *v = bb_map_get(item, cols[c].key);
        pk_str(pk, cols[c].key);
        switch (cols[c].how) {
        case SHOW_ACTION: pk_action(pk, v); break;
        case SHOW_WORDS: pk_words(pk, v, cols[c].words); break;
        case SHOW_JOINED: pk_joined(pk, v); break;
        case SHOW_AS_IS: pk_obj(pk, v); break;
        }
    }
}

/* Unpacks sb's one value and prints it: as a table of cols (headers
 * translated; fmts may be NULL), or with cols NULL as a field block. */
static int print_packed(msgpack_sbuffer *sb, const shown_col *cols, size_t n,
                        const cli_fmt *fmts)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    cli_col heads[16];
    if (n > sizeof heads / sizeof heads[0])
        n = sizeof heads / sizeof heads[0];
    for (size_t c = 0; cols != NULL && c < n; c++)
        heads[c] = (cli_col){_(cols[c].head), cols[c].key};
    bool ok = msgpack_unpack_next(&up, sb->data, sb->size, NULL) == MSGPACK_UNPACK_SUCCESS &&
              (cols != NULL ? cli_print_table(&up.data, heads, n, fmts)
                            : cli_print_fields(&up.data, fmts));
    msgpack_unpacked_destroy(&up);
    return ok ? CLI_EXIT_OK : cli_oom();
}

/* The items of a page as a table of cols. */
static int print_rows(const msgpack_object *items, const shown_col *cols, size_t n,
                      const cli_fmt *fmts)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, items->via.array.size);
    for (uint32_t i = 0; i < items->via.array.size; i++)
        pk_row(&pk, &items->via.array.ptr[i], cols, n);
    int rc = print_packed(&sb, cols, n, fmts);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* ---- audit list ---- */

/* The fields changed by a create are every field: cut in the list. */
static const cli_fmt list_fmts[] = {{"changed", CLI_F_CLIP}, {NULL, CLI_F_TEXT}};

static const shown_col change_cols[] = {
    {N_("ID"), "id", SHOW_AS_IS, NULL},
    {N_("TIME"), "at", SHOW_AS_IS, NULL},
    {N_("BY"), "user", SHOW_AS_IS, NULL},
    {N_("ACTION"), "method", SHOW_ACTION, NULL},
    {N_("RECORD"), "entity", SHOW_WORDS, entity_words},
    {N_("RECORD ID"), "entity_id", SHOW_AS_IS, NULL},
    {N_("FIELDS CHANGED"), "changed", SHOW_JOINED, NULL},
};

static int print_changes(cli_ctx *ctx, const msgpack_object *items)
{
    (void)ctx;
    return print_rows(items, change_cols, sizeof change_cols / sizeof change_cols[0],
                      list_fmts);
}

/* ---- audit show ---- */

/* The fields every record has, which no argument names. */
static const struct {
    const char *key, *text;
} common_fields[] = {
    {"id", N_("record number")},
    {"version", N_("version number")},
    {"created_at", N_("created at")},
    {"updated_at", N_("last changed at")},
};

/* The label of record field key in Chinese: the doc of the argument of
 * that name of the method that wrote the change (or of ENTITY.create),
 * up to its first clause mark ("产业集群；nil 清空" -> "产业集群"), or the
 * words for a field every record has, then the key: "产业集群 (cluster)".
 * Else (English, or neither) the key. */
static void field_label(const msgpack_object *method, const char *entity, const char *key,
                        size_t klen, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)klen, key);
    if (!cli_lang_zh())
        return;
    const bb_method_spec *ms =
        method != NULL && method->type == MSGPACK_OBJECT_STR
            ? bb_spec_find(method->via.str.ptr, method->via.str.size)
            : NULL;
    const bb_arg *a = ms != NULL ? bb_spec_arg(ms, key, klen) : NULL;
    if (a == NULL && entity != NULL) {
        char create[64];
        snprintf(create, sizeof create, "%s.create", entity);
        ms = bb_spec_find(create, strlen(create));
        a = ms != NULL ? bb_spec_arg(ms, key, klen) : NULL;
    }
    if (a == NULL || a->doc == NULL || a->doc[0] == '\0') {
        for (size_t i = 0; i < sizeof common_fields / sizeof common_fields[0]; i++)
            if (strlen(common_fields[i].key) == klen &&
                memcmp(common_fields[i].key, key, klen) == 0)
                snprintf(out, cap, "%s (%.*s)", _(common_fields[i].text), (int)klen, key);
        return;
    }
    static const char *const marks[] = {"；", "，", "（", "：", ";", ",", "(", ":"};
    size_t n = strlen(a->doc);
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        const char *p = strstr(a->doc, marks[m]);
        if (p != NULL && (size_t)(p - a->doc) < n)
            n = (size_t)(p - a->doc);
    }
    if (n == 0 || n >= AUDIT_LABEL_MAX)
        return;
    snprintf(out, cap, "%.*s (%.*s)", (int)n, a->doc, (int)klen, key);
}

/* Whether o is shown as it is in a table cell: a scalar or an array of
 * scalars. */
static bool flat(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_MAP)
        return false;
    for (uint32_t i = 0; o->type == MSGPACK_OBJECT_ARRAY && i < o->via.array.size; i++)
        if (o->via.array.ptr[i].type == MSGPACK_OBJECT_MAP ||
            o->via.array.ptr[i].type == MSGPACK_OBJECT_ARRAY)
            return false;
    return true;
}

/* map[key] as a cell: as it is when flat (the table's printer shows
 * times in the server's zone, arrays joined), as compact JSON when nested
 * (a project's milestones), nil when the map or the key is missing. */
static bool pk_value(msgpack_packer *pk, const msgpack_object *map, const char *key, size_t klen)
{
    const msgpack_object *v = NULL;
    for (uint32_t i = 0; map != NULL && map->type == MSGPACK_OBJECT_MAP &&
                         i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            v = &map->via.map.ptr[i].val;
    }
    if (v == NULL || flat(v)) {
        pk_obj(pk, v);
        return true;
    }
    json_out j;
    json_out_init(&j);
    json_value(&j, v, -1);
    bool ok = !j.failed;
    if (ok) {
        msgpack_pack_str(pk, j.len);
        msgpack_pack_str_body(pk, j.data, j.len);
    }
    json_out_free(&j);
    return ok;
}

static const shown_col diff_cols[] = {
    {N_("FIELD"), "field", SHOW_AS_IS, NULL},
    {N_("BEFORE"), "before", SHOW_AS_IS, NULL},
    {N_("AFTER"), "after", SHOW_AS_IS, NULL},
};

/* One change: who, when, what (a field block), then each field it changed
 * as a row of FIELD, BEFORE, AFTER. A create has nothing before, and a
 * password change shows `password` without a value (it is never
 * recorded). */
/* The field block of a change: who, when, what, which record. */
static const shown_col head_fields[] = {
    {NULL, "id", SHOW_AS_IS, NULL},       {NULL, "at", SHOW_AS_IS, NULL},
    {NULL, "user", SHOW_AS_IS, NULL},     {NULL, "user_id", SHOW_AS_IS, NULL},
    {NULL, "addr", SHOW_AS_IS, NULL},     {NULL, "method", SHOW_ACTION, NULL},
    {NULL, "entity", SHOW_WORDS, entity_words}, {NULL, "entity_id", SHOW_AS_IS, NULL},
};

static int print_change(const msgpack_object *res)
{
    if (res == NULL || res->type != MSGPACK_OBJECT_MAP)
        return CLI_EXIT_PROTOCOL;
    const msgpack_object *method = bb_map_get(res, "method");
    const msgpack_object *entity = bb_map_get(res, "entity");
    const msgpack_object *changed = bb_map_get(res, "changed");
    const msgpack_object *before = bb_map_get(res, "before"), *after = bb_map_get(res, "after");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pk_row(&pk, res, head_fields, sizeof head_fields / sizeof head_fields[0]);
    int rc = print_packed(&sb, NULL, 0, NULL);
    msgpack_sbuffer_destroy(&sb);
    if (rc != CLI_EXIT_OK)
        return rc;

    char ent[64] = "";
    if (entity != NULL && entity->type == MSGPACK_OBJECT_STR && entity->via.str.size < sizeof ent)
        snprintf(ent, sizeof ent, "%.*s", (int)entity->via.str.size, entity->via.str.ptr);
    uint32_t n = changed != NULL && changed->type == MSGPACK_OBJECT_ARRAY
                     ? changed->via.array.size
                     : 0;
    if (n == 0) {
        printf("\n%s\n", _("No field changed."));
        return CLI_EXIT_OK;
    }
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    bool ok = true;
    for (uint32_t i = 0; ok && i < n; i++) {
        const msgpack_object *k = &changed->via.array.ptr[i];
        const char *key = k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?";
        size_t klen = k->type == MSGPACK_OBJECT_STR ? k->via.str.size : 1;
        char label[AUDIT_LABEL_MAX + 80];
        field_label(method, ent[0] ? ent : NULL, key, klen, label, sizeof label);
        msgpack_pack_map(&pk, 3);
        pk_str(&pk, "field");
        pk_str(&pk, label);
        pk_str(&pk, "before");
        ok = pk_value(&pk, before, key, klen);
        pk_str(&pk, "after");
        ok = ok && pk_value(&pk, after, key, klen);
    }
    fputs("\n", stdout);
    rc = ok ? print_packed(&sb, diff_cols, sizeof diff_cols / sizeof diff_cols[0], NULL)
            : cli_oom();
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* ---- audit logins ---- */

static const shown_col login_cols[] = {
    {N_("ID"), "id", SHOW_AS_IS, NULL},
    {N_("TIME"), "at", SHOW_AS_IS, NULL},
    {N_("LOGIN"), "login", SHOW_AS_IS, NULL},
    {N_("USER ID"), "user_id", SHOW_AS_IS, NULL},
    {N_("ADDRESS"), "addr", SHOW_AS_IS, NULL},
    {N_("OUTCOME"), "outcome", SHOW_WORDS, outcome_words},
};

static int print_logins(cli_ctx *ctx, const msgpack_object *items)
{
    (void)ctx;
    return print_rows(items, login_cols, sizeof login_cols / sizeof login_cols[0], NULL);
}

const cli_mech cli_audit_cmds[] = {
    {.cmd = "audit list", .method = "audit.list", .fmts = list_fmts,
     .print_items = print_changes,
     .about = N_("Newest first. 'baobao audit show ID' shows one change with its fields "
                 "before and after.\n")},
    {.cmd = "audit show", .method = "audit.get", .pos = "id", .print = print_change},
    {.cmd = "audit as-of", .method = "audit.as_of", .pos = "entity", .pos2 = "id",
     .about = N_("The record as it was at a date (the end of that day) or an instant.\n")},
    {.cmd = "audit logins", .method = "audit.logins", .print_items = print_logins,
     .about = N_("Admins only. Newest first.\n")},
    {.cmd = NULL},
};

int cli_audit(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "audit", audit_intro, cli_audit_cmds, argc, argv);
}
