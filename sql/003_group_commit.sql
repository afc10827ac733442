-- 003_group_commit.sql: the contract of status.submit for many reports in
-- ONE statement, so that concurrent submits share one transaction and one
-- commit (group commit; server/status.c gathers them).
--
-- For: the contract of bb_status_submit_batch (the function itself, which
-- also takes each row's actor, is 006_scope_audit.sql's), its result row
-- type, and why the key lookups run with sequential scans off (the end of
-- this file). The batch does for each input row exactly what
-- bb_status_submit (006_scope_audit.sql) does for one, in input order, as
-- if the rows had been submitted one after another: the same idempotency
-- records (same method, same request hash, same stored result), the same
-- checks and the same error texts. A row that would fail (BB400
-- report_date, BB404 enterprise_id, BB422 idempotency_key) does NOT raise:
-- it comes back as a row with error_code/error_field/error_message set, and
-- stores nothing, so one bad row does not sink its neighbours. Anything
-- unforeseen (a CHECK, a trigger) still raises and fails the whole
-- statement; the server then submits the rows one by one with
-- bb_status_submit.
-- Not for: single submits (bb_status_submit stays the one-row path).
--
-- No exception blocks (each would be a subtransaction per row): every check
-- is a lookup done once for the whole batch. Idempotency records are looked
-- up first and written last, with their results, in one INSERT (no claim
-- row to update); the rare race with a concurrent writer of the same key
-- fails the statement (40001) and the server falls back to single submits.

-- One result row per input row: the StatusReport columns (status_report_wire,
-- all NULL on error) then the error, NULL on success.
CREATE TYPE status_submit_result AS (
    id bigint,
    enterprise_id bigint,
    report_date text,
    reporter text,
    production_status text,
    output_value bigint,
    employees int,
    labour_shortage int,
    note text,
    created_at text,
    error_code text,
    error_field text,
    error_message text
);

-- Key lookups and plans cached by PL/pgSQL: a connection's plans are made
-- with the statistics of the moment. Planned while the idempotency table
-- looked empty (a fresh start, before autovacuum's first ANALYZE), a lookup
-- of `method = m AND key = ANY (p_keys)` read every status.submit record on
-- every batch, and even an equality on the whole primary key became a
-- sequential scan, and stayed one as the table grew (measured: PostgreSQL at
-- 184% of 2 cores for 1,200-1,500 submits/s, heap_getnextslot and texteq on
-- top of the profile). So keys are looked up one primary-key equality at a
-- time (bb_status_submit_batch), and sequential scans are off inside the
-- functions that look keys up: the table only grows, every lookup wants one
-- row, and nothing else these functions read wants a sequential scan either.
-- tests/integration/test_group_commit.c pins it
-- (key_lookups_stay_index_probes_as_the_table_grows).
ALTER FUNCTION bb_idem_claim(text, text, text) SET enable_seqscan = off;
