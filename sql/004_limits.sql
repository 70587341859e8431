-- 004_limits.sql - the login and sign-up limits decided in the database,
-- one statement per attempt: count the attempts of a key and record the new
-- one only while the count is under the limit, under a transaction-level
-- advisory lock on the key. Attempts are counted when they START, so any
-- number of requests at once, on any number of server instances sharing
-- this database, let at most the limit through to the password check.
-- server/domain/auth_limit.c is the C side; rows are login_attempts
-- (001_init.sql).
--
-- Times here are clock_timestamp(), not now(): now() is when the statement
-- began, which for a statement that waited for the lock is before the
-- attempts it waited for.

-- A login attempt is recorded when it starts, pending until its end: then it
-- is a failure (at moved to when it failed, so a lock runs from then), a
-- success (the name's row marked, the address's deleted: an address counts
-- only failures), or deleted (it did not count). A pending attempt counts as a
-- failure that happens now, so a name cannot be unlocked by attempts still
-- being checked; one pending for over a minute is taken as a failure at its
-- start (its server died during the check).
ALTER TABLE login_attempts ADD COLUMN pending boolean NOT NULL DEFAULT false;

-- Serialise the attempts on one key until the end of the transaction. The
-- kind of key ('login-user', 'login-addr', 'signup-addr') is the lock's first
-- half, so locks of different kinds never collide, and taking a name's lock
-- before its address's cannot deadlock with another attempt.
CREATE FUNCTION runit_limit_lock(p_key text) RETURNS void LANGUAGE sql AS $$
	SELECT pg_advisory_xact_lock(hashtext(split_part(p_key, ':', 1)), hashtext(p_key))
$$;

-- A login attempt on the name key p_user ('login-user:<name>') from the
-- address key p_addr ('login-addr:<ip>').
--  * The name: its failures (pending attempts included) since its last
--    success, within a day, are counted; from p_lock_after of them on it is
--    locked for p_locks[failures - p_lock_after + 1] ms (the last entry for
--    more), counted from the newest failure. The schedule is computed in C
--    (auth_limit_lock_ms) so the formula lives in one place.
--  * The address: at most p_addr_max failures within p_addr_window_s.
-- Returns wait_ms 0 and the ids of the attempt's two new rows, pending, when
-- it may go ahead: it counts as a failure for both keys unless the server
-- records a success or deletes the rows (the attempt did not count). Else
-- wait_ms > 0 (how long until an attempt would be let through) and nothing
-- is recorded. failures: the name's failures before this attempt.
CREATE FUNCTION runit_login_reserve(p_user text, p_addr text, p_lock_after integer,
				    p_locks bigint[], p_addr_max integer,
				    p_addr_window_s integer, OUT wait_ms bigint,
				    OUT failures bigint, OUT user_row bigint, OUT addr_row bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	last_failure timestamptz;
	oldest timestamptz;
	lock_ms bigint;
BEGIN
	PERFORM runit_limit_lock(p_user);
	PERFORM runit_limit_lock(p_addr);
	t := clock_timestamp();
	wait_ms := 0;
	SELECT count(*), max(CASE WHEN pending AND at > t - interval '1 minute' THEN t ELSE at END)
		INTO failures, last_failure FROM login_attempts
		WHERE key = p_user AND NOT success AND at > t - interval '1 day'
		AND at > coalesce((SELECT max(at) FROM login_attempts
				   WHERE key = p_user AND success), '-infinity');
	IF failures >= p_lock_after THEN
		lock_ms := p_locks[least(failures - p_lock_after + 1, cardinality(p_locks))::integer];
		wait_ms := greatest(lock_ms - floor(extract(epoch FROM t - last_failure) * 1000)::bigint,
				    0);
	END IF;
	SELECT at INTO oldest FROM login_attempts
		WHERE key = p_addr AND NOT success
		AND at > t - make_interval(secs => p_addr_window_s)
		ORDER BY at DESC OFFSET p_addr_max - 1 LIMIT 1;
	IF FOUND THEN
		wait_ms := greatest(wait_ms, 1, ceil(extract(epoch FROM
			oldest + make_interval(secs => p_addr_window_s) - t) * 1000)::bigint);
	END IF;
	IF wait_ms > 0 THEN
		RETURN;
	END IF;
	INSERT INTO login_attempts (key, at, pending) VALUES (p_user, t, true)
		RETURNING id INTO user_row;
	INSERT INTO login_attempts (key, at, pending) VALUES (p_addr, t, true)
		RETURNING id INTO addr_row;
END $$;

-- A sign-up attempt from the address key p_addr ('signup-addr:<ip>'): at
-- most p_max per hour, and none while the signup_enabled setting is off.
-- enabled: the setting. When enabled and wait_ms is 0 the attempt has been
-- recorded; when wait_ms > 0 nothing was.
CREATE FUNCTION runit_signup_reserve(p_addr text, p_max integer, OUT enabled boolean,
				     OUT wait_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	oldest timestamptz;
BEGIN
	PERFORM runit_limit_lock(p_addr);
	t := clock_timestamp();
	wait_ms := 0;
	enabled := coalesce((SELECT value = 'true'::jsonb FROM settings
			     WHERE key = 'signup_enabled'), false);
	IF NOT enabled THEN
		RETURN;
	END IF;
	SELECT at INTO oldest FROM login_attempts
		WHERE key = p_addr AND at > t - interval '1 hour'
		ORDER BY at DESC OFFSET p_max - 1 LIMIT 1;
	IF FOUND THEN
		wait_ms := greatest(1, ceil(extract(epoch FROM
			oldest + interval '1 hour' - t) * 1000)::bigint);
		RETURN;
	END IF;
	INSERT INTO login_attempts (key, at) VALUES (p_addr, t);
END $$;
