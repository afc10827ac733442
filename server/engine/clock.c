/*
 * clock.c: the business clock (clock.h): the real time or a pinned
 * fake_now, and today's date in the configured zone.
 *
 * Ownership: two file-level values set once by clock_init before the loop
 * starts and only read afterwards (by the loop thread).
 */
#include "clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static bool fake;
static int64_t fake_s;

/* "YYYY-MM-DDTHH:MM:SS" then "Z" or "+hh:mm" / "-hh:mm" (a fraction of a
 * second is accepted and ignored). */
static int parse_rfc3339(const char *s, int64_t *out)
{
    /* sscanf alone would take " 2" or "+2" for a field: every position of
     * "YYYY-MM-DDTHH:MM:SS" must be a digit where a digit belongs. */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
            return -1;
    }
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
        return -1;
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int off = 0;
    if (*p == 'Z' && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9' || p[4] < '0' || p[4] > '9' ||
            p[5] < '0' || p[5] > '9' || sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 ||
            om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = se};
    time_t t = timegm(&tm);
    /* timegm normalises 02-30 to 03-02: refuse dates that do not exist. */
    struct tm back;
    if (gmtime_r(&t, &back) == NULL || back.tm_mday != d || back.tm_mon != mo - 1)
        return -1;
    *out = (int64_t)t - off;
    return 0;
}

int clock_init(const char *fake_now, char *err, size_t errlen)
{
    fake = false;
    if (fake_now == NULL || fake_now[0] == '\0')
        return 0;
    if (parse_rfc3339(fake_now, &fake_s) != 0) {
        snprintf(err, errlen,
                 "fake_now: \"%s\" is not an RFC 3339 instant like 2024-02-29T07:30:00+08:00",
                 fake_now);
        return -1;
    }
    fake = true;
    return 0;
}

int clock_is_fake(void) { return fake; }

int64_t clock_now_s(void) { return fake ? fake_s : (int64_t)time(NULL); }

int clock_today(char out[11])
{
    time_t now = (time_t)clock_now_s();
    struct tm tm;
    if (localtime_r(&now, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
        return -1;
    return 0;
}
