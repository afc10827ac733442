-- 025_delivery.sql: the outbox of 023 (notice_delivery) drained by the
-- delivery command (issue 13; server/methods/delivery.c runs the command,
-- PROTOCOL.md section 6, "Delivery of notices", says what it receives).
--
-- At least once, never lost: a delivery is claimed with a lease
-- (claimed_by, claim_until = now + delivery_timeout_ms + a grace the
-- server adds) and an attempt row is written in the same transaction,
-- before the command starts. A process that dies mid-way leaves the
-- attempt open and the lease running; once the lease has ended, the next
-- claim (by any baobaod on the database) records that attempt as 'lost' and
-- starts another. So a command may run twice for one delivery (it was
-- killed after sending, before baobaod recorded it): the command dedupes
-- on delivery_id if it must.
--
-- Several baobaod may drain at once: FOR UPDATE SKIP LOCKED hands each
-- pending row to one claimer; the lease keeps it from the others while its
-- command runs (no row lock is held across the command).
--
-- "now" here is the database's clock (now()), as for every `at` column of
-- 023: the pinned clock fake_now moves the server's today, not the
-- outbox's timers. A lease and an attempt's start are taken from
-- clock_timestamp(), the moment they are written: now() is the start of
-- the claim's transaction, and the command's timer starts only after it
-- committed.
--
-- For: bb_delivery_claim, bb_delivery_finish, bb_delivery_next_ms. Not
-- for: queueing (the sweep does, 023), running the command (delivery.c).

-- What the command receives on its stdin for one attempt (PROTOCOL.md,
-- "Delivery of notices"): {delivery_id, attempt, notice}, notice being the
-- record of notice_wire (024, as notice.get answers it) whose recipients
-- are in the wire's order (024's bb_notice_recipients) and, for officials,
-- carry their title, unit and phone number (official.phone): what an SMS
-- gateway needs. Built here, with jsonb, so the server does not format
-- JSON.
CREATE FUNCTION bb_delivery_payload(p_delivery bigint, p_attempt integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT jsonb_build_object(
               'delivery_id', d.id,
               'attempt', p_attempt,
               'notice', (to_jsonb(w) - 'recipients') || jsonb_build_object(
                   'recipients', coalesce((
                       SELECT jsonb_agg(
                                  CASE WHEN r.official_id IS NOT NULL
                                       THEN jsonb_build_object(
                                                'official_id', o.id, 'name', o.name,
                                                'role', r.role, 'title', o.title,
                                                'unit', ou.name, 'phone', o.phone)
                                       ELSE jsonb_build_object(
                                                'unit_id', u.id, 'name', u.name,
                                                'role', r.role)
                                  END
                                  ORDER BY coalesce(bb_overdue_role_rank(r.role), 99),
                                           r.unit_id IS NOT NULL,
                                           coalesce(r.official_id, r.unit_id))
                         FROM notice_recipient r
                         LEFT JOIN official o ON o.id = r.official_id
                         LEFT JOIN unit ou ON ou.id = o.unit_id
                         LEFT JOIN unit u ON u.id = r.unit_id
                        WHERE r.notice_id = d.notice_id), '[]'::jsonb)))
      INTO v
      FROM notice_delivery d
      JOIN notice_wire w ON w.id = d.notice_id
     WHERE d.id = p_delivery;
    RETURN v;
END;
$$;

-- The expiry scan of bb_delivery_claim reads only the pending rows that
-- are old enough (without it, every pending row at every claim); the
-- second index finds the live leases for bb_delivery_next_ms.
CREATE INDEX notice_delivery_pending_created_idx ON notice_delivery (created_at)
    WHERE state = 'pending';
CREATE INDEX notice_delivery_leased_idx ON notice_delivery (claim_until)
    WHERE state = 'pending' AND claim_until IS NOT NULL;

-- Claims up to p_limit deliveries that are due (pending, next_at passed,
-- no live lease) for the process p_process ('host:pid'), oldest due first.
-- For each: an open attempt of an earlier claim whose lease ended is
-- closed as 'lost'; attempts is counted up; the lease runs p_lease_ms;
-- an attempt row is opened. Deliveries whose notice is older than
-- p_max_age_hours are given up first ('expired'), never claimed.
-- A delivery whose notice cannot be read (no notice_wire row: the
-- schema or the data is broken, trying again would not help) is given up
-- too, its attempt recorded 'failed'.
-- Rows: the delivery, the attempt number, the JSON for the command and
-- given_up: NULL for a delivery to run; 'expired' (too old: attempt is
-- the number of attempts made, payload NULL) or 'no_payload' (payload
-- NULL) for one given up by this claim, for the log.
CREATE FUNCTION bb_delivery_claim(p_process text, p_limit integer, p_lease_ms integer,
                                  p_max_age_hours integer)
RETURNS TABLE(delivery_id bigint, attempt integer, payload text, given_up text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    d record;
    body jsonb;
BEGIN
    -- Too old to be worth sending; a command that still runs under a live
    -- lease is let finish (bb_delivery_finish expires it if it failed).
    FOR d IN
        SELECT nd.id, nd.attempts FROM notice_delivery nd
         WHERE nd.state = 'pending'
           AND nd.created_at < now() - make_interval(hours => p_max_age_hours)
           AND (nd.claim_until IS NULL OR nd.claim_until < now())
         ORDER BY nd.id
         -- a bounded part per claim: after a long gateway outage the
         -- backlog is given up over several claims, none near
         -- statement_timeout
         LIMIT 1000
           FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE notice_delivery_attempt a
           SET ended_at = now(), outcome = 'lost'
         WHERE a.delivery_id = d.id AND a.attempt = d.attempts AND a.outcome IS NULL;
        UPDATE notice_delivery nd
           SET state = 'expired', finished_at = now(), claimed_by = NULL, claim_until = NULL
         WHERE nd.id = d.id;
        delivery_id := d.id;
        attempt := d.attempts;
        payload := NULL;
        given_up := 'expired';
        RETURN NEXT;
    END LOOP;

    FOR d IN
        SELECT nd.id, nd.attempts FROM notice_delivery nd
         WHERE nd.state = 'pending' AND nd.next_at <= now()
           AND (nd.claim_until IS NULL OR nd.claim_until < now())
         ORDER BY nd.next_at, nd.id
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    LOOP
        -- The process that ran the previous attempt died (or lost the
        -- database) before it could say how it ended.
        UPDATE notice_delivery_attempt a
           SET ended_at = now(), outcome = 'lost'
         WHERE a.delivery_id = d.id AND a.attempt = d.attempts AND a.outcome IS NULL;
        body := bb_delivery_payload(d.id, d.attempts + 1);
        delivery_id := d.id;
        attempt := d.attempts + 1;
        payload := body::text;
        IF body IS NULL THEN
            INSERT INTO notice_delivery_attempt (delivery_id, attempt, process, ended_at,
                                                 outcome, detail)
            VALUES (d.id, d.attempts + 1, p_process, clock_timestamp(), 'failed',
                    'no payload: the notice has no notice_wire row');
            UPDATE notice_delivery nd
               SET attempts = d.attempts + 1, state = 'expired', finished_at = now(),
                   claimed_by = NULL, claim_until = NULL
             WHERE nd.id = d.id;
            given_up := 'no_payload';
            RETURN NEXT;
            CONTINUE;
        END IF;
        UPDATE notice_delivery nd
           SET attempts = d.attempts + 1, claimed_by = p_process,
               claim_until = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0)
         WHERE nd.id = d.id;
        INSERT INTO notice_delivery_attempt (delivery_id, attempt, process, started_at)
        VALUES (d.id, d.attempts + 1, p_process, clock_timestamp());
        given_up := NULL;
        RETURN NEXT;
    END LOOP;
END;
$$;

-- Records how attempt p_attempt of p_delivery ended: p_outcome 'sent',
-- 'failed' or 'timeout', the command's exit code (NULL when it was killed
-- by a signal) and its last words (cut to the last 500 characters). The
-- attempt row is written whatever happened meanwhile (also over 'lost':
-- the lease ended before the command did, the truth is better). The
-- delivery: sent -> 'sent'; failed or timeout of its current attempt ->
-- tried again after p_retry_min_ms * 2^(attempts - 1), at most
-- p_retry_max_ms, or 'expired' once its notice is older than
-- p_max_age_hours. A delivery another process has claimed again since is
-- left to that process, unless this attempt sent it.
-- Row: the delivery's state afterwards (NULL state: no such delivery).
CREATE FUNCTION bb_delivery_finish(p_delivery bigint, p_attempt integer, p_process text,
                                   p_outcome text, p_exit_code integer, p_detail text,
                                   p_retry_min_ms integer, p_retry_max_ms integer,
                                   p_max_age_hours integer)
RETURNS TABLE(state text, attempts integer, next_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    d notice_delivery;
BEGIN
    IF p_outcome NOT IN ('sent', 'failed', 'timeout') THEN
        RAISE EXCEPTION 'bb_delivery_finish: outcome %', p_outcome USING ERRCODE = '22023';
    END IF;
    SELECT * INTO d FROM notice_delivery nd WHERE nd.id = p_delivery FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE notice_delivery_attempt a
       SET ended_at = now(), outcome = p_outcome, exit_code = p_exit_code,
           detail = nullif(right(p_detail, 500), '')
     WHERE a.delivery_id = p_delivery AND a.attempt = p_attempt;

    IF d.state = 'pending' AND p_outcome = 'sent' THEN
        UPDATE notice_delivery nd
           SET state = 'sent', finished_at = now(), claimed_by = NULL, claim_until = NULL
         WHERE nd.id = p_delivery RETURNING * INTO d;
    ELSIF d.state = 'pending' AND d.attempts = p_attempt AND d.claimed_by = p_process THEN
        IF d.created_at < now() - make_interval(hours => p_max_age_hours) THEN
            UPDATE notice_delivery nd
               SET state = 'expired', finished_at = now(), claimed_by = NULL,
                   claim_until = NULL
             WHERE nd.id = p_delivery RETURNING * INTO d;
        ELSE
            UPDATE notice_delivery nd
               SET next_at = now() + make_interval(secs => least(
                       p_retry_max_ms::float8,
                       p_retry_min_ms::float8 * power(2::float8, least(d.attempts - 1, 40)))
                       / 1000.0),
                   claimed_by = NULL, claim_until = NULL
             WHERE nd.id = p_delivery RETURNING * INTO d;
        END IF;
    END IF;
    state := d.state;
    attempts := d.attempts;
    next_at := d.next_at;
    RETURN NEXT;
END;
$$;

-- Milliseconds until the earliest pending delivery can be claimed (its
-- next_at, or the end of a live lease: a delivery whose process died is
-- claimed again then), 0 when one is due now, NULL when none is pending.
-- In two parts so that each reads an index, not every pending row: the
-- unleased rows by next_at (the first one), the few leased ones. (No
-- row when none is pending, so NULL: greatest(0, NULL) would be 0, and
-- the server would poll an empty outbox.)
CREATE FUNCTION bb_delivery_next_ms()
RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT greatest(0, ceil(extract(epoch FROM x.at - now()) * 1000))::bigint
      FROM (SELECT least(
                (SELECT nd.next_at FROM notice_delivery nd
                  WHERE nd.state = 'pending' AND nd.claim_until IS NULL
                  ORDER BY nd.next_at LIMIT 1),
                (SELECT min(greatest(nd.next_at, nd.claim_until)) FROM notice_delivery nd
                  WHERE nd.state = 'pending' AND nd.claim_until IS NOT NULL)) AS at) x
     WHERE x.at IS NOT NULL;
$$;
