/*
 * refdata.c (spec): reference data, the lists a record's value must belong
 * to (townships, kinds of township, industry clusters, labels, enterprise
 * statuses, production statuses, problem categories): ref.list for every
 * user (clients offer the current values), ref.add / ref.rename /
 * ref.retire for admins (PROTOCOL.md, "Reference data").
 *
 * The kinds are the code's (each is tied to the columns whose triggers
 * check it, sql/015_reference_data.sql), so they are a list here; their
 * values are data and appear nowhere in C.
 */
#include "spec.h"

#include "bb_limits.h"

/* The longest sort_order a client may give. */
#define SORT_ORDER_MAX 1000000

static const char *const kinds[] = {
    "township", "township_kind", "cluster", "label",
    "enterprise_status", "production_status", "problem_category", NULL,
};

#define KIND(flags, doc) \
    {"kind", BB_T_STR, flags, 1, BB_MAX_SHORT_TEXT_CHARS, 0, kinds, NULL, doc}
#define VALUE(name, doc) \
    {name, BB_T_STR, BB_A_REQ, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL, NULL, doc}

static const bb_arg ref_list[] = {
    KIND(0, "只列此类；默认全部"),
    {NULL},
};
static const bb_arg ref_add[] = {
    KIND(BB_A_REQ, "类别"),
    VALUE("value", "新的名称（标签至多 32 个字）"),
    {"sort_order", BB_T_INT, 0, 0, SORT_ORDER_MAX, 0, NULL, NULL,
     "排序；默认排在本类最后（乡镇按编号，不可指定）"},
    {"township_kind", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL, "township_kind",
     "乡镇的类型（街道、镇等）；仅 kind 为 township 时必填"},
    {NULL},
};
static const bb_arg ref_rename[] = {
    KIND(BB_A_REQ, "类别"),
    VALUE("value", "现在的名称"),
    VALUE("new_value", "新名称；已有记录随之改名"),
    {NULL},
};
static const bb_arg ref_retire[] = {
    KIND(BB_A_REQ, "类别"),
    VALUE("value", "名称"),
    {"retired", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "true 停用（默认），false 恢复"},
    {NULL},
};

const bb_method_spec bb_spec_refdata[] = {
    {"ref.list", BB_ROLES_USERS, BB_M_REPLICA, ref_list, "RefList", "列出基础数据（含已停用的）"},
    {"ref.add", BB_ROLE_ADMIN, BB_M_WRITE, ref_add, "RefValue", "新增基础数据"},
    {"ref.rename", BB_ROLE_ADMIN, BB_M_WRITE, ref_rename, "RefValue", "基础数据改名"},
    {"ref.retire", BB_ROLE_ADMIN, BB_M_WRITE, ref_retire, "RefValue", "停用或恢复基础数据"},
    {NULL},
};
