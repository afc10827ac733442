/*
 * harness.h: what every integration test of baobao needs, and nothing the
 * tests could get wrong by sharing: a throwaway database per test binary,
 * real baobaod processes, raw TCP connections that speak msgpack, the CLI
 * run as a child process, and PostgreSQL stopped and started for real.
 *
 * Not for: mocking anything. Every test here talks to a real server process
 * over a real socket against a real PostgreSQL (STYLE.md habit 11).
 *
 * A test binary is a table of tests (it_test) run by it_main(): it skips the
 * whole binary (exit 77) when PGHOST is unset, creates the database
 * bbtest_<suite>_<pid> (migrated, with 赤壁市's reference data of
 * data/reference/chibi.sql and the users below), runs each test, and after each one cleans up what
 * the test left behind (connections, servers started by that test, a stopped
 * PostgreSQL) so one failure does not cascade. It prints the log of every
 * server the failed test used. The last line is "N passed, N failed".
 *
 * Ownership: it_server and it_conn objects are owned by the harness (it
 * tracks them for cleanup); tests borrow them and may stop/close them early.
 * it_msg and it_buf are owned by the caller and freed with their *_free.
 */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <msgpack.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Exit status meson counts as "skipped". */
#define IT_SKIP 77

/* Generous defaults: CI runs the server under ASan on 2 shared cores. */
#define IT_START_TIMEOUT_MS 60000  /* baobaod up and migrated */
#define IT_STOP_TIMEOUT_MS 30000   /* baobaod gone after SIGTERM */
#define IT_REPLY_TIMEOUT_MS 15000  /* one ordinary reply */

/* ---- the test runner ---- */

typedef int (*it_test_fn)(void);   /* 0 passed, -1 failed (after IT_CHECK printed why) */
typedef struct it_test {
    const char *name;
    it_test_fn fn;
} it_test;

/*
 * Runs the tests named on the command line (all when none). suite names the
 * database. setup runs once after the database exists (NULL allowed; a
 * failing setup fails every test). Returns the process exit status: 0,
 * 1 (a test failed) or IT_SKIP.
 */
int it_main(int argc, char **argv, const char *suite, const it_test *tests, size_t ntests,
            int (*setup)(void));

/* Records a failure with its place; used by the macros below. */
void it_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define IT_CHECK(cond)                                                    \
    do {                                                                  \
        if (!(cond)) {                                                    \
            it_fail(__FILE__, __LINE__, "check failed: %s", #cond);       \
            return -1;                                                    \
        }                                                                 \
    } while (0)
#define IT_CHECKF(cond, ...)                                              \
    do {                                                                  \
        if (!(cond)) {                                                    \
            it_fail(__FILE__, __LINE__, "check failed: %s", #cond);       \
            it_fail(__FILE__, __LINE__, __VA_ARGS__);                     \
            return -1;                                                    \
        }                                                                 \
    } while (0)
/* Strings equal (NULL-safe). */
#define IT_CHECK_STR(got, want)                                           \
    do {                                                                  \
        const char *it_g_ = (got), *it_w_ = (want);                       \
        if (it_g_ == NULL || it_w_ == NULL || strcmp(it_g_, it_w_) != 0) { \
            it_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"",  \
                    #got, it_g_ ? it_g_ : "(null)", it_w_ ? it_w_ : "(null)"); \
            return -1;                                                    \
        }                                                                 \
    } while (0)

/* Log line for the reader of a test's output (not a failure). */
void it_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int64_t it_now_ms(void);        /* monotonic */
void it_sleep_ms(int ms);

/* ---- the database ---- */

/* The test database's name ("bbtest_<suite>_<pid>") and a conninfo for it. */
const char *it_db_name(void);
const char *it_db_conninfo(void);
/* A libpq connection to the test database (the harness's own, reconnected
 * when broken). Borrowed. NULL when PostgreSQL cannot be reached. */
PGconn *it_pg(void);
/* Runs one parameterized statement; returns 0 or -1 (message printed). */
__attribute__((warn_unused_result))
int it_pg_exec(const char *sql, int nparams, const char *const *params);
/* First column of the first row as an integer; -1 on error (printed). */
long long it_pg_int(const char *sql, int nparams, const char *const *params);
/* Stops / starts the cluster with $BAOBAO_PG_LOCAL. 0 or -1. */
__attribute__((warn_unused_result)) int it_pg_stop(void);
__attribute__((warn_unused_result)) int it_pg_start(void);
/* True when $BAOBAO_PG_LOCAL and $BAOBAO_PG_DIR are set (outage tests). */
bool it_pg_can_restart(void);

/* ---- baobaod ---- */

typedef struct it_server {
    pid_t pid;          /* 0 when not running */
    int port;
    int status;         /* wait status once reaped */
    bool reaped;
    bool shared;        /* lives across tests (see it_shared_server) */
    char log_path[512];
} it_server;

/*
 * Starts baobaod on the test database, on 127.0.0.1 and a port the kernel
 * picks, with extra "key=value" settings (NULL-terminated array, NULL for
 * none), waits for its `event=listening ... port=N` line and then for
 * server.info to report database_available (so tests do not race the
 * pool's first connections; see it_server_start_nowait). Returns NULL on
 * failure (log printed). The server is killed after the test that started
 * it unless the test stops it first.
 */
it_server *it_server_start(const char *const *sets);
/* it_server_start with extra environment for the server ("NAME=value",
 * NULL-terminated), e.g. sanitizer options for a memory measurement. */
it_server *it_server_start_env(const char *const *sets, const char *const *env);
/* Like it_server_start but returns as soon as the listening line is logged,
 * without waiting for server.info to report database_available (for the
 * test of requests that arrive right after start-up). */
it_server *it_server_start_nowait(const char *const *sets);
/* One default server per test binary, started on first use and kept across
 * tests; restarted (and the test failed) if it died. */
it_server *it_shared_server(void);
/* SIGTERM, then waits up to timeout_ms. Returns the wait status, or -1 when
 * it did not exit (then it is killed). */
int it_server_stop(it_server *s, int timeout_ms);
/* Sends a signal without waiting. */
void it_server_signal(it_server *s, int sig);
/* Waits up to timeout_ms for the process to exit; wait status or -1. */
int it_server_wait(it_server *s, int timeout_ms);
/* True while the process has not exited. */
bool it_server_alive(it_server *s);
/* Resident set size in KiB from /proc/PID/status, -1 on error. */
long it_server_rss_kb(const it_server *s);
/* The server's log (malloc'd, NUL-terminated; NULL when unreadable). */
char *it_server_log(const it_server *s);
/* True when the server's log contains needle. */
bool it_server_log_has(const it_server *s, const char *needle);

struct it_msg;

/* ---- users (issue 4) ----
 *
 * Every test database has these users, created by it_main before setup
 * with argon2id hashes of the cheapest cost (so a login costs little under
 * ASan; the server checks any cost the same way). All have IT_PASSWORD.
 */
#define IT_PASSWORD "it-pass-红砖茶-1"
#define IT_USER_ADMIN "it_admin"    /* admin */
#define IT_USER_SUPER "it_super"    /* supervisor, unit 科信局: the default user */
#define IT_USER_STAFF "it_staff"    /* township_staff: 赵李桥镇 and 高新技术产业园区 */
#define IT_USER_STAFF2 "it_staff2"  /* township_staff: 新店镇 */
/* The user id of a login (looked up in the test database); -1 if none. */
int64_t it_user_id(const char *login);

/* ---- raw connections ---- */

typedef struct it_conn {
    int fd;
    bool eof;
    bool reset;         /* the end was a reset (ECONNRESET), not a clean close */
    msgpack_unpacker up;
    bool in_use;
} it_conn;

/* Connects to 127.0.0.1:port with TCP_NODELAY and logs in as
 * IT_USER_SUPER (session.login, msgid IT_LOGIN_MSGID, its reply read
 * before this returns). NULL on failure (printed). */
#define IT_LOGIN_MSGID 4000000001u
it_conn *it_connect(int port);
/* The same, logged in as login with password. NULL when the connection or
 * the login fails (the error printed). */
it_conn *it_connect_as(int port, const char *login, const char *password);
/* Connects without logging in (for the tests of what works before login,
 * and of connections the server refuses). */
it_conn *it_connect_anon(int port);
/* Sends session.login with msgid IT_LOGIN_MSGID and reads its reply into
 * out (free with it_msg_free). IT_RECV_* code. */
int it_login(it_conn *c, const char *login, const char *password, int timeout_ms,
             struct it_msg *out);
/* Same with SO_RCVBUF set to rcvbuf bytes before connecting: a client whose
 * kernel buffers little, so the server's unsent responses stay on the
 * server's side. Logs in as it_connect does. */
it_conn *it_connect_rcvbuf(int port, int rcvbuf);
void it_close(it_conn *c);
/* Writes all bytes (blocking). 0, or -1 when the peer is gone. */
int it_send(it_conn *c, const void *bytes, size_t len);
/* Writes as much as fits without blocking longer than timeout_ms; returns
 * bytes written (may be short), -1 when the peer is gone. */
ssize_t it_send_some(it_conn *c, const void *bytes, size_t len, int timeout_ms);

/* One message the server sent, decoded just enough to check it. */
typedef struct it_msg {
    msgpack_unpacked u;
    const msgpack_object *root;
    int kind;                  /* 1 response, 2 notification, -1 not an envelope */
    uint32_t msgid;            /* responses */
    bool is_error;             /* a response with an error map */
    char code[64];             /* error code (responses) or params code (notifications) */
    char field[128];           /* error field, "" when none */
    char message[512];
    char method[64];           /* notifications */
    const msgpack_object *result;  /* responses: the result (NULL on error) */
} it_msg;

enum { IT_RECV_MSG = 1, IT_RECV_EOF = 0, IT_RECV_TIMEOUT = -2, IT_RECV_ERROR = -1 };
/* Reads one message within timeout_ms. Returns IT_RECV_*; out must be freed
 * with it_msg_free when IT_RECV_MSG. */
int it_recv(it_conn *c, int timeout_ms, it_msg *out);
void it_msg_free(it_msg *m);
/* Reads (and discards messages) until EOF within timeout_ms: true on EOF. */
bool it_wait_eof(it_conn *c, int timeout_ms);
/* Sends the buffer and reads until the response with msgid arrives
 * (other messages are discarded with a note). IT_RECV_* code. */
int it_call(it_conn *c, const void *bytes, size_t len, uint32_t msgid, int timeout_ms,
            it_msg *out);

/* A one-line description of a message for failure output. */
const char *it_describe(const it_msg *m, char *buf, size_t buflen);
/* Reads the next message and checks it is the response to msgid carrying
 * error `code` (and `field` when not NULL). Prints what came instead.
 * 0 or -1. */
__attribute__((warn_unused_result))
int it_expect_error(it_conn *c, uint32_t msgid, const char *code, const char *field,
                    int timeout_ms);
/* Reads the next message and checks it is the notification
 * connection.closing with `code`. 0 or -1. */
__attribute__((warn_unused_result))
int it_expect_closing(it_conn *c, const char *code, int timeout_ms);
/* Checks the connection still answers server.info (msgid 4000000000). */
__attribute__((warn_unused_result))
int it_expect_alive(it_conn *c);
/* The bytes of [0, msgid, "server.info", []]. out holds 32 bytes; returns length. */
size_t it_server_info_bytes(uint32_t msgid, unsigned char out[32]);

/* Looks a key up in a msgpack map; NULL when absent or obj not a map. */
const msgpack_object *it_map_get(const msgpack_object *obj, const char *key);
/* Copies a str value (NUL-terminated, cut) into out; false when not a str. */
bool it_obj_str(const msgpack_object *o, char *out, size_t outlen);
/* Integer value of a positive/negative int; false when not an int. */
bool it_obj_int(const msgpack_object *o, int64_t *out);
/* map[key] as str/int (false when absent or of another type). */
bool it_get_str(const msgpack_object *map, const char *key, char *out, size_t outlen);
bool it_get_int(const msgpack_object *map, const char *key, int64_t *out);
/* True when map[key] is a str whose bytes are exactly want. */
bool it_get_str_eq(const msgpack_object *map, const char *key, const char *want);

/* ---- building requests ---- */

typedef struct it_buf {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} it_buf;

void it_buf_init(it_buf *b);
void it_buf_free(it_buf *b);
void it_buf_reset(it_buf *b);
/* Sends the request packed in b (msgid: its id), reads its response into
 * m (the caller frees it) and empties b. 0, or -1 with a note when no
 * response came. */
__attribute__((warn_unused_result))
int it_buf_call(it_conn *c, it_buf *b, uint32_t msgid, it_msg *m);
/* The same, and the response is a result (else a failure is reported and
 * m freed). */
__attribute__((warn_unused_result))
int it_buf_ok(it_conn *c, it_buf *b, uint32_t msgid, it_msg *m);
/* The same, and the response is the error code with field ("" = no
 * field); m is freed. */
__attribute__((warn_unused_result))
int it_buf_err(it_conn *c, it_buf *b, uint32_t msgid, const char *code, const char *field);
/* [0, msgid, method, [{ ... with a map of nargs entries to follow, or
 * params [] when nargs is IT_NO_ARGS. */
#define IT_NO_ARGS ((size_t)-1)
void it_req(it_buf *b, uint32_t msgid, const char *method, size_t nargs);
void it_str(it_buf *b, const char *s);
void it_strn(it_buf *b, const char *s, size_t n);
void it_kv_str(it_buf *b, const char *key, const char *val);
void it_kv_strn(it_buf *b, const char *key, const char *val, size_t n);
void it_kv_int(it_buf *b, const char *key, int64_t val);
void it_kv_bool(it_buf *b, const char *key, bool val);
void it_kv_nil(it_buf *b, const char *key);
/* Key followed by an array of n strs. */
void it_kv_strs(it_buf *b, const char *key, const char *const *vals, size_t n);

/* A valid unified social credit code (91421281 + 9 digits from n + check),
 * different for every n. out must hold 19 bytes. */
void it_credit_code(unsigned long n, char out[19]);
/* The check character of the first 17 characters of code. */
char it_credit_check(const char *code17);

/* Creates an enterprise over a raw connection; returns its id or -1. */
int64_t it_create_enterprise(it_conn *c, const char *name, const char *credit_code,
                             const char *township);
/* The usual setup of a test binary: one enterprise on the shared server,
 * with the n-th generated credit code. Returns its id, or -1. */
int64_t it_shared_enterprise(unsigned long code_n, const char *name, const char *township);

/* ---- the CLI ---- */

typedef struct it_cli {
    int status;      /* exit code, or -1 when killed / not exited */
    char *out;       /* stdout, NUL-terminated, owned */
    size_t outlen;
    char *err;       /* stderr, NUL-terminated, owned */
    size_t errlen;
} it_cli;

/*
 * Runs $BAOBAO_CLI with the NULL-terminated arguments (not including argv[0])
 * and BAOBAO_SERVER=server (unset when NULL), stdin from /dev/null, and
 * BAOBAO_USER=IT_USER_SUPER, BAOBAO_PASSWORD=IT_PASSWORD unless the
 * environment of the test already sets them (it_cli_run_env). Kills it
 * after timeout_ms. Returns 0 when it ran (look at r->status), -1 when it
 * could not start.
 */
int it_cli_run(it_cli *r, const char *server, int timeout_ms, const char *const *args);
/* it_cli_run with extra environment ("NAME=value", NULL-terminated; an
 * entry "NAME" alone unsets NAME), applied after the defaults above. */
int it_cli_run_env(it_cli *r, const char *server, int timeout_ms, const char *const *args,
                   const char *const *env);
/* Runs any program (argv[0] looked up in PATH) the same way, with
 * BAOBAO_SERVER unchanged. */
int it_run(it_cli *r, const char *const *argv, int timeout_ms);
void it_cli_free(it_cli *r);

/* Like it_connect_anon, from the local IPv4 address src_addr (a loopback
 * address such as "127.0.0.3": a client of its own behind a balancer). */
it_conn *it_connect_anon_from(const char *src_addr, int port);

#endif
