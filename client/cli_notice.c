/*
 * cli_notice.c: `baobao notices` (the 督办 notices, notice.list) and
 * `baobao notice show|read|answer|stats` (notice.get, .read, .answer,
 * .stats), issue 13.
 *
 * For: the words people read a notice in: its number (督〔2026〕3号), its
 * level (提醒, 黄牌, 红牌, 升级) and state (已下发, 已读, 已答复, 已办结) in
 * the language of the run, the item, the due date and the days overdue,
 * whom it is addressed to, the times in the server's time zone; and the
 * table of the counts by unit or township. Options, help, paging and the
 * retry of writes (one idempotency key) come from the method spec
 * (cli_spec.c); --json prints what the server sent.
 * Not for: who may read or answer a notice, or when a notice is issued or
 * closed (the server decides: sql/023, sql/024; a refusal is printed and
 * exits 1).
 */
#include "cli.h"
#include "i18n.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest text cell this file copies out of a result (a title, an
 * answer: 2000 characters of at most 4 bytes). */
#define NOTICE_TEXT_MAX 8192
/* The recipients' names of one notice, joined. */
#define NOTICE_PEOPLE_MAX 2048

static const char notices_about[] = N_(
    "督办 notices (督办单) the server issued for milestones and problems that fall\n"
    "due, turn yellow or red, or stay red (escalated to the city leader). Township\n"
    "staff see the notices of their townships; --mine lists only those addressed to\n"
    "you (your official, your unit, your townships); --unanswered those still\n"
    "waiting for an answer.\n");

static const char notice_intro[] = N_(
    "One 督办 notice: show it, mark it read, answer it with what was done; and the\n"
    "counts of notices by unit or township (supervisors).\n");

static const cli_alias notice_alias[] = {{"unit", "unit_id"}, {NULL, NULL}};
/* --mine and --unanswered are flags (true when given), so the list's own
 * options leave those two arguments out. */
static const cli_flag list_flags[] = {
    {"mine", "mine", "true"}, {"unanswered", "unanswered", "true"}, {NULL, NULL, NULL},
};
static const char *const list_opts[] = {"state", "level", "unit_id", "township", "after", "limit",
                                        NULL};

/* ---- words ---- */

/* The recipients' names joined ("郑华、招商办"), or "-" when none. */
static void people_text(const msgpack_object *n, char *out, size_t cap)
{
    const msgpack_object *rs = bb_map_get(n, "recipients");
    size_t len = 0;
    out[0] = '\0';
    uint32_t count = rs != NULL && rs->type == MSGPACK_OBJECT_ARRAY ? rs->via.array.size : 0;
    for (uint32_t i = 0; i < count; i++) {
        char name[256];
        cli_map_str(&rs->via.array.ptr[i], "name", name, sizeof name);
        int w = snprintf(out + len, cap - len, "%s%s", i ? _(", ") : "", name);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    if (len == 0)
        snprintf(out, cap, "-");
}

/* An instant of the result in the server's time zone (as it came when the
 * zone is not known). */
static const char *time_text(const msgpack_object *n, const char *key, char out[CLI_TIME_BUF])
{
    char raw[64];
    cli_map_str(n, key, raw, sizeof raw);
    if (!cli_time_text(raw, strlen(raw), out))
        snprintf(out, CLI_TIME_BUF, "%s", raw);
    return out;
}

static bool has(const msgpack_object *n, const char *key)
{
    const msgpack_object *v = bb_map_get(n, key);
    return v != NULL && v->type != MSGPACK_OBJECT_NIL;
}

/* ---- baobao notices ---- */

enum { NL_NCOLS = 9 };

static int print_notices(cli_ctx *ctx, const msgpack_object *items)
{
    (void)ctx;
    if (items->via.array.size == 0) {
        printf("%s\n", _("No notices."));
        return CLI_EXIT_OK;
    }
    table *t = table_new(NL_NCOLS);
    if (t == NULL)
        return cli_oom();
    table_set_align(t, 0, TABLE_RIGHT);
    table_set_align(t, 6, TABLE_RIGHT);
    const char *head[NL_NCOLS] = {_("NOTICE_ID"), _("NUMBER"), _("LEVEL"), _("STATE"),
                                  _("ITEM"), _("DUE"), _("DAYS OVERDUE"), _("RESPONSIBLE"),
                                  _("ISSUED ON")};
    bool ok = table_add_row(t, head) == 0;
    char *title = malloc(NOTICE_TEXT_MAX), *people = malloc(NOTICE_PEOPLE_MAX);
    ok = ok && title != NULL && people != NULL;
    for (uint32_t i = 0; ok && i < items->via.array.size; i++) {
        const msgpack_object *n = &items->via.array.ptr[i];
        char id[24], days[24], number[64], level[32], state[32], due[16], issued[16];
        snprintf(id, sizeof id, "%" PRId64, cli_map_int(n, "id"));
        snprintf(days, sizeof days, "%" PRId64, cli_map_int(n, "days_overdue"));
        cli_map_str(n, "number", number, sizeof number);
        cli_map_str(n, "level", level, sizeof level);
        cli_map_str(n, "state", state, sizeof state);
        cli_map_str(n, "due_date", due, sizeof due);
        cli_map_str(n, "issued_on", issued, sizeof issued);
        cli_map_str(n, "title", title, NOTICE_TEXT_MAX);
        people_text(n, people, NOTICE_PEOPLE_MAX);
        const char *row[NL_NCOLS] = {id,  number, cli_level_text(level), cli_state_text(state), title,
                                     due, days,   people,            issued};
        ok = table_add_row(t, row) == 0;
    }
    free(title);
    free(people);
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    return cli_put(text) ? CLI_EXIT_OK : cli_oom();
}

static const cli_mech notices_cmd = {
    .cmd = "notices", .method = "notice.list", .aliases = notice_alias, .flags = list_flags,
    .only = list_opts, .print_items = print_notices, .about = notices_about,
};

int cli_notices(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_run(ctx, &notices_cmd, argc, argv);
}

/* ---- baobao notice show|read|answer ---- */

/* "label: value" with the label in the run's language. */
static void line(const char *label, const char *value)
{
    printf("%s%s%s\n", _(label), _(": "), value);
}

/* A notice, every field in words: what, whom, when, the answer. */
static int print_notice(const msgpack_object *n)
{
    char *buf = malloc(NOTICE_TEXT_MAX);
    if (buf == NULL)
        return cli_oom();
    char small[256], when[CLI_TIME_BUF], who[256];
    snprintf(small, sizeof small, "%s (ID %" PRId64 ")",
             cli_map_str(n, "number", buf, NOTICE_TEXT_MAX), cli_map_int(n, "id"));
    line(N_("Number"), small);
    line(N_("Level"), cli_level_text(cli_map_str(n, "level", small, sizeof small)));
    line(N_("State"), cli_state_text(cli_map_str(n, "state", small, sizeof small)));
    line(N_("Item"), cli_map_str(n, "title", buf, NOTICE_TEXT_MAX));
    line(N_("Township"), cli_map_str(n, "township", small, sizeof small));
    int64_t days = cli_map_int(n, "days_overdue");
    char due[16];
    cli_map_str(n, "due_date", due, sizeof due);
    if (days > 0)
        snprintf(small, sizeof small, _("%s (%lld days overdue when issued)"), due,
                 (long long)days);
    else if (days < 0)
        snprintf(small, sizeof small, _("%s (%lld days left when issued)"), due,
                 (long long)-days);
    else
        snprintf(small, sizeof small, _("%s (due on the day of issue)"), due);
    line(N_("Due"), small);
    char issued[16];
    cli_map_str(n, "issued_on", issued, sizeof issued);
    snprintf(small, sizeof small, "%s (%s)", issued, time_text(n, "issued_at", when));
    line(N_("Issued"), small);
    if (has(n, "escalated_from")) {
        snprintf(small, sizeof small, _("notice %lld"),
                 (long long)cli_map_int(n, "escalated_from"));
        line(N_("Escalated from"), small);
    }
    const msgpack_object *rs = bb_map_get(n, "recipients");
    uint32_t nr = rs != NULL && rs->type == MSGPACK_OBJECT_ARRAY ? rs->via.array.size : 0;
    printf("%s%s\n", _("Addressed to"), _(": "));
    if (nr == 0)
        printf("  %s\n", _("(nobody responsible on record)"));
    for (uint32_t i = 0; i < nr; i++) {
        const msgpack_object *r = &rs->via.array.ptr[i];
        char role[64], name[256];
        cli_map_str(r, "role", role, sizeof role);
        cli_map_str(r, "name", name, sizeof name);
        printf("  %s %s\n", role, name);
    }
    if (has(n, "read_at")) {
        snprintf(small, sizeof small, "%s, %s", time_text(n, "read_at", when),
                 cli_map_str(n, "read_by_name", who, sizeof who));
        line(N_("Read"), small);
    }
    if (has(n, "answered_at")) {
        snprintf(small, sizeof small, "%s, %s", time_text(n, "answered_at", when),
                 cli_map_str(n, "answered_by_name", who, sizeof who));
        line(N_("Answered"), small);
        line(N_("Answer"), cli_map_str(n, "answer", buf, NOTICE_TEXT_MAX));
    }
    if (has(n, "closed_on")) {
        char reason[16];
        cli_map_str(n, "close_reason", reason, sizeof reason);
        snprintf(small, sizeof small, "%s (%s)", cli_map_str(n, "closed_on", due, sizeof due),
                 strcmp(reason, "done") == 0 ? _("the item is done")
                                             : _("the item is no longer supervised"));
        line(N_("Closed"), small);
    }
    free(buf);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

/* ---- baobao notice stats ---- */

enum { ST_NCOLS = 8 };

static int print_stats(cli_ctx *ctx, const msgpack_object *items)
{
    (void)ctx;
    if (items->via.array.size == 0) {
        printf("%s\n", _("No notices in this range."));
        return CLI_EXIT_OK;
    }
    table *t = table_new(ST_NCOLS);
    if (t == NULL)
        return cli_oom();
    for (size_t c = 1; c < ST_NCOLS; c++)
        table_set_align(t, c, TABLE_RIGHT);
    const char *head[ST_NCOLS] = {_("UNIT OR TOWNSHIP"), _("ISSUED"), _("READ"),
                                  _("ANSWERED"),         _("UNANSWERED"), _("CLOSED"),
                                  _("RED CARDS"),        _("ESCALATED")};
    static const char *const keys[ST_NCOLS] = {"name", "issued", "read", "answered",
                                               "unanswered", "closed", "red", "escalated"};
    bool ok = table_add_row(t, head) == 0;
    for (uint32_t i = 0; ok && i < items->via.array.size; i++) {
        const msgpack_object *s = &items->via.array.ptr[i];
        char cells[ST_NCOLS][256];
        const char *row[ST_NCOLS];
        cli_map_str(s, "name", cells[0], sizeof cells[0]);
        row[0] = cells[0];
        for (size_t c = 1; c < ST_NCOLS; c++) {
            snprintf(cells[c], sizeof cells[c], "%" PRId64, cli_map_int(s, keys[c]));
            row[c] = cells[c];
        }
        ok = table_add_row(t, row) == 0;
    }
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    return cli_put(text) ? CLI_EXIT_OK : cli_oom();
}

const cli_mech cli_notice_cmds[] = {
    {.cmd = "notice show", .method = "notice.get", .pos = "id", .print = print_notice},
    {.cmd = "notice read", .method = "notice.read", .pos = "id", .print = print_notice,
     .about = N_("Marks the notice read (已读). A notice read, answered or closed already\n"
                 "stays as it is.\n")},
    {.cmd = "notice answer", .method = "notice.answer", .pos = "id", .pos2 = "note",
     .print = print_notice,
     .about = N_("Answers the notice with what was done (at most 2000 characters). A new\n"
                 "answer replaces the earlier one; a closed notice takes no answer.\n")},
    {.cmd = "notice stats", .method = "notice.stats",
     .print_items = print_stats,
     .about = N_("Counts the notices issued from --from to --to (default: all) by unit\n"
                 "(default) or by township (--by township): read, answered, still\n"
                 "unanswered, closed, and how many were red cards or escalated.\n")},
    {.cmd = "notice list", .method = "notice.list", .aliases = notice_alias,
     .flags = list_flags, .only = list_opts, .print_items = print_notices, .about = notices_about},
    {.cmd = NULL},
};

int cli_notice(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "notice", notice_intro, cli_notice_cmds, argc, argv);
}
