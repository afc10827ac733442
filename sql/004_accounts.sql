-- 004_accounts.sql: users and their townships, login records and
-- throttling, and the audit trail (issue 4). Tables only; the functions
-- that use them come in the migrations after this one.

-- A person who logs in. role decides which methods they may call
-- (server/session.h); township staff see only the townships listed for
-- them in app_user_township. password_hash is libsodium's
-- crypto_pwhash_str output (argon2id, its cost written in the string), so a
-- cost change applies to new passwords without touching old ones.
CREATE TABLE app_user (
    id bigserial PRIMARY KEY,
    login text NOT NULL UNIQUE
        CHECK (octet_length(login) BETWEEN 1 AND 64 AND login = btrim(login)
               AND NOT bb_has_control(login) AND position(' ' IN login) = 0),
    display_name text NOT NULL
        CHECK (char_length(display_name) BETWEEN 1 AND 50 AND NOT bb_has_control(display_name)),
    role text NOT NULL CHECK (role IN ('township_staff', 'supervisor', 'admin')),
    -- The unit a supervisor works for (科信局, 招商办); free text until the
    -- units of issue 5 exist.
    unit text NULL CHECK (unit IS NULL OR (char_length(unit) BETWEEN 1 AND 50
                                           AND NOT bb_has_control(unit))),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The scope of township staff: every township or park they work for.
CREATE TABLE app_user_township (
    user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    township_id smallint NOT NULL REFERENCES township (id),
    PRIMARY KEY (user_id, township_id)
);
CREATE INDEX app_user_township_township_idx ON app_user_township (township_id);

-- Every login attempt, whatever its outcome: who, from where, when.
CREATE TABLE login_event (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    login text NOT NULL,                  -- as sent (cut to 64 bytes)
    -- No foreign key here or in audit_log: every insert would take a
    -- KEY SHARE lock on the user's row, and many concurrent writes by one
    -- user would then share it through multixacts. Users are never
    -- deleted (only disabled), so the ids stay valid.
    user_id bigint NULL,
    addr text NOT NULL,
    outcome text NOT NULL
        CHECK (outcome IN ('ok', 'unknown_user', 'bad_password', 'locked', 'disabled',
                           'refused', 'unavailable'))
);
CREATE INDEX login_event_at_idx ON login_event (at);
CREATE INDEX login_event_user_idx ON login_event (user_id, at);

-- Failed logins in a row per account ('user:' || login) and per address
-- ('addr:' || ip). A success resets the account's row; locked_until in the
-- future refuses logins for that subject with `locked`.
-- claims: when each check still running was claimed (a login's password
-- is being checked): failures + claims never passes the limit, so
-- concurrent guesses cannot outrun the count. Each claim is a time of its
-- own, so one that was never finished (its server stopped, its statement
-- failed) stops counting a minute after it was made, whatever the
-- traffic since.
CREATE TABLE login_throttle (
    subject text PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    last_failure_at timestamptz NULL,
    locked_until timestamptz NULL,
    claims timestamptz[] NOT NULL DEFAULT '{}'
);

-- One row per change, written by the write functions in the same
-- transaction as the change. before/after are the whole record as the wire
-- shows it (NULL before a create); changed names the fields that differ.
-- user_id is NULL only for changes made outside any session (the first
-- admin, created by `baobaod --create-admin`).
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    user_id bigint NULL,                  -- app_user.id (no foreign key: see login_event)
    login text NOT NULL,
    addr text NOT NULL,
    method text NOT NULL,
    entity text NOT NULL,
    entity_id bigint NOT NULL,
    before jsonb NULL,
    after jsonb NULL,
    changed text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, at, id);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, at, id);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);

-- ---- helpers every write function of the later migrations shares ----

-- The user behind a write: the session's user id, checked again here (a
-- second wall after the server's gate) so that a user disabled or deleted
-- while logged in can no longer write. BB401 = unauthenticated.
CREATE FUNCTION bb_actor(p_actor bigint) RETURNS app_user
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u app_user;
BEGIN
    SELECT * INTO u FROM app_user WHERE id = p_actor;
    IF NOT FOUND OR u.disabled THEN
        RAISE EXCEPTION 'the session''s user no longer exists or is disabled: log in again'
            USING ERRCODE = 'BB401';
    END IF;
    RETURN u;
END
$$;

-- bb_actor, then the role: p_roles are the roles that may call p_method
-- (BB403 for another: a second wall behind the server's gate, which also
-- catches a role changed while logged in). The actor functions of the
-- later migrations (bb_business_actor, bb_project_actor, ...) name their
-- roles through it, so they all answer with the same words.
CREATE FUNCTION bb_actor_role(p_actor bigint, p_method text, p_roles text[]) RETURNS app_user
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u app_user := bb_actor(p_actor);
BEGIN
    IF NOT (u.role = ANY (p_roles)) THEN
        RAISE EXCEPTION 'the role % may not call %', u.role, p_method USING ERRCODE = 'BB403';
    END IF;
    RETURN u;
END
$$;

-- True when the user may see and change records of township p_township:
-- supervisors and admins everywhere, township staff in their own townships.
CREATE FUNCTION bb_in_scope(p_user app_user, p_township smallint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_user.role <> 'township_staff'
        OR EXISTS (SELECT 1 FROM app_user_township ut
                    WHERE ut.user_id = p_user.id AND ut.township_id = p_township)
$$;

-- One audit row. before/after: the record as the wire shows it (jsonb of
-- the *_wire view row), NULL before a create or after a delete; the
-- changed fields are computed here so every writer agrees on them.
-- p_actor NULL: a change made outside any session (bootstrap).
CREATE FUNCTION bb_audit(p_actor bigint, p_addr text, p_method text, p_entity text,
                         p_id bigint, p_before jsonb, p_after jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_log (user_id, login, addr, method, entity, entity_id, before, after, changed)
    VALUES (p_actor,
            coalesce((SELECT login FROM app_user WHERE id = p_actor), '(system)'),
            coalesce(p_addr, '-'), p_method, p_entity, p_id, p_before, p_after,
            bb_changed_fields(p_before, p_after));
END
$$;

-- The tail every audited write shares: its audit row (bb_audit; p_after
-- NULL = the row itself as jsonb, for records whose audit form is their
-- wire row) and, when the write carried a key, the result its
-- idempotency record replays (the row as jsonb). Returns p_row, so a write
-- ends with RETURN bb_write_done(...).
CREATE FUNCTION bb_write_done(p_actor bigint, p_addr text, p_method text, p_key text,
                              p_entity text, p_id bigint, p_before jsonb, p_row anyelement,
                              p_after jsonb DEFAULT NULL) RETURNS anyelement
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM bb_audit(p_actor, p_addr, p_method, p_entity, p_id, p_before,
                     coalesce(p_after, to_jsonb(p_row)));
    IF p_key IS NOT NULL THEN
        PERFORM bb_idem_finish(p_method, p_key, to_jsonb(p_row));
    END IF;
    RETURN p_row;
END
$$;

-- Names of the top-level fields whose values differ between two records
-- (all of after's fields for a create), sorted.
CREATE FUNCTION bb_changed_fields(p_before jsonb, p_after jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}')
      FROM (SELECT a.key AS k FROM jsonb_each(coalesce(p_after, '{}'::jsonb)) a
             WHERE p_before IS NULL OR (p_before -> a.key) IS DISTINCT FROM a.value
            UNION
            SELECT b.key FROM jsonb_each(coalesce(p_before, '{}'::jsonb)) b
             WHERE p_after IS NOT NULL AND NOT (p_after ? b.key)) x
$$;
