-- 020_pool.sql - the per-user resource pool (issue 15): each user has a
-- budget of CPU (millicores) and memory (bytes); a run reserves its
-- runtime's CPU and memory from its user's pool when its row goes in, and
-- gives them back when it ends, however it ends.
--
--  * The budget: users.pool_cpu_millis / pool_mem_bytes, NULL for the
--    role's default (settings pool_cpu_millis_user, pool_mem_bytes_user,
--    pool_cpu_millis_admin, pool_mem_bytes_admin); 0 means unlimited.
--  * What is reserved is never a counter: it is the sum over the user's
--    active run rows (state <> 'finished') of the CPU and memory each row
--    holds (runs.pool_cpu_millis, pool_mem_bytes, written when the row goes
--    in). A run that ends in any way (exit, stop, cancel, error, reaped by
--    another instance, abandoned after a crash) is finished, so it holds
--    nothing: nothing can drift. Rows from before this migration, and rows
--    not started through the pool (NULL), hold nothing.
--  * The check happens under the per-user advisory lock that already holds
--    the active-run quota (runit_run_insert, sql/006), so parallel starts
--    on any number of server instances take turns and never over-reserve.
--  * A run that does not fit: settings pool_full 'refuse' (the default:
--    run/start answers POOL_FULL with what holds the pool) or 'wait' (the
--    run queue, sql/019, starts a queued run only when runit_pool_fits()).

ALTER TABLE users
	ADD COLUMN pool_cpu_millis bigint CHECK (pool_cpu_millis BETWEEN 0 AND 1000000),
	ADD COLUMN pool_mem_bytes bigint CHECK (pool_mem_bytes BETWEEN 0 AND 1099511627776);

ALTER TABLE runs
	ADD COLUMN pool_cpu_millis bigint CHECK (pool_cpu_millis >= 0),
	ADD COLUMN pool_mem_bytes bigint CHECK (pool_mem_bytes >= 0);

-- The settings. Keys allowed are rebuilt from the keys present (as 008
-- does), and the value shape gets the pool's keys in front of whatever the
-- check holds now (so another branch's keys stay as they are): pool_full
-- is "refuse" or "wait"; the budgets are integers >= 0 (0: unlimited).
CREATE FUNCTION runit_pool_setting_ok(v jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN jsonb_typeof(v) = 'number'
		THEN v::numeric >= 0 AND v::numeric = trunc(v::numeric) ELSE false END
$$;

ALTER TABLE settings DROP CONSTRAINT settings_key_check;
DO $$
DECLARE
	def text;
BEGIN
	SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c
		WHERE c.conrelid = 'settings'::regclass AND c.conname = 'settings_value_shape';
	IF def IS NULL OR def !~ 'CASE\s+key\s+WHEN' THEN
		RAISE EXCEPTION 'settings_value_shape is not the CASE this migration expects: %', def;
	END IF;
	def := regexp_replace(def, 'CASE\s+key\s+WHEN',
		'CASE key WHEN ''pool_full''::text THEN (value = ANY (ARRAY[''"refuse"''::jsonb, ''"wait"''::jsonb])) '
		'WHEN ''pool_cpu_millis_user''::text THEN runit_pool_setting_ok(value) '
		'WHEN ''pool_mem_bytes_user''::text THEN runit_pool_setting_ok(value) '
		'WHEN ''pool_cpu_millis_admin''::text THEN runit_pool_setting_ok(value) '
		'WHEN ''pool_mem_bytes_admin''::text THEN runit_pool_setting_ok(value) WHEN');
	ALTER TABLE settings DROP CONSTRAINT settings_value_shape;
	EXECUTE 'ALTER TABLE settings ADD CONSTRAINT settings_value_shape ' || def;
END $$;
INSERT INTO settings (key, value) VALUES
	('pool_full',             '"refuse"'),
	('pool_cpu_millis_user',  '4000'),
	('pool_mem_bytes_user',   '2147483648'),
	('pool_cpu_millis_admin', '0'),
	('pool_mem_bytes_admin',  '0')
ON CONFLICT (key) DO NOTHING;
DO $$
BEGIN
	EXECUTE format('ALTER TABLE settings ADD CONSTRAINT settings_key_check CHECK (key IN (%s))',
		(SELECT string_agg(quote_literal(key), ', ' ORDER BY key) FROM settings));
END $$;

-- The budget of p_user: its own, else its role's default. 0: unlimited.
CREATE FUNCTION runit_pool_budget(p_user bigint,
	OUT cpu_millis bigint, OUT mem_bytes bigint)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(u.pool_cpu_millis, runit_setting('pool_cpu_millis_' || u.role)),
		coalesce(u.pool_mem_bytes, runit_setting('pool_mem_bytes_' || u.role))
	FROM users u WHERE u.id = p_user
$$;

-- Whether a run row waits in the engines' queue (sql/019): not placed yet,
-- so it holds nothing of its pool.
CREATE FUNCTION runit_run_waits(r runs) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT r.state = 'queued' AND r.platform_id IS NULL AND r.queued_at IS NOT NULL
$$;

-- What p_user's active runs hold now (p_except: a project whose run is
-- about to be replaced, or NULL). A run waiting in the queue holds nothing.
CREATE FUNCTION runit_pool_used(p_user bigint, p_except bigint DEFAULT NULL,
	OUT cpu_millis bigint, OUT mem_bytes bigint)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(r.pool_cpu_millis), 0)::bigint, coalesce(sum(r.pool_mem_bytes), 0)::bigint
	FROM runs r WHERE r.user_id = p_user AND r.state <> 'finished' AND NOT runit_run_waits(r)
		AND (p_except IS NULL OR r.project_id <> p_except)
$$;

-- Would a run needing p_cpu_millis and p_mem_bytes fit in p_user's pool
-- now, besides the runs it already holds? (The queue of sql/019 asks this
-- before it starts a queued run; call it under the user's lock to act on
-- the answer.) An unknown user fits nothing.
CREATE OR REPLACE FUNCTION runit_pool_fits(p_user bigint, p_cpu_millis bigint, p_mem_bytes bigint)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT (b.cpu_millis = 0 OR u.cpu_millis + p_cpu_millis <= b.cpu_millis)
		AND (b.mem_bytes = 0 OR u.mem_bytes + p_mem_bytes <= b.mem_bytes)
		FROM runit_pool_budget(p_user) b, runit_pool_used(p_user) u
		WHERE b.cpu_millis IS NOT NULL), false)
$$;

-- The runs that hold p_user's pool, oldest first, for the POOL_FULL answer.
CREATE FUNCTION runit_pool_holders(p_user bigint, p_except bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('run_id', r.id, 'project_id', r.project_id,
		'project', p.name, 'cpu_millis', r.pool_cpu_millis, 'mem_bytes', r.pool_mem_bytes)
		ORDER BY r.id), '[]'::jsonb)
	FROM runs r JOIN projects p ON p.id = r.project_id
	WHERE r.user_id = p_user AND r.state <> 'finished' AND r.pool_cpu_millis IS NOT NULL
		AND NOT runit_run_waits(r) AND (p_except IS NULL OR r.project_id <> p_except)
$$;

-- runit_run_insert (sql/006) with the pool: under the same per-user lock,
-- the quota first (as before), then the pool. Returns (id, active, lim,
-- pool): id NULL and pool NULL when the quota is reached; id NULL and pool
-- {full: true, mode, budget, used, need, holders} when the run does not
-- fit; else the new row's id and pool {cpu_millis, mem_bytes}, the budget
-- (the kernel's limits for the user's cgroup parent). The run in p_project
-- itself (about to be replaced) is not counted, as for the quota.
CREATE FUNCTION runit_run_insert_pooled(p_user bigint, p_project bigint, p_runtime bigint,
	p_platform bigint, p_instance text, p_snapshot jsonb, p_cpu_millis bigint,
	p_mem_bytes bigint)
RETURNS TABLE (id bigint, active bigint, lim bigint, pool jsonb) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	n bigint;
	q bigint;
	rid bigint;
	b record;
	u record;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('runit_run_quota', p_user));
	SELECT count(*) INTO n FROM runs r
		WHERE r.user_id = p_user AND r.state <> 'finished' AND r.project_id <> p_project;
	SELECT coalesce(x.max_active_runs, runit_setting('max_active_runs_per_user')) INTO q
		FROM users x WHERE x.id = p_user;
	IF n >= q THEN
		RETURN QUERY SELECT NULL::bigint, n, q, NULL::jsonb;
		RETURN;
	END IF;
	SELECT * INTO b FROM runit_pool_budget(p_user);
	SELECT * INTO u FROM runit_pool_used(p_user, p_project);
	IF (b.cpu_millis > 0 AND u.cpu_millis + p_cpu_millis > b.cpu_millis)
		OR (b.mem_bytes > 0 AND u.mem_bytes + p_mem_bytes > b.mem_bytes) THEN
		RETURN QUERY SELECT NULL::bigint, n, q, jsonb_build_object('full', true,
			'mode', (SELECT s.value #>> '{}' FROM settings s WHERE s.key = 'pool_full'),
			'budget', jsonb_build_object('cpu_millis', b.cpu_millis, 'mem_bytes', b.mem_bytes),
			'used', jsonb_build_object('cpu_millis', u.cpu_millis, 'mem_bytes', u.mem_bytes),
			'need', jsonb_build_object('cpu_millis', p_cpu_millis, 'mem_bytes', p_mem_bytes),
			'holders', runit_pool_holders(p_user, p_project));
		RETURN;
	END IF;
	INSERT INTO runs (user_id, project_id, runtime_id, platform_id, instance, code_snapshot,
			pool_cpu_millis, pool_mem_bytes)
		VALUES (p_user, p_project, p_runtime, p_platform, p_instance, p_snapshot,
			p_cpu_millis, p_mem_bytes)
		RETURNING runs.id INTO rid;
	RETURN QUERY SELECT rid, n, q,
		jsonb_build_object('cpu_millis', b.cpu_millis, 'mem_bytes', b.mem_bytes);
END
$$;

-- run/start through the engines' queue (sql/019) with the pool: the row
-- goes in through runit_run_insert_pooled (the quota, then the pool, under
-- the user's lock). A run that does not fit its pool is refused (pool_full
-- "refuse": id NULL, pool {full: true, ...}) or, with "wait", goes into the
-- queue all the same: runit_queue_dispatch() places it once
-- runit_pool_fits() says it fits. pool is the budget for the kernel's limits
-- otherwise.
DROP FUNCTION runit_run_enqueue(bigint, bigint, bigint, text, jsonb, bigint[], bigint, bigint);
CREATE FUNCTION runit_run_enqueue(p_user bigint, p_project bigint, p_runtime bigint,
	p_instance text, p_snapshot jsonb, p_candidates bigint[], p_cpu_millis bigint,
	p_mem_bytes bigint)
RETURNS TABLE (id bigint, active bigint, lim bigint, platform_id bigint, q_position bigint,
	kind text, endpoint text, oci_runtime text, name text, pool jsonb)
LANGUAGE plpgsql AS $$
DECLARE
	ins record;
	rid bigint;
	budget jsonb;
BEGIN
	SELECT * INTO ins FROM runit_run_insert_pooled(p_user, p_project, p_runtime, NULL,
		p_instance, p_snapshot, p_cpu_millis, p_mem_bytes);
	rid := ins.id;
	IF rid IS NULL AND ins.pool IS NOT NULL AND ins.pool ->> 'mode' = 'wait' THEN
		-- too big for the pool now: it waits in the queue (the quota held)
		INSERT INTO runs (user_id, project_id, runtime_id, instance, code_snapshot)
			VALUES (p_user, p_project, p_runtime, p_instance, p_snapshot)
			RETURNING runs.id INTO rid;
		budget := ins.pool -> 'budget';
	ELSIF rid IS NULL THEN
		RETURN QUERY SELECT NULL::bigint, ins.active, ins.lim, NULL::bigint, NULL::bigint,
			NULL::text, NULL::text, NULL::text, NULL::text, ins.pool;
		RETURN;
	ELSE
		budget := ins.pool;
	END IF;
	UPDATE runs SET queued_at = clock_timestamp(), candidates = p_candidates,
		pool_cpu_millis = p_cpu_millis, pool_mem_bytes = p_mem_bytes
		WHERE runs.id = rid;
	PERFORM runit_queue_dispatch();
	RETURN QUERY SELECT rid, ins.active, ins.lim, r.platform_id,
		(SELECT q.q_position FROM runit_queue_order() q WHERE q.id = rid),
		p.kind, p.endpoint, coalesce(p.options ->> 'oci_runtime', ''), p.name, budget
		FROM runs r LEFT JOIN platforms p ON p.id = r.platform_id WHERE r.id = rid;
END $$;
