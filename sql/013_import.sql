-- 013_import.sql: enterprise.import (issue 6), the bulk upsert of
-- enterprises by credit code, one call of up to BB_MAX_IMPORT_ROWS rows in
-- ONE statement (one transaction).
--
-- For: bb_enterprise_import and its item type. The server (server/import.c)
-- has checked each row's shape first (types, lengths, control characters,
-- the credit code's own rules, labels) exactly as enterprise.create does
-- at the edge; the rows it refused come in as p_rej_* so that the
-- idempotency record holds the whole answer. Everything else is decided
-- here by the rules enterprise.create and enterprise.update already use,
-- not by copies of them: bb_business_actor (the user), bb_idem_claim /
-- bb_idem_finish (the key), bb_township_id (a known township),
-- bb_in_scope (township staff), bb_check_cluster (a known cluster), the
-- CHECKs of table enterprise (name, credit code, labels, status) and its
-- unique credit code, bb_audit with bb_enterprise_json (the trail).
--
-- Per row, in this order (the order of enterprise.create / .update):
--   - the credit code names an enterprise the caller may see: an update.
--     The new township must be known and in scope (BB403, township), the
--     cluster known; when no given field differs, the row is "unchanged":
--     nothing written, no version, no audit row. Otherwise the given
--     fields replace the stored ones (absent cluster / labels / status =
--     keep; nil cluster = clear; [] labels = clear), version + 1, one audit
--     row. No version is compared: an import is "the file is the truth".
--   - otherwise a create: township known and in scope (BB403, township),
--     cluster known, INSERT. An enterprise outside a township staff user's
--     scope is not looked at: the INSERT then meets its credit code and the
--     row gets already_exists, exactly what enterprise.create answers.
-- A row that fails is rolled back alone (a savepoint per row: the
-- BEGIN ... EXCEPTION block) and reported with its code, field and
-- message; the other rows go on. Errors that are not about the row
-- (serialization failure, deadlock, a lost connection, a bug) are raised
-- again and fail the whole call, which then stored nothing.
-- Dry run (p_commit false): every row goes through exactly the same
-- writes, then the whole batch is rolled back (the outer block raises
-- BBDRY and catches it), so a dry run answers what a commit would have
-- (two rows of one call with the same credit code: created, then
-- updated; ids only of enterprises that exist before and after), but
-- stores nothing, key and audit included. The key of a dry
-- run is neither looked up nor stored.
-- Not for: the CSV (the client reads it: client/csv.c), the edge checks
-- (server/import.c).

CREATE TYPE bb_import_item AS (
    row_no int,          -- 0-based index in the call's rows
    outcome text,        -- created | updated | unchanged | rejected
    id bigint,           -- the enterprise (NULL when rejected, and for created in a dry run)
    code text,           -- wire error code of a rejected row
    field text,
    message text
);

-- The items of the rows the server refused (p_rej_* of an import: row,
-- code, field, message, parallel arrays), in the order given.
CREATE FUNCTION bb_import_rejected(p_ord int[], p_code text[], p_field text[], p_msg text[])
RETURNS bb_import_item[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(ROW(r.o, 'rejected', NULL, r.c, r.f, r.m)::bb_import_item
                              ORDER BY r.n), '{}')
      FROM unnest(p_ord, p_code, p_field, p_msg) WITH ORDINALITY AS r(o, c, f, m, n)
     WHERE r.n <= cardinality(p_ord)
$$;

-- A failed row's error as the wire reports it. st/col/cons/msg are what
-- GET STACKED DIAGNOSTICS gave. Returns NULL code for errors that are not
-- about the row (the caller raises them again).
CREATE FUNCTION bb_import_row_error(st text, col text, cons text, msg text,
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

-- enterprise.import. Rows checked by the server are given as parallel
-- arrays (index i = one row): p_ord the row's index in the call, p_names,
-- p_codes, p_townships; p_cluster_set false = cluster absent (keep / none),
-- true = p_clusters[i] (NULL = clear / none); p_labels the labels joined
-- with a line feed (labels hold no control character), NULL = absent
-- (keep / none), '' = []; p_statuses NULL = absent (keep / 在营). p_rej_*:
-- the rows the server refused, with their answer. Returns one item per row
-- of the call, in row order.
CREATE FUNCTION bb_enterprise_import(p_actor bigint, p_addr text, p_key text, p_commit boolean,
                                     p_ord int[], p_names text[], p_codes text[],
                                     p_townships text[], p_cluster_set boolean[],
                                     p_clusters text[], p_labels text[], p_statuses text[],
                                     p_rej_ord int[], p_rej_code text[], p_rej_field text[],
                                     p_rej_msg text[])
RETURNS SETOF bb_import_item
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'enterprise.import';
    u app_user := bb_business_actor(p_actor, m);
    n constant int := coalesce(cardinality(p_ord), 0);
    idem_key constant text := CASE WHEN p_commit THEN p_key END;  -- none in a dry run
    prev jsonb;
    -- The rows the server refused, then one item per row tried here.
    items bb_import_item[] := bb_import_rejected(p_rej_ord, p_rej_code, p_rej_field, p_rej_msg);
    it bb_import_item;
    cur enterprise;
    before_row enterprise_wire;
    out_row enterprise_wire;
    tid smallint;
    labels_v text[];
    new_id bigint;
    dry_ids bigint[] := '{}';   -- created by this dry run: their ids go away again
    st text; col text; cons text; msg text;
BEGIN
    prev := bb_idem_claim(m, idem_key, md5(jsonb_build_array(
        p_actor, p_ord, p_names, p_codes, p_townships, p_cluster_set, p_clusters, p_labels,
        p_statuses, p_rej_ord, p_rej_code, p_rej_field, p_rej_msg)::text));
    IF prev IS NOT NULL THEN
        RETURN QUERY SELECT * FROM jsonb_populate_recordset(NULL::bb_import_item, prev);
        RETURN;
    END IF;

    BEGIN
        FOR i IN 1..n LOOP
            BEGIN
                labels_v := CASE WHEN p_labels[i] IS NULL THEN NULL
                                 WHEN p_labels[i] = '' THEN '{}'::text[]
                                 ELSE string_to_array(p_labels[i], E'\n') END;
                SELECT * INTO cur FROM enterprise e WHERE e.credit_code = p_codes[i] FOR UPDATE;
                IF FOUND AND bb_in_scope(u, cur.township_id) THEN
                    tid := bb_township_in_scope(u, p_townships[i]);
                    IF p_cluster_set[i] THEN
                        PERFORM bb_check_cluster(p_clusters[i]);
                    END IF;
                    IF cur.name = p_names[i] AND cur.township_id = tid
                       AND (NOT p_cluster_set[i] OR cur.cluster IS NOT DISTINCT FROM p_clusters[i])
                       AND (labels_v IS NULL OR cur.labels = labels_v)
                       AND (p_statuses[i] IS NULL OR cur.status = p_statuses[i]) THEN
                        it := ROW(p_ord[i], 'unchanged', cur.id, NULL, NULL, NULL);
                        IF cur.id = ANY (dry_ids) THEN
                            it.id := NULL;
                        END IF;
                    ELSE
                        SELECT * INTO before_row FROM enterprise_wire w WHERE w.id = cur.id;
                        UPDATE enterprise e
                           SET name = p_names[i],
                               township_id = tid,
                               cluster = CASE WHEN p_cluster_set[i] THEN p_clusters[i]
                                              ELSE e.cluster END,
                               labels = coalesce(labels_v, e.labels),
                               status = coalesce(p_statuses[i], e.status),
                               version = e.version + 1,
                               updated_at = now()
                         WHERE e.id = cur.id;
                        SELECT * INTO out_row FROM enterprise_wire w WHERE w.id = cur.id;
                        PERFORM bb_audit(u.id, p_addr, m, 'enterprise', cur.id,
                                         bb_enterprise_json(before_row),
                                         bb_enterprise_json(out_row));
                        it := ROW(p_ord[i], 'updated', cur.id, NULL, NULL, NULL);
                        IF cur.id = ANY (dry_ids) THEN
                            it.id := NULL;
                        END IF;
                    END IF;
                ELSE
                    tid := bb_township_in_scope(u, p_townships[i]);
                    PERFORM bb_check_cluster(p_clusters[i]);
                    INSERT INTO enterprise (name, credit_code, township_id, cluster, labels, status)
                    VALUES (p_names[i], p_codes[i], tid, p_clusters[i],
                            coalesce(labels_v, '{}'), coalesce(p_statuses[i], '在营'))
                    RETURNING enterprise.id INTO new_id;
                    SELECT * INTO out_row FROM enterprise_wire w WHERE w.id = new_id;
                    PERFORM bb_audit(u.id, p_addr, m, 'enterprise', new_id, NULL,
                                     bb_enterprise_json(out_row));
                    it := ROW(p_ord[i], 'created', new_id, NULL, NULL, NULL);
                    IF NOT p_commit THEN
                        dry_ids := dry_ids || new_id;
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

-- The cached-plan protection of 003/006: every probe here is by key.
ALTER FUNCTION bb_enterprise_import(bigint, text, text, boolean, int[], text[], text[], text[],
                                    boolean[], text[], text[], text[], int[], text[], text[],
                                    text[])
    SET enable_seqscan = off;
