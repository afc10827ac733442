/*
 * log.h: structured log lines on stderr, one event per line, logfmt:
 *
 *   ts=2026-11-26T02:03:04.123Z level=error event=query_failed conn=12 req=5 sqlstate=23505 msg="..."
 *
 * (under systemd, with stderr going to the journal, "<3>level=error ..."
 * instead: the priority for journald and no ts=, see log.c).
 *
 * Every line names the event; lines about a connection or a request carry
 * conn= and req= (use log_conn / log_req). Values given with %s that may
 * hold spaces, quotes or newlines are passed through log_q, which quotes and
 * escapes them. Only the loop thread logs (the thread pool does not), so
 * log_q's rotating static buffers are safe there; the bytes then go through
 * a queue to a writer thread (log_init), so a slow stderr never blocks it.
 */
#ifndef BB_LOG_H
#define BB_LOG_H

#include <stdint.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Lines below this level are dropped (default LOG_INFO; BAOBAO_LOG=debug). */
void log_set_level(log_level lvl);
/* Reads BAOBAO_LOG and starts the writer thread (log.c): from then on no
 * caller blocks on stderr; lines are queued and, when the queue is full,
 * dropped and counted. Call once, early in main; the queue is drained at
 * exit. */
void log_init_from_env(void);

/* A line with no connection: fields is a printf format for "k=v k=v". */
void log_event(log_level lvl, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));
/* A line about connection `conn`. */
void log_conn(log_level lvl, uint64_t conn, const char *event, const char *fields, ...)
    __attribute__((format(printf, 4, 5)));
/* A line about request `msgid` on connection `conn`. */
void log_req(log_level lvl, uint64_t conn, uint32_t msgid, const char *event,
             const char *fields, ...) __attribute__((format(printf, 5, 6)));

/* The prefix of a line a program writes to stderr itself, before it can
 * log (baobaod's "baobaod: ..." reasons for exit 2): "<3>" when stderr is
 * the journal's stream, so journald files the reason as an error rather
 * than at the stream's default info; "" anywhere else. Works before
 * log_init_from_env. */
const char *log_stderr_prefix(void);

/* Returns s quoted and escaped for logfmt ("..." with \" \\ \n), cut at 400
 * bytes. The result lives until 8 more log_q calls. NULL gives "-". */
const char *log_q(const char *s);

#endif
