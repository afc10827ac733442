-- 014_status_import.sql: status.import (issue 6), the bulk import of status
-- reports (走访 / 调度记录), one call of up to BB_MAX_IMPORT_ROWS rows in ONE
-- statement (one transaction), built like enterprise.import (013).
--
-- For: bb_status_import. The server (server/import.c) has checked each
-- row's shape first exactly as status.submit does at the edge (types,
-- ranges, lengths, control characters, the production status, the
-- 2000-01-01 floor; for a row naming its enterprise by credit code, the
-- credit code's own rules); the rows it refused come in as p_rej_* so that
-- the idempotency record holds the whole answer. Everything else is
-- decided here with the rules status.submit uses: bb_business_actor (the
-- user), bb_idem_claim / bb_idem_finish (the key), "not after today" in
-- the server's time_zone, bb_in_scope (an enterprise outside a township
-- staff user's townships is answered exactly like a missing one: BB404),
-- and the audit row status.submit writes (before NULL, after the wire row,
-- changed = bb_status_report_fields()), with method status.import.
--
-- Status reports never change once stored, so a row is matched on
-- (enterprise, report_date, reporter):
--   - a stored report with those three and every other value equal
--     (production_status, output_value, employees, labour_shortage, note;
--     NULL equal to NULL): "unchanged", its id, nothing written. So
--     importing a file twice, or an export's status_reports.csv, stores
--     nothing twice;
--   - stored reports with those three, none equal in the rest: rejected
--     already_exists (BB410), field report_date;
--   - none: "created", INSERT and one audit row.
-- The probe is an index scan of status_report_enterprise_idx
-- (enterprise_id, report_date DESC, id DESC) on its first two columns;
-- reporter and the values are filters on the few rows of one enterprise
-- and day. enable_seqscan is off in this function (the cached-plan
-- protection of 003/006).
-- Two imports of the same enterprise at once: each row locks its
-- enterprise FOR NO KEY UPDATE (not KEY SHARE as status.submit does), so
-- the check-then-insert of two imports is serialized per enterprise and
-- the same row in two concurrent calls is stored once. status.submit's
-- KEY SHARE does not conflict with it. Two imports touching the same
-- enterprises in a different order may deadlock: one of them fails whole
-- (unavailable) and is retried with its key.
-- A row that fails is rolled back alone (a savepoint per row: the
-- BEGIN ... EXCEPTION block) and reported with its code, field and
-- message; errors that are not about the row are raised again and fail
-- the whole call, which then stored nothing.
-- Dry run (p_commit false): the same writes, then the whole batch is
-- rolled back (BBDRY), so it answers what a commit would (the same row
-- twice in one call: created, then unchanged; ids only of reports that
-- exist before and after) and stores nothing, key and audit included.
-- Not for: the CSV (client/cli_import.c), the edge checks (server/import.c).

-- What a report new to the database must pass before it is compared with
-- the other reports of its enterprise, day and reporter. Nothing yet (the
-- server checked the row's shape); 015 puts the check of the production
-- status against its reference list here, so that a wrong status is
-- answered as a wrong status, not as a clash.
CREATE FUNCTION bb_status_import_check_new(p_status text) RETURNS void
LANGUAGE sql STABLE AS $$
$$;

-- status.import. Rows checked by the server as parallel arrays (index i =
-- one row): p_ord the row's index in the call; p_eids / p_codes the
-- enterprise by id or by credit code (exactly one of the two is not NULL);
-- p_dates .. p_notes the report (NULL = nil). p_tz: the server's
-- time_zone. p_rej_*: the rows the server refused, with their answer.
-- Returns one bb_import_item (013) per row of the call, in row order.
CREATE FUNCTION bb_status_import(p_actor bigint, p_addr text, p_key text, p_commit boolean,
                                 p_tz text, p_ord int[], p_eids bigint[], p_codes text[],
                                 p_dates date[], p_reporters text[], p_statuses text[],
                                 p_outputs bigint[], p_employees int[], p_shortages int[],
                                 p_notes text[], p_rej_ord int[], p_rej_code text[],
                                 p_rej_field text[], p_rej_msg text[])
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
    prev := bb_idem_claim(m, idem_key, md5(jsonb_build_array(
        p_actor, p_ord, p_eids, p_codes, p_dates, p_reporters, p_statuses, p_outputs,
        p_employees, p_shortages, p_notes, p_rej_ord, p_rej_code, p_rej_field,
        p_rej_msg)::text));
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
                       AND s.reporter = p_reporters[i];
                    IF FOUND THEN
                        RAISE EXCEPTION 'report_date: a report of enterprise % on % by % exists '
                                        'with other values (status reports are never changed)',
                                        eid, p_dates[i], p_reporters[i]
                            USING ERRCODE = 'BB410', COLUMN = 'report_date';
                    END IF;
                    INSERT INTO status_report (enterprise_id, report_date, reporter,
                                               production_status, output_value, employees,
                                               labour_shortage, note)
                    VALUES (eid, p_dates[i], p_reporters[i], p_statuses[i], p_outputs[i],
                            p_employees[i], p_shortages[i], p_notes[i])
                    RETURNING id, enterprise_id, to_char(report_date, 'YYYY-MM-DD'), reporter,
                              production_status, output_value, employees, labour_shortage,
                              note, bb_ts(created_at)
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
                                text[], text[], text[])
    SET enable_seqscan = off;
