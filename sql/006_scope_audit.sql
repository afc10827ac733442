-- 006_scope_audit.sql: the caller in every business write (issue 4): the
-- enterprise and status report write functions, taking the actor (the
-- session's user id) and the peer address, checking the actor's scope,
-- putting the actor into the idempotency request hash, and writing the
-- audit trail in the same transaction as the change. Also status.list's
-- function with the read scope.
--
-- For: bb_enterprise_create, bb_enterprise_update, bb_status_submit,
-- bb_status_submit_batch (its contract: 003_group_commit.sql),
-- bb_status_list and their small helpers; and the reads of the trail for
-- server/audit.c (bb_audit_list, the bounds of audit.list / audit.as_of).
-- The rules (proto/PROTOCOL.md, "Roles and scope"):
--   - the actor is checked again here (bb_actor: BB401 when the user is gone
--     or disabled) and must hold a role that writes business data (township
--     staff, supervisor; BB403 otherwise: a second wall behind the server's
--     gate);
--   - a record outside the actor's townships is answered exactly like a
--     missing one (BB404, same message, same field);
--   - placing a record in a township outside them is BB403, field township;
--   - a stored idempotency result is replayed only to the same actor: the
--     actor is the first element of the request hash;
--   - every change writes one audit_log row (bb_audit or the same INSERT set
--     based) whose before/after are the record as the wire shows it; a
--     replay or a refused write writes none.
-- Not for: reads with nothing to decide (their SELECTs sit next to the C
-- code, with the read scope as a parameter: server/enterprise.c), users
-- (005), the tables (004).
--
-- Plans: PL/pgSQL caches each connection's plans, and a plan made while a
-- table looked empty stays a sequential scan as it grows (see the end of
-- 003_group_commit.sql). The write functions and bb_status_list probe
-- growing tables (enterprise, status_report, idempotency, audit_log) by key
-- only, so each runs with enable_seqscan off; bb_audit_list, whose best
-- index depends on its filters, is planned afresh on every call instead.

-- An Enterprise as a jsonb object exactly as the wire shows it (labels an
-- array, not the newline-joined text the view carries for rowpack): what
-- audit rows keep as before/after, so audit.as_of answers an Enterprise.
CREATE FUNCTION bb_enterprise_json(w enterprise_wire) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_set(to_jsonb(w), '{labels}',
                     to_jsonb(CASE WHEN w.labels = '' THEN '{}'::text[]
                                   ELSE string_to_array(w.labels, E'\n') END))
$$;

-- The actor of a business write: bb_actor (BB401), then a role that may
-- write enterprises and status reports (BB403 for admins: the gate already
-- refuses them; this catches a role changed while logged in).
CREATE FUNCTION bb_business_actor(p_actor bigint, p_method text) RETURNS app_user
LANGUAGE sql STABLE AS $$
    SELECT bb_actor_role(p_actor, p_method, '{township_staff,supervisor}')
$$;

-- The township named p_township (BB400 when unknown: bb_township_id) where
-- u may place a record: BB403 field township outside u's townships.
CREATE FUNCTION bb_township_in_scope(u app_user, p_township text) RETURNS smallint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tid constant smallint := bb_township_id(p_township);
BEGIN
    IF NOT bb_in_scope(u, tid) THEN
        RAISE EXCEPTION 'township: % is not one of your townships', p_township
            USING ERRCODE = 'BB403', COLUMN = 'township';
    END IF;
    RETURN tid;
END
$$;

-- enterprise.create. p_labels NULL = [], p_status NULL = 在营.
CREATE FUNCTION bb_enterprise_create(p_actor bigint, p_addr text, p_key text, p_name text,
                                     p_code text, p_township text, p_cluster text,
                                     p_labels text[], p_status text)
RETURNS enterprise_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'enterprise.create';
    u app_user := bb_business_actor(p_actor, m);
    labels_v text[] := coalesce(p_labels, '{}');
    status_v text := coalesce(p_status, '在营');
    prev jsonb;
    tid smallint;
    new_id bigint;
    out_row enterprise_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_name, p_code, p_township, p_cluster, labels_v, status_v)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::enterprise_wire, prev);
    END IF;
    tid := bb_township_in_scope(u, p_township);
    PERFORM bb_check_cluster(p_cluster);
    INSERT INTO enterprise (name, credit_code, township_id, cluster, labels, status)
    VALUES (p_name, p_code, tid, p_cluster, labels_v, status_v)
    RETURNING id INTO new_id;
    SELECT * INTO out_row FROM enterprise_wire WHERE id = new_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'enterprise', new_id, NULL,
                         out_row, bb_enterprise_json(out_row));
END
$$;

-- enterprise.update. NULL name/code/township/status = unchanged; cluster and
-- labels change only when their p_set_* flag is true (cluster NULL = clear).
-- Order of the checks: actor, key, existence and scope (one answer for
-- both), version, the new township's scope, then the values.
CREATE FUNCTION bb_enterprise_update(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                     p_version int, p_name text, p_code text, p_township text,
                                     p_status text, p_set_cluster boolean, p_cluster text,
                                     p_set_labels boolean, p_labels text[])
RETURNS enterprise_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'enterprise.update';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    cur enterprise;
    tid smallint;
    before_row enterprise_wire;
    out_row enterprise_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_name, p_code, p_township, p_status,
        p_set_cluster, p_cluster, p_set_labels, p_labels)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::enterprise_wire, prev);
    END IF;
    -- The row lock orders concurrent updates: the second sees the first's
    -- version and gets BB409. Outside the actor's scope = does not exist,
    -- checked before the version so a version_conflict cannot reveal it.
    SELECT * INTO cur FROM enterprise WHERE id = p_id FOR UPDATE;
    PERFORM bb_check_row('enterprise', p_id, FOUND AND bb_in_scope(u, cur.township_id),
                         cur.version, p_version);
    tid := cur.township_id;
    IF p_township IS NOT NULL THEN
        tid := bb_township_in_scope(u, p_township);
    END IF;
    IF p_set_cluster THEN
        PERFORM bb_check_cluster(p_cluster);
    END IF;
    SELECT * INTO before_row FROM enterprise_wire WHERE id = p_id;
    UPDATE enterprise
       SET name = coalesce(p_name, name),
           credit_code = coalesce(p_code, credit_code),
           township_id = tid,
           status = coalesce(p_status, status),
           cluster = CASE WHEN p_set_cluster THEN p_cluster ELSE cluster END,
           labels = CASE WHEN p_set_labels THEN coalesce(p_labels, '{}') ELSE labels END,
           version = version + 1,
           updated_at = now()
     WHERE id = p_id;
    SELECT * INTO out_row FROM enterprise_wire WHERE id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'enterprise', p_id, bb_enterprise_json(before_row),
                         out_row, bb_enterprise_json(out_row));
END
$$;

-- The first result of a status.submit, from its idempotency record. Status
-- reports never change, so the record keeps only {"id": n} and a replay
-- reads the row again: the same object as then. (Records written before
-- this migration hold the whole row; they have its id too.)
CREATE FUNCTION bb_status_replay(p_result jsonb) RETURNS status_report_wire
LANGUAGE sql STABLE AS $$
    SELECT w.* FROM status_report_wire w WHERE w.id = (p_result ->> 'id')::bigint
$$;

-- The `changed` of every status report's audit row: a report is only ever
-- created, so it is every key of the wire row (bb_changed_fields of a
-- create), the same for all. IMMUTABLE so each plan computes it once
-- (bb_changed_fields costs ~20 us a call, a tenth of a batched submit);
-- a migration that changes status_report_wire must recreate it.
CREATE FUNCTION bb_status_report_fields() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT bb_changed_fields(NULL, to_jsonb(
        ROW(0, 0, '', '', '', NULL, NULL, NULL, NULL, '')::status_report_wire))
$$;

-- status.submit. p_tz is the server's time_zone: "today" is computed there.
-- Checks in order: actor, key, report_date, enterprise (missing or outside
-- the actor's townships: the same BB404).
--
-- Cost: this runs for every submit that finds no company (about one in ten
-- under load), so it calls no helper function. A plpgsql helper is a call
-- with its own setup, and a SQL helper that cannot be inlined (bb_in_scope
-- and its EXISTS, bb_idem_finish) is parsed and planned again on every
-- call (its plan lives only as long as the calling expression's state):
-- measured, 370 us of database CPU per submit with them, most of it that.
-- So the actor check (bb_business_actor, same texts), the key claim
-- (bb_idem_claim, same texts and the same concurrency argument: the INSERT
-- ... ON CONFLICT makes a second transaction with the key wait for the
-- first), the scope check (bb_in_scope) and the record's result
-- (bb_idem_finish) are written out here, each a statement whose plan the
-- connection keeps.
CREATE FUNCTION bb_status_submit(p_actor bigint, p_addr text, p_key text,
                                 p_enterprise_id bigint, p_report_date date,
                                 p_reporter text, p_production_status text,
                                 p_output_value bigint, p_employees int, p_labour_shortage int,
                                 p_note text, p_tz text)
RETURNS status_report_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.submit';
    today date := (now() AT TIME ZONE p_tz)::date;
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
        h := md5(jsonb_build_array(
            p_actor, p_enterprise_id, p_report_date, p_reporter, p_production_status,
            p_output_value, p_employees, p_labour_shortage, p_note)::text);
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
    -- (015). Checked here and in the batch, not by a trigger: a trigger
    -- per row cost the group commit an eighth of its rate (2026-12-07).
    -- The table lock comes first (an insert would take it anyway): a
    -- concurrent ref.rename waits for this transaction, or this check
    -- waits for the rename and sees the new name.
    LOCK TABLE status_report IN ROW EXCLUSIVE MODE;   -- before the check: see ref.rename (015)
    IF NOT EXISTS (SELECT 1 FROM ref_value v
                    WHERE v.kind = 'production_status' AND v.value = p_production_status
                      AND v.retired_at IS NULL) THEN
        PERFORM bb_ref_check('production_status', p_production_status, 'production_status');
    END IF;
    -- The wire row straight from RETURNING (status_report_wire is a plain
    -- projection of the row): no second read.
    INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                               output_value, employees, labour_shortage, note)
    VALUES (p_enterprise_id, p_report_date, p_reporter, p_production_status,
            p_output_value, p_employees, p_labour_shortage, p_note)
    RETURNING id, enterprise_id, to_char(report_date, 'YYYY-MM-DD'), reporter,
              production_status, output_value, employees, labour_shortage, note,
              bb_ts(created_at)
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

-- status.submit for many reports in ONE statement (group commit; see
-- 003_group_commit.sql for the contract, unchanged): each input row is
-- decided exactly as bb_status_submit would decide it, in input order, as
-- if the rows had come one after another; a row that would fail comes
-- back as a row with error_code/error_field/error_message (BB401, BB403,
-- BB400, BB404, BB422) and stores nothing; anything unforeseen raises and
-- the server submits the rows one by one. The arrays are parallel, one
-- element per report: a batch mixes users, so each row has its actor and
-- address.
--
-- Cost: the checks that do not depend on idempotency keys (the actor, the
-- date, the enterprise and the scope) are one set-based query for the whole
-- batch; only rows with a key go through the in-order loop; the reports,
-- their audit rows and the keys' records are written by ONE statement of
-- data-modifying CTEs (INSERT ... SELECT FROM unnest, RETURNING the wire
-- rows, which are not read back), and a key's record stores {"id": n}.
CREATE FUNCTION bb_status_submit_batch(p_actors bigint[], p_addrs text[], p_keys text[],
                                       p_enterprise_ids bigint[], p_report_dates date[],
                                       p_reporters text[], p_production_statuses text[],
                                       p_output_values bigint[], p_employees int[],
                                       p_labour_shortages int[], p_notes text[], p_tz text)
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
       OR coalesce(cardinality(p_notes), 0) <> n THEN
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
                        ELSE md5(jsonb_build_array(u.a, u.e, u.d, u.r, u.s, u.o, u.em, u.ls,
                                                   u.nt)::text)
                   END
              FROM unnest(p_keys, p_actors, p_enterprise_ids, p_report_dates, p_reporters,
                          p_production_statuses, p_output_values, p_employees,
                          p_labour_shortages, p_notes)
                   WITH ORDINALITY AS u(k, a, e, d, r, s, o, em, ls, nt, ord)
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
        -- where bb_idem_claim sorts it out.
        WITH g AS (
            SELECT j, ins[j] AS o, new_ids[j] AS id FROM generate_series(1, cardinality(ins)) j
        ), r AS (
            INSERT INTO status_report (id, enterprise_id, report_date, reporter,
                                       production_status, output_value, employees,
                                       labour_shortage, note)
            OVERRIDING SYSTEM VALUE
            SELECT g.id, u.e, u.d, u.r, u.s, u.o, u.em, u.ls, u.nt
              FROM unnest(p_enterprise_ids, p_report_dates, p_reporters, p_production_statuses,
                          p_output_values, p_employees, p_labour_shortages, p_notes)
                   WITH ORDINALITY AS u(e, d, r, s, o, em, ls, nt, ord)
              JOIN g ON g.o = u.ord
             ORDER BY g.j
            RETURNING id, enterprise_id, to_char(report_date, 'YYYY-MM-DD') AS report_date,
                      reporter, production_status, output_value, employees, labour_shortage,
                      note, bb_ts(created_at) AS created_at
        ), w AS (
            SELECT (r.id, r.enterprise_id, r.report_date, r.reporter, r.production_status,
                    r.output_value, r.employees, r.labour_shortage, r.note,
                    r.created_at)::status_report_wire AS wr, g.o
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
        -- First results from before this statement, read again (reports never change).
        wire := wire || ARRAY(SELECT s FROM status_report_wire s WHERE s.id = ANY (replay_ids));
    END IF;

    RETURN QUERY
    SELECT w.id, w.enterprise_id, w.report_date, w.reporter, w.production_status,
           w.output_value, w.employees, w.labour_shortage, w.note, w.created_at,
           o.code, o.field, o.msg
      FROM unnest(codes, fields, msgs, rids) WITH ORDINALITY AS o(code, field, msg, rid, ord)
      LEFT JOIN unnest(wire) AS w ON w.id = o.rid
     ORDER BY o.ord;
END
$$;

-- True when township p_township is readable under read scope p_scope
-- (NULL reads everything; else the user id of township staff). Not
-- inlined (a subquery): fine where it runs once per call, as in the
-- functions here; statements that filter many rows write the test out
-- (SCOPE_HAS in server/engine/method.h).
CREATE FUNCTION bb_scope_has(p_scope bigint, p_township smallint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_scope IS NULL
        OR EXISTS (SELECT 1 FROM app_user_township ut
                    WHERE ut.user_id = p_scope AND ut.township_id = p_township)
$$;

-- status.list: one page, newest report_date first, then highest id. The
-- cursor is the (report_date, id) of the previous page's last row. Raises
-- BB404 when the enterprise does not exist or, for a read scope (the user
-- id of township staff; NULL reads everything), lies outside the user's
-- townships: the same error, so scope cannot be probed.
CREATE FUNCTION bb_status_list(p_scope bigint, p_enterprise_id bigint, p_from date, p_to date,
                               p_after_date date, p_after_id bigint, p_limit int)
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
             ORDER BY s.report_date DESC, s.id DESC
             LIMIT p_limit) k
      JOIN status_report_wire w ON w.id = k.id
     ORDER BY k.report_date DESC, k.id DESC;
END
$$;

-- The cached-plan protection (003_group_commit.sql, end) for every function
-- here that probes growing tables by key.
ALTER FUNCTION bb_enterprise_create(bigint, text, text, text, text, text, text, text[], text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_enterprise_update(bigint, text, text, bigint, int, text, text, text, text,
                                    boolean, text, boolean, text[])
    SET enable_seqscan = off;
ALTER FUNCTION bb_status_submit(bigint, text, text, bigint, date, text, text, bigint, int, int,
                                text, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_status_submit_batch(bigint[], text[], text[], bigint[], date[], text[], text[],
                                      bigint[], int[], int[], text[], text)
    SET enable_seqscan = off;

-- The submit functions also keep ONE plan per statement per connection
-- (generic plans, never re-planned). With the default plan_cache_mode a
-- statement over the argument arrays is planned again on every call: a
-- custom plan knows the arrays' lengths (unnest's row estimate), so it
-- always looks cheaper than the generic one, which assumes 10 or 100 rows.
-- Planning every statement of bb_status_submit_batch on every call,
-- including the constant bb_status_report_fields() (a SQL function parsed
-- and planned each time it is folded), was 40% of the database's CPU per
-- batch of 8 (perf: GetCachedPlan, base_yyparse, evaluate_expr). Every
-- statement in them reads by key with sequential scans off, so the
-- generic plan is the plan wanted at any size (EXPLAIN of each: nested
-- loops over the arrays with index probes; hash joins only between the
-- arrays and the CTEs of the batch's own rows). Measured with pgbench
-- calling the batch function (16 clients, keys, fsync on, whole cluster's
-- CPU per stored report, 3 alternating runs each): 8 rows 345 -> 198 us,
-- 64 rows 92 -> 87 us.
ALTER FUNCTION bb_status_submit(bigint, text, text, bigint, date, text, text, bigint, int, int,
                                text, text)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION bb_status_submit_batch(bigint[], text[], text[], bigint[], date[], text[], text[],
                                      bigint[], int[], int[], text[], text)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION bb_status_list(bigint, bigint, date, date, date, bigint, int)
    SET enable_seqscan = off;

-- audit.as_of and audit.list take a bound as a date (a whole day in the
-- server's time_zone) or an RFC 3339 timestamp; the server has checked the
-- form. The start of the day / the instant itself.
CREATE FUNCTION bb_audit_from(p_bound text, p_tz text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_bound IS NULL THEN '-infinity'::timestamptz
                WHEN length(p_bound) = 10 THEN p_bound::date::timestamp AT TIME ZONE p_tz
                ELSE p_bound::timestamptz END
$$;

-- The first instant after the bound: the start of the next day for a date
-- (so a date includes its whole day), the next microsecond for a timestamp.
CREATE FUNCTION bb_audit_until(p_bound text, p_tz text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_bound IS NULL THEN 'infinity'::timestamptz
                WHEN length(p_bound) = 10 THEN (p_bound::date + 1)::timestamp AT TIME ZONE p_tz
                ELSE p_bound::timestamptz + interval '1 microsecond' END
$$;

-- audit.list: one page, newest first: (at, id) descending, the order of
-- the last two columns of every audit_log index. Filters: p_entity,
-- p_entity_id (with p_entity), p_user (a login; unknown = nothing), the
-- bounds p_from / p_to (dates or timestamps, above), and the cursor p_after,
-- the id of the previous page's last row (an id that names no audit row is
-- BB400, field after); asks p_limit rows.
--
-- PL/pgSQL with custom plans (plan_cache_mode below): the user id and the
-- cursor's instant are looked up first and every absent filter folds away,
-- so each call is planned for the filters it has and with the statistics
-- of the user it names: one record's history walks (entity, entity_id, at,
-- id), one user's changes (user_id, at, id), a time range (at, id), each
-- backwards and stopping after p_limit rows. (A generic plan, as a
-- prepared statement gets after five runs, read and sorted every row of a
-- user to return 50 of them.)
CREATE FUNCTION bb_audit_list(p_entity text, p_entity_id bigint, p_user text, p_from text,
                              p_to text, p_after bigint, p_limit int, p_tz text)
RETURNS TABLE (id bigint, at text, "user" text, user_id bigint, addr text, method text,
               entity text, entity_id bigint, changed text, before text, after text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    uid bigint;
    lo constant timestamptz := bb_audit_from(p_from, p_tz);
    hi constant timestamptz := bb_audit_until(p_to, p_tz);
    cur_at timestamptz := 'infinity';
    cur_id bigint := 0;
BEGIN
    IF p_user IS NOT NULL THEN
        SELECT u.id INTO uid FROM app_user u WHERE u.login = p_user;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    IF p_after IS NOT NULL THEN
        SELECT c.at INTO cur_at FROM audit_log c WHERE c.id = p_after;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'after: not a cursor this server returned as next'
                USING ERRCODE = 'BB400', COLUMN = 'after';
        END IF;
        cur_id := p_after;
    END IF;
    RETURN QUERY
    SELECT a.id, bb_ts(a.at), a.login, a.user_id, a.addr, a.method, a.entity, a.entity_id,
           to_jsonb(a.changed)::text, a.before::text, a.after::text
      FROM audit_log a
     WHERE (p_entity IS NULL OR a.entity = p_entity)
       AND (p_entity_id IS NULL OR a.entity_id = p_entity_id)
       AND (uid IS NULL OR a.user_id = uid)
       AND a.at >= lo AND a.at < hi
       AND (a.at, a.id) < (cur_at, cur_id)
     ORDER BY a.at DESC, a.id DESC
     LIMIT p_limit;
END
$$;
ALTER FUNCTION bb_audit_list(text, bigint, text, text, text, bigint, int, text)
    SET plan_cache_mode = force_custom_plan;
