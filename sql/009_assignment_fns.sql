-- 009_assignment_fns.sql: units, officials and 包保 assignments (issue 5):
-- how each looks on the wire, one function per write (unit.create,
-- official.create, official.update, assignment.create, assignment.end),
-- and the reads that decide something: an official's or a unit's portfolio
-- and the coverage gaps of key enterprises and projects.
--
-- Every write takes p_actor (the session's user id, checked again with
-- bb_actor: BB401 when gone or disabled) and p_addr (the peer, for the
-- audit row), checks the actor's role a second time behind the server's
-- gate (BB403), claims its idempotency key with the actor in the request
-- hash (a stored result is replayed only to its own user), and writes one
-- audit row (bb_audit; entity 'unit', 'official' or 'assignment', before
-- and after the record as the wire shows it) in the same transaction.
-- Roles: unit and official writes by supervisors and admins (a directory,
-- not business data of a township); assignment writes by supervisors only.
--
-- Reads and scope: units and officials are a directory everyone reads. An
-- assignment lies in the township of the enterprise or project it
-- concerns; a read scope (the user id of township staff, NULL for roles
-- that read everything) leaves out assignments, projects and problems
-- outside that user's townships.
--
-- "Active on day D": period_start <= D and (period_end IS NULL or
-- D <= period_end). D is always passed in by the server (today in its
-- time_zone, or the caller's date): never CURRENT_DATE.
--
-- Not for: the tables (007_projects.sql), projects (008), problems (010),
-- overdue (011).

-- ---- wire shapes ----

-- A Unit as the wire shows it, column names = wire keys.
CREATE VIEW unit_wire AS
SELECT u.id,
       u.name,
       u.version,
       bb_ts(u.created_at) AS created_at,
       bb_ts(u.updated_at) AS updated_at
  FROM unit u;

-- An Official as the wire shows it: the unit by id and by name.
CREATE VIEW official_wire AS
SELECT o.id,
       o.name,
       o.title,
       o.unit_id,
       u.name AS unit_name,
       o.phone,
       o.user_id,
       o.version,
       bb_ts(o.created_at) AS created_at,
       bb_ts(o.updated_at) AS updated_at
  FROM official o
  LEFT JOIN unit u ON u.id = o.unit_id;

-- An Assignment as the wire shows it: who holds it (an official or a unit,
-- with the name), what it concerns (an enterprise or a project, its name
-- and township: the township also decides who may read it), the role and
-- the period.
CREATE VIEW assignment_wire AS
SELECT a.id,
       a.role,
       a.official_id,
       o.name AS official_name,
       a.unit_id,
       un.name AS unit_name,
       a.enterprise_id,
       a.project_id,
       coalesce(e.name, p.name) AS target_name,
       t.name AS township,
       to_char(a.period_start, 'YYYY-MM-DD') AS period_start,
       to_char(a.period_end, 'YYYY-MM-DD') AS period_end,
       a.version,
       bb_ts(a.created_at) AS created_at,
       bb_ts(a.updated_at) AS updated_at
  FROM assignment a
  LEFT JOIN official o ON o.id = a.official_id
  LEFT JOIN unit un ON un.id = a.unit_id
  LEFT JOIN enterprise e ON e.id = a.enterprise_id
  LEFT JOIN project p ON p.id = a.project_id
  JOIN township t ON t.id = coalesce(e.township_id, p.township_id);

-- The order of the three roles, for coverage gaps and their cursor.
CREATE FUNCTION bb_assignment_role_rank(p_role text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_position(ARRAY['包保市领导', '责任单位', '联络员'], p_role)
$$;

-- ---- actors ----

-- The actor of a unit or official write: supervisors and admins.
CREATE FUNCTION bb_directory_actor(p_actor bigint, p_method text) RETURNS app_user
LANGUAGE sql STABLE AS $$
    SELECT bb_actor_role(p_actor, p_method, '{supervisor,admin}')
$$;

-- The actor of an assignment write: supervisors only.
CREATE FUNCTION bb_assignment_actor(p_actor bigint, p_method text) RETURNS app_user
LANGUAGE sql STABLE AS $$
    SELECT bb_actor_role(p_actor, p_method, '{supervisor}')
$$;

-- ---- units ----

-- unit.create. A name another unit has: BB410, field name (checked first,
-- and again by the unique index for two creates at the same time).
CREATE FUNCTION bb_unit_create(p_actor bigint, p_addr text, p_key text, p_name text)
RETURNS unit_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'unit.create';
    u app_user := bb_directory_actor(p_actor, m);
    prev jsonb;
    new_id bigint;
    out_row unit_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(p_actor, p_name)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::unit_wire, prev);
    END IF;
    IF EXISTS (SELECT 1 FROM unit WHERE name = p_name) THEN
        RAISE EXCEPTION 'another unit is named %', p_name USING ERRCODE = 'BB410', COLUMN = 'name';
    END IF;
    BEGIN
        INSERT INTO unit (name) VALUES (p_name) RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'another unit is named %', p_name USING ERRCODE = 'BB410', COLUMN = 'name';
    END;
    SELECT * INTO out_row FROM unit_wire WHERE id = new_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'unit', new_id, NULL, out_row);
END
$$;

-- ---- officials ----

-- The references an official may carry: the unit (BB404, field unit_id)
-- and the baobao user (BB404 field user_id when there is no such user;
-- BB410 field user_id when another official is that user already).
CREATE FUNCTION bb_official_check_refs(p_id bigint, p_unit_id bigint, p_user_id bigint)
RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_unit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM unit WHERE id = p_unit_id) THEN
        RAISE EXCEPTION 'unit % does not exist', p_unit_id
            USING ERRCODE = 'BB404', COLUMN = 'unit_id';
    END IF;
    IF p_user_id IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM app_user WHERE id = p_user_id) THEN
            RAISE EXCEPTION 'user % does not exist', p_user_id
                USING ERRCODE = 'BB404', COLUMN = 'user_id';
        END IF;
        IF EXISTS (SELECT 1 FROM official
                    WHERE user_id = p_user_id AND (p_id IS NULL OR id <> p_id)) THEN
            RAISE EXCEPTION 'another official is user % already', p_user_id
                USING ERRCODE = 'BB410', COLUMN = 'user_id';
        END IF;
    END IF;
END
$$;

-- official.create.
CREATE FUNCTION bb_official_create(p_actor bigint, p_addr text, p_key text, p_name text,
                                   p_title text, p_unit_id bigint, p_phone text,
                                   p_user_id bigint)
RETURNS official_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'official.create';
    u app_user := bb_directory_actor(p_actor, m);
    prev jsonb;
    new_id bigint;
    out_row official_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_name, p_title, p_unit_id, p_phone, p_user_id)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::official_wire, prev);
    END IF;
    PERFORM bb_official_check_refs(NULL, p_unit_id, p_user_id);
    BEGIN
        INSERT INTO official (name, title, unit_id, phone, user_id)
        VALUES (p_name, p_title, p_unit_id, p_phone, p_user_id)
        RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'another official is user % already', p_user_id
            USING ERRCODE = 'BB410', COLUMN = 'user_id';
    END;
    SELECT * INTO out_row FROM official_wire WHERE id = new_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'official', new_id, NULL, out_row);
END
$$;

-- official.update. NULL p_name = unchanged; title, unit, phone and user
-- change only when their p_set_* flag is true (NULL value = clear).
-- Checks: actor, key, existence (BB404 id), version (BB409), references.
CREATE FUNCTION bb_official_update(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                   p_version int, p_name text,
                                   p_set_title boolean, p_title text,
                                   p_set_unit boolean, p_unit_id bigint,
                                   p_set_phone boolean, p_phone text,
                                   p_set_user boolean, p_user_id bigint)
RETURNS official_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'official.update';
    u app_user := bb_directory_actor(p_actor, m);
    prev jsonb;
    cur official;
    before_row official_wire;
    out_row official_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_name, p_set_title, p_title, p_set_unit, p_unit_id,
        p_set_phone, p_phone, p_set_user, p_user_id)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::official_wire, prev);
    END IF;
    SELECT * INTO cur FROM official WHERE id = p_id FOR UPDATE;
    PERFORM bb_check_row('official', p_id, FOUND, cur.version, p_version);
    PERFORM bb_official_check_refs(p_id, CASE WHEN p_set_unit THEN p_unit_id END,
                                   CASE WHEN p_set_user THEN p_user_id END);
    SELECT * INTO before_row FROM official_wire WHERE id = p_id;
    BEGIN
        UPDATE official
           SET name = coalesce(p_name, name),
               title = CASE WHEN p_set_title THEN p_title ELSE title END,
               unit_id = CASE WHEN p_set_unit THEN p_unit_id ELSE unit_id END,
               phone = CASE WHEN p_set_phone THEN p_phone ELSE phone END,
               user_id = CASE WHEN p_set_user THEN p_user_id ELSE user_id END,
               version = version + 1,
               updated_at = now()
         WHERE id = p_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'another official is user % already', p_user_id
            USING ERRCODE = 'BB410', COLUMN = 'user_id';
    END;
    SELECT * INTO out_row FROM official_wire WHERE id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'official', p_id, to_jsonb(before_row), out_row);
END
$$;

-- ---- assignments ----

-- The assignment of the same holder, target and role whose period overlaps
-- [p_start, p_end] (p_end NULL = open-ended), other than p_except; NULL
-- when none. Two such assignments would count the same person twice.
CREATE FUNCTION bb_assignment_overlap(p_official_id bigint, p_unit_id bigint,
                                      p_enterprise_id bigint, p_project_id bigint,
                                      p_role text, p_start date, p_end date, p_except bigint)
RETURNS assignment
LANGUAGE sql STABLE AS $$
    SELECT a.* FROM assignment a
     WHERE (a.official_id = p_official_id OR a.unit_id = p_unit_id)
       AND (a.enterprise_id = p_enterprise_id OR a.project_id = p_project_id)
       AND a.role = p_role
       AND (p_except IS NULL OR a.id <> p_except)
       AND a.period_start <= coalesce(p_end, 'infinity'::date)
       AND coalesce(a.period_end, 'infinity'::date) >= p_start
     ORDER BY a.id
     LIMIT 1
$$;

-- assignment.create. The server has checked the shape: exactly one of
-- official/unit, exactly one of enterprise/project, 责任单位 held by a unit
-- and the other roles by officials, p_end >= p_start. Checks here, in
-- order: actor, key, the holder (BB404 official_id / unit_id), the target
-- (BB404 enterprise_id / project_id), an overlapping assignment of the same
-- holder, target and role (BB410, field period_start). The holder's row is
-- locked so two creates for it cannot both miss each other's overlap.
CREATE FUNCTION bb_assignment_create(p_actor bigint, p_addr text, p_key text,
                                     p_official_id bigint, p_unit_id bigint,
                                     p_enterprise_id bigint, p_project_id bigint,
                                     p_role text, p_start date, p_end date)
RETURNS assignment_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'assignment.create';
    u app_user := bb_assignment_actor(p_actor, m);
    prev jsonb;
    other assignment;
    new_id bigint;
    out_row assignment_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_official_id, p_unit_id, p_enterprise_id, p_project_id, p_role,
        p_start, p_end)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::assignment_wire, prev);
    END IF;
    IF p_official_id IS NOT NULL THEN
        PERFORM 1 FROM official WHERE id = p_official_id FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'official % does not exist', p_official_id
                USING ERRCODE = 'BB404', COLUMN = 'official_id';
        END IF;
    ELSE
        PERFORM 1 FROM unit WHERE id = p_unit_id FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unit % does not exist', p_unit_id
                USING ERRCODE = 'BB404', COLUMN = 'unit_id';
        END IF;
    END IF;
    IF p_enterprise_id IS NOT NULL THEN
        PERFORM 1 FROM enterprise WHERE id = p_enterprise_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'enterprise % does not exist', p_enterprise_id
                USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
        END IF;
    ELSE
        PERFORM 1 FROM project WHERE id = p_project_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'project % does not exist', p_project_id
                USING ERRCODE = 'BB404', COLUMN = 'project_id';
        END IF;
    END IF;
    other := bb_assignment_overlap(p_official_id, p_unit_id, p_enterprise_id, p_project_id,
                                   p_role, p_start, p_end, NULL);
    IF other.id IS NOT NULL THEN
        RAISE EXCEPTION 'assignment % already gives this % to the same holder from % to %',
                        other.id, p_role, other.period_start,
                        coalesce(other.period_end::text, 'open end')
            USING ERRCODE = 'BB410', COLUMN = 'period_start';
    END IF;
    INSERT INTO assignment (official_id, unit_id, enterprise_id, project_id, role,
                            period_start, period_end)
    VALUES (p_official_id, p_unit_id, p_enterprise_id, p_project_id, p_role, p_start, p_end)
    RETURNING id INTO new_id;
    SELECT * INTO out_row FROM assignment_wire WHERE id = new_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'assignment', new_id, NULL, out_row);
END
$$;

-- assignment.end: sets the last day of the period (replacing an earlier
-- end). Checks: actor, key, existence (BB404 id), version (BB409), the end
-- before the start (BB400 period_end), an overlap that a later end would
-- make (BB410 period_end).
CREATE FUNCTION bb_assignment_end(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                  p_version int, p_end date)
RETURNS assignment_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'assignment.end';
    u app_user := bb_assignment_actor(p_actor, m);
    prev jsonb;
    cur assignment;
    other assignment;
    before_row assignment_wire;
    out_row assignment_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_end)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::assignment_wire, prev);
    END IF;
    SELECT * INTO cur FROM assignment WHERE id = p_id FOR UPDATE;
    PERFORM bb_check_row('assignment', p_id, FOUND, cur.version, p_version);
    IF p_end < cur.period_start THEN
        RAISE EXCEPTION 'period_end: % is before the start of the period (%)', p_end,
                        cur.period_start
            USING ERRCODE = 'BB400', COLUMN = 'period_end';
    END IF;
    -- The holder's row lock, as in create: a concurrent create sees this end.
    IF cur.official_id IS NOT NULL THEN
        PERFORM 1 FROM official WHERE id = cur.official_id FOR NO KEY UPDATE;
    ELSE
        PERFORM 1 FROM unit WHERE id = cur.unit_id FOR NO KEY UPDATE;
    END IF;
    other := bb_assignment_overlap(cur.official_id, cur.unit_id, cur.enterprise_id,
                                   cur.project_id, cur.role, cur.period_start, p_end, p_id);
    IF other.id IS NOT NULL THEN
        RAISE EXCEPTION 'period_end: assignment % gives this % to the same holder from %',
                        other.id, cur.role, other.period_start
            USING ERRCODE = 'BB410', COLUMN = 'period_end';
    END IF;
    SELECT * INTO before_row FROM assignment_wire WHERE id = p_id;
    UPDATE assignment
       SET period_end = p_end, version = version + 1, updated_at = now()
     WHERE id = p_id;
    SELECT * INTO out_row FROM assignment_wire WHERE id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'assignment', p_id, to_jsonb(before_row),
                         out_row);
END
$$;

-- ---- reads that decide something ----

-- The items of a portfolio: assignments (section 'a') of an official or a
-- unit active on p_on, projects (section 'p') a unit leads that are still
-- going (not 终止, not 竣工), and problems (section 'q') assigned to the
-- official or unit that are not closed (state 确认). Pass exactly one of
-- p_official_id / p_unit_id. Rows outside the read scope p_scope are left
-- out. Columns of sections they do not belong to are NULL. Order: section,
-- then assignments by id, projects by id, problems by deadline then id.
CREATE FUNCTION bb_portfolio_items(p_scope bigint, p_official_id bigint, p_unit_id bigint,
                                   p_on date)
RETURNS TABLE (section text,
               a_id bigint, a_role text, a_official_id bigint, a_official_name text,
               a_unit_id bigint, a_unit_name text, a_enterprise_id bigint,
               a_project_id bigint, a_target_name text, a_township text,
               a_period_start text, a_period_end text, a_version integer,
               a_created_at text, a_updated_at text,
               p_id bigint, p_name text, p_township text, p_stage text, p_priority text,
               q_id bigint, q_enterprise_id bigint, q_enterprise_name text, q_township text,
               q_category text, q_state text, q_deadline text)
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT 'a'::text, w.id, w.role, w.official_id, w.official_name, w.unit_id, w.unit_name,
               w.enterprise_id, w.project_id, w.target_name, w.township, w.period_start,
               w.period_end, w.version, w.created_at, w.updated_at,
               NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text,
               NULL::bigint, NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::text,
               NULL::text
          FROM assignment a
          JOIN assignment_wire w ON w.id = a.id
          LEFT JOIN enterprise e ON e.id = a.enterprise_id
          LEFT JOIN project p ON p.id = a.project_id
         WHERE (a.official_id = p_official_id OR a.unit_id = p_unit_id)
           AND a.period_start <= p_on AND (a.period_end IS NULL OR p_on <= a.period_end)
           AND bb_scope_has(p_scope, coalesce(e.township_id, p.township_id))
        UNION ALL
        SELECT 'p', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL,
               p.id, p.name, t.name, p.stage, p.priority,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL
          FROM project p
          JOIN township t ON t.id = p.township_id
         WHERE p_unit_id IS NOT NULL AND p.lead_unit_id = p_unit_id
           AND p.stage NOT IN ('终止', '竣工')
           AND bb_scope_has(p_scope, p.township_id)
        UNION ALL
        SELECT 'q', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL,
               q.id, q.enterprise_id, e.name, t.name, q.category, q.state,
               to_char(q.deadline, 'YYYY-MM-DD')
          FROM problem q
          JOIN enterprise e ON e.id = q.enterprise_id
          JOIN township t ON t.id = e.township_id
         WHERE (q.assignee_official_id = p_official_id OR q.assignee_unit_id = p_unit_id)
           AND q.state <> '确认'
           AND bb_scope_has(p_scope, e.township_id)
    ) x(section, a_id, a_role, a_official_id, a_official_name, a_unit_id, a_unit_name,
        a_enterprise_id, a_project_id, a_target_name, a_township, a_period_start,
        a_period_end, a_version, a_created_at, a_updated_at, p_id, p_name, p_township,
        p_stage, p_priority, q_id, q_enterprise_id, q_enterprise_name, q_township,
        q_category, q_state, q_deadline)
     ORDER BY x.section, x.a_id, x.p_id, x.q_deadline, x.q_id
$$;

-- coverage.gaps: one row per (key target, role) that has no assignment in
-- that role active on p_on. Key enterprises: bb_is_key_enterprise(labels)
-- and not 注销 (deregistered: nothing to serve). Key projects: priority
-- 省级重点 or 市级重点, stage not 终止 or 竣工. Filters: p_kind ('enterprise'
-- or 'project'), p_role, p_township (a name; unknown matches nothing), the
-- read scope. Order (kind rank 1 enterprise / 2 project, id, role rank):
-- the keyset cursor is the last row's triple (p_after_*; all NULL for the
-- first page). Asks p_limit rows.
CREATE FUNCTION bb_coverage_gaps(p_scope bigint, p_kind text, p_role text, p_township text,
                                 p_on date, p_after_kind int, p_after_id bigint,
                                 p_after_role int, p_limit int)
RETURNS TABLE (kind text, id bigint, name text, township text, role text, priority text,
               stage text, kind_rank int, role_rank int)
LANGUAGE sql STABLE AS $$
    WITH roles(role, r) AS (
        SELECT x.role, bb_assignment_role_rank(x.role)
          FROM unnest(ARRAY['包保市领导', '责任单位', '联络员']) AS x(role)
         WHERE p_role IS NULL OR x.role = p_role
    ), tf AS (
        SELECT t.id FROM township t WHERE t.name = p_township
    )
    SELECT g.* FROM (
        SELECT 'enterprise'::text AS kind, e.id, e.name, t.name AS township, ro.role,
               NULL::text AS priority, NULL::text AS stage, 1 AS kind_rank, ro.r AS role_rank
          FROM enterprise e
          JOIN township t ON t.id = e.township_id
          CROSS JOIN roles ro
         WHERE (p_kind IS NULL OR p_kind = 'enterprise')
           AND bb_is_key_enterprise(e.labels) AND e.status <> '注销'
           AND (p_township IS NULL OR e.township_id = (SELECT tf.id FROM tf))
           AND bb_scope_has(p_scope, e.township_id)
           AND (p_after_kind IS NULL OR p_after_kind < 1
                OR (p_after_kind = 1 AND (e.id, ro.r) > (p_after_id, p_after_role)))
           AND NOT EXISTS (
                SELECT 1 FROM assignment a
                 WHERE a.enterprise_id = e.id AND a.role = ro.role
                   AND a.period_start <= p_on AND (a.period_end IS NULL OR p_on <= a.period_end))
        UNION ALL
        SELECT 'project', p.id, p.name, t.name, ro.role, p.priority, p.stage, 2, ro.r
          FROM project p
          JOIN township t ON t.id = p.township_id
          CROSS JOIN roles ro
         WHERE (p_kind IS NULL OR p_kind = 'project')
           AND p.priority IN ('省级重点', '市级重点') AND p.stage NOT IN ('终止', '竣工')
           AND (p_township IS NULL OR p.township_id = (SELECT tf.id FROM tf))
           AND bb_scope_has(p_scope, p.township_id)
           AND (p_after_kind IS NULL OR p_after_kind < 2
                OR (p_after_kind = 2 AND (p.id, ro.r) > (p_after_id, p_after_role)))
           AND NOT EXISTS (
                SELECT 1 FROM assignment a
                 WHERE a.project_id = p.id AND a.role = ro.role
                   AND a.period_start <= p_on AND (a.period_end IS NULL OR p_on <= a.period_end))
    ) g
    ORDER BY g.kind_rank, g.id, g.role_rank
    LIMIT p_limit
$$;

-- The cached-plan protection (003_group_commit.sql, end) for the writes,
-- which probe growing tables by key.
ALTER FUNCTION bb_unit_create(bigint, text, text, text) SET enable_seqscan = off;
ALTER FUNCTION bb_official_create(bigint, text, text, text, text, bigint, text, bigint)
    SET enable_seqscan = off;
ALTER FUNCTION bb_official_update(bigint, text, text, bigint, int, text, boolean, text, boolean,
                                  bigint, boolean, text, boolean, bigint)
    SET enable_seqscan = off;
ALTER FUNCTION bb_assignment_create(bigint, text, text, bigint, bigint, bigint, bigint, text,
                                    date, date)
    SET enable_seqscan = off;
ALTER FUNCTION bb_assignment_end(bigint, text, text, bigint, int, date) SET enable_seqscan = off;
