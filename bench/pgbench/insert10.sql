-- pgbench: ten status reports per transaction in ONE INSERT statement: what
-- group commit could approach at best (its rate is reported in rows/s,
-- ten per transaction). Variables: n_ent.
\set e1 random(1, :n_ent)
\set e2 random(1, :n_ent)
\set e3 random(1, :n_ent)
\set e4 random(1, :n_ent)
\set e5 random(1, :n_ent)
\set e6 random(1, :n_ent)
\set e7 random(1, :n_ent)
\set e8 random(1, :n_ent)
\set e9 random(1, :n_ent)
\set e10 random(1, :n_ent)
\set d random(0, 1799)
INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                           output_value, employees, labour_shortage, note)
VALUES (:e1, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e2, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e3, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e4, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e5, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e6, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e7, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e8, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e9, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。'),
       (:e10, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。');
