-- 005_users.sql: the accounts half of issue 4: how a User looks on the
-- wire, the two statements of a login (look up, record the outcome with
-- its throttling), and one function per write of users (user.create,
-- user.update, user.set_password, session.change_password, and the first
-- admin of `baobaod --create-admin`).
--
-- Every write function takes p_actor (the session's user id; checked again
-- here with bb_actor, a second wall after the server's gate) and p_addr
-- (the peer "ip:port"), and writes its audit row (bb_audit, entity 'user')
-- in the same transaction. Password hashes are made by the server
-- (libsodium, on its thread pool); SQL only stores them and never returns
-- them except to the login lookup.
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

-- The first statement of a login: the user (NULL columns when the login is
-- unknown) and how many whole seconds are left on the longer of the two
-- locks that apply (the account 'user:<login>' and the address
-- 'addr:<ip>'); 0 when neither is locked. Always exactly one row.
CREATE FUNCTION bb_login_lookup(p_login text, p_ip text)
RETURNS TABLE (user_id bigint, role text, password_hash text, disabled boolean,
               lock_secs bigint)
LANGUAGE sql STABLE AS $$
    SELECT u.id, u.role, u.password_hash, u.disabled,
           coalesce((SELECT ceil(extract(epoch FROM max(t.locked_until) - clock_timestamp()))::bigint
                       FROM login_throttle t
                      WHERE t.subject IN ('user:' || p_login, 'addr:' || p_ip)
                        AND t.locked_until > clock_timestamp()), 0)
      FROM (SELECT 1) AS one
      LEFT JOIN app_user u ON u.login = p_login
$$;

-- One more failure for a throttle subject. Failures count "in a row": a
-- lock that has expired, or a last failure longer than p_lock ago, starts
-- the count again at 1. Reaching p_max locks the subject for p_lock.
-- Returns the count after this failure.
CREATE FUNCTION bb_login_fail(p_subject text, p_max integer, p_lock interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    cur login_throttle;
    n integer;
BEGIN
    -- Inserting first (or waiting on the row) orders concurrent failures
    -- of one subject: each sees the count the previous one left.
    INSERT INTO login_throttle (subject, failures) VALUES (p_subject, 0)
    ON CONFLICT (subject) DO NOTHING;
    SELECT * INTO cur FROM login_throttle WHERE subject = p_subject FOR UPDATE;
    IF (cur.locked_until IS NOT NULL AND cur.locked_until <= clock_timestamp())
       OR (cur.last_failure_at IS NOT NULL AND cur.last_failure_at < clock_timestamp() - p_lock) THEN
        n := 1;
    ELSE
        n := cur.failures + 1;
    END IF;
    UPDATE login_throttle
       SET failures = n,
           last_failure_at = clock_timestamp(),
           locked_until = CASE WHEN n >= p_max AND p_lock > interval '0'
                               THEN clock_timestamp() + p_lock END
     WHERE subject = p_subject;
    RETURN n;
END
$$;

-- The second statement of a login: records the attempt (login_event) and
-- updates the throttle rows. p_outcome: 'ok' resets the account's count;
-- 'unknown_user', 'bad_password' and 'disabled' count one failure for the
-- account (locked at p_max_failures) and for the address (locked at 4 x
-- p_max_failures, so one person cannot lock out an office behind one NAT
-- address); 'locked' only records the attempt. Returns the account's
-- failures in a row (what the server's delay is based on).
CREATE FUNCTION bb_login_record(p_login text, p_user_id bigint, p_ip text, p_outcome text,
                                p_max_failures integer, p_lock_ms bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    lock_for constant interval := p_lock_ms * interval '1 millisecond';
    n integer := 0;
BEGIN
    INSERT INTO login_event (login, user_id, addr, outcome)
    VALUES (left(p_login, 64), p_user_id, p_ip, p_outcome);
    IF p_outcome = 'ok' THEN
        DELETE FROM login_throttle WHERE subject = 'user:' || p_login;
        RETURN 0;
    ELSIF p_outcome = 'locked' THEN
        SELECT failures INTO n FROM login_throttle WHERE subject = 'user:' || p_login;
        RETURN coalesce(n, 0);
    END IF;
    n := bb_login_fail('user:' || p_login, p_max_failures, lock_for);
    PERFORM bb_login_fail('addr:' || p_ip, 4 * p_max_failures, lock_for);
    RETURN n;
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
    IF p_key IS NOT NULL THEN
        prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
            p_actor, p_login, p_display_name, p_role, p_unit, p_townships)::text));
        IF prev IS NOT NULL THEN
            RETURN jsonb_populate_record(NULL::app_user_wire, prev);
        END IF;
    END IF;
    new_id := bb_user_insert(p_login, p_display_name, p_role, p_unit, p_townships, p_hash);
    PERFORM bb_audit(p_actor, p_addr, m, 'user', new_id, NULL, bb_user_json(new_id));
    SELECT * INTO out_row FROM app_user_wire WHERE id = new_id;
    IF p_key IS NOT NULL THEN
        PERFORM bb_idem_finish(m, p_key, to_jsonb(out_row));
    END IF;
    RETURN out_row;
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
    PERFORM bb_audit(NULL, 'local', 'baobaod --create-admin', 'user', new_id, NULL,
                     bb_user_json(new_id));
    SELECT * INTO out_row FROM app_user_wire WHERE id = new_id;
    RETURN out_row;
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
    IF p_key IS NOT NULL THEN
        prev := bb_idem_claim(m, p_key, md5(jsonb_build_array(
            p_actor, p_id, p_version, p_display_name, p_role, p_set_unit, p_unit,
            p_townships, p_disabled)::text));
        IF prev IS NOT NULL THEN
            RETURN jsonb_populate_record(NULL::app_user_wire, prev);
        END IF;
    END IF;
    SELECT * INTO cur FROM app_user WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % does not exist', p_id USING ERRCODE = 'BB404', COLUMN = 'id';
    END IF;
    IF cur.version <> p_version THEN
        RAISE EXCEPTION 'user % is at version %, not %', p_id, cur.version, p_version
            USING ERRCODE = 'BB409', COLUMN = 'version';
    END IF;
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
    PERFORM bb_audit(p_actor, p_addr, m, 'user', p_id, before_v, bb_user_json(p_id));
    SELECT * INTO out_row FROM app_user_wire WHERE id = p_id;
    IF p_key IS NOT NULL THEN
        PERFORM bb_idem_finish(m, p_key, to_jsonb(out_row));
    END IF;
    RETURN out_row;
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

-- session.change_password: the caller's own password (the server checked
-- the old one against the hash it read).
CREATE FUNCTION bb_session_change_password(p_actor bigint, p_addr text, p_hash text)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bb_actor(p_actor);
    UPDATE app_user SET password_hash = p_hash WHERE id = p_actor;
    PERFORM bb_user_audit_password(p_actor, p_addr, 'session.change_password', p_actor);
    RETURN true;
END
$$;
