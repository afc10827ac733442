/*
 * notice.c: the notice.* methods (proto/PROTOCOL.md section 6, "Notices"):
 * list, get, read, answer, stats: the 督办 notices (督办单) the sweep
 * issues, as the people they concern and their supervisors use them.
 *
 * The arguments are declared in proto/spec/notice.c and checked by the
 * dispatcher. The rules live in sql/024_notices.sql: who a notice
 * concerns (the view notice_audience: its recipient officials' users, the
 * users of its recipient units, the staff of its township; township staff
 * only for their own townships' notices), who may read and
 * answer it (those, and supervisors, recorded as the ones who did), the
 * state moves (issued -> read -> answered; closed only by the sweep), the
 * audit row and the idempotency record, in one statement each. This file
 * has the statements, the one rule across arguments (stats' from <= to)
 * and the packing of a Notice (notice.h), whose recipients rowpack cannot
 * pack alone.
 *
 * Roles: every role reads (township staff the notices of their own
 * townships only: :_scope; one outside them is answered like a missing
 * one); township staff and supervisors read and answer (admins are not
 * responsible for anything); supervisors and admins count (notice.stats).
 * Not for: making or closing notices (the sweep, supervise.c and
 * sql/023), pushing them (push.c), delivering them (delivery.c).
 */
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "notice.h"
#include "rowpack.h"

const rp_col notice_cols[] = {
    {"id", RP_INT},            {"number", RP_TEXT},          {"level", RP_TEXT},
    {"state", RP_TEXT},        {"kind", RP_TEXT},            {"project_id", RP_INT},
    {"node", RP_TEXT},         {"problem_id", RP_INT},       {"township_id", RP_INT},
    {"township", RP_TEXT},     {"title", RP_TEXT},           {"due_date", RP_TEXT},
    {"days_overdue", RP_INT},  {"issued_on", RP_TEXT},       {"issued_at", RP_TEXT},
    {"escalated_from", RP_INT}, {"read_at", RP_TEXT},        {"read_by", RP_INT},
    {"read_by_name", RP_TEXT}, {"answered_at", RP_TEXT},     {"answered_by", RP_INT},
    {"answered_by_name", RP_TEXT}, {"answer", RP_TEXT},      {"closed_on", RP_TEXT},
    {"close_reason", RP_TEXT}, {"version", RP_INT},          {"recipients", RP_TEXT},
};
#define NOTICE_NCOLS ((int)(sizeof notice_cols / sizeof notice_cols[0]))
const int notice_ncols = NOTICE_NCOLS;
/* The recipients: the last column. */
#define COL_RECIPIENTS (NOTICE_NCOLS - 1)

/* A row of bb_notice_stats. */
static const rp_col stats_cols[] = {
    {"key_id", RP_INT},   {"name", RP_TEXT},       {"issued", RP_INT},
    {"read", RP_INT},     {"answered", RP_INT},    {"unanswered", RP_INT},
    {"closed", RP_INT},   {"red", RP_INT},         {"escalated", RP_INT},
};
#define STATS_NCOLS ((int)(sizeof stats_cols / sizeof stats_cols[0]))

/* ---- packing a Notice ---- */

/* One recipient line: "official|unit<TAB>id<TAB>role<TAB>name" (sql/024's
 * bb_notice_recipient_lines), split in place into its four fields. */
typedef struct rline {
    const char *kind, *id, *role, *name;
    size_t kind_len, id_len, role_len, name_len;
} rline;

/* Splits s[0..len) at tabs into exactly four fields; -1 otherwise. */
static int split_line(const char *s, size_t len, rline *out)
{
    const char *f[4];
    size_t fl[4];
    size_t start = 0;
    int n = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '\t') {
            if (n == 4)
                return -1;
            f[n] = s + start;
            fl[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    if (n != 4 || fl[1] == 0)
        return -1;
    for (size_t i = 0; i < fl[1]; i++)
        if (f[1][i] < '0' || f[1][i] > '9')
            return -1;
    bool official = fl[0] == 8 && memcmp(f[0], "official", 8) == 0;
    bool unit = fl[0] == 4 && memcmp(f[0], "unit", 4) == 0;
    if (!official && !unit)
        return -1;
    *out = (rline){f[0], f[1], f[2], f[3], fl[0], fl[1], fl[2], fl[3]};
    return 0;
}

/* Calls each line of the recipients text with pk NULL to check them all
 * (returns the count or -1), or with pk to pack them. */
static int recipients_walk(const char *s, size_t len, msgpack_packer *pk)
{
    int count = 0;
    size_t start = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '\n')
            continue;
        rline r;
        if (split_line(s + start, i - start, &r) != 0)
            return -1;
        if (pk) {
            char id[24];
            if (r.id_len >= sizeof id)
                return -1;
            memcpy(id, r.id, r.id_len);
            id[r.id_len] = '\0';
            msgpack_pack_map(pk, 3);
            rowpack_str(pk, r.kind_len == 4 ? "unit_id" : "official_id");
            msgpack_pack_int64(pk, strtoll(id, NULL, 10));
            rowpack_str(pk, "name");
            msgpack_pack_str_with_body(pk, r.name, r.name_len);
            rowpack_str(pk, "role");
            msgpack_pack_str_with_body(pk, r.role, r.role_len);
        }
        count++;
        start = i + 1;
    }
    return count;
}

int notice_pack(msgpack_packer *pk, const PGresult *res, int row)
{
    const char *rs = PQgetvalue(res, row, COL_RECIPIENTS);
    size_t rlen = PQgetisnull(res, row, COL_RECIPIENTS)
                      ? 0 : (size_t)PQgetlength(res, row, COL_RECIPIENTS);
    int nrec = recipients_walk(rs, rlen, NULL);
    if (nrec < 0)
        return -1;
    msgpack_pack_map(pk, (size_t)NOTICE_NCOLS);
    for (int i = 0; i < COL_RECIPIENTS; i++) {
        rowpack_str(pk, notice_cols[i].key);
        if (PQgetisnull(res, row, i))
            msgpack_pack_nil(pk);
        else if (notice_cols[i].type == RP_INT)
            msgpack_pack_int64(pk, strtoll(PQgetvalue(res, row, i), NULL, 10)); /* checked */
        else
            msgpack_pack_str_with_body(pk, PQgetvalue(res, row, i),
                                       (size_t)PQgetlength(res, row, i));
    }
    rowpack_str(pk, "recipients");
    msgpack_pack_array(pk, (size_t)nrec);
    return recipients_walk(rs, rlen, pk) == nrec ? 0 : -1;
}

static const mshape notice_shape = {.pack = notice_pack};

/* ---- statements ----
 * Writes pass the caller, the peer and the key (WRITE_PREFIX); reads the
 * read scope (:_scope). */

#define NOTICE(st_name, text) \
    {.name = st_name, .sql = text, .cols = notice_cols, .ncols = NOTICE_NCOLS}

static mstmt st_get = NOTICE("notice_get",
    "SELECT " NOTICE_SELECT " FROM notice_wire w"
    " WHERE w.id = :id::bigint AND " SCOPE_HAS("w.township_id"));

/* Ascending ids after :after, limit + 1 rows (MR_PAGE). The function
 * walks notice's primary key from the cursor, filters, and stops; with
 * `mine` it starts from the caller's notice ids (notice_audience's
 * indexes) instead, so a supervisor's few notices among many are not a
 * walk of the whole table. */
static mstmt st_list = NOTICE("notice_list",
    "SELECT " NOTICE_SELECT " FROM bb_notice_list(p_actor => :_actor::bigint,"
    " p_scope => :_scope::bigint, p_after => :after::bigint, p_mine => :mine::boolean,"
    " p_state => :state, p_level => :level, p_unit => :unit_id::bigint,"
    " p_township => :township, p_unanswered => :unanswered::boolean,"
    " p_limit => :limit::int + 1) w ORDER BY w.id");

static mstmt st_read = NOTICE("notice_read",
    "SELECT " NOTICE_SELECT " FROM bb_notice_read(" WRITE_PREFIX ", p_id => :id::bigint) w");

static mstmt st_answer = NOTICE("notice_answer",
    "SELECT " NOTICE_SELECT " FROM bb_notice_answer(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_note => :note) w");

static mstmt st_stats = {
    .name = "notice_stats",
    .sql = "SELECT * FROM bb_notice_stats(p_by => coalesce(:by, 'unit'),"
           " p_scope => :_scope::bigint,"
           " p_from => :from::date, p_to => :to::date)",
    .cols = stats_cols, .ncols = STATS_NCOLS};

/* ---- notice.stats ---- */

static void stats_done(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    mreply_items(req, res, stats_cols, STATS_NCOLS);
}

static void notice_stats(request *req, const margs *a)
{
    const bb_val *from = margs_get(a, "from"), *to = margs_get(a, "to");
    /* YYYY-MM-DD texts compare as the dates they are. */
    if (from->state == BB_V_SET && to->state == BB_V_SET && strcmp(from->text, to->text) > 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "from", "from: %s is after to (%s)",
                        from->text, to->text);
        return;
    }
    mstmt_query(req, &st_stats, a, NULL, stats_done, NULL, NULL);
}

/* ---- the module ---- */

#define NOTICE_ROW .reply = MR_ROW, .shape = &notice_shape
static const method_impl notice_methods[] = {
    {"notice.list", .stmt = &st_list, .reply = MR_PAGE, .shape = &notice_shape},
    {"notice.get", .stmt = &st_get, NOTICE_ROW, .what = "notice"},
    {"notice.read", .stmt = &st_read, NOTICE_ROW},
    {"notice.answer", .stmt = &st_answer, NOTICE_ROW},
    {"notice.stats", .fn = notice_stats},
    {NULL},
};

/* The statement of the handler (those of .stmt rows register themselves). */
static mstmt *const notice_stmts[] = {&st_stats, NULL};

const method_module notice_module = {
    .name = "notice",
    .methods = notice_methods,
    .stmts = notice_stmts,
};
