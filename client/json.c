/*
 * json.c: msgpack_object -> JSON text. See json.h.
 *
 * Escaping: `"` and `\` get a backslash; U+0000-U+001F as \b \f \n \r \t
 * or \u00XX; DEL and the C1 controls as \u00XX too (they are invisible and
 * confuse terminals); U+2028 and U+2029 as \u2028/\u2029 (JavaScript
 * string literals cannot hold them raw). Everything else that is valid
 * UTF-8 is copied as it is, so Chinese text stays readable.
 */
#include "json.h"

#include "bb_utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_out_init(json_out *j)
{
    memset(j, 0, sizeof *j);
}

void json_out_free(json_out *j)
{
    free(j->data);
    memset(j, 0, sizeof *j);
}

void json_raw(json_out *j, const char *s, size_t len)
{
    if (j->failed)
        return;
    if (j->len + len + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + len + 1)
            cap *= 2;
        char *p = realloc(j->data, cap);
        if (p == NULL) {
            j->failed = true;
            return;
        }
        j->data = p;
        j->cap = cap;
    }
    memcpy(j->data + j->len, s, len);
    j->len += len;
    j->data[j->len] = '\0';
}

static void raw_z(json_out *j, const char *s)
{
    json_raw(j, s, strlen(s));
}

/* The characters JSON escapes with a backslash and a letter (or
 * themselves); NULL for the others. */
static const char *short_escape(unsigned cp)
{
    switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: return NULL;
    }
}

void json_string(json_out *j, const char *s, size_t len)
{
    json_raw(j, "\"", 1);
    size_t i = 0, run = 0;   /* run: start of bytes to copy as they are */
    while (i < len) {
        /* proto's strict decoder: at an invalid byte it steps one byte and
         * says U+FFFD (a real U+FFFD is three bytes). */
        size_t n = i;
        unsigned cp = bb_utf8_next(s, len, &n);
        n -= i;
        const char *esc = cp == 0xFFFDu && n == 1 ? "\\ufffd" : short_escape(cp);
        char ubuf[8];
        if (esc == NULL &&
            (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", cp);
            esc = ubuf;
        }
        if (esc != NULL) {
            json_raw(j, s + run, i - run);
            raw_z(j, esc);
            run = i + n;
        }
        i += n;
    }
    json_raw(j, s + run, len - run);
    json_raw(j, "\"", 1);
}

static void newline(json_out *j, int indent, int level)
{
    if (indent < 0)
        return;
    json_raw(j, "\n", 1);
    for (int i = 0; i < indent * level; i++)
        json_raw(j, " ", 1);
}

static void value(json_out *j, const msgpack_object *o, int indent, int level)
{
    char num[64];
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        raw_z(j, "null");
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        raw_z(j, o->via.boolean ? "true" : "false");
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf(num, sizeof num, "%" PRIu64, o->via.u64);
        raw_z(j, num);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf(num, sizeof num, "%" PRId64, o->via.i64);
        raw_z(j, num);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64)) {
            raw_z(j, "null");   /* JSON has no NaN or infinity */
        } else {
            snprintf(num, sizeof num, o->type == MSGPACK_OBJECT_FLOAT32 ? "%.9g" : "%.17g",
                     o->via.f64);
            raw_z(j, num);
            /* Keep it a float for readers that care: "1" -> "1.0". */
            if (strpbrk(num, ".eE") == NULL)
                raw_z(j, ".0");
        }
        break;
    case MSGPACK_OBJECT_STR:
        json_string(j, o->via.str.ptr, o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        json_string(j, o->via.bin.ptr, o->via.bin.size);
        break;
    case MSGPACK_OBJECT_ARRAY:
        if (o->via.array.size == 0) {
            raw_z(j, "[]");
            break;
        }
        raw_z(j, "[");
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i > 0)
                raw_z(j, ",");
            newline(j, indent, level + 1);
            value(j, &o->via.array.ptr[i], indent, level + 1);
        }
        newline(j, indent, level);
        raw_z(j, "]");
        break;
    case MSGPACK_OBJECT_MAP:
        if (o->via.map.size == 0) {
            raw_z(j, "{}");
            break;
        }
        raw_z(j, "{");
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (i > 0)
                raw_z(j, ",");
            newline(j, indent, level + 1);
            if (kv->key.type == MSGPACK_OBJECT_STR) {
                json_string(j, kv->key.via.str.ptr, kv->key.via.str.size);
            } else {
                json_out k;
                json_out_init(&k);
                value(&k, &kv->key, -1, 0);
                if (k.failed)
                    j->failed = true;
                else
                    json_string(j, k.data, k.len);
                json_out_free(&k);
            }
            raw_z(j, indent < 0 ? ":" : ": ");
            value(j, &kv->val, indent, level + 1);
        }
        newline(j, indent, level);
        raw_z(j, "}");
        break;
    default:
        raw_z(j, "null");   /* ext: not part of the protocol */
        break;
    }
}

void json_value(json_out *j, const msgpack_object *o, int indent)
{
    value(j, o, indent, 0);
}
