/*
 * cli_print.c: what `baobao` prints on success.
 *
 * For: --json (the raw result as JSON, the pages of --all as one), writing
 * rendered text, and times as a person reads them: the instants the
 * server sends in UTC (RFC 3339) shown in the server's time_zone as
 * "2026-12-07 12:44:40", the same in Chinese and English. Records and
 * tables are laid out by cli_spec.c.
 * Not for: errors (cli_call.c prints those to stderr).
 */
#include "cli.h"

#include "i18n.h"
#include "json.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The longest zone name the server accepts (PROTOCOL.md, time_zone), and
 * its NUL. */
#define CLI_ZONE_BUF 64

bool cli_put(char *s)
{
    if (s == NULL) {
        fputs(_("baobao: out_of_memory: could not lay out the output\n"), stderr);
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
        fputs(_("baobao: out_of_memory: could not write JSON\n"), stderr);
        return CLI_EXIT_PROTOCOL;
    }
    fwrite(j.data, 1, j.len, stdout);
    json_out_free(&j);
    return CLI_EXIT_OK;
}

/* ---- times in the server's zone ---- */

/* The run's context (main's), and the zone once asked: the TZ value that
 * shows it ("" until asked), or failed when it cannot be known. A failed
 * server.info (the connection just broke) is asked again, at most every
 * CLI_ZONE_RETRY_MS, so a long `baobao watch` does not show UTC for good;
 * a zone this machine does not know is not asked again. */
#define CLI_ZONE_RETRY_MS 10000
static cli_ctx *g_ctx;
static char g_tz[CLI_ZONE_BUF + 8];
static bool g_tz_asked, g_tz_failed;
static int64_t g_tz_retry_at;   /* bbi_now_ms; 0: no retry */

void cli_print_init(cli_ctx *ctx)
{
    g_ctx = ctx;
}

/* Whether the zone database of this machine has zone ($TZDIR, else
 * /usr/share/zoneinfo). */
static bool zone_known(const char *zone)
{
    const char *dir = getenv("TZDIR");
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s",
                     dir != NULL && dir[0] != '\0' ? dir : "/usr/share/zoneinfo", zone);
    return n > 0 && (size_t)n < sizeof path && strstr(zone, "..") == NULL &&
           access(path, R_OK) == 0;
}

/* Asks server.info for time_zone; fills g_tz. Once, unless the call
 * failed (then again after CLI_ZONE_RETRY_MS). */
static void ask_zone(void)
{
    g_tz_asked = true;
    g_tz_failed = true;
    g_tz_retry_at = 0;
    if (g_ctx == NULL)
        return;
    bb_reply *r = NULL;
    bb_error err;
    if (cli_call(g_ctx, "server.info", NULL, false, &r, &err) != BB_C_OK) {
        g_tz_retry_at = bbi_now_ms() + CLI_ZONE_RETRY_MS;
        return;
    }
    const msgpack_object *z = bb_map_get(bb_reply_result(r), "time_zone");
    if (z != NULL && z->type == MSGPACK_OBJECT_STR && z->via.str.size > 0 &&
        z->via.str.size < CLI_ZONE_BUF && memchr(z->via.str.ptr, '\0', z->via.str.size) == NULL) {
        char zone[CLI_ZONE_BUF];
        memcpy(zone, z->via.str.ptr, z->via.str.size);
        zone[z->via.str.size] = '\0';
        if (zone_known(zone)) {
            snprintf(g_tz, sizeof g_tz, "%s", zone);
            g_tz_failed = false;
        } else if (strcmp(zone, "Asia/Shanghai") == 0) {
            /* As the server does without a zone database: China has kept
             * UTC+8 all year since 1991 (POSIX TZ: "CST-8"). */
            snprintf(g_tz, sizeof g_tz, "CST-8");
            g_tz_failed = false;
        }
    }
    bb_reply_free(r);
}

/* n decimal digits at s as an int; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* The instant of an RFC 3339 text (cli_time_text's form), or false. */
static bool parse_instant(const char *s, size_t len, time_t *out)
{
    if (len < 20 || len > 40 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return false;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 60)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    long offset = 0;
    if (i + 1 == len && s[i] == 'Z') {
        offset = 0;
    } else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return false;
        offset = (s[i] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    } else {
        return false;
    }
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d)   /* 31 February */
        return false;
    *out = t - offset;
    return true;
}

bool cli_time_text(const char *s, size_t len, char out[CLI_TIME_BUF])
{
    time_t t;
    if (!parse_instant(s, len, &t))
        return false;
    if (!g_tz_asked || (g_tz_retry_at != 0 && bbi_now_ms() >= g_tz_retry_at))
        ask_zone();
    if (g_tz_failed)
        return false;
    /* localtime_r in the server's zone: TZ for the moment, then back to
     * what it was (the CLI is one thread). */
    const char *old = getenv("TZ");
    char *saved = old != NULL ? strdup(old) : NULL;
    if (old != NULL && saved == NULL)
        return false;
    setenv("TZ", g_tz, 1);
    tzset();
    struct tm tm;
    bool ok = localtime_r(&t, &tm) != NULL &&
              strftime(out, CLI_TIME_BUF, "%Y-%m-%d %H:%M:%S", &tm) > 0;
    if (saved != NULL)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    return ok;
}

const char *cli_map_str(const msgpack_object *map, const char *key, char *buf, size_t n)
{
    const msgpack_object *o = map != NULL ? bb_map_get(map, key) : NULL;
    buf[0] = '\0';
    if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
        size_t len = o->via.str.size < n - 1 ? o->via.str.size : n - 1;
        memcpy(buf, o->via.str.ptr, len);
        buf[len] = '\0';
    }
    return buf;
}

int64_t cli_map_int(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = map != NULL ? bb_map_get(map, key) : NULL;
    if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (int64_t)o->via.u64;
    if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return o->via.i64;
    return 0;
}

/* ---- supervision's words ---- */

/* The word of code in map (pairs of code and N_() English), translated;
 * the code itself when it is not there. */
static const char *word_of(const char *const (*map)[2], size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, map[i][0]) == 0)
            return _(map[i][1]);
    return code;
}

const char *cli_light_text(const char *light)
{
    static const char *const map[][2] = {
        {"green", N_("green light")}, {"yellow", N_("yellow light")},
        {"red", N_("red light")},     {"done", N_("done (cleared)")},
        {"off", N_("no longer supervised")},
    };
    if (light[0] == '\0')
        return _("(first evaluation)");
    return word_of(map, sizeof map / sizeof map[0], light);
}

const char *cli_level_text(const char *level)
{
    static const char *const map[][2] = {
        {"due", N_("reminder")},   {"yellow", N_("yellow card")},
        {"red", N_("red card")},   {"escalated", N_("escalated")},
    };
    return word_of(map, sizeof map / sizeof map[0], level);
}

const char *cli_state_text(const char *state)
{
    static const char *const map[][2] = {
        {"issued", N_("issued")},     {"read", N_("marked read")},
        {"answered", N_("answered")}, {"closed", N_("closed")},
    };
    return word_of(map, sizeof map / sizeof map[0], state);
}
