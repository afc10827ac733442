/*
 * overdue_rows.c: OverdueMilestone and OverdueProblem maps from the rows of
 * sql/011_overdue.sql's queries (overdue_rows.h).
 *
 * A row is packed from a table of its wire keys, each with the column it
 * comes from (relative to the row's first column) and how: as it is, the
 * investor {id, name} of two columns, the light of the days overdue, or
 * the people of a "id<TAB>role<TAB>name" lines column (011's format).
 * Not for: choosing rows, cursors (overdue.c).
 */
#include "overdue_rows.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rowpack.h"

typedef enum odrow_ftype {
    F_INT,         /* the column as an int */
    F_TEXT,        /* the column as a str */
    F_ENTERPRISE,  /* {id, name} of the column and the next, or nil */
    F_LEVEL,       /* the traffic light of the column (days overdue) */
    F_PEOPLE,      /* [{id, name, role}] of the column's lines */
} odrow_ftype;

typedef struct odrow_field {
    const char *key;
    odrow_ftype type;
    int col;       /* from the row's first column */
} odrow_field;

static const odrow_field ms_fields[] = {
    {"project_id", F_INT, 0},    {"node", F_TEXT, 1},         {"name", F_TEXT, 2},
    {"township", F_TEXT, 3},     {"enterprise", F_ENTERPRISE, 4},
    {"planned_date", F_TEXT, 6}, {"days_overdue", F_INT, 7},  {"level", F_LEVEL, 7},
    {"stage", F_TEXT, 8},        {"officials", F_PEOPLE, 9},  {"units", F_PEOPLE, 10},
};
static const odrow_field pr_fields[] = {
    {"problem_id", F_INT, 0},    {"description", F_TEXT, 1},  {"township", F_TEXT, 2},
    {"enterprise", F_ENTERPRISE, 3},                          {"deadline", F_TEXT, 5},
    {"days_overdue", F_INT, 6},  {"level", F_LEVEL, 6},       {"state", F_TEXT, 7},
    {"officials", F_PEOPLE, 8},  {"units", F_PEOPLE, 9},
};

const char *odrow_level(int64_t days_overdue, int64_t red_after)
{
    return days_overdue > red_after ? "red" : days_overdue >= 1 ? "yellow" : "green";
}

static void pack_text(msgpack_packer *pk, const PGresult *res, int row, int col)
{
    msgpack_pack_str_with_body(pk, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

/* Lines "id<TAB>role<TAB>name"; "" (or NULL) = none. */
static void pack_people(msgpack_packer *pk, const char *text)
{
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
        if (t2 != NULL)
            msgpack_pack_str_with_body(pk, t2 + 1, len - (size_t)(t2 + 1 - line));
        else
            msgpack_pack_str_with_body(pk, "", 0);
        rowpack_str(pk, "role");
        if (t1 != NULL && t2 != NULL)
            msgpack_pack_str_with_body(pk, t1 + 1, (size_t)(t2 - t1 - 1));
        else
            msgpack_pack_str_with_body(pk, "", 0);
        line = end != NULL ? end + 1 : line + len;
    }
}

static void pack_fields(msgpack_packer *pk, const PGresult *res, int r, int col0,
                        const odrow_field *fields, uint32_t nfields, int64_t red_after)
{
    msgpack_pack_map(pk, nfields);
    for (uint32_t i = 0; i < nfields; i++) {
        const odrow_field *f = &fields[i];
        int col = col0 + f->col;
        rowpack_str(pk, f->key);
        switch (f->type) {
        case F_INT:
            msgpack_pack_int64(pk, strtoll(PQgetvalue(res, r, col), NULL, 10));
            break;
        case F_TEXT:
            pack_text(pk, res, r, col);
            break;
        case F_ENTERPRISE:
            if (PQgetisnull(res, r, col)) {
                msgpack_pack_nil(pk);
                break;
            }
            msgpack_pack_map(pk, 2);
            rowpack_str(pk, "id");
            msgpack_pack_int64(pk, strtoll(PQgetvalue(res, r, col), NULL, 10));
            rowpack_str(pk, "name");
            pack_text(pk, res, r, col + 1);
            break;
        case F_LEVEL:
            rowpack_str(pk, odrow_level(strtoll(PQgetvalue(res, r, col), NULL, 10), red_after));
            break;
        case F_PEOPLE:
            pack_people(pk, PQgetvalue(res, r, col));
            break;
        }
    }
}

void odrow_pack_milestone(msgpack_packer *pk, const PGresult *res, int row, int col0,
                          int64_t red_after)
{
    pack_fields(pk, res, row, col0, ms_fields, sizeof ms_fields / sizeof ms_fields[0],
                red_after);
}

void odrow_pack_problem(msgpack_packer *pk, const PGresult *res, int row, int col0,
                        int64_t red_after)
{
    pack_fields(pk, res, row, col0, pr_fields, sizeof pr_fields / sizeof pr_fields[0],
                red_after);
}
