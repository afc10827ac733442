-- 007_projects.sql: the tables of issue 5: units and officials, investment
-- projects with their milestone plans, 包保 assignments, problems (诉求)
-- and the troubled-enterprise file (困难企业). Tables and indexes only;
-- the functions come in 008 (projects), 009 (units, officials,
-- assignments), 010 (problems, troubled enterprises), 011 (overdue).
-- ../shared/DOMAIN.md describes each thing.

-- A unit (单位): a bureau (科信局, 招商办), a township government, a
-- utility. Responsible for projects (lead unit), assignments (责任单位)
-- and problems.
CREATE TABLE unit (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
        CHECK (char_length(name) BETWEEN 1 AND 50 AND NOT bb_has_control(name)),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- An official (干部): a city leader, a bureau head, a liaison. May also be
-- a user of baobao (user_id).
CREATE TABLE official (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50 AND NOT bb_has_control(name)),
    title text NULL CHECK (title IS NULL OR (char_length(title) BETWEEN 1 AND 50
                                             AND NOT bb_has_control(title))),
    unit_id bigint NULL REFERENCES unit (id),
    phone text NULL CHECK (phone IS NULL OR phone ~ '^[0-9][0-9 +-]{2,31}$'),
    user_id bigint NULL UNIQUE REFERENCES app_user (id),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX official_unit_idx ON official (unit_id, id);

-- The project lifecycle (DOMAIN.md): stages in order, then the two ends
-- off the line. bb_stage_rank gives the order; 终止 and 暂停 have none.
CREATE FUNCTION bb_stage_rank(p_stage text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_position(ARRAY['信息收集', '研判', '洽谈', '签约', '注册', '开工', '投产', '竣工'],
                          p_stage)
$$;

-- An investment project (招商项目 / 重点项目). planned_investment in yuan
-- (never floating point). stage_reason is required for 终止 and 暂停.
CREATE TABLE project (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND NOT bb_has_control(name)),
    enterprise_id bigint NULL REFERENCES enterprise (id),
    cluster text NULL REFERENCES industry_cluster (name),
    planned_investment bigint NOT NULL CHECK (planned_investment BETWEEN 0 AND 1000000000000000),
    priority text NOT NULL CHECK (priority IN ('省级重点', '市级重点', '一般')),
    lead_unit_id bigint NULL REFERENCES unit (id),
    township_id smallint NOT NULL REFERENCES township (id),
    stage text NOT NULL DEFAULT '信息收集'
        CHECK (bb_stage_rank(stage) IS NOT NULL OR stage IN ('终止', '暂停')),
    stage_reason text NULL
        CHECK (stage_reason IS NULL OR (char_length(stage_reason) BETWEEN 1 AND 500
                                        AND NOT bb_has_control(stage_reason))),
    -- the stage a 暂停 project resumes from
    paused_from text NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (stage NOT IN ('终止', '暂停') OR stage_reason IS NOT NULL)
);
CREATE INDEX project_township_idx ON project (township_id, id);
CREATE INDEX project_stage_idx ON project (stage, id);
CREATE INDEX project_cluster_idx ON project (cluster, id);
CREATE INDEX project_lead_unit_idx ON project (lead_unit_id, id);
CREATE INDEX project_enterprise_idx ON project (enterprise_id) WHERE enterprise_id IS NOT NULL;

-- The milestone plan: one row per node of a project, made when the project
-- is created (all five nodes, dates NULL until planned). A milestone is
-- overdue when planned_date < today and actual_date IS NULL; the partial
-- index lets the overdue query walk open milestones in planned-date order
-- (most overdue first) instead of sorting a computed expression.
CREATE TABLE project_milestone (
    project_id bigint NOT NULL REFERENCES project (id),
    node text NOT NULL CHECK (node IN ('签约', '注册', '开工', '投产', '竣工')),
    planned_date date NULL,
    actual_date date NULL,
    PRIMARY KEY (project_id, node)
);
CREATE INDEX project_milestone_open_idx ON project_milestone (planned_date, project_id, node)
    WHERE actual_date IS NULL AND planned_date IS NOT NULL;

-- History the project view shows: every stage move (with the nodes a jump
-- skipped) and every change of a planned date (with who and why).
CREATE TABLE project_stage_event (
    id bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES project (id),
    at timestamptz NOT NULL DEFAULT now(),
    user_id bigint NULL,
    from_stage text NULL,
    to_stage text NOT NULL,
    skipped text[] NOT NULL DEFAULT '{}',
    reason text NULL
);
CREATE INDEX project_stage_event_project_idx ON project_stage_event (project_id, id);

CREATE TABLE milestone_plan_event (
    id bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES project (id),
    node text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    user_id bigint NULL,
    old_planned date NULL,
    new_planned date NULL,
    reason text NULL
);
CREATE INDEX milestone_plan_event_project_idx ON milestone_plan_event (project_id, node, id);

-- A 包保 assignment: an official or a unit responsible for an enterprise
-- or a project, in a role, for a period. 责任单位 is a unit; 包保市领导 and
-- 联络员 are officials. Active on day D when period_start <= D and
-- (period_end IS NULL or D <= period_end).
CREATE TABLE assignment (
    id bigserial PRIMARY KEY,
    official_id bigint NULL REFERENCES official (id),
    unit_id bigint NULL REFERENCES unit (id),
    enterprise_id bigint NULL REFERENCES enterprise (id),
    project_id bigint NULL REFERENCES project (id),
    role text NOT NULL CHECK (role IN ('包保市领导', '责任单位', '联络员')),
    period_start date NOT NULL,
    period_end date NULL CHECK (period_end IS NULL OR period_end >= period_start),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(official_id, unit_id) = 1),
    CHECK (num_nonnulls(enterprise_id, project_id) = 1),
    CHECK ((role = '责任单位') = (unit_id IS NOT NULL))
);
CREATE INDEX assignment_enterprise_idx ON assignment (enterprise_id, role) WHERE enterprise_id IS NOT NULL;
CREATE INDEX assignment_project_idx ON assignment (project_id, role) WHERE project_id IS NOT NULL;
CREATE INDEX assignment_official_idx ON assignment (official_id, id) WHERE official_id IS NOT NULL;
CREATE INDEX assignment_unit_idx ON assignment (unit_id, id) WHERE unit_id IS NOT NULL;

-- A problem (诉求) an enterprise raised, often while a status report was
-- logged. Workflow 受理 → 交办 → 办理 → 反馈 → 确认 (closed); a closed
-- problem may be reopened (back to 办理) with a reason. Overdue when
-- deadline < today and state <> 确认.
CREATE TABLE problem (
    id bigserial PRIMARY KEY,
    enterprise_id bigint NOT NULL REFERENCES enterprise (id),
    status_report_id bigint NULL REFERENCES status_report (id),
    category text NOT NULL
        CHECK (category IN ('用地', '用工', '融资', '用电', '审批', '物流', '市场', '其他')),
    description text NOT NULL
        CHECK (char_length(description) BETWEEN 1 AND 2000
               AND NOT bb_has_control(translate(description, E'\n\r\t', '   '))),
    assignee_unit_id bigint NULL REFERENCES unit (id),
    assignee_official_id bigint NULL REFERENCES official (id),
    deadline date NOT NULL,
    state text NOT NULL DEFAULT '受理' CHECK (state IN ('受理', '交办', '办理', '反馈', '确认')),
    closed_at timestamptz NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = '确认') = (closed_at IS NOT NULL))
);
CREATE INDEX problem_open_idx ON problem (deadline, id) WHERE state <> '确认';
CREATE INDEX problem_enterprise_idx ON problem (enterprise_id, id);
CREATE INDEX problem_unit_idx ON problem (assignee_unit_id, id) WHERE assignee_unit_id IS NOT NULL;
CREATE INDEX problem_official_idx ON problem (assignee_official_id, id)
    WHERE assignee_official_id IS NOT NULL;

-- Each step of a problem: who moved it, when, from which state to which,
-- with a note (the reason, for a reopening).
CREATE TABLE problem_event (
    id bigserial PRIMARY KEY,
    problem_id bigint NOT NULL REFERENCES problem (id),
    at timestamptz NOT NULL DEFAULT now(),
    user_id bigint NULL,
    from_state text NULL,
    to_state text NOT NULL,
    note text NULL
);
CREATE INDEX problem_event_problem_idx ON problem_event (problem_id, id);

-- The file of a troubled enterprise (困难企业): why it is idle, idle land
-- (亩, two decimals) and factory floor (m²), its strengths, the revival plan
-- (盘活) and how far it has got.
CREATE TABLE enterprise_trouble (
    enterprise_id bigint PRIMARY KEY REFERENCES enterprise (id),
    idle_reason text NOT NULL
        CHECK (char_length(idle_reason) BETWEEN 1 AND 500 AND NOT bb_has_control(idle_reason)),
    idle_land_mu numeric(12, 2) NULL CHECK (idle_land_mu IS NULL OR idle_land_mu >= 0),
    idle_floor_m2 numeric(14, 2) NULL CHECK (idle_floor_m2 IS NULL OR idle_floor_m2 >= 0),
    strengths text NULL CHECK (strengths IS NULL OR char_length(strengths) BETWEEN 1 AND 2000),
    revival_plan text NULL CHECK (revival_plan IS NULL OR char_length(revival_plan) BETWEEN 1 AND 2000),
    revival_progress text NULL
        CHECK (revival_progress IS NULL OR char_length(revival_progress) BETWEEN 1 AND 2000),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A key enterprise (重点企业) for coverage gaps: one with a key label.
-- Which labels are key is the county's reference data (015 redefines this
-- to read it; no label is named in a migration). Key projects: priority
-- 省级重点 or 市级重点, not 终止 or 竣工.
CREATE FUNCTION bb_is_key_enterprise(p_labels text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT false
$$;
