/*
 * user.c (spec): admins manage users (PROTOCOL.md section 6): user.create,
 * get, list, update, set_password.
 */
#include "spec.h"

#include "bb_limits.h"

/* A login: 1-64 bytes (SESSION_LOGIN_MAX, server/engine/session.h). */
#define LOGIN_BYTES 64
/* Display name and unit (CHECKs in sql/004_accounts.sql). */
#define TEXT_CHARS 50
/* A user has at most this many townships: there are 17. */
#define MAX_TOWNSHIPS 32
/* Passwords set by an admin: 8-1024 bytes (server/methods/user.h). */
#define PASSWORD_MIN_BYTES 8
#define PASSWORD_MAX_BYTES 1024

/* The roles of the protocol (section 3): fixed, not reference data. */
static const char *const roles[] = {"township_staff", "supervisor", "admin", NULL};

#define ID {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "用户编号"}
#define PASSWORD(doc) \
    {"password", BB_T_STR, BB_A_REQ | BB_A_BYTES | BB_A_SECRET, PASSWORD_MIN_BYTES, \
     PASSWORD_MAX_BYTES, 0, NULL, NULL, doc}

static const bb_arg user_create[] = {
    {"login", BB_T_STR, BB_A_REQ | BB_A_BYTES, 1, LOGIN_BYTES, 0, NULL, NULL, "登录名，不含空格"},
    {"display_name", BB_T_STR, BB_A_REQ, 1, TEXT_CHARS, 0, NULL, NULL, "姓名"},
    {"role", BB_T_STR, BB_A_REQ, 1, BB_MAX_SHORT_TEXT_CHARS, 0, roles, NULL, "角色"},
    {"unit", BB_T_STR, BB_A_NIL, 1, TEXT_CHARS, 0, NULL, NULL, "所在单位"},
    {"townships", BB_T_STRS, 0, 0, MAX_TOWNSHIPS, BB_MAX_SHORT_TEXT_CHARS, NULL, "township",
     "负责的乡镇（街道、园区）：乡镇干部必填，其他角色不填"},
    PASSWORD("初始密码"),
    {NULL},
};
static const bb_arg user_get[] = {ID, {NULL}};
static const bb_arg user_list[] = {
    {"role", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, roles, NULL, "只列此角色的用户"},
    /* A filter: an unknown name matches nothing, so no ref. */
    {"township", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL, NULL, "只列此乡镇的用户"},
    {"name_contains", BB_T_STR, 0, 1, LOGIN_BYTES, 0, NULL, NULL, "登录名或姓名包含"},
    {NULL},
};
static const bb_arg user_update[] = {
    ID,
    {"version", BB_T_INT, BB_A_REQ, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号"},
    {"display_name", BB_T_STR, 0, 1, TEXT_CHARS, 0, NULL, NULL, "姓名"},
    {"role", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, roles, NULL, "角色"},
    {"unit", BB_T_STR, BB_A_NIL, 1, TEXT_CHARS, 0, NULL, NULL, "所在单位；nil 清空"},
    {"townships", BB_T_STRS, 0, 0, MAX_TOWNSHIPS, BB_MAX_SHORT_TEXT_CHARS, NULL, "township",
     "负责的乡镇：给出即整体替换"},
    {"disabled", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "停用"},
    {NULL},
};
static const bb_arg user_set_password[] = {ID, PASSWORD("新密码"), {NULL}};

const bb_method_spec bb_spec_user[] = {
    {"user.create", BB_ROLE_ADMIN, BB_M_WRITE, user_create, "User", "新建用户"},
    {"user.get", BB_ROLE_ADMIN, BB_M_REPLICA, user_get, "User", "查看用户"},
    {"user.list", BB_ROLE_ADMIN, BB_M_PAGED | BB_M_REPLICA, user_list, "page of User", "列出用户"},
    {"user.update", BB_ROLE_ADMIN, BB_M_WRITE, user_update, "User", "修改用户"},
    {"user.set_password", BB_ROLE_ADMIN, BB_M_WRITES, user_set_password, "true",
     "重设用户的密码，并让其已登录的会话失效"},
    {NULL},
};
