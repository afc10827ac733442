-- 030_restore_search_path.sql: a pg_dump of the database restores (issue 14,
-- item 8; docs/backup.md, tests/integration/test_backup.c).
--
-- pg_dump's output runs with search_path empty (only pg_catalog), and loads
-- each table's rows with its CHECK constraints in force. A constraint's
-- function that calls another of our functions without its schema then
-- fails to find it, and pg_restore stops at the first row:
--   COPY failed for table "enterprise": ERROR: function bb_has_control(text)
--   does not exist ... SQL function "bb_labels_valid"
-- Of the functions constraints, indexes and defaults use (bb_credit_code_valid,
-- bb_has_control, bb_labels_valid, bb_stage_rank) only bb_labels_valid
-- calls one of ours. It gets a search_path of its own schema (pg_catalog
-- is still searched first), which pg_dump keeps with the function. It is no
-- longer inlined into enterprise's CHECK: one function call per row
-- written, negligible next to the write itself.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION bb_labels_valid(text[]) SET search_path = %I',
                   (SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE p.oid = 'bb_labels_valid(text[])'::regprocedure));
END
$$;
