-- 024_notices.sql: 督办 notices for people (issue 13): the notice as the
-- wire shows it, who a notice or a light change concerns, reading and
-- answering a notice, and the counts supervisors read.
--
-- For: notice_wire (notice.get / .list, the push of H4's push.c, the
-- delivery JSON of 025); notice_audience (who a notice concerns: the
-- push, notice.list's `mine`, who may read and answer), bb_notice_audience
-- and bb_light_audience (the users a push goes to), bb_light_mine
-- (light.changes' `mine`); bb_notice_read, bb_notice_answer (notice.read,
-- notice.answer); bb_notice_stats (notice.stats, the 督办单 sheet of the
-- reports).
-- Not for: making notices (the sweep, bb_supervise in 023), delivering
-- them beyond the clients (025).
--
-- The audience of a notice (who it concerns), one rule for the push, for
-- notice.list's `mine` and for who may read and answer (the view
-- notice_audience holds it; every use reads the view):
--   - the user of a recipient official (official.user_id);
--   - the users whose app_user.unit is the name of a recipient unit (the
--     mapping of sql/017_todo.sql: app_user.unit is free text naming a
--     unit);
--   - the township staff whose scope holds the notice's township (a
--     township's items are its staff's to follow, as in todo.mine);
-- never a disabled user. Township staff are in it for the items of their
-- own townships only, whatever official or unit they are linked to: the
-- first two rules are for the other roles (staff linked to a recipient
-- of their own township are in it by the third anyway), so nobody is
-- pushed a notice they cannot read. Supervisors and admins are in it only
-- through the first two; they may see every notice anyway.
--
-- The audience of a light change: the same rule, with the item's
-- responsible people as of the change's on_date (011's lists: the
-- assignments active that day on the project or on the problem's
-- enterprise, the project's lead unit, the problem's assignee unit and
-- official) and the item's township (bb_light_audience for a range of
-- changes, bb_light_mine for one user: light.changes' `mine`).

-- The recipients of one notice as the wire shows them: a JSON array of
-- {"official_id": n | "unit_id": n, "name": text, "role": text}, officials
-- and units in 011's role order, then by id (the same data always reads
-- the same).
CREATE FUNCTION bb_notice_recipients(p_notice bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(x.j ORDER BY x.rank, x.unit_first, x.id), '[]'::jsonb)
      FROM (SELECT CASE WHEN r.official_id IS NOT NULL
                        THEN jsonb_build_object('official_id', o.id, 'name', o.name, 'role', r.role)
                        ELSE jsonb_build_object('unit_id', un.id, 'name', un.name, 'role', r.role)
                   END AS j,
                   coalesce(bb_overdue_role_rank(r.role), 99) AS rank,
                   r.unit_id IS NOT NULL AS unit_first,
                   coalesce(r.official_id, r.unit_id) AS id
              FROM notice_recipient r
              LEFT JOIN official o ON o.id = r.official_id
              LEFT JOIN unit un ON un.id = r.unit_id
             WHERE r.notice_id = p_notice) x
$$;

-- The recipients as lines "official<TAB>id<TAB>role<TAB>name" or
-- "unit<TAB>..." joined by newlines ('' for none): what server/methods/
-- notice.c unpacks into the same array as the JSON (names and roles hold
-- no tab or newline: bb_has_control CHECKs on unit.name and official.name),
-- so C needs no JSON parser for it.
CREATE FUNCTION bb_notice_recipient_lines(p_recipients jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(string_agg(
               CASE WHEN e.v ? 'official_id' THEN 'official' || E'\t' || (e.v ->> 'official_id')
                    ELSE 'unit' || E'\t' || (e.v ->> 'unit_id') END
               || E'\t' || (e.v ->> 'role') || E'\t' || (e.v ->> 'name'),
               E'\n' ORDER BY e.n), '')
      FROM jsonb_array_elements(p_recipients) WITH ORDINALITY AS e(v, n)
$$;

-- A notice as the wire shows it (PROTOCOL.md, "Notice"). number is the
-- notice's name on paper, 督〔2026〕12号; kind 'milestone' (project_id,
-- node) or 'problem' (problem_id); dates YYYY-MM-DD, instants bb_ts;
-- read_by / answered_by are user ids, with the users' display names next
-- to them; recipients as bb_notice_recipients.
CREATE VIEW notice_wire AS
SELECT n.id,
       '督〔' || n.year || '〕' || n.seq || '号' AS number,
       n.level,
       n.state,
       CASE WHEN n.problem_id IS NULL THEN 'milestone' ELSE 'problem' END AS kind,
       n.project_id,
       n.node,
       n.problem_id,
       n.township_id::bigint AS township_id,
       t.name AS township,
       n.title,
       to_char(n.due_date, 'YYYY-MM-DD') AS due_date,
       n.days_overdue,
       to_char(n.issued_on, 'YYYY-MM-DD') AS issued_on,
       bb_ts(n.issued_at) AS issued_at,
       n.escalated_from,
       bb_ts(n.read_at) AS read_at,
       n.read_by,
       ur.display_name AS read_by_name,
       bb_ts(n.answered_at) AS answered_at,
       n.answered_by,
       ua.display_name AS answered_by_name,
       n.answer,
       to_char(n.closed_on, 'YYYY-MM-DD') AS closed_on,
       n.close_reason,
       n.version,
       bb_notice_recipients(n.id) AS recipients
  FROM notice n
  JOIN township t ON t.id = n.township_id
  LEFT JOIN app_user ur ON ur.id = n.read_by
  LEFT JOIN app_user ua ON ua.id = n.answered_by;

-- notice_audience: (notice, user) for every user a notice concerns (the
-- rule at the top), disabled users included (the callers that push leave
-- them out; a disabled user has no session to call with). A pair may come
-- more than once. Written as one UNION ALL view so a caller's condition
-- (a notice id range, one user) reaches every branch and its index:
-- notice_recipient_official_idx through official.user_id,
-- notice_recipient_unit_idx through unit.name, notice_township_idx through
-- app_user_township.
CREATE VIEW notice_audience AS
SELECT r.notice_id, o.user_id
  FROM notice_recipient r
  JOIN official o ON o.id = r.official_id
  JOIN app_user u ON u.id = o.user_id
 WHERE u.role <> 'township_staff'
UNION ALL
SELECT r.notice_id, u.id
  FROM notice_recipient r
  JOIN unit un ON un.id = r.unit_id
  JOIN app_user u ON u.unit = un.name
 WHERE u.role <> 'township_staff'
UNION ALL
SELECT n.id, ut.user_id
  FROM notice n
  JOIN app_user_township ut ON ut.township_id = n.township_id;

-- bb_notice_audience: the users each notice with id in [p_first, p_last]
-- concerns (notice_audience), not disabled, one row per (notice, user),
-- ordered.
CREATE FUNCTION bb_notice_audience(p_first bigint, p_last bigint)
RETURNS TABLE (notice_id bigint, user_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT a.notice_id, a.user_id
      FROM notice_audience a
      JOIN app_user u ON u.id = a.user_id AND NOT u.disabled
     WHERE a.notice_id BETWEEN p_first AND p_last
     ORDER BY a.notice_id, a.user_id
$$;

-- The item's township: a milestone's project's, a problem's enterprise's.
CREATE FUNCTION bb_item_township(p_project bigint, p_problem bigint) RETURNS smallint
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT p.township_id FROM project p WHERE p.id = p_project),
                    (SELECT e.township_id FROM problem q JOIN enterprise e ON e.id = q.enterprise_id
                      WHERE q.id = p_problem))
$$;

-- bb_light_audience: the users each light change with id in [p_first,
-- p_last] concerns: the item's responsible officials and units on the
-- change's on_date (011: assignments active that day on the project, or on
-- the problem's enterprise; the project's lead unit; the problem's assignee
-- unit and official) mapped to users as for notices (not township staff),
-- and the township staff of the item's township. One row per (change,
-- user), ordered. bb_light_mine is the same rule for one user.
CREATE FUNCTION bb_light_audience(p_first bigint, p_last bigint)
RETURNS TABLE (change_id bigint, user_id bigint)
LANGUAGE sql STABLE AS $$
    WITH c AS (
        SELECT lc.id, lc.project_id, lc.problem_id, lc.on_date,
               q.enterprise_id, q.assignee_unit_id, q.assignee_official_id,
               p.lead_unit_id,
               bb_item_township(lc.project_id, lc.problem_id) AS township_id
          FROM light_change lc
          LEFT JOIN problem q ON q.id = lc.problem_id
          LEFT JOIN project p ON p.id = lc.project_id
         WHERE lc.id BETWEEN p_first AND p_last),
    people AS (
        -- (change, official, unit): who is responsible on on_date
        SELECT c.id, a.official_id, a.unit_id
          FROM c JOIN assignment a
            ON (a.project_id = c.project_id OR a.enterprise_id = c.enterprise_id)
           AND a.period_start <= c.on_date
           AND (a.period_end IS NULL OR c.on_date <= a.period_end)
        UNION ALL
        SELECT c.id, NULL, c.lead_unit_id FROM c WHERE c.lead_unit_id IS NOT NULL
        UNION ALL
        SELECT c.id, NULL, c.assignee_unit_id FROM c WHERE c.assignee_unit_id IS NOT NULL
        UNION ALL
        SELECT c.id, c.assignee_official_id, NULL FROM c WHERE c.assignee_official_id IS NOT NULL)
    -- Township staff only through the township (the rule at the top).
    SELECT DISTINCT a.change_id, a.user_id
      FROM (SELECT pe.id AS change_id, o.user_id
              FROM people pe
              JOIN official o ON o.id = pe.official_id
              JOIN app_user u ON u.id = o.user_id
             WHERE u.role <> 'township_staff'
            UNION ALL
            SELECT pe.id, u.id
              FROM people pe
              JOIN unit un ON un.id = pe.unit_id
              JOIN app_user u ON u.unit = un.name
             WHERE u.role <> 'township_staff'
            UNION ALL
            SELECT c.id, ut.user_id
              FROM c JOIN app_user_township ut ON ut.township_id = c.township_id) a
      JOIN app_user u ON u.id = a.user_id AND NOT u.disabled
     ORDER BY a.change_id, a.user_id
$$;

-- bb_light_mine: the light changes with id > p_after that concern user
-- p_actor (bb_light_audience's rule, read from the user's side: light.changes'
-- `mine`), each once, unordered. From the indexes: the user's official
-- (official.user_id) and unit (unit.name) -> their assignments
-- (assignment_official_idx, assignment_unit_idx) -> the projects' changes
-- (light_change_milestone_idx) and the enterprises' problems' changes
-- (problem_enterprise_idx, light_change_problem_idx), each kept when the
-- assignment was active on the change's on_date; projects led by the unit
-- (project_lead_unit_idx); problems assigned to the unit or the official
-- (problem_unit_idx, problem_official_idx); for township staff the items
-- of their townships (project_township_idx, enterprises by township). Cost:
-- the user's items' changes, not the whole table; for township staff all
-- the changes of their townships (as light.changes without `mine` reads
-- them). Nothing for a disabled or unknown user. On 120,000 changes (2
-- cores, 2026-12-07): light.changes `mine`, a page of 100, 8-18 ms for a
-- supervisor with 318 or 1,140 changes and for township staff with 6,000;
-- filtering bb_light_audience over all changes instead took 1.6-2.7 s.
CREATE FUNCTION bb_light_mine(p_actor bigint, p_after bigint)
RETURNS TABLE (change_id bigint)
LANGUAGE sql STABLE AS $$
    WITH me AS (
        SELECT u.id, u.role, u.unit FROM app_user u WHERE u.id = p_actor AND NOT u.disabled),
    off AS (
        SELECT o.id FROM me JOIN official o ON o.user_id = me.id
         WHERE me.role <> 'township_staff'),
    un AS (
        SELECT x.id FROM me JOIN unit x ON x.name = me.unit
         WHERE me.role <> 'township_staff'),
    asg AS (
        SELECT a.project_id, a.enterprise_id, a.period_start, a.period_end
          FROM off JOIN assignment a ON a.official_id = off.id
        UNION ALL
        SELECT a.project_id, a.enterprise_id, a.period_start, a.period_end
          FROM un JOIN assignment a ON a.unit_id = un.id)
    SELECT lc.id
      FROM asg JOIN light_change lc ON lc.project_id = asg.project_id
     WHERE lc.id > p_after AND asg.period_start <= lc.on_date
       AND (asg.period_end IS NULL OR lc.on_date <= asg.period_end)
    UNION
    SELECT lc.id
      FROM asg
      JOIN problem q ON q.enterprise_id = asg.enterprise_id
      JOIN light_change lc ON lc.problem_id = q.id
     WHERE lc.id > p_after AND asg.period_start <= lc.on_date
       AND (asg.period_end IS NULL OR lc.on_date <= asg.period_end)
    UNION
    SELECT lc.id
      FROM un JOIN project p ON p.lead_unit_id = un.id
      JOIN light_change lc ON lc.project_id = p.id
     WHERE lc.id > p_after
    UNION
    SELECT lc.id
      FROM un JOIN problem q ON q.assignee_unit_id = un.id
      JOIN light_change lc ON lc.problem_id = q.id
     WHERE lc.id > p_after
    UNION
    SELECT lc.id
      FROM off JOIN problem q ON q.assignee_official_id = off.id
      JOIN light_change lc ON lc.problem_id = q.id
     WHERE lc.id > p_after
    UNION
    SELECT lc.id
      FROM me JOIN app_user_township ut ON ut.user_id = me.id
      JOIN project p ON p.township_id = ut.township_id
      JOIN light_change lc ON lc.project_id = p.id
     WHERE lc.id > p_after
    UNION
    SELECT lc.id
      FROM me JOIN app_user_township ut ON ut.user_id = me.id
      JOIN enterprise e ON e.township_id = ut.township_id
      JOIN problem q ON q.enterprise_id = e.id
      JOIN light_change lc ON lc.problem_id = q.id
     WHERE lc.id > p_after
$$;

-- True when notice p_notice concerns user p_user (notice_audience, for one
-- pair): who may read and answer.
CREATE FUNCTION bb_notice_concerns(p_notice bigint, p_user bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM notice_audience a
                    WHERE a.notice_id = p_notice AND a.user_id = p_user)
$$;

-- notice.list: one page by id ascending after p_after. Filters (NULL:
-- any): p_mine (the caller's notices: notice_audience), p_state, p_level,
-- p_unit (a recipient unit's id), p_township (a name; unknown = nothing),
-- p_unanswered (state issued or read). p_scope: the read scope (township
-- staff see their townships' notices only).
-- Two plans: without `mine` the notice primary key is walked from the
-- cursor, filtered, and the walk stops at p_limit rows; with `mine` the
-- caller's notice ids come from notice_audience's indexes first, then are
-- filtered, sorted and cut (a supervisor with 14 of 181,000 notices: 7 s
-- walking the key with a test per row, 6 ms so; 1,266 of them, a page of
-- 100: 23 ms; 2 cores, 2026-12-07). The Notices (notice_wire, its
-- recipients) are built for the page's rows only.
CREATE FUNCTION bb_notice_list(p_actor bigint, p_scope bigint, p_after bigint, p_mine boolean,
                               p_state text, p_level text, p_unit bigint, p_township text,
                               p_unanswered boolean, p_limit int)
RETURNS SETOF notice_wire
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after constant bigint := coalesce(p_after, 0);
    v_town smallint;
    v_mine boolean := coalesce(p_mine, false);
    v_scope bigint := p_scope;
BEGIN
    -- Township staff: the notices that concern them are exactly those of
    -- their townships (notice_audience's third branch; the first two
    -- leave staff out), i.e. their read scope: the key walk with that
    -- scope, cheaper than gathering all of a township's ids first.
    IF v_mine AND EXISTS (SELECT 1 FROM app_user u
                           WHERE u.id = p_actor AND u.role = 'township_staff') THEN
        v_mine := false;
        v_scope := p_actor;
    END IF;
    IF p_township IS NOT NULL THEN
        SELECT t.id INTO v_town FROM township t WHERE t.name = p_township;
        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;
    IF v_mine THEN
        RETURN QUERY
        SELECT w.*
          FROM (SELECT n.id
                  FROM (SELECT DISTINCT a.notice_id FROM notice_audience a
                         WHERE a.user_id = p_actor AND a.notice_id > v_after) m
                  JOIN notice n ON n.id = m.notice_id
                 WHERE bb_scope_has(v_scope, n.township_id)
                   AND (p_state IS NULL OR n.state = p_state)
                   AND (p_level IS NULL OR n.level = p_level)
                   AND (v_town IS NULL OR n.township_id = v_town)
                   AND (p_unit IS NULL OR EXISTS (SELECT 1 FROM notice_recipient r
                                                   WHERE r.notice_id = n.id
                                                     AND r.unit_id = p_unit))
                   AND (NOT coalesce(p_unanswered, false) OR n.state IN ('issued', 'read'))
                 ORDER BY n.id
                 LIMIT p_limit) k
          JOIN notice_wire w ON w.id = k.id
         ORDER BY w.id;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT w.*
      FROM (SELECT n.id
              FROM notice n
             WHERE n.id > v_after
               AND bb_scope_has(v_scope, n.township_id)
               AND (p_state IS NULL OR n.state = p_state)
               AND (p_level IS NULL OR n.level = p_level)
               AND (v_town IS NULL OR n.township_id = v_town)
               AND (p_unit IS NULL OR EXISTS (SELECT 1 FROM notice_recipient r
                                               WHERE r.notice_id = n.id AND r.unit_id = p_unit))
               AND (NOT coalesce(p_unanswered, false) OR n.state IN ('issued', 'read'))
             ORDER BY n.id
             LIMIT p_limit) k
      JOIN notice_wire w ON w.id = k.id
     ORDER BY w.id;
END
$$;

-- The notice p_id for a write by u, locked: BB404 (field id) when it does
-- not exist or lies outside a township staff user's townships (the same
-- error: scope cannot be probed); BB403 (field id) when it does not concern
-- u and u is not a supervisor (a supervisor may act on any notice, and is
-- recorded as the one who did).
CREATE FUNCTION bb_notice_lock(u app_user, p_id bigint) RETURNS notice
LANGUAGE plpgsql AS $$
DECLARE
    cur notice;
BEGIN
    SELECT * INTO cur FROM notice n WHERE n.id = p_id FOR UPDATE;
    IF NOT FOUND OR NOT bb_in_scope(u, cur.township_id) THEN
        RAISE EXCEPTION 'notice % does not exist', p_id USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    IF u.role <> 'supervisor' AND NOT bb_notice_concerns(p_id, u.id) THEN
        RAISE EXCEPTION 'notice % is not addressed to you: only its recipients and supervisors '
                        'read and answer it', p_id
            USING ERRCODE = 'BB403', COLUMN = 'id';
    END IF;
    RETURN cur;
END
$$;

-- notice.read: issued -> read (read_at, read_by). A notice read already,
-- answered or closed is left as it is (reading is idempotent; a closed
-- notice stays closed) and no audit row is written for it.
CREATE FUNCTION bb_notice_read(p_actor bigint, p_addr text, p_key text, p_id bigint)
RETURNS notice_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'notice.read';
    u app_user := bb_actor_role(p_actor, m, ARRAY['township_staff', 'supervisor']);
    prev jsonb;
    cur notice;
    before_row notice_wire;
    out_row notice_wire;
BEGIN
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(p_actor, p_id)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::notice_wire, prev);
    END IF;
    cur := bb_notice_lock(u, p_id);
    IF cur.state <> 'issued' THEN
        SELECT * INTO out_row FROM notice_wire w WHERE w.id = p_id;
        PERFORM bb_idem_finish(m, p_key, to_jsonb(out_row));
        RETURN out_row;
    END IF;
    SELECT * INTO before_row FROM notice_wire w WHERE w.id = p_id;
    UPDATE notice SET state = 'read', read_at = now(), read_by = u.id, version = version + 1
     WHERE id = p_id;
    SELECT * INTO out_row FROM notice_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'notice', p_id, to_jsonb(before_row), out_row);
END
$$;

-- notice.answer: issued | read | answered -> answered, with what was done
-- (p_note, 1..2000 characters; a second answer replaces the first, and the
-- audit log keeps both). Answering reads the notice too when it was not
-- read. A closed notice takes no answer: BB400, field id.
CREATE FUNCTION bb_notice_answer(p_actor bigint, p_addr text, p_key text, p_id bigint,
                                 p_note text)
RETURNS notice_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'notice.answer';
    u app_user := bb_actor_role(p_actor, m, ARRAY['township_staff', 'supervisor']);
    prev jsonb;
    cur notice;
    before_row notice_wire;
    out_row notice_wire;
BEGIN
    IF p_note IS NULL OR btrim(p_note) = '' OR char_length(p_note) > 2000 THEN
        RAISE EXCEPTION 'note: an answer says what was done, 1 to 2000 characters'
            USING ERRCODE = 'BB400', COLUMN = 'note';
    END IF;
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(p_actor, p_id, p_note)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::notice_wire, prev);
    END IF;
    cur := bb_notice_lock(u, p_id);
    IF cur.state = 'closed' THEN
        RAISE EXCEPTION 'notice % is closed (its item is %): it takes no answer',
                        p_id, CASE cur.close_reason WHEN 'done' THEN 'done' ELSE 'no longer supervised' END
            USING ERRCODE = 'BB400', COLUMN = 'id';
    END IF;
    SELECT * INTO before_row FROM notice_wire w WHERE w.id = p_id;
    UPDATE notice
       SET state = 'answered', answer = p_note, answered_at = now(), answered_by = u.id,
           read_at = coalesce(read_at, now()), read_by = coalesce(read_by, u.id),
           version = version + 1
     WHERE id = p_id;
    SELECT * INTO out_row FROM notice_wire w WHERE w.id = p_id;
    RETURN bb_write_done(u.id, p_addr, m, p_key, 'notice', p_id, to_jsonb(before_row), out_row);
END
$$;

-- bb_notice_stats: the notices issued on days in [p_from, p_to] (NULL: an
-- open end), counted by recipient unit (p_by 'unit': a notice counts once
-- for every unit it is addressed to; notices addressed to no unit are not
-- counted) or by township (p_by 'township'). p_scope: the read scope (a
-- township staff user's id: their townships' notices only; NULL: all).
-- Counts: issued (all), read (read at some time: read_at set, also when
-- answered or closed since), answered (answered at some time), unanswered
-- (state issued or read: waiting for an answer now), closed, red and
-- escalated (by level). Rows: only keys with a notice; the most
-- unanswered first, then the most issued, then key_id.
CREATE FUNCTION bb_notice_stats(p_by text, p_scope bigint, p_from date, p_to date)
RETURNS TABLE (key_id bigint, name text, issued int, read int, answered int, unanswered int,
               closed int, red int, escalated int)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    IF p_by IS NULL OR p_by NOT IN ('unit', 'township') THEN
        RAISE EXCEPTION 'by: unit or township, not %', coalesce(p_by, 'NULL')
            USING ERRCODE = 'BB400', COLUMN = 'by';
    END IF;
    RETURN QUERY
    WITH n AS (
        SELECT x.* FROM notice x
         WHERE (p_from IS NULL OR x.issued_on >= p_from)
           AND (p_to IS NULL OR x.issued_on <= p_to)
           AND bb_scope_has(p_scope, x.township_id)),
    k AS (
        SELECT r.unit_id AS key_id, n.*
          FROM n JOIN notice_recipient r ON r.notice_id = n.id AND r.unit_id IS NOT NULL
         WHERE p_by = 'unit'
        UNION ALL
        SELECT n.township_id::bigint, n.* FROM n WHERE p_by = 'township')
    SELECT k.key_id,
           coalesce((SELECT un.name FROM unit un WHERE p_by = 'unit' AND un.id = k.key_id),
                    (SELECT t.name FROM township t WHERE p_by = 'township' AND t.id = k.key_id)),
           count(*)::int,
           count(*) FILTER (WHERE k.read_at IS NOT NULL)::int,
           count(*) FILTER (WHERE k.answered_at IS NOT NULL)::int,
           count(*) FILTER (WHERE k.state IN ('issued', 'read'))::int,
           count(*) FILTER (WHERE k.state = 'closed')::int,
           count(*) FILTER (WHERE k.level = 'red')::int,
           count(*) FILTER (WHERE k.level = 'escalated')::int
      FROM k
     GROUP BY k.key_id
     ORDER BY 6 DESC, 3 DESC, 1;
END
$$;
