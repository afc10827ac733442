-- pgbench: one page of enterprise.list filtered by township: the statement
-- baobaod runs (server/enterprise.c, st_list) with the filters it leaves
-- out written as NULL, after = 0 and limit 21 (the server asks one row more
-- than the page of 20 to learn whether a next page exists). pgbench's \set
-- makes numbers only, so the township is a -D variable (-D township=赤壁镇):
-- every township holds the same number of enterprises in the generated
-- data, so one township costs what a random one does.
SELECT w.* FROM (
  SELECT e.id FROM enterprise e
   WHERE (:township::text IS NULL OR e.township_id = (SELECT t.id FROM township t WHERE t.name = :township))
     AND (NULL::text IS NULL OR e.cluster = NULL::text)
     AND (NULL::text IS NULL OR e.status = NULL::text)
     AND (NULL::text IS NULL OR e.labels @> ARRAY[NULL::text])
     AND (NULL::text IS NULL OR strpos(e.name, NULL::text) > 0)
     AND e.id > 0::bigint
   ORDER BY e.id LIMIT 21) k
  JOIN enterprise_wire w ON w.id = k.id
 ORDER BY w.id;
