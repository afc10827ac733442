/*
 * test_status_reports.c: status.submit / status.list through libbaobao
 * against a real server: all fields round-trip (Chinese note with newlines
 * byte for byte), newest-first order, inclusive date range, cursor paging
 * without skips or repeats, report_date bounds (not after the server's
 * today, not before 2000-01-01), value ranges, not_found.
 *
 * Not for: idempotency of submit (test_idempotency.c).
 */
#include "harness.h"
#include "baobao.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bb_client *g_c;
static int64_t g_eid;          /* shared enterprise for the simple tests */
static unsigned long g_code_n = 6000;

/* Logs the connection in as the harness's default user (a raw
 * session.login through bb_call, so this file needs nothing of the
 * library's account helpers). 0 or -1 (noted). */
static int login_default(bb_client *c)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "login", 5);
    msgpack_pack_str_with_body(&pk, IT_USER_SUPER, strlen(IT_USER_SUPER));
    msgpack_pack_str_with_body(&pk, "password", 8);
    msgpack_pack_str_with_body(&pk, IT_PASSWORD, strlen(IT_PASSWORD));
    bb_reply *r = NULL;
    bb_error err;
    int rc = bb_call(c, "session.login", sb.data, sb.size, &r, &err);
    msgpack_sbuffer_destroy(&sb);
    if (rc != 0) {
        it_note("session.login: %s %s", err.code, err.message);
        return -1;
    }
    bb_reply_free(r);
    return 0;
}

static bb_client *client(void)
{
    if (g_c != NULL)
        bb_close(g_c);
    g_c = NULL;
    it_server *s = it_shared_server();
    if (s == NULL)
        return NULL;
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    bb_error err;
    g_c = bb_connect(server, 10000, &err);
    if (g_c == NULL)
        it_note("bb_connect %s: %s %s", server, err.code, err.message);
    else
        bb_set_timeout(g_c, IT_REPLY_TIMEOUT_MS);
    if (g_c != NULL && login_default(g_c) != 0) {
        bb_close(g_c);
        g_c = NULL;
    }
    return g_c;
}

static int new_enterprise(bb_client *c, const char *name, int64_t *id)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    bb_enterprise_fields f = {0};
    f.name = name;
    f.credit_code = cc;
    f.township = "官塘驿镇";
    bb_enterprise e;
    bb_error err;
    int rc = bb_enterprise_create(c, &f, NULL, &e, &err);
    IT_CHECKF(rc == 0, "create: %s %s", err.code, err.message);
    *id = e.id;
    bb_enterprise_free(&e);
    return 0;
}

static int setup(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    IT_CHECK(new_enterprise(c, "赤壁青砖茶厂", &g_eid) == 0);
    return 0;
}

/* Each report by a reporter of its own: the tests here give one
 * enterprise several reports of one date (ties broken by id), which the
 * duplicate rule refuses for the same reporter (test_duplicates.c). */
static int submit(bb_client *c, int64_t eid, const char *date, const char *note,
                  bb_status_report *out)
{
    static unsigned n;
    char who[32];
    snprintf(who, sizeof who, "联络员张三%u", ++n);
    bb_status_input in = {0};
    in.enterprise_id = eid;
    in.report_date = date;
    in.reporter = who;
    in.production_status = "正常";
    in.note = note;
    bb_error err;
    int rc = bb_status_submit(c, &in, NULL, out, &err);
    IT_CHECKF(rc == 0, "submit %s: %d %s %s %s", date, rc, err.code, err.field, err.message);
    return 0;
}

static const char NOTE[] = "走访情况：\n1. 订单饱满，缺工 12 人；\n2. 诉求：用电增容。\r\n"
                           "\t备注 𠀀𪚥 \"引号\"\n";

static int submit_and_list_round_trip_every_field(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    int64_t eid;
    IT_CHECK(new_enterprise(c, "字段往返企业", &eid) == 0);
    int64_t ov = 1000000000000000LL, emp = 250, shortage = 12;
    bb_status_input in = {0};
    in.enterprise_id = eid;
    in.report_date = "2024-07-15";
    in.reporter = "包保干部李𠀀";
    in.production_status = "半停产";
    in.output_value = &ov;
    in.employees = &emp;
    in.labour_shortage = &shortage;
    in.note = NOTE;
    bb_status_report r;
    bb_error err;
    int rc = bb_status_submit(c, &in, NULL, &r, &err);
    IT_CHECKF(rc == 0, "submit: %d %s %s %s", rc, err.code, err.field, err.message);
    IT_CHECK(r.id > 0 && r.enterprise_id == eid);
    IT_CHECK_STR(r.report_date, "2024-07-15");
    IT_CHECK_STR(r.reporter, "包保干部李𠀀");
    IT_CHECK_STR(r.production_status, "半停产");
    IT_CHECK(r.has_output_value && r.output_value == ov);
    IT_CHECK(r.has_employees && r.employees == 250);
    IT_CHECK(r.has_labour_shortage && r.labour_shortage == 12);
    IT_CHECK_STR(r.note, NOTE);
    IT_CHECK(r.created_at != NULL && strlen(r.created_at) == 27);

    bb_status_filter f = {0};
    f.enterprise_id = eid;
    bb_status_page p;
    rc = bb_status_list(c, &f, &p, &err);
    IT_CHECKF(rc == 0, "list: %s %s", err.code, err.message);
    IT_CHECK(p.n == 1 && p.next == NULL);
    const bb_status_report *l = &p.items[0];
    IT_CHECK(l->id == r.id);
    IT_CHECK_STR(l->note, NOTE);
    IT_CHECK_STR(l->reporter, r.reporter);
    IT_CHECK_STR(l->created_at, r.created_at);
    IT_CHECK(l->has_output_value && l->output_value == ov);
    bb_status_page_free(&p);
    bb_status_report_free(&r);

    /* Optional values left out come back nil. */
    IT_CHECK(submit(c, eid, "2024-07-16", NULL, &r) == 0);
    IT_CHECK(!r.has_output_value && !r.has_employees && !r.has_labour_shortage);
    IT_CHECK(r.note == NULL);
    bb_status_report_free(&r);
    return 0;
}

static int list_is_newest_date_first_then_highest_id(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    int64_t eid;
    IT_CHECK(new_enterprise(c, "排序企业", &eid) == 0);
    static const char *const dates[] = {"2024-01-10", "2024-03-01", "2024-01-10", "2023-12-31",
                                        "2024-03-01"};
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        bb_status_report r;
        IT_CHECK(submit(c, eid, dates[i], NULL, &r) == 0);
        ids[i] = r.id;
        bb_status_report_free(&r);
    }
    /* Expected: 03-01 (ids[4], ids[1]), 01-10 (ids[2], ids[0]), 12-31 (ids[3]). */
    int64_t want[5] = {ids[4], ids[1], ids[2], ids[0], ids[3]};
    bb_status_filter f = {0};
    f.enterprise_id = eid;
    bb_status_page p;
    bb_error err;
    IT_CHECK(bb_status_list(c, &f, &p, &err) == 0);
    IT_CHECK(p.n == 5);
    for (int i = 0; i < 5; i++)
        IT_CHECKF(p.items[i].id == want[i], "position %d: report %lld (%s), expected %lld", i,
                  (long long)p.items[i].id, p.items[i].report_date, (long long)want[i]);
    bb_status_page_free(&p);
    return 0;
}

static int list_count(bb_client *c, int64_t eid, const char *from, const char *to, size_t *n,
                      bb_error *err)
{
    bb_status_filter f = {0};
    f.enterprise_id = eid;
    f.from = from;
    f.to = to;
    f.limit = 500;
    bb_status_page p;
    int rc = bb_status_list(c, &f, &p, err);
    if (rc != 0)
        return rc;
    *n = p.n;
    for (size_t i = 0; i < p.n; i++)
        if ((from && strcmp(p.items[i].report_date, from) < 0) ||
            (to && strcmp(p.items[i].report_date, to) > 0)) {
            it_note("report dated %s outside [%s, %s]", p.items[i].report_date,
                    from ? from : "", to ? to : "");
            *n = (size_t)-1;
        }
    bb_status_page_free(&p);
    return 0;
}

static int date_range_filter_is_inclusive(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    int64_t eid;
    IT_CHECK(new_enterprise(c, "日期筛选企业", &eid) == 0);
    static const char *const dates[] = {"2024-02-28", "2024-02-29", "2024-03-01", "2024-03-31",
                                        "2024-04-01"};
    for (int i = 0; i < 5; i++) {
        bb_status_report r;
        IT_CHECK(submit(c, eid, dates[i], NULL, &r) == 0);
        bb_status_report_free(&r);
    }
    size_t n;
    bb_error err;
    IT_CHECK(list_count(c, eid, "2024-02-29", "2024-03-31", &n, &err) == 0);
    IT_CHECKF(n == 3, "[02-29, 03-31]: %zu reports, expected 3", n);
    IT_CHECK(list_count(c, eid, "2024-03-01", NULL, &n, &err) == 0);
    IT_CHECKF(n == 3, "from 03-01: %zu, expected 3", n);
    IT_CHECK(list_count(c, eid, NULL, "2024-02-29", &n, &err) == 0);
    IT_CHECKF(n == 2, "to 02-29: %zu, expected 2", n);
    IT_CHECK(list_count(c, eid, "2024-03-01", "2024-03-01", &n, &err) == 0);
    IT_CHECKF(n == 1, "one day: %zu, expected 1", n);
    IT_CHECK(list_count(c, eid, "2025-01-01", NULL, &n, &err) == 0);
    IT_CHECK(n == 0);
    int rc = list_count(c, eid, "2024-04-01", "2024-03-01", &n, &err);
    IT_CHECKF(rc != 0 && strcmp(err.code, "invalid_argument") == 0,
              "from after to: rc %d code %s", rc, err.code);
    rc = list_count(c, eid, "2024-02-30", NULL, &n, &err);
    IT_CHECKF(rc != 0 && strcmp(err.code, "invalid_argument") == 0 &&
                  strcmp(err.field, "from") == 0,
              "from 2024-02-30: rc %d code %s field %s", rc, err.code, err.field);
    return 0;
}

#define PAGING_REPORTS 60

static int cursor_paging_neither_skips_nor_repeats(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    int64_t eid;
    IT_CHECK(new_enterprise(c, "分页走访企业", &eid) == 0);
    int64_t ids[PAGING_REPORTS];
    for (int i = 0; i < PAGING_REPORTS; i++) {
        /* Few distinct dates, so many ties broken by id. */
        char date[16];
        snprintf(date, sizeof date, "2024-05-%02d", 1 + i % 7);
        bb_status_report r;
        IT_CHECK(submit(c, eid, date, NULL, &r) == 0);
        ids[i] = r.id;
        bb_status_report_free(&r);
    }
    bb_status_filter f = {0};
    f.enterprise_id = eid;
    f.limit = 25;
    int64_t seen[PAGING_REPORTS + 10];
    size_t nseen = 0;
    char *cursor = NULL;
    int pages = 0;
    char last_date[16] = "9999-99-99";
    int64_t last_id = INT64_MAX;
    for (;;) {
        bb_status_page p;
        bb_error err;
        f.after = cursor;
        int rc = bb_status_list(c, &f, &p, &err);
        IT_CHECKF(rc == 0, "page %d: %s %s %s", pages, err.code, err.field, err.message);
        for (size_t i = 0; i < p.n; i++) {
            const bb_status_report *r = &p.items[i];
            int cmp = strcmp(r->report_date, last_date);
            IT_CHECKF(cmp < 0 || (cmp == 0 && r->id < last_id),
                      "page %d: report %lld (%s) out of order after %lld (%s)", pages,
                      (long long)r->id, r->report_date, (long long)last_id, last_date);
            snprintf(last_date, sizeof last_date, "%s", r->report_date);
            last_id = r->id;
            IT_CHECK(nseen < PAGING_REPORTS + 10);
            seen[nseen++] = r->id;
        }
        if (pages == 0) {
            IT_CHECK(p.n == 25 && p.next != NULL);
            /* A report added while paging, dated before everything. */
            bb_status_report r;
            IT_CHECK(submit(c, eid, "2024-04-01", NULL, &r) == 0);
            bb_status_report_free(&r);
        }
        free(cursor);
        cursor = p.next ? strdup(p.next) : NULL;
        bb_status_page_free(&p);
        pages++;
        if (cursor == NULL)
            break;
        IT_CHECK(pages < 10);
    }
    for (int i = 0; i < PAGING_REPORTS; i++) {
        int found = 0;
        for (size_t k = 0; k < nseen; k++)
            found += seen[k] == ids[i];
        IT_CHECKF(found == 1, "report %lld seen %d times", (long long)ids[i], found);
    }
    IT_CHECKF(nseen == PAGING_REPORTS + 1, "%zu reports seen, expected %d + 1 added", nseen,
              PAGING_REPORTS);
    return 0;
}

static int malformed_cursor_refused(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    bb_status_filter f = {0};
    f.enterprise_id = g_eid;
    f.after = "not-a-cursor";
    bb_status_page p;
    bb_error err;
    int rc = bb_status_list(c, &f, &p, &err);
    IT_CHECKF(rc == BB_C_ESERVER && strcmp(err.code, "invalid_argument") == 0 &&
                  strcmp(err.field, "after") == 0,
              "cursor 'not-a-cursor': rc %d code %s field %s", rc, err.code, err.field);
    return 0;
}

/* today + days, as YYYY-MM-DD. */
static void add_days(const char *today, int days, char out[16])
{
    struct tm tm = {0};
    sscanf(today, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_hour = 12;
    time_t t = timegm(&tm) + (time_t)days * 86400;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

static int submit_err(bb_client *c, bb_status_input *in, bb_error *err)
{
    bb_status_report r;
    int rc = bb_status_submit(c, in, NULL, &r, err);
    if (rc == 0)
        bb_status_report_free(&r);
    return rc;
}

#define REFUSED(in, fld)                                                                  \
    do {                                                                                  \
        bb_error e_;                                                                      \
        int rc_ = submit_err(c, &(in), &e_);                                              \
        IT_CHECKF(rc_ != 0 && strcmp(e_.code, "invalid_argument") == 0 &&                 \
                      strcmp(e_.field, (fld)) == 0,                                       \
                  "expected invalid_argument field %s, got rc %d code %s field %s (%s)",  \
                  (fld), rc_, e_.code, e_.field, e_.message);                             \
    } while (0)

static int report_date_after_today_or_before_2000_refused(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    bb_server_info info;
    bb_error err;
    IT_CHECK(bb_server_info_get(c, &info, &err) == 0);
    char tomorrow[16];
    add_days(info.today, 1, tomorrow);
    it_note("server today %s (%s)", info.today, info.time_zone);
    bb_status_input in = {0};
    in.enterprise_id = g_eid;
    in.reporter = "张三";
    in.production_status = "正常";
    in.report_date = info.today;
    IT_CHECKF(submit_err(c, &in, &err) == 0, "today %s refused: %s %s", info.today, err.code,
              err.message);
    in.report_date = tomorrow;
    REFUSED(in, "report_date");
    in.report_date = "2000-01-01";
    IT_CHECKF(submit_err(c, &in, &err) == 0, "2000-01-01 refused: %s", err.message);
    in.report_date = "1999-12-31";
    REFUSED(in, "report_date");
    in.report_date = "2024-02-30";
    REFUSED(in, "report_date");
    in.report_date = "2024/03/01";
    REFUSED(in, "report_date");
    in.report_date = "2024-3-1";
    REFUSED(in, "report_date");
    bb_server_info_free(&info);
    return 0;
}

static int values_out_of_range_refused(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    bb_status_input in = {0};
    in.enterprise_id = g_eid;
    in.report_date = "2024-06-01";
    in.reporter = "张三";
    in.production_status = "正常";
    int64_t big = 1000000000000001LL, neg = -1, emp = 1000001;
    in.output_value = &big;
    REFUSED(in, "output_value");
    in.output_value = &neg;
    REFUSED(in, "output_value");
    in.output_value = NULL;
    in.employees = &emp;
    REFUSED(in, "employees");
    in.employees = &neg;
    REFUSED(in, "employees");
    in.employees = NULL;
    in.labour_shortage = &emp;
    REFUSED(in, "labour_shortage");
    in.labour_shortage = NULL;
    in.production_status = "倒闭";
    REFUSED(in, "production_status");
    in.production_status = "正常";
    char reporter[51 * 3 + 1] = "";
    for (int i = 0; i < 51; i++)
        strcat(reporter, "员");
    in.reporter = reporter;
    REFUSED(in, "reporter");
    reporter[50 * 3] = '\0';
    bb_error err;
    IT_CHECKF(submit_err(c, &in, &err) == 0, "a 50-character reporter: %s %s", err.code,
              err.message);
    return 0;
}

static int missing_enterprise_not_found(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    bb_status_input in = {0};
    in.enterprise_id = 987654321;
    in.report_date = "2024-06-01";
    in.reporter = "张三";
    in.production_status = "正常";
    bb_error err;
    int rc = submit_err(c, &in, &err);
    IT_CHECKF(rc == BB_C_ESERVER && strcmp(err.code, "not_found") == 0 &&
                  strcmp(err.field, "enterprise_id") == 0,
              "submit: rc %d %s %s", rc, err.code, err.field);
    bb_status_filter f = {0};
    f.enterprise_id = 987654321;
    bb_status_page p;
    rc = bb_status_list(c, &f, &p, &err);
    IT_CHECKF(rc == BB_C_ESERVER && strcmp(err.code, "not_found") == 0 &&
                  strcmp(err.field, "enterprise_id") == 0,
              "list: rc %d %s %s", rc, err.code, err.field);
    return 0;
}

static const it_test tests[] = {
    {"submit_and_list_round_trip_every_field", submit_and_list_round_trip_every_field},
    {"list_is_newest_date_first_then_highest_id", list_is_newest_date_first_then_highest_id},
    {"date_range_filter_is_inclusive", date_range_filter_is_inclusive},
    {"cursor_paging_neither_skips_nor_repeats", cursor_paging_neither_skips_nor_repeats},
    {"malformed_cursor_refused", malformed_cursor_refused},
    {"report_date_after_today_or_before_2000_refused",
     report_date_after_today_or_before_2000_refused},
    {"values_out_of_range_refused", values_out_of_range_refused},
    {"missing_enterprise_not_found", missing_enterprise_not_found},
};

int main(int argc, char **argv)
{
    int rc = it_main(argc, argv, "status", tests, sizeof tests / sizeof tests[0], setup);
    bb_close(g_c);
    return rc;
}
