-- 023_queue_access.sql - what changes while a run waits in the fair queue
-- (sql/019_engines.sql, sql/020_pool.sql; README "The fair queue").
--
--  * Access: a waiting run whose user may no longer run its project (removed
--    from its members or made a viewer, the project handed over, the user
--    disabled or no longer an admin) ends at once, here, in the transaction
--    that changed the access: reason 'cancelled' with a reason code in
--    runs.end_code ('access_lost', 'user_disabled'). A waiting run whose row
--    goes with its project or its user ('project_deleted', 'user_deleted')
--    is announced the same way. Whatever instance owns it hears it (NOTIFY
--    runit_run_cancel "<run> end <reason> <code> <message>") and ends its
--    run in memory with that reason, code and message: its watchers get
--    run/exit, on every instance.
--  * The pool: a budget lowered below what a waiting run needs (the run
--    could never fit) ends that run with reason 'pool_full' (code
--    'pool_too_small'); a budget raised lets waiting runs start at once (a
--    dispatch in the same transaction). With pool_full "wait", a run that
--    could never fit its user's pool is refused at run/start (POOL_FULL),
--    not queued forever.
--  * Positions: runit_queue_position() is a run's place in the queue now,
--    for run/get, run/attach and the instances that follow another
--    instance's run (run_follow.c: a stored "queued" status carries it).
--
-- Runs that are placed (platform_id set) or started are not touched here:
-- they are no longer waiting.

ALTER TABLE runs
	-- why a run ended, more precisely than its reason (null: the reason says it)
	ADD COLUMN end_code text CHECK (end_code ~ '^[a-z_]{1,32}$');

-- The reasons: runs_reason_check as it is now plus 'pool_full' (as 010 does).
DO $$
DECLARE
	def text;
BEGIN
	SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
		WHERE conrelid = 'runs'::regclass AND conname = 'runs_reason_check';
	IF def IS NULL OR position(']))' IN def) = 0 THEN
		RAISE EXCEPTION 'runs_reason_check has an unexpected form: %', def;
	END IF;
	IF position('pool_full' IN def) > 0 THEN
		RETURN;
	END IF;
	EXECUTE 'ALTER TABLE runs DROP CONSTRAINT runs_reason_check';
	EXECUTE 'ALTER TABLE runs ADD CONSTRAINT runs_reason_check '
		|| replace(def, ']))', ', ''pool_full''::text]))');
END $$;

-- A run's place in the queue now (from 1); null when it does not wait.
CREATE FUNCTION runit_queue_position(p_run bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT q.q_position FROM runit_queue_order() q WHERE q.id = p_run
$$;

-- Could a run needing (cpu, mem) never fit this budget (0: unlimited)?
CREATE FUNCTION runit_pool_never_fits(b_cpu bigint, b_mem bigint, p_cpu bigint, p_mem bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
	SELECT (coalesce(b_cpu, 0) > 0 AND coalesce(p_cpu, 0) > b_cpu)
		OR (coalesce(b_mem, 0) > 0 AND coalesce(p_mem, 0) > b_mem)
$$;

-- Tell the owner of run p_run that it ended (its row finished here, or gone).
CREATE FUNCTION runit_run_end_notify(p_run bigint, p_reason text, p_code text, p_message text)
RETURNS void LANGUAGE sql AS $$
	SELECT pg_notify('runit_run_cancel',
		p_run || ' end ' || p_reason || ' ' || p_code || ' ' || left(p_message, 512))
$$;

-- End waiting run p_run now, if it still waits: the row is finished (so it
-- no longer counts for the quota, the pool or one run per (user, project))
-- and its owner is told. True when it ended here.
CREATE FUNCTION runit_run_end_waiting(p_run bigint, p_reason text, p_code text, p_message text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	UPDATE runs r SET state = 'finished', reason = p_reason, end_code = p_code,
		error_message = p_message, finished_at = now()
		WHERE r.id = p_run AND runit_run_waits(r);
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM runit_run_end_notify(p_run, p_reason, p_code, p_message);
	RETURN true;
END $$;

-- Look again at the waiting runs of p_project and/or p_user (null: any):
-- end those whose user may no longer run the project or whose pool could
-- never hold them; then dispatch (positions moved, or a raised budget
-- lets a run start). Returns how many ended.
CREATE FUNCTION runit_queue_recheck(p_project bigint, p_user bigint) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	w record;
	n integer := 0;
	v_reason text;
	v_code text;
	v_msg text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM runs r WHERE r.state = 'queued' AND runit_run_waits(r)) THEN
		RETURN 0;
	END IF;
	-- the queue's lock first, as runit_queue_dispatch() and run/start take
	-- it before the run rows: no deadlock with a dispatch in flight
	PERFORM pg_advisory_xact_lock(hashtextextended('runit_queue', 0));
	FOR w IN SELECT r.id, r.pool_cpu_millis AS cpu, r.pool_mem_bytes AS mem, u.disabled,
			p.name AS project, b.cpu_millis AS bcpu, b.mem_bytes AS bmem,
			runit_access_rank(runit_access(r.project_id, r.user_id, u.role = 'admin')) AS rank
		FROM runs r JOIN users u ON u.id = r.user_id JOIN projects p ON p.id = r.project_id
			CROSS JOIN LATERAL runit_pool_budget(r.user_id) b
		WHERE r.state = 'queued' AND runit_run_waits(r)
			AND (p_project IS NULL OR r.project_id = p_project)
			AND (p_user IS NULL OR r.user_id = p_user)
		ORDER BY r.id
	LOOP
		v_reason := 'cancelled';
		IF w.disabled THEN
			v_code := 'user_disabled';
			v_msg := 'the account was disabled by an admin';
		ELSIF w.rank < 2 THEN
			v_code := 'access_lost';
			v_msg := format('you may no longer run the project "%s"', left(w.project, 100));
		ELSIF runit_pool_never_fits(w.bcpu, w.bmem, w.cpu, w.mem) THEN
			v_reason := 'pool_full';
			v_code := 'pool_too_small';
			v_msg := 'your resource pool was made smaller than this run needs';
		ELSE
			CONTINUE;
		END IF;
		IF runit_run_end_waiting(w.id, v_reason, v_code, v_msg) THEN
			n := n + 1;
		END IF;
	END LOOP;
	PERFORM runit_queue_dispatch();
	RETURN n;
END $$;

-- ------------------------------------------------------------- triggers

CREATE FUNCTION runit_queue_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM runit_queue_recheck(OLD.project_id, OLD.user_id);
	RETURN NULL;
END $$;
CREATE TRIGGER project_members_queue AFTER DELETE OR UPDATE OF role ON project_members
	FOR EACH ROW EXECUTE FUNCTION runit_queue_members_changed();

CREATE FUNCTION runit_queue_project_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM runit_queue_recheck(NEW.id, NULL);
	RETURN NULL;
END $$;
CREATE TRIGGER projects_queue AFTER UPDATE OF is_public, owner_id ON projects
	FOR EACH ROW WHEN (OLD.is_public IS DISTINCT FROM NEW.is_public
		OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
	EXECUTE FUNCTION runit_queue_project_changed();

CREATE FUNCTION runit_queue_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM runit_queue_recheck(NULL, NEW.id);
	RETURN NULL;
END $$;
CREATE TRIGGER users_queue AFTER UPDATE OF disabled, role, pool_cpu_millis, pool_mem_bytes ON users
	FOR EACH ROW WHEN (OLD.disabled IS DISTINCT FROM NEW.disabled
		OR OLD.role IS DISTINCT FROM NEW.role
		OR OLD.pool_cpu_millis IS DISTINCT FROM NEW.pool_cpu_millis
		OR OLD.pool_mem_bytes IS DISTINCT FROM NEW.pool_mem_bytes)
	EXECUTE FUNCTION runit_queue_user_changed();

-- The default budgets (settings pool_*_user, pool_*_admin) changed.
CREATE FUNCTION runit_queue_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM runit_queue_recheck(NULL, NULL);
	RETURN NULL;
END $$;
CREATE TRIGGER settings_queue AFTER INSERT OR UPDATE ON settings
	FOR EACH ROW WHEN (NEW.key LIKE 'pool\_%')
	EXECUTE FUNCTION runit_queue_settings_changed();

-- An active run's row deleted with its project or its user (ON DELETE
-- CASCADE): its owner ends it; a waiting one leaves the queue.
CREATE FUNCTION runit_run_row_gone() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	v_code text := 'deleted';
	v_msg text := 'the run was deleted';
BEGIN
	IF NOT EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id) THEN
		v_code := 'user_deleted';
		v_msg := 'the account was deleted';
	ELSIF NOT EXISTS (SELECT 1 FROM projects WHERE id = OLD.project_id) THEN
		v_code := 'project_deleted';
		v_msg := 'the project was deleted';
	END IF;
	PERFORM runit_run_end_notify(OLD.id, 'cancelled', v_code, v_msg);
	IF runit_run_waits(OLD) THEN
		PERFORM pg_notify('runit_queue', '');
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER runs_gone AFTER DELETE ON runs
	FOR EACH ROW WHEN (OLD.state <> 'finished') EXECUTE FUNCTION runit_run_row_gone();

-- run/start through the queue (as in 020), but with pool_full "wait" a run
-- that could never fit its user's pool (its need above the budget itself)
-- is refused at once (POOL_FULL), not queued forever.
CREATE OR REPLACE FUNCTION runit_run_enqueue(p_user bigint, p_project bigint, p_runtime bigint,
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
	IF rid IS NULL AND ins.pool IS NOT NULL AND ins.pool ->> 'mode' = 'wait'
		AND NOT runit_pool_never_fits((ins.pool #>> '{budget,cpu_millis}')::bigint,
			(ins.pool #>> '{budget,mem_bytes}')::bigint, p_cpu_millis, p_mem_bytes) THEN
		-- too big for the pool now: it waits in the queue (the quota held)
		INSERT INTO runs (user_id, project_id, runtime_id, instance, code_snapshot)
			VALUES (p_user, p_project, p_runtime, p_instance, p_snapshot)
			RETURNING runs.id INTO rid;
		budget := ins.pool -> 'budget';
	ELSIF rid IS NULL THEN
		RETURN QUERY SELECT NULL::bigint, ins.active, ins.lim, NULL::bigint, NULL::bigint,
			NULL::text, NULL::text, NULL::text, NULL::text,
			ins.pool || CASE WHEN ins.pool IS NOT NULL AND ins.pool ->> 'mode' = 'wait'
				THEN '{"never": true}'::jsonb ELSE '{}'::jsonb END;
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
