-- pgbench: one status report per transaction, a single-row INSERT (what
-- status.submit is compared with). Variables: n_ent (-D n_ent=5000).
\set eid random(1, :n_ent)
\set d random(0, 1799)
INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                           output_value, employees, labour_shortage, note)
VALUES (:eid, DATE '2020-01-01' + :d::int, '赵敏', '正常', 1200000, 35, 5, '生产正常，订单饱满。');
