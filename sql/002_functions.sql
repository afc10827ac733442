-- 002_functions.sql: the shapes rows take on the wire, and one function per
-- write so that each write is ONE statement: atomic, with its idempotency
-- record in the same transaction.
--
-- Errors the server turns into protocol codes are raised with a custom
-- SQLSTATE and the offending argument in COLUMN (server/pool.c maps them):
--   BB400 invalid_argument   BB404 not_found   BB409 version_conflict
--   BB410 already_exists     BB422 idempotency_key_reused
-- A duplicate credit code surfaces as 23505 on enterprise_credit_code_key
-- (mapped to already_exists, field credit_code).
--
-- Not for: reads with nothing to decide (the C code next to each method holds
-- its SELECT), or the tables themselves (001_schema.sql).

-- An instant as the wire shows it: RFC 3339, UTC, microseconds.
CREATE FUNCTION bb_ts(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- An Enterprise as the wire shows it, column names = wire keys. labels are
-- joined with a newline: bb_labels_valid guarantees no label holds a control
-- character or is empty, so '' is [] and splitting on '\n' is exact
-- (server/rowpack.c). The row type of this view is also the return type of
-- the write functions and what the idempotency table stores as jsonb.
CREATE VIEW enterprise_wire AS
SELECT e.id,
       e.name,
       e.credit_code,
       t.name AS township,
       e.cluster,
       array_to_string(e.labels, E'\n') AS labels,
       e.status,
       e.version,
       bb_ts(e.created_at) AS created_at,
       bb_ts(e.updated_at) AS updated_at
  FROM enterprise e
  JOIN township t ON t.id = e.township_id;

-- A StatusReport as the wire shows it.
CREATE VIEW status_report_wire AS
SELECT s.id,
       s.enterprise_id,
       to_char(s.report_date, 'YYYY-MM-DD') AS report_date,
       s.reporter,
       s.production_status,
       s.output_value,
       s.employees,
       s.labour_shortage,
       s.note,
       bb_ts(s.created_at) AS created_at
  FROM status_report s;

-- Claims (method, key) for this transaction. Returns NULL when the claim is
-- new, or when p_key is NULL (the write carried no key): the caller then
-- writes and calls bb_idem_finish (a no-op for a NULL key), so no write
-- function tests the key itself. Returns the stored
-- first result when the key was used before with the same request hash;
-- raises BB422 when it was used with another one.
--
-- Why this is safe under concurrency: the INSERT ... ON CONFLICT DO NOTHING
-- on the primary key makes a second transaction with the same key wait until
-- the first ends. If the first commits, the second does nothing and its next
-- statement (a new snapshot under READ COMMITTED) sees the committed row and
-- its result; if the first rolls back, the second's insert goes ahead and it
-- writes as if it were first. Never both.
CREATE FUNCTION bb_idem_claim(p_method text, p_key text, p_hash text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    prev idempotency;
BEGIN
    IF p_key IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO idempotency (method, key, request_hash)
    VALUES (p_method, p_key, p_hash)
    ON CONFLICT (method, key) DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO prev FROM idempotency WHERE method = p_method AND key = p_key;
    IF NOT FOUND OR prev.result IS NULL THEN
        -- Cannot happen: the row is written with its result in one transaction.
        RAISE EXCEPTION 'idempotency record %/% has no result', p_method, p_key;
    END IF;
    IF prev.request_hash <> p_hash THEN
        RAISE EXCEPTION 'idempotency_key was already used for a different % request', p_method
            USING ERRCODE = 'BB422', COLUMN = 'idempotency_key';
    END IF;
    RETURN prev.result;
END
$$;

-- Stores the result of a claimed write. A NULL key matches no row: nothing
-- to store.
CREATE FUNCTION bb_idem_finish(p_method text, p_key text, p_result jsonb) RETURNS void
LANGUAGE sql AS $$
    UPDATE idempotency SET result = p_result WHERE method = p_method AND key = p_key
$$;

-- The checks of a write to an existing row, on the row it read (FOR UPDATE:
-- the lock orders concurrent writers, so the second sees the first's
-- version): BB404 field id when p_found is false ('<p_what> <id> does not
-- exist'), then BB409 field version when p_version is not the row's
-- p_current ('<p_what> <id> is at version <current>, not <version>'). One
-- text for every kind of record.
CREATE FUNCTION bb_check_row(p_what text, p_id bigint, p_found boolean, p_current int,
                             p_version int) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF NOT p_found THEN
        RAISE EXCEPTION '% % does not exist', p_what, p_id USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    IF p_current <> p_version THEN
        RAISE EXCEPTION '% % is at version %, not %', p_what, p_id, p_current, p_version
            USING ERRCODE = 'BB409', COLUMN = 'version';
    END IF;
END
$$;

CREATE FUNCTION bb_township_id(p_township text) RETURNS smallint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tid smallint;
BEGIN
    SELECT id INTO tid FROM township WHERE name = p_township;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'township: unknown township %', p_township
            USING ERRCODE = 'BB400', COLUMN = 'township';
    END IF;
    RETURN tid;
END
$$;

CREATE FUNCTION bb_check_cluster(p_cluster text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_cluster IS NOT NULL AND NOT EXISTS (SELECT 1 FROM industry_cluster WHERE name = p_cluster) THEN
        RAISE EXCEPTION 'cluster: unknown industry cluster %', p_cluster
            USING ERRCODE = 'BB400', COLUMN = 'cluster';
    END IF;
END
$$;

-- enterprise.create. p_labels NULL = [], p_status NULL = 在营.
CREATE FUNCTION bb_enterprise_create(p_key text, p_name text, p_code text, p_township text,
                                     p_cluster text, p_labels text[], p_status text)
RETURNS enterprise_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'enterprise.create';
    labels_v text[] := coalesce(p_labels, '{}');
    status_v text := coalesce(p_status, '在营');
    prev jsonb;
    tid smallint;
    new_id bigint;
    out_row enterprise_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_name, p_code, p_township, p_cluster, labels_v, status_v)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::enterprise_wire, prev);
    END IF;
    tid := bb_township_id(p_township);
    PERFORM bb_check_cluster(p_cluster);
    INSERT INTO enterprise (name, credit_code, township_id, cluster, labels, status)
    VALUES (p_name, p_code, tid, p_cluster, labels_v, status_v)
    RETURNING id INTO new_id;
    SELECT * INTO out_row FROM enterprise_wire WHERE id = new_id;
    PERFORM bb_idem_finish(m, p_key, to_jsonb(out_row));
    RETURN out_row;
END
$$;

-- enterprise.update. NULL name/code/township/status = unchanged; cluster and
-- labels change only when their p_set_* flag is true (cluster NULL = clear).
CREATE FUNCTION bb_enterprise_update(p_key text, p_id bigint, p_version int,
                                     p_name text, p_code text, p_township text, p_status text,
                                     p_set_cluster boolean, p_cluster text,
                                     p_set_labels boolean, p_labels text[])
RETURNS enterprise_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'enterprise.update';
    prev jsonb;
    cur enterprise;
    tid smallint;
    out_row enterprise_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_id, p_version, p_name, p_code, p_township, p_status,
        p_set_cluster, p_cluster, p_set_labels, p_labels)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::enterprise_wire, prev);
    END IF;
    -- The row lock orders concurrent updates: the second sees the first's
    -- version and gets BB409.
    SELECT * INTO cur FROM enterprise WHERE id = p_id FOR UPDATE;
    PERFORM bb_check_row('enterprise', p_id, FOUND, cur.version, p_version);
    tid := cur.township_id;
    IF p_township IS NOT NULL THEN
        tid := bb_township_id(p_township);
    END IF;
    IF p_set_cluster THEN
        PERFORM bb_check_cluster(p_cluster);
    END IF;
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
    PERFORM bb_idem_finish(m, p_key, to_jsonb(out_row));
    RETURN out_row;
END
$$;

-- status.submit. p_tz is the server's time_zone: "today" is computed there.
CREATE FUNCTION bb_status_submit(p_key text, p_enterprise_id bigint, p_report_date date,
                                 p_reporter text, p_production_status text,
                                 p_output_value bigint, p_employees int, p_labour_shortage int,
                                 p_note text, p_tz text)
RETURNS status_report_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'status.submit';
    prev jsonb;
    today date := (now() AT TIME ZONE p_tz)::date;
    new_id bigint;
    out_row status_report_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_enterprise_id, p_report_date, p_reporter, p_production_status,
        p_output_value, p_employees, p_labour_shortage, p_note)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::status_report_wire, prev);
    END IF;
    IF p_report_date > today THEN
        RAISE EXCEPTION 'report_date: % is after today (%)', p_report_date, today
            USING ERRCODE = 'BB400', COLUMN = 'report_date';
    END IF;
    IF p_report_date < DATE '2000-01-01' THEN
        RAISE EXCEPTION 'report_date: % is before 2000-01-01', p_report_date
            USING ERRCODE = 'BB400', COLUMN = 'report_date';
    END IF;
    -- KEY SHARE: the enterprise cannot vanish before this commits.
    PERFORM 1 FROM enterprise WHERE id = p_enterprise_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'enterprise % does not exist', p_enterprise_id
            USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
    END IF;
    INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                               output_value, employees, labour_shortage, note)
    VALUES (p_enterprise_id, p_report_date, p_reporter, p_production_status,
            p_output_value, p_employees, p_labour_shortage, p_note)
    RETURNING id INTO new_id;
    SELECT * INTO out_row FROM status_report_wire WHERE id = new_id;
    PERFORM bb_idem_finish(m, p_key, to_jsonb(out_row));
    RETURN out_row;
END
$$;

-- status.list: one page, newest report_date first, then highest id. The
-- cursor is the (report_date, id) of the previous page's last row. Raises
-- BB404 when the enterprise does not exist (an empty page would hide that).
CREATE FUNCTION bb_status_list(p_enterprise_id bigint, p_from date, p_to date,
                               p_after_date date, p_after_id bigint, p_limit int)
RETURNS SETOF status_report_wire
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM enterprise WHERE id = p_enterprise_id) THEN
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
