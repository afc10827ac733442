/*
 * status.c: the typed helpers for `status.submit` and `status.list`.
 *
 * For: packing their arguments (PROTOCOL.md section 6: report_date,
 * production_status, output_value, labour_shortage, ...), checking text
 * locally, and decoding StatusReport maps strictly into bb_status_report.
 * Not for: date or range rules (the server's invalid_argument says those).
 */
#include "client_int.h"

#include <stdlib.h>
#include <string.h>

void bb_status_report_free(bb_status_report *r)
{
    if (r == NULL)
        return;
    free(r->report_date);
    free(r->reporter);
    free(r->production_status);
    free(r->note);
    free(r->created_at);
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

int bbi_pack_status_submit(bbi_args *a, const bb_status_input *in,
                           const char *idempotency_key, bb_error *err)
{
    static const char *const req_keys[] = { "report_date", "reporter", "production_status" };
    const char *req_vals[] = { in->report_date, in->reporter, in->production_status };
    for (size_t i = 0; i < 3; i++) {
        if (req_vals[i] == NULL)
            return bbi_err(err, BB_C_EARG, "invalid_argument", req_keys[i], "%s: required",
                           req_keys[i]);
        int rc = bbi_check_text(req_keys[i], req_vals[i], err);
        if (rc != BB_C_OK)
            return rc;
    }
    int rc = bbi_check_text("note", in->note, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("idempotency_key", idempotency_key, err);
    if (rc != BB_C_OK)
        return rc;
    size_t n = 4 + (in->output_value != NULL) + (in->employees != NULL) +
               (in->labour_shortage != NULL) + (in->note != NULL) + (idempotency_key != NULL);
    msgpack_packer *pk = &a->pk;
    msgpack_pack_map(pk, n);
    bbi_pack_kv_int(pk, "enterprise_id", in->enterprise_id);
    for (size_t i = 0; i < 3; i++)
        bbi_pack_kv_str(pk, req_keys[i], req_vals[i]);
    if (in->output_value != NULL)
        bbi_pack_kv_int(pk, "output_value", *in->output_value);
    if (in->employees != NULL)
        bbi_pack_kv_int(pk, "employees", *in->employees);
    if (in->labour_shortage != NULL)
        bbi_pack_kv_int(pk, "labour_shortage", *in->labour_shortage);
    if (in->note != NULL)
        bbi_pack_kv_str(pk, "note", in->note);
    if (idempotency_key != NULL)
        bbi_pack_kv_str(pk, "idempotency_key", idempotency_key);
    return BB_C_OK;
}

int bbi_pack_status_list(bbi_args *a, const bb_status_filter *f, bb_error *err)
{
    int rc = bbi_check_text("from", f->from, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("to", f->to, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("after", f->after, err);
    if (rc != BB_C_OK)
        return rc;
    size_t n = 1 + (f->from != NULL) + (f->to != NULL) + (f->after != NULL) + (f->limit != 0);
    msgpack_packer *pk = &a->pk;
    msgpack_pack_map(pk, n);
    bbi_pack_kv_int(pk, "enterprise_id", f->enterprise_id);
    if (f->from != NULL)
        bbi_pack_kv_str(pk, "from", f->from);
    if (f->to != NULL)
        bbi_pack_kv_str(pk, "to", f->to);
    if (f->after != NULL)
        bbi_pack_kv_str(pk, "after", f->after);
    if (f->limit != 0)
        bbi_pack_kv_int(pk, "limit", (int64_t)f->limit);
    return BB_C_OK;
}

int bbi_decode_status_report(const msgpack_object *o, bb_status_report *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "status report";
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "id", &out->id, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "enterprise_id", &out->enterprise_id, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "report_date", &out->report_date, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "reporter", &out->reporter, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "production_status", &out->production_status, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nint(o, w, "output_value", &out->has_output_value, &out->output_value,
                          err);
    if (rc == BB_C_OK)
        rc = bbi_get_nint(o, w, "employees", &out->has_employees, &out->employees, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nint(o, w, "labour_shortage", &out->has_labour_shortage,
                          &out->labour_shortage, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nstr(o, w, "note", &out->note, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "created_at", &out->created_at, err);
    if (rc != BB_C_OK)
        bb_status_report_free(out);
    return rc;
}

int bbi_decode_status_page(const msgpack_object *o, bb_status_page *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "status.list result";
    const msgpack_object_array *items;
    char *next = NULL;
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_array(o, w, "items", &items, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nstr(o, w, "next", &next, err);
    if (rc != BB_C_OK)
        return rc;
    out->items = calloc((size_t)items->size + 1, sizeof *out->items);
    if (out->items == NULL) {
        free(next);
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    out->next = next;
    for (uint32_t i = 0; i < items->size; i++) {
        rc = bbi_decode_status_report(&items->ptr[i], &out->items[i], err);
        if (rc != BB_C_OK) {
            bb_status_page_free(out);
            return rc;
        }
        out->n = i + 1;
    }
    return BB_C_OK;
}

static int decode_one(const msgpack_object *o, void *out, bb_error *err)
{
    return bbi_decode_status_report(o, out, err);
}

static int decode_page(const msgpack_object *o, void *out, bb_error *err)
{
    return bbi_decode_status_page(o, out, err);
}

int bb_status_submit(bb_client *c, const bb_status_input *in, const char *idempotency_key,
                     bb_status_report *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_status_submit(&a, in, idempotency_key, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "status.submit", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_status_list(bb_client *c, const bb_status_filter *f, bb_status_page *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_status_list(&a, f, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "status.list", &a, decode_page, out, err);
    bbi_args_free(&a);
    return rc;
}
