-- pgbench: a primary-key lookup of one enterprise, the very statement
-- baobaod's enterprise.get runs (server/enterprise.c, st_get). Variables: n_ent.
\set id random(1, :n_ent)
SELECT * FROM enterprise_wire WHERE id = :id;
