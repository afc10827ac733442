-- 008_project_fns.sql: the functions of the project.* methods (issue 5):
-- the Project as the wire shows it, and one function per write so each
-- write is ONE statement with its idempotency record, its history rows
-- (project_stage_event, milestone_plan_event) and its audit row.
--
-- For: bb_project_create, bb_project_update, bb_project_move_stage,
-- bb_project_set_milestone, bb_project_history and their helpers. The
-- lifecycle rules live here (proto/PROTOCOL.md, "project.move_stage" and
-- "project.set_milestone"):
--   - stages move forward only, one or more at a time; a jump records the
--     stages it passed over in project_stage_event.skipped;
--   - 终止 and 暂停 need a reason; 暂停 resumes only to the stage it was
--     paused at (paused_from) or a later one; 终止 and 竣工 are final;
--   - an actual date is not after today (the server's today, passed in:
--     never CURRENT_DATE, whose zone is the session's, not the city's);
--     投产's actual date is not before 开工's;
--   - changing a planned date that was set needs a reason; every change of
--     a planned date writes milestone_plan_event (old, new, who, why);
--   - an actual date for a node the project has not reached moves the
--     stage forward to that node (a stage event, the skipped stages
--     recorded), unless the project is paused or ended.
-- Writes are for supervisors only (bb_project_actor: BB401 for a user gone
-- or disabled, BB403 for any other role: a second wall behind the
-- server's gate). Errors as in 002: BB400 invalid_argument, BB404
-- not_found, BB409 version_conflict, BB422 idempotency_key_reused, with
-- the argument in COLUMN.
-- Not for: reads with nothing to decide (get and list: their SELECTs sit
-- next to the C code in server/project.c), the tables (007).
--
-- Plans: every write probes growing tables by key only, so each runs with
-- enable_seqscan off (see the end of 003_group_commit.sql).

-- The milestone nodes in lifecycle order (also the order of `milestones`
-- in a Project).
CREATE FUNCTION bb_project_nodes() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['签约', '注册', '开工', '投产', '竣工']
$$;

-- The ranked stages strictly between two ranks, in order: what a jump
-- from rank p_from to rank p_to passes over.
CREATE FUNCTION bb_stages_between(p_from int, p_to int) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce((ARRAY['信息收集', '研判', '洽谈', '签约', '注册', '开工', '投产',
                           '竣工'])[p_from + 1 : p_to - 1], '{}')
$$;

-- A Project as the wire shows it, column names = wire keys, then the
-- milestone plan as ten columns (planned and actual date of each node in
-- bb_project_nodes order) that server/project.c packs as `milestones`.
-- The row type is also the return type of the write functions and what
-- an idempotency record stores.
CREATE VIEW project_wire AS
SELECT p.id,
       p.name,
       p.enterprise_id,
       p.cluster,
       p.planned_investment,
       p.priority,
       p.lead_unit_id,
       t.name AS township,
       p.stage,
       p.stage_reason,
       p.paused_from,
       p.version,
       bb_ts(p.created_at) AS created_at,
       bb_ts(p.updated_at) AS updated_at,
       m.planned_1, m.actual_1, m.planned_2, m.actual_2, m.planned_3, m.actual_3,
       m.planned_4, m.actual_4, m.planned_5, m.actual_5
  FROM project p
  JOIN township t ON t.id = p.township_id
  CROSS JOIN LATERAL (
        SELECT to_char(max(pm.planned_date) FILTER (WHERE pm.node = '签约'), 'YYYY-MM-DD') AS planned_1,
               to_char(max(pm.actual_date) FILTER (WHERE pm.node = '签约'), 'YYYY-MM-DD') AS actual_1,
               to_char(max(pm.planned_date) FILTER (WHERE pm.node = '注册'), 'YYYY-MM-DD') AS planned_2,
               to_char(max(pm.actual_date) FILTER (WHERE pm.node = '注册'), 'YYYY-MM-DD') AS actual_2,
               to_char(max(pm.planned_date) FILTER (WHERE pm.node = '开工'), 'YYYY-MM-DD') AS planned_3,
               to_char(max(pm.actual_date) FILTER (WHERE pm.node = '开工'), 'YYYY-MM-DD') AS actual_3,
               to_char(max(pm.planned_date) FILTER (WHERE pm.node = '投产'), 'YYYY-MM-DD') AS planned_4,
               to_char(max(pm.actual_date) FILTER (WHERE pm.node = '投产'), 'YYYY-MM-DD') AS actual_4,
               to_char(max(pm.planned_date) FILTER (WHERE pm.node = '竣工'), 'YYYY-MM-DD') AS planned_5,
               to_char(max(pm.actual_date) FILTER (WHERE pm.node = '竣工'), 'YYYY-MM-DD') AS actual_5
          FROM project_milestone pm
         WHERE pm.project_id = p.id) m;

-- The Project as the audit trail keeps it: the wire object, `milestones`
-- an array of {node, planned_date, actual_date} (as the client sees it).
CREATE FUNCTION bb_project_json(w project_wire) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'id', w.id, 'name', w.name, 'enterprise_id', w.enterprise_id, 'cluster', w.cluster,
        'planned_investment', w.planned_investment, 'priority', w.priority,
        'lead_unit_id', w.lead_unit_id, 'township', w.township, 'stage', w.stage,
        'stage_reason', w.stage_reason, 'paused_from', w.paused_from, 'version', w.version,
        'created_at', w.created_at, 'updated_at', w.updated_at,
        'milestones', jsonb_build_array(
            jsonb_build_object('node', '签约', 'planned_date', w.planned_1, 'actual_date', w.actual_1),
            jsonb_build_object('node', '注册', 'planned_date', w.planned_2, 'actual_date', w.actual_2),
            jsonb_build_object('node', '开工', 'planned_date', w.planned_3, 'actual_date', w.actual_3),
            jsonb_build_object('node', '投产', 'planned_date', w.planned_4, 'actual_date', w.actual_4),
            jsonb_build_object('node', '竣工', 'planned_date', w.planned_5, 'actual_date', w.actual_5)))
$$;

CREATE FUNCTION bb_project_read(p_id bigint) RETURNS project_wire
LANGUAGE sql STABLE AS $$
    SELECT w.* FROM project_wire w WHERE w.id = p_id
$$;

-- The caller of a project write: an enabled supervisor.
CREATE FUNCTION bb_project_actor(p_actor bigint, p_method text) RETURNS app_user
LANGUAGE sql STABLE AS $$
    SELECT bb_actor_role(p_actor, p_method, '{supervisor}')
$$;

-- The references a project names: an enterprise and a lead unit that
-- exist (BB404 with the argument), a known cluster (BB400).
CREATE FUNCTION bb_project_check_refs(p_enterprise_id bigint, p_lead_unit_id bigint,
                                      p_cluster text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_enterprise_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM enterprise e WHERE e.id = p_enterprise_id) THEN
        RAISE EXCEPTION 'enterprise % does not exist', p_enterprise_id
            USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
    END IF;
    PERFORM bb_check_cluster(p_cluster);
    IF p_lead_unit_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM unit un WHERE un.id = p_lead_unit_id) THEN
        RAISE EXCEPTION 'unit % does not exist', p_lead_unit_id
            USING ERRCODE = 'BB404', COLUMN = 'lead_unit_id';
    END IF;
END
$$;

-- project.create. p_stage NULL = 信息收集 (a ranked stage: 终止 and 暂停
-- are reached through move_stage, with a reason). Writes the five
-- milestone rows (no dates) and the first stage event (from nil).
CREATE FUNCTION bb_project_create(p_actor bigint, p_addr text, p_key text, p_name text,
                                  p_enterprise_id bigint, p_cluster text,
                                  p_planned_investment bigint, p_priority text,
                                  p_lead_unit_id bigint, p_township text, p_stage text)
RETURNS project_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'project.create';
    u app_user := bb_project_actor(p_actor, m);
    stage_v text := coalesce(p_stage, '信息收集');
    prev jsonb;
    tid smallint;
    new_id bigint;
    out_row project_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_name, p_enterprise_id, p_cluster, p_planned_investment, p_priority,
        p_lead_unit_id, p_township, stage_v)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::project_wire, prev);
    END IF;
    IF bb_stage_rank(stage_v) IS NULL THEN
        RAISE EXCEPTION 'stage: a project starts at a stage of the lifecycle (终止 and 暂停 need project.move_stage)'
            USING ERRCODE = 'BB400', COLUMN = 'stage';
    END IF;
    PERFORM bb_project_check_refs(p_enterprise_id, p_lead_unit_id, p_cluster);
    tid := bb_township_in_scope(u, p_township);
    INSERT INTO project (name, enterprise_id, cluster, planned_investment, priority,
                         lead_unit_id, township_id, stage)
    VALUES (p_name, p_enterprise_id, p_cluster, p_planned_investment, p_priority,
            p_lead_unit_id, tid, stage_v)
    RETURNING id INTO new_id;
    INSERT INTO project_milestone (project_id, node)
    SELECT new_id, n FROM unnest(bb_project_nodes()) AS n;
    INSERT INTO project_stage_event (project_id, user_id, from_stage, to_stage)
    VALUES (new_id, u.id, NULL, stage_v);
    out_row := bb_project_read(new_id);
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'project', new_id, NULL,
                         out_row, bb_project_json(out_row));
END
$$;

-- The project row of a write, locked (FOR UPDATE orders concurrent
-- writes), or BB404 field id. Writers are supervisors, who see every
-- township; the scope test stays as the same wall as elsewhere.
CREATE FUNCTION bb_project_lock(u app_user, p_id bigint) RETURNS project
LANGUAGE plpgsql AS $$
DECLARE
    cur project;
BEGIN
    SELECT * INTO cur FROM project WHERE id = p_id FOR UPDATE;
    IF NOT FOUND OR NOT bb_in_scope(u, cur.township_id) THEN
        RAISE EXCEPTION 'project % does not exist', p_id USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    RETURN cur;
END
$$;

CREATE FUNCTION bb_project_check_version(cur project, p_version int) RETURNS void
LANGUAGE sql IMMUTABLE AS $$
    SELECT bb_check_row('project', cur.id, true, cur.version, p_version)
$$;

-- project.update. NULL name/investment/priority/township = unchanged;
-- enterprise_id, cluster and lead_unit_id change only when their p_set_*
-- flag is true (then NULL clears). Order: actor, key, existence, version,
-- references.
CREATE FUNCTION bb_project_update(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                  p_version int, p_name text,
                                  p_set_enterprise boolean, p_enterprise_id bigint,
                                  p_set_cluster boolean, p_cluster text,
                                  p_planned_investment bigint, p_priority text,
                                  p_set_lead_unit boolean, p_lead_unit_id bigint,
                                  p_township text)
RETURNS project_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'project.update';
    u app_user := bb_project_actor(p_actor, m);
    prev jsonb;
    cur project;
    tid smallint;
    before_row project_wire;
    out_row project_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_name, p_set_enterprise, p_enterprise_id, p_set_cluster,
        p_cluster, p_planned_investment, p_priority, p_set_lead_unit, p_lead_unit_id,
        p_township)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::project_wire, prev);
    END IF;
    cur := bb_project_lock(u, p_id);
    PERFORM bb_project_check_version(cur, p_version);
    PERFORM bb_project_check_refs(CASE WHEN p_set_enterprise THEN p_enterprise_id END,
                                  CASE WHEN p_set_lead_unit THEN p_lead_unit_id END,
                                  CASE WHEN p_set_cluster THEN p_cluster END);
    tid := cur.township_id;
    IF p_township IS NOT NULL THEN
        tid := bb_township_in_scope(u, p_township);
    END IF;
    before_row := bb_project_read(p_id);
    UPDATE project
       SET name = coalesce(p_name, name),
           enterprise_id = CASE WHEN p_set_enterprise THEN p_enterprise_id ELSE enterprise_id END,
           cluster = CASE WHEN p_set_cluster THEN p_cluster ELSE cluster END,
           planned_investment = coalesce(p_planned_investment, planned_investment),
           priority = coalesce(p_priority, priority),
           lead_unit_id = CASE WHEN p_set_lead_unit THEN p_lead_unit_id ELSE lead_unit_id END,
           township_id = tid,
           version = version + 1,
           updated_at = now()
     WHERE id = p_id;
    out_row := bb_project_read(p_id);
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'project', p_id, bb_project_json(before_row),
                         out_row, bb_project_json(out_row));
END
$$;

-- The stage move rules, on the locked row: raises BB400 (field stage or
-- reason) for a move the lifecycle does not allow; returns the stages the
-- move passes over. Shared by move_stage and set_milestone's advance.
CREATE FUNCTION bb_project_check_move(cur project, p_stage text, p_reason text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    from_rank int := bb_stage_rank(cur.stage);
    to_rank int := bb_stage_rank(p_stage);
BEGIN
    IF cur.stage IN ('终止', '竣工') THEN
        RAISE EXCEPTION 'stage: project % is at %, a final stage: it moves no more', cur.id, cur.stage
            USING ERRCODE = 'BB400', COLUMN = 'stage';
    END IF;
    IF p_stage IN ('终止', '暂停') THEN
        IF p_stage = cur.stage THEN
            RAISE EXCEPTION 'stage: project % is already at %', cur.id, cur.stage
                USING ERRCODE = 'BB400', COLUMN = 'stage';
        END IF;
        IF p_reason IS NULL THEN
            RAISE EXCEPTION 'reason: moving to % needs a reason', p_stage
                USING ERRCODE = 'BB400', COLUMN = 'reason';
        END IF;
        RETURN '{}';
    END IF;
    IF cur.stage = '暂停' THEN
        -- Resuming: at the stage it was paused at, or later.
        from_rank := bb_stage_rank(cur.paused_from);
        IF to_rank < from_rank THEN
            RAISE EXCEPTION 'stage: project % was paused at %: it resumes there or later, not at %',
                cur.id, cur.paused_from, p_stage USING ERRCODE = 'BB400', COLUMN = 'stage';
        END IF;
        RETURN bb_stages_between(from_rank, to_rank);
    END IF;
    IF to_rank <= from_rank THEN
        RAISE EXCEPTION 'stage: project % is at %: stages move forward only, not to %',
            cur.id, cur.stage, p_stage USING ERRCODE = 'BB400', COLUMN = 'stage';
    END IF;
    RETURN bb_stages_between(from_rank, to_rank);
END
$$;

-- Applies a checked move to the locked row and writes its stage event.
CREATE FUNCTION bb_project_apply_move(u app_user, cur project, p_stage text, p_reason text,
                                      p_skipped text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE project
       SET stage = p_stage,
           stage_reason = CASE WHEN p_stage IN ('终止', '暂停') THEN p_reason END,
           paused_from = CASE WHEN p_stage = '暂停' THEN cur.stage END
     WHERE id = cur.id;
    INSERT INTO project_stage_event (project_id, user_id, from_stage, to_stage, skipped, reason)
    VALUES (cur.id, u.id, cur.stage, p_stage, p_skipped, p_reason);
END
$$;

-- project.move_stage. Order: actor, key, existence, version, the move.
CREATE FUNCTION bb_project_move_stage(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                      p_version int, p_stage text, p_reason text)
RETURNS project_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'project.move_stage';
    u app_user := bb_project_actor(p_actor, m);
    prev jsonb;
    cur project;
    skipped text[];
    before_row project_wire;
    out_row project_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_stage, p_reason)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::project_wire, prev);
    END IF;
    cur := bb_project_lock(u, p_id);
    PERFORM bb_project_check_version(cur, p_version);
    skipped := bb_project_check_move(cur, p_stage, p_reason);
    before_row := bb_project_read(p_id);
    PERFORM bb_project_apply_move(u, cur, p_stage, p_reason, skipped);
    UPDATE project SET version = version + 1, updated_at = now() WHERE id = p_id;
    out_row := bb_project_read(p_id);
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'project', p_id, bb_project_json(before_row),
                         out_row, bb_project_json(out_row));
END
$$;

-- project.set_milestone. p_set_planned / p_set_actual say whether the
-- argument was given (then NULL clears the date). p_today is the server's
-- today in its time_zone. Order: actor, key, existence, planned date
-- (reason), actual date (today, 投产 vs 开工), then the writes: the plan
-- event, the dates, the stage advance.
CREATE FUNCTION bb_project_set_milestone(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                         p_node text, p_set_planned boolean, p_planned date,
                                         p_set_actual boolean, p_actual date, p_reason text,
                                         p_today date)
RETURNS project_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'project.set_milestone';
    u app_user := bb_project_actor(p_actor, m);
    prev jsonb;
    cur project;
    ms project_milestone;
    other date;
    skipped text[];
    before_row project_wire;
    out_row project_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_node, p_set_planned, p_planned, p_set_actual, p_actual,
        p_reason)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::project_wire, prev);
    END IF;
    cur := bb_project_lock(u, p_id);
    SELECT * INTO ms FROM project_milestone WHERE project_id = p_id AND node = p_node;
    IF NOT FOUND THEN
        -- Cannot happen: create writes all five nodes.
        RAISE EXCEPTION 'project % has no milestone %', p_id, p_node;
    END IF;
    IF p_set_planned AND ms.planned_date IS NOT NULL
       AND ms.planned_date IS DISTINCT FROM p_planned AND p_reason IS NULL THEN
        RAISE EXCEPTION 'reason: the planned date of % is % already: replanning needs a reason',
            p_node, ms.planned_date USING ERRCODE = 'BB400', COLUMN = 'reason';
    END IF;
    IF p_set_actual AND p_actual IS NOT NULL THEN
        IF p_actual > p_today THEN
            RAISE EXCEPTION 'actual_date: % is after today (%)', p_actual, p_today
                USING ERRCODE = 'BB400', COLUMN = 'actual_date';
        END IF;
        IF p_node IN ('开工', '投产') THEN
            SELECT actual_date INTO other FROM project_milestone
             WHERE project_id = p_id AND node = CASE p_node WHEN '开工' THEN '投产' ELSE '开工' END;
            IF p_node = '投产' AND other IS NOT NULL AND p_actual < other THEN
                RAISE EXCEPTION 'actual_date: 投产 (%) cannot precede 开工 (%)', p_actual, other
                    USING ERRCODE = 'BB400', COLUMN = 'actual_date';
            END IF;
            IF p_node = '开工' AND other IS NOT NULL AND other < p_actual THEN
                RAISE EXCEPTION 'actual_date: 开工 (%) cannot come after 投产 (%)', p_actual, other
                    USING ERRCODE = 'BB400', COLUMN = 'actual_date';
            END IF;
        END IF;
    END IF;
    before_row := bb_project_read(p_id);
    IF p_set_planned AND ms.planned_date IS DISTINCT FROM p_planned THEN
        INSERT INTO milestone_plan_event (project_id, node, user_id, old_planned, new_planned,
                                          reason)
        VALUES (p_id, p_node, u.id, ms.planned_date, p_planned, p_reason);
    END IF;
    UPDATE project_milestone
       SET planned_date = CASE WHEN p_set_planned THEN p_planned ELSE planned_date END,
           actual_date = CASE WHEN p_set_actual THEN p_actual ELSE actual_date END
     WHERE project_id = p_id AND node = p_node;
    -- An actual date of a node the project has not reached yet: it has
    -- reached it now. A paused or ended project keeps its stage.
    IF p_set_actual AND p_actual IS NOT NULL AND bb_stage_rank(cur.stage) IS NOT NULL
       AND bb_stage_rank(cur.stage) < bb_stage_rank(p_node) THEN
        skipped := bb_project_check_move(cur, p_node, NULL);
        PERFORM bb_project_apply_move(u, cur, p_node, NULL, skipped);
    END IF;
    UPDATE project SET version = version + 1, updated_at = now() WHERE id = p_id;
    out_row := bb_project_read(p_id);
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'project', p_id, bb_project_json(before_row),
                         out_row, bb_project_json(out_row));
END
$$;

-- project.history: stage events and plan events of one project, newest
-- first (at, then stage events before plan events of the same instant,
-- then id, all descending). p_scope: the read scope (the user id of
-- township staff, NULL for everyone else); a project outside it is BB404
-- exactly as a missing one.
CREATE FUNCTION bb_project_history(p_scope bigint, p_id bigint)
RETURNS TABLE (kind text, at text, user_id bigint, "user" text, from_stage text,
               to_stage text, skipped text, node text, old_planned text, new_planned text,
               reason text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM project p
                    WHERE p.id = p_id AND bb_scope_has(p_scope, p.township_id)) THEN
        RAISE EXCEPTION 'project % does not exist', p_id USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    RETURN QUERY
    SELECT h.kind, bb_ts(h.at), h.user_id, au.login, h.from_stage, h.to_stage,
           h.skipped, h.node, h.old_planned, h.new_planned, h.reason
      FROM (SELECT 'stage'::text AS kind, 1 AS ord, e.id, e.at, e.user_id, e.from_stage,
                   e.to_stage, array_to_string(e.skipped, E'\n') AS skipped, NULL::text AS node,
                   NULL::text AS old_planned, NULL::text AS new_planned, e.reason
              FROM project_stage_event e
             WHERE e.project_id = p_id
            UNION ALL
            SELECT 'plan', 0, pe.id, pe.at, pe.user_id, NULL, NULL, NULL, pe.node,
                   to_char(pe.old_planned, 'YYYY-MM-DD'), to_char(pe.new_planned, 'YYYY-MM-DD'),
                   pe.reason
              FROM milestone_plan_event pe
             WHERE pe.project_id = p_id) h
      LEFT JOIN app_user au ON au.id = h.user_id
     ORDER BY h.at DESC, h.ord DESC, h.id DESC;
END
$$;

ALTER FUNCTION bb_project_create(bigint, text, text, text, bigint, text, bigint, text, bigint,
                                 text, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_project_update(bigint, text, text, bigint, int, text, boolean, bigint, boolean,
                                 text, bigint, text, boolean, bigint, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_project_move_stage(bigint, text, text, bigint, int, text, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_project_set_milestone(bigint, text, text, bigint, text, boolean, date, boolean,
                                        date, text, date)
    SET enable_seqscan = off;
ALTER FUNCTION bb_project_history(bigint, bigint) SET enable_seqscan = off;
