-- 031_status_batch_set.sql: the group commit's function, set-based (issue 15,
-- item 3).
--
-- For: bb_status_submit_batch, replaced with the same signature, the same
-- answers and the same rows stored (003's contract, 006's actor per row,
-- 020's duplicate rule), written as one statement that decides every row and
-- writes the reports, their audit rows and the records of their keys,
-- instead of ten statements with a PL/pgSQL loop over the rows between them.
-- Not for: the single submit (bb_status_submit, sql/020_corrections.sql,
-- unchanged: a retry may take either path because both compute the same
-- request hash), status.import (bb_status_import, unchanged).
--
-- Why (docs/benchmarks.md, "Profile for issue 15"): a call cost about
-- 1,230 us whatever its size, of which 677 of the function's 1,297 us at 8
-- rows were outside its writing statement: the executor start-up of each of
-- ten statements and the PL/pgSQL between them. Now the function runs two
-- statements: the one below, and the RETURN QUERY handing its rows back.
-- Measured (callgrind of a single-user backend, the call of
-- bench/pgbench/submit_batch.sql, commit included): 020's function 6.88
-- million instructions per 8-row call, this one 6.34; most of what is left
-- is per row (the inserts, their indexes and CHECKs, the foreign key's
-- trigger, the audit row), and the executor start-up of one large plan
-- costs about what ten small ones did.
--
-- The decisions, row by row, are those of 020's function (and of
-- bb_status_submit for one row): the actor first (BB401, BB403); then, for a
-- row with a key, the key: recorded before this statement with the same
-- request hash, the row is a replay answering the first result as the
-- report reads now, with another hash BB422; a key an earlier row of the
-- batch stores makes the row a repeat of that row (same hash: its answer),
-- or BB422; then the other checks (report_date, enterprise and scope,
-- production status); then the duplicate rule (BB411) for the rows that
-- would be stored: a report of the same enterprise, date and reporter not
-- withdrawn, or an earlier row of the batch that would be stored with the
-- same three, refuses the row unless its allow_duplicate is true. The order
-- of the rows is kept: ids are drawn in row order, the answers come back in
-- row order.
--
-- One statement, so one snapshot: the lookup of the keys and the duplicate
-- probe see the same committed rows. 020 needed a second look at the keys
-- of rows refused as duplicates (a first attempt committing between its
-- key lookup and its probe); here a report and its key, committed
-- together, are seen together or not at all. What remains of the race with
-- a concurrent writer of the same key is the INSERT of the records: ON
-- CONFLICT waits for the other transaction and, when it committed, records
-- fewer keys than the batch stores; the function then fails with 40001 and
-- the server sends each row alone (server/methods/status.c), where the key
-- decides. So does a row repeating the key of a row refused as a duplicate
-- (it cannot copy an answer that is an error of another row's making).
-- Either failure rolls back everything the statement wrote. A narrower
-- window stays, as in 020 after its second look: a row refused as a
-- duplicate of another report (or of an earlier row of the batch) while
-- its own first attempt commits after this statement's snapshot answers
-- duplicate_report rather than the replay. And a row whose key an earlier
-- row of the batch refused as a duplicate holds with another request hash
-- answers idempotency_key_reused, as 020 did, though sent alone it would be
-- stored (the key was never recorded).
--
-- No LOCK TABLE before the production status check (see ref.rename, 015):
-- the statement inserts into status_report, so it holds ROW EXCLUSIVE on it
-- from its start (PostgreSQL 15's _SPI_execute_plan takes the plan's locks
-- in GetCachedPlan before it takes the statement's snapshot). This holds
-- only while the production status check and the INSERT into status_report
-- stay in one statement: split them and the LOCK TABLE must come back.
--
-- The audit row of a stored report keeps every field it had (one record per
-- report, `after` the wire row as stored, `changed` every key): audit.get,
-- audit.list, audit.as_of and the audit export read it unchanged. What is
-- cheaper is how it is built: from the row's own values, in the same pass
-- that feeds the report insert, not from a join of the insert's RETURNING
-- back to the batch's rows and to app_user (the login comes from the
-- actor's check). created_at is now(), the column's default: the same
-- value in the report, its wire row and the audit row.

CREATE OR REPLACE FUNCTION bb_status_submit_batch(p_actors bigint[], p_addrs text[],
                                                  p_keys text[], p_enterprise_ids bigint[],
                                                  p_report_dates date[], p_reporters text[],
                                                  p_production_statuses text[],
                                                  p_output_values bigint[], p_employees int[],
                                                  p_labour_shortages int[], p_notes text[],
                                                  p_tz text,
                                                  p_allow_duplicates boolean[] DEFAULT NULL)
RETURNS SETOF status_submit_result
LANGUAGE plpgsql
-- The plan settings 003/006/020 gave it (CREATE OR REPLACE resets them):
-- index probes only, one generic plan per connection.
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    n constant int := coalesce(cardinality(p_enterprise_ids), 0);
    -- Once per call, not per row: the server's today, and created_at as
    -- the wire shows it (now(), the column's default, in bb_ts's format).
    today constant date := (now() AT TIME ZONE p_tz)::date;
    created constant text := bb_ts(now());
    res status_submit_result[];
    to_record bigint;       -- keys the batch stores
    recorded bigint;        -- keys the INSERT recorded
    repeat_refused boolean; -- a repeated key whose first row was refused as a duplicate
    no_result text;         -- a recorded key without its result (cannot happen)
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF coalesce(cardinality(p_actors), 0) <> n OR coalesce(cardinality(p_addrs), 0) <> n
       OR coalesce(cardinality(p_keys), 0) <> n OR coalesce(cardinality(p_report_dates), 0) <> n
       OR coalesce(cardinality(p_reporters), 0) <> n
       OR coalesce(cardinality(p_production_statuses), 0) <> n
       OR coalesce(cardinality(p_output_values), 0) <> n
       OR coalesce(cardinality(p_employees), 0) <> n
       OR coalesce(cardinality(p_labour_shortages), 0) <> n
       OR coalesce(cardinality(p_notes), 0) <> n
       OR coalesce(cardinality(p_allow_duplicates), n) <> n THEN
        RAISE EXCEPTION 'bb_status_submit_batch: the argument arrays differ in length';
    END IF;

    WITH
    -- c: each row with the checks that need no key (one probe of app_user,
    -- enterprise, ref_value and, for township staff, app_user_township),
    -- the texts of bb_business_actor and bb_status_submit; actor_ok: the
    -- key is looked at; hash: bb_status_submit's request hash.
    c AS MATERIALIZED (
        SELECT u.ord, u.a, u.addr, u.k, u.e, u.d, u.r, u.s, u.o, u.em, u.ls, u.nt,
               coalesce(u.al, false) AS al, usr.login, ck.code, ck.field, ck.msg, ck.actor_ok,
               CASE WHEN u.k IS NOT NULL AND ck.actor_ok
                    THEN md5((jsonb_build_array(u.a, u.e, u.d, u.r, u.s, u.o, u.em, u.ls, u.nt)
                              || CASE WHEN coalesce(u.al, false) THEN '[true]'::jsonb
                                      ELSE '[]'::jsonb END)::text)
               END AS hash
          FROM unnest(p_actors, p_addrs, p_keys, p_enterprise_ids, p_report_dates,
                      p_reporters, p_production_statuses, p_output_values, p_employees,
                      p_labour_shortages, p_notes, p_allow_duplicates)
               WITH ORDINALITY AS u(a, addr, k, e, d, r, s, o, em, ls, nt, al, ord)
          LEFT JOIN app_user usr ON usr.id = u.a
          LEFT JOIN enterprise e ON e.id = u.e
          LEFT JOIN ref_value ps ON ps.kind = 'production_status' AND ps.value = u.s
                                AND ps.retired_at IS NULL
          CROSS JOIN LATERAL (
                SELECT CASE WHEN usr.id IS NULL OR usr.disabled THEN 'BB401'
                            WHEN usr.role NOT IN ('township_staff', 'supervisor') THEN 'BB403'
                            WHEN u.d > today OR u.d < DATE '2000-01-01' THEN 'BB400'
                            WHEN e.id IS NULL THEN 'BB404'
                            WHEN usr.role = 'township_staff' AND NOT EXISTS (
                                     SELECT 1 FROM app_user_township ut
                                      WHERE ut.user_id = usr.id
                                        AND ut.township_id = e.township_id)
                            THEN 'BB404'
                            -- the production status last, as bb_status_submit
                            WHEN ps.id IS NULL THEN 'BB400s'
                       END AS code
                OFFSET 0) c0   -- evaluated once: c0.code is read five times below
          CROSS JOIN LATERAL (
                SELECT left(c0.code, 5) AS code,
                       c0.code IS DISTINCT FROM 'BB401' AND c0.code IS DISTINCT FROM 'BB403'
                           AS actor_ok,
                       CASE c0.code WHEN 'BB400' THEN 'report_date'
                                    WHEN 'BB404' THEN 'enterprise_id'
                                    WHEN 'BB400s' THEN 'production_status'
                       END AS field,
                       CASE WHEN c0.code IS NULL THEN NULL
                            WHEN c0.code = 'BB401'
                            THEN 'the session''s user no longer exists or is disabled: log in again'
                            WHEN c0.code = 'BB403'
                            THEN format('the role %s may not call %s', usr.role, 'status.submit')
                            WHEN c0.code = 'BB400s'
                            THEN bb_ref_problem('production_status', u.s, 'production_status')
                            WHEN u.d > today
                            THEN format('report_date: %s is after today (%s)', u.d, today)
                            WHEN c0.code = 'BB400'
                            THEN format('report_date: %s is before 2000-01-01', u.d)
                            ELSE format('enterprise %s does not exist', u.e)
                       END AS msg) ck
    ),
    -- kd: the keys recorded before this statement, with their request
    -- hash and first result: one primary-key probe per distinct key (the
    -- LATERAL with LIMIT 1 can only be a nested loop, whatever the
    -- statistics said when the plan was made: 003, end).
    kd AS MATERIALIZED (
        SELECT q.k, f.request_hash, (f.result ->> 'id')::bigint AS rid
          FROM (SELECT DISTINCT c.k FROM c WHERE c.k IS NOT NULL AND c.actor_ok) q
          CROSS JOIN LATERAL (
                SELECT i.request_hash, i.result FROM idempotency i
                 WHERE i.method = 'status.submit' AND i.key = q.k
                 LIMIT 1) f
    ),
    -- kf: per row, what was recorded for its key, and the first row of
    -- the batch with that key that passed the checks (the row that stores
    -- it, when the key is new).
    kf AS (
        SELECT c.*, kd.k IS NOT NULL AS in_db, kd.request_hash AS db_hash, kd.rid AS db_rid,
               CASE WHEN first_value(c.code IS NULL) OVER w THEN first_value(c.ord) OVER w
               END AS first_ok,
               first_value(c.hash) OVER w AS first_hash
          FROM c
          LEFT JOIN kd ON c.actor_ok AND kd.k = c.k
        WINDOW w AS (PARTITION BY c.k ORDER BY c.code IS NOT NULL, c.ord)
    ),
    -- ks: the row's state before the duplicate rule: error (its check's),
    -- replay, reused (BB422), repeat (of an earlier row's key), store.
    ks AS (
        SELECT kf.*,
               CASE WHEN kf.k IS NULL OR NOT kf.actor_ok
                    THEN CASE WHEN kf.code IS NULL THEN 'store' ELSE 'error' END
                    WHEN kf.in_db
                    THEN CASE WHEN kf.db_hash = kf.hash THEN 'replay' ELSE 'reused' END
                    WHEN kf.first_ok < kf.ord
                    THEN CASE WHEN kf.first_hash = kf.hash THEN 'repeat' ELSE 'reused' END
                    WHEN kf.first_ok = kf.ord THEN 'store'
                    ELSE 'error'
               END AS state
          FROM kf
    ),
    -- kt: the duplicate rule for the rows that would be stored and may not
    -- be a second report: an earlier such row of the batch (a window, no
    -- probe) or a report not withdrawn (one probe of
    -- status_report_enterprise_idx).
    kt AS (
        SELECT ks.*,
               CASE WHEN ks.state <> 'store' OR ks.al THEN false
                    WHEN count(*) FILTER (WHERE ks.state = 'store')
                             OVER (PARTITION BY ks.e, ks.d, ks.r ORDER BY ks.ord
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > 0
                    THEN true
                    ELSE EXISTS (SELECT 1 FROM status_report s
                                  WHERE s.enterprise_id = ks.e AND s.report_date = ks.d
                                    AND s.reporter = ks.r AND s.withdrawn_at IS NULL)
               END AS twice
          FROM ks
    ),
    -- f: the rows with their ids, drawn in row order (the sorted subquery
    -- is not flattened, and nextval is evaluated after the sort).
    f AS MATERIALIZED (
        SELECT x.*,
               CASE WHEN x.state = 'store' AND NOT x.twice
                    THEN nextval('status_report_id_seq'::regclass)
               END AS new_id
          FROM (SELECT * FROM kt ORDER BY kt.ord) x
    ),
    -- The writes (the foreign key takes KEY SHARE on each enterprise, as
    -- bb_status_submit does). Reports and audit rows in row order, as f
    -- was stored (no sort: each row's id is its own already); records in
    -- key order: two batches sharing keys wait for each other instead of
    -- deadlocking. This INSERT is also what locks status_report before the
    -- production status check reads ref_value (see the header: keep them in
    -- one statement).
    ins AS (
        INSERT INTO status_report (id, enterprise_id, report_date, reporter, production_status,
                                   output_value, employees, labour_shortage, note, created_by)
        OVERRIDING SYSTEM VALUE
        SELECT f.new_id, f.e, f.d, f.r, f.s, f.o, f.em, f.ls, f.nt, f.a
          FROM f WHERE f.new_id IS NOT NULL
    ),
    aud AS (
        INSERT INTO audit_log (user_id, login, addr, method, entity, entity_id, before, after,
                               changed)
        SELECT f.a, f.login, coalesce(f.addr, '-'), 'status.submit', 'status_report', f.new_id,
               NULL,
               to_jsonb((f.new_id, f.e, to_char(f.d, 'YYYY-MM-DD'), f.r, f.s, f.o, f.em, f.ls,
                         f.nt, created, 1, f.a, NULL, NULL, NULL)::status_report_wire),
               bb_status_report_fields()
          FROM f WHERE f.new_id IS NOT NULL
    ),
    kr AS (
        INSERT INTO idempotency (method, key, request_hash, result)
        SELECT 'status.submit', f.k, f.hash, jsonb_build_object('id', f.new_id)
          FROM f WHERE f.new_id IS NOT NULL AND f.k IS NOT NULL
         ORDER BY f.k
        ON CONFLICT (method, key) DO NOTHING
        RETURNING 1
    ),
    -- a: each row's answer. A repeat answers the row that stored its key
    -- (the same hash: the same values); its id is the one id drawn in its
    -- key's rows, NULL when that row was refused as a duplicate.
    a AS (
        SELECT f.ord, f.k, f.state, f.twice, f.in_db, f.db_rid,
               CASE f.state WHEN 'store' THEN f.new_id
                            WHEN 'repeat' THEN max(f.new_id) OVER (PARTITION BY f.k)
               END AS id,
               f.e, f.d, f.r, f.s, f.o, f.em, f.ls, f.nt, f.a,
               CASE WHEN f.state = 'reused' THEN 'BB422'
                    WHEN f.twice THEN 'BB411'
                    WHEN f.state = 'error' THEN f.code
               END AS code,
               CASE WHEN f.state = 'reused' THEN 'idempotency_key'
                    WHEN f.twice THEN 'report_date'
                    WHEN f.state = 'error' THEN f.field
               END AS field,
               CASE WHEN f.state = 'reused'
                    THEN 'idempotency_key was already used for a different status.submit request'
                    WHEN f.twice THEN bb_status_duplicate_text(f.e, f.d, f.r)
                    WHEN f.state = 'error' THEN f.msg
               END AS msg
          FROM f
    )
    SELECT array_agg(CASE WHEN a.state = 'replay'
                          THEN (s.id, s.enterprise_id, s.report_date, s.reporter,
                                s.production_status, s.output_value, s.employees,
                                s.labour_shortage, s.note, s.created_at, s.version, s.created_by,
                                s.withdrawn_at, s.withdrawn_by, s.reason, NULL, NULL,
                                NULL)::status_submit_result
                          WHEN a.code IS NULL
                          THEN (a.id, a.e, to_char(a.d, 'YYYY-MM-DD'), a.r, a.s, a.o, a.em, a.ls,
                                a.nt, created, 1, a.a, NULL, NULL, NULL, NULL, NULL,
                                NULL)::status_submit_result
                          ELSE (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                NULL, NULL, NULL, NULL, NULL, a.code, a.field,
                                a.msg)::status_submit_result
                     END ORDER BY a.ord),
           (SELECT count(*) FROM f WHERE f.new_id IS NOT NULL AND f.k IS NOT NULL),
           (SELECT count(*) FROM kr),
           coalesce(bool_or(a.state = 'repeat' AND a.id IS NULL), false),
           min(a.k) FILTER (WHERE a.in_db AND a.db_rid IS NULL)
      INTO res, to_record, recorded, repeat_refused, no_result
      FROM a
      LEFT JOIN status_report_wire s ON a.state = 'replay' AND s.id = a.db_rid;

    IF no_result IS NOT NULL THEN
        -- Cannot happen: a record is written with its result in one transaction.
        RAISE EXCEPTION 'the idempotency record %/% has no result', 'status.submit', no_result;
    END IF;
    IF repeat_refused THEN
        RAISE EXCEPTION 'a key of this batch repeats a row refused as a duplicate report'
            USING ERRCODE = '40001';
    END IF;
    IF recorded <> to_record THEN
        RAISE EXCEPTION 'an idempotency key of this batch was recorded concurrently'
            USING ERRCODE = '40001';
    END IF;
    RETURN QUERY SELECT * FROM unnest(res);
END
$$;
