-- 026_export_claim.sql: one exporter per database (issue 14). Several
-- baobaod processes share one database and one export_dir; the database
-- says who runs what.
--
-- A run's row names its owner (host:pid of the baobaod that runs it) and
-- the owner's heartbeat, refreshed every EXPORT_HEARTBEAT_MS while the run
-- goes on (server/methods/export_worker.c). The recovery runs under the
-- export lock (below) and fails every 'running' row: its owner would hold
-- the lock. The heartbeat serves a process without the lock: a manual
-- export.run joins a 'running' row only when its heartbeat is younger than
-- EXPORT_OWNER_STALE_MS (proto/bb_limits.h). Rows from before this
-- migration have no owner and heartbeat_at = started_at.
--
-- claim_date: the export_date a scheduled or catch-up run claims, unique,
-- so two processes due the same night make one run and one folder; a run
-- that fails gives its claim back (NULL), so a later catch-up may run the
-- date again. Manual runs claim no date. A column rather than a unique
-- index on export_date: databases that already hold two scheduled runs of
-- one night (the bug this fixes) keep them, with no claim.
--
-- Besides the claim, every run (and every recovery) holds the session
-- advisory lock EXPORT_LOCK_KEY (server/methods/export_worker.c) on its
-- export connection: runs follow one another across processes, and a lock
-- dies with its connection when a process is killed.
ALTER TABLE export_run
    ADD COLUMN owner text NULL,
    ADD COLUMN heartbeat_at timestamptz NULL,
    ADD COLUMN claim_date date NULL UNIQUE,
    ADD CONSTRAINT export_run_claim_kind
        CHECK (claim_date IS NULL OR (kind IN ('scheduled', 'catch_up') AND claim_date = export_date));
UPDATE export_run SET heartbeat_at = started_at WHERE heartbeat_at IS NULL;
ALTER TABLE export_run ALTER COLUMN heartbeat_at SET DEFAULT now(),
                       ALTER COLUMN heartbeat_at SET NOT NULL;
CREATE INDEX export_run_running_idx ON export_run (id) WHERE status = 'running';

-- Housekeeping runs once per database per period, whichever process comes
-- first (server/methods/housekeeping.c): the pass claims this one row by
-- moving last_at forward, only when the last pass is older than the
-- period; a concurrent pass waits on the row lock, sees the new last_at
-- and deletes nothing.
CREATE TABLE housekeeping_claim (
    id int PRIMARY KEY CHECK (id = 1),
    last_at timestamptz NOT NULL DEFAULT '-infinity',
    last_owner text NULL
);
INSERT INTO housekeeping_claim (id) VALUES (1);
