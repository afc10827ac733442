-- pgbench: baobaod's own status.submit statement (server/status.c,
-- st_submit: the plpgsql function bb_status_submit with an idempotency key),
-- one per transaction. Not one of the issue's comparisons: it shows what the
-- database part of a submit costs without baobaod in front of it.
-- Variables: n_ent, actor (the user id the submits are made as: the
-- function checks the user and writes an audit row, as baobaod's do).
-- The reporter carries the key, as baobao-bench's do: the same enterprise,
-- date and reporter twice is refused as a duplicate report (sql/020).
\set eid random(1, :n_ent)
\set d random(0, 1799)
\set k random(1, 1000000000000000)
SELECT * FROM bb_status_submit(:actor, '127.0.0.1', 'pgbench-' || :client_id || '-' || :k, :eid,
                               DATE '2020-01-01' + :d::int, '赵敏 ' || :k, '正常',
                               1200000, 35, 5, '生产正常，订单饱满。', 'Asia/Shanghai');
