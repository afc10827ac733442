-- gen-data.sql: the benchmark's data set, generated inside PostgreSQL with
-- generate_series (no rows cross the client connection): :n_enterprises
-- enterprises spread over the 17 townships and 8 clusters, with valid
-- credit codes, and :n_reports status reports spread over them and over
-- 2020-01-01 .. 2024-12-06; then (issue 5, the overdue workload)
-- :n_projects investment projects (default 100000) with their five
-- milestones each, units, officials, 包保 assignments of projects and of
-- key enterprises, and problems (诉求); then VACUUM ANALYZE.
--
-- For: scripts/bench, on a freshly migrated, EMPTY database (ids then run
-- 1..n_enterprises, which the bench program relies on for "a random
-- existing id"). Not for: demo data (data/demo.sql) or tests.
--
--   psql -v ON_ERROR_STOP=1 -v n_enterprises=5000 -v n_reports=1000000 \
--        [-v n_projects=100000] -d CONNINFO -f bench/gen-data.sql
--
-- The rows go through every CHECK and foreign key of sql/001_schema.sql
-- and sql/007_projects.sql, like rows written by baobaod.

\if :{?n_projects}
\else
\set n_projects 100000
\endif

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
    IF EXISTS (SELECT 1 FROM enterprise) OR EXISTS (SELECT 1 FROM status_report)
       OR EXISTS (SELECT 1 FROM project) OR EXISTS (SELECT 1 FROM unit) THEN
        RAISE EXCEPTION 'gen-data.sql wants an empty database (enterprise, status_report, project or unit has rows)';
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

-- ---- issue 5: the data of the overdue workload ----
--
-- "Today" of the data is today in Asia/Shanghai when it is generated, so
-- that whenever the benchmark runs a realistic share of the milestones
-- and problems are late: planned dates spread from about two years ago
-- to about three years ahead.
--
-- Units: the 17 township governments and 13 bureaus and utilities.
INSERT INTO unit (name)
SELECT t.name || '人民政府' FROM township t ORDER BY t.id;
INSERT INTO unit (name)
SELECT u FROM unnest(ARRAY['科信局', '招商办', '发改局', '自然资源和规划局', '住建局',
                           '生态环境局', '市场监管局', '人社局', '财政局', '商务局',
                           '税务局', '供电公司', '水务集团']) WITH ORDINALITY AS x(u, i)
 ORDER BY i;

-- Officials: the first 40 are city leaders (包保市领导), the others
-- bureau and township cadres (联络员), each in a unit.
INSERT INTO official (name, title, unit_id, phone)
SELECT CASE WHEN g <= 40 THEN '市领导' ELSE '干部' END || g,
       CASE WHEN g <= 40 THEN '副市长' ELSE '科员' END,
       (SELECT min(id) FROM unit) + g % 30,
       '1380000' || lpad(g::text, 4, '0')
  FROM generate_series(1, 2000) AS g
 ORDER BY g;

-- Projects: every township alike (1 + g % 17), so the bench's random
-- township costs what pgbench's fixed one does; one in three has an
-- investor enterprise; stages spread over the lifecycle, a few ended or
-- paused (with the reason the CHECK wants).
INSERT INTO project (name, enterprise_id, cluster, planned_investment, priority, lead_unit_id,
                     township_id, stage, stage_reason, paused_from)
SELECT '项目' || g,
       CASE WHEN g % 3 = 0 THEN 1 + g % :n_enterprises END,
       (ARRAY['青砖茶', '电子信息', '纺织服装', '电力能源', '安全应急', '大健康', '新材料', '节能环保'])[1 + g % 8],
       (10 + g % 300)::bigint * 10000000,
       (ARRAY['省级重点', '市级重点', '市级重点', '一般', '一般'])[1 + g % 5],
       (SELECT min(id) FROM unit) + 17 + g % 13,
       1 + g % 17,
       s.stage,
       CASE WHEN s.stage IN ('终止', '暂停') THEN '资金未到位' END,
       CASE WHEN s.stage = '暂停' THEN '开工' END
  FROM generate_series(1, :n_projects) AS g,
       LATERAL (SELECT (ARRAY['信息收集', '研判', '洽谈', '签约', '签约', '注册', '注册', '开工',
                              '开工', '开工', '投产', '投产', '竣工', '终止', '暂停',
                              '洽谈', '签约', '开工', '注册', '投产'])[1 + (g * 7) % 20] AS stage) s
 ORDER BY g;

-- Five milestones per project, 90 days apart from a first date spread over
-- about three years around today. A node the project's stage has reached
-- has an actual date (never in the future); the others are open.
INSERT INTO project_milestone (project_id, node, planned_date, actual_date)
SELECT p.id, n.node,
       d.planned,
       CASE WHEN bb_stage_rank(p.stage) >= n.rank + 3 OR (p.stage = '暂停' AND n.rank <= 2)
            THEN least(d.planned + (p.id % 20)::int - 5, d.today) END
  FROM project p
 CROSS JOIN (VALUES ('签约', 1), ('注册', 2), ('开工', 3), ('投产', 4), ('竣工', 5)) AS n(node, rank)
 CROSS JOIN LATERAL (
       SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date AS today,
              (now() AT TIME ZONE 'Asia/Shanghai')::date - 900 + ((p.id * 37) % 1100)::int
                  + (n.rank - 1) * 90 AS planned) d
 ORDER BY p.id, n.rank;

-- Assignments of projects: a city leader (包保市领导) and a 责任单位 for
-- key projects, a liaison (联络员) for every project; one in ten liaisons
-- was replaced last year (an ended assignment, then the current one).
INSERT INTO assignment (official_id, unit_id, project_id, role, period_start, period_end)
SELECT x.official_id, x.unit_id, p.id, x.role, x.period_start, x.period_end
  FROM project p
 CROSS JOIN LATERAL (
       SELECT 1 + p.id % 40 AS official_id, NULL::bigint AS unit_id, '包保市领导' AS role,
              DATE '2023-01-01' AS period_start, NULL::date AS period_end
        WHERE p.priority <> '一般'
       UNION ALL
       SELECT NULL, (SELECT min(id) FROM unit) + 17 + (p.id * 7) % 13, '责任单位',
              DATE '2023-01-01', NULL
        WHERE p.priority <> '一般'
       UNION ALL
       SELECT 41 + p.id % 1960, NULL, '联络员', DATE '2023-01-01',
              CASE WHEN p.id % 10 = 0 THEN DATE '2024-12-31' END
       UNION ALL
       SELECT 41 + (p.id * 13) % 1960, NULL, '联络员', DATE '2025-01-01', NULL
        WHERE p.id % 10 = 0) x
 ORDER BY p.id;

-- Assignments of key enterprises (规上): a liaison each.
INSERT INTO assignment (official_id, enterprise_id, role, period_start)
SELECT 41 + e.id % 1960, e.id, '联络员', DATE '2023-01-01'
  FROM enterprise e
 WHERE e.labels && ARRAY['规上']
 ORDER BY e.id;

-- Problems: one for every five projects, over the enterprises, deadlines
-- from about a year ago to two months ahead, one in four closed (确认).
INSERT INTO problem (enterprise_id, category, description, assignee_unit_id,
                     assignee_official_id, deadline, state, closed_at)
SELECT 1 + g % :n_enterprises,
       (ARRAY['用地', '用工', '融资', '用电', '审批', '物流', '市场', '其他'])[1 + g % 8],
       '企业反映问题' || g || '，请协调解决。',
       (SELECT min(id) FROM unit) + g % 30,
       CASE WHEN g % 2 = 0 THEN 41 + g % 1960 END,
       (now() AT TIME ZONE 'Asia/Shanghai')::date - 365 + (g * 11) % 425,
       s.state,
       CASE WHEN s.state = '确认' THEN now() END
  FROM generate_series(1, greatest(:n_projects / 5, 1)) AS g,
       LATERAL (SELECT (ARRAY['受理', '交办', '办理', '反馈', '确认'])[1 + g % 5] AS state) s
 ORDER BY g;

COMMIT;

VACUUM ANALYZE;
