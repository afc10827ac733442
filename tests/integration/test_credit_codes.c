/*
 * test_credit_codes.c: the unified social credit code (GB 32100-2015) as
 * baobaod checks it at enterprise.create: the real codes of DOMAIN.md pass,
 * a check character of value 0 passes, and every broken rule is refused with
 * invalid_argument, field credit_code (never stored).
 *
 * Not for: the checker's unit tests (tests/unit/test_creditcode.c). Raw
 * requests, so the client library's own early check cannot hide the
 * server's behaviour.
 */
#include "harness.h"

#include <stdio.h>

static unsigned g_msgid = 100;

/* enterprise.create with this credit code; returns the reply in out. */
static int create_with(it_conn *c, const char *code, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "信用代码测试企业");
    it_kv_str(&b, "credit_code", code);
    it_kv_str(&b, "township", "蒲圻街道");
    int r = it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_free(&b);
    return r;
}

static int expect_accepted(const char *code)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    char d[800];
    IT_CHECK(create_with(c, code, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "%s refused: %s", code, it_describe(&m, d, sizeof d));
    IT_CHECKF(it_get_str_eq(m.result, "credit_code", code), "%s: result credit_code differs",
              code);
    it_msg_free(&m);
    const char *p[] = {code};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p) == 1);
    return 0;
}

static int expect_refused(const char *code, size_t len, const char *why)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "信用代码测试企业");
    it_kv_strn(&b, "credit_code", code, len);
    it_kv_str(&b, "township", "蒲圻街道");
    it_msg m;
    char d[800];
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "credit_code") == 0 && m.message[0] != '\0',
              "%.*s (%s): expected invalid_argument field credit_code, got %s", (int)len, code,
              why, it_describe(&m, d, sizeof d));
    it_note("%-20.*s %-26s -> %s", (int)len, code, why, m.message);
    it_msg_free(&m);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

#define REFUSED(code, why) IT_CHECK(expect_refused((code), strlen(code), (why)) == 0)

static int real_codes_from_domain_accepted(void)
{
    IT_CHECK(expect_accepted("914403001922038216") == 0);
    IT_CHECK(expect_accepted("9144030071526726XG") == 0);
    IT_CHECK(expect_accepted("91330100716105852F") == 0);
    return 0;
}

static int check_character_of_value_zero_accepted(void)
{
    /* Find a code whose check value is 0 (character '0'): validators that
     * compute 31 instead of 0 refuse it. */
    char code[19];
    for (unsigned long n = 1000;; n++) {
        it_credit_code(n, code);
        if (code[17] == '0')
            break;
    }
    IT_CHECK(expect_accepted(code) == 0);
    return 0;
}

static int wrong_check_character_refused(void)
{
    REFUSED("914403001922038217", "check 7 instead of 6");
    REFUSED("9144030071526726XH", "check H instead of G");
    REFUSED("91330100716105852E", "check E instead of F");
    /* The check-0 code with check Y (value 30) and with '1'. */
    char code[19];
    for (unsigned long n = 1000;; n++) {
        it_credit_code(n, code);
        if (code[17] == '0')
            break;
    }
    code[17] = 'Y';
    REFUSED(code, "check Y for value 0");
    return 0;
}

static int forbidden_letters_refused(void)
{
    static const char letters[] = "IOSVZ";
    for (const char *l = letters; *l; l++) {
        /* A letter in the organisation code; the check computed as if the
         * letter were allowed (value of the next letter) so only the
         * alphabet rule is broken. */
        char code[19] = "91442128100000000";
        code[12] = *l;
        code[17] = '0';
        code[18] = '\0';
        char why[40];
        snprintf(why, sizeof why, "letter %c", *l);
        REFUSED(code, why);
        /* And as the check character itself. */
        char code2[19];
        it_credit_code(4242, code2);
        code2[17] = *l;
        snprintf(why, sizeof why, "check character %c", *l);
        REFUSED(code2, why);
    }
    return 0;
}

static int lowercase_refused(void)
{
    REFUSED("9144030071526726xg", "lowercase check");
    REFUSED("91330100716105852f", "lowercase f");
    return 0;
}

static int wrong_length_refused(void)
{
    REFUSED("91440300192203821", "17 characters");
    REFUSED("9144030019220382160", "19 characters");
    REFUSED("", "empty");
    REFUSED("914403001922038216 ", "trailing space");
    /* 18 bytes but not 18 characters: a 3-byte character in place of 3. */
    REFUSED("9144030019220382\xe4\xb8\x80", "18 bytes, 17 characters");
    return 0;
}

static int id_card_number_refused(void)
{
    REFUSED("11010519491231002X", "ID-card number");
    return 0;
}

static int bad_authority_or_region_refused(void)
{
    char code[19];
    /* Each with a correct check character, so only the named rule fails. */
    memcpy(code, "01421281000000001", 17);
    code[17] = it_credit_check(code);
    code[18] = '\0';
    REFUSED(code, "authority 0");
    memcpy(code, "B1421281000000001", 17);
    code[17] = it_credit_check(code);
    REFUSED(code, "authority B");
    memcpy(code, "90421281000000001", 17);
    code[17] = it_credit_check(code);
    REFUSED(code, "kind 0");
    memcpy(code, "91991281000000001", 17);
    code[17] = it_credit_check(code);
    REFUSED(code, "province 99");
    memcpy(code, "914212A1000000001", 17);
    code[17] = it_credit_check(code);
    REFUSED(code, "letter in the region");
    return 0;
}

static int credit_code_of_wrong_type_refused(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 5, "enterprise.create", 3);
    it_kv_str(&b, "name", "信用代码测试企业");
    it_kv_int(&b, "credit_code", 914403001922038216LL);
    it_kv_str(&b, "township", "蒲圻街道");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    IT_CHECK(it_expect_error(c, 5, "invalid_argument", "credit_code", IT_REPLY_TIMEOUT_MS) == 0);
    return 0;
}

static int refused_codes_store_nothing(void)
{
    /* Run after the refusals: only accepted codes are in the table. */
    long long n = it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code IN "
                            "('914403001922038217', '11010519491231002X', "
                            "'9144030071526726xg', '91440300192203821')",
                            0, NULL);
    IT_CHECKF(n == 0, "%lld refused codes were stored", n);
    return 0;
}

static const it_test tests[] = {
    {"real_codes_from_domain_accepted", real_codes_from_domain_accepted},
    {"check_character_of_value_zero_accepted", check_character_of_value_zero_accepted},
    {"wrong_check_character_refused", wrong_check_character_refused},
    {"forbidden_letters_refused", forbidden_letters_refused},
    {"lowercase_refused", lowercase_refused},
    {"wrong_length_refused", wrong_length_refused},
    {"id_card_number_refused", id_card_number_refused},
    {"bad_authority_or_region_refused", bad_authority_or_region_refused},
    {"credit_code_of_wrong_type_refused", credit_code_of_wrong_type_refused},
    {"refused_codes_store_nothing", refused_codes_store_nothing},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "credit", tests, sizeof tests / sizeof tests[0], NULL);
}
