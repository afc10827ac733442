/*
 * baobao.h: libbaobao, the C client of baobaod. The one public header.
 *
 * Build against it with `pkg-config --cflags --libs baobao` (it needs
 * msgpack-c's headers for the raw-call layer). The library is plain
 * blocking sockets with poll(2) timeouts: no event loop, no threads; one
 * bb_client must be used by one thread at a time.
 *
 * Two layers:
 *  - raw calls: pack an argument map yourself (msgpack-c), send it, and
 *    wait for the reply by msgid; many requests may be in flight on one
 *    connection (pipelining) and replies are matched by msgid whatever
 *    order they arrive in;
 *  - typed helpers for every method (bb_enterprise_create, ...).
 *
 * Errors: every function returns 0 or a negative BB_C_* code and fills a
 * bb_error. For BB_C_ESERVER, code/field/message are the server's (the codes
 * of proto/PROTOCOL.md); for the others, code is one of the client-side codes
 * listed below. Memory: everything a function returns in an out-parameter is
 * owned by the caller and freed with the matching *_free function.
 */
#ifndef BAOBAO_H
#define BAOBAO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BB_CLIENT_DEFAULT_SERVER "127.0.0.1:7420"
#define BB_CLIENT_DEFAULT_TIMEOUT_MS 10000

/* Return codes. */
enum {
    BB_C_OK = 0,
    BB_C_ESERVER = -1,   /* the server answered with an error */
    BB_C_ETIMEOUT = -2,  /* code "timeout": no reply in time (the request may
                            still be carried out: retry writes with the same
                            idempotency key) */
    BB_C_EIO = -3,       /* code "connect_failed" or "connection_lost" */
    BB_C_EPROTO = -4,    /* code "protocol_error": the server sent something
                            this library cannot read */
    BB_C_EARG = -5,      /* code "invalid_argument" (or "invalid_utf8"),
                            checked locally before sending; field is set */
    BB_C_ENOMEM = -6,    /* code "out_of_memory" */
};

typedef struct bb_error {
    int rc;              /* the BB_C_* code also returned */
    char code[48];       /* stable code string, "" when rc == 0 */
    char field[64];      /* field at fault, "" when none */
    char message[512];
} bb_error;

typedef struct bb_client bb_client;

/* Connects to "HOST:PORT" ("[::1]:PORT" for IPv6). NULL server means
 * $BAOBAO_SERVER, then BB_CLIENT_DEFAULT_SERVER. Returns NULL and fills err
 * on failure: BB_C_EARG (field "server") when server is not HOST:PORT,
 * BB_C_EIO "connect_failed" when no address answered within timeout_ms
 * (negative: no limit). The socket has TCP_NODELAY set. */
bb_client *bb_connect(const char *server, int timeout_ms, bb_error *err);

/* Connecting with options: TLS (issue 4). */
typedef struct bb_connect_opts {
    int timeout_ms;              /* as bb_connect's */
    bool tls;                    /* speak TLS 1.2 or 1.3 */
    const char *tls_ca_file;     /* PEM bundle of the CAs the server's
                                    certificate must chain to; NULL: the
                                    system's default CAs */
    const char *tls_server_name; /* the name the certificate must carry
                                    (also sent as SNI); NULL: the HOST part
                                    of server */
} bb_connect_opts;
/* bb_connect with options (opts NULL = plaintext, the default timeout).
 * With tls, the handshake is finished and the certificate verified (chain
 * and name) before this returns; failures are BB_C_EIO with code
 * "tls_failed" and a message saying why (an unknown CA, a name that does
 * not match, a peer that does not speak TLS). */
bb_client *bb_connect_with(const char *server, const bb_connect_opts *opts, bb_error *err);
/* Closes the connection and frees the client; replies not yet taken are
 * freed. NULL is allowed. */
void bb_close(bb_client *c);
/* Timeout used by the typed helpers, bb_call, and for writing in bb_send
 * and bb_send_bytes (default 10 s; negative: no limit). A write that cannot
 * finish in time fails with BB_C_ETIMEOUT even while the server keeps
 * sending; if part of the request had gone out, the connection is broken
 * (connection_lost for later calls). */
void bb_set_timeout(bb_client *c, int timeout_ms);

/* ---- raw calls ---- */

/* A reply: owns its memory (a msgpack zone). */
typedef struct bb_reply bb_reply;
/* The result value of a successful reply (borrowed from the reply). */
const msgpack_object *bb_reply_result(const bb_reply *r);
void bb_reply_free(bb_reply *r);

/*
 * Sends [0, msgid, method, [args]] where args_map/args_len is one packed
 * msgpack map (or NULL/0 for params []), appended as it is (not checked).
 * Does not wait for the reply. *msgid receives the id to wait for; it stays
 * "in flight" until bb_wait takes its reply. While the socket is full it
 * keeps reading replies, so pipelining many requests cannot deadlock.
 *
 * Once the connection breaks (the server closed it, sent
 * `connection.closing`, or sent something unreadable) every later call
 * fails with that first reason: BB_C_EIO "connection_lost", BB_C_ESERVER
 * with the code and message of the server's `connection.closing`
 * (e.g. "shutting_down", "unavailable", "message_too_large"), or
 * BB_C_EPROTO. Replies that arrived before can still be taken by bb_wait.
 */
int bb_send(bb_client *c, const char *method, const void *args_map, size_t args_len,
            uint32_t *msgid, bb_error *err);
/*
 * Waits up to timeout_ms for the reply to msgid (replies to other msgids
 * that arrive meanwhile are kept for their own bb_wait; replies to msgids
 * not in flight are dropped). On success *out is the reply; on a server
 * error returns BB_C_ESERVER with err filled and *out NULL. timeout_ms 0
 * only takes what already arrived; negative waits without limit. The
 * timeout holds also while the server keeps sending other messages. On
 * BB_C_ETIMEOUT the msgid stays in flight, so bb_wait may be called again.
 * A msgid not in flight (e.g. one inside bytes sent with bb_send_bytes)
 * becomes in flight from this call on.
 *
 * Every reply is framed with proto's bb_frame_scan (at most 64 MiB, depth
 * 32) before it is decoded, so a declared count is never allocated for.
 */
int bb_wait(bb_client *c, uint32_t msgid, int timeout_ms, bb_reply **out, bb_error *err);
/* bb_send then bb_wait with the client's timeout. On a timeout the msgid
 * is forgotten (a late reply is dropped). */
int bb_call(bb_client *c, const char *method, const void *args_map, size_t args_len,
            bb_reply **out, bb_error *err);
/*
 * Pushes (PROTOCOL.md section 1, "Push"): after `watch.subscribe` the
 * server sends notifications [2, method, [record]] at any time
 * (notice.issued, light.changed, watch.missed). Whatever call is reading
 * when one arrives keeps it, in order, until taken here; at most 4096 are
 * kept (beyond, the newest are dropped, and every later one too until
 * those kept are taken and then a "watch.missed" with an empty map: catch
 * up from the last ids you saw, which are then older than any dropped).
 * Waits up to timeout_ms (0: only what arrived; negative: no limit) for
 * the next one: BB_C_OK with *out (free with bb_reply_free;
 * bb_reply_method says which, bb_reply_result is the record), BB_C_ETIMEOUT,
 * or the error that broke the connection.
 */
int bb_next_notification(bb_client *c, int timeout_ms, bb_reply **out, bb_error *err);
/* A notification's method ("notice.issued"; borrowed from r), NULL for a
 * response. */
const char *bb_reply_method(const bb_reply *r);
/* Sends raw bytes as they are (for tests of the server's edge). To read
 * the reply, bb_wait for the msgid the bytes carry. */
int bb_send_bytes(bb_client *c, const void *bytes, size_t len, bb_error *err);

/* ---- calls from text (the method spec) ----
 *
 * A call whose arguments are given as text, as a person types them, packed
 * from the method spec the library was built with (proto/bb_spec.h, served
 * by the server as `server.api` and `baobaod --api-info`): each text is
 * converted by its argument's type. int: decimal; bool: true|false (also
 * yes|no, 1|0); str and date: as typed (checked as UTF-8); array of str:
 * split on commas ("" is the empty array); text NULL is nil, and so is ""
 * for an argument that takes nil (nil clears a field on updates). A method
 * the spec does not know is BB_C_EARG "unknown_method"; an argument name
 * the method does not have, or a text not of the type, is BB_C_EARG
 * "invalid_argument" with field = the name (the message lists the names
 * the method has). Ranges, lengths and allowed values are the server's
 * to check. On success *out is the reply.
 */
typedef struct bb_arg_text {
    const char *name;      /* "name_contains" */
    const char *text;      /* "文旅"; NULL: nil */
} bb_arg_text;
int bb_call_args(bb_client *c, const char *method, const bb_arg_text *args, size_t n,
                 bb_reply **out, bb_error *err);

/* ---- typed helpers ----
 *
 * Each packs its arguments with the key names of proto/PROTOCOL.md section
 * 6, as bb_call_args does: every text must be valid UTF-8 (else BB_C_EARG,
 * code "invalid_utf8", field = the key, "labels[i]" for a label); the rules
 * of the arguments (required ones, credit codes, lengths) are the server's
 * (BB_C_ESERVER "invalid_argument" with the field).
 * The result is decoded strictly: a reply of another shape (a missing key,
 * a value of the wrong type, text that is not UTF-8) is BB_C_EPROTO, and
 * nothing is left allocated in *out. On any error *out is zeroed, so its
 * *_free is safe either way. err may be NULL everywhere.
 */

typedef struct bb_server_info {
    char *name;            /* "baobaod" */
    char *version;
    int64_t protocol;      /* protocol version, 1 */
    bool database_available;
    int64_t max_message_bytes, max_nesting_depth, max_in_flight;
    int64_t page_limit_default, page_limit_max;
    char *time_zone;
    char *today;           /* YYYY-MM-DD in time_zone */
} bb_server_info;
int bb_server_info_get(bb_client *c, bb_server_info *out, bb_error *err);
void bb_server_info_free(bb_server_info *i);

typedef struct bb_enterprise {
    int64_t id;
    char *name;
    char *credit_code;
    char *township;
    char *cluster;         /* NULL when none */
    char **labels;
    size_t nlabels;
    char *status;
    int64_t version;
    char *created_at;      /* RFC 3339, UTC */
    char *updated_at;
} bb_enterprise;
void bb_enterprise_free(bb_enterprise *e);   /* frees members, not e */

/* Input of create and update. NULL pointers are "not given"; for update,
 * clear_cluster sends cluster = nil and set_labels sends labels (possibly
 * empty). For create, labels are sent when nlabels > 0. */
typedef struct bb_enterprise_fields {
    const char *name;
    const char *credit_code;
    const char *township;
    const char *cluster;
    bool clear_cluster;
    const char *const *labels;
    size_t nlabels;
    bool set_labels;
    const char *status;
} bb_enterprise_fields;

/* idempotency_key may be NULL. */
int bb_enterprise_create(bb_client *c, const bb_enterprise_fields *f,
                         const char *idempotency_key, bb_enterprise *out, bb_error *err);
int bb_enterprise_get(bb_client *c, int64_t id, bb_enterprise *out, bb_error *err);
int bb_enterprise_update(bb_client *c, int64_t id, int64_t version,
                         const bb_enterprise_fields *f, const char *idempotency_key,
                         bb_enterprise *out, bb_error *err);

typedef struct bb_enterprise_filter {
    const char *township, *cluster, *status, *label, *name_contains;  /* NULL = any */
    int64_t after;         /* 0 = from the start */
    unsigned limit;        /* 0 = server default */
} bb_enterprise_filter;
typedef struct bb_enterprise_page {
    bb_enterprise *items;
    size_t n;
    int64_t next;          /* pass as filter.after for the next page; 0 = last page */
} bb_enterprise_page;
int bb_enterprise_list(bb_client *c, const bb_enterprise_filter *f,
                       bb_enterprise_page *out, bb_error *err);
void bb_enterprise_page_free(bb_enterprise_page *p);

typedef struct bb_status_report {
    int64_t id;
    int64_t enterprise_id;
    char *report_date;          /* YYYY-MM-DD */
    char *reporter;
    char *production_status;    /* 正常 | 半停产 | 停产 | 在建 */
    bool has_output_value;
    int64_t output_value;       /* yuan */
    bool has_employees;
    int64_t employees;
    bool has_labour_shortage;
    int64_t labour_shortage;
    char *note;                 /* NULL when none */
    char *created_at;
} bb_status_report;
void bb_status_report_free(bb_status_report *r);

typedef struct bb_status_input {
    int64_t enterprise_id;
    const char *report_date;          /* YYYY-MM-DD; NULL = the server's today */
    const char *reporter;             /* required */
    const char *production_status;    /* required */
    const int64_t *output_value;      /* NULL = not given */
    const int64_t *employees;
    const int64_t *labour_shortage;
    const char *note;
} bb_status_input;
int bb_status_submit(bb_client *c, const bb_status_input *in, const char *idempotency_key,
                     bb_status_report *out, bb_error *err);

typedef struct bb_status_filter {
    int64_t enterprise_id;     /* required */
    const char *from, *to;     /* YYYY-MM-DD, inclusive; NULL = open */
    const char *after;         /* cursor from a previous page, NULL = start */
    unsigned limit;            /* 0 = server default */
} bb_status_filter;
typedef struct bb_status_page {
    bb_status_report *items;
    size_t n;
    char *next;                /* NULL on the last page */
} bb_status_page;
int bb_status_list(bb_client *c, const bb_status_filter *f, bb_status_page *out,
                   bb_error *err);
void bb_status_page_free(bb_status_page *p);

/* Accounts (session.*, user.*) have no typed helpers: call them with
 * bb_call_args (e.g. "session.login" with login and password). A
 * connection does nothing but server.info and session.login until it has
 * logged in; a new connection (also one made to retry) must log in again. */

#ifdef __cplusplus
}
#endif
#endif
