-- 022_milestone_order.sql: overdue and due milestones in lifecycle order
-- (issue 12, item 6). Milestones of one project falling on the same date
-- came in the order of their node names as text (开工, 投产, 注册, 竣工,
-- 签约: code points, or whatever the database's collation says), while the
-- cursor of overdue.* and due.* numbers the nodes 1-5 in lifecycle order
-- (server/methods/overdue.c). Now the rows, the cursor and PROTOCOL.md
-- agree on the lifecycle: 签约, 注册, 开工, 投产, 竣工.
--
-- For: project_milestone.node_rank, the node's place in the lifecycle
-- (bb_stage_rank of 007: 4 for 签约 ... 8 for 竣工), a stored generated
-- column so that nothing is computed in WHERE or ORDER BY (011's rule: the
-- query walks the index from the cursor and stops after one page);
-- project_milestone_open_idx made again on (planned_date, project_id,
-- node_rank), with node carried in the index (INCLUDE) so the walk stays
-- an index-only scan; bb_overdue_milestones (011) again, ordered and
-- keyed by node_rank. Its arguments are unchanged: the cursor's node still
-- comes as its name (p_after_node, '' on the first page), turned into its
-- rank once per call.
-- Not for: problems (one row per id, no tie to break), the people of a
-- row (011), the workbook's 超期明细 and todo.mine's merge of two lists,
-- which sort rows of their own (server/methods/report.c, bb_todo).

ALTER TABLE project_milestone
    ADD COLUMN node_rank integer NOT NULL GENERATED ALWAYS AS (bb_stage_rank(node)) STORED;

DROP INDEX project_milestone_open_idx;
CREATE INDEX project_milestone_open_idx
    ON project_milestone (planned_date, project_id, node_rank) INCLUDE (node)
    WHERE actual_date IS NULL AND planned_date IS NOT NULL;

-- As in 011, but in lifecycle order: the partial index above, walked from
-- the cursor (planned_date, project_id, node_rank).
CREATE OR REPLACE FUNCTION bb_overdue_milestones(p_today date, p_lo date, p_hi date,
                                                 p_after_date date, p_after_id bigint,
                                                 p_after_node text, p_township text,
                                                 p_cluster text, p_stage text,
                                                 p_official bigint, p_unit bigint,
                                                 p_scope bigint, p_limit int)
RETURNS TABLE (project_id bigint, node text, name text, township text, enterprise_id bigint,
               enterprise_name text, planned_date text, days_overdue integer, stage text,
               officials text, units text)
LANGUAGE plpgsql STABLE
SET enable_sort = off
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    -- The cursor's node as its place in the lifecycle ('' on the first
    -- page: 0, before every node).
    after_rank constant integer := coalesce(bb_stage_rank(p_after_node), 0);
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
          FROM (SELECT m.planned_date, m.project_id, m.node_rank, m.node
                  FROM project p
                  JOIN project_milestone m ON m.project_id = p.id
                 WHERE p.id IN (SELECT a.project_id FROM assignment a
                                 WHERE a.official_id = p_official AND a.project_id IS NOT NULL
                                   AND a.period_start <= p_today
                                   AND (a.period_end IS NULL OR p_today <= a.period_end))
                   AND m.actual_date IS NULL AND m.planned_date IS NOT NULL
                   AND m.planned_date >= p_lo AND m.planned_date < p_hi
                   AND (m.planned_date, m.project_id, m.node_rank)
                       > (p_after_date, p_after_id, after_rank)
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
                 ORDER BY m.planned_date, m.project_id, m.node_rank
                 LIMIT p_limit) k
          JOIN project p ON p.id = k.project_id
          JOIN township t ON t.id = p.township_id
          LEFT JOIN enterprise e ON e.id = p.enterprise_id
                                AND bb_scope_has(p_scope, e.township_id)
         ORDER BY k.planned_date, k.project_id, k.node_rank;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT k.project_id, k.node, p.name, t.name, e.id, e.name,
           to_char(k.planned_date, 'YYYY-MM-DD'), p_today - k.planned_date, p.stage,
           bb_project_officials(k.project_id, p_today),
           bb_project_units(k.project_id, p.lead_unit_id, p_today)
      FROM (SELECT m.planned_date, m.project_id, m.node_rank, m.node
              FROM project_milestone m
              JOIN project p ON p.id = m.project_id
             WHERE m.actual_date IS NULL AND m.planned_date IS NOT NULL
               AND m.planned_date >= p_lo AND m.planned_date < p_hi
               AND (m.planned_date, m.project_id, m.node_rank)
                   > (p_after_date, p_after_id, after_rank)
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
             ORDER BY m.planned_date, m.project_id, m.node_rank
             LIMIT p_limit) k
      JOIN project p ON p.id = k.project_id
      JOIN township t ON t.id = p.township_id
      LEFT JOIN enterprise e ON e.id = p.enterprise_id
                                AND bb_scope_has(p_scope, e.township_id)
     ORDER BY k.planned_date, k.project_id, k.node_rank;
END
$$;
