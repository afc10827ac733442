/*
 * migrate.h: applies the numbered migrations of sql/ (embedded in the binary
 * at build time, see scripts/embed_sql.py) that the database has not seen.
 *
 * Runs before the event loop starts, so it may use blocking libpq calls.
 * Each migration runs once, in its own transaction, and is recorded in
 * table schema_migrations (version, name, applied_at) in that same
 * transaction. An advisory lock keeps two baobaod processes starting at
 * once from applying the same migration twice.
 */
#ifndef BB_MIGRATE_H
#define BB_MIGRATE_H

#include <stddef.h>

/* One embedded migration: file name ("001_schema.sql", version = the
 * leading number) and its SQL text (NUL-terminated). Static data. */
typedef struct bb_migration {
    const char *name;
    const char *sql;
} bb_migration;

/* Generated migrations.c: ordered by name. */
extern const bb_migration bb_migrations[];
extern const size_t bb_migrations_count;

/* Connects with conninfo ("" = PG* environment), applies what is missing.
 * Returns 0, or -1 with a message in err (also logged). */
__attribute__((warn_unused_result))
int migrate_run(const char *conninfo, char *err, size_t errlen);

#endif
