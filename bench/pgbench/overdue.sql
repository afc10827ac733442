-- pgbench: the first page of overdue.milestones filtered by township: the
-- statement baobaod runs (server/overdue.c, st_milestones: the stored
-- function bb_overdue_milestones of sql/011_overdue.sql) with the
-- arguments baobaod passes for {township, limit: 20}: today, the overdue
-- window [-infinity, today), the first-page cursor ('-infinity', 0, ''),
-- the township, no other filter (NULL), the read scope of a supervisor
-- (NULL), and 21 rows (one more than the page, to learn whether a next
-- page exists). pgbench's \set makes numbers only, so the township is a -D
-- variable (-D township=赤壁镇; the generated projects are spread evenly
-- over the townships, so one township costs what a random one does) and
-- "today" is computed here as baobaod computes it (the date in
-- Asia/Shanghai) rather than passed in.
SELECT * FROM bb_overdue_milestones((now() AT TIME ZONE 'Asia/Shanghai')::date,
                                    '-infinity'::date,
                                    (now() AT TIME ZONE 'Asia/Shanghai')::date,
                                    '-infinity'::date, 0::bigint, ''::text, :township::text,
                                    NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                                    NULL::bigint, 21::int);
