-- 010_problem_fns.sql: the functions of problems (诉求) and of the
-- troubled-enterprise file (困难企业), issue 5: the wire shapes of both
-- (views, column names = wire keys), the workflow rules of a problem and
-- one write function per method (problem.create, problem.advance,
-- problem.reopen, problem.assign, trouble.set), each ONE statement with its
-- idempotency record, its problem_event row and its audit row.
--
-- For: what the database must decide: the actor (bb_business_actor of
-- 006: township staff and supervisors write, BB401/BB403 otherwise), the
-- scope (a problem and a troubled-enterprise file belong to the township
-- of their enterprise: outside the actor's townships = missing, BB404,
-- same message and field), versions (BB409), the workflow
-- 受理 → 交办 → 办理 → 反馈 → 确认 (one step forward; 交办 needs an
-- assignee; 确认 sets closed_at; reopening 确认 → 办理 needs a reason),
-- deadlines (the default today + 5 working days, never before today), and
-- references (units and officials: BB404 on the field that names them).
-- "Today" is the server's (server/clock.h), passed in as p_today: never
-- CURRENT_DATE, so a pinned clock and the configured time zone hold.
-- Not for: the tables (007_projects.sql), overdue queries (011), the reads
-- (their SELECTs sit next to the C code in server/problem.c).
--
-- Plans: every write function probes growing tables by key, so each runs
-- with enable_seqscan off (the end of 003_group_commit.sql says why).

-- A Problem as the wire shows it. The enterprise's name and township and
-- the assignees' names come along so a list reads without more calls.
CREATE VIEW problem_wire AS
SELECT p.id,
       p.enterprise_id,
       e.name AS enterprise_name,
       t.name AS township,
       p.status_report_id,
       p.category,
       p.description,
       p.assignee_unit_id,
       un.name AS assignee_unit,
       p.assignee_official_id,
       o.name AS assignee_official,
       to_char(p.deadline, 'YYYY-MM-DD') AS deadline,
       p.state,
       bb_ts(p.closed_at) AS closed_at,
       p.version,
       bb_ts(p.created_at) AS created_at,
       bb_ts(p.updated_at) AS updated_at
  FROM problem p
  JOIN enterprise e ON e.id = p.enterprise_id
  JOIN township t ON t.id = e.township_id
  LEFT JOIN unit un ON un.id = p.assignee_unit_id
  LEFT JOIN official o ON o.id = p.assignee_official_id;

-- An EnterpriseTrouble as the wire shows it. Areas as decimal text with
-- exactly two decimals ("12.50"): numeric(…, 2)::text, never a float.
CREATE VIEW enterprise_trouble_wire AS
SELECT tr.enterprise_id,
       e.name AS enterprise_name,
       t.name AS township,
       tr.idle_reason,
       tr.idle_land_mu::text AS idle_land_mu,
       tr.idle_floor_m2::text AS idle_floor_m2,
       tr.strengths,
       tr.revival_plan,
       tr.revival_progress,
       tr.version,
       bb_ts(tr.created_at) AS created_at,
       bb_ts(tr.updated_at) AS updated_at
  FROM enterprise_trouble tr
  JOIN enterprise e ON e.id = tr.enterprise_id
  JOIN township t ON t.id = e.township_id;

-- The state after p_state in the workflow; NULL after 确认 (closed) and
-- for anything that is not a state.
CREATE FUNCTION bb_problem_next(p_state text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_state WHEN '受理' THEN '交办' WHEN '交办' THEN '办理'
                        WHEN '办理' THEN '反馈' WHEN '反馈' THEN '确认' END
$$;

-- The p_n-th working day after p_from: Monday to Friday count, Saturday
-- and Sunday do not (public holidays and their make-up working days are
-- not known here). From a Friday, 5 working days is the next Friday.
CREATE FUNCTION bb_add_working_days(p_from date, p_n integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- date + integer, never timestamps: the answer must not depend on the
    -- session's TimeZone (the function is IMMUTABLE)
    SELECT p_from + i
      FROM generate_series(1, 7 * (p_n / 5 + 2)) AS g(i)
     WHERE extract(isodow FROM p_from + i) < 6
     ORDER BY i
    OFFSET p_n - 1 LIMIT 1
$$;

-- The problem p_id locked for a write by u: BB404 (field id) when it does
-- not exist or its enterprise lies outside u's townships (one answer for
-- both, decided before the version so a wrong version reveals nothing),
-- then BB409 when p_version is not the current one.
CREATE FUNCTION bb_problem_lock(u app_user, p_id bigint, p_version integer) RETURNS problem
LANGUAGE plpgsql AS $$
DECLARE
    cur problem;
    tid smallint;
BEGIN
    SELECT p.* INTO cur FROM problem p WHERE p.id = p_id FOR UPDATE;
    IF FOUND THEN
        SELECT e.township_id INTO tid FROM enterprise e WHERE e.id = cur.enterprise_id;
    END IF;
    PERFORM bb_check_row('problem', p_id, FOUND AND bb_in_scope(u, tid), cur.version, p_version);
    RETURN cur;
END
$$;

-- Units and officials named as assignees must exist (they are a
-- directory everyone reads: BB404 on the argument's field).
CREATE FUNCTION bb_problem_check_assignees(p_unit bigint, p_official bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM unit WHERE id = p_unit) THEN
        RAISE EXCEPTION 'unit % does not exist', p_unit
            USING ERRCODE = 'BB404', COLUMN = 'assignee_unit_id';
    END IF;
    IF p_official IS NOT NULL AND NOT EXISTS (SELECT 1 FROM official WHERE id = p_official) THEN
        RAISE EXCEPTION 'official % does not exist', p_official
            USING ERRCODE = 'BB404', COLUMN = 'assignee_official_id';
    END IF;
END
$$;

CREATE FUNCTION bb_problem_check_deadline(p_deadline date, p_today date) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_deadline < p_today THEN
        RAISE EXCEPTION 'deadline: % is before today (%)', p_deadline, p_today
            USING ERRCODE = 'BB400', COLUMN = 'deadline';
    END IF;
END
$$;

-- The enterprise a write files something under (problem.create,
-- trouble.set): KEY SHARE, so it cannot vanish before this commits; one
-- that does not exist and one outside u's townships are the same BB404 on
-- enterprise_id, so scope cannot be probed.
CREATE FUNCTION bb_enterprise_lock(u app_user, p_enterprise_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tid smallint;
BEGIN
    SELECT e.township_id INTO tid FROM enterprise e WHERE e.id = p_enterprise_id FOR KEY SHARE;
    IF NOT FOUND OR NOT bb_in_scope(u, tid) THEN
        RAISE EXCEPTION 'enterprise % does not exist', p_enterprise_id
            USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
    END IF;
END
$$;

-- problem.create. p_deadline NULL = today + 5 working days. Checks in
-- order: actor, key, enterprise (missing or outside scope: BB404
-- enterprise_id), status report (must be one of that enterprise's: BB400
-- status_report_id), assignees (BB404), deadline (BB400).
CREATE FUNCTION bb_problem_create(p_actor bigint, p_addr text, p_key text,
                                  p_enterprise_id bigint, p_status_report_id bigint,
                                  p_category text, p_description text, p_unit bigint,
                                  p_official bigint, p_deadline date, p_today date)
RETURNS problem_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'problem.create';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    new_id bigint;
    out_row problem_wire;
BEGIN
    -- The deadline as given (NULL when left to the default): a retry on
    -- a later day replays the first problem, not a new default.
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_enterprise_id, p_status_report_id, p_category, p_description, p_unit,
        p_official, p_deadline)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::problem_wire, prev);
    END IF;
    PERFORM bb_enterprise_lock(u, p_enterprise_id);
    IF p_status_report_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM status_report s
                        WHERE s.id = p_status_report_id AND s.enterprise_id = p_enterprise_id) THEN
        RAISE EXCEPTION 'status_report_id: % is not a status report of enterprise %',
                        p_status_report_id, p_enterprise_id
            USING ERRCODE = 'BB400', COLUMN = 'status_report_id';
    END IF;
    PERFORM bb_problem_check_assignees(p_unit, p_official);
    PERFORM bb_problem_check_deadline(p_deadline, p_today);
    INSERT INTO problem (enterprise_id, status_report_id, category, description,
                         assignee_unit_id, assignee_official_id, deadline)
    VALUES (p_enterprise_id, p_status_report_id, p_category, p_description, p_unit, p_official,
            coalesce(p_deadline, bb_add_working_days(p_today, 5)))
    RETURNING id INTO new_id;
    INSERT INTO problem_event (problem_id, user_id, from_state, to_state)
    VALUES (new_id, u.id, NULL, '受理');
    SELECT * INTO out_row FROM problem_wire w WHERE w.id = new_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'problem', new_id, NULL, out_row);
END
$$;

-- Moves locked problem p_id from p_from to p_to (advance and reopen have
-- checked the move): the row (closed_at set exactly when it reaches 确认,
-- a new version) and the step's problem_event, by u, with p_note.
CREATE FUNCTION bb_problem_step(u app_user, p_id bigint, p_from text, p_to text, p_note text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE problem
       SET state = p_to,
           closed_at = CASE WHEN p_to = '确认' THEN now() END,
           version = version + 1,
           updated_at = now()
     WHERE id = p_id;
    INSERT INTO problem_event (problem_id, user_id, from_state, to_state, note)
    VALUES (p_id, u.id, p_from, p_to, p_note);
END
$$;

-- problem.advance: one step forward. Checks in order: actor, key,
-- existence and scope, version, then the step (BB400, field to_state:
-- closed, not the next state, 交办 without an assignee).
CREATE FUNCTION bb_problem_advance(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                   p_version integer, p_to_state text, p_note text)
RETURNS problem_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'problem.advance';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    cur problem;
    before_row problem_wire;
    out_row problem_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_to_state, p_note)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::problem_wire, prev);
    END IF;
    cur := bb_problem_lock(u, p_id, p_version);
    IF cur.state = '确认' THEN
        RAISE EXCEPTION 'to_state: problem % is closed (确认): reopen it first', p_id
            USING ERRCODE = 'BB400', COLUMN = 'to_state';
    END IF;
    IF p_to_state IS DISTINCT FROM bb_problem_next(cur.state) THEN
        RAISE EXCEPTION 'to_state: problem % is at %, so the next step is %, not %',
                        p_id, cur.state, bb_problem_next(cur.state), p_to_state
            USING ERRCODE = 'BB400', COLUMN = 'to_state';
    END IF;
    IF p_to_state = '交办' AND cur.assignee_unit_id IS NULL AND cur.assignee_official_id IS NULL THEN
        RAISE EXCEPTION 'to_state: problem % has no assignee to hand it to (交办): '
                        'problem.assign first', p_id
            USING ERRCODE = 'BB400', COLUMN = 'to_state';
    END IF;
    SELECT * INTO before_row FROM problem_wire w WHERE w.id = p_id;
    PERFORM bb_problem_step(u, p_id, cur.state, p_to_state, p_note);
    SELECT * INTO out_row FROM problem_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'problem', p_id, to_jsonb(before_row), out_row);
END
$$;

-- problem.reopen: 确认 → 办理 with a reason (the event's note). A problem
-- that is not closed: BB400, field id. The deadline stays (problem.assign
-- sets a new one).
CREATE FUNCTION bb_problem_reopen(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                  p_version integer, p_reason text)
RETURNS problem_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'problem.reopen';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    cur problem;
    before_row problem_wire;
    out_row problem_wire;
BEGIN
    -- the server requires the reason too; this is the second wall
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'reason: a reopened problem needs a reason'
            USING ERRCODE = 'BB400', COLUMN = 'reason';
    END IF;
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_reason)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::problem_wire, prev);
    END IF;
    cur := bb_problem_lock(u, p_id, p_version);
    IF cur.state <> '确认' THEN
        RAISE EXCEPTION 'problem % is not closed (it is at %): only a closed problem is reopened',
                        p_id, cur.state
            USING ERRCODE = 'BB400', COLUMN = 'id';
    END IF;
    SELECT * INTO before_row FROM problem_wire w WHERE w.id = p_id;
    PERFORM bb_problem_step(u, p_id, '确认', '办理', p_reason);
    SELECT * INTO out_row FROM problem_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'problem', p_id, to_jsonb(before_row), out_row);
END
$$;

-- problem.assign: the assignees and/or the deadline. p_set_unit /
-- p_set_official: the argument was given (then NULL clears it);
-- p_deadline NULL = unchanged. Checks in order: actor, key, existence and
-- scope, version, closed (BB400 id), assignees exist (BB404), a problem
-- past 受理 keeps at least one assignee (BB400 assignee_unit_id), the
-- deadline not before today (BB400 deadline). Writes no problem_event
-- (the workflow history is of steps); the audit row keeps the change.
CREATE FUNCTION bb_problem_assign(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                  p_version integer, p_set_unit boolean, p_unit bigint,
                                  p_set_official boolean, p_official bigint, p_deadline date,
                                  p_today date)
RETURNS problem_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'problem.assign';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    cur problem;
    unit_v bigint;
    official_v bigint;
    before_row problem_wire;
    out_row problem_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_set_unit, p_unit, p_set_official, p_official,
        p_deadline)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::problem_wire, prev);
    END IF;
    cur := bb_problem_lock(u, p_id, p_version);
    IF cur.state = '确认' THEN
        RAISE EXCEPTION 'problem % is closed (确认): reopen it first', p_id
            USING ERRCODE = 'BB400', COLUMN = 'id';
    END IF;
    unit_v := CASE WHEN p_set_unit THEN p_unit ELSE cur.assignee_unit_id END;
    official_v := CASE WHEN p_set_official THEN p_official ELSE cur.assignee_official_id END;
    PERFORM bb_problem_check_assignees(CASE WHEN p_set_unit THEN p_unit END,
                                       CASE WHEN p_set_official THEN p_official END);
    IF cur.state <> '受理' AND unit_v IS NULL AND official_v IS NULL THEN
        RAISE EXCEPTION 'assignee_unit_id: problem % is at % and must keep an assignee',
                        p_id, cur.state
            USING ERRCODE = 'BB400', COLUMN = 'assignee_unit_id';
    END IF;
    PERFORM bb_problem_check_deadline(p_deadline, p_today);
    SELECT * INTO before_row FROM problem_wire w WHERE w.id = p_id;
    UPDATE problem
       SET assignee_unit_id = unit_v,
           assignee_official_id = official_v,
           deadline = coalesce(p_deadline, deadline),
           version = version + 1,
           updated_at = now()
     WHERE id = p_id;
    SELECT * INTO out_row FROM problem_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'problem', p_id, to_jsonb(before_row), out_row);
END
$$;

-- trouble.set: creates the file (p_version NULL: there must be none yet,
-- BB410 enterprise_id) or updates it (p_version given: BB404 when there is
-- no file, BB409 on another version). p_set_*: the optional field was
-- given (NULL then clears it); on a create an absent field is NULL.
-- p_idle_reason NULL = unchanged (the server requires it for a create).
-- Areas come as text the server has checked ("12.50"); numeric keeps them
-- exact. Checks in order: actor, key, enterprise (missing or outside
-- scope: BB404 enterprise_id), then the file.
CREATE FUNCTION bb_trouble_set(p_actor bigint, p_addr text, p_key text, p_enterprise_id bigint,
                               p_version integer, p_idle_reason text,
                               p_set_land boolean, p_land text,
                               p_set_floor boolean, p_floor text,
                               p_set_strengths boolean, p_strengths text,
                               p_set_plan boolean, p_plan text,
                               p_set_progress boolean, p_progress text)
RETURNS enterprise_trouble_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'trouble.set';
    u app_user := bb_business_actor(p_actor, m);
    prev jsonb;
    cur enterprise_trouble;
    before_row enterprise_trouble_wire;
    before_json jsonb;
    out_row enterprise_trouble_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_enterprise_id, p_version, p_idle_reason, p_set_land, p_land, p_set_floor,
        p_floor, p_set_strengths, p_strengths, p_set_plan, p_plan, p_set_progress,
        p_progress)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::enterprise_trouble_wire, prev);
    END IF;
    PERFORM bb_enterprise_lock(u, p_enterprise_id);
    SELECT * INTO cur FROM enterprise_trouble tr WHERE tr.enterprise_id = p_enterprise_id
       FOR UPDATE;
    IF p_version IS NULL THEN
        IF FOUND THEN
            RAISE EXCEPTION 'enterprise % already has a troubled-enterprise file (version %): '
                            'give version to change it', p_enterprise_id, cur.version
                USING ERRCODE = 'BB410', COLUMN = 'enterprise_id';
        END IF;
        IF p_idle_reason IS NULL THEN
            RAISE EXCEPTION 'idle_reason: required for a new file'
                USING ERRCODE = 'BB400', COLUMN = 'idle_reason';
        END IF;
        -- Two creates at once: the second waits on the key, finds the
        -- first's row and answers like the check above.
        INSERT INTO enterprise_trouble (enterprise_id, idle_reason, idle_land_mu, idle_floor_m2,
                                        strengths, revival_plan, revival_progress)
        VALUES (p_enterprise_id, p_idle_reason, p_land::numeric(12, 2),
                p_floor::numeric(14, 2), p_strengths, p_plan, p_progress)
        ON CONFLICT (enterprise_id) DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'enterprise % already has a troubled-enterprise file: '
                            'give version to change it', p_enterprise_id
                USING ERRCODE = 'BB410', COLUMN = 'enterprise_id';
        END IF;
        before_json := NULL;
    ELSE
        IF NOT FOUND THEN
            RAISE EXCEPTION 'enterprise % has no troubled-enterprise file', p_enterprise_id
                USING ERRCODE = 'BB404', COLUMN = 'enterprise_id';
        END IF;
        IF cur.version <> p_version THEN
            RAISE EXCEPTION 'the troubled-enterprise file of enterprise % is at version %, not %',
                            p_enterprise_id, cur.version, p_version
                USING ERRCODE = 'BB409', COLUMN = 'version';
        END IF;
        SELECT * INTO before_row FROM enterprise_trouble_wire w
         WHERE w.enterprise_id = p_enterprise_id;
        before_json := to_jsonb(before_row);
        UPDATE enterprise_trouble
           SET idle_reason = coalesce(p_idle_reason, idle_reason),
               idle_land_mu = CASE WHEN p_set_land THEN p_land::numeric(12, 2)
                                   ELSE idle_land_mu END,
               idle_floor_m2 = CASE WHEN p_set_floor THEN p_floor::numeric(14, 2)
                                    ELSE idle_floor_m2 END,
               strengths = CASE WHEN p_set_strengths THEN p_strengths ELSE strengths END,
               revival_plan = CASE WHEN p_set_plan THEN p_plan ELSE revival_plan END,
               revival_progress = CASE WHEN p_set_progress THEN p_progress
                                       ELSE revival_progress END,
               version = version + 1,
               updated_at = now()
         WHERE enterprise_id = p_enterprise_id;
    END IF;
    SELECT * INTO out_row FROM enterprise_trouble_wire w WHERE w.enterprise_id = p_enterprise_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'enterprise_trouble', p_enterprise_id, before_json,
                         out_row);
END
$$;

-- The cached-plan protection (003_group_commit.sql, end).
ALTER FUNCTION bb_problem_lock(app_user, bigint, integer) SET enable_seqscan = off;
ALTER FUNCTION bb_enterprise_lock(app_user, bigint) SET enable_seqscan = off;
ALTER FUNCTION bb_problem_step(app_user, bigint, text, text, text) SET enable_seqscan = off;
ALTER FUNCTION bb_problem_create(bigint, text, text, bigint, bigint, text, text, bigint, bigint,
                                 date, date)
    SET enable_seqscan = off;
ALTER FUNCTION bb_problem_advance(bigint, text, text, bigint, integer, text, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_problem_reopen(bigint, text, text, bigint, integer, text)
    SET enable_seqscan = off;
ALTER FUNCTION bb_problem_assign(bigint, text, text, bigint, integer, boolean, bigint, boolean,
                                 bigint, date, date)
    SET enable_seqscan = off;
ALTER FUNCTION bb_trouble_set(bigint, text, text, bigint, integer, text, boolean, text, boolean,
                              text, boolean, text, boolean, text, boolean, text)
    SET enable_seqscan = off;
