/*
 * log.c: logfmt lines on stderr (see log.h).
 *
 * The loop thread never writes to stderr itself: a stalled reader of the
 * pipe (a paused journald, a terminal on ^S) would stall the whole server.
 * Lines are formatted on the caller's thread and copied into a ring of
 * LOG_RING_BYTES; one writer thread drains the ring to stderr. When the
 * ring is full the line is dropped and counted, and the writer reports the
 * count (event=log_lines_dropped) once it has room again: losing log lines
 * is better than blocking requests. Whole lines only, so lines never
 * interleave mid-line.
 *
 * Ownership: the ring and the writer thread are this file's; log_init
 * starts the thread, an atexit handler drains the ring and joins it, so
 * every line logged before exit reaches stderr. Before log_init (and if
 * the thread cannot start) lines are written directly.
 *
 * Under systemd (stderr connected to the journal: JOURNAL_STREAM names
 * stderr's device and inode, systemd.exec(5)) a line starts with its
 * syslog priority instead of ts=: "<3>level=error event=...", as
 * sd-daemon(3) describes. journald stores that as the entry's PRIORITY
 * (`journalctl -p warning` works) and stamps every entry itself to the
 * microsecond, so a ts= of ours would only be printed twice. Anywhere else
 * (a terminal, a file, the tests) lines keep their ts=. What a program
 * prints to stderr itself before it can log (baobaod's reasons for exit 2)
 * starts with log_stderr_prefix(), so the journal files it as an error.
 *
 * Not for: access logs or metrics.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_Q_SLOTS 8
#define LOG_Q_MAX 400
/* Lines waiting for the writer thread, in bytes: about 5,000 typical
 * lines, a few seconds of a very busy debug log. */
#define LOG_RING_BYTES (1024u * 1024u)

static struct {
    pthread_mutex_t mu;
    pthread_cond_t more;          /* the ring got bytes, or stop was set */
    char *buf;                    /* LOG_RING_BYTES; owned */
    size_t head, len;             /* unwritten bytes: buf[head .. head+len) mod size */
    unsigned long long dropped;   /* lines lost to a full ring, not yet reported */
    bool started, stop;
    bool writing;                 /* the writer is inside write(2) */
    pthread_t thread;
} ring = {.mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER};

static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* sd-daemon(3)'s SD_DEBUG, SD_INFO, SD_WARNING, SD_ERR, by log_level. */
static const char *const journal_priority[] = {"<7>", "<6>", "<4>", "<3>"};
/* stderr is the journal's stream (log_init_from_env); set once, before the
 * writer thread starts, read-only after. */
static bool to_journal;

/* True when JOURNAL_STREAM ("DEV:INODE", set by systemd for a service whose
 * stdout or stderr goes to the journal) names the file stderr is: a child
 * that inherited the variable but writes its stderr elsewhere (a file, a
 * pipe to another program) must keep the plain format. */
static bool stderr_is_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    char tail;
    struct stat st;
    if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

const char *log_stderr_prefix(void)
{
    /* Not to_journal: the first reasons are printed before log_init. */
    return stderr_is_journal() ? journal_priority[LOG_ERROR] : "";
}

/* The start of a line into out: "ts=2026-11-26T02:03:04.123Z level=info",
 * or "<6>level=info" for the journal. Returns its length. */
static int format_head(char *out, size_t outlen, log_level lvl)
{
    if (to_journal)
        return snprintf(out, outlen, "%slevel=%s", journal_priority[lvl], level_names[lvl]);
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    return snprintf(out, outlen, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, ts.tv_nsec / 1000000L, level_names[lvl]);
}

/* Writes all of p[0..n) to stderr (the writer thread, or before it runs). */
static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a failed log write */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void *writer_main(void *arg)
{
    (void)arg;
    static char chunk[64 * 1024];
    pthread_mutex_lock(&ring.mu);
    for (;;) {
        while (ring.len == 0 && ring.dropped == 0 && !ring.stop)
            pthread_cond_wait(&ring.more, &ring.mu);
        if (ring.len == 0 && ring.dropped == 0 && ring.stop)
            break;
        size_t n = ring.len;
        if (n > LOG_RING_BYTES - ring.head)
            n = LOG_RING_BYTES - ring.head;
        if (n > sizeof chunk)
            n = sizeof chunk;
        memcpy(chunk, ring.buf + ring.head, n);
        ring.head = (ring.head + n) % LOG_RING_BYTES;
        ring.len -= n;
        unsigned long long dropped = ring.dropped;
        ring.dropped = 0;
        ring.writing = true;
        pthread_mutex_unlock(&ring.mu);
        write_all(chunk, n);
        if (dropped > 0) {
            char line[200];
            int k = format_head(line, sizeof line, LOG_WARN);
            k += snprintf(line + k, sizeof line - (size_t)k,
                          " event=log_lines_dropped count=%llu why=\"log ring full: "
                          "stderr is read too slowly\"\n",
                          dropped);
            if (k > 0)
                write_all(line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
        }
        pthread_mutex_lock(&ring.mu);
        ring.writing = false;
    }
    pthread_mutex_unlock(&ring.mu);
    return NULL;
}

/* How long the exit waits for the writer to empty the ring: stderr may be
 * stalled (a paused journald, a terminal on ^S), and an exit that waited
 * for it would hang the process after its shutdown deadline. */
#define LOG_EXIT_DRAIN_MS 2000

/* atexit: everything logged so far reaches stderr before the process ends,
 * unless stderr does not take it within LOG_EXIT_DRAIN_MS; then the rest
 * is given up (the writer thread is left blocked and ends with the
 * process). */
static void log_stop(void)
{
    pthread_mutex_lock(&ring.mu);
    if (!ring.started) {
        pthread_mutex_unlock(&ring.mu);
        return;
    }
    pthread_cond_signal(&ring.more);
    for (int waited = 0; (ring.len > 0 || ring.writing) && waited < LOG_EXIT_DRAIN_MS;
         waited += 10) {
        pthread_mutex_unlock(&ring.mu);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&ring.mu);
    }
    if (ring.len > 0 || ring.writing) {
        pthread_mutex_unlock(&ring.mu);
        return;
    }
    ring.stop = true;
    pthread_cond_signal(&ring.more);
    pthread_mutex_unlock(&ring.mu);
    pthread_join(ring.thread, NULL);
    pthread_mutex_lock(&ring.mu);
    ring.started = false;
    free(ring.buf);
    ring.buf = NULL;
    pthread_mutex_unlock(&ring.mu);
}

static void log_init(void)
{
    pthread_mutex_lock(&ring.mu);
    if (ring.started) {
        pthread_mutex_unlock(&ring.mu);
        return;
    }
    ring.buf = malloc(LOG_RING_BYTES);
    if (ring.buf != NULL && pthread_create(&ring.thread, NULL, writer_main, NULL) == 0) {
        ring.started = true;
        ring.stop = false;
        ring.head = ring.len = 0;
    } else {
        free(ring.buf);
        ring.buf = NULL; /* lines go straight to stderr, as before */
    }
    pthread_mutex_unlock(&ring.mu);
    if (ring.started)
        atexit(log_stop);
}

/* Hands one whole line to the writer, or drops it when the ring is full. */
static void push_line(const char *line, size_t n)
{
    pthread_mutex_lock(&ring.mu);
    if (!ring.started) {
        pthread_mutex_unlock(&ring.mu);
        write_all(line, n);
        return;
    }
    if (n > LOG_RING_BYTES - ring.len) {
        ring.dropped++;
    } else {
        size_t tail = (ring.head + ring.len) % LOG_RING_BYTES;
        size_t first = n < LOG_RING_BYTES - tail ? n : LOG_RING_BYTES - tail;
        memcpy(ring.buf + tail, line, first);
        memcpy(ring.buf, line + first, n - first);
        ring.len += n;
    }
    pthread_cond_signal(&ring.more);
    pthread_mutex_unlock(&ring.mu);
}

static log_level min_level = LOG_INFO;

void log_set_level(log_level lvl) { min_level = lvl; }

void log_init_from_env(void)
{
    to_journal = stderr_is_journal();
    log_init();
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
    int n = format_head(line, sizeof line, lvl);
    if (n > 0 && (size_t)n < sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " event=%s", event);
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
    push_line(line, (size_t)n);
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
