/*
 * client_int.h: libbaobao's private header (what baobao.h is to users, this
 * is to the library's own files and to the CLI, which links the library's
 * objects statically).
 *
 * For: the reply object's layout, bb_error helpers, strict getters that read
 * a result map into owned C values, and the one argument packer (args.c)
 * the typed helpers and the CLI share.
 * Not for: anything a library user should call (it is not installed and its
 * symbols are not exported from libbaobao.so, see libbaobao.map).
 *
 * Conventions: every function returns BB_C_OK or a negative BB_C_* code and
 * fills err (which may be NULL); strings a getter returns are malloc'd and
 * owned by the caller; msgpack_object pointers are borrowed from a reply.
 */
#ifndef BB_CLIENT_INT_H
#define BB_CLIENT_INT_H

#include "baobao.h"

#include "bb_rpc.h"   /* bb_map_get: the one map lookup of the tree */

#include <msgpack.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

#define BBI_WUR __attribute__((warn_unused_result))

/* The client never frames a reply larger than this (server replies are
 * bounded by its pages; this only stops a broken peer from making the
 * client buffer without end). */
#define BB_CLIENT_MAX_REPLY_BYTES (64u * 1024u * 1024u)
/* Replies nest a few levels (envelope, page, items, item, labels); anything
 * much deeper is not a reply of this protocol. */
#define BB_CLIENT_MAX_REPLY_DEPTH 32u

/* A response: owns the message bytes (msgpack-c's str objects point into
 * them) and the zone the objects live in. */
struct bb_reply {
    char *bytes;                    /* owned: the framed message */
    size_t len;
    msgpack_unpacked up;            /* owns the zone */
    uint32_t msgid;
    const msgpack_object *error;    /* borrowed from up; NULL when nil */
    const msgpack_object *result;   /* borrowed from up */
    char *method;                   /* owned: a notification's method; NULL
                                       for a response */
    struct bb_reply *next;          /* the client's queue of notifications */
};

/* Notifications kept for bb_next_notification at most; beyond, the newest
 * are dropped (and all that follow, until the queue is taken) and the
 * next one taken after the kept ones is a "watch.missed" made here. */
#define BB_CLIENT_MAX_NOTIFICATIONS 4096u

/* ---- errors (error.c) ---- */

/* Fills err (when not NULL) and returns rc. code "" leaves the code to be
 * derived from rc (timeout, protocol_error, ...). */
int bbi_err(bb_error *err, int rc, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The default client-side code of an rc ("timeout", "protocol_error", ...). */
const char *bbi_rc_code(int rc);
/* Copies a server error map {code, message, field?} into err and returns
 * BB_C_ESERVER, or BB_C_EPROTO when the map has the wrong shape. */
int bbi_err_from_server(bb_error *err, const msgpack_object *map);
/* Clears err to "no error". */
void bbi_err_clear(bb_error *err);

/* ---- reading result maps (obj.c) ---- */

/* Checks that obj is a map; what names it in the error ("enterprise"). */
BBI_WUR int bbi_want_map(const msgpack_object *obj, const char *what, bb_error *err);
/* Required str -> malloc'd, NUL-terminated, checked UTF-8 without NUL. */
BBI_WUR int bbi_get_str(const msgpack_object *map, const char *what, const char *key,
                        char **out, bb_error *err);
/* nil-able str: *out NULL for nil. */
BBI_WUR int bbi_get_nstr(const msgpack_object *map, const char *what, const char *key,
                         char **out, bb_error *err);
/* Required int (must fit int64). */
BBI_WUR int bbi_get_int(const msgpack_object *map, const char *what, const char *key,
                        int64_t *out, bb_error *err);
/* nil-able int: *has false for nil. */
BBI_WUR int bbi_get_nint(const msgpack_object *map, const char *what, const char *key,
                         bool *has, int64_t *out, bb_error *err);
BBI_WUR int bbi_get_bool(const msgpack_object *map, const char *what, const char *key,
                         bool *out, bb_error *err);
/* Array of str -> malloc'd array of owned strings. */
BBI_WUR int bbi_get_strs(const msgpack_object *map, const char *what, const char *key,
                         char ***out, size_t *n, bb_error *err);
/* Required array: *out borrowed. */
BBI_WUR int bbi_get_array(const msgpack_object *map, const char *what, const char *key,
                          const msgpack_object_array **out, bb_error *err);
/* Copy of a str object (checked), or EPROTO. */
BBI_WUR int bbi_obj_str(const msgpack_object *o, const char *what, char **out, bb_error *err);
/* The "items" array of a page (a map), each decoded by one into a calloc'd
 * array of items of size bytes (*out, *n). On failure the items decoded
 * so far stay in *out, *n for the page's free. */
typedef int (*bbi_decode_fn)(const msgpack_object *o, void *out, bb_error *err);
BBI_WUR int bbi_get_items(const msgpack_object *o, const char *what, bbi_decode_fn one,
                          size_t size, void **out, size_t *n, bb_error *err);

/* ---- records described by a table of their fields (obj.c) ----
 *
 * A result record (Enterprise, StatusReport, server.info) is read by
 * listing its fields once, in the order the decoder checks them, instead
 * of one getter call per field; the same table frees the strings the
 * record owns, so a field added to the table is both read and freed.
 * The key is the C member's name (they are the protocol's names). */
typedef enum bbi_ftype {
    BBI_F_INT,      /* int64_t */
    BBI_F_NINT,     /* int64_t m, and bool has_m: false for nil */
    BBI_F_BOOL,     /* bool */
    BBI_F_STR,      /* char *, owned */
    BBI_F_NSTR,     /* char *, owned; NULL for nil */
    BBI_F_STRS,     /* char **m, owned, and size_t nm */
} bbi_ftype;
typedef struct bbi_field {
    const char *key;
    bbi_ftype type;
    size_t at;      /* offsetof the member */
    size_t at2;     /* NINT: offsetof has_m; STRS: offsetof nm; else 0 */
} bbi_field;
/* offsetof(T, m), refused at compile time (distinct pointer types
 * compared) unless m has type CT: a table row cannot point at a member of
 * another type. */
#define BBI_AT(T, m, CT) (offsetof(T, m) + 0 * sizeof(&((T *)0)->m == (CT *)0))
#define BBI_FIELD_INT(T, m) {.key = #m, .type = BBI_F_INT, .at = BBI_AT(T, m, int64_t), .at2 = 0}
#define BBI_FIELD_NINT(T, m) \
    {.key = #m, .type = BBI_F_NINT, .at = BBI_AT(T, m, int64_t), .at2 = BBI_AT(T, has_##m, bool)}
#define BBI_FIELD_BOOL(T, m) {.key = #m, .type = BBI_F_BOOL, .at = BBI_AT(T, m, bool), .at2 = 0}
#define BBI_FIELD_STR(T, m) {.key = #m, .type = BBI_F_STR, .at = BBI_AT(T, m, char *), .at2 = 0}
#define BBI_FIELD_NSTR(T, m) {.key = #m, .type = BBI_F_NSTR, .at = BBI_AT(T, m, char *), .at2 = 0}
#define BBI_FIELD_STRS(T, m) \
    {.key = #m, .type = BBI_F_STRS, .at = BBI_AT(T, m, char **), .at2 = BBI_AT(T, n##m, size_t)}
#define BBI_NFIELDS(table) (sizeof(table) / sizeof((table)[0]))
/* Checks that map is a map, then reads the n fields into the record rec,
 * stopping at the first error (what names the record in it). On failure
 * the strings read so far stay in rec for bbi_free_fields. */
BBI_WUR int bbi_get_fields(const msgpack_object *map, const char *what, const bbi_field *fields,
                           size_t n, void *rec, bb_error *err);
/* Frees the strings (STR, NSTR, STRS) the n fields of rec own. */
void bbi_free_fields(const bbi_field *fields, size_t n, void *rec);

/* ---- writing argument maps (obj.c) ---- */

/* An argument map being built: a buffer and a packer writing into it. */
typedef struct bbi_args {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} bbi_args;
void bbi_args_init(bbi_args *a);
void bbi_args_free(bbi_args *a);
/* Checks that s is valid UTF-8 (BB_C_EARG, code invalid_utf8, field key). */
BBI_WUR int bbi_check_text(const char *key, const char *s, bb_error *err);
/* Makes room for bytes more in a's buffer now (bbi_pack does, so that a
 * password is never left behind by a buffer that grew). */
BBI_WUR int bbi_args_reserve(bbi_args *a, size_t bytes, bb_error *err);
/* Zeroes the buffer (it may have carried a password), then frees it. */
void bbi_args_wipe(bbi_args *a);

/* ---- the one packer (args.c) ----
 *
 * Every argument map is built as a list of named values and packed by
 * bbi_pack against the method spec (proto/bb_spec.h): a name the method
 * does not have is refused (BB_C_EARG invalid_argument, field = the name,
 * the message lists the valid names), str values are checked as UTF-8
 * (invalid_utf8, field = the name, "labels[i]" inside an array). Values are
 * borrowed (the caller keeps them alive until bbi_pack), except what
 * bbi_kv_text and bbi_kv_list allocate, freed by bbi_kvs_free. */
#define BBI_KVS_MAX 32
typedef enum bbi_kind { BBI_STR, BBI_INT, BBI_BOOL, BBI_NIL, BBI_STRS } bbi_kind;
typedef struct bbi_kv {
    const char *name;
    bbi_kind kind;
    const char *s;                 /* STR */
    int64_t i;                     /* INT; BOOL as 0/1 */
    const char *const *strs;       /* STRS */
    size_t nstrs;
    void *owned;                   /* what bbi_kv_text / bbi_kv_list allocated */
} bbi_kv;
typedef struct bbi_kvs {
    bbi_kv v[BBI_KVS_MAX];
    size_t n;
    bool overflow;                 /* more than BBI_KVS_MAX: bbi_pack refuses */
} bbi_kvs;
/* Appends a value. bbi_kv_str with s NULL appends nothing ("not given"). */
void bbi_kv_str(bbi_kvs *k, const char *name, const char *s);
void bbi_kv_int(bbi_kvs *k, const char *name, int64_t i);
void bbi_kv_bool(bbi_kvs *k, const char *name, bool b);
void bbi_kv_nil(bbi_kvs *k, const char *name);
void bbi_kv_strs(bbi_kvs *k, const char *name, const char *const *strs, size_t n);
/* Appends argument name of method from text as a user typed it, converted
 * by the argument's spec type (see args.c for the conventions; text NULL
 * is nil). BB_C_EARG: unknown method, unknown name (valid ones listed), a
 * text that is not of the type. */
BBI_WUR int bbi_kv_text(bbi_kvs *k, const char *method, const char *name, const char *text,
                        bb_error *err);
/* Appends array argument name of method from its elements as a user typed
 * them one by one (an option repeated): each cleaned as bbi_kv_text
 * cleans a text of the argument (ends trimmed; full-width forms folded
 * for a machine form), never cut at commas. BB_C_EARG: unknown method or
 * name, an element not UTF-8 (field "name[i]"). */
BBI_WUR int bbi_kv_list(bbi_kvs *k, const char *method, const char *name,
                        const char *const *vals, size_t n, bb_error *err);
/* Checks k against method's spec and packs the map into a (nothing packed
 * on failure). */
BBI_WUR int bbi_pack(bbi_args *a, const char *method, const bbi_kvs *k, bb_error *err);
void bbi_kvs_free(bbi_kvs *k);
/* bbi_pack, then bb_call; the packed bytes are wiped after. */
BBI_WUR int bbi_call_kvs(bb_client *c, const char *method, const bbi_kvs *k, bb_reply **out,
                         bb_error *err);

/* ---- time (client.c) ---- */

/* Monotonic milliseconds. */
int64_t bbi_now_ms(void);
/* Milliseconds left until deadline for poll(): -1 when deadline is -1 (for
 * ever), 0 once passed. */
int bbi_time_left(int64_t deadline);

/* ---- TLS (tls.c; used by client.c once bb_connect_with asks for it) ---- */

typedef struct bbi_tls bbi_tls;

/* bbi_tls_read / bbi_tls_write results besides a byte count > 0. */
enum {
    BBI_TLS_WANT_READ = -1,     /* poll for POLLIN, then call again */
    BBI_TLS_WANT_WRITE = -2,    /* poll for POLLOUT, then call again */
    BBI_TLS_EOF = -3,           /* the server closed (close_notify or FIN) */
    BBI_TLS_SOCKET_ERROR = -4,  /* the socket failed (why says how) */
    BBI_TLS_ERROR = -5,         /* a TLS protocol error (why says which) */
};

/* Handshake on the connected non-blocking socket fd (borrowed) before
 * deadline, verifying the chain (opts->tls_ca_file, else the system's CAs)
 * and the name (opts->tls_server_name, else host; an IP literal is checked
 * against the certificate's IP entries, a name also sent as SNI). On
 * failure BB_C_EIO "tls_failed" (or BB_C_ENOMEM) with the cause. */
BBI_WUR int bbi_tls_connect(int fd, const char *host, const bb_connect_opts *opts,
                            int64_t deadline, bbi_tls **out, bb_error *err);
/* Plaintext in/out: a count > 0 or a BBI_TLS_* code (why filled for the
 * errors). A write may be partial; retry a WANT_* with the same bytes. */
BBI_WUR ssize_t bbi_tls_read(bbi_tls *t, void *buf, size_t len, char *why, size_t whylen);
BBI_WUR ssize_t bbi_tls_write(bbi_tls *t, const void *buf, size_t len, char *why,
                              size_t whylen);
/* Plaintext already decrypted and not yet read (no poll needed for it). */
size_t bbi_tls_pending(const bbi_tls *t);
/* Frees t; with notify, first tries once (no wait) to send close_notify.
 * The socket is not closed here. NULL allowed. */
void bbi_tls_close(bbi_tls *t, bool notify);
void bbi_tls_free(bbi_tls *t);

/* bbi_call_kvs with k (NULL for params []), then decode the result with fn
 * into out. The reply is freed before returning. */
BBI_WUR int bbi_call_decode(bb_client *c, const char *method, const bbi_kvs *k,
                            bbi_decode_fn fn, void *out, bb_error *err);

#endif
