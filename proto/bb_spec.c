/*
 * bb_spec.c: lookups over the method spec (bb_spec.h) and its JSON form.
 *
 * Not for: the tables themselves (proto/spec/), or checking a request's
 * arguments against them (server/engine/args.c).
 */
#include "bb_spec.h"

#include <inttypes.h>
#include <string.h>

#include "bb_errors.h"
#include "bb_limits.h"

static const struct {
    bb_role role;
    const char *name;
} role_names[] = {
    {BB_ROLE_STAFF, "township_staff"},
    {BB_ROLE_SUPERVISOR, "supervisor"},
    {BB_ROLE_ADMIN, "admin"},
};

const char *bb_role_name(bb_role r)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].role == r)
            return role_names[i].name;
    return "none";
}

bb_role bb_role_from_name(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strlen(role_names[i].name) == len && memcmp(role_names[i].name, s, len) == 0)
            return role_names[i].role;
    return BB_ROLE_NONE;
}

const bb_arg bb_arg_idempotency_key = {
    "idempotency_key", BB_T_STR, BB_A_BYTES, 1, BB_MAX_IDEMPOTENCY_KEY_BYTES,
    0, NULL, NULL, "重试安全键：同一键的重试只存一次（第4节）"};
const bb_arg bb_arg_after = {
    "after", BB_T_INT, 0, 0, INT64_MAX, 0, NULL, NULL, "上一页的 next；默认 0"};
const bb_arg bb_arg_limit = {
    "limit", BB_T_INT, 0, 1, BB_MAX_PAGE_LIMIT, 0, NULL, NULL,
    "每页条数，1 至 page_limit_max，默认 page_limit_default"};

const bb_method_spec *bb_spec_find(const char *name, size_t len)
{
    for (size_t t = 0; bb_spec_tables[t] != NULL; t++)
        for (const bb_method_spec *m = bb_spec_tables[t]; m->name != NULL; m++)
            if (strlen(m->name) == len && memcmp(m->name, name, len) == 0)
                return m;
    return NULL;
}

unsigned bb_spec_args(const bb_method_spec *m, const bb_arg **out)
{
    unsigned n = 0;
    for (const bb_arg *a = m->args; a != NULL && a->name != NULL && n < BB_SPEC_MAX_ARGS; a++)
        out[n++] = a;
    if ((m->flags & BB_M_WRITE) && n < BB_SPEC_MAX_ARGS)
        out[n++] = &bb_arg_idempotency_key;
    if ((m->flags & BB_M_PAGED) && n < BB_SPEC_MAX_ARGS)
        out[n++] = &bb_arg_after;
    if ((m->flags & (BB_M_PAGED | BB_M_LIMIT)) && n < BB_SPEC_MAX_ARGS)
        out[n++] = &bb_arg_limit;
    return n;
}

const bb_arg *bb_spec_arg(const bb_method_spec *m, const char *name, size_t len)
{
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(m, all);
    for (unsigned i = 0; i < n; i++)
        if (strlen(all[i]->name) == len && memcmp(all[i]->name, name, len) == 0)
            return all[i];
    return NULL;
}

const char *bb_type_name(bb_type t)
{
    switch (t) {
    case BB_T_INT: return "int";
    case BB_T_STR: return "str";
    case BB_T_TEXT: return "text";
    case BB_T_DATE: return "date";
    case BB_T_BOOL: return "bool";
    case BB_T_STRS: return "array of str";
    case BB_T_ANY: return "any";
    }
    return "?";
}

static bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bb_date_form bb_date_check(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return BB_DATE_SHAPE;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return BB_DATE_SHAPE;
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
                            (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned dim = m >= 1 && m <= 12 ? mdays[m - 1] + (m == 2 && is_leap(y) ? 1u : 0u) : 0u;
    return y == 0 || d < 1 || d > dim ? BB_DATE_CALENDAR : BB_DATE_OK;
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_arg(FILE *f, const bb_arg *a)
{
    fputs("{\"name\":", f);
    json_str(f, a->name);
    fputs(",\"type\":", f);
    json_str(f, bb_type_name(a->type));
    fprintf(f, ",\"required\":%s,\"nil\":%s", (a->flags & BB_A_REQ) ? "true" : "false",
            (a->flags & BB_A_NIL) ? "true" : "false");
    if (a->flags & BB_A_NILABSENT)
        fputs(",\"nil_is_absent\":true", f);
    if (a->type == BB_T_INT)
        fprintf(f, ",\"min\":%" PRId64 ",\"max\":%" PRId64, a->min, a->max);
    if (a->type == BB_T_STR || a->type == BB_T_TEXT) {
        int64_t lo = a->max == 0 ? 1 : a->min, hi = a->max == 0 ? BB_SPEC_DEFAULT_CHARS : a->max;
        fprintf(f, ",\"%s\":[%" PRId64 ",%" PRId64 "]",
                (a->flags & BB_A_BYTES) ? "bytes" : "chars", lo, hi);
    }
    if (a->type == BB_T_STRS)
        fprintf(f, ",\"max_items\":%" PRId64 ",\"item_chars\":%u", a->max, a->item_max);
    if (a->type == BB_T_DATE && a->min != 0)
        fprintf(f, ",\"min_date\":\"%04d-%02d-%02d\"", (int)(a->min / 10000),
                (int)(a->min / 100 % 100), (int)(a->min % 100));
    if (a->flags & BB_A_TODAY)
        fputs(",\"default\":\"today\"", f);
    if (a->flags & BB_A_SECRET)
        fputs(",\"secret\":true", f);
    if (a->values != NULL) {
        fputs(",\"values\":[", f);
        for (size_t i = 0; a->values[i] != NULL; i++) {
            if (i > 0)
                fputc(',', f);
            json_str(f, a->values[i]);
        }
        fputc(']', f);
    }
    if (a->ref != NULL) {
        fputs(",\"ref\":", f);
        json_str(f, a->ref);
    }
    if (a->doc != NULL) {
        fputs(",\"doc\":", f);
        json_str(f, a->doc);
    }
    fputc('}', f);
}

int bb_spec_write_json(FILE *f)
{
    fputs("{\"version\":1,\"methods\":[", f);
    bool first = true;
    for (size_t t = 0; bb_spec_tables[t] != NULL; t++) {
        for (const bb_method_spec *m = bb_spec_tables[t]; m->name != NULL; m++) {
            fputs(first ? "\n" : ",\n", f);
            first = false;
            fputs("{\"name\":", f);
            json_str(f, m->name);
            fputs(",\"roles\":[", f);
            bool rfirst = true;
            if (m->roles & BB_ROLES_ANON) {
                fputs("\"anonymous\"", f);
                rfirst = false;
            }
            for (unsigned b = BB_ROLE_STAFF; b <= BB_ROLE_ADMIN; b <<= 1)
                if (m->roles & b) {
                    fputs(rfirst ? "" : ",", f);
                    json_str(f, bb_role_name((bb_role)b));
                    rfirst = false;
                }
            fprintf(f, "],\"write\":%s,\"paged\":%s,\"scoped\":%s,\"replica\":%s,\"writes\":%s",
                    (m->flags & BB_M_WRITE) ? "true" : "false",
                    (m->flags & BB_M_PAGED) ? "true" : "false",
                    (m->flags & BB_M_SCOPED) ? "true" : "false",
                    (m->flags & BB_M_REPLICA) ? "true" : "false",
                    (m->flags & BB_M_WRITES_ANY) ? "true" : "false");
            fputs(",\"args\":[", f);
            const bb_arg *all[BB_SPEC_MAX_ARGS];
            unsigned n = bb_spec_args(m, all);
            for (unsigned i = 0; i < n; i++) {
                if (i > 0)
                    fputc(',', f);
                json_arg(f, all[i]);
            }
            fputs("],\"result\":", f);
            json_str(f, m->result != NULL ? m->result : "");
            fputs(",\"summary\":", f);
            json_str(f, m->summary != NULL ? m->summary : "");
            fputc('}', f);
        }
    }
    fputs("\n],\"errors\":[", f);
    for (unsigned e = 1; e < BB_E__COUNT; e++) {
        fputs(e > 1 ? "," : "", f);
        json_str(f, bb_err_code((bb_err)e));
    }
    fputs("]}\n", f);
    return ferror(f) ? -1 : 0;
}
