-- 021_visits.sql: reporting-cycle completeness (issue 12): which
-- enterprises were visited (have a status report) in the current reporting
-- cycle, per township: coverage.visits (server/methods/visits.c), the
-- workbook's 走访完成情况 sheet (server/methods/report_visits.c) and
-- todo.mine's unvisited list (bb_todo, replaced below) all apply the one
-- rule of bb_visit_state.
--
-- The rule (bb_visit_state): an enterprise counts when its status is not
-- 注销 (nothing left to visit); it was visited in the cycle when its latest
-- status report dated up to the day asked (p_on: the server's today by
-- default, never CURRENT_DATE) is dated on or after the cycle's first day.
-- A report dated after p_on does not count yet (a pinned clock in tests,
-- a date typed ahead). A withdrawn report (020's withdrawn_at) never
-- counts: the visit it claimed is taken back. A corrected one counts with
-- its corrected date (020 corrects in place).
--
-- The cycle: visit_cycle_months (a server setting: 1, 2, 3, 4, 6 or 12)
-- calendar months, counted from 1 January, so 3 gives the quarters the
-- county reports by (1-3, 4-6, 7-9, 10-12 月). bb_visit_cycle_start
-- gives the first day of the cycle of a day; the server checks the
-- setting, these functions trust it.
--
-- Not for: the reports' own sheets 乡镇汇总 and 本月未走访 (report.c: a
-- calendar month, their own SELECTs), the status reports themselves (001,
-- 003), paging (a township's list is cut at p_limit; its counts say how
-- many there are).
--
-- Plans: bb_visit_state is a plain SQL function (no SET, not STRICT) so
-- the planner inlines it into the query that calls it: a walk of
-- enterprise_township_idx for the township with one probe of
-- status_report_enterprise_idx (enterprise_id, report_date DESC, id DESC)
-- per enterprise, as 017 did. bb_visits turns sequential scans off like
-- 011 and 017 (the end of 003_group_commit.sql: a plan made on a nearly
-- empty database must not stay a scan as it grows); the inlined rule runs
-- under the setting of the function that calls it.

-- The first day of the cycle of p_months months (counted from 1 January)
-- that holds p_on.
CREATE FUNCTION bb_visit_cycle_start(p_on date, p_months integer) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT make_date(extract(year FROM p_on)::int,
                     (extract(month FROM p_on)::int - 1) / p_months * p_months + 1, 1)
$$;

-- Every enterprise of township p_township that is not 注销: its id, name,
-- its last visit (the latest report_date up to p_on of a report not
-- withdrawn, NULL when none) and whether that visit falls in
-- [p_start, p_on].
CREATE FUNCTION bb_visit_state(p_township smallint, p_start date, p_on date)
RETURNS TABLE (id bigint, name text, last_visit date, visited boolean)
LANGUAGE sql STABLE AS $$
    SELECT e.id, e.name, lv.report_date, coalesce(lv.report_date >= p_start, false)
      FROM enterprise e
      LEFT JOIN LATERAL (SELECT s.report_date FROM status_report s
                          WHERE s.enterprise_id = e.id AND s.report_date <= p_on
                            AND s.withdrawn_at IS NULL
                          ORDER BY s.report_date DESC LIMIT 1) lv ON true
     WHERE e.township_id = p_township AND e.status <> '注销'
$$;

-- coverage.visits and the workbook: the townships of p_scope (a township
-- staff user's id; NULL: every township), or only the one named p_township
-- (an unknown name, or one outside the scope, gives none), and for each
-- its counts and its first p_limit enterprises not visited in the cycle of
-- p_months months that holds p_on. A retired township is listed only while
-- it still has enterprises to visit.
--
-- Rows (one result, one snapshot). sec says what a row is; only that
-- section's columns are filled, the others NULL:
--   'c' the cycle, exactly one, first: c_start, c_end (its first and last
--       days, YYYY-MM-DD);
--   't' a township, in id order: t_id, t_name, t_enterprises (not 注销),
--       t_visited (of those, visited in the cycle up to p_on);
--   'u' an enterprise not visited: t_id, t_name, u_id, u_name,
--       u_last_visit (YYYY-MM-DD, NULL when never). They follow all the
--       't' rows, by township id, and within a township never visited
--       first, then the longest unvisited, then id (todo.mine's order).
CREATE FUNCTION bb_visits(p_scope bigint, p_township text, p_on date, p_months integer,
                          p_limit integer)
RETURNS TABLE (sec text, c_start text, c_end text, t_id smallint, t_name text,
               t_enterprises bigint, t_visited bigint, u_id bigint, u_name text,
               u_last_visit text)
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    cycle_start date := bb_visit_cycle_start(p_on => p_on, p_months => p_months);
    towns smallint[] := ARRAY(
        SELECT t.id FROM township t
         WHERE (p_township IS NULL OR t.name = p_township)
           AND (p_scope IS NULL
                OR t.id IN (SELECT ut.township_id FROM app_user_township ut
                             WHERE ut.user_id = p_scope))
         ORDER BY t.id);
BEGIN
    RETURN QUERY
    SELECT 'c'::text, to_char(cycle_start, 'YYYY-MM-DD'),
           to_char(cycle_start + make_interval(months => p_months) - interval '1 day',
                   'YYYY-MM-DD'),
           NULL::smallint, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text,
           NULL::text;

    RETURN QUERY
    SELECT 't'::text, NULL::text, NULL::text, t.id, t.name, n.enterprises, n.visited,
           NULL::bigint, NULL::text, NULL::text
      FROM township t
     CROSS JOIN LATERAL (SELECT count(*) AS enterprises,
                                count(*) FILTER (WHERE v.visited) AS visited
                           FROM bb_visit_state(p_township => t.id, p_start => cycle_start,
                                               p_on => p_on) v) n
     WHERE t.id = ANY (towns) AND (t.retired_at IS NULL OR n.enterprises > 0)
     ORDER BY t.id;

    RETURN QUERY
    SELECT 'u'::text, NULL::text, NULL::text, t.id, t.name, NULL::bigint, NULL::bigint,
           x.id, x.name, to_char(x.last_visit, 'YYYY-MM-DD')
      FROM township t
     CROSS JOIN LATERAL (SELECT v.id, v.name, v.last_visit
                           FROM bb_visit_state(p_township => t.id, p_start => cycle_start,
                                               p_on => p_on) v
                          WHERE NOT v.visited
                          ORDER BY v.last_visit NULLS FIRST, v.id
                          LIMIT p_limit) x
     WHERE t.id = ANY (towns)
     ORDER BY t.id, x.last_visit NULLS FIRST, x.id;
END
$$;

-- todo.mine (017) with its unvisited list taken from bb_visit_state: the
-- same rows in the same order as before (the reporting month is a cycle of
-- one month), and withdrawn reports left out. Only the 'u' query changed.
CREATE OR REPLACE FUNCTION bb_todo(p_actor bigint, p_today date, p_within integer, p_limit integer)
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

        -- The rule of bb_visit_state, as coverage.visits and the workbook's
        -- 走访完成情况 apply it: the reporting month is a cycle of one month.
        RETURN QUERY
        SELECT 'u'::text,
               NULL::text, NULL::bigint, NULL::text, NULL::bigint, NULL::text, NULL::text,
               NULL::text,
               v.id, v.name, t.name, to_char(v.last_visit, 'YYYY-MM-DD'),
               NULL::bigint, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::text,
               NULL::text, NULL::integer, NULL::text, NULL::text, NULL::text,
               NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::text,
               NULL::integer, NULL::text, NULL::text, NULL::text
          FROM app_user_township ut
          JOIN township t ON t.id = ut.township_id
          CROSS JOIN LATERAL bb_visit_state(p_township => ut.township_id, p_start => month_start,
                                            p_on => p_today) v
         WHERE ut.user_id = u.id AND NOT v.visited
         ORDER BY v.last_visit NULLS FIRST, v.id
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
     ORDER BY m.planned_date, m.project_id, bb_stage_rank(m.node)   -- lifecycle order (022)
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
