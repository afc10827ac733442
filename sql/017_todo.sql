-- 017_todo.sql: todo.mine (issue 11), what is waiting for the caller, as
-- one stored function whose rows server/methods/todo.c packs.
--
-- For: bb_todo. Who the caller is comes from the database, not from the
-- session (a role changed since the login is seen here, BB403 as the
-- server's gate answers it):
--   township staff: the enterprises of their townships not visited in the
--     reporting month, and the open problems of their townships whose
--     deadline has passed or falls within p_within days (the township's
--     problems are its staff's to follow, whoever they are assigned to);
--   supervisors: the overdue milestones and problems of their unit (the
--     unit named by app_user.unit) and of themselves (the official whose
--     user_id is theirs): the rows of bb_overdue_milestones and
--     bb_overdue_problems (011) for p_unit and for p_official, merged.
-- Admins are refused (BB403): they have no townships, no unit and no
-- responsibility of their own, so an empty list would claim "nothing is
-- waiting" about nobody.
--
-- The reporting month is the calendar month of p_today (the server's today
-- in its time_zone, never CURRENT_DATE). An enterprise counts as visited
-- when its latest status report dated up to today is dated in that month:
-- the rule of the export's 本月未走访 column (server/methods/report.c).
-- 注销 enterprises are never listed (nothing left to visit).
--
-- Not for: the traffic lights (the server gives them from
-- overdue_red_after_days, as for overdue.*), the people of a row (011's
-- functions), paging: each list is cut at p_limit rows (the server asks
-- one more than it shows, to say whether a list was cut).
--
-- Rows (one result: one round trip, one snapshot). sec says what a row is,
-- and only that section's columns are filled, the others NULL:
--   'h' the header, exactly one: h_role, the official (h_official_id,
--       h_official_name) and the unit (h_unit_id, h_unit_name) the user maps
--       to (NULL when none), h_today;
--   't' one of the user's townships (township staff), h_township, in the
--       township list's order (id);
--   'u' an enterprise not visited (township staff): id, name, township,
--       the last visit (the latest report_date up to today, NULL when
--       never), never visited first, then the longest unvisited, then id;
--   'm' an overdue milestone (supervisors): the columns of
--       bb_overdue_milestones, in its order;
--   'p' a problem: the columns of bb_overdue_problems, in its order.
--
-- Plans: the unvisited list walks the user's townships' enterprises
-- (enterprise_township_idx) with one probe of status_report_enterprise_idx
-- each; the problems and milestones are 011's index walks. Sequential
-- scans are off, as in 011: a plan made on a nearly empty database must
-- not stay a scan as it grows (the end of 003_group_commit.sql).

CREATE FUNCTION bb_todo(p_actor bigint, p_today date, p_within integer, p_limit integer)
RETURNS TABLE (sec text,
               h_role text, h_official_id bigint, h_official_name text, h_unit_id bigint,
               h_unit_name text, h_township text, h_today text,
               u_id bigint, u_name text, u_township text, u_last_visit text,
               m_project_id bigint, m_node text, m_name text, m_township text,
               m_enterprise_id bigint, m_enterprise_name text, m_planned_date text,
               m_days_overdue integer, m_stage text, m_officials text, m_units text,
               q_problem_id bigint, q_description text, q_township text, q_enterprise_id bigint,
               q_enterprise_name text, q_deadline text, q_days_overdue integer, q_state text,
               q_officials text, q_units text)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    u app_user := bb_actor_role(p_actor, 'todo.mine', ARRAY['township_staff', 'supervisor']);
    staff boolean := u.role = 'township_staff';
    my_official official;
    my_unit unit;
    month_start date := make_date(extract(year FROM p_today)::int,
                                  extract(month FROM p_today)::int, 1);
BEGIN
    SELECT * INTO my_official FROM official o WHERE o.user_id = u.id;
    SELECT * INTO my_unit FROM unit x WHERE x.name = u.unit;

    RETURN QUERY
    SELECT 'h'::text, u.role, my_official.id, my_official.name, my_unit.id, my_unit.name,
           NULL::text, to_char(p_today, 'YYYY-MM-DD'),
           NULL::bigint, NULL::text, NULL::text, NULL::text,
           NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
           NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text,
           NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::text,
           NULL::integer, NULL::text, NULL::text, NULL::text;

    IF staff THEN
        RETURN QUERY
        SELECT 't'::text,
               NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::text, t.name,
               NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
               NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::text,
               NULL::integer, NULL::text, NULL::text, NULL::text
          FROM app_user_township ut JOIN township t ON t.id = ut.township_id
         WHERE ut.user_id = u.id
         ORDER BY t.id;

        RETURN QUERY
        SELECT 'u'::text,
               NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::text, NULL::text,
               NULL::text,
               e.id, e.name, t.name, to_char(lv.report_date, 'YYYY-MM-DD'),
               NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
               NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::text,
               NULL::integer, NULL::text, NULL::text, NULL::text
          FROM app_user_township ut
          JOIN township t ON t.id = ut.township_id
          JOIN enterprise e ON e.township_id = ut.township_id
          LEFT JOIN LATERAL (SELECT s.report_date FROM status_report s
                              WHERE s.enterprise_id = e.id AND s.report_date <= p_today
                              ORDER BY s.report_date DESC LIMIT 1) lv ON true
         WHERE ut.user_id = u.id AND e.status <> '注销'
           AND (lv.report_date IS NULL OR lv.report_date < month_start)
         ORDER BY lv.report_date NULLS FIRST, e.id
         LIMIT p_limit;

        -- The township's open problems, late or due by today + p_within.
        RETURN QUERY
        SELECT 'p'::text,
               NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::text, NULL::text,
               NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
               NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text,
               q.*
          FROM bb_overdue_problems(p_today => p_today, p_lo => '-infinity'::date,
                                   p_hi => p_today + p_within + 1,
                                   p_after_date => '-infinity'::date, p_after_id => 0,
                                   p_township => NULL, p_cluster => NULL, p_state => NULL,
                                   p_official => NULL, p_unit => NULL, p_scope => u.id,
                                   p_limit => p_limit) q
         ORDER BY q.deadline, q.problem_id;
        RETURN;
    END IF;

    -- Supervisors: late rows (before today) of their unit and of their own,
    -- each call cut at p_limit in the order of the merge, so the first
    -- p_limit of the union are among them. A call whose official or unit
    -- does not exist is a false one-time filter: it does not run (011 with
    -- both NULL would list everyone's). UNION drops a row both give.
    RETURN QUERY
    SELECT 'm'::text,
           NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::text, NULL::text,
           NULL::text,
           NULL::bigint, NULL::text, NULL::text, NULL::text,
           m.*,
           NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::text,
           NULL::integer, NULL::text, NULL::text, NULL::text
      FROM (SELECT * FROM bb_overdue_milestones(
                p_today => p_today, p_lo => '-infinity'::date, p_hi => p_today,
                p_after_date => '-infinity'::date, p_after_id => 0, p_after_node => '',
                p_township => NULL, p_cluster => NULL, p_stage => NULL, p_official => my_official.id,
                p_unit => NULL, p_scope => NULL, p_limit => p_limit)
             WHERE my_official.id IS NOT NULL
            UNION
            SELECT * FROM bb_overdue_milestones(
                p_today => p_today, p_lo => '-infinity'::date, p_hi => p_today,
                p_after_date => '-infinity'::date, p_after_id => 0, p_after_node => '',
                p_township => NULL, p_cluster => NULL, p_stage => NULL, p_official => NULL,
                p_unit => my_unit.id, p_scope => NULL, p_limit => p_limit)
             WHERE my_unit.id IS NOT NULL) m
     ORDER BY m.planned_date, m.project_id, m.node
     LIMIT p_limit;

    RETURN QUERY
    SELECT 'p'::text,
           NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::text, NULL::text,
           NULL::text,
           NULL::bigint, NULL::text, NULL::text, NULL::text,
           NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
           NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text,
           q.*
      FROM (SELECT * FROM bb_overdue_problems(
                p_today => p_today, p_lo => '-infinity'::date, p_hi => p_today,
                p_after_date => '-infinity'::date, p_after_id => 0, p_township => NULL,
                p_cluster => NULL, p_state => NULL, p_official => my_official.id, p_unit => NULL,
                p_scope => NULL, p_limit => p_limit)
             WHERE my_official.id IS NOT NULL
            UNION
            SELECT * FROM bb_overdue_problems(
                p_today => p_today, p_lo => '-infinity'::date, p_hi => p_today,
                p_after_date => '-infinity'::date, p_after_id => 0, p_township => NULL,
                p_cluster => NULL, p_state => NULL, p_official => NULL, p_unit => my_unit.id,
                p_scope => NULL, p_limit => p_limit)
             WHERE my_unit.id IS NOT NULL) q
     ORDER BY q.deadline, q.problem_id
     LIMIT p_limit;
END
$$;
