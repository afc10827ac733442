/*
 * test_api_info.c: the method spec as the server serves it. `server.api`
 * answers anyone (also before login) with {version, methods}: every
 * method with its roles, flags and arguments (type, required, nil, limits,
 * secret); and `baobaod --api-info` prints the same spec as JSON, with the
 * same methods in the same order.
 *
 * Not for: whether PROTOCOL.md agrees with the spec (tests/doc), or the
 * argument checks the spec drives (the tests of each area).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_MSGID 7
#define MAX_METHODS 256

/* ---- a tiny JSON syntax check (RFC 8259, no semantics) ---- */

static const char *j_value(const char *p, int depth);

static const char *j_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *j_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (strchr("0123456789abcdefABCDEF", p[i]) == NULL || p[i] == '\0')
                        return NULL;
                p += 4;
            } else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *j_seq(const char *p, char close, bool keyed, int depth)
{
    p = j_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (keyed) {
            p = j_string(j_ws(p));
            if (p == NULL || *(p = j_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = j_value(p, depth + 1);
        if (p == NULL)
            return NULL;
        p = j_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *j_value(const char *p, int depth)
{
    if (depth > 32)
        return NULL;
    p = j_ws(p);
    if (*p == '{')
        return j_seq(p, '}', true, depth);
    if (*p == '[')
        return j_seq(p, ']', false, depth);
    if (*p == '"')
        return j_string(p);
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++)
        if (strncmp(p, words[i], strlen(words[i])) == 0)
            return p + strlen(words[i]);
    const char *s = p;
    if (*p == '-')
        p++;
    while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
           *p == '-')
        p++;
    return p > s ? p : NULL;
}

static bool json_valid(const char *text)
{
    const char *end = j_value(text, 0);
    return end != NULL && *j_ws(end) == '\0';
}

/* ---- helpers over the msgpack answer ---- */

static bool obj_is(const msgpack_object *o, const char *s)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static bool get_bool(const msgpack_object *map, const char *key, bool *out)
{
    const msgpack_object *v = it_map_get(map, key);
    if (v == NULL || v->type != MSGPACK_OBJECT_BOOLEAN)
        return false;
    *out = v->via.boolean;
    return true;
}

static const msgpack_object *find_named(const msgpack_object *arr, const char *name)
{
    if (arr == NULL || arr->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (uint32_t i = 0; i < arr->via.array.size; i++)
        if (obj_is(it_map_get(&arr->via.array.ptr[i], "name"), name))
            return &arr->via.array.ptr[i];
    return NULL;
}

static bool has_str(const msgpack_object *arr, const char *s)
{
    if (arr == NULL || arr->type != MSGPACK_OBJECT_ARRAY)
        return false;
    for (uint32_t i = 0; i < arr->via.array.size; i++)
        if (obj_is(&arr->via.array.ptr[i], s))
            return true;
    return false;
}

/* Calls server.api on c; the answer in *m (free with it_msg_free). */
static int call_api(it_conn *c, it_msg *m)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, API_MSGID, "server.api", IT_NO_ARGS);
    int rc = it_call(c, b.sb.data, b.sb.size, API_MSGID, 10000, m);
    it_buf_free(&b);
    IT_CHECK(rc == IT_RECV_MSG);
    char d[800];
    IT_CHECKF(!m->is_error && m->result != NULL, "server.api: %s", it_describe(m, d, sizeof d));
    return 0;
}

/* ---- tests ---- */

static int server_api_lists_every_method_with_roles_and_args(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    /* Anyone may ask, logged in or not. */
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    IT_CHECK(call_api(c, &m) == 0);
    int64_t version = 0;
    IT_CHECK(it_get_int(m.result, "version", &version) && version == 1);
    const msgpack_object *methods = it_map_get(m.result, "methods");
    IT_CHECK(methods != NULL && methods->type == MSGPACK_OBJECT_ARRAY);
    IT_CHECKF(methods->via.array.size >= 40, "only %u methods", methods->via.array.size);

    /* Every method has a name, roles, its flags, args, result, summary. */
    for (uint32_t i = 0; i < methods->via.array.size; i++) {
        const msgpack_object *me = &methods->via.array.ptr[i];
        char name[64] = "";
        IT_CHECK(it_get_str(me, "name", name, sizeof name) && name[0] != '\0');
        const msgpack_object *roles = it_map_get(me, "roles");
        IT_CHECKF(roles != NULL && roles->type == MSGPACK_OBJECT_ARRAY &&
                      roles->via.array.size > 0,
                  "%s: no roles", name);
        bool f;
        IT_CHECKF(get_bool(me, "write", &f) && get_bool(me, "paged", &f) &&
                      get_bool(me, "scoped", &f) && get_bool(me, "replica", &f),
                  "%s: flags", name);
        const msgpack_object *args = it_map_get(me, "args");
        IT_CHECKF(args != NULL && args->type == MSGPACK_OBJECT_ARRAY, "%s: no args", name);
        for (uint32_t k = 0; k < args->via.array.size; k++) {
            const msgpack_object *ar = &args->via.array.ptr[k];
            char an[64], at[32];
            IT_CHECKF(it_get_str(ar, "name", an, sizeof an) &&
                          it_get_str(ar, "type", at, sizeof at) && get_bool(ar, "required", &f) &&
                          get_bool(ar, "nil", &f),
                      "%s: argument %u", name, k);
        }
        IT_CHECKF(it_map_get(me, "result") != NULL && it_map_get(me, "summary") != NULL,
                  "%s: result, summary", name);
    }

    /* official.update: version a required int, title nil-able, the key
     * every write takes; supervisors and admins only. */
    const msgpack_object *ou = find_named(methods, "official.update");
    IT_CHECK(ou != NULL);
    const msgpack_object *roles = it_map_get(ou, "roles");
    IT_CHECK(has_str(roles, "supervisor") && has_str(roles, "admin"));
    IT_CHECK(!has_str(roles, "township_staff") && !has_str(roles, "anonymous"));
    bool w = false;
    IT_CHECK(get_bool(ou, "write", &w) && w);
    const msgpack_object *args = it_map_get(ou, "args");
    const msgpack_object *ver = find_named(args, "version");
    IT_CHECK(ver != NULL);
    IT_CHECK(it_get_str_eq(ver, "type", "int"));
    bool req = false, nil = true;
    IT_CHECK(get_bool(ver, "required", &req) && req);
    IT_CHECK(get_bool(ver, "nil", &nil) && !nil);
    int64_t mn = 0;
    IT_CHECK(it_get_int(ver, "min", &mn) && mn == 1);
    const msgpack_object *title = find_named(args, "title");
    IT_CHECK(title != NULL);
    IT_CHECK(get_bool(title, "nil", &nil) && nil);
    IT_CHECK(get_bool(title, "required", &req) && !req);
    IT_CHECK(it_map_get(title, "chars") != NULL);
    IT_CHECK(find_named(args, "idempotency_key") != NULL);

    /* session.login: anyone; its password a secret of 1-1024 bytes. */
    const msgpack_object *login = find_named(methods, "session.login");
    IT_CHECK(login != NULL);
    IT_CHECK(has_str(it_map_get(login, "roles"), "anonymous"));
    const msgpack_object *pw = find_named(it_map_get(login, "args"), "password");
    IT_CHECK(pw != NULL);
    bool secret = false;
    IT_CHECK(get_bool(pw, "secret", &secret) && secret);
    const msgpack_object *bytes = it_map_get(pw, "bytes");
    IT_CHECK(bytes != NULL && bytes->type == MSGPACK_OBJECT_ARRAY && bytes->via.array.size == 2);

    /* server.api describes itself; user.* is the admins' only. */
    const msgpack_object *api = find_named(methods, "server.api");
    IT_CHECK(api != NULL && has_str(it_map_get(api, "roles"), "anonymous"));
    const msgpack_object *uc = find_named(methods, "user.create");
    IT_CHECK(uc != NULL);
    const msgpack_object *ur = it_map_get(uc, "roles");
    IT_CHECK(ur != NULL && ur->via.array.size == 1 && has_str(ur, "admin"));
    it_msg_free(&m);
    it_close(c);
    return 0;
}

static int api_info_prints_the_same_spec_as_json(void)
{
    const char *baobaod = getenv("BAOBAOD");
    IT_CHECK(baobaod != NULL);
    it_cli r;
    const char *const argv[] = {baobaod, "--api-info", NULL};
    IT_CHECK(it_run(&r, argv, 10000) == 0);
    IT_CHECKF(r.status == 0, "--api-info exited %d: %s", r.status, r.err);
    IT_CHECK(json_valid(r.out));
    IT_CHECK(strncmp(r.out, "{\"version\":1,\"methods\":[", 24) == 0);

    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    IT_CHECK(call_api(c, &m) == 0);
    const msgpack_object *methods = it_map_get(m.result, "methods");
    IT_CHECK(methods != NULL && methods->type == MSGPACK_OBJECT_ARRAY);

    /* bb_spec_write_json puts each method on a line of its own, opening
     * with its name: the same names, in the same order, and no others. */
    const char *at = r.out;
    uint32_t n = methods->via.array.size;
    for (uint32_t i = 0; i < n; i++) {
        char name[64], needle[96];
        IT_CHECK(it_get_str(&methods->via.array.ptr[i], "name", name, sizeof name));
        snprintf(needle, sizeof needle, "\n{\"name\":\"%s\",", name);
        const char *hit = strstr(at, needle);
        IT_CHECKF(hit != NULL, "--api-info lacks %s (or has it out of order)", name);
        at = hit + 1;
    }
    IT_CHECKF(strstr(at, "\n{\"name\":") == NULL, "--api-info has more than the %u methods", n);
    it_msg_free(&m);
    it_close(c);
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"server_api_lists_every_method_with_roles_and_args",
     server_api_lists_every_method_with_roles_and_args},
    {"api_info_prints_the_same_spec_as_json", api_info_prints_the_same_spec_as_json},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "api_info", tests, sizeof tests / sizeof tests[0], NULL);
}
