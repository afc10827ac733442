/*
 * enterprise.c: the typed helpers for `enterprise.create`, `.get`,
 * `.update` and `.list`.
 *
 * For: naming their arguments for the one packer (args.c, which checks
 * names against the method spec and text as UTF-8) and decoding Enterprise
 * maps strictly into bb_enterprise.
 * Not for: the rules of the arguments (required ones, the credit code,
 * known townships, clusters, statuses, lengths): the server checks them
 * and its invalid_argument names the field.
 */
#include "client_int.h"

#include <stdlib.h>
#include <string.h>

/* An Enterprise map's fields, in the order they are checked. */
static const bbi_field reply_fields[] = {
    BBI_FIELD_INT(bb_enterprise, id),
    BBI_FIELD_STR(bb_enterprise, name),
    BBI_FIELD_STR(bb_enterprise, credit_code),
    BBI_FIELD_STR(bb_enterprise, township),
    BBI_FIELD_NSTR(bb_enterprise, cluster),
    BBI_FIELD_STRS(bb_enterprise, labels),
    BBI_FIELD_STR(bb_enterprise, status),
    BBI_FIELD_INT(bb_enterprise, version),
    BBI_FIELD_STR(bb_enterprise, created_at),
    BBI_FIELD_STR(bb_enterprise, updated_at),
};

void bb_enterprise_free(bb_enterprise *e)
{
    if (e == NULL)
        return;
    bbi_free_fields(reply_fields, BBI_NFIELDS(reply_fields), e);
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

/* ---- arguments ---- */

/* The optional fields create and update share; labels sent when given
 * (or, on update, when set_labels asks to replace them, [] clears). */
static void fields_kv(bbi_kvs *k, const bb_enterprise_fields *f, bool labels)
{
    bbi_kv_str(k, "name", f->name);
    bbi_kv_str(k, "credit_code", f->credit_code);
    bbi_kv_str(k, "township", f->township);
    if (f->clear_cluster)
        bbi_kv_nil(k, "cluster");
    else
        bbi_kv_str(k, "cluster", f->cluster);
    if (labels)
        bbi_kv_strs(k, "labels", f->labels, f->nlabels);
    bbi_kv_str(k, "status", f->status);
}

/* ---- decoding ---- */

/* One enterprise; the page decoder calls it for each item. */
static int decode_one(const msgpack_object *o, void *vout, bb_error *err)
{
    bb_enterprise *out = vout;
    memset(out, 0, sizeof *out);
    int rc = bbi_get_fields(o, "enterprise", reply_fields, BBI_NFIELDS(reply_fields), out, err);
    if (rc != BB_C_OK)
        bb_enterprise_free(out);
    return rc;
}

static int decode_page(const msgpack_object *o, void *vout, bb_error *err)
{
    bb_enterprise_page *out = vout;
    const char *w = "enterprise.list result";
    void *items = NULL;
    bool has_next = false;
    int64_t next = 0;
    int rc = bbi_get_items(o, w, decode_one, sizeof *out->items, &items, &out->n, err);
    out->items = items;
    if (rc == BB_C_OK)
        rc = bbi_get_nint(o, w, "next", &has_next, &next, err);
    if (rc == BB_C_OK && has_next && next <= 0)
        rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s.next is not a positive id", w);
    out->next = has_next ? next : 0;
    if (rc != BB_C_OK)
        bb_enterprise_page_free(out);
    return rc;
}

/* ---- the helpers ---- */

int bb_enterprise_create(bb_client *c, const bb_enterprise_fields *f,
                         const char *idempotency_key, bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_kvs k = {.n = 0};
    fields_kv(&k, f, f->nlabels > 0 || f->set_labels);
    bbi_kv_str(&k, "idempotency_key", idempotency_key);
    return bbi_call_decode(c, "enterprise.create", &k, decode_one, out, err);
}

int bb_enterprise_get(bb_client *c, int64_t id, bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_kvs k = {.n = 0};
    bbi_kv_int(&k, "id", id);
    return bbi_call_decode(c, "enterprise.get", &k, decode_one, out, err);
}

int bb_enterprise_update(bb_client *c, int64_t id, int64_t version,
                         const bb_enterprise_fields *f, const char *idempotency_key,
                         bb_enterprise *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_kvs k = {.n = 0};
    bbi_kv_int(&k, "id", id);
    bbi_kv_int(&k, "version", version);
    fields_kv(&k, f, f->set_labels);
    bbi_kv_str(&k, "idempotency_key", idempotency_key);
    return bbi_call_decode(c, "enterprise.update", &k, decode_one, out, err);
}

int bb_enterprise_list(bb_client *c, const bb_enterprise_filter *f, bb_enterprise_page *out,
                       bb_error *err)
{
    memset(out, 0, sizeof *out);
    static const bb_enterprise_filter none;
    f = f != NULL ? f : &none;
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "township", f->township);
    bbi_kv_str(&k, "cluster", f->cluster);
    bbi_kv_str(&k, "status", f->status);
    bbi_kv_str(&k, "label", f->label);
    bbi_kv_str(&k, "name_contains", f->name_contains);
    if (f->after != 0)
        bbi_kv_int(&k, "after", f->after);
    if (f->limit != 0)
        bbi_kv_int(&k, "limit", (int64_t)f->limit);
    return bbi_call_decode(c, "enterprise.list", &k, decode_page, out, err);
}
