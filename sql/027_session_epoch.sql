-- 027_session_epoch.sql: sessions that every baobaod process judges alike
-- (issue 14, item 1), told by NOTIFY rather than asked on every request.
--
-- A session is made at a login (or a resume) from the user's row and keeps
-- the epoch it saw. app_user.epoch is raised by every change that must end
-- the user's sessions: the password, the role, disabled (either way) and
-- the townships (scope). At the commit of such a change, every listening
-- process hears 'bb_session' '<user_id>:<epoch>:<seq>' and logs out that
-- user's sessions made under an older epoch. The process that made the
-- change then waits (bb_node_barrier) until every live process has said,
-- by its applied_seq in bb_node, that it has applied the change: so the
-- change takes effect at the user's very next request, in any process.
--
-- Why seq is taken at commit, under a lock: a process says "applied up to
-- seq S" with one number, which is true only if it hears the changes in
-- seq order. NOTIFY delivers in commit order; a seq drawn in the writing
-- statement could commit after a higher one. So the seq is drawn by a
-- deferred trigger (it runs at commit, after every row lock of the
-- transaction is taken: the lock below cannot deadlock with them) under a
-- transaction advisory lock that is held until the commit has queued the
-- notification: seq order = commit order = delivery order. It serializes
-- only the commits of session-ending changes (rare admin acts).
--
-- bb_node is the registry of running processes: a process beats every
-- NODE_BEAT_MS (server/engine/nodes.c); one whose beat is older than the
-- barrier's p_stale_ms is taken as gone (not waited for), and by the rule
-- of nodes.c it stopped serving sessions long before that.
--
-- Not for: kept tokens (016 deletes them on the same changes), login
-- throttling (004/005), idle and absolute lifetimes (checked in memory by
-- the process that holds the session).

ALTER TABLE app_user ADD COLUMN epoch bigint NOT NULL DEFAULT 1;
-- The seq of the last notification about this user (0: none yet): the
-- barrier's target for a change to it, read after the change committed.
ALTER TABLE app_user ADD COLUMN session_seq bigint NOT NULL DEFAULT 0;

CREATE SEQUENCE bb_session_seq;

-- Microseconds since 1970 of a timestamp: the login time a session keeps
-- (its absolute lifetime counts from it), as a plain integer.
CREATE FUNCTION bb_epoch_us(ts timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (extract(epoch FROM ts) * 1000000)::bigint
$$;

-- A change of the row that ends sessions raises the epoch in the same
-- update (BEFORE: no second write of the row).
CREATE FUNCTION bb_user_epoch_raise() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.epoch := OLD.epoch + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER app_user_epoch BEFORE UPDATE OF password_hash, disabled, role
    ON app_user FOR EACH ROW
    WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR OLD.disabled IS DISTINCT FROM NEW.disabled
          OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION bb_user_epoch_raise();

-- A township added to or removed from a user (bb_user_update touches only
-- the rows that change, 016's comment): the scope changed. Raised once per
-- user per transaction (a change of ten townships is one change, and one
-- notification), and not at all for a user inserted in this transaction
-- (no session can have its epoch yet). Both are remembered in a
-- transaction-local setting, bb.epoch_<user id>: it goes with the
-- transaction, or with a subtransaction rolled back with its raise.
CREATE FUNCTION bb_user_epoch_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    u bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
BEGIN
    IF coalesce(current_setting('bb.epoch_' || u, true), '') <> '' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('bb.epoch_' || u, 'raised', true);
    UPDATE app_user SET epoch = epoch + 1 WHERE id = u;
    RETURN NULL;
END
$$;

CREATE TRIGGER app_user_township_epoch AFTER INSERT OR DELETE OR UPDATE
    ON app_user_township FOR EACH ROW
    EXECUTE FUNCTION bb_user_epoch_scope();

-- A new user: its townships inserted in the same transaction raise
-- nothing (BEFORE: marked before any township row can name it).
CREATE FUNCTION bb_user_epoch_new() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('bb.epoch_' || NEW.id, 'new', true);
    RETURN NEW;
END
$$;

CREATE TRIGGER app_user_epoch_new BEFORE INSERT ON app_user
    FOR EACH ROW EXECUTE FUNCTION bb_user_epoch_new();

-- At commit (deferred), once per changed user row: the lock, the seq, the
-- notification. A row whose epoch was raised twice in the transaction
-- (its role and its townships) queued two events: only the one that
-- carries the epoch the row has now notifies. The lock key is this file's number in the advisory key
-- space baobao uses (026 uses its own). Reentrant within one transaction.
CREATE FUNCTION bb_user_epoch_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
BEGIN
    IF NEW.epoch IS DISTINCT FROM (SELECT epoch FROM app_user WHERE id = NEW.id) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(27, 1);
    s := nextval('bb_session_seq');
    -- session_seq is not in the epoch trigger's columns: no second raise.
    UPDATE app_user SET session_seq = s WHERE id = NEW.id;
    PERFORM pg_notify('bb_session', NEW.id || ':' || NEW.epoch || ':' || s);
    RETURN NULL;
END
$$;

-- (Not UPDATE OF epoch: the BEFORE trigger raises it without naming it.)
CREATE CONSTRAINT TRIGGER app_user_epoch_notify AFTER UPDATE ON app_user
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.epoch IS DISTINCT FROM NEW.epoch)
    EXECUTE FUNCTION bb_user_epoch_notify();

-- The epoch of a user as this transaction sees it now: VOLATILE, so that
-- a statement calling it after a function that changed the user (a
-- password change, a login that locked the row) reads that change. NULL
-- when there is no such user.
CREATE FUNCTION bb_user_epoch(p_user bigint) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    SELECT epoch FROM app_user WHERE id = p_user
$$;

-- After LISTEN is (back) up, the sessions a process holds, as parallel
-- arrays of user ids and the epochs their logins saw: which of them are
-- no longer good (o_user: the user, once per epoch held; o_why
-- 'user_gone', 'disabled' or 'user_changed'; o_epoch: the user's epoch
-- now, NULL when gone; the process ends only the sessions older than it,
-- or all of a gone or disabled user's), and one row with o_user NULL
-- whose o_seq is the highest seq this snapshot has applied (every change
-- up to it is seen here, so the process may say it applied it).
CREATE FUNCTION bb_session_recheck(p_users bigint[], p_epochs bigint[])
RETURNS TABLE (o_user bigint, o_why text, o_seq bigint, o_epoch bigint)
LANGUAGE sql STABLE AS $$
    SELECT b.u, CASE WHEN a.id IS NULL THEN 'user_gone'
                     WHEN a.disabled THEN 'disabled'
                     ELSE 'user_changed' END, NULL::bigint, a.epoch
      FROM (SELECT DISTINCT u, e FROM unnest(p_users, p_epochs) AS x(u, e)) AS b
      LEFT JOIN app_user a ON a.id = b.u
     WHERE a.id IS NULL OR a.disabled OR a.epoch <> b.e
    UNION ALL
    SELECT NULL, NULL, coalesce(max(session_seq), 0), NULL FROM app_user
$$;

-- The registry of running processes.
CREATE TABLE bb_node (
    id bigserial PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    beat_at timestamptz NOT NULL DEFAULT now(),
    -- every session-ending change up to this seq is applied in the process
    applied_seq bigint NOT NULL DEFAULT 0
);

-- A process joins (once LISTEN is up and its sessions are re-checked, so
-- applied_seq is true from the first row). Rows of processes gone for
-- long are removed here: the table stays as small as the fleet.
CREATE FUNCTION bb_node_register(p_host text, p_pid integer, p_applied bigint,
                                 p_forget_s integer)
RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    DELETE FROM bb_node WHERE beat_at < now() - make_interval(secs => p_forget_s);
    INSERT INTO bb_node (host, pid, applied_seq) VALUES (p_host, p_pid, p_applied)
    RETURNING id
$$;

-- A beat: alive now, applied up to p_applied (never backwards). The beat
-- is also sent back on p_channel, the process's own channel
-- ('b:<id>:<n>'; no other process listens there): the process hears its
-- own beat only if its LISTEN connection still delivers, which is what
-- "this process can hear changes" means (nodes.c; the queue of
-- notifications is one, in commit order, across channels). false: no
-- such row (removed as long gone): the process registers again.
-- The beat's commit does not wait for its WAL to reach the disk
-- (synchronous_commit off for this transaction only: set_config with
-- is_local, not a function SET clause, which would end before the
-- commit): a beat lost in a crash costs nothing, the next one says the
-- same, and two a second per process must not each wait for a flush.
CREATE FUNCTION bb_node_beat(p_id bigint, p_applied bigint, p_n bigint, p_channel text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE bb_node SET beat_at = now(), applied_seq = greatest(applied_seq, p_applied)
     WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify(p_channel, 'b:' || p_id || ':' || p_n);
    RETURN true;
END
$$;

-- A clean shutdown: not waited for from now on.
CREATE FUNCTION bb_node_leave(p_id bigint) RETURNS void
LANGUAGE sql VOLATILE AS $$
    DELETE FROM bb_node WHERE id = p_id
$$;

-- Has every live process (beat within p_stale_ms) applied the last change
-- to p_user? o_waiting: how many have not (0: done); o_seq: the change's
-- seq. Read after the change committed, so session_seq is its seq or a
-- later one's.
CREATE FUNCTION bb_node_barrier(p_user bigint, p_stale_ms integer)
RETURNS TABLE (o_waiting bigint, o_seq bigint)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*) FROM bb_node n
             WHERE n.beat_at > now() - make_interval(secs => p_stale_ms / 1000.0)
               AND n.applied_seq < u.session_seq),
           u.session_seq
      FROM app_user u WHERE u.id = p_user
$$;
