/*
 * session.c (spec): logging in and out, and the caller's own account
 * (PROTOCOL.md sections 3 and 6): session.login, logout, whoami,
 * change_password.
 */
#include "spec.h"

/* A login: 1-64 bytes (SESSION_LOGIN_MAX, server/engine/session.h). */
#define LOGIN_BYTES 64
/* Passwords: 1-1024 bytes at login and as the old one (older accounts may
 * have short ones); 8-1024 bytes when set (USER_PASSWORD_*_BYTES,
 * server/methods/user.h). */
#define PASSWORD_MIN_BYTES 8
#define PASSWORD_MAX_BYTES 1024

static const bb_arg none[] = {{NULL}};
static const bb_arg login[] = {
    {"login", BB_T_STR, BB_A_REQ | BB_A_BYTES, 1, LOGIN_BYTES, 0, NULL, NULL, "登录名"},
    {"password", BB_T_STR, BB_A_REQ | BB_A_BYTES | BB_A_SECRET, 1, PASSWORD_MAX_BYTES, 0, NULL,
     NULL, "密码"},
    {NULL},
};
static const bb_arg change_password[] = {
    {"old_password", BB_T_STR, BB_A_REQ | BB_A_BYTES | BB_A_SECRET, 1, PASSWORD_MAX_BYTES, 0,
     NULL, NULL, "当前密码"},
    {"new_password", BB_T_STR, BB_A_REQ | BB_A_BYTES | BB_A_SECRET, PASSWORD_MIN_BYTES,
     PASSWORD_MAX_BYTES, 0, NULL, NULL, "新密码"},
    {NULL},
};

const bb_method_spec bb_spec_session[] = {
    {"session.login", BB_ROLES_ALL, 0, login, "User", "登录"},
    {"session.logout", BB_ROLES_USERS, 0, none, "true", "退出登录"},
    {"session.whoami", BB_ROLES_USERS, 0, none, "User", "当前登录的用户"},
    {"session.change_password", BB_ROLES_USERS, 0, change_password, "true", "修改自己的密码"},
    {NULL},
};
