-- 015_reference_data.sql: reference data (issue 10): the lists of names a
-- record's value must belong to (townships, their kinds, industry clusters,
-- labels, enterprise statuses, production statuses, problem categories) as
-- rows an admin manages (ref.list / ref.add / ref.rename / ref.retire),
-- checked by triggers on every write, instead of arrays in C and CHECKs in
-- migrations.
--
-- For: the tables (ref_kind, ref_value; township gains retired_at and
-- audit columns), the check (bb_ref_check: SQLSTATE BB400 with COLUMN =
-- the wire field, which server/engine/pool.c answers as invalid_argument
-- with that field), the BEFORE INSERT/UPDATE triggers of the tables that
-- carry such values, and the write functions of the ref.* methods.
-- Not for: the lists themselves. A county's lists are data, loaded once
-- from its own file (data/reference/chibi.sql for 赤壁市) or managed with
-- ref.*; no township, cluster or label name appears in a migration. The
-- only values this migration writes are those of the value-list CHECKs it
-- replaces, read from the constraints themselves (so a database keeps
-- accepting what it accepted), and the clusters an existing database has
-- in industry_cluster.
--
-- Decisions:
--   - Records keep the value's text (enterprise.cluster, .labels, .status,
--     status_report.production_status, problem.category, township.kind),
--     as before: every view, query and wire shape stays as it was, and a
--     list costs one index probe per changed value. Renaming a value
--     therefore rewrites the records that carry it, in the rename's
--     transaction (bb_ref_rename), without touching their version or
--     updated_at: the facts of the record did not change, only the name of
--     a list entry; the one audit row is the rename's. Townships are the
--     exception: records reference them by id (township_id), so a rename is
--     one row.
--   - A retired value stays valid on records that already carry it: the
--     triggers check a value only when it is new on the row (an insert, or
--     an update that changes it; for labels, each label not on the row
--     before). Retired values are listed (retired = true) so clients can
--     show them, and offered by no client.
--   - Labels are an open kind (PROTOCOL.md: any text is accepted): the
--     listed labels are suggestions, an unlisted label is accepted, a
--     retired one is refused when newly given.
--   - Enterprise statuses are named by the server itself (在营 is the
--     default, 注销 leaves the coverage checks, the report workbook has a
--     column per status): they are not added, renamed or retired.
--   - No cache anywhere: every write asks the database, which reads the
--     current rows, so any number of baobaod processes agree at once
--     (stateless across processes) and a change applies to the next write.
--   - Township ids stay smallint and are given in order (max + 1): the
--     township list's order (reports, a user's townships) is its id order.

-- ---- a database this migration cannot follow ----

-- The migrations 002-014 were rewritten before baobao's first release
-- (2026-12-07: shared helpers such as bb_write_done and bb_actor_role,
-- bb_idem_claim taking a NULL key), and the functions below call those
-- helpers. A database migrated before that (a developer's or a demo's)
-- lacks them: refused here with words that say what to do (scripts/run
-- makes its demo database anew on this message) rather than failing later
-- in the middle of a write.
DO $$
BEGIN
    IF to_regproc('bb_write_done') IS NULL OR to_regproc('bb_enterprise_lock') IS NULL THEN
        RAISE EXCEPTION 'schema_predates_rewrite: this database was migrated by a baobao from before 2026-12-07, whose migrations were rewritten before the first release; make the database anew';
    END IF;
END
$$;

-- ---- the kinds ----

-- A kind of reference value. The kinds are the code's (each is tied to the
-- columns whose triggers check it), so they are rows of this migration;
-- their values are data. noun: the words of the error message; open: any
-- value accepted (the list suggests), a retired one refused; fixed: the
-- server gives its values meaning, so they are never added, renamed or
-- retired.
CREATE TABLE ref_kind (
    kind text PRIMARY KEY,
    noun text NOT NULL,
    open boolean NOT NULL DEFAULT false,
    fixed boolean NOT NULL DEFAULT false,
    max_chars integer NOT NULL CHECK (max_chars BETWEEN 1 AND 64)
);

INSERT INTO ref_kind (kind, noun, open, fixed, max_chars) VALUES
    ('township', 'township', false, false, 64),
    ('township_kind', 'kind of township', false, false, 64),
    ('cluster', 'industry cluster', false, false, 64),
    ('label', 'label', true, false, 32),
    ('enterprise_status', 'enterprise status', false, true, 64),
    ('production_status', 'production status', false, false, 64),
    ('problem_category', 'problem category', false, false, 64);

-- The values of every kind but township (which keeps its own table: its
-- ids are what records reference). sort_order: the order clients offer
-- them in (ties by value).
CREATE TABLE ref_value (
    id bigserial PRIMARY KEY,
    kind text NOT NULL REFERENCES ref_kind (kind) CHECK (kind <> 'township'),
    value text NOT NULL
        CHECK (char_length(value) BETWEEN 1 AND 64 AND NOT bb_has_control(value)),
    sort_order integer NOT NULL DEFAULT 0,
    retired_at timestamptz NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, value)
);

ALTER TABLE township
    ADD COLUMN retired_at timestamptz NULL,
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT township_name_valid
        CHECK (char_length(name) BETWEEN 1 AND 64 AND NOT bb_has_control(name));

-- ---- the values an existing database already has ----

-- The value-list CHECKs become rows, in their order, and are dropped. Read
-- from the constraint's definition (CHECK ((status = ANY (ARRAY['a'::text,
-- ...])))), so this file names no value and a database keeps accepting
-- exactly what it accepted. A constraint already gone is skipped.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
                ('enterprise', 'enterprise_status_check', 'enterprise_status'),
                ('status_report', 'status_report_production_status_check', 'production_status'),
                ('problem', 'problem_category_check', 'problem_category'),
                ('township', 'township_kind_check', 'township_kind')) AS v(tbl, con, kind)
    LOOP
        INSERT INTO ref_value (kind, value, sort_order)
        SELECT r.kind, m.a[1], 10 * m.ord
          FROM pg_constraint c
         CROSS JOIN LATERAL regexp_matches(pg_get_constraintdef(c.oid), '''([^'']*)''::text', 'g')
               WITH ORDINALITY AS m(a, ord)
         WHERE c.conrelid = r.tbl::regclass AND c.conname = r.con
        ON CONFLICT (kind, value) DO NOTHING;
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT IF EXISTS %I', r.tbl, r.con);
    END LOOP;
END
$$;

-- Clusters: the rows of industry_cluster (empty on a new database: the
-- county's file adds them), in the order they were inserted. Records keep
-- the name; the foreign keys give way to the triggers below.
INSERT INTO ref_value (kind, value, sort_order)
SELECT 'cluster', c.name, 10 * row_number() OVER (ORDER BY c.ctid)
  FROM industry_cluster c
ON CONFLICT (kind, value) DO NOTHING;
ALTER TABLE enterprise DROP CONSTRAINT IF EXISTS enterprise_cluster_fkey;
ALTER TABLE project DROP CONSTRAINT IF EXISTS project_cluster_fkey;
DROP TABLE industry_cluster;

-- Key enterprises (coverage gaps, 009) are those with a key label: which
-- labels count is the county's data too (ref_value.marks_key, set by its
-- file).
ALTER TABLE ref_value
    ADD COLUMN marks_key boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT ref_value_marks_key_label CHECK (NOT marks_key OR kind = 'label');

CREATE OR REPLACE FUNCTION bb_is_key_enterprise(p_labels text[]) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT EXISTS (SELECT 1 FROM ref_value v
                    WHERE v.kind = 'label' AND v.marks_key AND v.value = ANY (p_labels))
$$;

-- ---- the check ----

-- True inside bb_ref_rename while it rewrites records: the triggers leave
-- those rows alone (a retired value renamed stays on its records).
CREATE FUNCTION bb_ref_rewriting() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('bb.ref_rewriting', true), '') = 'on'
$$;

-- What is wrong with p_value as a value of p_kind, as the words of the
-- error (field first: "production_status: must be one of ..."), or NULL
-- when it is a current value (or NULL). Unknown in a closed kind, or
-- retired; an unknown value of an open kind (labels) is fine.
CREATE FUNCTION bb_ref_problem(p_kind text, p_value text, p_field text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    retired timestamptz;
    known boolean;
    allowed text;
    k ref_kind;
BEGIN
    IF p_value IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_kind = 'township' THEN
        SELECT t.retired_at INTO retired FROM township t WHERE t.name = p_value;
    ELSE
        SELECT v.retired_at INTO retired FROM ref_value v
         WHERE v.kind = p_kind AND v.value = p_value;
    END IF;
    known := FOUND;
    IF known AND retired IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO k FROM ref_kind WHERE kind = p_kind;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bb_ref_problem: no kind %', p_kind;
    END IF;
    IF known THEN
        RETURN format('%s: the %s %s is retired', p_field, k.noun, p_value);
    END IF;
    IF k.open THEN
        RETURN NULL;
    END IF;
    -- The message names the current values, in their order (the words the
    -- server used when it had the lists in C).
    IF p_kind = 'township' THEN
        SELECT string_agg(t.name, ', ' ORDER BY t.id) INTO allowed
          FROM township t WHERE t.retired_at IS NULL;
    ELSE
        SELECT string_agg(v.value, ', ' ORDER BY v.sort_order, v.value) INTO allowed
          FROM ref_value v WHERE v.kind = p_kind AND v.retired_at IS NULL;
    END IF;
    IF allowed IS NULL THEN
        RETURN format('%s: unknown %s %s (the list of them is empty)', p_field, k.noun, p_value);
    END IF;
    RETURN format('%s: must be one of %s', p_field, allowed);
END
$$;

-- Checks that p_value is a current value of p_kind; BB400 with COLUMN =
-- p_field (the wire field: township, cluster, labels[2], status, ...) when
-- it is not (bb_ref_problem says why). NULL passes (NOT NULL columns say
-- whether a value is needed).
CREATE FUNCTION bb_ref_check(p_kind text, p_value text, p_field text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    why constant text := bb_ref_problem(p_kind, p_value, p_field);
BEGIN
    IF why IS NOT NULL THEN
        RAISE EXCEPTION '%', why USING ERRCODE = 'BB400', COLUMN = p_field;
    END IF;
END
$$;

-- The same for a township named by id (records reference townships so).
CREATE FUNCTION bb_township_check(p_id smallint, p_field text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t township;
BEGIN
    SELECT * INTO t FROM township WHERE id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: unknown township %', p_field, p_id
            USING ERRCODE = 'BB400', COLUMN = p_field;
    ELSIF t.retired_at IS NOT NULL THEN
        RAISE EXCEPTION '%: the township % is retired', p_field, t.name
            USING ERRCODE = 'BB400', COLUMN = p_field;
    END IF;
END
$$;

-- The write functions check a cluster before they write (002, 008, 013);
-- now from the list. A retired cluster passes here: the trigger refuses it
-- only where it is new on the row.
CREATE OR REPLACE FUNCTION bb_check_cluster(p_cluster text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_cluster IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM ref_value WHERE kind = 'cluster' AND value = p_cluster) THEN
        RAISE EXCEPTION 'cluster: unknown industry cluster %', p_cluster
            USING ERRCODE = 'BB400', COLUMN = 'cluster';
    END IF;
END
$$;

-- The check of a value stored as text, made by the BEFORE triggers below,
-- that is while the writer holds ROW EXCLUSIVE on its table. ref.rename
-- takes SHARE ROW EXCLUSIVE on the tables it rewrites before it rewrites
-- them: a write that checked "A" either commits before the rename looks
-- (and its row is rewritten too), or waits for the rename and then sees
-- the new name. No advisory lock per row: a relation lock a writer holds
-- anyway costs nothing more (measured with ./scripts/bench on the
-- group commit, 2026-12-07: docs/NOTES.md).
CREATE FUNCTION bb_ref_guard(p_kind text, p_value text, p_field text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_value IS NULL THEN
        RETURN;
    END IF;
    PERFORM bb_ref_check(p_kind, p_value, p_field);
END
$$;

-- ---- the triggers: a value is checked when it is new on the row ----

-- One trigger function for every table whose columns carry reference
-- values. Its arguments are triples (column, kind, field): the column's
-- value, when it is new on the row, is checked as a value of the kind
-- (bb_ref_guard, under the kind's shared lock) and refused as the field.
-- A 'township' column holds a township id (bb_township_check); an array
-- column (labels) is checked element by element, each element not on the
-- row before, as field[i] (0-based: labels[2]).
-- The row is read as jsonb once: a column named by an argument cannot be
-- read from NEW without it (dynamic SQL would plan on every row). Cost on
-- status_report, the hot path (every submit is an insert): 50,000 inserts
-- in one statement, median of 7, 24.3 us a row with one plpgsql function
-- per table, 29.6 us with this one (to_jsonb of the row is ~2-3 us of the
-- 5). A status.submit costs ~200 us of database CPU per report, so ~2.5%.
CREATE FUNCTION bb_ref_guard_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    new_row constant jsonb := to_jsonb(NEW);
    old_row constant jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
    v jsonb;
    was jsonb;
    kind text;
    field text;
BEGIN
    IF bb_ref_rewriting() THEN
        RETURN NEW;
    END IF;
    FOR a IN 0 .. TG_NARGS / 3 - 1 LOOP
        v := new_row -> TG_ARGV[3 * a];
        was := old_row -> TG_ARGV[3 * a];     -- NULL on an insert: every value is new
        CONTINUE WHEN v IS NOT DISTINCT FROM was;
        kind := TG_ARGV[3 * a + 1];
        field := TG_ARGV[3 * a + 2];
        IF kind = 'township' THEN
            PERFORM bb_township_check((v #>> '{}')::smallint, field);
        ELSIF jsonb_typeof(v) = 'array' THEN
            FOR i IN 0 .. jsonb_array_length(v) - 1 LOOP
                IF was IS NULL OR NOT (was ? (v ->> i)) THEN
                    PERFORM bb_ref_guard(kind, v ->> i, format('%s[%s]', field, i));
                END IF;
            END LOOP;
        ELSE
            PERFORM bb_ref_guard(kind, v #>> '{}', field);
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER enterprise_ref_guard BEFORE INSERT OR UPDATE ON enterprise
    FOR EACH ROW EXECUTE FUNCTION bb_ref_guard_row('township_id', 'township', 'township',
                                                   'cluster', 'cluster', 'cluster',
                                                   'labels', 'label', 'labels',
                                                   'status', 'enterprise_status', 'status');
CREATE TRIGGER project_ref_guard BEFORE INSERT OR UPDATE ON project
    FOR EACH ROW EXECUTE FUNCTION bb_ref_guard_row('township_id', 'township', 'township',
                                                   'cluster', 'cluster', 'cluster');
-- Status reports have no trigger: every one is written by bb_status_submit,
-- bb_status_submit_batch (006) or bb_status_import (014, through the hook
-- below), which check the production status themselves, set-based in the
-- batch (a trigger per row cost the group commit an eighth of its rate,
-- 2026-12-07).
CREATE TRIGGER problem_ref_guard BEFORE INSERT OR UPDATE ON problem
    FOR EACH ROW EXECUTE FUNCTION bb_ref_guard_row('category', 'problem_category', 'category');
-- A township's kind (街道, 镇, ...) is a reference value too (field
-- township_kind: only ref.add sets it).
CREATE TRIGGER township_ref_guard BEFORE INSERT OR UPDATE ON township
    FOR EACH ROW EXECUTE FUNCTION bb_ref_guard_row('kind', 'township_kind', 'township_kind');

-- A user's townships: a township newly given to a user must be current.
-- user.update re-inserts the townships it keeps (ON CONFLICT DO NOTHING),
-- and BEFORE triggers run before the conflict is found: a row already
-- there is not new, so a retired township a user had stays theirs.
CREATE FUNCTION bb_user_township_ref_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF bb_ref_rewriting() THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.township_id = OLD.township_id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM app_user_township ut
                WHERE ut.user_id = NEW.user_id AND ut.township_id = NEW.township_id) THEN
        RETURN NEW;
    END IF;
    PERFORM bb_township_check(NEW.township_id, 'townships');
    RETURN NEW;
END
$$;
CREATE TRIGGER app_user_township_ref_guard BEFORE INSERT OR UPDATE ON app_user_township
    FOR EACH ROW EXECUTE FUNCTION bb_user_township_ref_guard();

-- ---- the wire ----

-- A RefValue as the wire shows it (ref.list and the writes): townships
-- and the other kinds in one shape. id is the row's id in its own table
-- (township.id for townships, ref_value.id otherwise): with the kind it
-- names the audit trail's entity (township / ref_value). sort_order of a
-- township is its id. township_kind: a township's kind, NULL otherwise.
CREATE VIEW ref_wire AS
SELECT t.id::bigint AS id,
       'township'::text AS kind,
       t.name AS value,
       t.id::integer AS sort_order,
       t.retired_at IS NOT NULL AS retired,
       t.kind AS township_kind,
       t.version,
       bb_ts(t.created_at) AS created_at,
       bb_ts(t.updated_at) AS updated_at
  FROM township t
UNION ALL
SELECT v.id,
       v.kind,
       v.value,
       v.sort_order,
       v.retired_at IS NOT NULL,
       NULL::text,
       v.version,
       bb_ts(v.created_at),
       bb_ts(v.updated_at)
  FROM ref_value v;

-- One RefValue by kind and value (NULL when none).
CREATE FUNCTION bb_ref_read(p_kind text, p_value text) RETURNS ref_wire
LANGUAGE sql STABLE AS $$
    SELECT * FROM ref_wire w WHERE w.kind = p_kind AND w.value = p_value
$$;

-- ---- the writes (admins only; one audit row each, in the same transaction) ----

-- The caller of a ref.* write: an enabled admin (BB401 / BB403: the second
-- wall behind the server's gate). Writes of one kind are serialised by an
-- advisory lock on the kind (admins' changes of one kind, one at a time:
-- writers take none): two adds of the same new township cannot both
-- take the next id, a rename cannot race an add of its new name.
CREATE FUNCTION bb_ref_actor(p_actor bigint, p_method text, p_kind text) RETURNS app_user
LANGUAGE plpgsql AS $$
DECLARE
    u app_user := bb_actor_role(p_actor, p_method, '{admin}');
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ref_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'kind: unknown kind of reference data %', p_kind
            USING ERRCODE = 'BB400', COLUMN = 'kind';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('bb_ref'), hashtext(p_kind));
    RETURN u;
END
$$;

-- A new name of p_kind in p_field: its length (the kind's max_chars) and
-- that no value of the kind, retired or not, has it (BB410).
CREATE FUNCTION bb_ref_check_new(p_kind text, p_value text, p_field text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    k ref_kind;
BEGIN
    SELECT * INTO k FROM ref_kind WHERE kind = p_kind;
    IF char_length(p_value) > k.max_chars THEN
        RAISE EXCEPTION '%: a % has at most % characters', p_field, k.noun, k.max_chars
            USING ERRCODE = 'BB400', COLUMN = p_field;
    END IF;
    IF (bb_ref_read(p_kind, p_value)).id IS NOT NULL THEN
        RAISE EXCEPTION '%: the % % exists already (ref.retire with retired false brings a retired one back)',
            p_field, k.noun, p_value USING ERRCODE = 'BB410', COLUMN = p_field;
    END IF;
END
$$;

-- ref.add. p_sort_order NULL = after the last of its kind (townships:
-- their id, the next one; giving one is BB400 sort_order). p_township_kind:
-- required for a township (BB400 township_kind), refused for other kinds.
CREATE FUNCTION bb_ref_add(p_actor bigint, p_addr text, p_key text, p_kind text, p_value text,
                           p_sort_order integer, p_township_kind text)
RETURNS ref_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'ref.add';
    u app_user := bb_ref_actor(p_actor, m, p_kind);
    prev jsonb;
    new_id bigint;
    entity text := 'ref_value';
    out_row ref_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_kind, p_value, p_sort_order, p_township_kind)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::ref_wire, prev);
    END IF;
    PERFORM bb_ref_check_fixed(p_kind);
    PERFORM bb_ref_check_new(p_kind, p_value, 'value');
    IF p_kind = 'township' THEN
        IF p_township_kind IS NULL THEN
            RAISE EXCEPTION 'township_kind: a township needs its kind' USING ERRCODE = 'BB400',
                COLUMN = 'township_kind';
        END IF;
        IF p_sort_order IS NOT NULL THEN
            RAISE EXCEPTION 'sort_order: townships are in the order of their ids'
                USING ERRCODE = 'BB400', COLUMN = 'sort_order';
        END IF;
        INSERT INTO township (id, name, kind)
        VALUES ((SELECT coalesce(max(id), 0) + 1 FROM township), p_value, p_township_kind)
        RETURNING id INTO new_id;
        entity := 'township';
    ELSE
        IF p_township_kind IS NOT NULL THEN
            RAISE EXCEPTION 'township_kind: only a township has a kind' USING ERRCODE = 'BB400',
                COLUMN = 'township_kind';
        END IF;
        INSERT INTO ref_value (kind, value, sort_order)
        VALUES (p_kind, p_value,
                coalesce(p_sort_order, (SELECT coalesce(max(sort_order), 0) + 10
                                          FROM ref_value WHERE kind = p_kind)))
        RETURNING id INTO new_id;
    END IF;
    out_row := bb_ref_read(p_kind, p_value);
    RETURN bb_write_done(u.id, p_addr, m, p_key, entity, new_id, NULL, out_row);
END
$$;

-- The current row of p_kind / p_value for a change (BB404 field value).
CREATE FUNCTION bb_ref_find(p_kind text, p_value text) RETURNS ref_wire
LANGUAGE plpgsql STABLE AS $$
DECLARE
    w ref_wire := bb_ref_read(p_kind, p_value);
BEGIN
    IF w.id IS NULL THEN
        RAISE EXCEPTION 'value: % has no value %', p_kind, p_value
            USING ERRCODE = 'BB404', COLUMN = 'value';
    END IF;
    RETURN w;
END
$$;

-- Refuses a change to a kind whose values the server names (BB400 kind):
-- the enterprise statuses (在营 the default, 注销 left out of coverage, a
-- report column each).
CREATE FUNCTION bb_ref_check_fixed(p_kind text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT fixed FROM ref_kind WHERE kind = p_kind) THEN
        RAISE EXCEPTION 'kind: the server gives meaning to each % (defaults, report columns), so none is added, renamed or retired',
            (SELECT noun FROM ref_kind WHERE kind = p_kind) USING ERRCODE = 'BB400', COLUMN = 'kind';
    END IF;
END
$$;

-- ref.rename. The records that carry the value as text get the new one
-- (without a version bump or audit row of their own: see the top of this
-- file); townships are referenced by id, their rename is one row. For
-- labels, an enterprise that has the new label already just loses the old
-- one (no duplicates). The triggers stand aside meanwhile (bb.ref_rewriting,
-- local to this transaction): the renamed value may be retired and must
-- stay on its records.
CREATE FUNCTION bb_ref_rename(p_actor bigint, p_addr text, p_key text, p_kind text,
                              p_value text, p_new_value text)
RETURNS ref_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'ref.rename';
    u app_user := bb_ref_actor(p_actor, m, p_kind);
    prev jsonb;
    before_row ref_wire;
    out_row ref_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_kind, p_value, p_new_value)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::ref_wire, prev);
    END IF;
    before_row := bb_ref_find(p_kind, p_value);
    PERFORM bb_ref_check_fixed(p_kind);
    PERFORM bb_ref_check_new(p_kind, p_new_value, 'new_value');
    -- Writers check a value while holding ROW EXCLUSIVE on their table (a
    -- BEFORE trigger, or the submit functions' LOCK): SHARE ROW EXCLUSIVE
    -- waits for those running now and holds back new ones until this
    -- commits, so no row keeps the old name. Rare (an admin's rename), and
    -- brief but for status reports, which a rename of a production status
    -- rewrites in bulk.
    CASE p_kind
    WHEN 'township_kind' THEN LOCK TABLE township IN SHARE ROW EXCLUSIVE MODE;
    WHEN 'cluster' THEN LOCK TABLE enterprise, project IN SHARE ROW EXCLUSIVE MODE;
    WHEN 'label' THEN LOCK TABLE enterprise IN SHARE ROW EXCLUSIVE MODE;
    WHEN 'production_status' THEN LOCK TABLE status_report IN SHARE ROW EXCLUSIVE MODE;
    WHEN 'problem_category' THEN LOCK TABLE problem IN SHARE ROW EXCLUSIVE MODE;
    ELSE NULL;
    END CASE;
    PERFORM set_config('bb.ref_rewriting', 'on', true);
    CASE p_kind
    WHEN 'township' THEN
        UPDATE township SET name = p_new_value, version = version + 1, updated_at = now()
         WHERE id = before_row.id;
    ELSE
        UPDATE ref_value SET value = p_new_value, version = version + 1, updated_at = now()
         WHERE id = before_row.id;
        CASE p_kind
        WHEN 'township_kind' THEN
            UPDATE township SET kind = p_new_value WHERE kind = p_value;
        WHEN 'cluster' THEN
            UPDATE enterprise SET cluster = p_new_value WHERE cluster = p_value;
            UPDATE project SET cluster = p_new_value WHERE cluster = p_value;
        WHEN 'label' THEN
            UPDATE enterprise
               SET labels = CASE WHEN p_new_value = ANY (labels) THEN array_remove(labels, p_value)
                                 ELSE array_replace(labels, p_value, p_new_value) END
             WHERE labels @> ARRAY[p_value];
        WHEN 'production_status' THEN
            UPDATE status_report SET production_status = p_new_value
             WHERE production_status = p_value;
        WHEN 'problem_category' THEN
            UPDATE problem SET category = p_new_value WHERE category = p_value;
        ELSE
            NULL;  -- enterprise_status is fixed (refused above)
        END CASE;
    END CASE;
    PERFORM set_config('bb.ref_rewriting', '', true);
    out_row := bb_ref_read(p_kind, p_new_value);
    RETURN bb_write_done(u.id, p_addr, m, p_key, CASE WHEN p_kind = 'township' THEN 'township'
                                                      ELSE 'ref_value' END,
                         out_row.id, to_jsonb(before_row), out_row);
END
$$;

-- ref.retire. p_retired true (the default) retires the value, false brings
-- it back. Asking for the state it is in already changes nothing (no new
-- version, no audit row) and answers the value.
CREATE FUNCTION bb_ref_retire(p_actor bigint, p_addr text, p_key text, p_kind text,
                              p_value text, p_retired boolean)
RETURNS ref_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'ref.retire';
    u app_user := bb_ref_actor(p_actor, m, p_kind);
    retire constant boolean := coalesce(p_retired, true);
    prev jsonb;
    before_row ref_wire;
    out_row ref_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_kind, p_value, retire)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::ref_wire, prev);
    END IF;
    before_row := bb_ref_find(p_kind, p_value);
    PERFORM bb_ref_check_fixed(p_kind);
    IF before_row.retired IS NOT DISTINCT FROM retire THEN
        PERFORM bb_idem_finish(m, p_key, to_jsonb(before_row));   -- no-op without a key
        RETURN before_row;
    END IF;
    IF p_kind = 'township' THEN
        UPDATE township
           SET retired_at = CASE WHEN retire THEN now() END, version = version + 1,
               updated_at = now()
         WHERE id = before_row.id;
    ELSE
        UPDATE ref_value
           SET retired_at = CASE WHEN retire THEN now() END, version = version + 1,
               updated_at = now()
         WHERE id = before_row.id;
    END IF;
    out_row := bb_ref_read(p_kind, p_value);
    RETURN bb_write_done(u.id, p_addr, m, p_key, CASE WHEN p_kind = 'township' THEN 'township'
                                                      ELSE 'ref_value' END,
                         out_row.id, to_jsonb(before_row), out_row);
END
$$;

-- ---- status.import (014): the production status of each new row ----

-- A row of status.import that is not an exact repeat of a stored report
-- has its production status checked before it is compared with the other
-- reports of that day and reporter, so a wrong status is answered as a
-- wrong status (as when the server checked it against its own list), not
-- as a clash. An exact repeat stays "unchanged" even if its status has been
-- retired since.
CREATE OR REPLACE FUNCTION bb_status_import_check_new(p_status text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    LOCK TABLE status_report IN ROW EXCLUSIVE MODE;  -- before the check: see ref.rename
    SELECT bb_ref_check('production_status', p_status, 'production_status');
$$;
