/*
 * log.c: logfmt lines on stderr (see log.h). Each line is written with one
 * write(2) of a formatted buffer so lines from one process
 * never interleave mid-line. Not for: access logs or metrics.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_Q_SLOTS 8
#define LOG_Q_MAX 400

static log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(log_level lvl) { min_level = lvl; }

void log_init_from_env(void)
{
    const char *v = getenv("BAOBAO_LOG");
    if (v == NULL)
        return;
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (strcasecmp(v, level_names[i]) == 0)
            min_level = (log_level)i;
}

const char *log_q(const char *s)
{
    static char slots[LOG_Q_SLOTS][LOG_Q_MAX * 2 + 8];
    static unsigned next;
    char *out = slots[next++ % LOG_Q_SLOTS];
    if (s == NULL)
        return "-";
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; s[i] != '\0' && i < LOG_Q_MAX; i++) {
        char c = s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if ((unsigned char)c < 0x20) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

static void emit(log_level lvl, uint64_t conn, uint32_t msgid,
                 int kind, const char *event, const char *fields, va_list ap)
{
    if (lvl < min_level)
        return;
    char line[LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, level_names[lvl], event);
    if (kind >= 1 && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " conn=%llu",
                      (unsigned long long)conn);
    if (kind >= 2 && n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " req=%u", msgid);
    if (fields != NULL && fields[0] != '\0' && n > 0 && (size_t)n < sizeof line - 1) {
        line[n++] = ' ';
        n += vsnprintf(line + n, sizeof line - (size_t)n, fields, ap);
    }
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w; /* nowhere left to report a failed log write */
}

void log_event(log_level lvl, const char *event, const char *fields, ...)
{
    va_list ap;
    va_start(ap, fields);
    emit(lvl, 0, 0, 0, event, fields, ap);
    va_end(ap);
}

void log_conn(log_level lvl, uint64_t conn, const char *event, const char *fields, ...)
{
    va_list ap;
    va_start(ap, fields);
    emit(lvl, conn, 0, 1, event, fields, ap);
    va_end(ap);
}

void log_req(log_level lvl, uint64_t conn, uint32_t msgid, const char *event,
             const char *fields, ...)
{
    va_list ap;
    va_start(ap, fields);
    emit(lvl, conn, msgid, 2, event, fields, ap);
    va_end(ap);
}
