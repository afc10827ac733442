-- 002_functions.sql: the shapes rows take on the wire, and the helpers the
-- write functions share so that each write is ONE statement: atomic, with
-- its idempotency record in the same transaction. The write functions
-- themselves, with the actor and the audit trail, are 006_scope_audit.sql's.
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
