-- 016_session_token.sql: sessions that outlast a connection (issue 11):
-- `session.login` with keep = true issues a token, `session.resume {token}`
-- logs a later connection in with it, `session.logout {token}` ends it.
--
-- For: the table of tokens, the functions of issue, resume and end, and the
-- triggers that end a user's tokens when what they were granted under
-- changes (the password, `disabled`, the role, the townships). Also
-- login_event learns how a login was made (via 'password' or 'token') and
-- the outcome of a refused resume ('bad_token').
-- Not for: making tokens (the server draws them from libsodium's random
-- bytes and sends only their hash here), the throttle's rules
-- (005_users.sql, whose functions a resume uses on the address's row as a
-- failed login does), or logging connections out (each baobaod process
-- does that for its own).
--
-- Decisions:
--   - A token is never stored: its row holds the SHA-256 of it, so a copy
--     of the database (a backup, an export of the table) logs nobody in.
--     Plain SHA-256, not argon2: a token is 256 random bits, no dictionary
--     helps and there is nothing to slow down; looking it up by a unique
--     index on the hash is what keeps a resume as cheap as any read.
--   - A token's row is deleted when it ends (logout, a change to its user,
--     expiry noticed at a resume, a newer token past the user's limit): an
--     ended token and one that never existed get the same answer.
--   - The end on a change is a trigger on app_user and app_user_township,
--     not a step of each write function: it holds for every write that
--     changes those rows, in every baobaod process sharing the database,
--     in the transaction of the change.
--   - Expiry: a token is valid while now() is before its expires_at (set
--     from session_token_ttl_s when issued) and before created_at + the
--     lifetime in force at the resume, so shortening the setting shortens
--     the tokens already out as well.
--   - Each user has at most p_max_tokens tokens (SESSION_TOKENS_PER_USER,
--     server/methods/login.c): issuing one more ends the oldest, so the
--     table cannot grow without bound even if nobody ever logs out; a
--     user's expired tokens are removed when a new one is issued.

CREATE TABLE session_token (
    id bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz NULL,
    addr text NOT NULL,                   -- the client's IP when it was issued
    last_addr text NULL                   -- ... when it was last resumed
);
CREATE INDEX session_token_user_idx ON session_token (user_id, created_at);

ALTER TABLE login_event
    ADD COLUMN via text NOT NULL DEFAULT 'password' CHECK (via IN ('password', 'token'));
ALTER TABLE login_event DROP CONSTRAINT login_event_outcome_check;
ALTER TABLE login_event ADD CONSTRAINT login_event_outcome_check
    CHECK (outcome IN ('ok', 'unknown_user', 'bad_password', 'locked', 'disabled',
                       'refused', 'unavailable', 'bad_token'));

-- ---- ending tokens when their user changes ----

CREATE FUNCTION bb_session_token_end_user() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    uid bigint;
BEGIN
    IF TG_TABLE_NAME = 'app_user' THEN
        uid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        uid := OLD.user_id;
    ELSE
        uid := NEW.user_id;
    END IF;
    DELETE FROM session_token WHERE user_id = uid;
    RETURN NULL;
END
$$;

-- The password (user.set_password, session.change_password), a disable,
-- the role. A display name, a unit or an enable leave tokens alone.
CREATE TRIGGER app_user_session_token_end AFTER UPDATE OF password_hash, disabled, role
    ON app_user FOR EACH ROW
    WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR (NEW.disabled AND NOT OLD.disabled)
          OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION bb_session_token_end_user();

-- The townships (scope) of a user: a row added or removed. bb_user_update
-- deletes only the rows that go and inserts ON CONFLICT DO NOTHING, so an
-- update that keeps the same townships fires nothing.
CREATE TRIGGER app_user_township_session_token_end AFTER INSERT OR DELETE
    ON app_user_township FOR EACH ROW
    EXECUTE FUNCTION bb_session_token_end_user();

-- ---- issuing ----

-- A new token of p_user_id (its hash p_token_hash, made by the server),
-- valid for p_ttl_s seconds; the user's expired tokens are removed, and
-- their oldest ones beyond p_max_tokens - 1 ended first. Returns its
-- expiry. The caller holds the user's row (FOR SHARE: bb_login_finish).
CREATE FUNCTION bb_session_token_issue(p_user_id bigint, p_ip text, p_token_hash bytea,
                                       p_ttl_s bigint, p_max_tokens integer)
RETURNS timestamptz
LANGUAGE plpgsql AS $$
DECLARE
    exp timestamptz := now() + p_ttl_s * interval '1 second';
BEGIN
    DELETE FROM session_token WHERE user_id = p_user_id AND expires_at <= now();
    DELETE FROM session_token
     WHERE id IN (SELECT id FROM session_token WHERE user_id = p_user_id
                   ORDER BY created_at DESC, id DESC OFFSET greatest(p_max_tokens - 1, 0));
    INSERT INTO session_token (token_hash, user_id, expires_at, addr)
    VALUES (p_token_hash, p_user_id, exp, p_ip);
    RETURN exp;
END
$$;

-- The second statement of every login (server/methods/login.c): records
-- it as bb_login_finish does (005_users.sql; the user row stays locked FOR
-- SHARE until the commit) and, when the login is ok and p_token_hash is
-- given (keep = true), issues the token in the same transaction, so a
-- change to the user either comes before (and the login fails) or after
-- (and ends the token). o_token_expires_at: the token's expiry as the wire
-- shows timestamps, NULL without a token.
CREATE FUNCTION bb_login_finish_keep(p_login text, p_user_id bigint, p_ip text,
                                     p_addr_key text, p_outcome text, p_hash text,
                                     p_max_failures integer, p_lock_ms bigint,
                                     p_token_hash bytea, p_ttl_s bigint,
                                     p_max_tokens integer,
                                     OUT o_outcome text, OUT o_failures integer,
                                     OUT o_user app_user_wire, OUT o_token_expires_at text)
LANGUAGE plpgsql AS $$
DECLARE
    f record;
BEGIN
    SELECT * INTO f
      FROM bb_login_finish(p_login => p_login, p_user_id => p_user_id, p_ip => p_ip,
                           p_addr_key => p_addr_key, p_outcome => p_outcome, p_hash => p_hash,
                           p_max_failures => p_max_failures, p_lock_ms => p_lock_ms);
    o_outcome := f.o_outcome;
    o_failures := f.o_failures;
    o_user := f.o_user;
    IF o_outcome = 'ok' AND p_token_hash IS NOT NULL THEN
        o_token_expires_at := bb_ts(bb_session_token_issue(
            p_user_id => p_user_id, p_ip => p_ip, p_token_hash => p_token_hash,
            p_ttl_s => p_ttl_s, p_max_tokens => p_max_tokens));
    END IF;
END
$$;

-- ---- resuming ----

-- session.resume, one statement. The address's throttle row is claimed
-- as for a login (bb_throttle_claim, limit 4 x p_max_failures): a locked
-- address is refused at once (o_outcome 'locked', o_lock_secs > 0; the
-- token's own outcome is not told). The token's user row is locked FOR
-- SHARE before the throttle row, the lock order of bb_login_finish, so the
-- token is found before the address's lock is checked. The token is good
-- when it exists, has not expired (expires_at, and created_at +
-- p_ttl_s: the lifetime in force now) and its user exists and is enabled:
-- then o_outcome 'ok', o_user the User as it is now (the session is made
-- of it), last_used_at and last_addr set. Anything else is 'bad_token':
-- a token found but no longer good is deleted, and the attempt counts one
-- failure on the address, as a failed login does (o_failures: the count,
-- for the server's delay), and locks it at the limit. "Busy" (checks of
-- logins pending) does not refuse a resume: it checks nothing slow, and
-- its failure is counted in this same transaction. Every attempt writes a
-- login_event row (via 'token'; login '' when the token names nobody).
CREATE FUNCTION bb_session_resume(p_token_hash bytea, p_ip text, p_addr_key text,
                                  p_ttl_s bigint, p_max_failures integer, p_lock_ms bigint,
                                  OUT o_outcome text, OUT o_lock_secs bigint,
                                  OUT o_failures integer, OUT o_token_id bigint,
                                  OUT o_user app_user_wire)
LANGUAGE plpgsql AS $$
DECLARE
    lock_for constant interval := p_lock_ms * interval '1 millisecond';
    s_addr constant text := 'addr:' || p_addr_key;
    t session_token;
    u app_user;
    found_token boolean;
BEGIN
    o_failures := 0;
    -- Lock order as everywhere (005_users.sql): app_user, then the
    -- throttle rows; then the token's row (as a change to the user does:
    -- its trigger deletes the tokens after it locked the user).
    SELECT * INTO u FROM app_user
     WHERE id = (SELECT user_id FROM session_token WHERE token_hash = p_token_hash)
       FOR SHARE;
    o_lock_secs := greatest(bb_throttle_claim(s_addr, 4 * p_max_failures, lock_for), 0);
    IF o_lock_secs > 0 THEN
        -- Refused whatever the token: a lock must not let guesses go on.
        o_outcome := 'locked';
        INSERT INTO login_event (login, user_id, addr, outcome, via)
        VALUES ('', NULL, p_ip, 'locked', 'token');
        RETURN;
    END IF;
    -- Read again, locked: a change to the user that committed while this
    -- waited for the user's row has deleted it.
    SELECT * INTO t FROM session_token WHERE token_hash = p_token_hash FOR UPDATE;
    found_token := FOUND;
    IF found_token AND t.user_id = u.id AND NOT u.disabled AND t.expires_at > now()
       AND t.created_at + p_ttl_s * interval '1 second' > now() THEN
        UPDATE session_token SET last_used_at = now(), last_addr = p_ip WHERE id = t.id;
        INSERT INTO login_event (login, user_id, addr, outcome, via)
        VALUES (u.login, u.id, p_ip, 'ok', 'token');
        o_outcome := 'ok';
        o_token_id := t.id;
        SELECT * INTO o_user FROM app_user_wire w WHERE w.id = u.id;
        RETURN;
    END IF;
    IF found_token THEN
        DELETE FROM session_token WHERE id = t.id;
    END IF;
    INSERT INTO login_event (login, user_id, addr, outcome, via)
    VALUES (coalesce(u.login, ''), u.id, p_ip, 'bad_token', 'token');
    -- A failure as a failed login counts one: a claim, then settled.
    PERFORM bb_throttle_count(s_addr);
    o_failures := bb_throttle_settle(s_addr, 4 * p_max_failures, lock_for);
    o_outcome := 'bad_token';
END
$$;

-- ---- ending ----

-- session.logout {token}: ends p_token_hash when it is a token of
-- p_actor; any other value ends nothing (and says nothing: no answer
-- tells whether a value is somebody's token). Returns whether one ended.
CREATE FUNCTION bb_session_token_end(p_actor bigint, p_token_hash bytea) RETURNS boolean
LANGUAGE sql AS $$
    WITH d AS (DELETE FROM session_token
                WHERE token_hash = p_token_hash AND user_id = p_actor
               RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM d)
$$;

-- The cached-plan protection (003_group_commit.sql, end): every function
-- here probes session_token (and app_user, login_throttle) by key, and a
-- plan made while the table was nearly empty (a fresh start) would stay a
-- sequential scan as it grows to users x SESSION_TOKENS_PER_USER rows
-- (seen with EXPLAIN of the generic plan on a one-row table).
ALTER FUNCTION bb_session_token_end_user() SET enable_seqscan = off;
ALTER FUNCTION bb_session_token_issue(bigint, text, bytea, bigint, integer)
    SET enable_seqscan = off;
ALTER FUNCTION bb_session_resume(bytea, text, text, bigint, integer, bigint)
    SET enable_seqscan = off;
ALTER FUNCTION bb_session_token_end(bigint, bytea) SET enable_seqscan = off;
