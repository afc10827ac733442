/*
 * overdue.c: supervision of what is late (overdue.milestones,
 * overdue.problems) and what falls due soon (due.milestones, due.problems),
 * proto/PROTOCOL.md section 6.
 *
 * For: checking the arguments, turning "today" (clock.h, in the configured
 * time zone, pinned by fake_now in tests) and the level or window into a
 * range of dates, one pool_query per request, and packing each row with its
 * traffic light and the people responsible (nested maps, which rowpack does
 * not do, so the rows are packed here after rowpack_check has vetted them).
 *
 * Speed (docs/benchmarks.md, workload overdue): the rows come in the order
 * of the partial indexes project_milestone_open_idx (planned_date,
 * project_id, node) and problem_open_idx (deadline, id) of
 * sql/007_projects.sql, so PostgreSQL walks the index and stops after one
 * page instead of sorting every open row: most overdue first is simply the
 * earliest date first. Nothing computed stands in WHERE or ORDER BY: the
 * level (red / yellow) and the due window become bounds on the indexed
 * date, worked out here (a cursor is checked here too, so a bad one never
 * reaches the database), and the keyset cursor is a row comparison on the
 * index's own columns.
 *
 * Levels, with R = overdue_red_after_days and D = today - planned date:
 * red when D > R, yellow when 1 <= D <= R, green when D <= 0 (not late;
 * every row of due.* is green). So red is date < today - R, yellow is
 * today - R <= date < today, and due within N days is today <= date <=
 * today + N.
 *
 * Scope: township staff see rows of their townships only (a project by its
 * township, a problem by its enterprise's township), decided in the
 * statement with session_read_scope, before LIMIT, so no page boundary or
 * cursor reveals a hidden row.
 * Not for: changing milestones or problems (project.c, problem.c); the
 * queries themselves and the lists of people are stored functions
 * (sql/011_overdue.sql), so that their plans can be pinned to the index
 * walk and pgbench can run exactly what baobaod runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "clock.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

#define OD_NUM_TEXT 24
#define OD_DATE_TEXT 11
/* A cursor is "YYYY-MM-DD.ID" (problems) or "YYYY-MM-DD.ID.N" (milestones,
 * N the node's number 1-5): at most 10 + 1 + 19 + 2 characters. */
#define OD_CURSOR_MAX_CHARS 40u
/* due.*: the longest window, in days. */
#define OD_WITHIN_DAYS_MAX 3650
/* Bounds that let every date through (PostgreSQL's date infinities). */
#define OD_NO_LOWER "-infinity"

/* The five milestone nodes, numbered 1-5 in cursors. */
static const char *const nodes[] = {"签约", "注册", "开工", "投产", "竣工", NULL};
static const char *const stages[] = {"信息收集", "研判", "洽谈", "签约", "注册", "开工",
                                     "投产", "竣工", "终止", "暂停", NULL};
static const char *const states[] = {"受理", "交办", "办理", "反馈", "确认", NULL};

/* The two queries are stored functions (sql/011_overdue.sql, where their
 * arguments and the reason are explained: their plans must walk the open
 * indexes whatever the parameters). Milestones: $1 today, $2/$3 the range
 * of planned dates [lo, hi), $4..$6 the cursor (date, project id, node;
 * '-infinity', 0, '' for the first page), $7 township, $8 cluster, $9
 * stage, $10 official_id, $11 unit_id, $12 read scope, $13 rows wanted.
 * Problems: the same without the node, state for stage. */
#define OD_MS_SQL                                                                          \
    "SELECT * FROM bb_overdue_milestones($1::date, $2::date, $3::date, $4::date, $5::bigint," \
    " $6::text, $7::text, $8::text, $9::text, $10::bigint, $11::bigint, $12::bigint, $13::int)"
#define OD_PR_SQL                                                                          \
    "SELECT * FROM bb_overdue_problems($1::date, $2::date, $3::date, $4::date, $5::bigint,"  \
    " $6::text, $7::text, $8::text, $9::bigint, $10::bigint, $11::bigint, $12::int)"

static const pool_stmt st_milestones = {"od_milestones", OD_MS_SQL, 13};
static const pool_stmt st_problems = {"od_problems", OD_PR_SQL, 12};

/* The result columns, checked by rowpack_check before packing. */
static const rp_col ms_cols[] = {
    {"project_id", RP_INT},    {"node", RP_TEXT},          {"name", RP_TEXT},
    {"township", RP_TEXT},     {"enterprise_id", RP_INT},  {"enterprise_name", RP_TEXT},
    {"planned_date", RP_TEXT}, {"days_overdue", RP_INT},   {"stage", RP_TEXT},
    {"officials", RP_TEXT},    {"units", RP_TEXT},
};
static const rp_col pr_cols[] = {
    {"problem_id", RP_INT},    {"description", RP_TEXT},   {"township", RP_TEXT},
    {"enterprise_id", RP_INT}, {"enterprise_name", RP_TEXT}, {"deadline", RP_TEXT},
    {"days_overdue", RP_INT},  {"state", RP_TEXT},         {"officials", RP_TEXT},
    {"units", RP_TEXT},
};
#define MS_NCOLS ((int)(sizeof ms_cols / sizeof ms_cols[0]))
#define PR_NCOLS ((int)(sizeof pr_cols / sizeof pr_cols[0]))

static int overdue_register_statements(void)
{
    if (pool_register(&st_milestones) != 0 || pool_register(&st_problems) != 0)
        return -1;
    return 0;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Parses exactly "YYYY-MM-DD", a real date of years 1-9999; -1 otherwise. */
static int parse_date(const char *s, size_t len, int64_t *days)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int64_t y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    int64_t z = days_from_civil(y, m, d);
    int64_t y2;
    unsigned m2, d2;
    civil_from_days(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return -1;   /* 02-30 and the like */
    *days = z;
    return 0;
}

/* Writes day z as "YYYY-MM-DD"; -1 outside years 1-9999. */
static int format_date(int64_t z, char out[OD_DATE_TEXT])
{
    int64_t y;
    unsigned m, d;
    civil_from_days(z, &y, &m, &d);
    if (y < 1 || y > 9999)
        return -1;
    /* civil_from_days gives m in 1..12 and d in 1..31; the compiler cannot
     * know, so the values are narrowed to what fits the text. */
    snprintf(out, OD_DATE_TEXT, "%04d-%02u-%02u", (int)y, (m - 1) % 12 + 1, (d - 1) % 31 + 1);
    return 0;
}

/* ---- the cursor ---- */

/* A position in the order of the rows: (date, id, node number 1-5; 0 for
 * problems). */
typedef struct od_pos {
    char date[OD_DATE_TEXT];
    int64_t id;
    unsigned node;
} od_pos;

/* Parses a decimal id 1..2^63-1 without sign or leading zeros. */
static int parse_id(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 19 || s[0] == '0')
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (uint64_t)INT64_MAX)
            return -1;
    }
    *out = (int64_t)v;
    return 0;
}

/* Reads a cursor exactly as format_cursor writes it; -1 for anything else. */
static int parse_cursor(const pstr *c, bool milestones, od_pos *p)
{
    const char *s = c->s;
    size_t len = c->len;
    int64_t days;
    if (len < 12 || s[10] != '.' || parse_date(s, 10, &days) != 0)
        return -1;
    memcpy(p->date, s, 10);
    p->date[10] = '\0';
    const char *id = s + 11;
    size_t idlen = len - 11;
    p->node = 0;
    if (milestones) {
        if (idlen < 3 || id[idlen - 2] != '.' || id[idlen - 1] < '1' || id[idlen - 1] > '5')
            return -1;
        p->node = (unsigned)(id[idlen - 1] - '0');
        idlen -= 2;
    }
    return parse_id(id, idlen, &p->id);
}

static unsigned node_number(const char *node)
{
    for (unsigned i = 0; nodes[i] != NULL; i++)
        if (strcmp(nodes[i], node) == 0)
            return i + 1;
    return 0;
}

/* ---- arguments ---- */

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

/* An optional str that is not nil-able. */
static int opt_str(request *req, const msgpack_object *args, const char *key, uint32_t max_chars,
                   pstr *out)
{
    pstate st;
    if (params_str(req, args, key, false, max_chars, false, out, &st) != 0)
        return -1;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* An optional int that is not nil-able; *given tells whether it was sent. */
static int opt_int(request *req, const msgpack_object *args, const char *key, int64_t min,
                   int64_t max, int64_t *out, bool *given)
{
    pstate st;
    *out = 0;
    if (params_int(req, args, key, false, min, max, out, &st) != 0)
        return -1;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    *given = st == P_SET;
    return 0;
}

static int known_value(request *req, const char *key, const pstr *v, const char *const *list,
                       const char *what)
{
    if (v->s != NULL && !one_of(v, list)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: not a known %s", key, what);
        return -1;
    }
    return 0;
}

/* Which of the four methods. */
typedef enum od_kind {
    OD_OVERDUE_MILESTONES = 0,
    OD_OVERDUE_PROBLEMS,
    OD_DUE_MILESTONES,
    OD_DUE_PROBLEMS,
} od_kind;

static bool kind_milestones(od_kind k) { return k == OD_OVERDUE_MILESTONES || k == OD_DUE_MILESTONES; }
static bool kind_due(od_kind k) { return k == OD_DUE_MILESTONES || k == OD_DUE_PROBLEMS; }

/* What the callback needs besides the result. */
typedef struct od_call {
    request *req;
    od_kind kind;
    int64_t limit;
    int64_t red_after;
} od_call;

static void pack_people(msgpack_packer *pk, const char *text)
{
    /* Lines "id<TAB>role<TAB>name" (sql/011_overdue.sql); "" = none. */
    uint32_t n = 0;
    if (text[0] != '\0') {
        n = 1;
        for (const char *p = text; *p; p++)
            n += *p == '\n';
    }
    msgpack_pack_array(pk, n);
    const char *line = text;
    for (uint32_t i = 0; i < n; i++) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        const char *t1 = memchr(line, '\t', len);
        const char *t2 = t1 != NULL ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
        msgpack_pack_map(pk, 3);
        rowpack_str(pk, "id");
        msgpack_pack_int64(pk, strtoll(line, NULL, 10));
        rowpack_str(pk, "name");
        if (t2 != NULL) {
            size_t nl = len - (size_t)(t2 + 1 - line);
            msgpack_pack_str_with_body(pk, t2 + 1, nl);
        } else {
            msgpack_pack_str_with_body(pk, "", 0);
        }
        rowpack_str(pk, "role");
        if (t1 != NULL && t2 != NULL)
            msgpack_pack_str_with_body(pk, t1 + 1, (size_t)(t2 - t1 - 1));
        else
            msgpack_pack_str_with_body(pk, "", 0);
        line = end != NULL ? end + 1 : line + len;
    }
}

static void pack_text(msgpack_packer *pk, const PGresult *res, int row, int col)
{
    msgpack_pack_str_with_body(pk, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static void pack_level(msgpack_packer *pk, int64_t days, int64_t red_after)
{
    rowpack_str(pk, days > red_after ? "red" : days >= 1 ? "yellow" : "green");
}

/* Packs the enterprise {id, name} of columns id_col, id_col + 1, or nil. */
static void pack_enterprise(msgpack_packer *pk, const PGresult *res, int row, int id_col)
{
    if (PQgetisnull(res, row, id_col)) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "id");
    msgpack_pack_int64(pk, strtoll(PQgetvalue(res, row, id_col), NULL, 10));
    rowpack_str(pk, "name");
    pack_text(pk, res, row, id_col + 1);
}

/* A milestone row: project_id, node, name, township, enterprise,
 * planned_date, days_overdue, level, stage, officials, units. */
static void pack_milestone(msgpack_packer *pk, const PGresult *res, int r, int64_t red_after)
{
    int64_t days = strtoll(PQgetvalue(res, r, 7), NULL, 10);
    msgpack_pack_map(pk, 11);
    rowpack_str(pk, "project_id");
    msgpack_pack_int64(pk, strtoll(PQgetvalue(res, r, 0), NULL, 10));
    rowpack_str(pk, "node");
    pack_text(pk, res, r, 1);
    rowpack_str(pk, "name");
    pack_text(pk, res, r, 2);
    rowpack_str(pk, "township");
    pack_text(pk, res, r, 3);
    rowpack_str(pk, "enterprise");
    pack_enterprise(pk, res, r, 4);
    rowpack_str(pk, "planned_date");
    pack_text(pk, res, r, 6);
    rowpack_str(pk, "days_overdue");
    msgpack_pack_int64(pk, days);
    rowpack_str(pk, "level");
    pack_level(pk, days, red_after);
    rowpack_str(pk, "stage");
    pack_text(pk, res, r, 8);
    rowpack_str(pk, "officials");
    pack_people(pk, PQgetvalue(res, r, 9));
    rowpack_str(pk, "units");
    pack_people(pk, PQgetvalue(res, r, 10));
}

/* A problem row: problem_id, description, township, enterprise, deadline,
 * days_overdue, level, state, officials, units. */
static void pack_problem(msgpack_packer *pk, const PGresult *res, int r, int64_t red_after)
{
    int64_t days = strtoll(PQgetvalue(res, r, 6), NULL, 10);
    msgpack_pack_map(pk, 10);
    rowpack_str(pk, "problem_id");
    msgpack_pack_int64(pk, strtoll(PQgetvalue(res, r, 0), NULL, 10));
    rowpack_str(pk, "description");
    pack_text(pk, res, r, 1);
    rowpack_str(pk, "township");
    pack_text(pk, res, r, 2);
    rowpack_str(pk, "enterprise");
    pack_enterprise(pk, res, r, 3);
    rowpack_str(pk, "deadline");
    pack_text(pk, res, r, 5);
    rowpack_str(pk, "days_overdue");
    msgpack_pack_int64(pk, days);
    rowpack_str(pk, "level");
    pack_level(pk, days, red_after);
    rowpack_str(pk, "state");
    pack_text(pk, res, r, 7);
    rowpack_str(pk, "officials");
    pack_people(pk, PQgetvalue(res, r, 8));
    rowpack_str(pk, "units");
    pack_people(pk, PQgetvalue(res, r, 9));
}

static void od_cb(void *arg, const PGresult *res, const pool_error *e)
{
    od_call c = *(od_call *)arg;
    free(arg);
    bool ms = kind_milestones(c.kind);
    const pool_stmt *stmt = ms ? &st_milestones : &st_problems;
    if (e != NULL) {
        rowpack_reply_pool_error(c.req, stmt->name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, ms ? ms_cols : pr_cols, ms ? MS_NCOLS : PR_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(c.req, stmt->name, why);
        return;
    }
    int rows = PQntuples(res);
    bool more = rows > c.limit;
    int n = more ? (int)c.limit : rows;
    char next[OD_CURSOR_MAX_CHARS + 8] = "";
    if (more && n > 0) {
        const char *date = PQgetvalue(res, n - 1, ms ? 6 : 5);
        const char *id = PQgetvalue(res, n - 1, 0);
        unsigned node = ms ? node_number(PQgetvalue(res, n - 1, 1)) : 0;
        if (ms && node == 0) {
            rowpack_reply_bad_result(c.req, stmt->name, "unknown milestone node");
            return;
        }
        if (ms)
            snprintf(next, sizeof next, "%s.%s.%u", date, id, node);
        else
            snprintf(next, sizeof next, "%s.%s", date, id);
    }
    msgpack_packer *pk = req_result_begin(c.req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        if (ms)
            pack_milestone(pk, res, i, c.red_after);
        else
            pack_problem(pk, res, i, c.red_after);
    }
    rowpack_str(pk, "next");
    if (next[0] != '\0')
        rowpack_str(pk, next);
    else
        msgpack_pack_nil(pk);
    req_result_end(c.req);
}

/* The four methods share one handler: the arguments of the method's table
 * in PROTOCOL.md, in that order. */
static void od_run(request *req, const msgpack_object *args, od_kind kind)
{
    static const char *const known_oms[] = {"township", "cluster", "stage", "official_id",
                                            "unit_id", "level", "after", "limit", NULL};
    static const char *const known_ops[] = {"township", "cluster", "state", "official_id",
                                            "unit_id", "level", "after", "limit", NULL};
    static const char *const known_dms[] = {"township", "cluster", "stage", "official_id",
                                            "unit_id", "within_days", "after", "limit", NULL};
    static const char *const known_dps[] = {"township", "cluster", "state", "official_id",
                                            "unit_id", "within_days", "after", "limit", NULL};
    static const char *const *const known[] = {known_oms, known_ops, known_dms, known_dps};
    static const char *const levels[] = {"red", "yellow", NULL};
    const config *cfg = &req_server(req)->cfg;
    bool ms = kind_milestones(kind), due = kind_due(kind);
    pstr township, cluster, stage = {0}, level = {0}, after;
    int64_t official = 0, unit = 0, within = 0, limit = 0;
    bool has_official, has_unit, has_within = false, has_limit;
    if (params_check_known(req, args, known[kind]) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township) != 0 ||
        opt_str(req, args, "cluster", BB_MAX_SHORT_TEXT_CHARS, &cluster) != 0 ||
        opt_str(req, args, ms ? "stage" : "state", BB_MAX_SHORT_TEXT_CHARS, &stage) != 0 ||
        known_value(req, ms ? "stage" : "state", &stage, ms ? stages : states,
                    ms ? "project stage" : "problem state") != 0 ||
        opt_int(req, args, "official_id", 1, INT64_MAX, &official, &has_official) != 0 ||
        opt_int(req, args, "unit_id", 1, INT64_MAX, &unit, &has_unit) != 0)
        return;
    if (due) {
        if (opt_int(req, args, "within_days", 0, OD_WITHIN_DAYS_MAX, &within, &has_within) != 0)
            return;
    } else {
        if (opt_str(req, args, "level", BB_MAX_SHORT_TEXT_CHARS, &level) != 0 ||
            known_value(req, "level", &level, levels, "level (red or yellow)") != 0)
            return;
    }
    if (opt_str(req, args, "after", OD_CURSOR_MAX_CHARS, &after) != 0 ||
        opt_int(req, args, "limit", 1, cfg->page_limit_max, &limit, &has_limit) != 0)
        return;
    od_pos pos = {"", 0, 0};
    if (after.s != NULL && parse_cursor(&after, ms, &pos) != 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this method gave (pass back its `next`)");
        return;
    }
    if (!has_limit)
        limit = cfg->page_limit_default;
    if (!has_within)
        within = cfg->due_soon_days;

    char today[OD_DATE_TEXT], lo[OD_DATE_TEXT] = OD_NO_LOWER, hi[OD_DATE_TEXT];
    int64_t t;
    if (clock_today(today) != 0 || parse_date(today, 10, &t) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "internal error: today is unknown");
        return;
    }
    int64_t red = cfg->overdue_red_after_days;
    int bad = 0;
    if (due) {
        /* today <= date <= today + within */
        bad |= format_date(t, lo);
        bad |= format_date(t + within + 1, hi);
    } else if (level.s != NULL && level.len == 3 && memcmp(level.s, "red", 3) == 0) {
        /* red: today - date > R */
        bad |= format_date(t - red, hi);
    } else if (level.s != NULL) {
        /* yellow: 1 <= today - date <= R */
        bad |= format_date(t - red, lo);
        bad |= format_date(t, hi);
    } else {
        bad |= format_date(t, hi);
    }
    if (bad != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "internal error: dates out of range");
        return;
    }

    char after_date[OD_DATE_TEXT] = OD_NO_LOWER, after_id[OD_NUM_TEXT] = "0";
    const char *after_node = "";
    if (after.s != NULL) {
        memcpy(after_date, pos.date, sizeof after_date);
        snprintf(after_id, sizeof after_id, "%" PRId64, pos.id);
        after_node = ms ? nodes[pos.node - 1] : NULL;
    }
    char offt[OD_NUM_TEXT], unitt[OD_NUM_TEXT], limitt[OD_NUM_TEXT];
    snprintf(offt, sizeof offt, "%" PRId64, official);
    snprintf(unitt, sizeof unitt, "%" PRId64, unit);
    snprintf(limitt, sizeof limitt, "%" PRId64, limit + 1);
    const char *scope = session_read_scope(req_session(req));

    od_call *c = malloc(sizeof *c);
    if (c == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    c->req = req;
    c->kind = kind;
    c->limit = limit;
    c->red_after = red;
    int rc;
    if (ms) {
        const char *vals[13] = {today, lo, hi, after_date, after_id, after_node, township.s,
                                cluster.s, stage.s, has_official ? offt : NULL,
                                has_unit ? unitt : NULL, scope, limitt};
        const int lens[13] = {-1, -1, -1, -1, -1, -1, (int)township.len, (int)cluster.len,
                              (int)stage.len, -1, -1, -1, -1};
        rc = pool_query(req_server(req)->pool, &st_milestones, vals, lens, od_cb, c);
    } else {
        const char *vals[12] = {today, lo, hi, after_date, after_id, township.s, cluster.s,
                                stage.s, has_official ? offt : NULL, has_unit ? unitt : NULL,
                                scope, limitt};
        const int lens[12] = {-1, -1, -1, -1, -1, (int)township.len, (int)cluster.len,
                              (int)stage.len, -1, -1, -1, -1};
        rc = pool_query(req_server(req)->pool, &st_problems, vals, lens, od_cb, c);
    }
    if (rc < 0) {
        free(c);
        rowpack_reply_query_rc(req, ms ? st_milestones.name : st_problems.name, rc);
    }
}

static void overdue_milestones(request *req, const msgpack_object *args)
{
    od_run(req, args, OD_OVERDUE_MILESTONES);
}

static void overdue_problems(request *req, const msgpack_object *args)
{
    od_run(req, args, OD_OVERDUE_PROBLEMS);
}

static void due_milestones(request *req, const msgpack_object *args)
{
    od_run(req, args, OD_DUE_MILESTONES);
}

static void due_problems(request *req, const msgpack_object *args)
{
    od_run(req, args, OD_DUE_PROBLEMS);
}

const method_impl overdue_methods[] = {
    {"overdue.milestones", .raw = overdue_milestones, .raw_roles = BB_ROLES_USERS},
    {"overdue.problems", .raw = overdue_problems, .raw_roles = BB_ROLES_USERS},
    {"due.milestones", .raw = due_milestones, .raw_roles = BB_ROLES_USERS},
    {"due.problems", .raw = due_problems, .raw_roles = BB_ROLES_USERS},
    {NULL},
};

const method_module overdue_module = {
    .name = "overdue",
    .methods = overdue_methods,
    .register_statements = overdue_register_statements,
};
