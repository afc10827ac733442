/*
 * labels.c: what a person calls an argument or a record's key (labels.h):
 * the spec's argument docs, cut to a label, and the one table of words
 * for the keys of records that no argument names.
 *
 * The table's texts are English msgids only for the translators (po/): in
 * English a record shows the protocol's keys, never these words.
 * Not for: laying a record out (cli_spec.c), column headers, values.
 */
#include "labels.h"

#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The words for a record's key. first: used before any argument's doc,
 * because the argument of that name says what a change sends, not what
 * the record holds (version: 修改所依据的版本号, stage: 目标阶段 or
 * 起始阶段, reason: 更正的原因 or 撤回的原因 while the record keeps the
 * latest either way, value: 新的名称 or 现在的名称). */
typedef struct key_words {
    const char *key;
    const char *text;   /* N_() */
    bool first;
} key_words;

static const key_words key_table[] = {
    {"version", N_("version number"), true},
    {"stage", N_("stage"), true},
    {"reason", N_("reason"), true},
    {"value", N_("name"), true},
    /* Every record's own. */
    {"id", N_("record number"), false},
    {"created_at", N_("created at"), false},
    {"updated_at", N_("last changed at"), false},
    {"name", N_("name"), false},
    {"township", N_("township"), false},
    /* Status reports: who stored and withdrew one, and when. */
    {"created_by", N_("stored by (user number)"), false},
    {"withdrawn_at", N_("withdrawn at"), false},
    {"withdrawn_by", N_("withdrawn by (user number)"), false},
    /* Users (the User of `baobao login` is printed without its method). */
    {"login", N_("login name"), false},
    {"display_name", N_("full name"), false},
    {"role", N_("role"), false},
    {"unit", N_("unit worked for"), false},
    {"townships", N_("townships in charge"), false},
    {"disabled", N_("disabled"), false},
    /* The records a record points to, and their names now. */
    {"enterprise_id", N_("enterprise number"), false},
    {"enterprise_name", N_("enterprise name"), false},
    {"project_id", N_("project number"), false},
    {"official_id", N_("official number"), false},
    {"official_name", N_("official's name"), false},
    {"unit_id", N_("unit number"), false},
    {"unit_name", N_("unit name"), false},
    {"user_id", N_("user number"), false},
    {"target_name", N_("enterprise or project"), false},
    {"title", N_("post"), false},
    {"phone", N_("phone"), false},
    /* Projects, problems, troubled enterprises, reference values. */
    {"stage_reason", N_("why terminated or paused"), false},
    {"paused_from", N_("stage when paused"), false},
    {"assignee_unit", N_("unit handling it"), false},
    {"assignee_official", N_("official handling it"), false},
    {"state", N_("handling state"), false},
    {"closed_at", N_("closed at"), false},
    {"idle_land_mu", N_("idle land (mu)"), false},
    {"idle_floor_m2", N_("idle factory floor (square metres)"), false},
    {"retired", N_("retired"), false},
    {"kind", N_("kind"), false},
    /* The audit trail. */
    {"at", N_("time"), false},
    {"user", N_("changed by"), false},
    {"addr", N_("client address"), false},
    {"method", N_("action"), false},
    {"entity", N_("kind of record"), false},
    {"entity_id", N_("number of the record"), false},
    /* Export runs. */
    {"export_date", N_("export date"), false},
    {"requested_by", N_("requested by"), false},
    {"started_at", N_("started at"), false},
    {"finished_at", N_("finished at"), false},
    {"status", N_("status"), false},
    {"duration_ms", N_("duration (ms)"), false},
    {"folder", N_("folder"), false},
    {"error", N_("why it failed"), false},
    /* server.info. */
    {"protocol", N_("protocol version"), false},
    {"database_available", N_("database available"), false},
    {"time_zone", N_("time zone"), false},
    {"today", N_("today"), false},
    {"limits", N_("limits"), false},
    {"max_message_bytes", N_("largest message (bytes)"), false},
    {"max_nesting_depth", N_("deepest nesting"), false},
    {"max_in_flight", N_("requests in flight at most"), false},
    {"page_limit_default", N_("rows per page by default"), false},
    {"page_limit_max", N_("rows per page at most"), false},
    {"idempotency_keep_days", N_("days a retry key is kept"), false},
};

static const key_words *table_find(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof key_table / sizeof key_table[0]; i++)
        if (strlen(key_table[i].key) == len && memcmp(key_table[i].key, key, len) == 0)
            return &key_table[i];
    return NULL;
}

/* Ends s at the first of marks found past its start (a mark at the very
 * start would leave nothing). */
static void cut_at(char *s, const char *const *marks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *p = strstr(s, marks[i]);
        if (p != NULL && p != s)
            *p = '\0';
    }
}

char *cli_arg_label(const bb_arg *a, bool record)
{
    char *s;
    if (cli_lang_zh() && a->doc != NULL) {
        s = strdup(a->doc);
        static const char *const cuts[] = {"；", "：", ";", ":"};
        if (s != NULL)
            cut_at(s, cuts, sizeof cuts / sizeof cuts[0]);
        size_t n = s != NULL ? strlen(s) : 0, id = strlen("编号");
        if (record && n > id && strcmp(s + n - id, "编号") == 0)
            s[n - id] = '\0';
        return s;
    }
    s = strdup(a->name);
    size_t n = s != NULL ? strlen(s) : 0;
    if (record && n > 3 && strcmp(s + n - 3, "_id") == 0)
        s[n - 3] = '\0';
    for (char *p = s; p != NULL && *p != '\0'; p++)
        if (*p == '_')
            *p = ' ';
    return s;
}

/* The label a record takes from argument a (Chinese): cli_arg_label's,
 * to its first "，" as well. *out NULL when a has no doc, or its label
 * holds a Latin letter or a digit (labels.h). 0, or -1 on no memory. */
static int doc_label(const bb_arg *a, char **out)
{
    *out = NULL;
    if (a == NULL || a->doc == NULL || a->doc[0] == '\0')
        return 0;
    char *s = cli_arg_label(a, false);
    if (s == NULL)
        return -1;
    static const char *const phrase[] = {"，", ","};
    cut_at(s, phrase, sizeof phrase / sizeof phrase[0]);
    bool help = s[0] == '\0';
    for (const char *p = s; *p != '\0' && !help; p++)
        help = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
    if (help)
        free(s);
    else
        *out = s;
    return 0;
}

/* The length of the kind of record a method answers: the leading name of
 * its result ("Problem" of "Problem with events"); 0 when the result is no
 * one kind of record ("page of ...", "items of ...", "true", "record"). */
static size_t shape_len(const char *result)
{
    if (result == NULL || result[0] < 'A' || result[0] > 'Z')
        return 0;
    size_t n = 0;
    while ((result[n] >= 'A' && result[n] <= 'Z') || (result[n] >= 'a' && result[n] <= 'z'))
        n++;
    return n;
}

/* The label of key[0..len) from the arguments of the methods answering
 * ms's kind of record (labels.h, step 2). 0 (*out NULL when none), or -1
 * on no memory. */
static int from_args(const bb_method_spec *ms, const char *key, size_t len, char **out)
{
    *out = NULL;
    size_t shape = shape_len(ms->result);
    if (shape == 0)
        return doc_label(bb_spec_arg(ms, key, len), out);
    for (int writes = 1; writes >= 0; writes--)
        for (size_t t = 0; bb_spec_tables[t] != NULL; t++)
            for (const bb_method_spec *m = bb_spec_tables[t]; m->name != NULL; m++) {
                if (((m->flags & BB_M_WRITE) != 0) != (writes == 1) ||
                    shape_len(m->result) != shape || memcmp(m->result, ms->result, shape) != 0)
                    continue;
                if (doc_label(bb_spec_arg(m, key, len), out) != 0)
                    return -1;
                if (*out != NULL)
                    return 0;
            }
    return 0;
}

/* The Chinese label of key[0..len) (labels.h, steps 1 to 4). */
static char *label_of(const bb_method_spec *ms, const char *key, size_t len)
{
    const key_words *w = table_find(key, len);
    if (w != NULL && w->first)
        return strdup(_(w->text));
    char *s = NULL;
    if (ms != NULL && from_args(ms, key, len, &s) != 0)
        return NULL;
    if (s != NULL)
        return s;
    if (w != NULL)
        return strdup(_(w->text));
    return strndup(key, len);
}

char *cli_key_label(const bb_method_spec *ms, const char *key)
{
    if (!cli_lang_zh())
        return strdup(key);
    const char *dot = strchr(key, '.');
    if (dot == NULL)
        return label_of(ms, key, strlen(key));
    char *head = label_of(ms, key, (size_t)(dot - key));
    const key_words *w = table_find(dot + 1, strlen(dot + 1));
    char *s = NULL;
    if (head != NULL && asprintf(&s, "%s.%s", head, w != NULL ? _(w->text) : dot + 1) < 0)
        s = NULL;
    free(head);
    return s;
}
