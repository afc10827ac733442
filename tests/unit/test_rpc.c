/*
 * test_rpc.c: the envelope (proto/bb_rpc.c) against PROTOCOL.md sections 1
 * and 4 (`malformed_message`), the packing helpers, and the error code table
 * (proto/bb_errors.c).
 *
 * Messages are written as hex, as in PROTOCOL.md, or packed with msgpack-c,
 * then unpacked with msgpack_unpack as the server does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <msgpack.h>

#include "bb_errors.h"
#include "bb_rpc.h"
#include "packed.h"

/* One unpacked message and the result of parsing it. msgpack_unpack points
 * str objects into the input, so the bytes live here as long as the object. */
typedef struct parsed {
    uint8_t bytes[256];
    msgpack_unpacked up;
    bb_rpc_msg msg;
    bool msgid_known;
    const char *why;
    int rc;
} parsed;

static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static void parse_bytes(parsed *p, const void *data, size_t len)
{
    msgpack_unpacked_init(&p->up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&p->up, data, len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, len);
    p->rc = bb_rpc_parse(&p->up.data, &p->msg, &p->msgid_known, &p->why);
}

static void parse_hex(parsed *p, const char *hex)
{
    parse_bytes(p, p->bytes, from_hex(hex, p->bytes, sizeof p->bytes));
}

static void parsed_done(parsed *p)
{
    msgpack_unpacked_destroy(&p->up);
}

/* Asserts a hex message is malformed, with the msgid known (and equal to
 * msgid) or not. */
static void assert_malformed(const char *hex, bool msgid_known, uint32_t msgid)
{
    parsed p;
    parse_hex(&p, hex);
    if (p.rc != -1)
        fail_msg("accepted as valid: %s", hex);
    assert_non_null(p.why);
    if (p.msgid_known != msgid_known)
        fail_msg("msgid_known %d, wanted %d: %s", p.msgid_known, msgid_known, hex);
    if (msgid_known)
        assert_int_equal(p.msg.msgid, msgid);
    parsed_done(&p);
}

static bool method_is(const bb_rpc_msg *m, const char *name)
{
    return m->method_len == strlen(name) && memcmp(m->method, name, m->method_len) == 0;
}

/* ---- valid envelopes ---- */

static void request_without_args_parses(void **state)
{
    (void)state;
    parsed p;
    /* [0, 1, "server.info", []] from PROTOCOL.md section 7 */
    parse_hex(&p, "94 00 01 ab 73 65 72 76 65 72 2e 69 6e 66 6f 90");
    assert_int_equal(p.rc, 0);
    assert_true(p.msgid_known);
    assert_int_equal(p.msg.type, BB_RPC_REQUEST);
    assert_int_equal(p.msg.msgid, 1);
    assert_true(method_is(&p.msg, "server.info"));
    assert_null(p.msg.params);
    parsed_done(&p);
}

static void request_with_args_parses(void **state)
{
    (void)state;
    parsed p;
    /* [0, 2, "enterprise.get", [{"id": 7}]] */
    parse_hex(&p, "94 00 02 ae 65 6e 74 65 72 70 72 69 73 65 2e 67 65 74 91 81 a2 69 64 07");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.msg.msgid, 2);
    assert_true(method_is(&p.msg, "enterprise.get"));
    assert_non_null(p.msg.params);
    assert_int_equal(p.msg.params->type, MSGPACK_OBJECT_MAP);
    const msgpack_object *id = bb_map_get(p.msg.params, "id");
    assert_non_null(id);
    assert_int_equal(id->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(id->via.u64, 7);
    assert_null(bb_map_get(p.msg.params, "i"));
    assert_null(bb_map_get(p.msg.params, "idx"));
    parsed_done(&p);
}

static void request_with_empty_map_has_params(void **state)
{
    (void)state;
    parsed p;
    parse_hex(&p, "94 00 03 a1 6d 91 80");                  /* [0, 3, "m", [{}]] */
    assert_int_equal(p.rc, 0);
    assert_non_null(p.msg.params);
    assert_int_equal(p.msg.params->via.map.size, 0);
    parsed_done(&p);
}

static void largest_msgid_parses(void **state)
{
    (void)state;
    parsed p;
    parse_hex(&p, "94 00 ce ff ff ff ff a1 6d 90");         /* msgid 4294967295 */
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.msg.msgid, UINT32_MAX);
    parsed_done(&p);
    /* A non-negative int8 msgid from another packer is a msgid too. */
    parse_hex(&p, "94 00 d0 05 a1 6d 90");
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.msg.msgid, 5);
    parsed_done(&p);
}

static void response_with_result_parses(void **state)
{
    (void)state;
    parsed p;
    parse_hex(&p, "94 01 09 c0 81 a1 6b 2a");               /* [1, 9, nil, {"k": 42}] */
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.msg.type, BB_RPC_RESPONSE);
    assert_int_equal(p.msg.msgid, 9);
    assert_null(p.msg.error);
    assert_non_null(p.msg.result);
    assert_int_equal(bb_map_get(p.msg.result, "k")->via.u64, 42);
    parsed_done(&p);
}

static void response_with_error_parses(void **state)
{
    (void)state;
    parsed p;
    /* [1, 2, {"code": "not_found"}, nil] */
    parse_hex(&p, "94 01 02 81 a4 63 6f 64 65 a9 6e 6f 74 5f 66 6f 75 6e 64 c0");
    assert_int_equal(p.rc, 0);
    assert_non_null(p.msg.error);
    const msgpack_object *code = bb_map_get(p.msg.error, "code");
    assert_non_null(code);
    assert_int_equal(bb_err_from_code(code->via.str.ptr, code->via.str.size), BB_E_NOT_FOUND);
    assert_int_equal(p.msg.result->type, MSGPACK_OBJECT_NIL);
    parsed_done(&p);
}

static void notification_parses(void **state)
{
    (void)state;
    parsed p;
    parse_hex(&p, "93 02 a1 6e 91 80");                     /* [2, "n", [{}]] */
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.msg.type, BB_RPC_NOTIFICATION);
    assert_false(p.msgid_known);
    assert_true(method_is(&p.msg, "n"));
    assert_non_null(p.msg.params);
    parsed_done(&p);
}

/* ---- malformed envelopes (PROTOCOL.md section 5, malformed_message) ---- */

static void not_an_array_is_malformed(void **state)
{
    (void)state;
    assert_malformed("80", false, 0);                       /* {} */
    assert_malformed("07", false, 0);                       /* 7 */
    assert_malformed("a1 78", false, 0);                    /* "x" */
    assert_malformed("c0", false, 0);                       /* nil */
    assert_malformed("81 00 01", false, 0);                 /* {0: 1} */
}

static void empty_array_is_malformed(void **state)
{
    (void)state;
    assert_malformed("90", false, 0);
}

static void wrong_type_is_malformed(void **state)
{
    (void)state;
    assert_malformed("94 03 05 a1 6d 90", false, 0);        /* type 3 */
    assert_malformed("94 ff 05 a1 6d 90", false, 0);        /* type -1 */
    assert_malformed("94 a1 30 05 a1 6d 90", false, 0);     /* type "0" */
    assert_malformed("94 c0 05 a1 6d 90", false, 0);        /* type nil */
    assert_malformed("94 ca 00 00 00 00 05 a1 6d 90", false, 0); /* type 0.0 */
}

static void request_of_wrong_length_is_malformed_with_msgid(void **state)
{
    (void)state;
    assert_malformed("93 00 05 a1 6d", true, 5);            /* 3 elements */
    assert_malformed("95 00 05 a1 6d 90 c0", true, 5);      /* 5 elements */
    assert_malformed("92 00 05", true, 5);                  /* 2 elements */
    assert_malformed("91 00", false, 0);                    /* no msgid at all */
}

static void bad_msgid_is_malformed_without_msgid(void **state)
{
    (void)state;
    assert_malformed("94 00 ff a1 6d 90", false, 0);                      /* -1 */
    assert_malformed("94 00 cf 00 00 00 01 00 00 00 00 a1 6d 90", false, 0); /* 2^32 */
    assert_malformed("94 00 a1 35 a1 6d 90", false, 0);                   /* "5" */
    assert_malformed("94 00 cb 3f f0 00 00 00 00 00 00 a1 6d 90", false, 0); /* 1.0 */
    assert_malformed("94 00 c0 a1 6d 90", false, 0);                      /* nil */
}

static void method_not_str_is_malformed_with_msgid(void **state)
{
    (void)state;
    assert_malformed("94 00 06 c4 01 6d 90", true, 6);      /* bin "m" */
    assert_malformed("94 00 06 07 90", true, 6);            /* int */
    assert_malformed("94 00 06 c0 90", true, 6);            /* nil */
}

static void params_not_empty_or_one_map_is_malformed_with_msgid(void **state)
{
    (void)state;
    assert_malformed("94 00 07 a1 6d 80", true, 7);         /* {} without the array */
    assert_malformed("94 00 07 a1 6d c0", true, 7);         /* nil */
    assert_malformed("94 00 07 a1 6d 91 01", true, 7);      /* [1] */
    assert_malformed("94 00 07 a1 6d 91 90", true, 7);      /* [[]] */
    assert_malformed("94 00 07 a1 6d 92 80 80", true, 7);   /* [{}, {}] */
}

static void map_key_not_str_is_malformed_with_msgid(void **state)
{
    (void)state;
    assert_malformed("94 00 08 a1 6d 91 81 01 02", true, 8);          /* {1: 2} */
    assert_malformed("94 00 08 a1 6d 91 81 c4 02 69 64 07", true, 8); /* {bin "id": 7} */
    assert_malformed("94 00 08 a1 6d 91 82 a1 61 01 c0 02", true, 8); /* {"a": 1, nil: 2} */
}

static void bad_response_is_malformed(void **state)
{
    (void)state;
    assert_malformed("93 01 09 c0", true, 9);               /* 3 elements */
    assert_malformed("94 01 09 07 c0", true, 9);            /* error is an int */
    assert_malformed("94 01 09 a1 65 c0", true, 9);         /* error is a str */
}

static void bad_notification_is_malformed(void **state)
{
    (void)state;
    assert_malformed("94 02 a1 6e 90 c0", false, 0);        /* 4 elements */
    assert_malformed("92 02 a1 6e", false, 0);              /* 2 elements */
    assert_malformed("93 02 07 90", false, 0);              /* method int */
    assert_malformed("93 02 a1 6e 80", false, 0);           /* params {} */
}

/* ---- packing ---- */


static void assert_bytes_hex(const packed *p, const char *hex)
{
    uint8_t want[256];
    size_t n = from_hex(hex, want, sizeof want);
    assert_int_equal(p->sb.size, n);
    assert_memory_equal(p->sb.data, want, n);
}

/* The str value of key in map, compared with want. */
static void assert_str_at(const msgpack_object *map, const char *key, const char *want)
{
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        fail_msg("no key %s", key);
    assert_int_equal(v->type, MSGPACK_OBJECT_STR);
    assert_int_equal(v->via.str.size, strlen(want));
    assert_memory_equal(v->via.str.ptr, want, strlen(want));
}

static void pack_request_matches_protocol_example(void **state)
{
    (void)state;
    packed p;
    packed_init(&p);
    bb_rpc_pack_request_begin(&p.pk, 1, "server.info", false);
    bb_rpc_pack_request_end(&p.pk);
    assert_bytes_hex(&p, "94 00 01 ab 73 65 72 76 65 72 2e 69 6e 66 6f 90");
    msgpack_sbuffer_destroy(&p.sb);

    packed_init(&p);
    bb_rpc_pack_request_begin(&p.pk, 2, "enterprise.get", true);
    msgpack_pack_map(&p.pk, 1);
    bb_pack_cstr(&p.pk, "id");
    msgpack_pack_uint64(&p.pk, 7);
    bb_rpc_pack_request_end(&p.pk);
    assert_bytes_hex(&p, "94 00 02 ae 65 6e 74 65 72 70 72 69 73 65 2e 67 65 74 91 81 a2 69 64 07");
    msgpack_sbuffer_destroy(&p.sb);
}

static void pack_error_with_field_reads_back(void **state)
{
    (void)state;
    packed p;
    packed_init(&p);
    bb_rpc_pack_error(&p.pk, 4, BB_E_INVALID_ARGUMENT,
                      "credit_code: check character does not match", "credit_code");
    parsed r;
    parse_bytes(&r, p.sb.data, p.sb.size);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.msg.type, BB_RPC_RESPONSE);
    assert_int_equal(r.msg.msgid, 4);
    assert_non_null(r.msg.error);
    assert_int_equal(r.msg.error->via.map.size, 3);
    assert_str_at(r.msg.error, "code", "invalid_argument");
    assert_str_at(r.msg.error, "message", "credit_code: check character does not match");
    assert_str_at(r.msg.error, "field", "credit_code");
    assert_int_equal(r.msg.result->type, MSGPACK_OBJECT_NIL);
    parsed_done(&r);
    msgpack_sbuffer_destroy(&p.sb);
}

static void pack_error_without_field_has_no_field_key(void **state)
{
    (void)state;
    packed p;
    packed_init(&p);
    bb_rpc_pack_error(&p.pk, UINT32_MAX, BB_E_MESSAGE_TOO_LARGE, "message too large", NULL);
    parsed r;
    parse_bytes(&r, p.sb.data, p.sb.size);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.msg.msgid, UINT32_MAX);
    assert_int_equal(r.msg.error->via.map.size, 2);
    assert_str_at(r.msg.error, "code", "message_too_large");
    assert_str_at(r.msg.error, "message", "message too large");
    assert_null(bb_map_get(r.msg.error, "field"));
    parsed_done(&r);
    msgpack_sbuffer_destroy(&p.sb);
}

static void pack_result_begin_then_result_reads_back(void **state)
{
    (void)state;
    packed p;
    packed_init(&p);
    bb_rpc_pack_result_begin(&p.pk, 3);
    msgpack_pack_map(&p.pk, 1);
    bb_pack_cstr(&p.pk, "name");
    bb_pack_strn(&p.pk, "住方科技xyz", 12);     /* the 4 characters only */
    parsed r;
    parse_bytes(&r, p.sb.data, p.sb.size);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.msg.type, BB_RPC_RESPONSE);
    assert_int_equal(r.msg.msgid, 3);
    assert_null(r.msg.error);
    assert_str_at(r.msg.result, "name", "住方科技");
    parsed_done(&r);
    msgpack_sbuffer_destroy(&p.sb);
}

static void pack_closing_reads_back_as_notification(void **state)
{
    (void)state;
    packed p;
    packed_init(&p);
    bb_rpc_pack_closing(&p.pk, BB_E_UNAVAILABLE, "too many connections");
    parsed r;
    parse_bytes(&r, p.sb.data, p.sb.size);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.msg.type, BB_RPC_NOTIFICATION);
    assert_true(method_is(&r.msg, "connection.closing"));
    assert_non_null(r.msg.params);
    assert_int_equal(r.msg.params->via.map.size, 2);
    assert_str_at(r.msg.params, "code", "unavailable");
    assert_str_at(r.msg.params, "message", "too many connections");
    parsed_done(&r);
    msgpack_sbuffer_destroy(&p.sb);
}

static void pack_cstr_null_is_nil(void **state)
{
    (void)state;
    packed p;
    packed_init(&p);
    bb_pack_cstr(&p.pk, NULL);
    bb_pack_cstr(&p.pk, "");
    assert_bytes_hex(&p, "c0 a0");
    msgpack_sbuffer_destroy(&p.sb);
}

static void map_get_ignores_non_maps_and_non_str_keys(void **state)
{
    (void)state;
    parsed p;
    parse_hex(&p, "92 01 02");
    assert_null(bb_map_get(&p.up.data, "a"));
    parsed_done(&p);
    /* {1: 2, "": 3, "a": 4, "a": 5}: first match wins, "" is a key too */
    msgpack_unpacked_init(&p.up);
    uint8_t buf[32];
    size_t n = from_hex("84 01 02 a0 03 a1 61 04 a1 61 05", buf, sizeof buf);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&p.up, (const char *)buf, n, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(bb_map_get(&p.up.data, "a")->via.u64, 4);
    assert_int_equal(bb_map_get(&p.up.data, "")->via.u64, 3);
    assert_null(bb_map_get(&p.up.data, "b"));
    assert_null(bb_map_get(NULL, "a"));
    msgpack_unpacked_destroy(&p.up);
}

/* ---- error codes ---- */

static void every_error_code_round_trips(void **state)
{
    (void)state;
    for (int e = 1; e < BB_E__COUNT; e++) {
        const char *s = bb_err_code((bb_err)e);
        assert_non_null(s);
        assert_int_equal(bb_err_from_code(s, strlen(s)), e);
    }
}

static void error_code_strings_match_protocol(void **state)
{
    (void)state;
    assert_string_equal(bb_err_code(BB_E_MALFORMED_MESSAGE), "malformed_message");
    assert_string_equal(bb_err_code(BB_E_MESSAGE_TOO_LARGE), "message_too_large");
    assert_string_equal(bb_err_code(BB_E_NESTING_TOO_DEEP), "nesting_too_deep");
    assert_string_equal(bb_err_code(BB_E_TOO_MANY_IN_FLIGHT), "too_many_in_flight");
    assert_string_equal(bb_err_code(BB_E_UNKNOWN_METHOD), "unknown_method");
    assert_string_equal(bb_err_code(BB_E_INVALID_ARGUMENT), "invalid_argument");
    assert_string_equal(bb_err_code(BB_E_INVALID_UTF8), "invalid_utf8");
    assert_string_equal(bb_err_code(BB_E_NOT_FOUND), "not_found");
    assert_string_equal(bb_err_code(BB_E_VERSION_CONFLICT), "version_conflict");
    assert_string_equal(bb_err_code(BB_E_ALREADY_EXISTS), "already_exists");
    assert_string_equal(bb_err_code(BB_E_IDEMPOTENCY_KEY_REUSED), "idempotency_key_reused");
    assert_string_equal(bb_err_code(BB_E_UNAVAILABLE), "unavailable");
    assert_string_equal(bb_err_code(BB_E_SHUTTING_DOWN), "shutting_down");
    assert_string_equal(bb_err_code(BB_E_INTERNAL), "internal");
}

static void unknown_error_codes(void **state)
{
    (void)state;
    assert_string_equal(bb_err_code(BB_E__COUNT), "internal");
    assert_string_equal(bb_err_code((bb_err)-1), "internal");
    assert_int_equal(bb_err_from_code("nope", 4), BB_E__COUNT);
    assert_int_equal(bb_err_from_code("ok", 2), BB_E__COUNT);
    assert_int_equal(bb_err_from_code("not_found", 3), BB_E__COUNT);  /* prefix */
    assert_int_equal(bb_err_from_code(NULL, 0), BB_E__COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_without_args_parses),
        cmocka_unit_test(request_with_args_parses),
        cmocka_unit_test(request_with_empty_map_has_params),
        cmocka_unit_test(largest_msgid_parses),
        cmocka_unit_test(response_with_result_parses),
        cmocka_unit_test(response_with_error_parses),
        cmocka_unit_test(notification_parses),
        cmocka_unit_test(not_an_array_is_malformed),
        cmocka_unit_test(empty_array_is_malformed),
        cmocka_unit_test(wrong_type_is_malformed),
        cmocka_unit_test(request_of_wrong_length_is_malformed_with_msgid),
        cmocka_unit_test(bad_msgid_is_malformed_without_msgid),
        cmocka_unit_test(method_not_str_is_malformed_with_msgid),
        cmocka_unit_test(params_not_empty_or_one_map_is_malformed_with_msgid),
        cmocka_unit_test(map_key_not_str_is_malformed_with_msgid),
        cmocka_unit_test(bad_response_is_malformed),
        cmocka_unit_test(bad_notification_is_malformed),
        cmocka_unit_test(pack_request_matches_protocol_example),
        cmocka_unit_test(pack_error_with_field_reads_back),
        cmocka_unit_test(pack_error_without_field_has_no_field_key),
        cmocka_unit_test(pack_result_begin_then_result_reads_back),
        cmocka_unit_test(pack_closing_reads_back_as_notification),
        cmocka_unit_test(pack_cstr_null_is_nil),
        cmocka_unit_test(map_get_ignores_non_maps_and_non_str_keys),
        cmocka_unit_test(every_error_code_round_trips),
        cmocka_unit_test(error_code_strings_match_protocol),
        cmocka_unit_test(unknown_error_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
