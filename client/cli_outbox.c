/*
 * cli_outbox.c: working offline (cli_outbox.h): which failed writes are
 * kept, sending what waits once the server answers again, the windows
 * that keep a resend from storing twice, and the commands `outbox` and
 * `sync`.
 *
 * A kept write is its exact argument bytes: the idempotency key inside
 * them makes a resend the same request, which the server answers from
 * its idempotency record when the first attempt was stored after all.
 * Only a write that certainly never left this computer (the connection or
 * the login failed before it was sent) gets a date the server would have
 * filled in (an absent BB_A_TODAY argument, status.submit's report_date):
 * today where the server is, so a visit logged offline on Friday is not
 * dated Monday when it is sent. Such a write waits however long it takes
 * (it cannot be stored twice); only one that may have reached the server
 * expires, counted from the first attempt that may have (journal.h).
 *
 * Not for: the file (journal.c), connecting and the one retry of a write
 * (cli_call.c), printing errors (cli_fail_in).
 */
#include "cli_outbox.h"

#include "cli_session.h"
#include "i18n.h"
#include "journal.h"
#include "json.h"
#include "table.h"

#include "bb_limits.h"
#include "bb_spec.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Columns of an entry's arguments in the `outbox` table. */
#define CLI_OUTBOX_WHAT_COLS 60
/* Room for a zone name as TZ takes it. */
#define CLI_OUTBOX_ZONE_BUF 72

/* ---- which writes are kept ---- */

/* The failures that mean the server could not be reached (exit 3), but not
 * a TLS failure: a certificate or a setting to fix, not a place without
 * a network. */
static bool unreachable(const bb_error *err)
{
    return cli_exit_code(err) == CLI_EXIT_UNREACHABLE && strcmp(err->code, "tls_failed") != 0;
}

/* A write the outbox may keep: declared a write, and none of its
 * arguments a password (never on disk) or a shape of its own (the bulk
 * imports: their answer is one line per row). */
static bool keepable(const bb_method_spec *ms)
{
    if (ms == NULL || !(ms->flags & BB_M_WRITE))
        return false;
    for (const bb_arg *a = ms->args; a != NULL && a->name != NULL; a++)
        if ((a->flags & BB_A_SECRET) || a->type == BB_T_ANY)
            return false;
    return true;
}

/* The argument map of bytes, unpacked into u (msgpack_unpacked_destroy);
 * NULL when it is not a map. */
static const msgpack_object *unpack_map(const void *bytes, size_t len, msgpack_unpacked *u)
{
    msgpack_unpacked_init(u);
    size_t off = 0;
    if (len == 0 || msgpack_unpack_next(u, bytes, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != len || u->data.type != MSGPACK_OBJECT_MAP)
        return NULL;
    return &u->data;
}

/* str value of key in map as a C string into out; false when absent or
 * not a str that fits. */
static bool map_str(const msgpack_object *map, const char *key, char *out, size_t cap)
{
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= cap ||
        memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL)
        return false;
    memcpy(out, v->via.str.ptr, v->via.str.size);
    out[v->via.str.size] = '\0';
    return true;
}

/* The login the write was made as: the connection's, else the one the
 * command names, else the one of the session kept for server. */
static char *queue_login(cli_ctx *ctx, const char *key)
{
    if (ctx->login != NULL)
        return strdup(ctx->login);
    const char *named = cli_named_login(ctx);
    if (named != NULL)
        return strdup(named);
    cli_saved s;
    bb_error err;
    if (cli_saved_find(key, NULL, &s, &err) != BB_C_OK)
        return NULL;
    char *login = strdup(s.login);
    cli_saved_free(&s);
    return login;
}

/* ---- dates and times where the server is ---- */

/* The TZ value of a zone the server named: the zone when this machine's
 * zone database has it, "CST-8" for Asia/Shanghai without one (as the
 * server does: UTC+8 all year since 1991), else "" (this machine's own
 * zone). */
static void zone_tz(const char *zone, char out[CLI_OUTBOX_ZONE_BUF])
{
    out[0] = '\0';
    if (zone == NULL || zone[0] == '\0' || strstr(zone, "..") != NULL)
        return;
    const char *dir = getenv("TZDIR");
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s",
                     dir != NULL && dir[0] != '\0' ? dir : "/usr/share/zoneinfo", zone);
    if (n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0)
        snprintf(out, CLI_OUTBOX_ZONE_BUF, "%s", zone);
    else if (strcmp(zone, "Asia/Shanghai") == 0)
        snprintf(out, CLI_OUTBOX_ZONE_BUF, "CST-8");
}

/* t as "YYYY-MM-DD HH:MM" (date_only: "YYYY-MM-DD") in zone tz ("" = this
 * machine's), TZ set for the moment and put back (the CLI is one thread). */
static bool time_in(const char *tz, time_t t, bool date_only, char *out, size_t cap)
{
    const char *old = getenv("TZ");
    char *saved = old != NULL ? strdup(old) : NULL;
    if (old != NULL && saved == NULL)
        return false;
    if (tz[0] != '\0') {
        setenv("TZ", tz, 1);
        tzset();
    }
    struct tm tm;
    bool ok = localtime_r(&t, &tm) != NULL &&
              (date_only ? strftime(out, cap, "%Y-%m-%d", &tm)
                         : strftime(out, cap, "%Y-%m-%d %H:%M", &tm)) > 0;
    if (tz[0] != '\0') {
        if (saved != NULL)
            setenv("TZ", saved, 1);
        else
            unsetenv("TZ");
        tzset();
    }
    free(saved);
    return ok;
}

/* The TZ of server as the outbox last heard it (server.info), "" when
 * never. */
static void server_tz(cli_journal *j, const char *server, char out[CLI_OUTBOX_ZONE_BUF])
{
    char *zone = NULL;
    int64_t days = 0;
    bb_error err;
    out[0] = '\0';
    if (j != NULL && cli_journal_server_get(j, server, &zone, &days, &err) == BB_C_OK)
        zone_tz(zone, out);
    free(zone);
}

/*
 * For a write never sent: args with every absent BB_A_TODAY date of ms
 * set to today in tz, into out (initialised by the caller). *pinned
 * names the first date set ("" when none: out is then empty and args
 * stay as they are). false on no memory or args that are not a map.
 */
static bool pin_today(const bb_method_spec *ms, const bbi_args *args, const char *tz,
                      msgpack_sbuffer *out, char pinned[96])
{
    pinned[0] = '\0';
    msgpack_unpacked u;
    const msgpack_object *map = unpack_map(args->sb.data, args->sb.size, &u);
    if (map == NULL) {
        msgpack_unpacked_destroy(&u);
        return false;
    }
    const bb_arg *add[BB_SPEC_MAX_ARGS];
    uint32_t nadd = 0;
    for (const bb_arg *a = ms->args; a != NULL && a->name != NULL; a++)
        if (a->type == BB_T_DATE && (a->flags & BB_A_TODAY) && bb_map_get(map, a->name) == NULL &&
            nadd < BB_SPEC_MAX_ARGS)
            add[nadd++] = a;
    uint32_t n = map->via.map.size;
    msgpack_unpacked_destroy(&u);
    if (nadd == 0)
        return true;
    char today[16];
    if (!time_in(tz, time(NULL), true, today, sizeof today))
        return false;
    /* The map's header, then its pairs as they were, then the dates. */
    const unsigned char *b = (const unsigned char *)args->sb.data;
    size_t head = b[0] >= 0x80 && b[0] <= 0x8f ? 1 : b[0] == 0xde ? 3 : b[0] == 0xdf ? 5 : 0;
    if (head == 0 || head > args->sb.size)
        return false;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    bool ok = msgpack_pack_map(&pk, n + nadd) == 0 &&
              msgpack_sbuffer_write(out, args->sb.data + head, args->sb.size - head) == 0;
    for (uint32_t i = 0; ok && i < nadd; i++)
        ok = msgpack_pack_str_with_body(&pk, add[i]->name, strlen(add[i]->name)) == 0 &&
             msgpack_pack_str_with_body(&pk, today, strlen(today)) == 0;
    if (ok) {
        /* Said as the user knows it: in Chinese by its doc (报告日期). */
        const char *doc = add[0]->doc;
        size_t len = doc != NULL ? strcspn(doc, ":") : 0;
        const char *mark = doc != NULL ? strstr(doc, "：") : NULL;
        if (mark != NULL && (size_t)(mark - doc) < len)
            len = (size_t)(mark - doc);
        if (cli_lang_zh() && len > 0)
            snprintf(pinned, 96, "%.*s %s", (int)len, doc, today);
        else
            snprintf(pinned, 96, "%s %s", add[0]->name, today);
    }
    return ok;
}

/* A test's way to kill the CLI for real at one point of the outbox's
 * work: $BAOBAO_TEST_OUTBOX_KILL = queued (right after an entry is
 * committed), claimed (after an entry is claimed, before it is sent) or
 * sent (after the server stored it, before the outbox says so). And to
 * make two senders overlap for sure: $BAOBAO_TEST_OUTBOX_PAUSE_MS, a pause
 * after each claim. For tests only. */
static void test_hook(const char *point)
{
    const char *at = getenv("BAOBAO_TEST_OUTBOX_KILL");
    if (at != NULL && strcmp(at, point) == 0) {
        fflush(stdout);
        fflush(stderr);
        raise(SIGKILL);
    }
    const char *pause = strcmp(point, "claimed") == 0 ? getenv("BAOBAO_TEST_OUTBOX_PAUSE_MS")
                                                      : NULL;
    long ms = pause != NULL ? strtol(pause, NULL, 10) : 0;
    if (ms > 0 && ms <= 60000) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int cli_outbox_keep(cli_ctx *ctx, const char *method, const bbi_args *args, bool maybe_sent,
                    bb_error *err)
{
    const bb_method_spec *ms = bb_spec_find(method, strlen(method));
    if (!unreachable(err) || !keepable(ms) || args == NULL || args->sb.size == 0)
        return err->rc;
    char key[BB_MAX_IDEMPOTENCY_KEY_BYTES + 1];
    msgpack_unpacked u;
    const msgpack_object *map = unpack_map(args->sb.data, args->sb.size, &u);
    bool has_key = map != NULL && map_str(map, "idempotency_key", key, sizeof key);
    msgpack_unpacked_destroy(&u);
    if (!has_key)
        return err->rc;
    const char *server = NULL;
    bb_connect_opts opts;
    bb_error serr;
    if (cli_settings(ctx, &server, &opts, &serr) != BB_C_OK)
        return err->rc;
    const char *skey = cli_saved_key(server);
    char *login = queue_login(ctx, skey);
    if (login == NULL)
        return err->rc;   /* no login known: whose queue would it be? */

    cli_journal *j = NULL;
    bb_error jerr;
    int rc = cli_journal_open(true, &j, &jerr);
    msgpack_sbuffer pinned_args;
    msgpack_sbuffer_init(&pinned_args);
    char pinned[96] = "";
    if (rc == BB_C_OK && !maybe_sent) {
        char tz[CLI_OUTBOX_ZONE_BUF];
        server_tz(j, skey, tz);
        if (!pin_today(ms, args, tz, &pinned_args, pinned))
            rc = bbi_err(&jerr, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    const void *bytes = pinned[0] != '\0' ? (const void *)pinned_args.data : args->sb.data;
    size_t len = pinned[0] != '\0' ? pinned_args.size : args->sb.size;
    int64_t id = 0;
    if (rc == BB_C_OK)
        rc = cli_journal_add(j, skey, login, method, key, bytes, len, maybe_sent, &id, &jerr);
    msgpack_sbuffer_destroy(&pinned_args);
    cli_journal_close(j);
    free(login);
    if (rc != BB_C_OK) {
        fprintf(stderr, _("baobao: the write could not be kept in the outbox: %s\n"),
                jerr.message);
        return err->rc;
    }
    test_hook("queued");
    /* What failed, then what happens now. */
    char why[sizeof err->code + 4];
    snprintf(why, sizeof why, "%s", err->code);
    char date[160] = "";
    if (pinned[0] != '\0')
        snprintf(date, sizeof date, _(" (%s: today when it was queued)"), pinned);
    bbi_err(err, BB_C_EIO, "queued", NULL,
            _("the server cannot be reached (%s): the write is kept in the outbox as entry "
              "%lld%s and will be sent by the next command that reaches the server, or by "
              "'baobao sync'; 'baobao outbox' lists what waits"),
            why, (long long)id, date);
    return err->rc;
}

/* ---- what an entry is, for a person ---- */

/* One argument as "key=value" (a str as it is, anything else as JSON). */
static void what_arg(json_out *o, const msgpack_object_kv *kv)
{
    json_raw(o, " ", 1);
    json_raw(o, kv->key.via.str.ptr, kv->key.via.str.size);
    json_raw(o, "=", 1);
    if (kv->val.type == MSGPACK_OBJECT_STR)
        json_raw(o, kv->val.via.str.ptr, kv->val.via.str.size);
    else
        json_value(o, &kv->val, -1);
}

/* "status.submit enterprise_id=5 report_date=2026-12-01 ..." (Chinese:
 * the method's summary first), the arguments in the spec's order, the key
 * left out; cut to cols columns. */
static char *what_text(const cli_jentry *e, size_t cols)
{
    const bb_method_spec *ms = bb_spec_find(e->method, strlen(e->method));
    json_out o;
    json_out_init(&o);
    const char *name = cli_lang_zh() && ms != NULL && ms->summary != NULL ? ms->summary
                                                                          : e->method;
    json_raw(&o, name, strlen(name));
    msgpack_unpacked u;
    const msgpack_object *map = unpack_map(e->args, e->args_len, &u);
    const bb_arg *every[BB_SPEC_MAX_ARGS];
    unsigned na = ms != NULL ? bb_spec_args(ms, every) : 0;
    for (unsigned a = 0; map != NULL && a < na; a++)
        for (uint32_t i = 0; i < map->via.map.size; i++) {
            const msgpack_object_kv *kv = &map->via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR &&
                kv->key.via.str.size == strlen(every[a]->name) &&
                memcmp(kv->key.via.str.ptr, every[a]->name, kv->key.via.str.size) == 0 &&
                strcmp(every[a]->name, "idempotency_key") != 0)
                what_arg(&o, kv);
        }
    msgpack_unpacked_destroy(&u);
    char *s = o.failed ? NULL : text_cell(o.data, cols);
    json_out_free(&o);
    return s;
}

/* When e was queued, "YYYY-MM-DD HH:MM" where its server is (as last
 * heard), else in this machine's zone. */
static void queued_text(cli_journal *j, const cli_jentry *e, char *out, size_t cap)
{
    char tz[CLI_OUTBOX_ZONE_BUF];
    server_tz(j, e->server, tz);
    if (!time_in(tz, (time_t)e->queued_at, false, out, cap))
        snprintf(out, cap, "%lld", (long long)e->queued_at);
}

/* An entry's refusal as cli_fail_in would say it, on one line. */
static void refusal_text(const cli_jentry *e, char *out, size_t cap)
{
    bb_error err;
    bbi_err(&err, BB_C_ESERVER, e->code != NULL ? e->code : "", e->field, "%s",
            e->message != NULL ? e->message : "");
    char text[sizeof err.message + 1200];
    cli_error_text(text, sizeof text, e->method, &err);
    if (cli_lang_zh())
        snprintf(out, cap, "%s", text);
    else
        snprintf(out, cap, "%s: %s", err.code, text);
}

/* Why an expired entry was not sent, and what to do. */
static const char expired_words[] =
    N_("too old to send safely: the server may no longer recognise it as sent before, so it "
       "could be stored twice; check whether it was stored, submit it again if not, then "
       "remove it with 'baobao outbox drop ID'");

/* ---- sending what waits ---- */

typedef struct replay_stats {
    int sent, refused, expired, waiting;
    int64_t busy_pid;     /* another process holds the queue */
    bool stopped;         /* the server stopped answering: the rest waits */
} replay_stats;

/* The outbox's own window in days ($BAOBAO_OUTBOX_MAX_DAYS). -1 (err
 * filled, config_error) when the variable is not a number in range. */
static int outbox_max_days(bb_error *err)
{
    const char *v = getenv("BAOBAO_OUTBOX_MAX_DAYS");
    if (v == NULL || v[0] == '\0')
        return CLI_OUTBOX_MAX_DAYS;
    char *end = NULL;
    errno = 0;
    long d = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || d < 1 || d > CLI_OUTBOX_MAX_DAYS_MAX) {
        cli_config_error(err, _("$BAOBAO_OUTBOX_MAX_DAYS must be a whole number of days from 1 "
                                "to %d (got \"%s\")"),
                         CLI_OUTBOX_MAX_DAYS_MAX, v);
        return -1;
    }
    return (int)d;
}

/* server.info on ctx's connection: the server's idempotency window
 * (*keep_days; the legacy 7 when it does not say) and time zone
 * (remembered in j for the dates of later entries). */
static int server_window(cli_ctx *ctx, cli_journal *j, const char *server, int64_t *keep_days,
                         bb_error *err)
{
    bb_reply *r = NULL;
    int rc = bb_call(ctx->client, "server.info", NULL, 0, &r, err);
    if (rc != BB_C_OK)
        return rc;
    const msgpack_object *res = bb_reply_result(r);
    const msgpack_object *d = bb_map_get(res, "idempotency_keep_days");
    *keep_days = d != NULL && d->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                         d->via.u64 <= INT32_MAX
                     ? (int64_t)d->via.u64
                     : CLI_OUTBOX_LEGACY_KEEP_DAYS;
    char zone[CLI_OUTBOX_ZONE_BUF];
    bb_error jerr;
    if (map_str(res, "time_zone", zone, sizeof zone) &&
        cli_journal_server_put(j, server, zone, *keep_days, &jerr) != BB_C_OK)
        fprintf(stderr, "baobao: %s\n", jerr.message);
    bb_reply_free(r);
    return BB_C_OK;
}

/* The id a result names, when it is a record with one. */
static bool result_id(const bb_reply *r, int64_t *id)
{
    const msgpack_object *v = bb_map_get(bb_reply_result(r), "id");
    if (v == NULL || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 > INT64_MAX)
        return false;
    *id = (int64_t)v->via.u64;
    return true;
}

/* The server's answer refuses the write for good (it stored nothing):
 * any error of the server but those after which it may have been stored
 * (PROTOCOL.md section 4: unavailable, internal) or that end the
 * connection. */
static bool refused_for_good(const bb_error *err)
{
    static const char *const maybe[] = {"unavailable", "internal", "shutting_down",
                                        "too_many_in_flight"};
    if (err->rc != BB_C_ESERVER)
        return false;
    for (size_t i = 0; i < sizeof maybe / sizeof maybe[0]; i++)
        if (strcmp(err->code, maybe[i]) == 0)
            return false;
    return true;
}

/* Says on f what became of entry e ("outbox entry 3 (...)" first). */
static void say_entry(FILE *f, cli_journal *j, const cli_jentry *e)
{
    char when[48];
    queued_text(j, e, when, sizeof when);
    char *what = what_text(e, CLI_OUTBOX_WHAT_COLS);
    fprintf(f, _("baobao: outbox entry %lld (%s, queued %s) "), (long long)e->id,
            what != NULL ? what : e->method, when);
    free(what);
}

/* Sends the waiting entries of the queue (server, ctx->login) on ctx's
 * connection, in order, each claimed first; out: where the lines go
 * (stderr when the command is another one). */
static int replay(cli_ctx *ctx, const char *server, FILE *out, replay_stats *st, bb_error *err)
{
    memset(st, 0, sizeof *st);
    cli_journal *j = NULL;
    int rc = cli_journal_open(false, &j, err);
    if (rc == CLI_JOURNAL_NONE)
        return BB_C_OK;
    bool any = false;
    if (rc == BB_C_OK)
        rc = cli_journal_pending(j, server, ctx->login, &any, err);
    if (rc != BB_C_OK || !any) {
        cli_journal_close(j);
        return rc;
    }
    int max_days = outbox_max_days(err);
    int64_t keep_days = 0;
    if (max_days < 0)
        rc = err->rc;
    if (rc == BB_C_OK)
        rc = server_window(ctx, j, server, &keep_days, err);
    if (rc != BB_C_OK) {
        cli_journal_close(j);
        return rc;
    }
    /* The window: the outbox's own, and never past the server's less the
     * margin, counted from the first attempt that may have reached the
     * server: its idempotency record, when that attempt stored it, is as
     * old as that attempt (a later resend does not renew it), so counting
     * from a later attempt would resend after the server forgot. Entries
     * that never left this computer are not counted at all. Older ones are
     * not sent. */
    int64_t window = (int64_t)max_days * 86400;
    if (keep_days * 86400 - CLI_OUTBOX_MARGIN_S < window)
        window = keep_days * 86400 - CLI_OUTBOX_MARGIN_S;
    int64_t now = (int64_t)time(NULL);
    char msg[512];
    snprintf(msg, sizeof msg,
             "not sent: it may have reached the server more than %lld hours ago (no answer came "
             "back); the server keeps idempotency records %lld days and the outbox resends a "
             "write at most %d days after that, less a margin: sending it now could store it "
             "twice",
             (long long)(window > 0 ? window / 3600 : 0), (long long)keep_days, max_days);
    int64_t nexp = 0;
    rc = cli_journal_expire(j, server, ctx->login, now - window, "outbox_expired", msg, &nexp,
                            err);
    if (rc == BB_C_OK && nexp > 0) {
        st->expired = (int)nexp;
        fprintf(out, _("baobao: %lld write(s) in the outbox are too old to send safely (the "
                       "server keeps idempotency records %lld days, the outbox resends within "
                       "%d days of a try that may have reached it): they are kept, not sent; "
                       "see 'baobao outbox'\n"),
                (long long)nexp, (long long)keep_days, max_days);
    }
    while (rc == BB_C_OK) {
        cli_jentry e;
        rc = cli_journal_claim(j, server, ctx->login, &e, &st->busy_pid, err);
        if (rc == CLI_JOURNAL_NONE) {
            rc = BB_C_OK;
            if (st->busy_pid > 0)
                fprintf(out, _("baobao: another baobao (process %lld) is sending the outbox of "
                               "this login just now; it sends the rest\n"),
                        (long long)st->busy_pid);
            break;
        }
        if (rc != BB_C_OK)
            break;
        test_hook("claimed");
        bb_reply *r = NULL;
        bb_error serr;
        int src = bb_call(ctx->client, e.method, e.args, e.args_len, &r, &serr);
        if (src == BB_C_OK) {
            test_hook("sent");
            int64_t id = 0;
            bool has_id = result_id(r, &id);
            bb_reply_free(r);
            rc = cli_journal_finish(j, e.id, CLI_J_SENT, NULL, NULL, NULL, has_id ? &id : NULL,
                                    err);
            st->sent++;
            say_entry(out, j, &e);
            if (has_id)
                fprintf(out, _("sent and stored (id %lld)\n"), (long long)id);
            else
                fputs(_("sent and stored\n"), out);
        } else if (refused_for_good(&serr)) {
            rc = cli_journal_finish(j, e.id, CLI_J_REFUSED, serr.code,
                                    serr.field[0] != '\0' ? serr.field : NULL, serr.message,
                                    NULL, err);
            st->refused++;
            char text[sizeof serr.message + 1400];
            cli_jentry said = {.method = e.method, .code = serr.code,
                               .field = serr.field[0] != '\0' ? serr.field : NULL,
                               .message = serr.message};
            refusal_text(&said, text, sizeof text);
            say_entry(out, j, &e);
            fprintf(out, _("was refused: %s\nbaobao: it stays in the outbox ('baobao outbox' "
                           "shows it; 'baobao outbox drop %lld' removes it)\n"),
                    text, (long long)e.id);
        } else {
            /* Not answered, or answered "maybe": it may be stored, and
             * the next send (same key) tells. The rest waits behind it. */
            rc = cli_journal_finish(j, e.id, CLI_J_WAITING, serr.code, NULL, serr.message, NULL,
                                    err);
            st->stopped = true;
            say_entry(out, j, &e);
            fprintf(out, _("could not be sent (%s); it waits for the next command or 'baobao "
                           "sync'\n"),
                    serr.code);
            *err = serr;
            cli_jentry_free(&e);
            break;
        }
        cli_jentry_free(&e);
    }
    /* What is left waiting, for sync's summary. */
    cli_jentry *all = NULL;
    size_t n = 0;
    bb_error lerr;
    if (cli_journal_list(j, false, &all, &n, &lerr) == BB_C_OK) {
        for (size_t i = 0; i < n; i++) {
            if ((all[i].state == CLI_J_WAITING || all[i].state == CLI_J_SENDING) &&
                strcmp(all[i].server, server) == 0 && strcmp(all[i].login, ctx->login) == 0)
                st->waiting++;
            cli_jentry_free(&all[i]);
        }
        free(all);
    }
    cli_journal_close(j);
    return rc;
}

/* Set by `sync`, which sends the queue itself (and counts what it sent). */
static bool g_replay_held;
static bool g_replay_done;

void cli_outbox_send_waiting(cli_ctx *ctx, const char *server)
{
    if (g_replay_held || g_replay_done || ctx->client == NULL || ctx->login == NULL)
        return;
    g_replay_done = true;
    replay_stats st;
    bb_error err;
    if (replay(ctx, cli_saved_key(server), stderr, &st, &err) != BB_C_OK && !st.stopped) {
        /* The outbox could not be used: said, and the command goes on. */
        char text[sizeof err.message + 1200];
        cli_error_text(text, sizeof text, NULL, &err);
        fprintf(stderr, _("baobao: the outbox was not sent: %s\n"), text);
    }
}

/* ---- baobao sync ---- */

static const char sync_help[] = N_(
    "Usage: baobao sync [--json]\n"
    "\n"
    "Sends the writes kept in the outbox for this server and login (the ones that\n"
    "could not reach the server), oldest first, each exactly once: the server\n"
    "recognises a resend by its idempotency key. Any command that reaches the\n"
    "server does the same before its own work; sync does only that. A write the\n"
    "server refuses, or one too old to send safely, is kept and shown by\n"
    "'baobao outbox'. Exit 0: nothing left waiting; 1: something was refused or\n"
    "is too old; 3: the server could not be reached (the writes keep waiting).\n");

int cli_sync(cli_ctx *ctx, int argc, char **argv)
{
    const char *pos[1];
    size_t npos = 0;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "sync", sync_help);
    if (rc != 0)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    bb_error err;
    cli_journal *j = NULL;
    rc = cli_journal_open(false, &j, &err);
    cli_journal_close(j);
    replay_stats st;
    memset(&st, 0, sizeof st);
    if (rc != BB_C_OK && rc != CLI_JOURNAL_NONE)
        return cli_fail(&err);
    if (rc == BB_C_OK) {
        g_replay_held = true;   /* sent below, and counted */
        rc = cli_connect(ctx, &err);
        if (rc != BB_C_OK)
            return cli_fail_in(ctx, "session.login", &err);
        const char *server = NULL;
        bb_connect_opts opts;
        rc = cli_settings(ctx, &server, &opts, &err);
        if (rc == BB_C_OK)
            rc = replay(ctx, cli_saved_key(server), ctx->json ? stderr : stdout, &st, &err);
        if (rc != BB_C_OK && !st.stopped)
            return cli_fail(&err);
    }
    if (ctx->json) {
        printf("{\"sent\": %d, \"refused\": %d, \"expired\": %d, \"waiting\": %d}\n", st.sent,
               st.refused, st.expired, st.waiting);
    } else if (st.sent + st.refused + st.expired + st.waiting == 0 && st.busy_pid == 0) {
        fputs(_("Nothing waits in the outbox.\n"), stdout);
    } else if (st.busy_pid > 0) {
        printf(_("Sent %d, refused %d, too old %d; %d more are being sent by another baobao "
                 "(process %lld).\n"),
               st.sent, st.refused, st.expired, st.waiting, (long long)st.busy_pid);
    } else {
        printf(_("Sent %d, refused %d, too old %d, still waiting %d.\n"), st.sent, st.refused,
               st.expired, st.waiting);
    }
    if (st.stopped)   /* what the last attempt got: unreachable, or the server's own error */
        return cli_exit_code(&err);
    return st.refused + st.expired > 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

/* ---- baobao outbox ---- */

static const char outbox_help[] = N_(
    "Usage: baobao outbox [--all] [--json]\n"
    "       baobao outbox drop ID\n"
    "\n"
    "Lists the writes kept on this computer because the server could not be\n"
    "reached: waiting (sent by the next command that reaches the server, or by\n"
    "'baobao sync'), sending (another baobao is sending it now), refused (the server\n"
    "said no when it was sent: the reason is shown) and too old (not sent, lest it\n"
    "be stored twice). --all also lists the ones sent in the last 30 days.\n"
    "'baobao outbox drop ID' removes one on purpose (it is then never sent).\n"
    "\n"
    "The outbox is $XDG_STATE_HOME/baobao/outbox.db, else\n"
    "~/.local/state/baobao/outbox.db, private to you (chmod 600). A write that\n"
    "never left this computer waits until it is sent, however long; one that may\n"
    "have reached the server (its answer never came) is resent at most\n"
    "$BAOBAO_OUTBOX_MAX_DAYS days (default 3) after that try, and never later than\n"
    "the server keeps idempotency records less a day.\n");

/* The state as a person reads it. */
static const char *state_text(cli_jstate s)
{
    switch (s) {
    case CLI_J_WAITING:
        return _("waiting");
    case CLI_J_SENDING:
        return _("sending");
    case CLI_J_SENT:
        return _("sent");
    case CLI_J_REFUSED:
        return _("refused");
    case CLI_J_EXPIRED:
        return _("too old");
    }
    return "?";
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    if (s == NULL)
        msgpack_pack_nil(pk);
    else
        msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* t as RFC 3339 in UTC into at ("" when it cannot be). */
static const char *utc_text(int64_t t, char at[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(at, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        at[0] = '\0';
    return at;
}

/* The entries as JSON: {"path", "items": [...]} with the arguments as
 * they were sent and times in UTC (RFC 3339), as the server's are. */
static int print_json(const cli_journal *j, const cli_jentry *v, size_t n)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    pack_cstr(&pk, "path");
    pack_cstr(&pk, cli_journal_path(j));
    pack_cstr(&pk, "items");
    msgpack_pack_array(&pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const cli_jentry *e = &v[i];
        msgpack_pack_map(&pk, 14);
        pack_cstr(&pk, "id");
        msgpack_pack_int64(&pk, e->id);
        pack_cstr(&pk, "server");
        pack_cstr(&pk, e->server);
        pack_cstr(&pk, "login");
        pack_cstr(&pk, e->login);
        pack_cstr(&pk, "method");
        pack_cstr(&pk, e->method);
        pack_cstr(&pk, "idempotency_key");
        pack_cstr(&pk, e->key);
        pack_cstr(&pk, "args");
        msgpack_sbuffer_write(&sb, (const char *)e->args, e->args_len);
        char at[32];
        pack_cstr(&pk, "queued_at");
        pack_cstr(&pk, utc_text(e->queued_at, at));
        pack_cstr(&pk, "maybe_sent_at");   /* null: it never left this computer */
        pack_cstr(&pk, e->maybe_sent ? utc_text(e->maybe_sent_at, at) : NULL);
        pack_cstr(&pk, "state");
        pack_cstr(&pk, cli_jstate_name(e->state));
        pack_cstr(&pk, "attempts");
        msgpack_pack_int64(&pk, e->attempts);
        pack_cstr(&pk, "code");
        pack_cstr(&pk, e->code);
        pack_cstr(&pk, "field");
        pack_cstr(&pk, e->field);
        pack_cstr(&pk, "message");
        pack_cstr(&pk, e->message);
        pack_cstr(&pk, "result_id");
        if (e->has_result_id)
            msgpack_pack_int64(&pk, e->result_id);
        else
            msgpack_pack_nil(&pk);
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS
                 ? cli_print_json(&u.data)
                 : cli_oom();
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* The reason column of an entry. */
static void reason_text(const cli_jentry *e, char *out, size_t cap)
{
    out[0] = '\0';
    if (e->state == CLI_J_SENT && e->has_result_id)
        snprintf(out, cap, _("stored as id %lld"), (long long)e->result_id);
    else if (e->state == CLI_J_REFUSED)
        refusal_text(e, out, cap);
    else if (e->state == CLI_J_EXPIRED)
        snprintf(out, cap, "%s", _(expired_words));
    else if (e->state == CLI_J_SENDING)
        snprintf(out, cap, _("being sent by process %lld"), (long long)e->claimed_pid);
    else if (e->code != NULL)
        snprintf(out, cap, _("last try: %s"), e->code);
    else if (!e->maybe_sent)
        snprintf(out, cap, "%s",
                 _("not sent yet: it waits, however long, until the server can be reached"));
}

/* The table; the queue (login@server) only when the entries are of more
 * than one. */
static int print_table(cli_journal *j, const cli_jentry *v, size_t n)
{
    static const char *const heads[] = {N_("ID"), N_("STATE"), N_("QUEUED"), N_("TRIES"),
                                        N_("WHAT"), N_("REASON"), N_("LOGIN@SERVER")};
    enum { NCOLS = sizeof heads / sizeof heads[0] };
    bool queues = false;
    for (size_t i = 1; i < n; i++)
        queues = queues || strcmp(v[i].server, v[0].server) != 0 ||
                 strcmp(v[i].login, v[0].login) != 0;
    size_t ncols = queues ? NCOLS : NCOLS - 1;
    table *t = table_new(ncols);
    const char *row[NCOLS];
    for (size_t c = 0; c < NCOLS; c++)
        row[c] = _(heads[c]);
    bool ok = t != NULL && table_add_row(t, row) == 0;
    if (t != NULL)
        table_set_align(t, 0, TABLE_RIGHT);
    for (size_t i = 0; ok && i < n; i++) {
        const cli_jentry *e = &v[i];
        char id[24], when[48], tries[24], queue[512], reason[2048];
        snprintf(id, sizeof id, "%lld", (long long)e->id);
        queued_text(j, e, when, sizeof when);
        snprintf(tries, sizeof tries, "%lld", (long long)e->attempts);
        snprintf(queue, sizeof queue, "%s@%s", e->login, e->server);
        reason_text(e, reason, sizeof reason);
        char *what = what_text(e, CLI_OUTBOX_WHAT_COLS);
        char *why = text_cell(reason, 0);   /* whole: it says what to do */
        const char *cells[NCOLS] = {id, state_text(e->state), when, tries,
                                    what != NULL ? what : "", why != NULL ? why : "", queue};
        ok = what != NULL && why != NULL && table_add_row(t, cells) == 0;
        free(what);
        free(why);
    }
    char *s = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    if (s == NULL)
        return cli_oom();
    fputs(s, stdout);
    free(s);
    return CLI_EXIT_OK;
}

/* `outbox drop ID`. */
static int outbox_drop(const char *word)
{
    int64_t id;
    int rc = cli_int_arg("outbox drop", "ID", word, 1, INT64_MAX, &id);
    if (rc != 0)
        return rc;
    bb_error err;
    cli_journal *j = NULL;
    rc = cli_journal_open(false, &j, &err);
    if (rc == BB_C_OK)
        rc = cli_journal_drop(j, id, &err);
    cli_journal_close(j);
    if (rc == CLI_JOURNAL_NONE) {
        fprintf(stderr, _("baobao: the outbox has no entry %lld\n"), (long long)id);
        return CLI_EXIT_REFUSED;
    }
    if (rc != BB_C_OK && strcmp(err.code, "outbox_busy") == 0) {
        fprintf(stderr, "baobao: %s\n", err.message);
        return CLI_EXIT_REFUSED;
    }
    if (rc != BB_C_OK)
        return cli_fail(&err);
    printf(_("Entry %lld removed from the outbox: it will not be sent.\n"), (long long)id);
    return CLI_EXIT_OK;
}

int cli_outbox(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {{.name = "--all"}};
    size_t no = sizeof o / sizeof o[0];
    const char *pos[2];
    size_t npos = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 2, &npos, "outbox", outbox_help);
    bool all = rc == 0 && cli_get(o, no, "--all")->count > 0;
    cli_opts_free(o, no);
    if (rc != 0)
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    if (npos > 0 && strcmp(pos[0], "drop") != 0)
        return cli_usage_error("outbox", _("unknown subcommand \"%s\" (only: drop ID)"), pos[0]);
    if (npos > 0 && (npos != 2 || all))
        return cli_usage_error("outbox", _("expected 'baobao outbox drop ID' with the ID of one "
                                           "entry (see 'baobao outbox')"));
    if (npos == 2)
        return outbox_drop(pos[1]);
    bb_error err;
    cli_journal *j = NULL;
    rc = cli_journal_open(false, &j, &err);
    cli_jentry *v = NULL;
    size_t n = 0;
    if (rc == BB_C_OK)
        rc = cli_journal_list(j, all, &v, &n, &err);
    if (rc != BB_C_OK && rc != CLI_JOURNAL_NONE) {
        cli_journal_close(j);
        return cli_fail(&err);
    }
    if (ctx->json && j != NULL)
        rc = print_json(j, v, n);
    else if (ctx->json)
        rc = (fputs("{\"path\": null, \"items\": []}\n", stdout), CLI_EXIT_OK);
    else if (n == 0)
        rc = (fputs(_("Nothing waits in the outbox.\n"), stdout), CLI_EXIT_OK);
    else
        rc = print_table(j, v, n);
    for (size_t i = 0; i < n; i++)
        cli_jentry_free(&v[i]);
    free(v);
    cli_journal_close(j);
    return rc;
}
