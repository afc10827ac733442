/*
 * test_backup.c: docs/backup.md followed for real. The page's shell blocks
 * marked `<!-- backup-test: NAME -->` are read from the page itself
 * ($IT_BACKUP_MD) and run as they stand with bash, with the page's
 * variables (DB, BACKUP, EXPORTS; NEWDB, OWNER) set to this test's
 * database and folders: a change to the page is tested with it.
 *
 * One behaviour: a database with users, enterprises, status reports and an
 * export run, dumped while baobaod serves, restored into a new database (and
 * the export folder into a new folder), is served by a new baobaod: the same
 * records, the same logins, what was written after the dump absent, and the
 * restored run's files read over the protocol byte for byte as written.
 *
 * Not for: pgBackRest or WAL archiving (the page describes them, untested),
 * or the systemd unit (tests/install/check_install.py).
 */
#include "harness.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* export.run with wait, and each step of the page: generous, under ASan. */
#define RUN_TIMEOUT_MS 120000
#define SCRIPT_TIMEOUT_MS 120000
/* The files of the run compared after the restore (export.read chunks are
 * at most 256 KiB; these are a few KiB here). */
#define READ_MAX_BYTES (4 * 1024 * 1024)
/* As root, the restore's state folder belongs to this user (nobody), as
 * /var/lib/baobao belongs to the service's user under the unit. */
#define STATE_OWNER_UID 65534

static uint32_t g_msgid = 100;
static char g_top[256];      /* the test's folder: exports, backups, restored exports */
static char g_newdb[128];    /* the restored database: dropped at the end, also on failure */

/* The body of the fenced block after `<!-- backup-test: name -->` in the
 * page (malloc'd), or NULL. */
static char *page_block(const char *name)
{
    const char *path = getenv("IT_BACKUP_MD");
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (f == NULL) {
        it_note("cannot read docs/backup.md ($IT_BACKUP_MD=%s)", path ? path : "(unset)");
        return NULL;
    }
    char marker[128];
    snprintf(marker, sizeof marker, "<!-- backup-test: %s -->", name);
    char line[4096];
    size_t cap = 65536, len = 0;
    char *out = calloc(1, cap);
    int state = 0; /* 0 looking for the marker, 1 for the fence, 2 in the block */
    while (out != NULL && fgets(line, sizeof line, f) != NULL) {
        if (state == 0 && strncmp(line, marker, strlen(marker)) == 0)
            state = 1;
        else if (state == 1 && strncmp(line, "```", 3) == 0)
            state = 2;
        else if (state == 2 && strncmp(line, "```", 3) == 0) {
            state = 3;
            break;
        } else if (state == 2 && len + strlen(line) + 1 < cap) {
            memcpy(out + len, line, strlen(line) + 1);
            len += strlen(line);
        }
    }
    fclose(f);
    if (state != 3) {
        it_note("docs/backup.md has no block \"%s\"", name);
        free(out);
        return NULL;
    }
    return out;
}

/* Runs the page's block with bash -euo pipefail (variables from our
 * environment); prints what it said. 0 when it exited 0. */
static int run_page_block(const char *name)
{
    char *body = page_block(name);
    IT_CHECK(body != NULL);
    size_t n = strlen(body) + 64;
    char *script = malloc(n);
    IT_CHECK(script != NULL);
    snprintf(script, n, "set -euo pipefail\n%s", body);
    free(body);
    const char *argv[] = {"bash", "-c", script, NULL};
    it_cli r;
    int rc = it_run(&r, argv, SCRIPT_TIMEOUT_MS);
    free(script);
    IT_CHECK(rc == 0);
    it_note("docs/backup.md block \"%s\": exit %d\n%s%s", name, r.status, r.out, r.err);
    int status = r.status;
    it_cli_free(&r);
    IT_CHECKF(status == 0, "the block \"%s\" of docs/backup.md failed", name);
    return 0;
}

/* Waits until the server serves the logged-in connection c (answers
 * session.whoami with anything but `unavailable`, which a server may say
 * right after start while it cannot yet hear account changes; clients
 * retry it). 0, or -1 after 30 s. */
static int wait_served(it_conn *c)
{
    int64_t until = it_now_ms() + 30000;
    for (;;) {
        it_buf b;
        it_buf_init(&b);
        uint32_t id = ++g_msgid;
        it_req(&b, id, "session.whoami", IT_NO_ARGS);
        it_msg m;
        int rc = it_buf_call(c, &b, id, &m);
        it_buf_free(&b);
        IT_CHECK(rc == 0);
        bool wait = m.is_error && strcmp(m.code, "unavailable") == 0;
        char d[600];
        IT_CHECKF(!m.is_error || wait, "session.whoami: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        if (!wait)
            return 0;
        IT_CHECKF(it_now_ms() < until, "still unavailable after 30 s");
        it_sleep_ms(50);
    }
}

static int64_t submit_report(it_conn *c, int64_t eid, const char *note)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "status.submit", 4);
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "reporter", "备份测试员");
    it_kv_str(&b, "production_status", "正常");
    it_kv_str(&b, "note", note);
    it_msg m;
    if (it_buf_ok(c, &b, id, &m) != 0) {
        it_buf_free(&b);
        return -1;
    }
    int64_t rid = -1;
    if (!it_get_int(m.result, "id", &rid))
        rid = -1;
    it_msg_free(&m);
    it_buf_free(&b);
    return rid;
}

/* The name of enterprise eid as the server answers it, or its error code. */
static int enterprise_name(it_conn *c, int64_t eid, char *out, size_t outlen)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.get", 1);
    it_kv_int(&b, "id", eid);
    it_msg m;
    int rc = it_buf_call(c, &b, id, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    if (m.is_error)
        snprintf(out, outlen, "error:%s", m.code);
    else if (!it_get_str(m.result, "name", out, outlen))
        snprintf(out, outlen, "(no name)");
    it_msg_free(&m);
    return 0;
}

/* One run made with export.run (wait): its id and folder. */
static int export_now(it_conn *c, int64_t *run_id, char *folder, size_t folderlen)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "export.run", 1);
    it_kv_bool(&b, "wait", true);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, id, RUN_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    char d[800];
    bool ok = !m.is_error && it_get_str_eq(m.result, "status", "ok") &&
              it_get_int(m.result, "id", run_id) && it_get_str(m.result, "folder", folder, folderlen);
    IT_CHECKF(ok, "export.run: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

/* The whole file `name` of run run_id over export.read, into out (malloc'd). */
static int export_read_all(it_conn *c, int64_t run_id, const char *name, char **out,
                           size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    size_t cap = 0;
    for (;;) {
        it_buf b;
        it_buf_init(&b);
        uint32_t id = ++g_msgid;
        it_req(&b, id, "export.read", 3);
        it_kv_int(&b, "id", run_id);
        it_kv_str(&b, "name", name);
        it_kv_int(&b, "offset", (int64_t)*outlen);
        it_msg m;
        int rc = it_buf_ok(c, &b, id, &m);
        it_buf_free(&b);
        IT_CHECKF(rc == 0, "export.read %" PRId64 " %s at %zu", run_id, name, *outlen);
        const msgpack_object *data = it_map_get(m.result, "data");
        const msgpack_object *eof = it_map_get(m.result, "eof");
        bool ok = data != NULL && data->type == MSGPACK_OBJECT_BIN && eof != NULL &&
                  eof->type == MSGPACK_OBJECT_BOOLEAN &&
                  *outlen + data->via.bin.size <= READ_MAX_BYTES;
        if (ok && *outlen + data->via.bin.size > cap) {
            cap = *outlen + data->via.bin.size;
            char *grown = realloc(*out, cap);
            ok = grown != NULL;
            if (ok)
                *out = grown;
        }
        if (ok) {
            memcpy(*out + *outlen, data->via.bin.ptr, data->via.bin.size);
            *outlen += data->via.bin.size;
        }
        bool done = ok && eof->via.boolean;
        it_msg_free(&m);
        IT_CHECKF(ok, "export.read %s: not a chunk", name);
        if (done)
            return 0;
    }
}

/* The file folder/name as written by the first server (malloc'd). */
static int read_file(const char *folder, const char *name, char **out, size_t *outlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    FILE *f = fopen(path, "rb");
    IT_CHECKF(f != NULL, "%s: %s", path, strerror(errno));
    *out = malloc(READ_MAX_BYTES);
    *outlen = *out != NULL ? fread(*out, 1, READ_MAX_BYTES, f) : 0;
    fclose(f);
    IT_CHECK(*out != NULL && *outlen > 0);
    return 0;
}

static int restored(void)
{
    char exports[300], backup[300], state[300], restored_exports[320], set_dir[400],
        set_db[200];
    snprintf(exports, sizeof exports, "%s/exports", g_top);
    snprintf(backup, sizeof backup, "%s/backup", g_top);
    /* The restored exports go into a state folder of their own, as
     * /var/lib/baobao/exports does under the unit. */
    snprintf(state, sizeof state, "%s/state", g_top);
    snprintf(restored_exports, sizeof restored_exports, "%s/exports", state);

    /* ---- what the county has: records written through the server, and an export run ---- */
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", exports);
    const char *sets1[] = {set_dir, "export_time=", NULL};
    it_server *s1 = it_server_start(sets1);
    IT_CHECK(s1 != NULL);
    it_conn *c = it_connect(s1->port);
    IT_CHECK(c != NULL);
    IT_CHECK(wait_served(c) == 0);
    static const char *const names[] = {"赤壁备份砖茶厂", "赵李桥恢复纺织", "新店镇归档建材"};
    static const char *const towns[] = {"赵李桥镇", "赵李桥镇", "新店镇"};
    int64_t eids[3];
    for (int i = 0; i < 3; i++) {
        char code[19];
        it_credit_code(914000u + (unsigned long)i, code);
        eids[i] = it_create_enterprise(c, names[i], code, towns[i]);
        IT_CHECK(eids[i] > 0);
        IT_CHECK(submit_report(c, eids[i], "备份前的走访") > 0);
    }
    int64_t run_id = 0;
    char folder[128];
    IT_CHECK(export_now(c, &run_id, folder, sizeof folder) == 0);

    /* ---- the nightly backup, as the page says, while baobaod serves ---- */
    IT_CHECK(setenv("DB", it_db_name(), 1) == 0);
    IT_CHECK(setenv("BACKUP", backup, 1) == 0);
    IT_CHECK(setenv("EXPORTS", exports, 1) == 0);
    IT_CHECK(run_page_block("backup") == 0);

    /* Written after the dump: must not come back. */
    char code[19];
    it_credit_code(914100u, code);
    int64_t late = it_create_enterprise(c, "备份之后新建企业", code, "新店镇");
    IT_CHECK(late > 0);
    it_close(c);
    /* The page's step 1: every baobaod stopped. */
    IT_CHECK(it_server_stop(s1, IT_STOP_TIMEOUT_MS) == 0);

    /* ---- the restore, into a new database and a new export folder ---- */
    PGresult *who = PQexec(it_pg(), "SELECT current_user");
    IT_CHECK(PQresultStatus(who) == PGRES_TUPLES_OK && PQntuples(who) == 1);
    IT_CHECK(setenv("OWNER", PQgetvalue(who, 0, 0), 1) == 0);
    PQclear(who);
    IT_CHECK(setenv("NEWDB", g_newdb, 1) == 0);
    IT_CHECK(setenv("EXPORTS", restored_exports, 1) == 0);
    /* As root, the state folder belongs to another user, as it belongs to
     * the service's user under the unit: the restored files must become
     * that user's, whatever ids the archive stored (root's, here). */
    IT_CHECK(mkdir(state, 0755) == 0);
    uid_t owner = geteuid();
    if (owner == 0) {
        owner = STATE_OWNER_UID;
        IT_CHECK(chown(state, owner, owner) == 0);
    }
    IT_CHECK(run_page_block("restore") == 0);
    char uid_s[24];
    snprintf(uid_s, sizeof uid_s, "%u", (unsigned)owner);
    const char *find[] = {"find", restored_exports, "!", "-uid", uid_s, NULL};
    it_cli fr;
    IT_CHECK(it_run(&fr, find, SCRIPT_TIMEOUT_MS) == 0);
    bool all_owned = fr.status == 0 && fr.out != NULL && fr.out[0] == '\0';
    char others[300];
    snprintf(others, sizeof others, "%s", fr.out != NULL ? fr.out : "?");
    it_cli_free(&fr);
    IT_CHECKF(all_owned, "restored files not owned by uid %s (the state folder's): %s", uid_s,
              others);

    /* ---- step 3: baobaod on the restored database reads it all back ---- */
    snprintf(set_db, sizeof set_db, "db=dbname=%s", g_newdb);
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", restored_exports);
    const char *sets2[] = {set_db, set_dir, "export_time=", NULL};
    it_server *s2 = it_server_start(sets2);
    IT_CHECK(s2 != NULL);
    c = it_connect(s2->port); /* the users and their passwords came back */
    IT_CHECK(c != NULL);
    IT_CHECK(wait_served(c) == 0);
    for (int i = 0; i < 3; i++) {
        char name[128];
        IT_CHECK(enterprise_name(c, eids[i], name, sizeof name) == 0);
        IT_CHECK_STR(name, names[i]);
    }
    char name[128];
    IT_CHECK(enterprise_name(c, late, name, sizeof name) == 0);
    IT_CHECK_STR(name, "error:not_found");
    const char *p[] = {"备份前的走访"};
    long long reports = -1;
    {
        PGconn *pg = PQconnectdb(set_db + 3);
        IT_CHECK(PQstatus(pg) == CONNECTION_OK);
        PGresult *r = PQexecParams(pg, "SELECT count(*) FROM status_report WHERE note = $1", 1,
                                   NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            reports = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(pg);
    }
    IT_CHECKF(reports == 3, "%lld status reports restored, expected 3", reports);
    /* The restored run's files, over the protocol, as the first server wrote them. */
    static const char *const files[] = {"enterprises.csv", "status_reports.csv", "reports.html"};
    char original[sizeof exports + sizeof folder + 2];
    snprintf(original, sizeof original, "%s/%s", exports, folder);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *got = NULL, *want = NULL;
        size_t gotlen = 0, wantlen = 0;
        int rc = export_read_all(c, run_id, files[i], &got, &gotlen);
        if (rc == 0)
            rc = read_file(original, files[i], &want, &wantlen);
        bool same = rc == 0 && gotlen == wantlen && memcmp(got, want, gotlen) == 0;
        free(got);
        free(want);
        IT_CHECK(rc == 0);
        IT_CHECKF(same, "%s read from the restored run differs (%zu bytes, wrote %zu)", files[i],
                  gotlen, wantlen);
    }
    it_close(c);
    IT_CHECK(it_server_stop(s2, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static void drop_newdb(void)
{
    char sql[200];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_newdb);
    PGresult *r = PQexec(it_pg(), sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        it_note("%s: %s", sql, PQerrorMessage(it_pg()));
    PQclear(r);
}

static int backup_page_restores_a_database_baobaod_serves(void)
{
    snprintf(g_top, sizeof g_top, "/tmp/bb-backup-XXXXXX");
    IT_CHECK(mkdtemp(g_top) != NULL);
    snprintf(g_newdb, sizeof g_newdb, "%s_restored", it_db_name());
    drop_newdb();
    int rc = restored();
    drop_newdb();
    if (rc == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", g_top);
        if (system(cmd) != 0)
            it_note("could not remove %s", g_top);
    } else {
        it_note("kept %s to look at", g_top);
    }
    return rc;
}

static const it_test tests[] = {
    {"backup_page_restores_a_database_baobaod_serves",
     backup_page_restores_a_database_baobaod_serves},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "backup", tests, sizeof tests / sizeof tests[0], NULL);
}
