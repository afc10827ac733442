-- gen-data.sql: the benchmark's data set, generated inside PostgreSQL with
-- generate_series (no rows cross the client connection): :n_enterprises
-- enterprises spread over the 17 townships and 8 clusters, with valid
-- credit codes, and :n_reports status reports spread over them and over
-- 2020-01-01 .. 2024-12-06; then VACUUM ANALYZE.
--
-- For: scripts/bench, on a freshly migrated, EMPTY database (ids then run
-- 1..n_enterprises, which the bench program relies on for "a random
-- existing id"). Not for: demo data (data/demo.sql) or tests.
--
--   psql -v ON_ERROR_STOP=1 -v n_enterprises=5000 -v n_reports=1000000 \
--        -d CONNINFO -f bench/gen-data.sql
--
-- The rows go through every CHECK and foreign key of sql/001_schema.sql,
-- like rows written by baobaod.

\set ON_ERROR_STOP 1

-- The unified social credit code (GB 32100-2015) of enterprise n:
-- "91421281" (an enterprise, kind 1, 赤壁市 421281) + n in 9 digits + the
-- check character, computed as bb_credit_code_valid checks it. A session
-- function (pg_temp): nothing is left in the schema.
CREATE FUNCTION pg_temp.bench_credit_code(n int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    WITH body AS (SELECT '91421281' || lpad(n::text, 9, '0') AS b),
    total AS (
        SELECT b, sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(b, i, 1)) - 1)
                      * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])[i]) AS t
          FROM body, generate_series(1, 17) AS i
         GROUP BY b)
    SELECT b || substr('0123456789ABCDEFGHJKLMNPQRTUWXY', ((31 - (t % 31)) % 31)::int + 1, 1)
      FROM total
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM enterprise) OR EXISTS (SELECT 1 FROM status_report) THEN
        RAISE EXCEPTION 'gen-data.sql wants an empty database (enterprise or status_report has rows)';
    END IF;
END
$$;

BEGIN;

INSERT INTO enterprise (name, credit_code, township_id, cluster, labels, status)
SELECT t.name || '企业' || g,
       pg_temp.bench_credit_code(g),
       t.id,
       (ARRAY['青砖茶', '电子信息', '纺织服装', '电力能源', '安全应急', '大健康', '新材料', '节能环保'])[1 + g % 8],
       CASE g % 4 WHEN 0 THEN ARRAY['规上'] WHEN 1 THEN ARRAY['规上', '高新技术企业']
                  WHEN 2 THEN ARRAY['小微入规培育库'] ELSE '{}'::text[] END,
       (ARRAY['在营', '在营', '在营', '半停产', '筹建'])[1 + g % 5]
  FROM generate_series(1, :n_enterprises) AS g
  JOIN township t ON t.id = 1 + g % 17
 ORDER BY g;

INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                           output_value, employees, labour_shortage, note)
SELECT 1 + g % :n_enterprises,
       DATE '2020-01-01' + (g / :n_enterprises) % 1800,
       (ARRAY['赵敏', '李强', '王芳', '张伟', '刘洋'])[1 + g % 5],
       (ARRAY['正常', '正常', '正常', '半停产', '停产', '在建'])[1 + g % 6],
       (g % 997) * 10000,
       10 + g % 500,
       g % 7,
       CASE WHEN g % 3 = 0 THEN '生产正常，订单饱满。' END
  FROM generate_series(1, :n_reports) AS g;

COMMIT;

VACUUM ANALYZE;
