-- 005_users.sql: the accounts half of issue 4: how a User looks on the
-- wire, the two statements of a login (claim the attempt against the
-- throttle, record its outcome), the three of session.change_password, and
-- one function per write of users (user.create, user.update,
-- user.set_password, and the first admin of `baobaod --create-admin`).
--
-- Every write function takes p_actor (the session's user id; checked again
-- here with bb_actor, a second wall after the server's gate) and p_addr
-- (the peer "ip:port"), and writes its audit row (bb_audit, entity 'user')
-- in the same transaction. Password hashes are made by the server
-- (libsodium, on its thread pool); SQL only stores them and never returns
-- them except to the first statement of a login or of a password change.
--
-- Not for: the tables (004_accounts.sql), scope of business data or
-- audit.* reads (006_scope_audit.sql).

-- A User as the wire shows it, column names = wire keys. townships are the
-- names joined with a newline (server/rowpack.c RP_LINES), sorted by
-- township id; '' for users without townships.
CREATE VIEW app_user_wire AS
SELECT u.id,
       u.login,
       u.display_name,
       u.role,
       u.unit,
       coalesce((SELECT string_agg(t.name, E'\n' ORDER BY t.id)
                   FROM app_user_township ut
                   JOIN township t ON t.id = ut.township_id
                  WHERE ut.user_id = u.id), '') AS townships,
       u.disabled,
       u.version,
       bb_ts(u.created_at) AS created_at,
       bb_ts(u.updated_at) AS updated_at
  FROM app_user u;

-- The User as a jsonb object for audit rows: townships as an array, as the
-- wire shows it. NULL when the user does not exist.
CREATE FUNCTION bb_user_json(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT to_jsonb(w) || jsonb_build_object('townships',
               to_jsonb(coalesce(string_to_array(nullif(w.townships, ''), E'\n'), '{}'::text[])))
      FROM app_user_wire w
     WHERE w.id = p_id
$$;

-- ---- logins ----
--
-- Throttling (proto/PROTOCOL.md, "Failed logins"). Each subject of
-- login_throttle ('user:<login as sent>', 'addr:<address key>': the IPv4
-- address, or the /64 of an IPv6 one, made by server/session.c) counts
-- failures in a row, and the checks still running (claims, each with its
-- time). An attempt is CLAIMED before its password is checked: the rows of
-- its subjects are locked (made when missing); a subject that is locked,
-- or whose failures reached its limit, refuses it (locked); one whose
-- failures + claims reached the limit refuses it as busy (nothing counted:
-- retry); otherwise it adds a claim on each subject. When the check is
-- done the attempt is FINISHED: one claim is given back; a success resets
-- the account's failures; a failure is counted and locks a subject whose
-- failures reached its limit. So concurrent attempts cannot all pass the
-- check of the lock before any of them is counted (at most the limit of
-- them are ever checked), and concurrent right passwords never lock an
-- account. A claim never finished (the server stopped, the statement
-- failed) stops counting a minute after it was made. login_lock_ms = 0:
-- nothing is ever locked or busy; failures only lengthen the delay.
--
-- Lock order, everywhere: app_user, then 'addr:', then 'user:' rows (so
-- two statements never wait on each other in opposite orders).

-- Locks p_subject's row for the rest of the transaction (made when
-- missing) and starts its count again when its last lock has expired or
-- its last failure is older than p_lock. Returns the whole seconds it
-- stays locked (at least 1): until locked_until, or, when the count has
-- reached p_max while the attempts that reached it are still being
-- checked (locked_until not set yet), a whole p_lock. 0 when free.
CREATE FUNCTION bb_throttle_claim(p_subject text, p_max integer, p_lock interval) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    cur login_throttle;
    now_ts constant timestamptz := clock_timestamp();
    live timestamptz[];
BEGIN
    -- The row may be deleted (a success resets it) between the insert that
    -- found it and the lock: then it is made again.
    LOOP
        INSERT INTO login_throttle (subject, failures) VALUES (p_subject, 0)
        ON CONFLICT (subject) DO NOTHING;
        SELECT * INTO cur FROM login_throttle WHERE subject = p_subject FOR UPDATE;
        EXIT WHEN FOUND;
    END LOOP;
    -- Claims never finished (their server stopped, their statement failed)
    -- stop counting a minute after they were made.
    live := ARRAY(SELECT c FROM unnest(cur.claims) AS u(c)
                   WHERE c >= now_ts - interval '1 minute' ORDER BY c);
    IF cardinality(live) <> cardinality(cur.claims) THEN
        UPDATE login_throttle SET claims = live WHERE subject = p_subject;
    END IF;
    IF p_lock <= interval '0' THEN
        -- login_lock_ms = 0: never locked, so no count to outrun either;
        -- failures still lengthen the delay until a success.
        RETURN 0;
    END IF;
    -- An expired lock, or failures older than the lock time: the count
    -- starts again (then the checks below still apply).
    IF (cur.locked_until IS NOT NULL AND cur.locked_until <= now_ts)
       OR (cur.last_failure_at IS NOT NULL AND cur.last_failure_at < now_ts - p_lock) THEN
        UPDATE login_throttle SET failures = 0, last_failure_at = NULL, locked_until = NULL
         WHERE subject = p_subject;
        cur.failures := 0;
        cur.locked_until := NULL;
    END IF;
    IF cur.locked_until IS NOT NULL THEN
        RETURN greatest(1, ceil(extract(epoch FROM cur.locked_until - now_ts)))::bigint;
    END IF;
    IF cur.failures >= p_max THEN
        RETURN greatest(1, ceil(extract(epoch FROM p_lock)))::bigint;
    END IF;
    IF cur.failures + cardinality(live) >= p_max THEN
        -- As many checks are running as failures are left before the lock:
        -- one more could outrun the count. Busy, not locked: nothing is
        -- counted, the caller answers `unavailable` (retry in a moment).
        RETURN -1;
    END IF;
    RETURN 0;
END
$$;

-- Counts one claim (a check now running) for p_subject, claimed by
-- bb_throttle_claim in this transaction. Returns failures + claims, this
-- one included.
CREATE FUNCTION bb_throttle_count(p_subject text) RETURNS integer
LANGUAGE sql AS $$
    UPDATE login_throttle
       SET claims = claims || clock_timestamp()
     WHERE subject = p_subject
    RETURNING failures + cardinality(claims)
$$;

-- Gives one claim back (the oldest: claims are alike, and any one never
-- finished expires on its own).
CREATE FUNCTION bb_claims_minus_one(p_claims timestamptz[]) RETURNS timestamptz[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(p_claims[2:cardinality(p_claims)], '{}')
$$;

-- A claimed check succeeded: its claim is given back, and the account's
-- failures start again from 0 (p_reset) or, for an address, stay.
CREATE FUNCTION bb_throttle_success(p_subject text, p_reset boolean) RETURNS void
LANGUAGE sql AS $$
    UPDATE login_throttle
       SET claims = bb_claims_minus_one(claims),
           failures = CASE WHEN p_reset THEN 0 ELSE failures END,
           last_failure_at = CASE WHEN p_reset THEN NULL ELSE last_failure_at END,
           locked_until = CASE WHEN p_reset THEN NULL ELSE locked_until END
     WHERE subject = p_subject;
    -- a row at 0 is of no use: every address and login would keep one
    DELETE FROM login_throttle
     WHERE subject = p_subject AND failures = 0 AND cardinality(claims) = 0
       AND locked_until IS NULL;
$$;

-- A counted failure turned out to be one: locks p_subject for p_lock when
-- its count has reached p_max and it is not locked yet (p_lock 0: never).
-- Returns the count (0 when the row is gone: a success reset it since).
CREATE FUNCTION bb_throttle_settle(p_subject text, p_max integer, p_lock interval)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    UPDATE login_throttle
       SET failures = failures + 1,
           claims = bb_claims_minus_one(claims),
           last_failure_at = clock_timestamp(),
           locked_until = CASE WHEN locked_until IS NULL AND failures + 1 >= p_max
                                    AND p_lock > interval '0'
                               THEN clock_timestamp() + p_lock ELSE locked_until END
     WHERE subject = p_subject
    RETURNING failures INTO n;
    RETURN coalesce(n, 0);
END
$$;

-- The first statement of a login: claims the attempt (above) for the
-- address (limit 4 x p_max_failures, so one person cannot lock out an
-- office behind one NAT address) and the account (limit p_max_failures),
-- and returns the user (NULL columns when the login is unknown).
-- o_lock_secs -1: busy (as many checks of this account or address are
-- running as failures are left before its lock): refused with a 'refused'
-- row, nothing counted; the server answers `unavailable`.
-- o_lock_secs > 0: refused, nothing counted, and the login_event row
-- (outcome 'locked') is written here; o_hash is then NULL, so a locked
-- account is never an oracle for guesses. Else o_failures is the
-- account's count with this attempt. Always exactly one row.
-- p_ip: the address as it goes into login_event; p_addr_key: its
-- throttle key.
CREATE FUNCTION bb_login_begin(p_login text, p_ip text, p_addr_key text,
                               p_max_failures integer, p_lock_ms bigint,
                               OUT o_user_id bigint, OUT o_role text, OUT o_hash text,
                               OUT o_disabled boolean, OUT o_lock_secs bigint,
                               OUT o_failures integer)
LANGUAGE plpgsql AS $$
DECLARE
    lock_for constant interval := p_lock_ms * interval '1 millisecond';
    s_addr constant text := 'addr:' || p_addr_key;
    s_user constant text := 'user:' || p_login;
    addr_secs bigint;
    user_secs bigint;
    u app_user;
BEGIN
    addr_secs := bb_throttle_claim(s_addr, 4 * p_max_failures, lock_for);
    user_secs := bb_throttle_claim(s_user, p_max_failures, lock_for);
    SELECT * INTO u FROM app_user a WHERE a.login = p_login;
    o_user_id := u.id;
    o_role := u.role;
    o_disabled := u.disabled;
    o_lock_secs := greatest(addr_secs, user_secs);
    o_failures := 0;
    IF o_lock_secs > 0 THEN
        INSERT INTO login_event (login, user_id, addr, outcome)
        VALUES (left(p_login, 64), u.id, p_ip, 'locked');
        RETURN;
    END IF;
    IF least(addr_secs, user_secs) < 0 THEN
        o_lock_secs := -1;      -- busy: nothing counted, nothing checked
        INSERT INTO login_event (login, user_id, addr, outcome)
        VALUES (left(p_login, 64), u.id, p_ip, 'refused');
        RETURN;
    END IF;
    PERFORM bb_throttle_count(s_addr);
    o_failures := bb_throttle_count(s_user);
    o_hash := u.password_hash;
END
$$;

-- The second statement of a login: records the attempt (login_event) and
-- finishes its claim. p_outcome is what the server found: 'ok' (the
-- password matched p_hash, the hash it read in bb_login_begin),
-- 'unknown_user', 'bad_password', 'disabled'. An 'ok' is checked again
-- against the user as it is now, locked FOR SHARE until the commit (so a
-- disable, a role change or a password reset either committed before and
-- is seen here, or waits until this login is recorded and its revocation
-- of sessions then includes this one): gone -> 'unknown_user', disabled ->
-- 'disabled', another hash -> 'bad_password'. o_outcome is the outcome
-- recorded; o_user the User as it is now (NULL unless 'ok'), which the
-- session is made of; o_failures the account's count (what the server's
-- delay is based on; 0 after a success).
CREATE FUNCTION bb_login_finish(p_login text, p_user_id bigint, p_ip text, p_addr_key text,
                                p_outcome text, p_hash text, p_max_failures integer,
                                p_lock_ms bigint,
                                OUT o_outcome text, OUT o_failures integer,
                                OUT o_user app_user_wire)
LANGUAGE plpgsql AS $$
DECLARE
    lock_for constant interval := p_lock_ms * interval '1 millisecond';
    u app_user;
BEGIN
    o_outcome := p_outcome;
    IF p_outcome = 'ok' THEN
        SELECT * INTO u FROM app_user a WHERE a.id = p_user_id FOR SHARE;
        IF NOT FOUND THEN
            o_outcome := 'unknown_user';
        ELSIF u.disabled THEN
            o_outcome := 'disabled';
        ELSIF u.password_hash IS DISTINCT FROM p_hash THEN
            o_outcome := 'bad_password';
        END IF;
    END IF;
    INSERT INTO login_event (login, user_id, addr, outcome)
    VALUES (left(p_login, 64), p_user_id, p_ip, o_outcome);
    IF o_outcome = 'ok' THEN
        PERFORM bb_throttle_success('addr:' || p_addr_key, false);
        PERFORM bb_throttle_success('user:' || p_login, true);
        o_failures := 0;
        SELECT * INTO o_user FROM app_user_wire w WHERE w.id = p_user_id;
    ELSE
        PERFORM bb_throttle_settle('addr:' || p_addr_key, 4 * p_max_failures, lock_for);
        o_failures := bb_throttle_settle('user:' || p_login, p_max_failures, lock_for);
    END IF;
END
$$;

-- ---- writes ----

-- The caller of a user.* write: an enabled admin (bb_actor raises BB401
-- for a user gone or disabled; another role is BB403). The server's gate
-- checked the role already; this is the second wall.
CREATE FUNCTION bb_user_admin(p_actor bigint) RETURNS app_user
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a app_user := bb_actor(p_actor);
BEGIN
    IF a.role <> 'admin' THEN
        RAISE EXCEPTION 'only an admin may manage users' USING ERRCODE = 'BB403';
    END IF;
    RETURN a;
END
$$;

-- Township ids of p_names (field 'townships' for an unknown name), and the
-- rule that township staff have at least one township and other roles none.
CREATE FUNCTION bb_user_townships(p_role text, p_names text[]) RETURNS smallint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ids smallint[] := '{}';
    n text;
    tid smallint;
BEGIN
    IF p_role NOT IN ('township_staff', 'supervisor', 'admin') THEN
        RAISE EXCEPTION 'role: must be township_staff, supervisor or admin'
            USING ERRCODE = 'BB400', COLUMN = 'role';
    END IF;
    FOREACH n IN ARRAY coalesce(p_names, '{}') LOOP
        SELECT id INTO tid FROM township WHERE name = n;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'townships: unknown township %', n
                USING ERRCODE = 'BB400', COLUMN = 'townships';
        END IF;
        ids := ids || tid;
    END LOOP;
    IF p_role = 'township_staff' AND cardinality(ids) = 0 THEN
        RAISE EXCEPTION 'townships: township staff need at least one township'
            USING ERRCODE = 'BB400', COLUMN = 'townships';
    END IF;
    IF p_role <> 'township_staff' AND cardinality(ids) > 0 THEN
        RAISE EXCEPTION 'townships: only township staff have townships (role %)', p_role
            USING ERRCODE = 'BB400', COLUMN = 'townships';
    END IF;
    RETURN ids;
END
$$;

-- Inserts a user and its townships; BB410 (field login) when the login is
-- taken. Returns the new id. Shared by user.create and --create-admin.
CREATE FUNCTION bb_user_insert(p_login text, p_display_name text, p_role text, p_unit text,
                               p_townships text[], p_hash text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    ids smallint[] := bb_user_townships(p_role, p_townships);
    new_id bigint;
BEGIN
    INSERT INTO app_user (login, display_name, role, unit, password_hash)
    VALUES (p_login, p_display_name, p_role, p_unit, p_hash)
    ON CONFLICT (login) DO NOTHING
    RETURNING id INTO new_id;
    IF new_id IS NULL THEN
        RAISE EXCEPTION 'a user with login % already exists', p_login
            USING ERRCODE = 'BB410', COLUMN = 'login';
    END IF;
    INSERT INTO app_user_township (user_id, township_id) SELECT new_id, unnest(ids);
    RETURN new_id;
END
$$;

-- user.create. The idempotency hash holds the actor (a key is only ever
-- replayed to the same user) and every argument but the password (its
-- hash is salted, so it differs on every call).
CREATE FUNCTION bb_user_create(p_actor bigint, p_addr text, p_key text, p_login text,
                               p_display_name text, p_role text, p_unit text,
                               p_townships text[], p_hash text)
RETURNS app_user_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'user.create';
    prev jsonb;
    new_id bigint;
    out_row app_user_wire;
BEGIN
    PERFORM bb_user_admin(p_actor);
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_login, p_display_name, p_role, p_unit, p_townships)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::app_user_wire, prev);
    END IF;
    new_id := bb_user_insert(p_login, p_display_name, p_role, p_unit, p_townships, p_hash);
    SELECT * INTO out_row FROM app_user_wire WHERE id = new_id;
    RETURN bb_write_done(p_actor, p_addr, m, p_key, 'user', new_id, NULL, out_row,
                         bb_user_json(new_id));
END
$$;

-- `baobaod --create-admin`: the first admin, outside any session (audit
-- row with no actor).
CREATE FUNCTION bb_user_create_admin(p_login text, p_display_name text, p_hash text)
RETURNS app_user_wire
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
    out_row app_user_wire;
BEGIN
    new_id := bb_user_insert(p_login, p_display_name, 'admin', NULL, NULL, p_hash);
    SELECT * INTO out_row FROM app_user_wire WHERE id = new_id;
    RETURN bb_write_done(NULL, 'local', 'baobaod --create-admin', NULL, 'user', new_id, NULL,
                         out_row, bb_user_json(new_id));
END
$$;

-- user.update. NULL display_name/role/disabled = unchanged; unit changes
-- only when p_set_unit (NULL = clear); townships NULL = unchanged, except
-- that a user who stops being township staff loses their townships.
CREATE FUNCTION bb_user_update(p_actor bigint, p_addr text, p_key text, p_id bigint,
                               p_version int, p_display_name text, p_role text,
                               p_set_unit boolean, p_unit text, p_townships text[],
                               p_disabled boolean)
RETURNS app_user_wire
LANGUAGE plpgsql AS $$
DECLARE
    m constant text := 'user.update';
    prev jsonb;
    cur app_user;
    before_v jsonb;
    role_v text;
    names text[];
    ids smallint[];
    out_row app_user_wire;
BEGIN
    PERFORM bb_user_admin(p_actor);
    prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
        p_actor, p_id, p_version, p_display_name, p_role, p_set_unit, p_unit,
        p_townships, p_disabled)::text));
    IF prev IS NOT NULL THEN
        RETURN jsonb_populate_record(NULL::app_user_wire, prev);
    END IF;
    SELECT * INTO cur FROM app_user WHERE id = p_id FOR UPDATE;
    PERFORM bb_check_row('user', p_id, FOUND, cur.version, p_version);
    IF p_id = p_actor AND p_disabled THEN
        RAISE EXCEPTION 'disabled: an admin cannot disable themselves'
            USING ERRCODE = 'BB400', COLUMN = 'disabled';
    END IF;
    IF p_id = p_actor AND p_role IS NOT NULL AND p_role <> 'admin' THEN
        RAISE EXCEPTION 'role: an admin cannot drop their own admin role'
            USING ERRCODE = 'BB400', COLUMN = 'role';
    END IF;
    before_v := bb_user_json(p_id);
    role_v := coalesce(p_role, cur.role);
    IF p_townships IS NOT NULL THEN
        names := p_townships;
    ELSIF role_v = 'township_staff' THEN
        SELECT coalesce(array_agg(t.name ORDER BY t.id), '{}') INTO names
          FROM app_user_township ut JOIN township t ON t.id = ut.township_id
         WHERE ut.user_id = p_id;
    ELSE
        names := '{}';
    END IF;
    ids := bb_user_townships(role_v, names);
    UPDATE app_user
       SET display_name = coalesce(p_display_name, display_name),
           role = role_v,
           unit = CASE WHEN p_set_unit THEN p_unit ELSE unit END,
           disabled = coalesce(p_disabled, disabled),
           version = version + 1,
           updated_at = now()
     WHERE id = p_id;
    DELETE FROM app_user_township WHERE user_id = p_id AND township_id <> ALL (ids);
    INSERT INTO app_user_township (user_id, township_id)
    SELECT p_id, unnest(ids) ON CONFLICT DO NOTHING;
    SELECT * INTO out_row FROM app_user_wire WHERE id = p_id;
    RETURN bb_write_done(p_actor, p_addr, m, p_key, 'user', p_id, before_v, out_row,
                         bb_user_json(p_id));
END
$$;

-- The audit row of a password change: the User before and after (equal:
-- the hash is not part of it) and "password" as the changed field, with
-- no value anywhere.
CREATE FUNCTION bb_user_audit_password(p_actor bigint, p_addr text, p_method text, p_id bigint)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_log (user_id, login, addr, method, entity, entity_id, before, after, changed)
    SELECT p_actor, coalesce((SELECT login FROM app_user WHERE id = p_actor), '(system)'),
           coalesce(p_addr, '-'), p_method, 'user', p_id, j, j, ARRAY['password']
      FROM bb_user_json(p_id) AS j
$$;

-- user.set_password: an admin sets another user's (or their own) password
-- and clears the account's login lock.
CREATE FUNCTION bb_user_set_password(p_actor bigint, p_addr text, p_id bigint, p_hash text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    l text;
BEGIN
    PERFORM bb_user_admin(p_actor);
    UPDATE app_user SET password_hash = p_hash WHERE id = p_id RETURNING login INTO l;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_id USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    DELETE FROM login_throttle WHERE subject = 'user:' || l;
    PERFORM bb_user_audit_password(p_actor, p_addr, 'user.set_password', p_id);
    RETURN true;
END
$$;

-- ---- session.change_password: three statements, throttled like logins
-- on the account's row ('user:<login>'; not the address's) ----

-- First: the caller (BB401 when gone or disabled), the hash to check the
-- old password against, and the claim of the attempt: o_lock_secs > 0 =
-- the account is locked (nothing counted, o_hash NULL); else one failure
-- is counted until the outcome is known (o_failures, this one included).
CREATE FUNCTION bb_password_change_begin(p_actor bigint, p_max_failures integer,
                                         p_lock_ms bigint,
                                         OUT o_hash text, OUT o_lock_secs bigint,
                                         OUT o_failures integer)
LANGUAGE plpgsql AS $$
DECLARE
    u app_user := bb_actor(p_actor);
    subj constant text := 'user:' || u.login;
BEGIN
    o_failures := 0;
    o_lock_secs := bb_throttle_claim(subj, p_max_failures, p_lock_ms * interval '1 millisecond');
    IF o_lock_secs <> 0 THEN
        RETURN;                 -- locked (> 0) or busy (-1): nothing counted
    END IF;
    o_failures := bb_throttle_count(subj);
    o_hash := u.password_hash;
END
$$;

-- A wrong old_password: the counted failure stays, and locks the account
-- at p_max_failures as a failed login does. Returns the count.
CREATE FUNCTION bb_password_change_failed(p_actor bigint, p_max_failures integer,
                                          p_lock_ms bigint) RETURNS integer
LANGUAGE sql AS $$
    SELECT coalesce((SELECT bb_throttle_settle('user:' || u.login, p_max_failures,
                                               p_lock_ms * interval '1 millisecond')
                       FROM app_user u WHERE u.id = p_actor), 0)
$$;

-- Last: stores the new hash, only over the one the old password was
-- checked against (p_old_hash): a password set meanwhile (user.set_password
-- by an admin, or another change_password) is never overwritten; that is
-- BB409 (version_conflict) on old_password. A success resets the
-- account's failures, as a successful login does.
CREATE FUNCTION bb_session_change_password(p_actor bigint, p_addr text, p_old_hash text,
                                           p_hash text)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u app_user := bb_actor(p_actor);
BEGIN
    UPDATE app_user SET password_hash = p_hash
     WHERE id = p_actor AND password_hash = p_old_hash;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'old_password: the password was changed meanwhile (by an admin or '
                        'another session); nothing was stored: log in with the current one '
                        'and try again'
            USING ERRCODE = 'BB409', COLUMN = 'old_password';
    END IF;
    PERFORM bb_throttle_success('user:' || u.login, true);
    PERFORM bb_user_audit_password(p_actor, p_addr, 'session.change_password', p_actor);
    RETURN true;
END
$$;
