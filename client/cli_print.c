/*
 * cli_print.c: what `baobao` prints on success.
 *
 * For: --json (the raw result as JSON), aligned "field: value" blocks for
 * one object, and tables for lists, laid out by display width so Chinese
 * text lines up; money as yuan with thousands separators (and 万元 in
 * blocks); users (accounts). Not for: errors (cli_call.c prints those to stderr).
 */
#include "cli.h"

#include "json.h"
#include "money.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_COLS 30   /* a note's width in a table; `show` has it whole */

bool cli_put(char *s)
{
    if (s == NULL) {
        fputs("baobao: out_of_memory: could not lay out the output\n", stderr);
        return false;
    }
    fputs(s, stdout);
    free(s);
    return true;
}

int cli_print_json(const msgpack_object *result)
{
    json_out j;
    json_out_init(&j);
    json_value(&j, result, 2);
    json_raw(&j, "\n", 1);
    if (j.failed) {
        json_out_free(&j);
        fputs("baobao: out_of_memory: could not write JSON\n", stderr);
        return CLI_EXIT_PROTOCOL;
    }
    fwrite(j.data, 1, j.len, stdout);
    json_out_free(&j);
    return CLI_EXIT_OK;
}

int cli_replies_add(cli_replies *rs, bb_reply *r, bb_error *err)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 8;
        bb_reply **nr = realloc(rs->r, cap * sizeof *nr);
        if (nr == NULL)
            return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        rs->r = nr;
        rs->cap = cap;
    }
    rs->r[rs->n++] = r;
    return BB_C_OK;
}

void cli_replies_free(cli_replies *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        bb_reply_free(rs->r[i]);
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

int cli_items_append(void **items, size_t *nitems, const void *src, size_t n, size_t size,
                     bb_error *err)
{
    char *ni = realloc(*items, (*nitems + n + 1) * size);
    if (ni == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    if (n > 0)
        memcpy(ni + *nitems * size, src, n * size);
    *items = ni;
    *nitems += n;
    return 0;
}

int cli_print_all_json(const cli_replies *rs)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++)
        n += bbi_map_get(bb_reply_result(rs->r[i]), "items")->via.array.size;
    msgpack_object *items = calloc(n + 1, sizeof *items);
    if (items == NULL) {
        fputs("baobao: out_of_memory: could not write JSON\n", stderr);
        return CLI_EXIT_PROTOCOL;
    }
    size_t k = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const msgpack_object *a = bbi_map_get(bb_reply_result(rs->r[i]), "items");
        for (uint32_t j = 0; j < a->via.array.size; j++)
            items[k++] = a->via.array.ptr[j];
    }
    msgpack_object_kv kv[2];
    kv[0].key.type = MSGPACK_OBJECT_STR;
    kv[0].key.via.str.ptr = "items";
    kv[0].key.via.str.size = 5;
    kv[0].val.type = MSGPACK_OBJECT_ARRAY;
    kv[0].val.via.array.ptr = items;
    kv[0].val.via.array.size = (uint32_t)n;
    kv[1].key.type = MSGPACK_OBJECT_STR;
    kv[1].key.via.str.ptr = "next";
    kv[1].key.via.str.size = 4;
    kv[1].val.type = MSGPACK_OBJECT_NIL;
    msgpack_object root;
    root.type = MSGPACK_OBJECT_MAP;
    root.via.map.ptr = kv;
    root.via.map.size = 2;
    int rc = cli_print_json(&root);
    free(items);
    return rc;
}

/* Numbers as text for one print call: a small ring of buffers. */
typedef struct numbuf {
    char b[16][128];
    int next;
} numbuf;

static const char *num(numbuf *nb, int64_t v)
{
    char *s = nb->b[nb->next++ % 16];
    snprintf(s, 128, "%" PRId64, v);
    return s;
}

static const char *opt_num(numbuf *nb, bool has, int64_t v)
{
    return has ? num(nb, v) : "-";
}

static const char *money_long(numbuf *nb, bool has, int64_t v)
{
    if (!has)
        return "-";
    char yuan[MONEY_BUF], wan[MONEY_BUF];
    money_yuan(v, yuan, sizeof yuan);
    money_wan(v, wan, sizeof wan);
    char *s = nb->b[nb->next++ % 16];
    if (v >= 10000 || v <= -10000)
        snprintf(s, 128, "%s 元 (%s 万元)", yuan, wan);
    else
        snprintf(s, 128, "%s 元", yuan);
    return s;
}

static const char *money_short(numbuf *nb, bool has, int64_t v)
{
    if (!has)
        return "-";
    char *s = nb->b[nb->next++ % 16];
    money_yuan(v, s, 128);
    return s;
}

/* Labels joined with ", " (owned), "-" when none; NULL on no memory. */
static char *join_labels(char *const *labels, size_t n)
{
    size_t len = 2;
    for (size_t i = 0; i < n; i++)
        len += strlen(labels[i]) + 2;
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    strcpy(s, n == 0 ? "-" : "");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(s, ", ");
        strcat(s, labels[i]);
    }
    return s;
}

void cli_print_server_info(const bb_server_info *i)
{
    numbuf nb = { .next = 0 };
    const char *names[] = { "name", "version", "protocol", "database_available", "time_zone",
                            "today", "max_message_bytes", "max_nesting_depth",
                            "max_in_flight", "page_limit_default", "page_limit_max" };
    const char *values[] = { i->name, i->version, num(&nb, i->protocol),
                             i->database_available ? "yes" : "no", i->time_zone, i->today,
                             num(&nb, i->max_message_bytes), num(&nb, i->max_nesting_depth),
                             num(&nb, i->max_in_flight), num(&nb, i->page_limit_default),
                             num(&nb, i->page_limit_max) };
    cli_put(fields_render(names, values, sizeof names / sizeof names[0]));
}

void cli_print_enterprise(const bb_enterprise *e)
{
    numbuf nb = { .next = 0 };
    char *labels = join_labels(e->labels, e->nlabels);
    const char *names[] = { "id", "name", "credit_code", "township", "cluster", "labels",
                            "status", "version", "created_at", "updated_at" };
    const char *values[] = { num(&nb, e->id), e->name, e->credit_code, e->township,
                             e->cluster != NULL ? e->cluster : "-", labels != NULL ? labels : "?",
                             e->status, num(&nb, e->version), e->created_at, e->updated_at };
    cli_put(fields_render(names, values, sizeof names / sizeof names[0]));
    free(labels);
}

void cli_print_enterprises(const bb_enterprise *items, size_t n)
{
    enum { NCOLS = 8 };
    table *t = table_new(NCOLS);
    if (t == NULL) {
        cli_put(NULL);
        return;
    }
    table_set_align(t, 0, TABLE_RIGHT);
    table_set_align(t, 7, TABLE_RIGHT);
    const char *header[NCOLS] = { "ID", "NAME", "CREDIT_CODE", "TOWNSHIP", "CLUSTER",
                                  "STATUS", "LABELS", "VERSION" };
    bool ok = table_add_row(t, header) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        const bb_enterprise *e = &items[i];
        numbuf nb = { .next = 0 };
        char *labels = join_labels(e->labels, e->nlabels);
        const char *row[NCOLS] = { num(&nb, e->id), e->name, e->credit_code, e->township,
                                   e->cluster != NULL ? e->cluster : "-",
                                   e->status, labels, num(&nb, e->version) };
        ok = labels != NULL && table_add_row(t, row) == 0;
        free(labels);
    }
    cli_put(ok ? table_render(t, NULL) : NULL);
    table_free(t);
}

void cli_print_status_report(const bb_status_report *r)
{
    numbuf nb = { .next = 0 };
    const char *names[] = { "id", "enterprise_id", "report_date", "reporter",
                            "production_status", "output_value", "employees",
                            "labour_shortage", "note", "created_at" };
    const char *values[] = { num(&nb, r->id), num(&nb, r->enterprise_id), r->report_date,
                             r->reporter, r->production_status,
                             money_long(&nb, r->has_output_value, r->output_value),
                             opt_num(&nb, r->has_employees, r->employees),
                             opt_num(&nb, r->has_labour_shortage, r->labour_shortage),
                             r->note != NULL ? r->note : "-", r->created_at };
    cli_put(fields_render(names, values, sizeof names / sizeof names[0]));
}

void cli_print_status_reports(const bb_status_report *items, size_t n)
{
    enum { NCOLS = 8 };
    table *t = table_new(NCOLS);
    if (t == NULL) {
        cli_put(NULL);
        return;
    }
    table_set_align(t, 0, TABLE_RIGHT);
    table_set_align(t, 4, TABLE_RIGHT);
    table_set_align(t, 5, TABLE_RIGHT);
    table_set_align(t, 6, TABLE_RIGHT);
    const char *header[NCOLS] = { "ID", "DATE", "REPORTER", "PRODUCTION", "OUTPUT_VALUE(元)",
                                  "EMPLOYEES", "SHORTAGE", "NOTE" };
    bool ok = table_add_row(t, header) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        const bb_status_report *r = &items[i];
        numbuf nb = { .next = 0 };
        char *note = text_cell(r->note != NULL ? r->note : "-", NOTE_COLS);
        const char *row[NCOLS] = { num(&nb, r->id), r->report_date, r->reporter,
                                   r->production_status,
                                   money_short(&nb, r->has_output_value, r->output_value),
                                   opt_num(&nb, r->has_employees, r->employees),
                                   opt_num(&nb, r->has_labour_shortage, r->labour_shortage),
                                   note };
        ok = note != NULL && table_add_row(t, row) == 0;
        free(note);
    }
    cli_put(ok ? table_render(t, NULL) : NULL);
    table_free(t);
}

/* Townships joined with ", " (owned), "-" when none; NULL on no memory. */
static char *join_townships(const bb_user *u)
{
    return join_labels(u->townships, u->ntownships);
}

void cli_print_user(const bb_user *u)
{
    numbuf nb = { .next = 0 };
    char *towns = join_townships(u);
    const char *names[] = { "id", "login", "display_name", "role", "unit", "townships",
                            "disabled", "version", "created_at", "updated_at" };
    const char *values[] = { num(&nb, u->id), u->login, u->display_name, u->role,
                             u->unit != NULL ? u->unit : "-", towns != NULL ? towns : "?",
                             u->disabled ? "yes" : "no", num(&nb, u->version), u->created_at,
                             u->updated_at };
    cli_put(fields_render(names, values, sizeof names / sizeof names[0]));
    free(towns);
}

void cli_print_users(const bb_user *items, size_t n)
{
    enum { NCOLS = 8 };
    table *t = table_new(NCOLS);
    if (t == NULL) {
        cli_put(NULL);
        return;
    }
    table_set_align(t, 0, TABLE_RIGHT);
    table_set_align(t, 7, TABLE_RIGHT);
    const char *header[NCOLS] = { "ID", "LOGIN", "DISPLAY_NAME", "ROLE", "UNIT", "TOWNSHIPS",
                                  "DISABLED", "VERSION" };
    bool ok = table_add_row(t, header) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        const bb_user *u = &items[i];
        numbuf nb = { .next = 0 };
        char *towns = join_townships(u);
        const char *row[NCOLS] = { num(&nb, u->id), u->login, u->display_name, u->role,
                                   u->unit != NULL ? u->unit : "-", towns,
                                   u->disabled ? "yes" : "no", num(&nb, u->version) };
        ok = towns != NULL && table_add_row(t, row) == 0;
        free(towns);
    }
    cli_put(ok ? table_render(t, NULL) : NULL);
    table_free(t);
}

char *cli_dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
