-- 003_group_commit.sql: status.submit for many reports in ONE statement, so
-- that concurrent submits share one transaction and one commit (group
-- commit; server/status.c gathers them).
--
-- For: bb_status_submit_batch, which does for each input row exactly what
-- bb_status_submit (002_functions.sql) does for one, in input order, as if
-- the rows had been submitted one after another: the same idempotency
-- records (same method, same request hash, same stored result), the same
-- checks and the same error texts. A row that would fail (BB400 report_date,
-- BB404 enterprise_id, BB422 idempotency_key) does NOT raise: it comes back
-- as a row with error_code/error_field/error_message set, and stores
-- nothing, so one bad row does not sink its neighbours. Anything unforeseen
-- (a CHECK, a trigger) still raises and fails the whole statement; the
-- server then submits the rows one by one with bb_status_submit.
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

-- Arrays are parallel, one element per report, in submission order; a NULL
-- key means "no idempotency key". p_tz is the server's time_zone.
CREATE FUNCTION bb_status_submit_batch(p_keys text[], p_enterprise_ids bigint[],
                                       p_report_dates date[], p_reporters text[],
                                       p_production_statuses text[], p_output_values bigint[],
                                       p_employees int[], p_labour_shortages int[],
                                       p_notes text[], p_tz text)
RETURNS SETOF status_submit_result
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.submit';
    n constant int := coalesce(cardinality(p_enterprise_ids), 0);
    today constant date := (now() AT TIME ZONE p_tz)::date;
    hashes text[];          -- request hash per row (NULL for rows without a key)
    existing bigint[];      -- the enterprise ids of this batch that exist
    db_keys text[];         -- keys recorded before this statement: their
    db_hash text[];         --   request hash
    db_result jsonb[];      --   and first result
    b_keys text[] := '{}';  -- keys stored by this statement: the key
    b_ord int[] := '{}';    --   and the row that stored it
    codes text[] := array_fill(NULL::text, ARRAY[n]);
    fields text[] := array_fill(NULL::text, ARRAY[n]);
    msgs text[] := array_fill(NULL::text, ARRAY[n]);
    rids bigint[] := array_fill(NULL::bigint, ARRAY[n]);  -- report id (stored or first)
    dup_of int[] := array_fill(NULL::int, ARRAY[n]);      -- same key earlier in this batch
    prevs jsonb[] := array_fill(NULL::jsonb, ARRAY[n]);   -- first result from before
    ins int[] := '{}';      -- rows to insert, ascending
    new_ids bigint[];
    has_keys boolean;
    stored bigint;
    k text;
    pos int;
    found_hash text;
    found_result jsonb;
BEGIN
    IF n = 0 THEN
        RETURN;
    END IF;
    IF coalesce(cardinality(p_keys), 0) <> n OR coalesce(cardinality(p_report_dates), 0) <> n
       OR coalesce(cardinality(p_reporters), 0) <> n
       OR coalesce(cardinality(p_production_statuses), 0) <> n
       OR coalesce(cardinality(p_output_values), 0) <> n
       OR coalesce(cardinality(p_employees), 0) <> n
       OR coalesce(cardinality(p_labour_shortages), 0) <> n
       OR coalesce(cardinality(p_notes), 0) <> n THEN
        RAISE EXCEPTION 'bb_status_submit_batch: the argument arrays differ in length';
    END IF;

    has_keys := cardinality(array_remove(p_keys, NULL)) > 0;
    IF has_keys THEN
        -- The same hash as bb_status_submit, so a retry may take either path.
        hashes := ARRAY(
            SELECT CASE WHEN u.k IS NULL THEN NULL
                        ELSE md5(jsonb_build_array(u.e, u.d, u.r, u.s, u.o, u.em, u.ls, u.nt)::text)
                   END
              FROM unnest(p_keys, p_enterprise_ids, p_report_dates, p_reporters,
                          p_production_statuses, p_output_values, p_employees,
                          p_labour_shortages, p_notes)
                   WITH ORDINALITY AS u(k, e, d, r, s, o, em, ls, nt, ord)
             ORDER BY u.ord);
        -- The first results of keys already recorded (committed). A key
        -- another transaction is writing just now is not seen here: the
        -- INSERT of our own records below then waits for it and, if it
        -- commits, finds the conflict (see there).
        -- One primary-key probe per distinct key (see the end of the file).
        FOR k IN SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k) WHERE u.k IS NOT NULL LOOP
            SELECT i.request_hash, i.result INTO found_hash, found_result
              FROM idempotency i
             WHERE i.method = m AND i.key = k;
            IF FOUND THEN
                db_keys := db_keys || k;
                db_hash := db_hash || found_hash;
                db_result := db_result || found_result;
            END IF;
        END LOOP;
        IF array_position(db_result, NULL) IS NOT NULL THEN
            -- Cannot happen: a record is written with its result in one transaction.
            RAISE EXCEPTION 'an idempotency record of % has no result', m;
        END IF;
    END IF;

    SELECT array_agg(e.id) INTO existing FROM enterprise e WHERE e.id = ANY (p_enterprise_ids);

    -- Decide each row in order, as bb_status_submit would one after another:
    -- the key first, then the date, then the enterprise.
    FOR i IN 1..n LOOP
        k := p_keys[i];
        IF k IS NOT NULL THEN
            pos := array_position(db_keys, k);
            IF pos IS NOT NULL THEN
                IF db_hash[pos] = hashes[i] THEN
                    prevs[i] := db_result[pos];
                ELSE
                    codes[i] := 'BB422';
                    fields[i] := 'idempotency_key';
                    msgs[i] := format('idempotency_key was already used for a different %s request', m);
                END IF;
                CONTINUE;
            END IF;
            pos := array_position(b_keys, k);
            IF pos IS NOT NULL THEN
                IF hashes[b_ord[pos]] = hashes[i] THEN
                    dup_of[i] := b_ord[pos];
                ELSE
                    codes[i] := 'BB422';
                    fields[i] := 'idempotency_key';
                    msgs[i] := format('idempotency_key was already used for a different %s request', m);
                END IF;
                CONTINUE;
            END IF;
        END IF;
        IF p_report_dates[i] > today THEN
            codes[i] := 'BB400';
            fields[i] := 'report_date';
            msgs[i] := format('report_date: %s is after today (%s)', p_report_dates[i], today);
            CONTINUE;
        END IF;
        IF p_report_dates[i] < DATE '2000-01-01' THEN
            codes[i] := 'BB400';
            fields[i] := 'report_date';
            msgs[i] := format('report_date: %s is before 2000-01-01', p_report_dates[i]);
            CONTINUE;
        END IF;
        IF existing IS NULL OR NOT (p_enterprise_ids[i] = ANY (existing)) THEN
            codes[i] := 'BB404';
            fields[i] := 'enterprise_id';
            msgs[i] := format('enterprise %s does not exist', p_enterprise_ids[i]);
            CONTINUE;
        END IF;
        ins := ins || i;
        IF k IS NOT NULL THEN
            b_keys := b_keys || k;
            b_ord := b_ord || i;
        END IF;
    END LOOP;

    IF cardinality(ins) > 0 THEN
        -- Ids drawn first, so each row's id is known without relying on
        -- the order RETURNING hands rows back in.
        new_ids := ARRAY(SELECT nextval('status_report_id_seq'::regclass)
                           FROM generate_series(1, cardinality(ins)));
        -- The foreign key takes KEY SHARE on each enterprise, as
        -- bb_status_submit does: it cannot vanish before this commits.
        INSERT INTO status_report (id, enterprise_id, report_date, reporter, production_status,
                                   output_value, employees, labour_shortage, note)
        OVERRIDING SYSTEM VALUE
        SELECT new_ids[j], p_enterprise_ids[ins[j]], p_report_dates[ins[j]], p_reporters[ins[j]],
               p_production_statuses[ins[j]], p_output_values[ins[j]], p_employees[ins[j]],
               p_labour_shortages[ins[j]], p_notes[ins[j]]
          FROM generate_series(1, cardinality(ins)) AS g(j);
        FOR j IN 1..cardinality(ins) LOOP
            rids[ins[j]] := new_ids[j];
        END LOOP;
    END IF;
    FOR i IN 1..n LOOP
        IF dup_of[i] IS NOT NULL THEN
            rids[i] := rids[dup_of[i]];
        END IF;
    END LOOP;

    IF cardinality(b_keys) > 0 THEN
        -- Each stored key with its row's hash and result, in key order (two
        -- batches sharing keys wait for each other instead of deadlocking).
        -- A conflict means another transaction recorded the key after we
        -- looked (a retry racing its original): then this whole statement
        -- must not count, so it fails with 40001 and the server submits
        -- each row alone, where bb_idem_claim sorts it out.
        WITH r AS (
            INSERT INTO idempotency (method, key, request_hash, result)
            SELECT m, u.k, hashes[u.o], to_jsonb(w)
              FROM unnest(b_keys, b_ord) AS u(k, o)
              JOIN status_report_wire w ON w.id = rids[u.o]
             ORDER BY u.k
            ON CONFLICT (method, key) DO NOTHING
            RETURNING 1)
        SELECT count(*) INTO stored FROM r;
        IF stored <> cardinality(b_keys) THEN
            RAISE EXCEPTION 'an idempotency key of this batch was recorded concurrently'
                USING ERRCODE = '40001';
        END IF;
    END IF;

    RETURN QUERY
    SELECT w.id, w.enterprise_id, w.report_date, w.reporter, w.production_status,
           w.output_value, w.employees, w.labour_shortage, w.note, w.created_at,
           o.code, o.field, o.msg
      FROM unnest(codes, fields, msgs, rids, prevs) WITH ORDINALITY AS o(code, field, msg, rid, prev, ord)
      LEFT JOIN LATERAL (
            SELECT s.* FROM status_report_wire s WHERE s.id = o.rid
            UNION ALL
            SELECT p.* FROM jsonb_populate_record(NULL::status_report_wire, o.prev) p
             WHERE o.prev IS NOT NULL) w ON true
     ORDER BY o.ord;
END
$$;

-- Key lookups and plans cached by PL/pgSQL: a connection's plans are made
-- with the statistics of the moment. Planned while the idempotency table
-- looked empty (a fresh start, before autovacuum's first ANALYZE), a lookup
-- of `method = m AND key = ANY (p_keys)` read every status.submit record on
-- every batch, and even an equality on the whole primary key became a
-- sequential scan, and stayed one as the table grew (measured: PostgreSQL at
-- 184% of 2 cores for 1,200-1,500 submits/s, heap_getnextslot and texteq on
-- top of the profile). So keys are looked up one primary-key equality at a
-- time (above), and sequential scans are off inside the functions that look
-- keys up: the table only grows, every lookup wants one row, and nothing
-- else these functions read wants a sequential scan either.
-- tests/integration/test_group_commit.c pins it
-- (key_lookups_stay_index_probes_as_the_table_grows).
ALTER FUNCTION bb_status_submit_batch(text[], bigint[], date[], text[], text[], bigint[], int[],
                                      int[], text[], text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_idem_claim(text, text, text) SET enable_seqscan = off;
