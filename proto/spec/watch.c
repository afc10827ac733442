/*
 * watch.c (spec): pushes (PROTOCOL.md section 1, "Push (notifications
 * from the server)"): a logged-in connection subscribes to the notices and
 * light changes that concern its user (or, for supervisors and admins, to
 * all of them) and from then on receives notice.issued and light.changed
 * notifications, and watch.missed when some were dropped for a slow
 * reader.
 * Not for: how pushes are made (server/methods/push.c, the engine's
 * client_push), the records themselves (notice.c, supervise.c).
 */
#include "spec.h"

static const bb_arg subscribe[] = {
    {"all", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL,
     "true：所有督办单和亮灯变化（仅督办人员、管理员）；默认 false：只收与本人有关的"},
    {NULL},
};
static const bb_arg none[] = {{NULL}};

const bb_method_spec bb_spec_watch[] = {
    {"watch.subscribe", BB_ROLES_USERS, 0, subscribe, "{notice_last, light_last}",
     "订阅推送：新督办单、亮灯变化"},
    {"watch.unsubscribe", BB_ROLES_USERS, 0, none, "{}", "取消订阅推送"},
    {NULL},
};
