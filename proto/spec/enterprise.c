/*
 * enterprise.c (spec): the enterprise register, enterprise.create / get /
 * update / list (PROTOCOL.md section 6). The bulk upsert is in import.c.
 *
 * Township, cluster and status name reference data (tables an admin
 * manages): the database refuses a value that is not a current member.
 * Labels are free text (any label is accepted), so they name no kind.
 * Not for: the credit code's own rules (bb_creditcode.h, checked by the
 * server), or how the methods run (server/methods/enterprise.c).
 */
#include "spec.h"

#include "bb_limits.h"

/* The credit code is first a str of at most this many characters, then
 * its own rules (the length rule is 18) say what is wrong with it. */
#define CREDIT_CODE_CHARS 64

#define ID {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "企业编号"}
#define NAME(flags, doc) {"name", BB_T_STR, flags, 1, BB_MAX_NAME_CHARS, 0, NULL, NULL, doc}
#define CODE(flags, doc) {"credit_code", BB_T_STR, flags, 1, CREDIT_CODE_CHARS, 0, NULL, NULL, doc}
#define SHORT(name, flags, ref, doc) \
    {name, BB_T_STR, flags, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL, ref, doc}
#define LABELS(doc) {"labels", BB_T_STRS, 0, 0, BB_MAX_LABELS, BB_MAX_LABEL_CHARS, NULL, NULL, doc}

static const bb_arg create[] = {
    NAME(BB_A_REQ, "企业名称"),
    CODE(BB_A_REQ, "统一社会信用代码"),
    SHORT("township", BB_A_REQ, "township", "所在乡镇（街道、园区）"),
    SHORT("cluster", BB_A_NIL, "cluster", "产业集群；nil 或不填为无"),
    SHORT("status", 0, "enterprise_status", "经营状态；默认在营"),
    LABELS("标签；默认无"),
    {NULL},
};
static const bb_arg by_id[] = {ID, {NULL}};
static const bb_arg update[] = {
    ID,
    {"version", BB_T_INT, BB_A_REQ, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号"},
    NAME(0, "企业名称"),
    CODE(0, "统一社会信用代码"),
    SHORT("township", 0, "township", "所在乡镇（街道、园区）"),
    SHORT("status", 0, "enterprise_status", "经营状态"),
    SHORT("cluster", BB_A_NIL, "cluster", "产业集群；nil 清空"),
    LABELS("标签，整组替换；[] 清空"),
    {NULL},
};
/* Filters: an unknown township or cluster matches nothing; an unknown
 * status is refused. */
static const bb_arg list[] = {
    SHORT("township", 0, NULL, "只列此乡镇的"),
    SHORT("cluster", 0, NULL, "只列此产业集群的"),
    SHORT("status", 0, "enterprise_status", "只列此经营状态的"),
    {"label", BB_T_STR, 0, 1, BB_MAX_LABEL_CHARS, 0, NULL, NULL, "只列有此标签的"},
    {"name_contains", BB_T_STR, 0, 1, BB_MAX_NAME_CHARS, 0, NULL, NULL, "名称包含"},
    /* A filter too: a code no enterprise has matches nothing (no check of
     * its own rules), so a client can look an enterprise up by it. */
    CODE(0, "统一社会信用代码（完全一致）"),
    {NULL},
};

const bb_method_spec bb_spec_enterprise[] = {
    {"enterprise.create", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, create, "Enterprise",
     "新建企业"},
    {"enterprise.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "Enterprise", "查看企业"},
    {"enterprise.update", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, update, "Enterprise",
     "修改企业"},
    {"enterprise.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, list,
     "page of Enterprise",
     "列出企业"},
    {NULL},
};
