-- 001_schema.sql: baobao's tables: townships, industry clusters, enterprises,
-- status reports, and the idempotency record of writes.
--
-- For: the data model and its CHECKs, a second wall behind the server's
-- edge checks (the server refuses bad input first, with a field and a
-- reason; these constraints catch whatever else writes to the database).
-- Not for: the write logic (002_functions.sql on) or query text (next to the C
-- code that runs it). Applied once by server/migrate.c inside a transaction;
-- do not put BEGIN/COMMIT here. Money is bigint yuan, never float/numeric.

-- The unified social credit code check (GB 32100-2015), the same rules as
-- proto/bb_creditcode.c: 18 characters of 0-9 A-Z without I O S V Z; 1st an
-- authority (1-9, A, N, Y), 2nd a kind 1-9, 3rd-8th digits starting with a
-- province code, 18th the check character.
CREATE FUNCTION bb_credit_code_valid(code text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHJKLMNPQRTUWXY';
    weights constant int[] := ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    total int := 0;
    v int;
    chk int;
BEGIN
    IF length(code) <> 18 OR code !~ '^[0-9A-HJ-NP-RT-UW-Y]{18}$' THEN
        RETURN false;
    END IF;
    IF substr(code, 1, 1) !~ '^[1-9ANY]$' OR substr(code, 2, 1) !~ '^[1-9]$' THEN
        RETURN false;
    END IF;
    IF substr(code, 3, 6) !~ '^[0-9]{6}$'
       OR substr(code, 3, 2) NOT IN ('10', '11', '12', '13', '14', '15', '21', '22', '23',
                                     '31', '32', '33', '34', '35', '36', '37',
                                     '41', '42', '43', '44', '45', '46',
                                     '50', '51', '52', '53', '54',
                                     '61', '62', '63', '64', '65', '71', '81', '82') THEN
        RETURN false;
    END IF;
    FOR i IN 1..17 LOOP
        v := strpos(alphabet, substr(code, i, 1)) - 1;
        total := total + v * weights[i];
    END LOOP;
    chk := 31 - (total % 31);
    IF chk = 31 THEN
        chk := 0;
    END IF;
    RETURN strpos(alphabet, substr(code, 18, 1)) - 1 = chk;
END
$$;

-- True when s has a control character (U+0000-U+001F, U+007F-U+009F).
CREATE FUNCTION bb_has_control(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT s ~ '[\x01-\x1f\x7f-\x9f]'
$$;

-- Labels: 0-16, each 1-32 characters, no control characters (rowpack.c
-- relies on that: it reads labels joined with a newline), no NULLs, no
-- duplicates.
CREATE FUNCTION bb_labels_valid(labels text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_ndims(labels), 1) = 1
       AND cardinality(labels) <= 16
       AND NOT EXISTS (SELECT 1 FROM unnest(labels) AS l(v)
                        WHERE v IS NULL OR length(v) NOT BETWEEN 1 AND 32 OR bb_has_control(v))
       AND (SELECT count(DISTINCT v) FROM unnest(labels) AS l(v)) = cardinality(labels)
$$;

CREATE TABLE township (
    id smallint PRIMARY KEY,
    name text NOT NULL UNIQUE,
    kind text NOT NULL CHECK (kind IN ('街道', '镇', '乡', '园区'))
);

-- The townships, streets and parks are a county's data, not the schema's:
-- data/reference/<county>.sql (015_reference_data.sql says how).

CREATE TABLE industry_cluster (
    name text PRIMARY KEY
);

CREATE TABLE enterprise (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND NOT bb_has_control(name)),
    credit_code text NOT NULL CONSTRAINT enterprise_credit_code_key UNIQUE
        CONSTRAINT enterprise_credit_code_valid CHECK (bb_credit_code_valid(credit_code)),
    township_id smallint NOT NULL REFERENCES township (id),
    cluster text NULL REFERENCES industry_cluster (name),
    labels text[] NOT NULL DEFAULT '{}' CHECK (bb_labels_valid(labels)),
    status text NOT NULL DEFAULT '在营' CHECK (status IN ('在营', '半停产', '停产', '筹建', '注销')),
    version int NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- enterprise.list filters; each ends in id for the keyset order.
CREATE INDEX enterprise_township_idx ON enterprise (township_id, id);
CREATE INDEX enterprise_cluster_idx ON enterprise (cluster, id);
CREATE INDEX enterprise_status_idx ON enterprise (status, id);
CREATE INDEX enterprise_labels_idx ON enterprise USING gin (labels);

CREATE TABLE status_report (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id bigint NOT NULL REFERENCES enterprise (id),
    report_date date NOT NULL CHECK (report_date >= DATE '2000-01-01'),
    reporter text NOT NULL CHECK (length(reporter) BETWEEN 1 AND 50 AND NOT bb_has_control(reporter)),
    production_status text NOT NULL CHECK (production_status IN ('正常', '半停产', '停产', '在建')),
    output_value bigint NULL CHECK (output_value BETWEEN 0 AND 1000000000000000),
    employees int NULL CHECK (employees BETWEEN 0 AND 1000000),
    labour_shortage int NULL CHECK (labour_shortage BETWEEN 0 AND 1000000),
    note text NULL CHECK (length(note) <= 2000
                          AND note !~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- status.list: newest first within one enterprise.
CREATE INDEX status_report_enterprise_idx
    ON status_report (enterprise_id, report_date DESC, id DESC);

-- One row per (method, key) of a write that carried an idempotency key,
-- written in the write's own transaction: the primary key makes a second
-- writer with the same key wait for the first and then see its row.
CREATE TABLE idempotency (
    method text NOT NULL,
    key text NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 128),
    request_hash text NOT NULL,
    result jsonb NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (method, key)
);
