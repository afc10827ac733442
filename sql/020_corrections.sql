-- 020_corrections.sql: status reports that can be trusted from the field
-- (issue 12): a report can be corrected and withdrawn, and a second report
-- for the same enterprise, day and reporter is refused unless the caller
-- says it is meant.
--
-- For: the new columns of status_report (who stored it, its version, its
-- withdrawal and the reason of its last change), the wire row with them,
-- status.correct and status.withdraw (bb_status_correct, bb_status_withdraw
-- and the checks they share, bb_status_lock), the duplicate rule in the
-- three writers of reports (bb_status_submit, bb_status_submit_batch,
-- bb_status_import, replaced here with the smallest change: their other
-- checks, texts, plan settings and results stay as they were), status.list
-- without withdrawn reports, and problem.correct (a problem's text).
-- Not for: the exports and reports (server/methods/export_worker.c,
-- report.c leave withdrawn reports out in their own SELECTs), todo.mine's
-- unvisited list (021_visits.sql replaces bb_todo with a rule that leaves
-- withdrawn reports out).
--
-- The rules (proto/PROTOCOL.md, status.correct / status.withdraw):
--   - a report is changed in place: the row holds what is true now (every
--     read, list and export shows it), the audit trail keeps each change
--     with before, after and the reason (the `reason` column of the wire
--     row: the reason of the latest correction or of the withdrawal);
--   - township staff change only reports they stored themselves, within
--     p_days days (the setting status_correct_days) of the day it was
--     stored (created_at's date in the server's time_zone), and only in
--     their townships (outside them a report is answered as missing,
--     BB404, like every record); supervisors change any report any time;
--   - a withdrawn report stays in the table (its id, its audit trail, a
--     replay of its submit) but counts nowhere: not in status.list, the
--     exports, the reports, todo.mine, the duplicate rule; it is never
--     changed again;
--   - duplicates: a report of the same enterprise, report_date and
--     reporter (as stored: the server refuses spaces at the ends) that is
--     not withdrawn refuses a new one with BB411 (duplicate_report, field
--     report_date), unless the write says allow_duplicate. The check is
--     one probe of status_report_enterprise_idx (enterprise_id,
--     report_date) per row, filtered on reporter; it takes no lock, so two
--     writers of the same report at the same instant on different
--     connections may both store it (a retry is caught by its idempotency
--     key, a second submit after the first was answered by this rule).
--     It comes after every other check: a request that is wrong in
--     another way hears that first.
--   - allow_duplicate is part of "the same request" of an idempotency key
--     only when true (the request hash gains a last element `true`), so
--     the records written before this migration still match their retries.
-- The writers' new arguments (p_allow_duplicate, p_allow_duplicates) come
-- last, with defaults (false; NULL: none allowed), so a caller that does
-- not say them keeps working and gets the rule; BB411 is mapped to
-- duplicate_report by server/engine/pool.c and, for an import's rows, by
-- bb_import_row_error below.

-- ---- the columns ----

-- created_by: the user who stored the report (app_user.id; no foreign
-- key, as audit_log: see login_event in 004). NULL only for reports
-- stored before this migration that have no audit row to say it.
-- version: 1 when stored, +1 on each correction and on the withdrawal.
-- withdrawn_at / withdrawn_by: set once, by status.withdraw.
-- reason: the reason given with the latest correction or the withdrawal.
ALTER TABLE status_report
    ADD COLUMN version int NOT NULL DEFAULT 1 CONSTRAINT status_report_version_check
        CHECK (version >= 1),
    ADD COLUMN created_by bigint NULL,
    ADD COLUMN withdrawn_at timestamptz NULL,
    ADD COLUMN withdrawn_by bigint NULL,
    ADD COLUMN reason text NULL CONSTRAINT status_report_reason_check
        CHECK (char_length(reason) BETWEEN 1 AND 500 AND NOT bb_has_control(reason)),
    ADD CONSTRAINT status_report_withdrawn_check
        CHECK (withdrawn_at IS NULL OR (withdrawn_by IS NOT NULL AND reason IS NOT NULL));

-- Who stored the reports already there: their audit row says it (every
-- report was written with one, before NULL, by bb_status_submit, the batch
-- or the import). One pass over the reports, once.
UPDATE status_report s
   SET created_by = a.user_id
  FROM audit_log a
 WHERE a.entity = 'status_report' AND a.entity_id = s.id AND a.before IS NULL;

-- A StatusReport as the wire shows it: the columns of 002, then the new
-- ones (appended, so the view keeps its first ten columns).
CREATE OR REPLACE VIEW status_report_wire AS
SELECT s.id,
       s.enterprise_id,
       to_char(s.report_date, 'YYYY-MM-DD') AS report_date,
       s.reporter,
       s.production_status,
       s.output_value,
       s.employees,
       s.labour_shortage,
       s.note,
       bb_ts(s.created_at) AS created_at,
       s.version,
       s.created_by,
       bb_ts(s.withdrawn_at) AS withdrawn_at,
       s.withdrawn_by,
       s.reason
  FROM status_report s;

-- The `changed` of a stored report's audit row: every key of the wire row
-- (006 says why it is a constant); the wire row has more keys now.
CREATE OR REPLACE FUNCTION bb_status_report_fields() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT bb_changed_fields(NULL, to_jsonb(
        ROW(0, 0, '', '', '', NULL, NULL, NULL, NULL, '', 1, NULL, NULL, NULL,
            NULL)::status_report_wire))
$$;

-- The words of a refused duplicate, the same in every writer (the batch
-- answers a row with exactly the text bb_status_submit raises).
CREATE FUNCTION bb_status_duplicate_text(p_enterprise_id bigint, p_report_date date,
                                         p_reporter text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('report_date: enterprise %s already has a report of %s by %s: correct or '
                  'withdraw that one, or send allow_duplicate true to store a second one',
                  p_enterprise_id, p_report_date, p_reporter)
$$;

-- An import row's error: 013's mapping, and BB411 (duplicate_report).
CREATE OR REPLACE FUNCTION bb_import_row_error(st text, col text, cons text, msg text,
                                               OUT code text, OUT field text, OUT message text)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    field := nullif(col, '');
    message := msg;
    CASE
    WHEN st = 'BB400' THEN code := 'invalid_argument';
    WHEN st = 'BB403' THEN code := 'forbidden';
    WHEN st = 'BB404' THEN code := 'not_found';
    WHEN st = 'BB410' THEN code := 'already_exists';
    WHEN st = 'BB411' THEN code := 'duplicate_report';
    WHEN st = '23505' AND cons = 'enterprise_credit_code_key' THEN
        -- the words of server/pool.c for enterprise.create
        code := 'already_exists'; field := 'credit_code';
        message := 'another enterprise has this credit code';
    WHEN st = '23514' AND cons IN ('enterprise_name_check', 'enterprise_credit_code_valid',
                                   'enterprise_labels_check', 'enterprise_status_check') THEN
        code := 'invalid_argument';
        field := CASE cons WHEN 'enterprise_name_check' THEN 'name'
                           WHEN 'enterprise_credit_code_valid' THEN 'credit_code'
                           WHEN 'enterprise_labels_check' THEN 'labels'
                           ELSE 'status' END;
        message := CASE field WHEN 'status' THEN 'status: not a known status'
                              ELSE field || ': not a valid value' END;
    WHEN st = '23503' AND cons = 'enterprise_cluster_fkey' THEN
        code := 'invalid_argument'; field := 'cluster';
        message := 'cluster: not a known industry cluster';
    ELSE
        code := NULL; field := NULL; message := NULL;
    END CASE;
END
$$;

-- ---- status.submit (006's function; changes marked "020") ----

DROP FUNCTION bb_status_submit(bigint, text, text, bigint, date, text, text, bigint, int, int,
                               text, text);
CREATE FUNCTION bb_status_submit(p_actor bigint, p_addr text, p_key text,
                                 p_enterprise_id bigint, p_report_date date,
                                 p_reporter text, p_production_status text,
                                 p_output_value bigint, p_employees int, p_labour_shortage int,
                                 p_note text, p_tz text, p_allow_duplicate boolean DEFAULT false)
RETURNS status_report_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.submit';
    today date := (now() AT TIME ZONE p_tz)::date;
    allow constant boolean := coalesce(p_allow_duplicate, false);
    u_login text;
    u_role text;
    u_disabled boolean;
    prev idempotency;
    h text;
    tid smallint;
    in_scope boolean;
    out_row status_report_wire;
BEGIN
    SELECT u.login, u.role, u.disabled INTO u_login, u_role, u_disabled
      FROM app_user u WHERE u.id = p_actor;
    IF NOT FOUND OR u_disabled THEN
        RAISE EXCEPTION 'the session''s user no longer exists or is disabled: log in again'
            USING ERRCODE = 'BB401';
    END IF;
    IF u_role NOT IN ('township_staff', 'supervisor') THEN
        RAISE EXCEPTION 'the role % may not call %', u_role, m USING ERRCODE = 'BB403';
    END IF;
    IF p_key IS NOT NULL THEN
        -- 020: allow_duplicate true is one more element of the request.
        h := md5((jsonb_build_array(
            p_actor, p_enterprise_id, p_report_date, p_reporter, p_production_status,
            p_output_value, p_employees, p_labour_shortage, p_note)
            || CASE WHEN allow THEN '[true]'::jsonb ELSE '[]'::jsonb END)::text);
        INSERT INTO idempotency (method, key, request_hash)
        VALUES (m, p_key, h)
        ON CONFLICT (method, key) DO NOTHING;
        IF NOT FOUND THEN
            SELECT * INTO prev FROM idempotency i WHERE i.method = m AND i.key = p_key;
            IF NOT FOUND OR prev.result IS NULL THEN
                -- Cannot happen: the row is written with its result in one transaction.
                RAISE EXCEPTION 'idempotency record %/% has no result', m, p_key;
            END IF;
            IF prev.request_hash <> h THEN
                RAISE EXCEPTION 'idempotency_key was already used for a different % request', m
                    USING ERRCODE = 'BB422', COLUMN = 'idempotency_key';
            END IF;
            RETURN bb_status_replay(prev.result);
        END IF;
    END IF;
    IF p_report_date > today THEN
        RAISE EXCEPTION 'report_date: % is after today (%)', p_report_date, today
            USING ERRCODE = 'BB400', COLUMN = 'report_date';
    END IF;
    IF p_report_date < DATE '2000-01-01' THEN
        RAISE EXCEPTION 'report_date: % is before 2000-01-01', p_report_date
            USING ERRCODE = 'BB400', COLUMN = 'report_date';
    END IF;
    -- KEY SHARE: the enterprise cannot vanish before this commits. The
    -- scope is bb_in_scope's rule.
    SELECT e.township_id,
           u_role <> 'township_staff'
           OR EXISTS (SELECT 1 FROM app_user_township ut
                       WHERE ut.user_id = p_actor AND ut.township_id = e.township_id)
      INTO tid, in_scope
      FROM enterprise e WHERE e.id = p_enterprise_id FOR KEY SHARE OF e;
    IF NOT FOUND OR NOT in_scope THEN
        RAISE EXCEPTION 'enterprise % does not exist', p_enterprise_id
            USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
    END IF;
    -- The production status: a current value of its reference list
    -- (015), after the table lock (see 006).
    LOCK TABLE status_report IN ROW EXCLUSIVE MODE;   -- before the check: see ref.rename (015)
    IF NOT EXISTS (SELECT 1 FROM ref_value v
                    WHERE v.kind = 'production_status' AND v.value = p_production_status
                      AND v.retired_at IS NULL) THEN
        PERFORM bb_ref_check('production_status', p_production_status, 'production_status');
    END IF;
    -- 020: the duplicate rule, last (one probe of status_report_enterprise_idx).
    IF NOT allow AND EXISTS (SELECT 1 FROM status_report s
                              WHERE s.enterprise_id = p_enterprise_id
                                AND s.report_date = p_report_date
                                AND s.reporter = p_reporter AND s.withdrawn_at IS NULL) THEN
        RAISE EXCEPTION '%', bb_status_duplicate_text(p_enterprise_id, p_report_date, p_reporter)
            USING ERRCODE = 'BB411', COLUMN = 'report_date';
    END IF;
    -- The wire row straight from RETURNING (status_report_wire is a plain
    -- projection of the row): no second read. 020: who stored it.
    INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                               output_value, employees, labour_shortage, note, created_by)
    VALUES (p_enterprise_id, p_report_date, p_reporter, p_production_status,
            p_output_value, p_employees, p_labour_shortage, p_note, p_actor)
    RETURNING id, enterprise_id, to_char(report_date, 'YYYY-MM-DD'), reporter,
              production_status, output_value, employees, labour_shortage, note,
              bb_ts(created_at), version, created_by, NULL::text, NULL::bigint, NULL::text
         INTO out_row;
    INSERT INTO audit_log (user_id, login, addr, method, entity, entity_id, before, after, changed)
    VALUES (p_actor, u_login, coalesce(p_addr, '-'), m, 'status_report', out_row.id, NULL,
            to_jsonb(out_row), bb_status_report_fields());
    IF p_key IS NOT NULL THEN
        UPDATE idempotency SET result = jsonb_build_object('id', out_row.id)
         WHERE method = m AND key = p_key;
    END IF;
    RETURN out_row;
END
$$;

-- ---- the group commit (006's bb_status_submit_batch; changes marked "020") ----
--
-- 020: one more argument, last, p_allow_duplicates (one element per row,
-- NULL = false; the whole array NULL: none allowed), and the duplicate
-- rule per row: a row that would be stored, not allowed to be a second
-- report, is refused (BB411, bb_status_submit's text) when a report of its
-- enterprise, date and reporter that is not withdrawn exists, or when an
-- earlier row of this batch that would be stored has the same three (as
-- if the rows had come one after another: that earlier row is stored
-- first, or is refused itself because of a report stored before it, which
-- refuses this one as well). A refused
-- row's key is not recorded. A row that repeats the key of a row refused
-- so (the same request sent twice in one batch) cannot be answered by
-- copying that row; the statement then fails with 40001 and the server
-- sends each row alone (a case of one client's retries, rare by far).
-- The result row gains the new columns of the wire row.

DROP FUNCTION bb_status_submit_batch(bigint[], text[], text[], bigint[], date[], text[], text[],
                                     bigint[], int[], int[], text[], text);
DROP TYPE status_submit_result;
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
    version int,
    created_by bigint,
    withdrawn_at text,
    withdrawn_by bigint,
    reason text,
    error_code text,
    error_field text,
    error_message text
);

CREATE FUNCTION bb_status_submit_batch(p_actors bigint[], p_addrs text[], p_keys text[],
                                       p_enterprise_ids bigint[], p_report_dates date[],
                                       p_reporters text[], p_production_statuses text[],
                                       p_output_values bigint[], p_employees int[],
                                       p_labour_shortages int[], p_notes text[], p_tz text,
                                       p_allow_duplicates boolean[] DEFAULT NULL)
RETURNS SETOF status_submit_result
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.submit';
    n constant int := coalesce(cardinality(p_enterprise_ids), 0);
    today constant date := (now() AT TIME ZONE p_tz)::date;
    reused constant text := format('idempotency_key was already used for a different %s request', m);
    -- Per row, the outcome: the error (all NULL on success).
    codes text[];
    fields text[];
    msgs text[];
    actor_ok boolean[];     -- the actor may write: the key is looked at
    rids bigint[] := array_fill(NULL::bigint, ARRAY[n]);   -- report id (stored or first)
    dup_of int[] := array_fill(NULL::int, ARRAY[n]);       -- same key earlier in this batch
    hashes text[];          -- request hash per row (NULL for rows without a key)
    db_keys text[];         -- keys recorded before this statement: the key,
    db_hash text[];         --   its request hash
    db_rid bigint[];        --   and the id of its first result
    b_keys text[] := '{}';  -- keys stored by this statement: the key
    b_ord int[] := '{}';    --   and the row that stored it
    twice int[];            -- 020: rows refused as duplicate reports
    allow constant boolean[] := coalesce(p_allow_duplicates, array_fill(false, ARRAY[n]));
    ins int[];              -- rows to insert, ascending
    new_ids bigint[];
    replay_ids bigint[] := '{}';
    wire status_report_wire[];
    stored bigint;
    k text;
    pos int;
    bad boolean;
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

    -- Every check that needs no key, for all rows at once: one probe of
    -- app_user, enterprise and app_user_township per row, by key. The
    -- texts are bb_business_actor's and bb_status_submit's. actor_ok says
    -- whether the key is looked at (the actor is checked before it).
    LOCK TABLE status_report IN ROW EXCLUSIVE MODE;   -- see bb_status_submit
    SELECT array_agg(c.code ORDER BY r.ord), array_agg(c.field ORDER BY r.ord),
           array_agg(c.msg ORDER BY r.ord), array_agg(c.code IS DISTINCT FROM 'BB401'
                                                   AND c.code IS DISTINCT FROM 'BB403' ORDER BY r.ord)
      INTO codes, fields, msgs, actor_ok
      FROM unnest(p_actors, p_enterprise_ids, p_report_dates, p_production_statuses)
           WITH ORDINALITY AS r(a, e, d, s, ord)
      LEFT JOIN app_user u ON u.id = r.a
      LEFT JOIN enterprise e ON e.id = r.e
      LEFT JOIN ref_value ps ON ps.kind = 'production_status' AND ps.value = r.s
                            AND ps.retired_at IS NULL
      CROSS JOIN LATERAL (
            SELECT CASE WHEN u.id IS NULL OR u.disabled THEN 'BB401'
                        WHEN u.role NOT IN ('township_staff', 'supervisor') THEN 'BB403'
                        WHEN r.d > today OR r.d < DATE '2000-01-01' THEN 'BB400'
                        WHEN e.id IS NULL THEN 'BB404'
                        WHEN u.role = 'township_staff' AND NOT EXISTS (
                                 SELECT 1 FROM app_user_township ut
                                  WHERE ut.user_id = u.id AND ut.township_id = e.township_id)
                        THEN 'BB404'
                        -- the production status last, as bb_status_submit
                        WHEN ps.id IS NULL THEN 'BB400s'
                   END AS code) c0
      CROSS JOIN LATERAL (
            SELECT left(c0.code, 5) AS code,
                   CASE c0.code WHEN 'BB400' THEN 'report_date' WHEN 'BB404' THEN 'enterprise_id'
                                WHEN 'BB400s' THEN 'production_status'
                   END AS field,
                   CASE WHEN c0.code IS NULL THEN NULL
                        WHEN c0.code = 'BB401'
                        THEN 'the session''s user no longer exists or is disabled: log in again'
                        WHEN c0.code = 'BB403' THEN format('the role %s may not call %s', u.role, m)
                        WHEN c0.code = 'BB400s'
                        THEN bb_ref_problem('production_status', r.s, 'production_status')
                        WHEN r.d > today
                        THEN format('report_date: %s is after today (%s)', r.d, today)
                        WHEN c0.code = 'BB400'
                        THEN format('report_date: %s is before 2000-01-01', r.d)
                        ELSE format('enterprise %s does not exist', r.e)
                   END AS msg) c;

    IF cardinality(array_remove(p_keys, NULL)) > 0 THEN
        -- The same hash as bb_status_submit, so a retry may take either path.
        hashes := ARRAY(
            SELECT CASE WHEN u.k IS NULL THEN NULL
                        ELSE md5((jsonb_build_array(u.a, u.e, u.d, u.r, u.s, u.o, u.em, u.ls,
                                                    u.nt)
                                  || CASE WHEN coalesce(u.al, false) THEN '[true]'::jsonb
                                          ELSE '[]'::jsonb END)::text)   -- 020
                   END
              FROM unnest(p_keys, p_actors, p_enterprise_ids, p_report_dates, p_reporters,
                          p_production_statuses, p_output_values, p_employees,
                          p_labour_shortages, p_notes, allow)
                   WITH ORDINALITY AS u(k, a, e, d, r, s, o, em, ls, nt, al, ord)
             ORDER BY u.ord);
        -- The first results of keys already recorded (committed). A key
        -- another transaction is writing just now is not seen here: the
        -- INSERT of our own records below then waits for it and, if it
        -- commits, finds the conflict (see there). One statement for all
        -- keys, still one primary-key probe per distinct key: the LATERAL
        -- with LIMIT 1 can only be a nested loop over the keys, whatever
        -- the statistics said when the plan was made (003_group_commit.sql,
        -- end). It replaced a loop of one SELECT per key (about 6 us a row).
        SELECT array_agg(q.k), array_agg(f.request_hash),
               array_agg((f.result ->> 'id')::bigint),
               coalesce(bool_or(f.result IS NULL OR NOT f.result ? 'id'), false),
               min(q.k) FILTER (WHERE f.result IS NULL OR NOT f.result ? 'id')
          INTO db_keys, db_hash, db_rid, bad, k
          FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL) q
          CROSS JOIN LATERAL (
                SELECT i.request_hash, i.result FROM idempotency i
                 WHERE i.method = m AND i.key = q.k
                 LIMIT 1) f;
        IF bad THEN
            -- Cannot happen: a record is written with its result in one transaction.
            RAISE EXCEPTION 'the idempotency record %/% has no result', m, k;
        END IF;

        -- Rows with a key, in order, as bb_status_submit would decide them
        -- one after another: the actor, the key, then the other checks.
        FOR i IN 1..n LOOP
            k := p_keys[i];
            CONTINUE WHEN k IS NULL OR NOT actor_ok[i];
            pos := array_position(db_keys, k);
            IF pos IS NOT NULL THEN
                IF db_hash[pos] = hashes[i] THEN
                    codes[i] := NULL; fields[i] := NULL; msgs[i] := NULL;
                    rids[i] := db_rid[pos];
                    replay_ids := replay_ids || db_rid[pos];
                ELSE
                    codes[i] := 'BB422'; fields[i] := 'idempotency_key'; msgs[i] := reused;
                END IF;
                CONTINUE;
            END IF;
            pos := array_position(b_keys, k);
            IF pos IS NOT NULL THEN
                IF hashes[b_ord[pos]] = hashes[i] THEN
                    codes[i] := NULL; fields[i] := NULL; msgs[i] := NULL;
                    dup_of[i] := b_ord[pos];
                ELSE
                    codes[i] := 'BB422'; fields[i] := 'idempotency_key'; msgs[i] := reused;
                END IF;
                CONTINUE;
            END IF;
            IF codes[i] IS NULL THEN
                b_keys := b_keys || k;
                b_ord := b_ord || i;
            END IF;
        END LOOP;
    END IF;
    -- 020: the duplicate rule, for the rows that would be stored (no error,
    -- not a replay, not a repeat of an earlier row's key) and are not
    -- allowed to be a second report: a report not withdrawn with the same
    -- enterprise, date and reporter (one probe each), or an earlier such
    -- row of this batch (a window over the batch's own rows, which needs no
    -- probe at all).
    twice := ARRAY(
        SELECT w.ord
          FROM (SELECT u.ord, u.e, u.d, u.r, u.al,
                       count(*) OVER (PARTITION BY u.e, u.d, u.r ORDER BY u.ord
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
                  FROM unnest(p_enterprise_ids, p_report_dates, p_reporters, allow)
                       WITH ORDINALITY AS u(e, d, r, al, ord)
                 WHERE codes[u.ord] IS NULL AND rids[u.ord] IS NULL AND dup_of[u.ord] IS NULL) w
         WHERE NOT coalesce(w.al, false)
           AND (w.earlier > 0
                OR EXISTS (SELECT 1 FROM status_report s
                            WHERE s.enterprise_id = w.e AND s.report_date = w.d
                              AND s.reporter = w.r AND s.withdrawn_at IS NULL))
         ORDER BY w.ord);
    IF cardinality(twice) > 0 THEN
        IF EXISTS (SELECT 1 FROM unnest(dup_of) AS x(o) WHERE x.o = ANY (twice)) THEN
            RAISE EXCEPTION 'a key of this batch repeats a row refused as a duplicate report'
                USING ERRCODE = '40001';
        END IF;
        -- A refused row whose key was recorded after the key lookup above
        -- (its first attempt committed in between: this statement's
        -- snapshot is newer) is a replay, never a duplicate: the server
        -- then sends each row alone, where the key decides (review of
        -- issue 12; the report and its key commit together, so this sees
        -- every such case).
        IF EXISTS (SELECT 1 FROM unnest(twice) AS t(o)
                     JOIN idempotency i ON i.method = m AND i.key = p_keys[t.o]) THEN
            RAISE EXCEPTION 'a key of this batch was recorded concurrently'
                USING ERRCODE = '40001';
        END IF;
        FOREACH pos IN ARRAY twice LOOP
            codes[pos] := 'BB411';
            fields[pos] := 'report_date';
            msgs[pos] := bb_status_duplicate_text(p_enterprise_ids[pos], p_report_dates[pos],
                                                  p_reporters[pos]);
        END LOOP;
        SELECT coalesce(array_agg(b.k ORDER BY b.i), '{}'), coalesce(array_agg(b.o ORDER BY b.i), '{}')
          INTO b_keys, b_ord
          FROM unnest(b_keys, b_ord) WITH ORDINALITY AS b(k, o, i)
         WHERE NOT (b.o = ANY (twice));
    END IF;

    -- Rows stored: no error, not a replay, not a repeat of an earlier row.
    ins := ARRAY(SELECT o.ord FROM unnest(codes, rids, dup_of) WITH ORDINALITY AS o(c, r, d, ord)
                  WHERE o.c IS NULL AND o.r IS NULL AND o.d IS NULL
                  ORDER BY o.ord);
    IF cardinality(ins) > 0 THEN
        -- Ids drawn first, so each row's id is known without relying on
        -- the order RETURNING hands rows back in.
        new_ids := ARRAY(SELECT nextval('status_report_id_seq'::regclass)
                           FROM generate_series(1, cardinality(ins)));
        FOR j IN 1..cardinality(ins) LOOP
            rids[ins[j]] := new_ids[j];
        END LOOP;
        FOR i IN 1..n LOOP
            IF dup_of[i] IS NOT NULL THEN
                rids[i] := rids[dup_of[i]];
            END IF;
        END LOOP;
        -- One statement writes the reports (the foreign key takes KEY SHARE
        -- on each enterprise, as bb_status_submit does), their audit rows
        -- and the records of their keys, in key order (two batches sharing
        -- keys wait for each other instead of deadlocking). A key conflict
        -- means another transaction recorded it after we looked (a retry
        -- racing its original): then this whole statement must not count,
        -- so it fails with 40001 and the server submits each row alone,
        -- where bb_idem_claim sorts it out. 020: who stored each report.
        WITH g AS (
            SELECT j, ins[j] AS o, new_ids[j] AS id FROM generate_series(1, cardinality(ins)) j
        ), r AS (
            INSERT INTO status_report (id, enterprise_id, report_date, reporter,
                                       production_status, output_value, employees,
                                       labour_shortage, note, created_by)
            OVERRIDING SYSTEM VALUE
            SELECT g.id, u.e, u.d, u.r, u.s, u.o, u.em, u.ls, u.nt, u.a
              FROM unnest(p_enterprise_ids, p_report_dates, p_reporters, p_production_statuses,
                          p_output_values, p_employees, p_labour_shortages, p_notes, p_actors)
                   WITH ORDINALITY AS u(e, d, r, s, o, em, ls, nt, a, ord)
              JOIN g ON g.o = u.ord
             ORDER BY g.j
            RETURNING id, enterprise_id, to_char(report_date, 'YYYY-MM-DD') AS report_date,
                      reporter, production_status, output_value, employees, labour_shortage,
                      note, bb_ts(created_at) AS created_at, version, created_by
        ), w AS (
            SELECT (r.id, r.enterprise_id, r.report_date, r.reporter, r.production_status,
                    r.output_value, r.employees, r.labour_shortage, r.note,
                    r.created_at, r.version, r.created_by, NULL, NULL,
                    NULL)::status_report_wire AS wr, g.o
              FROM r JOIN g ON g.id = r.id
        ), a AS (
            INSERT INTO audit_log (user_id, login, addr, method, entity, entity_id, before,
                                   after, changed)
            SELECT usr.id, usr.login, coalesce(x.addr, '-'), m, 'status_report', (w.wr).id,
                   NULL, to_jsonb(w.wr), bb_status_report_fields()
              FROM w
              JOIN unnest(p_actors, p_addrs) WITH ORDINALITY AS x(actor, addr, ord)
                ON x.ord = w.o
              JOIN app_user usr ON usr.id = x.actor
             ORDER BY w.o
        ), kr AS (
            INSERT INTO idempotency (method, key, request_hash, result)
            SELECT m, b.k, hashes[b.o], jsonb_build_object('id', rids[b.o])
              FROM unnest(b_keys, b_ord) AS b(k, o)
             ORDER BY b.k
            ON CONFLICT (method, key) DO NOTHING
            RETURNING 1)
        SELECT (SELECT array_agg(w.wr) FROM w), (SELECT count(*) FROM kr)
          INTO wire, stored;
        IF stored <> cardinality(b_keys) THEN
            RAISE EXCEPTION 'an idempotency key of this batch was recorded concurrently'
                USING ERRCODE = '40001';
        END IF;
    END IF;
    IF cardinality(replay_ids) > 0 THEN
        -- First results from before this statement, read again (as they
        -- are now: a report corrected since shows its corrections).
        wire := wire || ARRAY(SELECT s FROM status_report_wire s WHERE s.id = ANY (replay_ids));
    END IF;

    RETURN QUERY
    SELECT w.id, w.enterprise_id, w.report_date, w.reporter, w.production_status,
           w.output_value, w.employees, w.labour_shortage, w.note, w.created_at,
           w.version, w.created_by, w.withdrawn_at, w.withdrawn_by, w.reason,
           o.code, o.field, o.msg
      FROM unnest(codes, fields, msgs, rids) WITH ORDINALITY AS o(code, field, msg, rid, ord)
      LEFT JOIN unnest(wire) AS w ON w.id = o.rid
     ORDER BY o.ord;
END
$$;

-- ---- status.import (014's bb_status_import; changes marked 020) ----

-- status.import. Rows checked by the server as parallel arrays (index i =
-- one row): p_ord the row's index in the call; p_eids / p_codes the
-- enterprise by id or by credit code (exactly one of the two is not NULL);
-- p_dates .. p_notes the report (NULL = nil). p_tz: the server's
-- time_zone. p_rej_*: the rows the server refused, with their answer.
-- Returns one bb_import_item (013) per row of the call, in row order.
-- 020: p_allow_duplicates (NULL = false) lets a row be stored next to a
-- report of the same enterprise, date and reporter with other values
-- (else rejected duplicate_report, BB411); withdrawn reports match
-- nothing; the report records who stored it.
DROP FUNCTION bb_status_import(bigint, text, text, boolean, text, int[], bigint[], text[],
                               date[], text[], text[], bigint[], int[], int[], text[], int[],
                               text[], text[], text[]);
CREATE FUNCTION bb_status_import(p_actor bigint, p_addr text, p_key text, p_commit boolean,
                                 p_tz text, p_ord int[], p_eids bigint[], p_codes text[],
                                 p_dates date[], p_reporters text[], p_statuses text[],
                                 p_outputs bigint[], p_employees int[], p_shortages int[],
                                 p_notes text[], p_rej_ord int[], p_rej_code text[],
                                 p_rej_field text[], p_rej_msg text[],
                                 p_allow_duplicates boolean DEFAULT false)
RETURNS SETOF bb_import_item
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.import';
    u app_user := bb_business_actor(p_actor, m);
    today constant date := (now() AT TIME ZONE p_tz)::date;
    n constant int := coalesce(cardinality(p_ord), 0);
    idem_key constant text := CASE WHEN p_commit THEN p_key END;  -- none in a dry run
    prev jsonb;
    -- The rows the server refused, then one item per row tried here.
    items bb_import_item[] := bb_import_rejected(p_rej_ord, p_rej_code, p_rej_field, p_rej_msg);
    it bb_import_item;
    eid bigint;
    tid smallint;
    hit bigint;
    out_row status_report_wire;
    dry_ids bigint[] := '{}';   -- created by this dry run: their ids go away again
    st text; col text; cons text; msg text;
BEGIN
    -- 020: allow_duplicates true is one more element of the request.
    prev := bb_idem_claim(m, idem_key, md5((jsonb_build_array(
        p_actor, p_ord, p_eids, p_codes, p_dates, p_reporters, p_statuses, p_outputs,
        p_employees, p_shortages, p_notes, p_rej_ord, p_rej_code, p_rej_field,
        p_rej_msg)
        || CASE WHEN coalesce(p_allow_duplicates, false) THEN '[true]'::jsonb
                ELSE '[]'::jsonb END)::text));
    IF prev IS NOT NULL THEN
        RETURN QUERY SELECT * FROM jsonb_populate_recordset(NULL::bb_import_item, prev);
        RETURN;
    END IF;

    BEGIN
        FOR i IN 1..n LOOP
            BEGIN
                -- status.submit's order: report_date, then the enterprise.
                IF p_dates[i] > today THEN
                    RAISE EXCEPTION 'report_date: % is after today (%)', p_dates[i], today
                        USING ERRCODE = 'BB400', COLUMN = 'report_date';
                END IF;
                IF p_eids[i] IS NOT NULL THEN
                    SELECT e.id, e.township_id INTO eid, tid
                      FROM enterprise e WHERE e.id = p_eids[i] FOR NO KEY UPDATE OF e;
                    IF NOT FOUND OR NOT bb_in_scope(u, tid) THEN
                        RAISE EXCEPTION 'enterprise % does not exist', p_eids[i]
                            USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
                    END IF;
                ELSE
                    SELECT e.id, e.township_id INTO eid, tid
                      FROM enterprise e WHERE e.credit_code = p_codes[i] FOR NO KEY UPDATE OF e;
                    IF NOT FOUND OR NOT bb_in_scope(u, tid) THEN
                        RAISE EXCEPTION 'credit_code: no enterprise has the credit code %',
                                        p_codes[i]
                            USING ERRCODE = 'BB404', COLUMN = 'credit_code';
                    END IF;
                END IF;
                SELECT s.id INTO hit
                  FROM status_report s
                 WHERE s.enterprise_id = eid AND s.report_date = p_dates[i]
                   AND s.reporter = p_reporters[i]
                   AND s.production_status = p_statuses[i]
                   AND s.output_value IS NOT DISTINCT FROM p_outputs[i]
                   AND s.employees IS NOT DISTINCT FROM p_employees[i]
                   AND s.labour_shortage IS NOT DISTINCT FROM p_shortages[i]
                   AND s.note IS NOT DISTINCT FROM p_notes[i]
                   AND s.withdrawn_at IS NULL
                 ORDER BY s.report_date DESC, s.id DESC
                 LIMIT 1;
                IF FOUND THEN
                    it := ROW(p_ord[i], 'unchanged', hit, NULL, NULL, NULL);
                    IF hit = ANY (dry_ids) THEN
                        it.id := NULL;
                    END IF;
                ELSE
                    PERFORM bb_status_import_check_new(p_statuses[i]);
                    PERFORM 1 FROM status_report s
                     WHERE s.enterprise_id = eid AND s.report_date = p_dates[i]
                       AND s.reporter = p_reporters[i] AND s.withdrawn_at IS NULL;
                    IF FOUND AND NOT coalesce(p_allow_duplicates, false) THEN
                        RAISE EXCEPTION 'report_date: a report of enterprise % on % by % exists '
                                        'with other values: correct or withdraw that one, or '
                                        'import with allow_duplicates true to store a second one',
                                        eid, p_dates[i], p_reporters[i]
                            USING ERRCODE = 'BB411', COLUMN = 'report_date';
                    END IF;
                    INSERT INTO status_report (enterprise_id, report_date, reporter,
                                               production_status, output_value, employees,
                                               labour_shortage, note, created_by)
                    VALUES (eid, p_dates[i], p_reporters[i], p_statuses[i], p_outputs[i],
                            p_employees[i], p_shortages[i], p_notes[i], u.id)
                    RETURNING id, enterprise_id, to_char(report_date, 'YYYY-MM-DD'), reporter,
                              production_status, output_value, employees, labour_shortage,
                              note, bb_ts(created_at), version, created_by, NULL::text,
                              NULL::bigint, NULL::text
                         INTO out_row;
                    INSERT INTO audit_log (user_id, login, addr, method, entity, entity_id,
                                           before, after, changed)
                    VALUES (u.id, u.login, coalesce(p_addr, '-'), m, 'status_report',
                            out_row.id, NULL, to_jsonb(out_row), bb_status_report_fields());
                    it := ROW(p_ord[i], 'created', out_row.id, NULL, NULL, NULL);
                    IF NOT p_commit THEN
                        dry_ids := dry_ids || out_row.id;
                        it.id := NULL;
                    END IF;
                END IF;
                items := items || it;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, col = COLUMN_NAME,
                                        cons = CONSTRAINT_NAME, msg = MESSAGE_TEXT;
                SELECT p_ord[i], 'rejected', NULL, x.* INTO it
                  FROM bb_import_row_error(st, col, cons, msg) x;
                IF it.code IS NULL THEN
                    RAISE;   -- not about this row: the whole call fails
                END IF;
                items := items || it;
            END;
        END LOOP;
        IF NOT p_commit THEN
            RAISE EXCEPTION 'dry run: rolled back' USING ERRCODE = 'BBDRY';
        END IF;
    EXCEPTION WHEN SQLSTATE 'BBDRY' THEN
        NULL;   -- the dry run's writes are undone; items (a variable) stay
    END;

    items := ARRAY(SELECT x FROM unnest(items) x ORDER BY x.row_no);
    PERFORM bb_idem_finish(m, idem_key, to_jsonb(items));   -- a no-op without a key
    RETURN QUERY SELECT * FROM unnest(items);
END
$$;

-- The cached-plan protection of 003/006: every probe here is by key
-- (enterprise by id or credit code, reports by enterprise and day).
ALTER FUNCTION bb_status_import(bigint, text, text, boolean, text, int[], bigint[], text[],
                                date[], text[], text[], bigint[], int[], int[], text[], int[],
                                text[], text[], text[], boolean)
    SET enable_seqscan = off;

-- The plan settings 006 gave the submit functions (the cached-plan
-- protection of 003, and one generic plan per statement: 006 says why),
-- again for their new signatures.
ALTER FUNCTION bb_status_submit(bigint, text, text, bigint, date, text, text, bigint, int, int,
                                text, text, boolean)
    SET enable_seqscan = off;
ALTER FUNCTION bb_status_submit_batch(bigint[], text[], text[], bigint[], date[], text[], text[],
                                      bigint[], int[], int[], text[], text, boolean[])
    SET enable_seqscan = off;
ALTER FUNCTION bb_status_submit(bigint, text, text, bigint, date, text, text, bigint, int, int,
                                text, text, boolean)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION bb_status_submit_batch(bigint[], text[], text[], bigint[], date[], text[], text[],
                                      bigint[], int[], int[], text[], text, boolean[])
    SET plan_cache_mode = force_generic_plan;

-- ---- status.list (006's bb_status_list: withdrawn reports left out) ----

CREATE OR REPLACE FUNCTION bb_status_list(p_scope bigint, p_enterprise_id bigint, p_from date,
                                          p_to date, p_after_date date, p_after_id bigint,
                                          p_limit int)
RETURNS SETOF status_report_wire
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM enterprise e
                    WHERE e.id = p_enterprise_id AND bb_scope_has(p_scope, e.township_id)) THEN
        RAISE EXCEPTION 'enterprise % does not exist', p_enterprise_id
            USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
    END IF;
    RETURN QUERY
    SELECT w.*
      FROM (SELECT s.id, s.report_date
              FROM status_report s
             WHERE s.enterprise_id = p_enterprise_id
               AND (p_from IS NULL OR s.report_date >= p_from)
               AND (p_to IS NULL OR s.report_date <= p_to)
               AND (p_after_date IS NULL OR (s.report_date, s.id) < (p_after_date, p_after_id))
               AND s.withdrawn_at IS NULL   -- 020
             ORDER BY s.report_date DESC, s.id DESC
             LIMIT p_limit) k
      JOIN status_report_wire w ON w.id = k.id
     ORDER BY k.report_date DESC, k.id DESC;
END
$$;
-- CREATE OR REPLACE resets a function's settings: 006's again.
ALTER FUNCTION bb_status_list(bigint, bigint, date, date, date, bigint, int)
    SET enable_seqscan = off;

-- ---- status.correct and status.withdraw ----

-- A reason for a change (the server requires it too; this is the second
-- wall): not NULL and not only blanks (U+3000, the ideographic space, is
-- one). BB400 field reason.
CREATE FUNCTION bb_status_check_reason(p_reason text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_reason IS NULL OR btrim(p_reason, E' \t\u3000') = '' THEN
        RAISE EXCEPTION 'reason: a correction or withdrawal needs a reason'
            USING ERRCODE = 'BB400', COLUMN = 'reason';
    END IF;
END
$$;

-- The report p_id locked (FOR UPDATE: concurrent changes are ordered, the
-- second sees the first's version) for a change by u through p_method.
-- Checks in order, each with its field:
--   - missing, or its enterprise outside u's townships: BB404 id (one
--     answer for both, so scope cannot be probed);
--   - withdrawn: BB400 id (never changed again);
--   - township staff: stored by someone else, or p_today later than the
--     day it was stored (created_at in p_tz) + p_days: BB403 id;
--   - p_version not the current one: BB409 version.
-- p_today is the server's today (its clock; fake_now pins it in tests).
CREATE FUNCTION bb_status_lock(u app_user, p_id bigint, p_version int, p_days int,
                               p_today date, p_tz text) RETURNS status_report
LANGUAGE plpgsql AS $$
DECLARE
    cur status_report;
    found_it boolean;
    tid smallint;
    stored_on date;
BEGIN
    SELECT s.* INTO cur FROM status_report s WHERE s.id = p_id FOR UPDATE;
    found_it := FOUND;
    IF found_it THEN
        SELECT e.township_id INTO tid FROM enterprise e WHERE e.id = cur.enterprise_id;
    END IF;
    IF NOT found_it OR NOT bb_in_scope(u, tid) THEN
        RAISE EXCEPTION 'status report % does not exist', p_id
            USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    IF cur.withdrawn_at IS NOT NULL THEN
        RAISE EXCEPTION 'status report % was withdrawn on %: a withdrawn report is not changed '
                        'again', p_id, (cur.withdrawn_at AT TIME ZONE p_tz)::date
            USING ERRCODE = 'BB400', COLUMN = 'id';
    END IF;
    IF u.role = 'township_staff' THEN
        stored_on := (cur.created_at AT TIME ZONE p_tz)::date;
        IF cur.created_by IS DISTINCT FROM u.id THEN
            RAISE EXCEPTION 'status report % was stored by another user: only they (for % days) '
                            'or a supervisor may change it', p_id, p_days
                USING ERRCODE = 'BB403', COLUMN = 'id';
        END IF;
        IF p_today > stored_on + p_days THEN
            RAISE EXCEPTION 'status report % was stored on %: you could change it until %; now '
                            'only a supervisor may', p_id, stored_on, stored_on + p_days
                USING ERRCODE = 'BB403', COLUMN = 'id';
        END IF;
    END IF;
    IF cur.version <> p_version THEN
        RAISE EXCEPTION 'status report % is at version %, not %', p_id, cur.version, p_version
            USING ERRCODE = 'BB409', COLUMN = 'version';
    END IF;
    RETURN cur;
END
$$;

-- status.correct: new values for some fields of a report, in place.
-- p_report_date, p_reporter, p_production_status NULL = unchanged; the
-- four nil-able fields change when their p_set_* is true (then NULL
-- clears). Checks in order: the actor (township staff and supervisors),
-- the reason, the key, bb_status_lock, then the new values as
-- status.submit checks them: report_date not after today in p_tz
-- (BB400), the production status a current value when it changes (BB400;
-- a report keeps a status retired since), and, when the enterprise, date
-- and reporter change, the duplicate rule (BB411: the caller withdraws
-- the other report, or corrects this one differently). The reason is kept
-- in the row (reason) and so in the audit record's after.
CREATE FUNCTION bb_status_correct(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                  p_version int, p_reason text, p_report_date date,
                                  p_reporter text, p_production_status text,
                                  p_set_output boolean, p_output_value bigint,
                                  p_set_employees boolean, p_employees int,
                                  p_set_shortage boolean, p_labour_shortage int,
                                  p_set_note boolean, p_note text,
                                  p_days int, p_today date, p_tz text)
RETURNS status_report_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.correct';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    cur status_report;
    new_date date;
    new_reporter text;
    before_row status_report_wire;
    out_row status_report_wire;
BEGIN
    PERFORM bb_status_check_reason(p_reason);
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_reason, p_report_date, p_reporter, p_production_status,
        p_set_output, p_output_value, p_set_employees, p_employees, p_set_shortage,
        p_labour_shortage, p_set_note, p_note)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::status_report_wire, prev);
    END IF;
    LOCK TABLE status_report IN ROW EXCLUSIVE MODE;   -- before the status check: see 006
    cur := bb_status_lock(u, p_id, p_version, p_days, p_today, p_tz);
    IF p_report_date > (now() AT TIME ZONE p_tz)::date THEN
        RAISE EXCEPTION 'report_date: % is after today (%)', p_report_date,
                        (now() AT TIME ZONE p_tz)::date
            USING ERRCODE = 'BB400', COLUMN = 'report_date';
    END IF;
    IF p_report_date < DATE '2000-01-01' THEN
        RAISE EXCEPTION 'report_date: % is before 2000-01-01', p_report_date
            USING ERRCODE = 'BB400', COLUMN = 'report_date';
    END IF;
    IF p_production_status IS DISTINCT FROM cur.production_status THEN
        PERFORM bb_ref_check('production_status', p_production_status, 'production_status');
    END IF;
    new_date := coalesce(p_report_date, cur.report_date);
    new_reporter := coalesce(p_reporter, cur.reporter);
    IF (new_date, new_reporter) IS DISTINCT FROM (cur.report_date, cur.reporter)
       AND EXISTS (SELECT 1 FROM status_report s
                    WHERE s.enterprise_id = cur.enterprise_id AND s.report_date = new_date
                      AND s.reporter = new_reporter AND s.withdrawn_at IS NULL
                      AND s.id <> p_id) THEN
        RAISE EXCEPTION '%', bb_status_duplicate_text(cur.enterprise_id, new_date, new_reporter)
            USING ERRCODE = 'BB411', COLUMN = 'report_date';
    END IF;
    SELECT * INTO before_row FROM status_report_wire w WHERE w.id = p_id;
    UPDATE status_report
       SET report_date = new_date,
           reporter = new_reporter,
           production_status = coalesce(p_production_status, production_status),
           output_value = CASE WHEN p_set_output THEN p_output_value ELSE output_value END,
           employees = CASE WHEN p_set_employees THEN p_employees ELSE employees END,
           labour_shortage = CASE WHEN p_set_shortage THEN p_labour_shortage
                                  ELSE labour_shortage END,
           note = CASE WHEN p_set_note THEN p_note ELSE note END,
           reason = p_reason,
           version = version + 1
     WHERE id = p_id;
    SELECT * INTO out_row FROM status_report_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'status_report', p_id, to_jsonb(before_row),
                         out_row);
END
$$;

-- status.withdraw: the report stays, marked withdrawn (when, by whom, why)
-- and counted nowhere from now on. Checks: the actor, the reason, the key,
-- bb_status_lock.
CREATE FUNCTION bb_status_withdraw(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                   p_version int, p_reason text, p_days int, p_today date,
                                   p_tz text)
RETURNS status_report_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.withdraw';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    before_row status_report_wire;
    out_row status_report_wire;
BEGIN
    PERFORM bb_status_check_reason(p_reason);
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_reason)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::status_report_wire, prev);
    END IF;
    PERFORM bb_status_lock(u, p_id, p_version, p_days, p_today, p_tz);
    SELECT * INTO before_row FROM status_report_wire w WHERE w.id = p_id;
    UPDATE status_report
       SET withdrawn_at = now(), withdrawn_by = u.id, reason = p_reason, version = version + 1
     WHERE id = p_id;
    SELECT * INTO out_row FROM status_report_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'status_report', p_id, to_jsonb(before_row),
                         out_row);
END
$$;

-- The cached-plan protection (003_group_commit.sql, end): each probes
-- growing tables by key.
ALTER FUNCTION bb_status_lock(app_user, bigint, int, int, date, text) SET enable_seqscan = off;
ALTER FUNCTION bb_status_correct(bigint, text, text, bigint, int, text, date, text, text,
                                 boolean, bigint, boolean, int, boolean, int, boolean, text,
                                 int, date, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_status_withdraw(bigint, text, text, bigint, int, text, int, date, text)
    SET enable_seqscan = off;

-- ---- problem.correct: a problem's text (issue 12) ----

-- problem.correct: a new description for a problem (诉求内容), with a
-- reason, in any state (a closed problem's text may be wrong too). Checks
-- in order: the actor (township staff and supervisors, as every problem
-- write), the reason (BB400 reason, bb_status_check_reason's rule), the
-- key, existence and scope (BB404 id), the version (BB409). The problem
-- keeps no reason of its own: its audit record's after is the Problem with
-- one more key, `reason`, so the trail says why its text changed. No
-- problem_event: the events are the workflow's steps.
CREATE FUNCTION bb_problem_correct(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                   p_version integer, p_description text, p_reason text)
RETURNS problem_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'problem.correct';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    before_row problem_wire;
    out_row problem_wire;
BEGIN
    PERFORM bb_status_check_reason(p_reason);
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_description, p_reason)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::problem_wire, prev);
    END IF;
    PERFORM bb_problem_lock(u, p_id, p_version);
    SELECT * INTO before_row FROM problem_wire w WHERE w.id = p_id;
    UPDATE problem
       SET description = p_description,
           version = version + 1,
           updated_at = now()
     WHERE id = p_id;
    SELECT * INTO out_row FROM problem_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'problem', p_id, to_jsonb(before_row), out_row,
                         to_jsonb(out_row) || jsonb_build_object('reason', p_reason));
END
$$;
ALTER FUNCTION bb_problem_correct(bigint, text, text, bigint, integer, text, text)
    SET enable_seqscan = off;
