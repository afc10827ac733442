-- 018_audit_reads.sql: reading the login log over the protocol (issue 11:
-- audit.logins, admins only; server/methods/audit.c).
--
-- login_event rows are written by every login that reaches the database
-- (sql/005_users.sql); until now only SQL could read them. Not for: the
-- audit trail of changes (audit_log: bb_audit_list in 006), or writing
-- login rows.

-- One login name's attempts, newest first (the page's order, id
-- descending), without reading the rows of every other login.
CREATE INDEX login_event_login_idx ON login_event (login, id);

-- audit.logins: one page, newest first (id descending; ids follow the order
-- the rows were written). Filters: p_login (the login as sent: an unknown
-- one matches its failed attempts, or nothing), p_outcome, the bounds
-- p_from / p_to (a date = that whole day in p_tz, or an RFC 3339 instant:
-- bb_audit_from / bb_audit_until of 006), and the cursor p_after (the id
-- of the previous page's last row: rows with a smaller id). Asks p_limit
-- rows.
--
-- PL/pgSQL with custom plans, as bb_audit_list and for the same reason: a
-- generic plan of "p_x IS NULL OR ..." cannot use the index of the filter
-- that is given; planned per call, absent filters fold away and one
-- login's page walks login_event_login_idx backwards.
CREATE FUNCTION bb_login_events(p_login text, p_outcome text, p_from text, p_to text,
                                p_after bigint, p_limit int, p_tz text)
RETURNS TABLE (id bigint, at text, login text, user_id bigint, addr text, outcome text,
               via text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lo constant timestamptz := bb_audit_from(p_from, p_tz);
    hi constant timestamptz := bb_audit_until(p_to, p_tz);
BEGIN
    RETURN QUERY
    SELECT e.id, bb_ts(e.at), e.login, e.user_id, e.addr, e.outcome, e.via
      FROM login_event e
     WHERE (p_login IS NULL OR e.login = p_login)
       AND (p_outcome IS NULL OR e.outcome = p_outcome)
       AND e.at >= lo AND e.at < hi
       AND (p_after IS NULL OR e.id < p_after)
     ORDER BY e.id DESC
     LIMIT p_limit;
END
$$;
ALTER FUNCTION bb_login_events(text, text, text, text, bigint, int, text)
    SET plan_cache_mode = force_custom_plan;
