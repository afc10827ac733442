-- 023_supervision.sql: supervision that runs itself (issue 13): the light
-- of every supervised item and its history, 督办 notices (督办单) with
-- their recipients, and the outbox of their delivery beyond the clients.
--
-- An item is a project milestone (project_id, node) or a problem
-- (problem_id); every table below names one with the same three columns
-- and the same CHECK. It is supervised while 011's overdue lists would
-- show it when late: a milestone with a planned date, no actual date, of a
-- project not 终止 or 竣工; a problem not 确认.
--
-- Lights (PROTOCOL.md section 6, "Supervision: lights and notices"): with
-- D = today - planned date (deadline) and R = overdue_red_after_days,
-- green when D <= 0, yellow when 1 <= D <= R, red when D > R (the rule of
-- overdue.*). An item that is no longer supervised gets 'done' (the
-- milestone got its actual date, the problem was confirmed) or 'off' (its
-- project ended, 终止 or 竣工, or its planned date was cleared). "Today" is always the server's (time_zone, fake_now in
-- tests), passed in by the sweep; `at` columns are the database's clock.
--
-- Who writes what: the sweep (bb_supervise, below) writes light_state,
-- light_change, notice, notice_recipient and notice_delivery, under one
-- transaction-level advisory lock, so sweeps of several baobaod processes
-- run one after the other and the second finds nothing left to change;
-- notice.read / notice.answer write a notice's read_* and answer_* columns
-- (024); the delivery module claims and finishes notice_delivery rows and
-- writes notice_delivery_attempt (025).
--
-- Channels (LISTEN/NOTIFY; every baobaod listens on one connection outside
-- its pool, server/engine/listen.h):
--   bb_dirty     ''  a change that can move a light was committed (the
--                    statement triggers below): sweep soon
--   bb_push      'notice:<first>-<last>' notices issued with ids in that
--                    range; 'light:<first>-<last>' light changes with ids in
--                    that range (sent by the sweep, after its rows)
--   bb_delivery  ''  deliveries are waiting (sent by the sweep when it
--                    queued some)

-- The current light of every item the sweep has seen (one row per item,
-- kept after it is done or off, so a reopened problem's next light has a
-- `from`).
CREATE TABLE light_state (
    project_id bigint NULL REFERENCES project (id),
    node text NULL,
    problem_id bigint NULL REFERENCES problem (id),
    light text NOT NULL CHECK (light IN ('green', 'yellow', 'red', 'done', 'off')),
    since date NOT NULL,                -- the day it took this light (bb_supervise, step 1)
    days_overdue integer NOT NULL,      -- when the row was last written (0 when not late);
                                        -- not refreshed daily (bb_supervise, step 1)
    due_date date NULL,                 -- planned date / deadline at the last sweep
    CHECK ((problem_id IS NULL) = (project_id IS NOT NULL)
           AND (node IS NULL) = (project_id IS NULL))
);
CREATE UNIQUE INDEX light_state_problem_key ON light_state (problem_id)
    WHERE problem_id IS NOT NULL;
CREATE UNIQUE INDEX light_state_milestone_key ON light_state (project_id, node)
    WHERE project_id IS NOT NULL;

-- Every change of an item's light, in the order the sweeps made them.
-- from_light NULL: the first light the sweep gave the item.
CREATE TABLE light_change (
    id bigserial PRIMARY KEY,
    project_id bigint NULL REFERENCES project (id),
    node text NULL,
    problem_id bigint NULL REFERENCES problem (id),
    from_light text NULL CHECK (from_light IN ('green', 'yellow', 'red', 'done', 'off')),
    to_light text NOT NULL CHECK (to_light IN ('green', 'yellow', 'red', 'done', 'off')),
    on_date date NOT NULL,              -- the server's today of the sweep
    days_overdue integer NOT NULL,
    due_date date NULL,
    at timestamptz NOT NULL DEFAULT now(),
    CHECK ((problem_id IS NULL) = (project_id IS NOT NULL)
           AND (node IS NULL) = (project_id IS NULL))
);
CREATE INDEX light_change_problem_idx ON light_change (problem_id, id)
    WHERE problem_id IS NOT NULL;
CREATE INDEX light_change_milestone_idx ON light_change (project_id, node, id)
    WHERE project_id IS NOT NULL;

-- Notice numbers: 督〔year〕seq号, seq counting from 1 in each calendar
-- year of the server's today.
CREATE TABLE notice_counter (
    year integer PRIMARY KEY,
    last_seq integer NOT NULL
);

-- A 督办 notice. Levels: due (提醒, before the deadline), yellow (黄牌),
-- red (红牌), escalated (升级, to the 包保市领导). States:
-- issued -> read -> answered -> closed; closed comes from any state when the
-- item is done or off (close_reason), and only then. At most one notice
-- that is not closed per item and level.
CREATE TABLE notice (
    id bigserial PRIMARY KEY,
    year integer NOT NULL,
    seq integer NOT NULL,
    project_id bigint NULL REFERENCES project (id),
    node text NULL,
    problem_id bigint NULL REFERENCES problem (id),
    level text NOT NULL CHECK (level IN ('due', 'yellow', 'red', 'escalated')),
    state text NOT NULL DEFAULT 'issued'
        CHECK (state IN ('issued', 'read', 'answered', 'closed')),
    township_id smallint NOT NULL REFERENCES township (id),  -- the item's, for scope
    title text NOT NULL,                -- what the item is, in Chinese, at issue
    due_date date NOT NULL,             -- planned date / deadline at issue
    days_overdue integer NOT NULL,      -- at issue (negative: days left)
    issued_on date NOT NULL,            -- the server's today
    issued_at timestamptz NOT NULL DEFAULT now(),
    escalated_from bigint NULL REFERENCES notice (id),
    read_at timestamptz NULL,
    read_by bigint NULL REFERENCES app_user (id),
    answered_at timestamptz NULL,
    answered_by bigint NULL REFERENCES app_user (id),
    answer text NULL CHECK (answer IS NULL OR (char_length(answer) BETWEEN 1 AND 2000)),
    closed_at timestamptz NULL,
    closed_on date NULL,
    close_reason text NULL CHECK (close_reason IS NULL OR close_reason IN ('done', 'off')),
    version integer NOT NULL DEFAULT 1,
    UNIQUE (year, seq),
    CHECK ((problem_id IS NULL) = (project_id IS NOT NULL)
           AND (node IS NULL) = (project_id IS NULL)),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL)),
    CHECK ((state IN ('answered', 'closed')) OR answer IS NULL)
);
CREATE UNIQUE INDEX notice_open_problem_key ON notice (problem_id, level)
    WHERE problem_id IS NOT NULL AND state <> 'closed';
CREATE UNIQUE INDEX notice_open_milestone_key ON notice (project_id, node, level)
    WHERE project_id IS NOT NULL AND state <> 'closed';
CREATE INDEX notice_state_idx ON notice (state, id);
CREATE INDEX notice_township_idx ON notice (township_id, id);

-- Who a notice is addressed to: officials and units, each in the role that
-- makes them responsible (011's roles: 包保市领导, 联络员, 承办人, 责任单位,
-- 牵头单位, 承办单位), as they were on the day of issue.
CREATE TABLE notice_recipient (
    notice_id bigint NOT NULL REFERENCES notice (id),
    official_id bigint NULL REFERENCES official (id),
    unit_id bigint NULL REFERENCES unit (id),
    role text NOT NULL,
    CHECK (num_nonnulls(official_id, unit_id) = 1)
);
CREATE UNIQUE INDEX notice_recipient_key
    ON notice_recipient (notice_id, coalesce(official_id, 0), coalesce(unit_id, 0));
CREATE INDEX notice_recipient_official_idx ON notice_recipient (official_id, notice_id)
    WHERE official_id IS NOT NULL;
CREATE INDEX notice_recipient_unit_idx ON notice_recipient (unit_id, notice_id)
    WHERE unit_id IS NOT NULL;

-- The outbox of deliveries beyond the clients: one per notice, queued by
-- the sweep in the notice's transaction (so a notice is never without its
-- delivery), claimed by one baobaod at a time with a lease (claimed_by,
-- claim_until: a process that dies mid-way loses its claim when the lease
-- ends and the delivery is tried again: at least once), finished once.
CREATE TABLE notice_delivery (
    id bigserial PRIMARY KEY,
    notice_id bigint NOT NULL UNIQUE REFERENCES notice (id),
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'expired')),
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL DEFAULT now(),
    claimed_by text NULL,
    claim_until timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz NULL,
    CHECK ((state = 'pending') = (finished_at IS NULL))
);
CREATE INDEX notice_delivery_pending_idx ON notice_delivery (next_at, id)
    WHERE state = 'pending';

-- Every attempt, also those whose process died (outcome 'lost', written
-- when the delivery is claimed again after its lease ended).
CREATE TABLE notice_delivery_attempt (
    delivery_id bigint NOT NULL REFERENCES notice_delivery (id),
    attempt integer NOT NULL,
    process text NOT NULL,              -- host:pid of the baobaod that ran it
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz NULL,
    outcome text NULL CHECK (outcome IS NULL
                             OR outcome IN ('sent', 'failed', 'timeout', 'lost', 'expired')),
    exit_code integer NULL,
    detail text NULL,                   -- the command's last words (stderr, cut)
    PRIMARY KEY (delivery_id, attempt)
);

-- ---- functions: what an item is called, who answers for it ----

-- The title of an item, in Chinese, from its names (inlined into the
-- queries below): a milestone 项目「name」node节点, a problem
-- 「enterprise」诉求：the first 30 characters of its description (line
-- breaks as spaces, … when cut).
CREATE FUNCTION bb_item_title(p_project_name text, p_node text, p_enterprise_name text,
                              p_description text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_node IS NOT NULL
                THEN '项目「' || p_project_name || '」' || p_node || '节点'
                ELSE '「' || p_enterprise_name || '」诉求：'
                     || left(translate(p_description, E'\n\r\t', '   '), 30)
                     || CASE WHEN char_length(p_description) > 30 THEN '…' ELSE '' END
           END
$$;

-- The people responsible for an item on p_today, one row per official or
-- unit, in its first role by 011's order (bb_overdue_role_rank): for a
-- milestone (p_project) the project's active assignments and its lead unit
-- (牵头单位); for a problem (p_problem) the active assignments of its
-- enterprise, its 承办人 and 承办单位. The rows of 011's lists, as rows.
-- Also for 024 (who a light change concerns).
CREATE FUNCTION bb_item_people(p_project bigint, p_problem bigint, p_today date)
RETURNS TABLE (official_id bigint, unit_id bigint, role text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    -- plpgsql, not sql: the sweep calls it once per notice, and a plpgsql
    -- query keeps its plan across calls (a sql function is planned again
    -- on every call that is not inlined).
    RETURN QUERY
    SELECT DISTINCT ON (x.official_id, x.unit_id) x.official_id, x.unit_id, x.role
      FROM (SELECT a.official_id, a.unit_id, a.role
              FROM assignment a
             WHERE a.project_id = p_project
               AND a.period_start <= p_today AND (a.period_end IS NULL OR p_today <= a.period_end)
            UNION ALL
            SELECT NULL::bigint, p.lead_unit_id, '牵头单位'::text
              FROM project p WHERE p.id = p_project AND p.lead_unit_id IS NOT NULL
            UNION ALL
            SELECT a.official_id, a.unit_id, a.role
              FROM problem pr JOIN assignment a ON a.enterprise_id = pr.enterprise_id
             WHERE pr.id = p_problem
               AND a.period_start <= p_today AND (a.period_end IS NULL OR p_today <= a.period_end)
            UNION ALL
            SELECT pr.assignee_official_id, NULL::bigint, '承办人'::text
              FROM problem pr WHERE pr.id = p_problem AND pr.assignee_official_id IS NOT NULL
            UNION ALL
            SELECT NULL::bigint, pr.assignee_unit_id, '承办单位'::text
              FROM problem pr WHERE pr.id = p_problem AND pr.assignee_unit_id IS NOT NULL) x
     ORDER BY x.official_id, x.unit_id, bb_overdue_role_rank(x.role);
END
$$;

-- ---- the sweep ----

-- The last day a sweep ran for (one row): "today" never goes back. Two
-- processes whose time_zone differs, a fake_now moved back, or a skew at
-- midnight would otherwise give one item the lights of two days in turn,
-- each change recorded and noticed. A sweep for an earlier day does
-- nothing and says so (clock_behind); baobaod logs
-- event=supervise_clock_behind.
CREATE TABLE supervise_day (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_day date NULL                  -- NULL: no sweep yet
);
INSERT INTO supervise_day (one, last_day) VALUES (true, NULL);

-- bb_supervise(p_today, p_red_after, p_due_days, p_escalate_days,
-- p_max_items, p_wait): one bounded part of a sweep, in the caller's
-- transaction (server/methods/supervise.c runs each call alone in one,
-- with its own sync: pool.h, heavy statements). p_today is the server's
-- today in its time_zone (fake_now in tests), p_red_after
-- overdue_red_after_days, p_due_days notice_due_days (0: no 提醒),
-- p_escalate_days notice_escalate_days (0: no 升级), p_max_items the most
-- items whose light_state row is written and the most notices issued by
-- this call (each), p_wait false: when another sweep holds the lock, do
-- nothing and answer busy (the module tries again later) instead of
-- waiting for it. Answers one row: the light changes made, the notices
-- issued, the notices closed, the id ranges of the first two (NULL when
-- none), which it also sends on bb_push; more: the sweep is not finished,
-- call again (at once); busy: another sweep held the lock, nothing done;
-- clock_behind: p_today is before the last sweep's day, nothing done.
--
-- Steps, in this order:
--  1. the light of every item that is supervised, or was (its light_state
--     green, yellow or red) and is now done or off; light_state written
--     where the light or the due date differs (at most p_max_items rows;
--     more: the rest next call), and one light_change appended where the
--     light differs (from NULL the first time). days_overdue of
--     light_state is the one of that write (the history rows have theirs;
--     refreshing it daily would rewrite every late item every day).
--     `since` moves only with the light; the first time an item is seen
--     it is the day its light began: red due date + p_red_after + 1,
--     yellow due date + 1, else today (never after today), so that 升级
--     counts from the day it turned red also for items late before the
--     first sweep. days_overdue = today - due date when late, else 0
--     (done, off: 0).
--  2. open notices of items now done or off are closed (closed_on today,
--     close_reason the light).
--  3. only once step 1 is complete (not `more`): notices issued, each level
--     at most once while one of that level is open for the item (024 never
--     reopens a closed one):
--       due        green and due date <= today + p_due_days (p_due_days > 0)
--       yellow     yellow
--       red        red
--       escalated  red since at least p_escalate_days days (p_escalate_days
--                  > 0), escalated_from the open red notice (issued first:
--                  escalated ones in a second statement, after the red)
--     due, yellow and red go to the item's people (bb_item_people) except
--     the 包保市领导; escalated to the 包保市领导, or when it has none to the
--     red notice's recipients (somebody must be told). Numbered in the year
--     of p_today (notice_counter), in the order level, due date, item; at
--     most p_max_items per call, the first ones in that order, so the
--     numbers follow the order across the calls of one sweep too.
--     Each notice gets its notice_delivery row.
--  4. pg_notify: bb_push 'light:<first>-<last>' and 'notice:<first>-<last>',
--     bb_delivery '' when notices were issued. Sent at commit, after the
--     rows exist; the id ranges hold only this call's rows, as nothing
--     else writes these tables and sweeps run one at a time.
--
-- One at a time: pg_advisory_xact_lock on (hashtext('bb_supervise'), 0),
-- held to the end of the transaction (p_wait false: the try variant); a
-- second sweep waits (or is busy), then sees the first one's rows and
-- finds nothing left to do (same today).
-- No audit_log rows: the sweep is the system acting on its rules, not a
-- user; its rows carry their own on_date / issued_on / at.
-- Cost: every call reads every open milestone and problem (two scans and
-- hash joins with light_state) and every green, yellow or red light_state
-- row (the notice candidates); writes only where something changed. JIT
-- is off: compiling these plans took longer than running them (a sweep
-- with nothing to do on 50,000 milestones: 2.1 s with, 0.35 s without).
-- Measured on bench/gen-data.sql (2 shared cores, PostgreSQL 15,
-- 2026-12-07, p_max_items 5000, one call per psql):
--   10,000 projects (50,000 milestones, 2,000 problems): first sweep 12
--   calls, 29,100 changes and 34,891 notices in 7.8 s, longest call
--   1.5 s; nothing to do 0.3 s; the next day (64 changes, 114 notices)
--   0.3 s.
--   100,000 projects (500,000 milestones, 20,000 problems): first sweep
--   128 calls, 291,000 changes (59 calls, each at most 1.8 s) and 348,698
--   notices (69 calls of 2.5 to 8.2 s, growing with the open notices each
--   one anti-joins) in 272 s; nothing to do 2.1-2.5 s; the next day (639
--   changes, 1,141 notices) 2.2 s, one call.
-- (Before the parts, the first sweep of the 100,000 was one statement of
-- 29.7 s against the 30 s timeout, and nothing to do took 4.1-4.4 s.)
-- The pool's statement_timeout (30 s, pgconn.c) bounds one call:
-- p_max_items keeps a call well under it, a larger database only makes
-- more calls.
CREATE FUNCTION bb_supervise(p_today date, p_red_after int, p_due_days int,
                             p_escalate_days int, p_max_items int DEFAULT 5000,
                             p_wait boolean DEFAULT true)
RETURNS TABLE (changes int, notices int, closed int, first_change bigint, last_change bigint,
               first_notice bigint, last_notice bigint, more boolean, busy boolean,
               clock_behind boolean)
LANGUAGE plpgsql
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    v_changes int := 0;
    v_n int;
    v_w int;
    v_left int := p_max_items;        -- light_state rows this call may still write
    v_more boolean := false;
    v_notices int := 0;
    v_closed int := 0;
    v_first_change bigint;
    v_last_change bigint;
    v_lo bigint;
    v_hi bigint;
    v_first_notice bigint;
    v_last_notice bigint;
    v_total int;
    v_last_day date;
    v_year int := extract(year FROM p_today)::int;
BEGIN
    IF p_today IS NULL OR p_red_after IS NULL OR p_red_after < 0
       OR p_due_days IS NULL OR p_due_days < 0
       OR p_escalate_days IS NULL OR p_escalate_days < 0
       OR p_max_items IS NULL OR p_max_items < 1 OR p_wait IS NULL THEN
        RAISE EXCEPTION 'bb_supervise: bad arguments' USING ERRCODE = '22023';
    END IF;
    IF p_wait THEN
        PERFORM pg_advisory_xact_lock(hashtext('bb_supervise'), 0);
    ELSIF NOT pg_try_advisory_xact_lock(hashtext('bb_supervise'), 0) THEN
        RETURN QUERY SELECT 0, 0, 0, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
                            false, true, false;
        RETURN;
    END IF;
    SELECT d.last_day INTO v_last_day FROM supervise_day d;
    IF v_last_day > p_today THEN
        RETURN QUERY SELECT 0, 0, 0, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,
                            false, false, true;
        RETURN;
    END IF;
    IF v_last_day IS DISTINCT FROM p_today THEN
        UPDATE supervise_day SET last_day = p_today;
    END IF;

    -- 1a. milestones
    WITH ev AS (
        SELECT m.project_id, m.node, m.node_rank,
               CASE WHEN m.actual_date IS NOT NULL THEN 'done'
                    WHEN m.planned_date IS NULL OR p.stage IN ('终止', '竣工') THEN 'off'
                    WHEN p_today - m.planned_date <= 0 THEN 'green'
                    WHEN p_today - m.planned_date <= p_red_after THEN 'yellow'
                    ELSE 'red' END AS light,
               CASE WHEN m.actual_date IS NULL AND m.planned_date IS NOT NULL
                         AND p.stage NOT IN ('终止', '竣工')
                    THEN greatest(p_today - m.planned_date, 0) ELSE 0 END AS days_overdue,
               m.planned_date AS due_date
          FROM project_milestone m
          JOIN project p ON p.id = m.project_id
         WHERE (m.actual_date IS NULL AND m.planned_date IS NOT NULL
                AND p.stage NOT IN ('终止', '竣工'))
            OR EXISTS (SELECT 1 FROM light_state s
                        WHERE s.project_id = m.project_id AND s.node = m.node
                          AND s.light IN ('green', 'yellow', 'red'))
    ), d AS (
        -- no ORDER BY: the first p_max_items differences found, so a call
        -- with many stops early; the rest are the next call's
        SELECT ev.*, s.light AS old_light
          FROM ev
          LEFT JOIN light_state s ON s.project_id = ev.project_id AND s.node = ev.node
         WHERE s.light IS DISTINCT FROM ev.light
            OR s.due_date IS DISTINCT FROM ev.due_date
         LIMIT v_left
    ), st AS (
        INSERT INTO light_state AS s (project_id, node, light, since, days_overdue, due_date)
        SELECT d.project_id, d.node, d.light,
               CASE d.light WHEN 'red' THEN least(d.due_date + p_red_after + 1, p_today)
                            WHEN 'yellow' THEN least(d.due_date + 1, p_today)
                            ELSE p_today END,
               d.days_overdue, d.due_date FROM d
        ON CONFLICT (project_id, node) WHERE project_id IS NOT NULL DO UPDATE
           SET since = CASE WHEN s.light = excluded.light THEN s.since ELSE p_today END,
               light = excluded.light,
               days_overdue = excluded.days_overdue,
               due_date = excluded.due_date
        RETURNING 1
    ), ch AS (
        INSERT INTO light_change (project_id, node, from_light, to_light, on_date, days_overdue,
                                  due_date)
        SELECT d.project_id, d.node, d.old_light, d.light, p_today, d.days_overdue, d.due_date
          FROM d
         WHERE d.old_light IS DISTINCT FROM d.light
         ORDER BY d.project_id, d.node_rank
        RETURNING id
    )
    SELECT count(*), min(id), max(id), (SELECT count(*) FROM st)
      INTO v_n, v_lo, v_hi, v_w FROM ch;
    v_changes := v_changes + v_n;
    v_first_change := v_lo;
    v_last_change := v_hi;
    v_more := v_w >= v_left;
    v_left := v_left - v_w;

    -- 1b. problems (never off: a problem has no end but 确认)
    IF NOT v_more THEN
        WITH ev AS (
            SELECT pr.id AS problem_id,
                   CASE WHEN pr.state = '确认' THEN 'done'
                        WHEN p_today - pr.deadline <= 0 THEN 'green'
                        WHEN p_today - pr.deadline <= p_red_after THEN 'yellow'
                        ELSE 'red' END AS light,
                   CASE WHEN pr.state = '确认' THEN 0
                        ELSE greatest(p_today - pr.deadline, 0) END AS days_overdue,
                   pr.deadline AS due_date
              FROM problem pr
             WHERE pr.state <> '确认'
                OR EXISTS (SELECT 1 FROM light_state s
                            WHERE s.problem_id = pr.id AND s.light IN ('green', 'yellow', 'red'))
        ), d AS (
            SELECT ev.*, s.light AS old_light
              FROM ev
              LEFT JOIN light_state s ON s.problem_id = ev.problem_id
             WHERE s.light IS DISTINCT FROM ev.light
                OR s.due_date IS DISTINCT FROM ev.due_date
             LIMIT v_left
        ), st AS (
            INSERT INTO light_state AS s (problem_id, light, since, days_overdue, due_date)
            SELECT d.problem_id, d.light,
                   CASE d.light WHEN 'red' THEN least(d.due_date + p_red_after + 1, p_today)
                                WHEN 'yellow' THEN least(d.due_date + 1, p_today)
                                ELSE p_today END,
                   d.days_overdue, d.due_date FROM d
            ON CONFLICT (problem_id) WHERE problem_id IS NOT NULL DO UPDATE
               SET since = CASE WHEN s.light = excluded.light THEN s.since ELSE p_today END,
                   light = excluded.light,
                   days_overdue = excluded.days_overdue,
                   due_date = excluded.due_date
            RETURNING 1
        ), ch AS (
            INSERT INTO light_change (problem_id, from_light, to_light, on_date, days_overdue,
                                      due_date)
            SELECT d.problem_id, d.old_light, d.light, p_today, d.days_overdue, d.due_date
              FROM d
             WHERE d.old_light IS DISTINCT FROM d.light
             ORDER BY d.problem_id
            RETURNING id
        )
        SELECT count(*), min(id), max(id), (SELECT count(*) FROM st)
          INTO v_n, v_lo, v_hi, v_w FROM ch;
        v_changes := v_changes + v_n;
        v_first_change := coalesce(v_first_change, v_lo);
        v_last_change := coalesce(v_hi, v_last_change);
        v_more := v_w >= v_left;
        v_left := v_left - v_w;
    END IF;
    -- Many new rows (the first sweep of a database, a big import): fresh
    -- statistics, or the joins below and the next call's would be planned
    -- for the empty table light_state was (nested loops over 100,000 rows
    -- took minutes where a hash join takes a second).
    IF p_max_items - v_left > 1000 THEN
        ANALYZE light_state;
    END IF;

    -- 2. close the open notices of items done or off
    WITH c AS (
        UPDATE notice n
           SET state = 'closed', closed_at = now(), closed_on = p_today,
               close_reason = s.light, version = n.version + 1
          FROM light_state s
         WHERE n.state <> 'closed' AND n.project_id IS NOT NULL
           AND s.project_id = n.project_id AND s.node = n.node
           AND s.light IN ('done', 'off')
        RETURNING 1
    )
    SELECT count(*) INTO v_n FROM c;
    v_closed := v_n;
    WITH c AS (
        UPDATE notice n
           SET state = 'closed', closed_at = now(), closed_on = p_today,
               close_reason = s.light, version = n.version + 1
          FROM light_state s
         WHERE n.state <> 'closed' AND n.problem_id IS NOT NULL
           AND s.problem_id = n.problem_id
           AND s.light IN ('done', 'off')
        RETURNING 1
    )
    SELECT count(*) INTO v_n FROM c;
    v_closed := v_closed + v_n;

    -- 3. issue, set-based: numbers handed out in one update of the year's
    -- counter (one UPDATE per notice of the same row would leave a chain of
    -- row versions each next update walks: minutes for the first sweep of
    -- a large database). Phase 1 due, yellow, red; phase 2 escalated,
    -- which needs the open red notice phase 1 may just have issued.
    -- Not while step 1 is unfinished: an item not evaluated yet still has
    -- yesterday's light.
    v_left := p_max_items;
    FOR v_phase IN 1 .. 2 LOOP
        EXIT WHEN v_more OR v_left <= 0;
        WITH lv AS (
            -- the level each item is due for in this phase (at most one:
            -- green -> due, yellow, red; then red -> escalated), NULL none
            SELECT s.*,
                   CASE WHEN v_phase = 2 THEN
                            CASE WHEN s.light = 'red' AND p_escalate_days > 0
                                      AND p_today - s.since >= p_escalate_days
                                 THEN 'escalated' END
                        WHEN s.light = 'green' THEN
                            CASE WHEN p_due_days > 0 AND s.due_date <= p_today + p_due_days
                                 THEN 'due' END
                        ELSE s.light END AS level
              FROM light_state s
             WHERE s.light IN ('green', 'yellow', 'red')
        ), cand0 AS (
            SELECT s.project_id, s.node, s.problem_id, s.level,
                   array_position(ARRAY['due', 'yellow', 'red', 'escalated'], s.level) AS rank,
                   s.due_date, p_today - s.due_date AS days_overdue,
                   CASE WHEN s.level = 'escalated' AND s.problem_id IS NOT NULL THEN
                            (SELECT n.id FROM notice n
                              WHERE n.problem_id = s.problem_id AND n.level = 'red'
                                AND n.state <> 'closed')
                        WHEN s.level = 'escalated' THEN
                            (SELECT n.id FROM notice n
                              WHERE n.project_id = s.project_id AND n.node = s.node
                                AND n.level = 'red' AND n.state <> 'closed')
                   END AS escalated_from
              FROM lv s
             WHERE s.level IS NOT NULL
               -- one probe of notice_open_problem_key or notice_open_milestone_key
               -- (an OR of the two would read every open notice per item)
               AND NOT EXISTS (SELECT 1 FROM notice n
                                WHERE s.problem_id IS NOT NULL AND n.problem_id = s.problem_id
                                  AND n.level = s.level AND n.state <> 'closed')
               AND NOT EXISTS (SELECT 1 FROM notice n
                                WHERE s.project_id IS NOT NULL AND n.project_id = s.project_id
                                  AND n.node = s.node AND n.level = s.level
                                  AND n.state <> 'closed')
        ), cand1 AS (
            -- an escalation waits for its red notice (a red one not issued
            -- yet for want of room in this call)
            SELECT c.*,
                   row_number() OVER (ORDER BY c.rank, c.due_date, c.project_id NULLS LAST,
                                               bb_stage_rank(c.node), c.problem_id) AS rn,
                   count(*) OVER () AS total
              FROM cand0 c
             WHERE c.level <> 'escalated' OR c.escalated_from IS NOT NULL
        ), cand AS (
            SELECT c.*, coalesce(p.township_id, e.township_id) AS township_id,
                   bb_item_title(p.name, c.node, e.name, pr.description) AS title
              FROM cand1 c
              LEFT JOIN project p ON p.id = c.project_id
              LEFT JOIN problem pr ON pr.id = c.problem_id
              LEFT JOIN enterprise e ON e.id = pr.enterprise_id
             WHERE c.rn <= v_left
        ), cnt AS (
            SELECT count(*)::int AS c, max(total)::int AS total FROM cand
        ), ctr AS (
            INSERT INTO notice_counter AS k (year, last_seq)
            SELECT v_year, cnt.c FROM cnt WHERE cnt.c > 0
            ON CONFLICT (year) DO UPDATE SET last_seq = k.last_seq + excluded.last_seq
            RETURNING k.last_seq
        ), ins AS (
            INSERT INTO notice (year, seq, project_id, node, problem_id, level, township_id,
                                title, due_date, days_overdue, issued_on, escalated_from)
            SELECT v_year, ctr.last_seq - cnt.c + cand.rn::int, cand.project_id, cand.node,
                   cand.problem_id, cand.level, cand.township_id, cand.title, cand.due_date,
                   cand.days_overdue, p_today, cand.escalated_from
              FROM cand, cnt, ctr
             ORDER BY cand.rn
            RETURNING id, project_id, problem_id, level
        ), rec AS (
            -- due, yellow, red: the item's people but the city leader;
            -- escalated: the city leader (none: step 3b)
            INSERT INTO notice_recipient (notice_id, official_id, unit_id, role)
            SELECT i.id, x.official_id, x.unit_id, x.role
              FROM ins i
             CROSS JOIN LATERAL bb_item_people(i.project_id, i.problem_id, p_today) x
             WHERE (x.role = '包保市领导') = (i.level = 'escalated')
        ), del AS (
            INSERT INTO notice_delivery (notice_id) SELECT i.id FROM ins i
        )
        SELECT count(*), min(id), max(id), (SELECT coalesce(cnt.total, 0) FROM cnt)
          INTO v_n, v_lo, v_hi, v_total FROM ins;
        v_notices := v_notices + v_n;
        v_first_notice := coalesce(v_first_notice, v_lo);
        v_last_notice := coalesce(v_hi, v_last_notice);
        v_more := v_total > v_left;
        v_left := v_left - v_n;
        -- phase 1 used up the part: phase 2 has not run, so there is more
        -- (at worst one cheap call that finds nothing)
        IF v_phase = 1 AND v_left <= 0 THEN
            v_more := true;
        END IF;
        IF v_n > 1000 THEN
            ANALYZE notice;
        END IF;
    END LOOP;

    -- 3b. an escalated notice of an item without a 包保市领导 goes to the
    -- people of the red notice it raises (somebody must be told)
    IF v_notices > 0 THEN
        INSERT INTO notice_recipient (notice_id, official_id, unit_id, role)
        SELECT e.id, q.official_id, q.unit_id, q.role
          FROM notice e
          JOIN notice_recipient q ON q.notice_id = e.escalated_from
         WHERE e.id BETWEEN v_first_notice AND v_last_notice AND e.level = 'escalated'
           AND NOT EXISTS (SELECT 1 FROM notice_recipient r WHERE r.notice_id = e.id);
    END IF;

    -- 4. tell every baobaod (delivered at commit)
    IF v_changes > 0 THEN
        PERFORM pg_notify('bb_push', format('light:%s-%s', v_first_change, v_last_change));
    END IF;
    IF v_notices > 0 THEN
        PERFORM pg_notify('bb_push', format('notice:%s-%s', v_first_notice, v_last_notice));
        PERFORM pg_notify('bb_delivery', '');
    END IF;

    RETURN QUERY SELECT v_changes, v_notices, v_closed, v_first_change, v_last_change,
                        v_first_notice, v_last_notice, v_more, false, false;
END
$$;

-- ---- what the wire shows of a light change ----
--
-- light.history, light.changes (server/methods/supervise.c) and the
-- light.changed push (server/methods/push.c) read this. township_id is the
-- item's township now (a milestone: its project's; a problem: its
-- enterprise's), for scope; title as bb_item_title says, from today's names.
-- Column names are the wire keys and the values their wire form (dates
-- 'YYYY-MM-DD', `at` bb_ts), as in the other *_wire views: filter on id,
-- township_id and the light; on_date compares as text in ISO order.
CREATE VIEW light_change_wire AS
SELECT c.id,
       CASE WHEN c.problem_id IS NULL THEN 'milestone' ELSE 'problem' END AS kind,
       c.project_id, c.node, c.problem_id,
       coalesce(p.township_id, e.township_id) AS township_id,
       bb_item_title(p.name, c.node, e.name, pr.description) AS title,
       c.from_light, c.to_light, to_char(c.on_date, 'YYYY-MM-DD') AS on_date,
       c.days_overdue, to_char(c.due_date, 'YYYY-MM-DD') AS due_date, bb_ts(c.at) AS at
  FROM light_change c
  LEFT JOIN project p ON p.id = c.project_id
  LEFT JOIN problem pr ON pr.id = c.problem_id
  LEFT JOIN enterprise e ON e.id = pr.enterprise_id;

-- ---- what can move a light ----
--
-- A committed change of a project (its stage), a milestone (planned or
-- actual date), a problem (deadline, state) or an assignment (who the
-- notices go to) says so on bb_dirty; every baobaod sweeps
-- supervise_debounce_ms later. Statement triggers: one notification per
-- statement, and PostgreSQL folds identical ones within a transaction, so
-- an import of a thousand rows says it once.
CREATE FUNCTION bb_dirty_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bb_dirty', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER project_dirty AFTER INSERT OR UPDATE OR DELETE ON project
    FOR EACH STATEMENT EXECUTE FUNCTION bb_dirty_notify();
CREATE TRIGGER project_milestone_dirty AFTER INSERT OR UPDATE OR DELETE ON project_milestone
    FOR EACH STATEMENT EXECUTE FUNCTION bb_dirty_notify();
CREATE TRIGGER problem_dirty AFTER INSERT OR UPDATE OR DELETE ON problem
    FOR EACH STATEMENT EXECUTE FUNCTION bb_dirty_notify();
CREATE TRIGGER assignment_dirty AFTER INSERT OR UPDATE OR DELETE ON assignment
    FOR EACH STATEMENT EXECUTE FUNCTION bb_dirty_notify();
