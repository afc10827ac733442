-- pgbench: baobaod's group-commit statement (server/status.c: one call of
-- bb_status_submit_batch for the submits gathered in one loop turn) with
-- :n rows, every row with its own idempotency key and reporter, as
-- baobao-bench's submits. Not one of the issue's comparisons: the database
-- side of issue 15's profile (docs/benchmarks.md), run with one client and
-- pg_stat_statements.track = all to see the statements inside the function.
-- Variables: actor (an app_user id with role supervisor or township_staff),
-- n (rows per call, e.g. -D n=8 or -D n=64).
\set k random(1, 1000000000000000)
SELECT count(*) FILTER (WHERE error_code IS NULL) FROM bb_status_submit_batch(
  array_fill(:actor::bigint, ARRAY[:n::int]), array_fill('127.0.0.1'::text, ARRAY[:n::int]),
  ARRAY(SELECT 'pgb-' || :client_id || '-' || :k || '-' || g FROM generate_series(1, :n::int) g),
  ARRAY(SELECT 1 + (random() * 4999)::bigint FROM generate_series(1, :n::int) g),
  ARRAY(SELECT DATE '2020-01-01' + (random() * 1799)::int FROM generate_series(1, :n::int) g),
  ARRAY(SELECT '赵敏 ' || :k || '-' || g FROM generate_series(1, :n::int) g),
  array_fill('正常'::text, ARRAY[:n::int]), array_fill(1200000::bigint, ARRAY[:n::int]),
  array_fill(35, ARRAY[:n::int]), array_fill(5, ARRAY[:n::int]),
  array_fill('生产正常，订单饱满。'::text, ARRAY[:n::int]), 'Asia/Shanghai');
