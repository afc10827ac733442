/*
 * input.c: text as people type it, read into the protocol's forms
 * (input.h). Integer arithmetic only: an amount is never a float here.
 */
#include "input.h"

#include "bb_space.h"
#include "bb_spec.h"
#include "bb_utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Full-width ASCII forms: U+FF01..U+FF5E are U+0021..U+007E moved by
 * this much. */
#define FULLWIDTH_FIRST 0xff01u
#define FULLWIDTH_LAST 0xff5eu
#define FULLWIDTH_SHIFT 0xfee0u
#define IDEOGRAPHIC_SPACE 0x3000u

/* A month and day without a year ("12月5日") is this year's unless that
 * is more than this many days after today (about six months): then it
 * is last year's. */
#define DATE_AHEAD_MAX_DAYS 183

/* Digits between two group separators of a number (1,234,567). */
#define GROUP_DIGITS 3

/* The forms each reader takes, named in its refusal. */
#define INT_FORMS "856, 856万, 1.2亿, 1,234,567"
#define DATE_FORMS "2026-12-05, 2026/12/5, 2026年12月5日, 12月5日, 今天, 昨天"

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
    if (why != NULL && whylen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return BBI_IN_BAD;
}

size_t bbi_input_clean(const char *s, size_t len, bool machine, char *out)
{
    size_t start;
    size_t n = bb_trim(s, len, &start);
    size_t o = 0;
    if (!machine) {
        memcpy(out, s + start, n);
        o = n;
    }
    for (size_t i = start; machine && i < start + n;) {
        size_t at = i;
        unsigned c = bb_utf8_next(s, start + n, &i);
        if (c >= FULLWIDTH_FIRST && c <= FULLWIDTH_LAST) {
            out[o++] = (char)(c - FULLWIDTH_SHIFT);   /* 3 bytes become 1 */
        } else if (c == IDEOGRAPHIC_SPACE) {
            out[o++] = ' ';
        } else {
            memcpy(out + o, s + at, i - at);
            o += i - at;
        }
    }
    out[o] = '\0';
    return o;
}

/* A machine form of text (trimmed, folded) in buf of cap bytes; false
 * when it does not fit (no form read here is that long). */
static bool cleaned(const char *text, char *buf, size_t cap)
{
    size_t len = strlen(text);
    if (len + 1 > cap || !bb_utf8_valid(text, len))
        return false;
    bbi_input_clean(text, len, true, buf);
    return true;
}

/* Longest typed number or date read (after folding): anything longer is
 * not one. */
#define FORM_MAX 96

/* ---- integers ---- */

/* The units an integer may carry, and the power of ten each stands for. */
static const struct {
    const char *word;
    unsigned exp;
} units[] = {
    {"", 0}, {"元", 0}, {"万", 4}, {"万元", 4}, {"亿", 8}, {"亿元", 8},
};

int bbi_input_int(const char *text, int64_t *out, char *why, size_t whylen)
{
    char s[FORM_MAX];
    if (!cleaned(text, s, sizeof s))
        return refuse(why, whylen, "not a number (e.g. " INT_FORMS ")");
    size_t i = 0;
    bool neg = s[0] == '-';
    i += neg;
    uint64_t whole = 0;
    size_t ndigits = 0;
    /* Group separators (1,234,567; 1_234_567): the same one throughout,
     * the first group of 1 to 3 digits, every later one of exactly 3. So
     * 1,5 or 1，5万 (a comma typed for a decimal point) is refused, never
     * read as 15. */
    char sep = 0;
    size_t group = 0;     /* digits since the start or the last separator */
    bool grouped = true;  /* the separators so far stand where they may */
    for (; s[i] != '\0'; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (whole > (UINT64_MAX - 9) / 10)
                return refuse(why, whylen, "\"%s\" is too large", s);
            whole = whole * 10 + (uint64_t)(s[i] - '0');
            ndigits++;
            group++;
        } else if ((s[i] == ',' || s[i] == '_') && ndigits > 0 && s[i + 1] >= '0' &&
                   s[i + 1] <= '9') {
            if ((sep == 0 && group > GROUP_DIGITS) || (sep != 0 && group != GROUP_DIGITS) ||
                (sep != 0 && s[i] != sep))
                grouped = false;
            sep = s[i];
            group = 0;
        } else {
            break;
        }
    }
    if (ndigits == 0)
        return refuse(why, whylen, "\"%s\" is not a number (e.g. " INT_FORMS ")", s);
    if (!grouped || (sep != 0 && group != GROUP_DIGITS))
        return refuse(why, whylen, "\"%s\" is not a number: separators go between groups of "
                      "three digits (e.g. 1,234,567)", s);
    /* The decimal part, kept as digits until the unit says what they are
     * worth: only zeros may stand past the units place. */
    uint64_t frac = 0;
    unsigned nfrac = 0;
    bool nonzero_past = false;
    const char *frac_at = NULL;
    if (s[i] == '.') {
        frac_at = s + ++i;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        if (s + i == frac_at)
            return refuse(why, whylen, "\"%s\" is not a number (e.g. " INT_FORMS ")", s);
    }
    while (s[i] == ' ')
        i++;
    size_t u = 0;
    while (u < sizeof units / sizeof units[0] && strcmp(s + i, units[u].word) != 0)
        u++;
    if (u == sizeof units / sizeof units[0])
        return refuse(why, whylen, "\"%s\" is not a number (e.g. " INT_FORMS ")", s);
    unsigned exp = units[u].exp;
    for (const char *f = frac_at; f != NULL && *f >= '0' && *f <= '9'; f++) {
        if (nfrac < exp) {
            frac = frac * 10 + (uint64_t)(*f - '0');
            nfrac++;
        } else if (*f != '0') {
            nonzero_past = true;
        }
    }
    if (nonzero_past && exp == 0)
        return refuse(why, whylen, "\"%s\" is not a whole number", s);
    if (nonzero_past)
        return refuse(why, whylen, "\"%s\" is not a whole number: %s takes at most %u decimal "
                      "places", s, units[u].word, exp);
    uint64_t scale = 1, fscale = 1;
    for (unsigned k = 0; k < exp; k++)
        scale *= 10;
    for (unsigned k = nfrac; k < exp; k++)
        fscale *= 10;
    if (whole > UINT64_MAX / scale || whole * scale > UINT64_MAX - frac * fscale)
        return refuse(why, whylen, "\"%s\" is too large", s);
    uint64_t v = whole * scale + frac * fscale;
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return refuse(why, whylen, "\"%s\" is too large", s);
    *out = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return BBI_IN_OK;
}

/* ---- dates ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (H.
 * Hinnant's algorithms; valid far beyond years 1..9999). */
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

/* Writes y-m-d as YYYY-MM-DD when it is a calendar date. */
static int put_date(int64_t y, unsigned m, unsigned d, char out[BBI_DATE_BUF], char *why,
                    size_t whylen)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%04lld-%02u-%02u", (long long)y, m, d);
    if (strlen(buf) != 10 || bb_date_check(buf, 10) != BB_DATE_OK)
        return refuse(why, whylen, "%s is not a calendar date", buf);
    memcpy(out, buf, BBI_DATE_BUF);
    return BBI_IN_OK;
}

/* Reads 1..max digits at *p (advancing it); the count read, 0 for none or
 * more than max. */
static unsigned digits(const char **p, unsigned max, unsigned *v)
{
    unsigned n = 0;
    *v = 0;
    while (**p >= '0' && **p <= '9') {
        if (++n > max)
            return 0;
        *v = *v * 10 + (unsigned)(**p - '0');
        (*p)++;
    }
    return n;
}

/* p begins with word: then *p moves past it. */
static bool eat(const char **p, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*p, word, n) != 0)
        return false;
    *p += n;
    return true;
}

/* The day's word at the end of 5日 or 5号 is optional. */
static void eat_day(const char **p)
{
    if (!eat(p, "日"))
        (void)eat(p, "号");
}

/* The words of a date relative to today, and how many days back. */
static const struct {
    const char *word;
    int back;
} relative[] = {
    {"today", 0}, {"今天", 0}, {"今日", 0},
    {"yesterday", 1}, {"昨天", 1}, {"昨日", 1},
    {"前天", 2},
};

int bbi_input_date(const char *text, const char *today, char out[BBI_DATE_BUF], char *why,
                   size_t whylen)
{
    char s[FORM_MAX];
    if (!cleaned(text, s, sizeof s))
        return refuse(why, whylen, "not a date (e.g. " DATE_FORMS ")");
    for (char *c = s; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');   /* Today, TODAY */
    /* today as days, when given and needed */
    int64_t ty = 0;
    unsigned tm = 0, td = 0;
    bool have_today = false;
    if (today != NULL) {
        const char *t = today;
        have_today = strlen(today) == 10 && bb_date_check(today, 10) == BB_DATE_OK;
        unsigned v;
        if (have_today) {
            digits(&t, 4, &v);
            ty = v;
            t++;
            digits(&t, 2, &tm);
            t++;
            digits(&t, 2, &td);
        }
    }
    for (size_t k = 0; k < sizeof relative / sizeof relative[0]; k++) {
        if (strcmp(s, relative[k].word) != 0)
            continue;
        if (!have_today)
            return BBI_IN_NEED_TODAY;
        int64_t y;
        unsigned m, d;
        civil_from_days(days_from_civil(ty, tm, td) - relative[k].back, &y, &m, &d);
        return put_date(y, m, d, out, why, whylen);
    }
    /* Each form is tried from just after the first number. */
    const char *p = s;
    unsigned a, b, c;
    unsigned na = digits(&p, 8, &a);
    const char *rest = p;
    /* 20261205 */
    if (na == 8 && *p == '\0')
        return put_date(a / 10000, a / 100 % 100, a % 100, out, why, whylen);
    /* 2026-12-05, 2026/12/5, 2026.12.5: the same separator twice */
    if (na == 4 && (*p == '-' || *p == '/' || *p == '.')) {
        char sep = *p++;
        if (digits(&p, 2, &b) > 0 && *p++ == sep && digits(&p, 2, &c) > 0 && *p == '\0')
            return put_date(a, b, c, out, why, whylen);
    }
    /* 2026年12月5日 (日, 号 or nothing at the end) */
    p = rest;
    if (na == 4 && eat(&p, "年")) {
        bool ymd = digits(&p, 2, &b) > 0 && eat(&p, "月") && digits(&p, 2, &c) > 0;
        if (ymd)
            eat_day(&p);
        if (ymd && *p == '\0')
            return put_date(a, b, c, out, why, whylen);
    }
    /* 12月5日: this year's, or last year's when this year's is more than
     * DATE_AHEAD_MAX_DAYS ahead (12月30日 typed on January 5th is the
     * December just gone). Never next year's: a date that far ahead (a
     * deadline) is typed with its year. */
    p = rest;
    if ((na == 1 || na == 2) && eat(&p, "月")) {
        bool md = digits(&p, 2, &b) > 0;
        if (md)
            eat_day(&p);
        if (md && *p == '\0') {
            if (!have_today)
                return BBI_IN_NEED_TODAY;
            int64_t y = ty;
            if (a >= 1 && a <= 12 && b >= 1 && b <= 31 &&
                days_from_civil(ty, a, b) - days_from_civil(ty, tm, td) > DATE_AHEAD_MAX_DAYS)
                y = ty - 1;
            return put_date(y, a, b, out, why, whylen);
        }
    }
    return refuse(why, whylen, "\"%s\" is not a date (e.g. " DATE_FORMS ")", s);
}

/* ---- yes and no ---- */

int bbi_input_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1", "是"};
    static const char *const no[] = {"false", "no", "0", "否"};
    char s[FORM_MAX];
    if (!cleaned(text, s, sizeof s))
        return BBI_IN_BAD;
    for (char *c = s; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
            *out = strcmp(s, yes[i]) == 0;
            return BBI_IN_OK;
        }
    }
    return BBI_IN_BAD;
}

/* ---- today ---- */

/* The process's provider (input.h: set before calls start). */
static struct {
    bbi_today_fn fn;
    void *ud;
} provider;

void bbi_input_set_today(bbi_today_fn fn, void *ud)
{
    provider.fn = fn;
    provider.ud = ud;
}

int bbi_input_today(const char *name, char out[BBI_DATE_BUF], bb_error *err)
{
    if (provider.fn == NULL)
        return bbi_err(err, BB_C_EARG, "invalid_argument", name,
                       "%s: today's date is the server's and is not known here; give the date "
                       "as YYYY-MM-DD", name);
    return provider.fn(provider.ud, out, err);
}
