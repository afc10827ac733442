-- 012_exports.sql: the record of nightly and on-demand export runs
-- (issue 6). Table only; the export itself runs in baobaod (server/export.c).

-- One row per run: started when the run begins (status 'running'),
-- finished with 'ok' or 'failed'. A 'running' row whose server died stays
-- 'running' until the next start marks it 'failed' (why: server stopped).
-- export_date is the business date the run is for (the day in time_zone
-- when it was due or asked for); folder is relative to export_dir.
CREATE TABLE export_run (
    id bigserial PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('scheduled', 'catch_up', 'manual')),
    export_date date NOT NULL,
    requested_by bigint NULL,             -- app_user.id for 'manual'
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz NULL,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
    folder text NULL,
    files jsonb NULL,                     -- [{name, rows, bytes, sha256}] as in the manifest
    error text NULL,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX export_run_date_idx ON export_run (export_date, id);
