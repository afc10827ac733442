/*
 * status.c: the typed helpers for `status.submit` and `status.list`.
 *
 * For: naming their arguments for the one packer (args.c: names checked
 * against the method spec, text as UTF-8) and decoding StatusReport maps
 * strictly into bb_status_report.
 * Not for: required arguments, date or range rules (the server's
 * invalid_argument says those).
 */
#include "client_int.h"

#include <stdlib.h>
#include <string.h>

/* A StatusReport map's fields, in the order they are checked. */
static const bbi_field reply_fields[] = {
    BBI_FIELD_INT(bb_status_report, id),
    BBI_FIELD_INT(bb_status_report, enterprise_id),
    BBI_FIELD_STR(bb_status_report, report_date),
    BBI_FIELD_STR(bb_status_report, reporter),
    BBI_FIELD_STR(bb_status_report, production_status),
    BBI_FIELD_NINT(bb_status_report, output_value),
    BBI_FIELD_NINT(bb_status_report, employees),
    BBI_FIELD_NINT(bb_status_report, labour_shortage),
    BBI_FIELD_NSTR(bb_status_report, note),
    BBI_FIELD_STR(bb_status_report, created_at),
};

void bb_status_report_free(bb_status_report *r)
{
    if (r == NULL)
        return;
    bbi_free_fields(reply_fields, BBI_NFIELDS(reply_fields), r);
    memset(r, 0, sizeof *r);
}

void bb_status_page_free(bb_status_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        bb_status_report_free(&p->items[i]);
    free(p->items);
    free(p->next);
    memset(p, 0, sizeof *p);
}

/* One status report; the page decoder calls it for each item. */
static int decode_one(const msgpack_object *o, void *vout, bb_error *err)
{
    bb_status_report *out = vout;
    memset(out, 0, sizeof *out);
    int rc = bbi_get_fields(o, "status report", reply_fields, BBI_NFIELDS(reply_fields), out, err);
    if (rc != BB_C_OK)
        bb_status_report_free(out);
    return rc;
}

static int decode_page(const msgpack_object *o, void *vout, bb_error *err)
{
    bb_status_page *out = vout;
    const char *w = "status.list result";
    void *items = NULL;
    int rc = bbi_get_items(o, w, decode_one, sizeof *out->items, &items, &out->n, err);
    out->items = items;
    if (rc == BB_C_OK)
        rc = bbi_get_nstr(o, w, "next", &out->next, err);
    if (rc != BB_C_OK)
        bb_status_page_free(out);
    return rc;
}

/* An optional int: sent when given. */
static void opt_int(bbi_kvs *k, const char *name, const int64_t *v)
{
    if (v != NULL)
        bbi_kv_int(k, name, *v);
}

int bb_status_submit(bb_client *c, const bb_status_input *in, const char *idempotency_key,
                     bb_status_report *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_kvs k = {.n = 0};
    bbi_kv_int(&k, "enterprise_id", in->enterprise_id);
    bbi_kv_str(&k, "report_date", in->report_date);
    bbi_kv_str(&k, "reporter", in->reporter);
    bbi_kv_str(&k, "production_status", in->production_status);
    opt_int(&k, "output_value", in->output_value);
    opt_int(&k, "employees", in->employees);
    opt_int(&k, "labour_shortage", in->labour_shortage);
    bbi_kv_str(&k, "note", in->note);
    bbi_kv_str(&k, "idempotency_key", idempotency_key);
    return bbi_call_decode(c, "status.submit", &k, decode_one, out, err);
}

int bb_status_list(bb_client *c, const bb_status_filter *f, bb_status_page *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_kvs k = {.n = 0};
    bbi_kv_int(&k, "enterprise_id", f->enterprise_id);
    bbi_kv_str(&k, "from", f->from);
    bbi_kv_str(&k, "to", f->to);
    bbi_kv_str(&k, "after", f->after);
    if (f->limit != 0)
        bbi_kv_int(&k, "limit", (int64_t)f->limit);
    return bbi_call_decode(c, "status.list", &k, decode_page, out, err);
}
