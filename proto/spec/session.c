/*
 * session.c (spec): logging in and out, and the caller's own account
 * (PROTOCOL.md sections 3 and 6): session.login, resume, logout, whoami,
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
/* A session token as sent: the server's are 48 bytes (login.c); anything
 * else of 1-128 bytes is looked up like one and refused as unknown, so a
 * garbled token gets the same answer as an ended one. */
#define TOKEN_MAX_BYTES 128

static const bb_arg none[] = {{NULL}};
static const bb_arg login[] = {
    {"login", BB_T_STR, BB_A_REQ | BB_A_BYTES, 1, LOGIN_BYTES, 0, NULL, NULL, "登录名"},
    {"password", BB_T_STR, BB_A_REQ | BB_A_BYTES | BB_A_SECRET, 1, PASSWORD_MAX_BYTES, 0, NULL,
     NULL, "密码"},
    {"keep", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL,
     "保持登录：结果另带一个令牌，以后的连接用 session.resume 登录，"
     "不必再给密码"},
    {NULL},
};
static const bb_arg resume[] = {
    {"token", BB_T_STR, BB_A_REQ | BB_A_BYTES | BB_A_SECRET, 1, TOKEN_MAX_BYTES, 0, NULL, NULL,
     "session.login（keep）给出的令牌"},
    {NULL},
};
static const bb_arg logout[] = {
    {"token", BB_T_STR, BB_A_BYTES | BB_A_SECRET, 1, TOKEN_MAX_BYTES, 0, NULL, NULL,
     "同时结束此令牌（本用户的）"},
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
    {"session.login", BB_ROLES_ALL, BB_M_WRITES, login, "User", "登录"},
    {"session.resume", BB_ROLES_ALL, BB_M_WRITES, resume, "User", "用保存的令牌登录（保持登录）"},
    {"session.logout", BB_ROLES_USERS, BB_M_WRITES, logout, "true", "退出登录"},
    {"session.whoami", BB_ROLES_USERS, 0, none, "User", "当前登录的用户"},
    {"session.change_password", BB_ROLES_USERS, BB_M_WRITES, change_password, "true", "修改自己的密码"},
    {NULL},
};
