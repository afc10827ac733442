/*
 * args.c: the one packer of libbaobao. Every request's argument map is
 * built here, from the method spec (proto/bb_spec.h): the typed helpers
 * (enterprise.c, status.c) and the CLI's login hand it typed values, the
 * CLI and bb_call_args hand it text as a user typed it.
 *
 * For: refusing an argument name the method does not have (with the list
 * of those it has), converting text by the argument's declared type,
 * checking text is UTF-8, and packing the map. The rules the server
 * checks (ranges, lengths, allowed values, reference data, required
 * arguments) are left to the server: one place says them. A method the
 * spec does not know is refused (unknown_method).
 * Not for: sending (client.c; bbi_call_kvs only chains the two) or
 * reading results (obj.c).
 *
 * Text conventions (also in client/README.md), forgiving by the
 * argument's type (input.h says every form):
 *   every text   the spaces at its ends dropped (U+3000 too; tabs and line
 *                breaks are not spaces), except a password, sent as typed;
 *   machine forms (int, date, bool, codes, names from a list: see
 *                machine_form)  full-width digits, letters, spaces folded;
 *   int   856, -3, 1,234,567, 856万, 856 万元, 1.2亿 (exact, whole);
 *   bool  true|false, yes|no, 1|0, 是|否;
 *   date  2026-12-05, 2026/12/5, 2026年12月5日, 12月5日, 今天, 昨天, ...:
 *         sent as YYYY-MM-DD; "today" is the server's (input.h);
 *   str   as typed between its end spaces (credit codes in capitals);
 *   array of str  split on commas, each element trimmed ("" is []); or,
 *                element by element (bbi_kv_list), each trimmed, never cut;
 *   text NULL = nil, and "" (also after trimming) = nil for an argument
 *   that takes nil (a str argument that takes no nil gets "" as it is,
 *   for the server to judge).
 */
#include "client_int.h"

#include "input.h"

#include "bb_spec.h"
#include "bb_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bbi_kvs_free(bbi_kvs *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->v[i].owned);
        k->v[i].owned = NULL;
    }
    k->n = 0;
}

static bbi_kv *slot(bbi_kvs *k, const char *name, bbi_kind kind)
{
    /* Past the capacity the packer refuses (overflow), so nothing is
     * silently dropped. */
    if (k->n >= BBI_KVS_MAX) {
        k->overflow = true;
        return NULL;
    }
    bbi_kv *v = &k->v[k->n++];
    *v = (bbi_kv){.name = name, .kind = kind};
    return v;
}

void bbi_kv_str(bbi_kvs *k, const char *name, const char *s)
{
    bbi_kv *v = s != NULL ? slot(k, name, BBI_STR) : NULL;
    if (v != NULL)
        v->s = s;
}

void bbi_kv_int(bbi_kvs *k, const char *name, int64_t i)
{
    bbi_kv *v = slot(k, name, BBI_INT);
    if (v != NULL)
        v->i = i;
}

void bbi_kv_bool(bbi_kvs *k, const char *name, bool b)
{
    bbi_kv *v = slot(k, name, BBI_BOOL);
    if (v != NULL)
        v->i = b;
}

void bbi_kv_nil(bbi_kvs *k, const char *name)
{
    slot(k, name, BBI_NIL);
}

void bbi_kv_strs(bbi_kvs *k, const char *name, const char *const *strs, size_t n)
{
    bbi_kv *v = slot(k, name, BBI_STRS);
    if (v != NULL) {
        v->strs = strs;
        v->nstrs = n;
    }
}

/* "unknown argument X of M (valid: a, b, c)". */
static int unknown_arg(const bb_method_spec *m, const char *name, bb_error *err)
{
    char list[400];
    size_t used = 0;
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(m, all);
    list[0] = '\0';
    for (unsigned i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", all[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return bbi_err(err, BB_C_EARG, "invalid_argument", name,
                   "%s has no argument \"%s\" (valid: %s)", m->name, name,
                   n > 0 ? list : "none");
}

static bool takes_nil(const bb_arg *a)
{
    return (a->flags & (BB_A_NIL | BB_A_NILABSENT)) != 0;
}

/* str arguments that are machine forms although the spec lists no values
 * for them: codes, keys, cursors, bounds, and the names of reference
 * lists used as filters. */
static const char *const machine_strs[] = {
    "credit_code", "idempotency_key", "after", "at", "from", "to", "township", "cluster", NULL,
};

/*
 * Whether a's text is a machine form, whose full-width digits, letters and
 * spaces are folded to ASCII (input.h): every int, date and bool, and a
 * str with allowed values, a reference kind, a byte limit (logins, phone
 * numbers, file names) or a name above. Free text (names, reporters,
 * notes, reasons, labels) is kept as typed between its end spaces: a
 * Chinese text is written with full-width punctuation (，（）：) and may
 * mean its full-width letters, and a name must stay the name on the
 * register so it can be found again exactly.
 */
static bool machine_form(const bb_arg *a)
{
    if (a->type != BB_T_STR && a->type != BB_T_STRS && a->type != BB_T_TEXT)
        return true;
    if (a->values != NULL || a->ref != NULL || (a->flags & BB_A_BYTES))
        return true;
    for (size_t i = 0; machine_strs[i] != NULL; i++)
        if (strcmp(machine_strs[i], a->name) == 0)
            return true;
    return false;
}

/* Where a date relative to today learns it: fn(ud), or, when fn is NULL,
 * the process's provider (bbi_input_today). */
typedef struct today_src {
    bbi_today_fn fn;
    void *ud;
} today_src;

/* An array's text: cut at the commas (after folding, so a full-width
 * comma cuts a machine form's list too), each element trimmed; "" is []. */
static int kv_strs(bbi_kvs *k, const bb_arg *a, const char *text, bool machine, bb_error *err)
{
    /* One block: the element pointers (at most one per byte, plus one),
     * the whole text cleaned, then the elements cleaned. */
    size_t len = strlen(text), nmax = len + 2;
    char *copy = malloc(nmax * sizeof(char *) + 2 * (len + 1));
    if (copy == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    const char **items = (const char **)(void *)copy;
    char *whole = copy + nmax * sizeof(char *), *buf = whole + len + 1;
    size_t wlen = bbi_input_clean(text, len, machine, whole);
    size_t j = 0, used = 0;
    for (char *p = whole; wlen > 0 && p != NULL; j++) {
        char *comma = strchr(p, ',');
        size_t plen = comma != NULL ? (size_t)(comma - p) : strlen(p);
        items[j] = buf + used;
        used += bbi_input_clean(p, plen, false, buf + used) + 1;
        p = comma != NULL ? comma + 1 : NULL;
    }
    size_t before = k->n;
    bbi_kv_strs(k, a->name, items, j);
    if (k->n == before) {
        free(copy);
        return BB_C_OK;   /* overflow: bbi_pack refuses */
    }
    k->v[k->n - 1].owned = copy;
    return BB_C_OK;
}

/* A date's text: the forms of input.h; the ones relative to today ask
 * ts (or the process's provider) for the server's today, once. */
static int kv_date(bbi_kvs *k, const bb_arg *a, const char *text, const today_src *ts,
                   bb_error *err)
{
    char why[BBI_INPUT_WHY], today[BBI_DATE_BUF];
    char *out = malloc(BBI_DATE_BUF);
    if (out == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    int rc = bbi_input_date(text, NULL, out, why, sizeof why);
    if (rc == BBI_IN_NEED_TODAY) {
        int trc = ts != NULL && ts->fn != NULL ? ts->fn(ts->ud, today, err)
                                               : bbi_input_today(a->name, today, err);
        if (trc != BB_C_OK) {
            free(out);
            return trc;
        }
        rc = bbi_input_date(text, today, out, why, sizeof why);
    }
    if (rc != BBI_IN_OK) {
        free(out);
        return bbi_err(err, BB_C_EARG, "invalid_argument", a->name, "%s: %s", a->name, why);
    }
    size_t before = k->n;
    bbi_kv_str(k, a->name, out);
    if (k->n == before)
        free(out);
    else
        k->v[k->n - 1].owned = out;
    return BB_C_OK;
}

static int kv_text(bbi_kvs *k, const char *method, const char *name, const char *text,
                   const today_src *ts, bb_error *err)
{
    const bb_method_spec *m = bb_spec_find(method, strlen(method));
    if (m == NULL)
        return bbi_err(err, BB_C_EARG, "unknown_method", "method",
                       "%s: not a method of this client's protocol spec", method);
    const bb_arg *a = bb_spec_arg(m, name, strlen(name));
    if (a == NULL)
        return unknown_arg(m, name, err);
    /* A password is sent exactly as typed: its spaces are the user's. */
    if (text != NULL && (a->flags & BB_A_SECRET) && text[0] != '\0') {
        bbi_kv_str(k, a->name, text);
        return BB_C_OK;
    }
    size_t len = text != NULL ? strlen(text) : 0;
    if (text != NULL && !bb_utf8_valid(text, len))
        return bbi_err(err, BB_C_EARG, "invalid_utf8", a->name, "%s: not valid UTF-8", a->name);
    bool machine = machine_form(a);
    if (a->type == BB_T_STRS && text != NULL)
        return kv_strs(k, a, text, machine, err);
    /* The text between its end spaces, folded when a machine form. */
    char *clean = text != NULL ? malloc(len + 1) : NULL;
    if (text != NULL && clean == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    if (clean != NULL)
        bbi_input_clean(text, len, machine, clean);
    if (clean == NULL || (clean[0] == '\0' && takes_nil(a))) {
        free(clean);
        if (!takes_nil(a))
            return bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                           "%s: cannot be cleared (nil)", a->name);
        bbi_kv_nil(k, a->name);
        return BB_C_OK;
    }
    char why[BBI_INPUT_WHY];
    int rc = BB_C_OK;
    switch (a->type) {
    case BB_T_INT: {
        int64_t v;
        if (bbi_input_int(clean, &v, why, sizeof why) != BBI_IN_OK)
            rc = bbi_err(err, BB_C_EARG, "invalid_argument", a->name, "%s: %s", a->name, why);
        else
            bbi_kv_int(k, a->name, v);
        break;
    }
    case BB_T_BOOL: {
        bool b;
        if (bbi_input_bool(clean, &b) != BBI_IN_OK)
            rc = bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                         "%s: \"%s\" is not yes or no (true, false, 是, 否)", a->name, clean);
        else
            bbi_kv_bool(k, a->name, b);
        break;
    }
    case BB_T_DATE:
        rc = kv_date(k, a, clean, ts, err);
        break;
    case BB_T_ANY:
        rc = bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                     "%s: a structured value; it cannot be given as text", a->name);
        break;
    default: {   /* STR, TEXT: the server checks length, form, values */
        /* A credit code is written in capitals; lower case typed means the
         * same code. */
        for (char *c = clean; strcmp(a->name, "credit_code") == 0 && *c != '\0'; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        size_t before = k->n;
        bbi_kv_str(k, a->name, clean);
        if (k->n > before) {
            k->v[k->n - 1].owned = clean;
            clean = NULL;
        }
        break;
    }
    }
    free(clean);
    return rc;
}

int bbi_kv_text(bbi_kvs *k, const char *method, const char *name, const char *text,
                bb_error *err)
{
    return kv_text(k, method, name, text, NULL, err);
}

int bbi_kv_list(bbi_kvs *k, const char *method, const char *name, const char *const *vals,
                size_t n, bb_error *err)
{
    const bb_method_spec *m = bb_spec_find(method, strlen(method));
    if (m == NULL)
        return bbi_err(err, BB_C_EARG, "unknown_method", "method",
                       "%s: not a method of this client's protocol spec", method);
    const bb_arg *a = bb_spec_arg(m, name, strlen(name));
    if (a == NULL)
        return unknown_arg(m, name, err);
    /* Cleaning reads UTF-8: an element that is not is named as bbi_pack
     * would name it. */
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(vals[i]);
        if (!bb_utf8_valid(vals[i], len)) {
            char field[64];
            snprintf(field, sizeof field, "%s[%zu]", a->name, i);
            return bbi_err(err, BB_C_EARG, "invalid_utf8", field, "%s: not valid UTF-8", field);
        }
        bytes += len + 1;
    }
    /* One block: the element pointers, then the elements cleaned as a
     * str of the argument would be (kv_text). */
    char *block = malloc(n * sizeof(char *) + bytes + 1);
    if (block == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    const char **items = (const char **)(void *)block;
    char *buf = block + n * sizeof(char *);
    bool machine = machine_form(a);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        items[i] = buf + used;
        used += bbi_input_clean(vals[i], strlen(vals[i]), machine, buf + used) + 1;
    }
    size_t before = k->n;
    bbi_kv_strs(k, a->name, items, n);
    if (k->n == before)
        free(block);   /* overflow: bbi_pack refuses */
    else
        k->v[k->n - 1].owned = block;
    return BB_C_OK;
}

/* An upper bound of the bytes v packs to (msgpack headers are at most 5
 * bytes, an int at most 9). */
static size_t packed_bytes(const bbi_kv *v)
{
    size_t n = strlen(v->name) + 5 + 9;
    if (v->kind == BBI_STR)
        n += strlen(v->s) + 5;
    for (size_t j = 0; v->kind == BBI_STRS && j < v->nstrs; j++)
        n += strlen(v->strs[j]) + 5;
    return n;
}

int bbi_pack(bbi_args *a, const char *method, const bbi_kvs *k, bb_error *err)
{
    if (k->overflow)
        return bbi_err(err, BB_C_EARG, "invalid_argument", NULL,
                       "%s: more than %d arguments", method, BBI_KVS_MAX);
    const bb_method_spec *m = bb_spec_find(method, strlen(method));
    if (m == NULL)
        return bbi_err(err, BB_C_EARG, "unknown_method", "method",
                       "%s: not a method of this client's protocol spec", method);
    size_t bytes = 5;
    for (size_t i = 0; i < k->n; i++) {
        const bbi_kv *v = &k->v[i];
        if (bb_spec_arg(m, v->name, strlen(v->name)) == NULL)
            return unknown_arg(m, v->name, err);
        for (size_t j = 0; j < i; j++)
            if (strcmp(k->v[j].name, v->name) == 0)
                return bbi_err(err, BB_C_EARG, "invalid_argument", v->name,
                               "%s: given twice", v->name);
        if (v->kind == BBI_STR && bbi_check_text(v->name, v->s, err) != BB_C_OK)
            return BB_C_EARG;
        for (size_t j = 0; v->kind == BBI_STRS && j < v->nstrs; j++) {
            if (v->strs[j] == NULL || !bb_utf8_valid(v->strs[j], strlen(v->strs[j]))) {
                char field[64];
                snprintf(field, sizeof field, "%s[%zu]", v->name, j);
                return bbi_err(err, BB_C_EARG, v->strs[j] == NULL ? "invalid_argument"
                                                                   : "invalid_utf8",
                               field, "%s: not valid UTF-8", field);
            }
        }
        bytes += packed_bytes(v);
    }
    /* Room for the whole map first: a buffer that grew while packing
     * would leave a copy of a password behind in freed memory, out of
     * bbi_args_wipe's reach. */
    if (bbi_args_reserve(a, bytes, err) != BB_C_OK)
        return BB_C_ENOMEM;
    msgpack_pack_map(&a->pk, (uint32_t)k->n);
    for (size_t i = 0; i < k->n; i++) {
        const bbi_kv *v = &k->v[i];
        bb_pack_cstr(&a->pk, v->name);
        switch (v->kind) {
        case BBI_STR:
            bb_pack_cstr(&a->pk, v->s);
            break;
        case BBI_INT:
            msgpack_pack_int64(&a->pk, v->i);
            break;
        case BBI_BOOL:
            if (v->i)
                msgpack_pack_true(&a->pk);
            else
                msgpack_pack_false(&a->pk);
            break;
        case BBI_NIL:
            msgpack_pack_nil(&a->pk);
            break;
        case BBI_STRS:
            msgpack_pack_array(&a->pk, v->nstrs);
            for (size_t j = 0; j < v->nstrs; j++)
                bb_pack_cstr(&a->pk, v->strs[j]);
            break;
        }
    }
    return BB_C_OK;
}

int bbi_call_kvs(bb_client *c, const char *method, const bbi_kvs *k, bb_reply **out,
                 bb_error *err)
{
    *out = NULL;
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack(&a, method, k, err);
    if (rc == BB_C_OK)
        rc = bb_call(c, method, a.sb.data, a.sb.size, out, err);
    bbi_args_wipe(&a);
    return rc;
}

/* bb_call_args's today: server.info on the connection it was given (a
 * library user's process has no provider of its own). */
static int today_of_client(void *ud, char out[BBI_DATE_BUF], bb_error *err)
{
    bb_server_info info;
    int rc = bb_server_info_get(ud, &info, err);
    if (rc == BB_C_OK && (strlen(info.today) != 10 || bb_date_check(info.today, 10) != BB_DATE_OK))
        rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "server.info: today is not a date");
    if (rc == BB_C_OK)
        memcpy(out, info.today, BBI_DATE_BUF);
    bb_server_info_free(&info);
    return rc;
}

int bb_call_args(bb_client *c, const char *method, const bb_arg_text *args, size_t n,
                 bb_reply **out, bb_error *err)
{
    *out = NULL;
    bbi_kvs k = {.n = 0};
    int rc = BB_C_OK;
    today_src ts = {today_of_client, c};
    for (size_t i = 0; rc == BB_C_OK && i < n; i++)
        rc = kv_text(&k, method, args[i].name, args[i].text, &ts, err);
    if (rc == BB_C_OK)
        rc = bbi_call_kvs(c, method, &k, out, err);
    bbi_kvs_free(&k);
    return rc;
}
