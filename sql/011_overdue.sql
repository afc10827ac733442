-- 011_overdue.sql: what overdue.* and due.* (server/overdue.c) need in the
-- database besides their two SELECTs: the people responsible for a row.
--
-- For: bb_project_officials, bb_project_units (a milestone row: the
-- project's active assignments, and its lead unit), bb_enterprise_officials,
-- bb_enterprise_units (a problem row: the enterprise's active assignments,
-- and the problem's assignee), each a call of bb_overdue_people. Each
-- returns one text value, the list as lines "id<TAB>role<TAB>name" joined
-- by newlines (NULL for none), which overdue.c unpacks into [{id, name,
-- role}]: names and roles cannot hold a tab or a newline (bb_has_control
-- CHECKs on unit.name and official.name).
-- Not for: the overdue queries themselves (their text sits next to the C
-- code that runs them, and in bench/pgbench/overdue.sql), nor the tables
-- (007).
--
-- Roles in these lists: the assignment roles of 007 (包保市领导, 联络员 for
-- officials; 责任单位 for units), plus three that are not assignments:
-- 牵头单位 (the project's lead unit, project.lead_unit_id), 承办单位 and
-- 承办人 (the unit and official a problem is assigned to). An assignment is
-- active on day D when period_start <= D and (period_end IS NULL or
-- D <= period_end); D is the server's "today" in its time zone, passed in.
--
-- Order within a list: by role (the order above), then by id, so the same
-- data always reads the same.
--
-- Plans: each list probes assignment by project_id or enterprise_id
-- (assignment_project_idx, assignment_enterprise_idx) for at most one page
-- of rows per call of a method.

CREATE FUNCTION bb_overdue_role_rank(p_role text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_position(ARRAY['包保市领导', '联络员', '承办人',
                                '责任单位', '牵头单位', '承办单位'], p_role)
$$;

-- The people of one row, of one kind (p_units: units, else officials):
-- the holders of that kind of the assignments active on p_today on project
-- p_project or on enterprise p_enterprise (the other one NULL), and p_extra
-- (NULL: none) in role p_extra_role when it is of that kind and exists.
-- The four functions below name what each list is; the planner inlines
-- them into the queries, so a row costs one call of this, as before.
-- Each branch of the UNION ALL is one probe of assignment_project_idx or
-- assignment_enterprise_idx (the one given NULL finds nothing at once),
-- with the active-period filter pushed into it; the LEFT JOIN of the kind
-- not wanted is switched off by its constant condition.
CREATE FUNCTION bb_overdue_people(p_units boolean, p_project bigint, p_enterprise bigint,
                                  p_extra bigint, p_extra_role text, p_today date)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(h.id || E'\t' || x.role || E'\t' || h.name, E'\n'
                      ORDER BY bb_overdue_role_rank(x.role), h.id)
      FROM (SELECT a.official_id, a.unit_id, a.role, a.period_start, a.period_end
              FROM assignment a WHERE a.project_id = p_project
            UNION ALL
            SELECT a.official_id, a.unit_id, a.role, a.period_start, a.period_end
              FROM assignment a WHERE a.enterprise_id = p_enterprise
            UNION ALL
            SELECT p_extra, p_extra, p_extra_role, p_today, NULL WHERE p_extra IS NOT NULL) x
      LEFT JOIN official o ON NOT p_units AND o.id = x.official_id
      LEFT JOIN unit un ON p_units AND un.id = x.unit_id
     CROSS JOIN LATERAL (SELECT coalesce(o.id, un.id) AS id, coalesce(o.name, un.name) AS name) h
     WHERE h.id IS NOT NULL
       AND x.period_start <= p_today AND (x.period_end IS NULL OR p_today <= x.period_end)
$$;

-- The officials with an assignment on project p_project active on p_today.
CREATE FUNCTION bb_project_officials(p_project bigint, p_today date) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT bb_overdue_people(false, p_project, NULL, NULL, NULL, p_today)
$$;

-- The units of project p_project: 责任单位 assignments active on p_today,
-- and the lead unit (牵头单位) when it has one.
CREATE FUNCTION bb_project_units(p_project bigint, p_lead_unit bigint, p_today date)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT bb_overdue_people(true, p_project, NULL, p_lead_unit, '牵头单位', p_today)
$$;

-- The officials of a problem: those with an assignment on its enterprise
-- active on p_today, and the official it is assigned to (承办人).
CREATE FUNCTION bb_enterprise_officials(p_enterprise bigint, p_assignee bigint, p_today date)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT bb_overdue_people(false, NULL, p_enterprise, p_assignee, '承办人', p_today)
$$;

-- The units of a problem: 责任单位 of its enterprise active on p_today, and
-- the unit it is assigned to (承办单位).
CREATE FUNCTION bb_enterprise_units(p_enterprise bigint, p_assignee bigint, p_today date)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT bb_overdue_people(true, NULL, p_enterprise, p_assignee, '承办单位', p_today)
$$;

-- ---- the two queries ----
--
-- overdue.* and due.* call these with bounds server/overdue.c works out:
-- p_today is the server's today in its time zone; [p_lo, p_hi) the range
-- of planned dates (deadlines) wanted: the level (red: before today - R;
-- yellow: from today - R to yesterday), the overdue window (before today)
-- or the due window (today to today + N); p_after_* the keyset cursor, the
-- last row of the previous page ('-infinity', 0, '' for the first page);
-- p_scope the read scope (a township staff user's id, NULL for everyone);
-- p_limit the rows wanted (one more than the page, to learn whether a next
-- page exists). NULL filters match everything; an unknown township or
-- cluster name matches nothing.
--
-- Order: planned date (deadline) ascending, then project id and node (then
-- problem id): the order of the partial indexes project_milestone_open_idx
-- and problem_open_idx (007). Nothing computed stands in WHERE or ORDER BY,
-- so PostgreSQL walks the index from the cursor and stops after p_limit
-- rows that pass the filters: cheap whatever the number of open rows.
--
-- Plans: plpgsql keeps one plan per connection, and after five calls a
-- generic one, made without the parameters' values. For these queries the
-- generic plan of the problems query was measured to read every open
-- problem through a bitmap scan and sort them (17 ms on 100,000 projects
-- and 20,000 problems) instead of walking problem_open_idx (1 ms), because
-- it cannot tell how many rows the `p_x IS NULL OR ...` filters keep. Sorts
-- and bitmap scans are switched off inside both functions, so the only
-- plan left is the walk of the index in its order (docs/benchmarks.md has
-- the EXPLAIN). The exception is the official_id filter: an official's
-- portfolio is small, and walking the index for it would read every late
-- row (0.5 s on the benchmark's data), so with p_official the functions
-- start from the official's assignments and sort that handful instead.
-- Projects that ended (终止, 竣工) are not supervised. A project's
-- investor enterprise is shown only when it lies in the caller's scope: a
-- project of a township may have an investor registered in another one,
-- whose name township staff of the first must not learn here.
-- Sequential scans are off too: a plan made while the tables were nearly
-- empty (a fresh start) must not stay a scan as they grow (see the end of
-- 003_group_commit.sql).

CREATE FUNCTION bb_overdue_milestones(p_today date, p_lo date, p_hi date, p_after_date date,
                                      p_after_id bigint, p_after_node text, p_township text,
                                      p_cluster text, p_stage text, p_official bigint,
                                      p_unit bigint, p_scope bigint, p_limit int)
RETURNS TABLE (project_id bigint, node text, name text, township text, enterprise_id bigint,
               enterprise_name text, planned_date text, days_overdue integer, stage text,
               officials text, units text)
LANGUAGE plpgsql STABLE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
    IF p_official IS NOT NULL THEN
        -- One official's projects (a portfolio: tens, at most a few thousand):
        -- from the official's assignments to their open milestones, sorted.
        -- Walking the whole index for them would read every late milestone.
        PERFORM set_config('enable_sort', 'on', true);
        RETURN QUERY
        SELECT k.project_id, k.node, p.name, t.name, e.id, e.name,
               to_char(k.planned_date, 'YYYY-MM-DD'), p_today - k.planned_date, p.stage,
               bb_project_officials(k.project_id, p_today),
               bb_project_units(k.project_id, p.lead_unit_id, p_today)
          FROM (SELECT m.planned_date, m.project_id, m.node
                  FROM project p
                  JOIN project_milestone m ON m.project_id = p.id
                 WHERE p.id IN (SELECT a.project_id FROM assignment a
                                 WHERE a.official_id = p_official AND a.project_id IS NOT NULL
                                   AND a.period_start <= p_today
                                   AND (a.period_end IS NULL OR p_today <= a.period_end))
                   AND m.actual_date IS NULL AND m.planned_date IS NOT NULL
                   AND m.planned_date >= p_lo AND m.planned_date < p_hi
                   AND (m.planned_date, m.project_id, m.node)
                       > (p_after_date, p_after_id, p_after_node)
                   AND p.stage NOT IN ('终止', '竣工')
                   AND (p_township IS NULL
                        OR p.township_id = (SELECT tt.id FROM township tt
                                             WHERE tt.name = p_township))
                   AND (p_cluster IS NULL OR p.cluster = p_cluster)
                   AND (p_stage IS NULL OR p.stage = p_stage)
                   AND (p_unit IS NULL OR p.lead_unit_id = p_unit
                        OR EXISTS (SELECT 1 FROM assignment a
                                    WHERE a.project_id = p.id AND a.unit_id = p_unit
                                      AND a.period_start <= p_today
                                      AND (a.period_end IS NULL OR p_today <= a.period_end)))
                   AND (p_scope IS NULL
                        OR p.township_id IN (SELECT ut.township_id FROM app_user_township ut
                                              WHERE ut.user_id = p_scope))
                 ORDER BY m.planned_date, m.project_id, m.node
                 LIMIT p_limit) k
          JOIN project p ON p.id = k.project_id
          JOIN township t ON t.id = p.township_id
          LEFT JOIN enterprise e ON e.id = p.enterprise_id
                                AND bb_scope_has(p_scope, e.township_id)
         ORDER BY k.planned_date, k.project_id, k.node;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT k.project_id, k.node, p.name, t.name, e.id, e.name,
           to_char(k.planned_date, 'YYYY-MM-DD'), p_today - k.planned_date, p.stage,
           bb_project_officials(k.project_id, p_today),
           bb_project_units(k.project_id, p.lead_unit_id, p_today)
      FROM (SELECT m.planned_date, m.project_id, m.node
              FROM project_milestone m
              JOIN project p ON p.id = m.project_id
             WHERE m.actual_date IS NULL AND m.planned_date IS NOT NULL
               AND m.planned_date >= p_lo AND m.planned_date < p_hi
               AND (m.planned_date, m.project_id, m.node) > (p_after_date, p_after_id, p_after_node)
               AND p.stage NOT IN ('终止', '竣工')
               AND (p_township IS NULL
                    OR p.township_id = (SELECT tt.id FROM township tt WHERE tt.name = p_township))
               AND (p_cluster IS NULL OR p.cluster = p_cluster)
               AND (p_stage IS NULL OR p.stage = p_stage)
               AND (p_official IS NULL
                    OR EXISTS (SELECT 1 FROM assignment a
                                WHERE a.project_id = p.id AND a.official_id = p_official
                                  AND a.period_start <= p_today
                                  AND (a.period_end IS NULL OR p_today <= a.period_end)))
               AND (p_unit IS NULL OR p.lead_unit_id = p_unit
                    OR EXISTS (SELECT 1 FROM assignment a
                                WHERE a.project_id = p.id AND a.unit_id = p_unit
                                  AND a.period_start <= p_today
                                  AND (a.period_end IS NULL OR p_today <= a.period_end)))
               AND (p_scope IS NULL
                    OR p.township_id IN (SELECT ut.township_id FROM app_user_township ut
                                          WHERE ut.user_id = p_scope))
             ORDER BY m.planned_date, m.project_id, m.node
             LIMIT p_limit) k
      JOIN project p ON p.id = k.project_id
      JOIN township t ON t.id = p.township_id
      LEFT JOIN enterprise e ON e.id = p.enterprise_id
                                AND bb_scope_has(p_scope, e.township_id)
     ORDER BY k.planned_date, k.project_id, k.node;
END
$$;

-- Problems: open means not 确认 (problem_open_idx's predicate); township,
-- cluster and scope are the enterprise's; official and unit match the
-- assignee or an active assignment on the enterprise.
CREATE FUNCTION bb_overdue_problems(p_today date, p_lo date, p_hi date, p_after_date date,
                                    p_after_id bigint, p_township text, p_cluster text,
                                    p_state text, p_official bigint, p_unit bigint,
                                    p_scope bigint, p_limit int)
RETURNS TABLE (problem_id bigint, description text, township text, enterprise_id bigint,
               enterprise_name text, deadline text, days_overdue integer, state text,
               officials text, units text)
LANGUAGE plpgsql STABLE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
    IF p_official IS NOT NULL THEN
        -- One official's problems: those assigned to them and those of the
        -- enterprises they are assigned to, sorted (as for milestones).
        PERFORM set_config('enable_sort', 'on', true);
        RETURN QUERY
        SELECT k.id, k.description, t.name, e.id, e.name, to_char(k.deadline, 'YYYY-MM-DD'),
               p_today - k.deadline, k.state,
               bb_enterprise_officials(k.enterprise_id, k.assignee_official_id, p_today),
               bb_enterprise_units(k.enterprise_id, k.assignee_unit_id, p_today)
          FROM (SELECT pr.id, pr.deadline, pr.description, pr.state, pr.enterprise_id,
                       pr.assignee_official_id, pr.assignee_unit_id
                  FROM problem pr
                  JOIN enterprise en ON en.id = pr.enterprise_id
                 WHERE pr.id IN (SELECT x.id FROM problem x
                                  WHERE x.assignee_official_id = p_official
                                 UNION
                                 SELECT x.id FROM assignment a
                                   JOIN problem x ON x.enterprise_id = a.enterprise_id
                                  WHERE a.official_id = p_official
                                    AND a.enterprise_id IS NOT NULL
                                    AND a.period_start <= p_today
                                    AND (a.period_end IS NULL OR p_today <= a.period_end))
                   AND pr.state <> '确认'
                   AND pr.deadline >= p_lo AND pr.deadline < p_hi
                   AND (pr.deadline, pr.id) > (p_after_date, p_after_id)
                   AND (p_township IS NULL
                        OR en.township_id = (SELECT tt.id FROM township tt
                                              WHERE tt.name = p_township))
                   AND (p_cluster IS NULL OR en.cluster = p_cluster)
                   AND (p_state IS NULL OR pr.state = p_state)
                   AND (p_unit IS NULL OR pr.assignee_unit_id = p_unit
                        OR EXISTS (SELECT 1 FROM assignment a
                                    WHERE a.enterprise_id = pr.enterprise_id
                                      AND a.unit_id = p_unit
                                      AND a.period_start <= p_today
                                      AND (a.period_end IS NULL OR p_today <= a.period_end)))
                   AND (p_scope IS NULL
                        OR en.township_id IN (SELECT ut.township_id FROM app_user_township ut
                                               WHERE ut.user_id = p_scope))
                 ORDER BY pr.deadline, pr.id
                 LIMIT p_limit) k
          JOIN enterprise e ON e.id = k.enterprise_id
          JOIN township t ON t.id = e.township_id
         ORDER BY k.deadline, k.id;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT k.id, k.description, t.name, e.id, e.name, to_char(k.deadline, 'YYYY-MM-DD'),
           p_today - k.deadline, k.state,
           bb_enterprise_officials(k.enterprise_id, k.assignee_official_id, p_today),
           bb_enterprise_units(k.enterprise_id, k.assignee_unit_id, p_today)
      FROM (SELECT pr.id, pr.deadline, pr.description, pr.state, pr.enterprise_id,
                   pr.assignee_official_id, pr.assignee_unit_id
              FROM problem pr
              JOIN enterprise en ON en.id = pr.enterprise_id
             WHERE pr.state <> '确认'
               AND pr.deadline >= p_lo AND pr.deadline < p_hi
               AND (pr.deadline, pr.id) > (p_after_date, p_after_id)
               AND (p_township IS NULL
                    OR en.township_id = (SELECT tt.id FROM township tt WHERE tt.name = p_township))
               AND (p_cluster IS NULL OR en.cluster = p_cluster)
               AND (p_state IS NULL OR pr.state = p_state)
               AND (p_official IS NULL OR pr.assignee_official_id = p_official
                    OR EXISTS (SELECT 1 FROM assignment a
                                WHERE a.enterprise_id = pr.enterprise_id
                                  AND a.official_id = p_official
                                  AND a.period_start <= p_today
                                  AND (a.period_end IS NULL OR p_today <= a.period_end)))
               AND (p_unit IS NULL OR pr.assignee_unit_id = p_unit
                    OR EXISTS (SELECT 1 FROM assignment a
                                WHERE a.enterprise_id = pr.enterprise_id
                                  AND a.unit_id = p_unit
                                  AND a.period_start <= p_today
                                  AND (a.period_end IS NULL OR p_today <= a.period_end)))
               AND (p_scope IS NULL
                    OR en.township_id IN (SELECT ut.township_id FROM app_user_township ut
                                           WHERE ut.user_id = p_scope))
             ORDER BY pr.deadline, pr.id
             LIMIT p_limit) k
      JOIN enterprise e ON e.id = k.enterprise_id
      JOIN township t ON t.id = e.township_id
     ORDER BY k.deadline, k.id;
END
$$;
