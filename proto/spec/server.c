/*
 * server.c (spec): what a client asks the server about itself
 * (PROTOCOL.md section 6): server.info (who it is, the database's state,
 * today, the limits in force) and server.api (this spec). Both need no
 * database and no login.
 */
#include "spec.h"

static const bb_arg none[] = {{NULL}};

const bb_method_spec bb_spec_server[] = {
    {"server.info", BB_ROLES_ALL, 0, none, "ServerInfo",
     "服务器信息：版本、数据库是否可用、时区与今天、各项限制"},
    {"server.api", BB_ROLES_ALL, 0, none, "Api",
     "全部方法的说明：角色、参数及其限制、结果（与 baobaod --api-info 相同）"},
    {NULL},
};
