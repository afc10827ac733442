/*
 * bb_limits.h: every limit of the wire protocol and the server, with its
 * default, in one place.
 *
 * Each limit has a configuration key (the string in the comment) that
 * baobaod accepts as `--set key=value`; server/engine/config.c maps the keys onto a
 * struct and proto/PROTOCOL.md lists them. Tests in tests/ exceed each one.
 * This header holds defaults only: the values in force are in the server's
 * configuration and reported by `server.info`.
 */
#ifndef BB_LIMITS_H
#define BB_LIMITS_H

/* "max_message_bytes": largest single msgpack message, whole envelope. */
#define BB_DEFAULT_MAX_MESSAGE_BYTES (1024u * 1024u)
/* "max_nesting_depth": deepest nesting of arrays/maps; the envelope array
 * is depth 1, its params array depth 2, the argument map depth 3. */
#define BB_DEFAULT_MAX_NESTING_DEPTH 16u
/* "max_in_flight": requests a connection may have unanswered at once. */
#define BB_DEFAULT_MAX_IN_FLIGHT 128u
/* "write_high_water" / "write_low_water": bytes queued for a client that
 * does not read; above high the server stops reading its requests, below
 * low it reads again. */
#define BB_DEFAULT_WRITE_HIGH_WATER (1024u * 1024u)
#define BB_DEFAULT_WRITE_LOW_WATER (256u * 1024u)
/* "idle_timeout_ms": a connection with nothing in flight and no bytes
 * received for this long is closed. */
#define BB_DEFAULT_IDLE_TIMEOUT_MS 300000u
/* "shutdown_deadline_ms": after SIGINT/SIGTERM, in-flight requests get this
 * long to finish before everything is closed regardless. */
#define BB_DEFAULT_SHUTDOWN_DEADLINE_MS 10000u
/* "tls_handshake_timeout_ms": a TLS connection whose handshake is not
 * finished this long after it was accepted is closed (whatever
 * idle_timeout_ms says): a stalled handshake holds a connection slot. */
#define BB_DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS 10000u
/* "max_connections": client connections open at once; more are accepted,
 * told why with a `connection.closing` notification (plaintext ports only:
 * on a TLS port that would need a handshake) and half-closed, lingering at
 * most 2 s so the notice is not lost to a reset. */
#define BB_DEFAULT_MAX_CONNECTIONS 16384u
/* "input_budget_bytes": server-wide bound on input buffer memory held for
 * unfinished messages. Every connection may keep one read chunk (64 KiB)
 * of input without asking; growth beyond that is reserved from this
 * budget, and a connection whose growth it cannot cover is told
 * `connection.closing` (unavailable) and closed. Without it, 16384
 * connections each holding max_message_bytes of one unfinished message
 * could pin ~17 GiB. */
#define BB_DEFAULT_INPUT_BUDGET_BYTES (256u * 1024u * 1024u)
/* "output_budget_bytes": server-wide bound on answers waiting to be
 * written (write_high_water bounds one connection; this bounds them all).
 * Past it, connections holding more than write_low_water stop being read
 * until the total is below 3/4 of it, and while it is still exceeded the
 * connections with the most unsent output are closed, largest first.
 * Without it, 1,000 clients that pipeline and never read pinned ~1.4 GB.
 * At least 64 KiB and at least write_high_water. */
#define BB_DEFAULT_OUTPUT_BUDGET_BYTES (256u * 1024u * 1024u)
/* "page_limit_default" / "page_limit_max": rows per page in list methods. */
#define BB_DEFAULT_PAGE_LIMIT 50u
#define BB_MAX_PAGE_LIMIT 500u
/* "pool_size": PostgreSQL connections in the pool. */
#define BB_DEFAULT_POOL_SIZE 4u
/* "pool_pipeline_depth": queries sent ahead on one PostgreSQL connection. */
#define BB_DEFAULT_PIPELINE_DEPTH 64u
/* "pool_queue_max": queries waiting for a connection before new ones are
 * refused with `unavailable`. */
#define BB_DEFAULT_POOL_QUEUE_MAX 8192u
/* "status_batch_max": most status.submit rows one group-commit statement
 * carries. "status_batches_in_flight": submit statements in the database at
 * once; while that many are out, new submits gather for the next batch. */
#define BB_DEFAULT_STATUS_BATCH_MAX 256u
#define BB_DEFAULT_STATUS_BATCHES_IN_FLIGHT 2u

/* Logins (server/methods/login.c). After each failed login for an account or
 * from an address the answer waits login_delay_ms x the failures so far
 * (so guessing slows down at once); after login_max_failures failures in a
 * row the account (or address) is locked for login_lock_ms. At most
 * login_max_pending password checks wait for or run on the thread pool at
 * once, server-wide (each may take password_memlimit_kib of memory). */
#define BB_DEFAULT_LOGIN_MAX_FAILURES 5u
#define BB_DEFAULT_LOGIN_LOCK_MS 300000u
#define BB_DEFAULT_LOGIN_DELAY_MS 200u
#define BB_DEFAULT_LOGIN_MAX_PENDING 64u
/* A kept session (session.login keep, session.resume): its token is good
 * for session_token_ttl_s seconds from its issue (7 days). */
#define BB_DEFAULT_SESSION_TOKEN_TTL_S 604800u
/* Issue 14, item 1: a session (one login, or one resume of a kept token)
 * ends after this long without a request (8 hours: a working day), and
 * this long after the password login it comes from, resumes included
 * (7 days, as a kept token). 0 = no such limit. */
#define BB_DEFAULT_SESSION_IDLE_S 28800u
#define BB_DEFAULT_SESSION_MAX_S 604800u
/* Issue 14, item 4: what every statement of the pool may take at most
 * (PostgreSQL's statement_timeout), kept in every pooler mode. */
#define BB_DEFAULT_STATEMENT_TIMEOUT_MS 30000u
/* Issue 14, item 6: read_db connections, and how far behind the primary a
 * replica may be and still answer reads. */
#define BB_DEFAULT_READ_POOL_SIZE 4u
#define BB_DEFAULT_READ_MAX_LAG_MS 5000u
/* Issue 14: one exporter per database: a run's owner refreshes its
 * heartbeat this often; a run whose heartbeat is older than the stale
 * time is taken as dead (its process gone) and may be failed by another
 * process's recovery. */
#define EXPORT_HEARTBEAT_MS 5000u
#define EXPORT_OWNER_STALE_MS 30000u
/* Idempotency records are kept this many days (housekeeping deletes older
 * ones): a retry with the same key must come within it, and so must a
 * write a client kept offline (the CLI's outbox sends within its own,
 * shorter window, read from server.info). */
#define BB_DEFAULT_IDEMPOTENCY_KEEP_DAYS 7u
/* Overdue supervision (issue 5; DOMAIN.md "What overdue means"): a
 * milestone or problem late by 1..overdue_red_after_days days is yellow,
 * later is red, not yet late is green; due.* lists what falls due within
 * due_soon_days unless the request says otherwise. */
#define BB_DEFAULT_OVERDUE_RED_AFTER_DAYS 30u
#define BB_DEFAULT_DUE_SOON_DAYS 7u
/* Corrections (issue 12, status.correct / status.withdraw): township staff
 * change a report they stored for this many days after the day they
 * stored it (in time_zone); supervisors at any time. */
#define BB_DEFAULT_STATUS_CORRECT_DAYS 7u
/* Reporting-cycle completeness (issue 12, coverage.visits): a cycle is
 * visit_cycle_months calendar months counted from 1 January; it must
 * divide 12 so the cycles tile the year (1 a month, 3 the quarters). */
#define BB_DEFAULT_VISIT_CYCLE_MONTHS 1u

/* Supervision that runs itself (issue 13; server/methods/supervise.c,
 * sql/023_supervision.sql). The sweep evaluates every open milestone's and
 * problem's light and applies the notice rules: a 提醒 notice when an item
 * falls due within notice_due_days (0: none), 黄牌 when it turns yellow,
 * 红牌 when it turns red, 升级 to the 包保市领导 once it has been red for
 * notice_escalate_days more days (0: never). It runs at start, every
 * supervise_interval_ms, just after midnight in time_zone, and
 * supervise_debounce_ms after a change that can move a light. */
#define BB_DEFAULT_NOTICE_DUE_DAYS 3u
#define BB_DEFAULT_NOTICE_ESCALATE_DAYS 7u
#define BB_DEFAULT_SUPERVISE_INTERVAL_MS 3600000u
#define BB_DEFAULT_SUPERVISE_DEBOUNCE_MS 200u
/* Delivery of notices beyond the client (server/methods/delivery.c): the
 * command delivery_command ("" = none) gets one notice as JSON on stdin;
 * it is killed after delivery_timeout_ms; a failed attempt is retried
 * after delivery_retry_min_ms doubling to delivery_retry_max_ms; at most
 * delivery_parallel commands run at once per process; a delivery not sent
 * within delivery_max_age_hours of its notice is given up (expired). */
#define BB_DEFAULT_DELIVERY_TIMEOUT_MS 30000u
#define BB_DEFAULT_DELIVERY_RETRY_MIN_MS 1000u
#define BB_DEFAULT_DELIVERY_RETRY_MAX_MS 300000u
#define BB_DEFAULT_DELIVERY_PARALLEL 2u
#define BB_DEFAULT_DELIVERY_MAX_AGE_HOURS 72u

/* Exports (issue 6): runs are written under export_dir (relative to
 * baobaod's working directory unless absolute), every day at export_time
 * in time_zone ("" turns the schedule off; export.run still works), and
 * pruned after export_keep_days. */
#define BB_DEFAULT_EXPORT_DIR "exports"
#define BB_DEFAULT_EXPORT_TIME "02:00"
#define BB_DEFAULT_EXPORT_KEEP_DAYS 30u
/* export.read: the most bytes of a file one answer carries; a client reads
 * a file in chunks of at most this (export_read.c). Not a setting: a
 * client may rely on it, and it keeps one answer far below what a client
 * buffers and what a slow reader leaves queued on the server. */
#define BB_EXPORT_READ_CHUNK_BYTES (256u * 1024u)
/* enterprise.import: most rows one call carries (the CLI sends a file in
 * calls of this many rows). */
#define BB_MAX_IMPORT_ROWS 500u

/* argon2id cost of new password hashes (libsodium's "interactive" level:
 * crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE).
 * Checking a stored hash uses the cost written in the hash itself. */
#define BB_DEFAULT_PASSWORD_OPSLIMIT 2u
#define BB_DEFAULT_PASSWORD_MEMLIMIT_KIB 65536u
/* "reconnect_min_ms" / "reconnect_max_ms": backoff between reconnects. */
#define BB_DEFAULT_RECONNECT_MIN_MS 100u
#define BB_DEFAULT_RECONNECT_MAX_MS 5000u

/* Field limits (not configurable: they are part of the data model). */
#define BB_MAX_NAME_CHARS 100u          /* enterprise name, characters */
#define BB_MAX_LABEL_CHARS 32u          /* one label, characters */
#define BB_MAX_LABELS 16u               /* labels per enterprise */
#define BB_MAX_NOTE_CHARS 2000u         /* status report note */
#define BB_MAX_REPORTER_CHARS 50u       /* reporter name */
#define BB_MAX_IDEMPOTENCY_KEY_BYTES 128u
#define BB_MAX_SHORT_TEXT_CHARS 64u     /* township, cluster, status names */

#endif
