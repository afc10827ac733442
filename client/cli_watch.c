/*
 * cli_watch.c: `baobao watch [--all]`, the notices and light changes the
 * server pushes (watch.subscribe; PROTOCOL.md section 1, "Push"), one line
 * each as they come, until interrupted.
 *
 * For: staying subscribed: a lost connection (the server restarted, the
 * network went away) is connected again by itself, with a growing pause
 * (WATCH_BACKOFF_MIN_MS doubling to WATCH_BACKOFF_MAX_MS), logging in as
 * any command does (a session kept by `baobao login` is resumed, so no
 * password is asked again); what was issued meanwhile, or dropped by the
 * server for a slow reader (watch.missed), is caught up with notice.list
 * and light.changes from the last id shown (with `mine` unless --all), so
 * nothing is missed and nothing is shown twice. The server closes a
 * connection that sends nothing for idle_timeout_ms (pushes do not count),
 * so a request (server.info) goes at least every WATCH_PING_MS. Times are
 * shown by cli_time_text.
 * Not for: who is told what (the server: the audience of each notice),
 * the notices themselves (cli_notice.c shows one in full).
 */
#include "cli.h"
#include "i18n.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reconnect pauses: from this, doubling, to at most that. */
#define WATCH_BACKOFF_MIN_MS 1000
#define WATCH_BACKOFF_MAX_MS 30000
/* A request (server.info) goes when none went for this long: it keeps
 * the connection from the server's idle_timeout_ms (default 300 s; pushes
 * are not activity) and notices a silently dead one. server.info does not
 * tell idle_timeout_ms, so this is fixed, well under the default. */
#define WATCH_PING_MS 60000
/* Ids shown lately, per kind: a push and a catch-up may both bring one. */
#define WATCH_SEEN 256
/* The longest text cell this file copies out of a record. */
#define WATCH_TEXT_MAX 1024

static const char watch_help[] = N_(
    "Usage: baobao watch [--all] [--json]\n"
    "\n"
    "Prints the 督办 notices and the traffic-light changes that concern you as the\n"
    "server issues them, one line each, until interrupted (Ctrl-C). --all\n"
    "(supervisors and admins) prints every one. When the connection is lost it\n"
    "connects again by itself and first prints what was issued meanwhile (the\n"
    "notices and light changes that concern you, or all with --all). --json\n"
    "prints each record as the server sent it.\n");

typedef struct watch_state {
    bool all;
    bool json;
    int64_t notice_after, light_after;    /* -1: not known yet */
    int64_t sent_ms;                      /* when the last request went */
    int64_t seen[2][WATCH_SEEN];
    unsigned seen_next[2];
} watch_state;

enum { W_NOTICE = 0, W_LIGHT = 1 };

/* True when id of kind was shown already; else remembers it. */
static bool seen_before(watch_state *w, int kind, int64_t id)
{
    for (unsigned i = 0; i < WATCH_SEEN; i++)
        if (w->seen[kind][i] == id)
            return true;
    w->seen[kind][w->seen_next[kind]++ % WATCH_SEEN] = id;
    return false;
}

/* A wire instant as shown (the server's zone), or the text as sent. */
static const char *time_of(const msgpack_object *rec, const char *key, char out[CLI_TIME_BUF],
                           char *raw, size_t rawcap)
{
    cli_map_str(rec, key, raw, rawcap);
    return cli_time_text(raw, strlen(raw), out) ? out : raw;
}

static void print_notice(watch_state *w, const msgpack_object *n)
{
    int64_t id = cli_map_int(n, "id");
    if (id > w->notice_after)
        w->notice_after = id;
    if (seen_before(w, W_NOTICE, id))
        return;
    if (w->json) {
        (void)cli_print_json(n);
        fflush(stdout);
        return;
    }
    char t[CLI_TIME_BUF], raw[64], number[128], level[32], title[WATCH_TEXT_MAX], due[32];
    const char *when = time_of(n, "issued_at", t, raw, sizeof raw);
    cli_map_str(n, "number", number, sizeof number);
    cli_map_str(n, "level", level, sizeof level);
    cli_map_str(n, "title", title, sizeof title);
    cli_map_str(n, "due_date", due, sizeof due);
    /* days_overdue is negative before the due date (a reminder): said
     * only once it is late. */
    int64_t late = cli_map_int(n, "days_overdue");
    if (late > 0)
        printf(_("%s  notice %s [%s] %s; due %s, %lld days overdue (baobao notice show %lld)\n"),
               when, number, cli_level_text(level), title, due[0] != '\0' ? due : "-",
               (long long)late, (long long)id);
    else
        printf(_("%s  notice %s [%s] %s; due %s (baobao notice show %lld)\n"), when, number,
               cli_level_text(level), title, due[0] != '\0' ? due : "-", (long long)id);
    fflush(stdout);
}

static void print_light(watch_state *w, const msgpack_object *c)
{
    int64_t id = cli_map_int(c, "id");
    if (id > w->light_after)
        w->light_after = id;
    if (seen_before(w, W_LIGHT, id))
        return;
    if (w->json) {
        (void)cli_print_json(c);
        fflush(stdout);
        return;
    }
    char t[CLI_TIME_BUF], raw[64], title[WATCH_TEXT_MAX], from[32], to[32];
    const char *when = time_of(c, "at", t, raw, sizeof raw);
    cli_map_str(c, "title", title, sizeof title);
    cli_map_str(c, "from_light", from, sizeof from);
    cli_map_str(c, "to_light", to, sizeof to);
    int64_t late = cli_map_int(c, "days_overdue");
    if (late > 0)
        printf(_("%s  light %s: %s -> %s, %lld days overdue\n"), when, title, cli_light_text(from),
               cli_light_text(to), (long long)late);
    else
        printf(_("%s  light %s: %s -> %s\n"), when, title, cli_light_text(from), cli_light_text(to));
    fflush(stdout);
}

/* Every page of method after *after (notice.list, light.changes), each
 * item printed. BB_C_OK or the error. */
static int catch_up(cli_ctx *ctx, watch_state *w, const char *method, int kind,
                    bb_error *err)
{
    for (;;) {
        int64_t after = kind == W_NOTICE ? w->notice_after : w->light_after;
        bbi_kvs k = {.n = 0};
        bbi_kv_int(&k, "after", after);
        /* No limit: the server's default page, whatever page_limit_max
         * the operator set. */
        if (!w->all)
            bbi_kv_bool(&k, "mine", true);
        w->sent_ms = bbi_now_ms();
        bb_reply *r = NULL;
        int rc = bbi_call_kvs(ctx->client, method, &k, &r, err);
        bbi_kvs_free(&k);
        if (rc != BB_C_OK)
            return rc;
        const msgpack_object *res = bb_reply_result(r);
        const msgpack_object *items = bb_map_get(res, "items");
        const msgpack_object *next = bb_map_get(res, "next");
        size_t n = items != NULL && items->type == MSGPACK_OBJECT_ARRAY ? items->via.array.size : 0;
        for (size_t i = 0; i < n; i++) {
            if (kind == W_NOTICE)
                print_notice(w, &items->via.array.ptr[i]);
            else
                print_light(w, &items->via.array.ptr[i]);
        }
        bool more = next != NULL && next->type == MSGPACK_OBJECT_POSITIVE_INTEGER && n > 0;
        bb_reply_free(r);
        if (!more)
            return BB_C_OK;
    }
}

static int catch_up_all(cli_ctx *ctx, watch_state *w, bb_error *err)
{
    int rc = catch_up(ctx, w, "notice.list", W_NOTICE, err);
    /* Without --all, light.changes `mine`: the changes pushed to this user
     * (their audience), as notice.list `mine` for notices. */
    if (rc == BB_C_OK)
        rc = catch_up(ctx, w, "light.changes", W_LIGHT, err);
    return rc;
}

/* Connects, logs in, subscribes and catches up. */
static int start(cli_ctx *ctx, watch_state *w, bb_error *err)
{
    int rc = cli_connect(ctx, err);
    if (rc != BB_C_OK)
        return rc;
    bbi_kvs k = {.n = 0};
    if (w->all)
        bbi_kv_bool(&k, "all", true);
    bb_reply *r = NULL;
    w->sent_ms = bbi_now_ms();
    rc = bbi_call_kvs(ctx->client, "watch.subscribe", &k, &r, err);
    bbi_kvs_free(&k);
    if (rc != BB_C_OK)
        return rc;
    const msgpack_object *res = bb_reply_result(r);
    if (w->notice_after < 0) {
        /* First subscription: from now on. */
        w->notice_after = cli_map_int(res, "notice_last");
        w->light_after = cli_map_int(res, "light_last");
        fprintf(stderr, _("Watching for notices and light changes (Ctrl-C to stop).\n"));
        bb_reply_free(r);
        return BB_C_OK;
    }
    bb_reply_free(r);
    return catch_up_all(ctx, w, err);
}

/* An error after which trying again cannot help (refused, bad login). */
static bool fatal(const bb_error *e)
{
    return e->rc == BB_C_EARG || e->rc == BB_C_ENOMEM ||
           (e->rc == BB_C_ESERVER && strcmp(e->code, "unavailable") != 0 &&
            strcmp(e->code, "shutting_down") != 0);
}

/* Why the connection is being made again, in the run's language. */
static void say_retry(const bb_error *err, int backoff)
{
    char why[2048];
    cli_error_text(why, sizeof why, NULL, err);
    fprintf(stderr, _("baobao: %s; connecting again in %d s\n"), why, backoff / 1000);
}

static void pause_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int cli_watch(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {{.name = "--all"}};
    size_t no = sizeof o / sizeof o[0];
    const char *pos[1];
    size_t npos = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, "watch", watch_help);
    watch_state *w = calloc(1, sizeof *w);
    if (w == NULL)
        rc = rc != 0 ? rc : cli_oom();
    else
        w->all = rc == 0 && cli_get(o, no, "--all")->count > 0;
    cli_opts_free(o, no);
    if (rc != 0) {
        free(w);
        return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
    }
    w->json = ctx->json;
    w->notice_after = w->light_after = -1;
    int backoff = WATCH_BACKOFF_MIN_MS;
    bb_error err;
    for (;;) {
        if (ctx->client == NULL) {
            rc = start(ctx, w, &err);
            if (rc != BB_C_OK) {
                if (fatal(&err)) {
                    free(w);
                    return cli_fail_in(ctx, "watch.subscribe", &err);
                }
                cli_disconnect(ctx);
                say_retry(&err, backoff);
                pause_ms(backoff);
                backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            backoff = WATCH_BACKOFF_MIN_MS;
        }
        bb_reply *r = NULL;
        /* Until a request is due, however many pushes come meanwhile. */
        int64_t due = w->sent_ms + WATCH_PING_MS - bbi_now_ms();
        rc = bb_next_notification(ctx->client, due > 0 ? (int)due : 0, &r, &err);
        if (rc == BB_C_ETIMEOUT) {
            bb_reply *p = NULL;
            w->sent_ms = bbi_now_ms();
            rc = bb_call(ctx->client, "server.info", NULL, 0, &p, &err);
            bb_reply_free(p);
            if (rc == BB_C_OK)
                continue;
        }
        if (rc != BB_C_OK) {
            say_retry(&err, backoff);
            cli_disconnect(ctx);
            pause_ms(backoff);
            continue;
        }
        const char *m = bb_reply_method(r);
        const msgpack_object *rec = bb_reply_result(r);
        if (strcmp(m, "notice.issued") == 0) {
            print_notice(w, rec);
        } else if (strcmp(m, "light.changed") == 0) {
            print_light(w, rec);
        } else if (strcmp(m, "watch.missed") == 0) {
            fprintf(stderr, _("Some notifications were not delivered; catching up.\n"));
            if (catch_up_all(ctx, w, &err) != BB_C_OK)
                cli_disconnect(ctx); /* the next round connects and catches up */
        }
        bb_reply_free(r);
    }
}
