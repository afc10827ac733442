/*
 * enterprise.c: the typed helpers for `enterprise.create`, `.get`,
 * `.update` and `.list`.
 *
 * For: packing their arguments with the key names of PROTOCOL.md section 6,
 * checking locally what can be checked without the server (text is UTF-8,
 * the credit code passes GB 32100-2015, required fields are there), and
 * decoding Enterprise maps strictly into bb_enterprise.
 * Not for: rules only the server knows (known townships, clusters,
 * statuses, lengths): those come back as the server's invalid_argument.
 */
#include "client_int.h"

#include "bb_creditcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bb_enterprise_free(bb_enterprise *e)
{
    if (e == NULL)
        return;
    free(e->name);
    free(e->credit_code);
    free(e->township);
    free(e->cluster);
    for (size_t i = 0; i < e->nlabels; i++)
        free(e->labels[i]);
    free(e->labels);
    free(e->status);
    free(e->created_at);
    free(e->updated_at);
    memset(e, 0, sizeof *e);
}

void bb_enterprise_page_free(bb_enterprise_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        bb_enterprise_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

/* ---- local checks ---- */

static int required(const char *key, const char *v, bb_error *err)
{
    if (v == NULL)
        return bbi_err(err, BB_C_EARG, "invalid_argument", key, "%s: required", key);
    return BB_C_OK;
}

static int check_credit_code(const char *cc, bb_error *err)
{
    if (cc == NULL)
        return BB_C_OK;
    bb_cc_result r = bb_creditcode_check(cc, strlen(cc));
    if (r != BB_CC_OK)
        return bbi_err(err, BB_C_EARG, "invalid_argument", "credit_code", "credit_code: %s",
                       bb_creditcode_reason(r));
    return BB_C_OK;
}

/* Every text field of f (and the key) is valid UTF-8, the credit code
 * passes. Runs before anything is packed. */
static int check_fields(const bb_enterprise_fields *f, const char *key, bb_error *err)
{
    int rc = bbi_check_text("name", f->name, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("credit_code", f->credit_code, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("township", f->township, err);
    if (rc == BB_C_OK && !f->clear_cluster)
        rc = bbi_check_text("cluster", f->cluster, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("status", f->status, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("idempotency_key", key, err);
    for (size_t i = 0; rc == BB_C_OK && i < f->nlabels; i++) {
        char field[32];
        snprintf(field, sizeof field, "labels[%zu]", i);
        if (f->labels[i] == NULL)
            rc = bbi_err(err, BB_C_EARG, "invalid_argument", field, "%s: NULL label", field);
        else
            rc = bbi_check_text(field, f->labels[i], err);
    }
    if (rc == BB_C_OK)
        rc = check_credit_code(f->credit_code, err);
    return rc;
}

/* Packs the optional fields shared by create and update; n counts them. */
static size_t count_optional(const bb_enterprise_fields *f, bool labels)
{
    size_t n = 0;
    n += f->name != NULL;
    n += f->credit_code != NULL;
    n += f->township != NULL;
    n += f->clear_cluster || f->cluster != NULL;
    n += labels;
    n += f->status != NULL;
    return n;
}

static void pack_optional(msgpack_packer *pk, const bb_enterprise_fields *f, bool labels)
{
    if (f->name != NULL)
        bbi_pack_kv_str(pk, "name", f->name);
    if (f->credit_code != NULL)
        bbi_pack_kv_str(pk, "credit_code", f->credit_code);
    if (f->township != NULL)
        bbi_pack_kv_str(pk, "township", f->township);
    if (f->clear_cluster)
        bbi_pack_kv_nil(pk, "cluster");
    else if (f->cluster != NULL)
        bbi_pack_kv_str(pk, "cluster", f->cluster);
    if (labels)
        bbi_pack_kv_strs(pk, "labels", f->labels, f->nlabels);
    if (f->status != NULL)
        bbi_pack_kv_str(pk, "status", f->status);
}

int bbi_pack_enterprise_create(bbi_args *a, const bb_enterprise_fields *f,
                               const char *idempotency_key, bb_error *err)
{
    int rc = required("name", f->name, err);
    if (rc == BB_C_OK)
        rc = required("credit_code", f->credit_code, err);
    if (rc == BB_C_OK)
        rc = required("township", f->township, err);
    if (rc == BB_C_OK)
        rc = check_fields(f, idempotency_key, err);
    if (rc != BB_C_OK)
        return rc;
    bool labels = f->nlabels > 0 || f->set_labels;
    size_t n = count_optional(f, labels) + (idempotency_key != NULL);
    msgpack_pack_map(&a->pk, n);
    pack_optional(&a->pk, f, labels);
    if (idempotency_key != NULL)
        bbi_pack_kv_str(&a->pk, "idempotency_key", idempotency_key);
    return BB_C_OK;
}

int bbi_pack_enterprise_get(bbi_args *a, int64_t id, bb_error *err)
{
    (void)err;
    msgpack_pack_map(&a->pk, 1);
    bbi_pack_kv_int(&a->pk, "id", id);
    return BB_C_OK;
}

int bbi_pack_enterprise_update(bbi_args *a, int64_t id, int64_t version,
                               const bb_enterprise_fields *f, const char *idempotency_key,
                               bb_error *err)
{
    int rc = check_fields(f, idempotency_key, err);
    if (rc != BB_C_OK)
        return rc;
    bool labels = f->set_labels;
    size_t n = 2 + count_optional(f, labels) + (idempotency_key != NULL);
    msgpack_pack_map(&a->pk, n);
    bbi_pack_kv_int(&a->pk, "id", id);
    bbi_pack_kv_int(&a->pk, "version", version);
    pack_optional(&a->pk, f, labels);
    if (idempotency_key != NULL)
        bbi_pack_kv_str(&a->pk, "idempotency_key", idempotency_key);
    return BB_C_OK;
}

int bbi_pack_enterprise_list(bbi_args *a, const bb_enterprise_filter *f, bb_error *err)
{
    static const char *const keys[] = { "township", "cluster", "status", "label",
                                        "name_contains" };
    const char *vals[] = { f->township, f->cluster, f->status, f->label, f->name_contains };
    size_t n = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int rc = bbi_check_text(keys[i], vals[i], err);
        if (rc != BB_C_OK)
            return rc;
        n += vals[i] != NULL;
    }
    n += f->after != 0;
    n += f->limit != 0;
    msgpack_pack_map(&a->pk, n);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (vals[i] != NULL)
            bbi_pack_kv_str(&a->pk, keys[i], vals[i]);
    if (f->after != 0)
        bbi_pack_kv_int(&a->pk, "after", f->after);
    if (f->limit != 0)
        bbi_pack_kv_int(&a->pk, "limit", (int64_t)f->limit);
    return BB_C_OK;
}

/* ---- decoding ---- */

int bbi_decode_enterprise(const msgpack_object *o, bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "enterprise";
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "id", &out->id, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "name", &out->name, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "credit_code", &out->credit_code, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "township", &out->township, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nstr(o, w, "cluster", &out->cluster, err);
    if (rc == BB_C_OK)
        rc = bbi_get_strs(o, w, "labels", &out->labels, &out->nlabels, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "status", &out->status, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "version", &out->version, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "created_at", &out->created_at, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "updated_at", &out->updated_at, err);
    if (rc != BB_C_OK)
        bb_enterprise_free(out);
    return rc;
}

int bbi_decode_enterprise_page(const msgpack_object *o, bb_enterprise_page *out,
                               bb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "enterprise.list result";
    const msgpack_object_array *items;
    bool has_next;
    int64_t next;
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_array(o, w, "items", &items, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nint(o, w, "next", &has_next, &next, err);
    if (rc == BB_C_OK && has_next && next <= 0)
        rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s.next is not a positive id", w);
    if (rc != BB_C_OK)
        return rc;
    out->items = calloc((size_t)items->size + 1, sizeof *out->items);
    if (out->items == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    for (uint32_t i = 0; i < items->size; i++) {
        rc = bbi_decode_enterprise(&items->ptr[i], &out->items[i], err);
        if (rc != BB_C_OK) {
            bb_enterprise_page_free(out);
            return rc;
        }
        out->n = i + 1;
    }
    out->next = has_next ? next : 0;
    return BB_C_OK;
}

/* ---- the helpers ---- */

static int decode_one(const msgpack_object *o, void *out, bb_error *err)
{
    return bbi_decode_enterprise(o, out, err);
}

static int decode_page(const msgpack_object *o, void *out, bb_error *err)
{
    return bbi_decode_enterprise_page(o, out, err);
}

int bb_enterprise_create(bb_client *c, const bb_enterprise_fields *f,
                         const char *idempotency_key, bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_enterprise_create(&a, f, idempotency_key, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "enterprise.create", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_enterprise_get(bb_client *c, int64_t id, bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_enterprise_get(&a, id, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "enterprise.get", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_enterprise_update(bb_client *c, int64_t id, int64_t version,
                         const bb_enterprise_fields *f, const char *idempotency_key,
                         bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_enterprise_update(&a, id, version, f, idempotency_key, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "enterprise.update", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_enterprise_list(bb_client *c, const bb_enterprise_filter *f, bb_enterprise_page *out,
                       bb_error *err)
{
    memset(out, 0, sizeof *out);
    static const bb_enterprise_filter none;
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_enterprise_list(&a, f != NULL ? f : &none, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "enterprise.list", &a, decode_page, out, err);
    bbi_args_free(&a);
    return rc;
}
