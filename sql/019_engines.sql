-- 019_engines.sql - several container engines (issue 15): each platform's
-- capacity and health as every server instance sees it, the placement of a
-- run on the least loaded engine that can take it, and the fair queue of the
-- runs no engine has room for, all held here so that they hold across server
-- instances (README "Several engines", docs/architecture.md).

ALTER TABLE platforms
	-- at most this many active runs at once (null: no limit); admins edit it
	ADD COLUMN max_containers integer CHECK (max_containers BETWEEN 0 AND 100000),
	-- what the last health ping of any server instance said (null: not yet)
	ADD COLUMN up boolean,
	ADD COLUMN up_changed_at timestamptz;

ALTER TABLE runs
	-- in the queue since (set for every run placed through the queue; a run
	-- waits while its state is 'queued' and platform_id is null)
	ADD COLUMN queued_at timestamptz,
	-- the platforms that have the run's image (as the starting instance saw
	-- them); null: any
	ADD COLUMN candidates bigint[];
-- (what a run asks of its user's resource pool, runs.pool_cpu_millis and
-- pool_mem_bytes, comes with the pool in 020; the functions here read them
-- when they run)

CREATE INDEX runs_waiting ON runs (queued_at)
	WHERE state = 'queued' AND platform_id IS NULL AND queued_at IS NOT NULL;
CREATE INDEX runs_active_by_platform ON runs (platform_id) WHERE state <> 'finished';

-- When each user last had a queued run placed: the queue serves users in turn.
CREATE SEQUENCE queue_turn_seq;
CREATE TABLE queue_turns (
	user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	served  bigint NOT NULL
);

-- The per-user resource pool's say (another migration replaces it): may
-- this user's run with these limits start now?
CREATE FUNCTION runit_pool_fits(p_user bigint, p_cpu_millis bigint, p_mem_bytes bigint)
RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;

-- The waiting runs in the order they will go: each user's first waiting run,
-- the user served longest ago first, then each user's second, and so on
-- (per-user round robin; a user never served goes first; ties by age).
-- position counts from 1.
CREATE FUNCTION runit_queue_order()
RETURNS TABLE (id bigint, user_id bigint, instance text, q_position bigint)
LANGUAGE sql STABLE AS $$
	SELECT k.id, k.user_id, k.instance,
		row_number() OVER (ORDER BY k.rn, coalesce(t.served, 0), k.queued_at, k.id)
	FROM (SELECT r.id, r.user_id, r.instance, r.queued_at,
			row_number() OVER (PARTITION BY r.user_id ORDER BY r.queued_at, r.id) AS rn
		FROM runs r
		WHERE r.state = 'queued' AND r.platform_id IS NULL AND r.queued_at IS NOT NULL) k
	LEFT JOIN queue_turns t ON t.user_id = k.user_id
	ORDER BY 4;
$$;

-- Active runs per enabled platform, and whether it has room.
CREATE FUNCTION runit_platform_load()
RETURNS TABLE (id bigint, active bigint, max_containers integer, up boolean, room boolean)
LANGUAGE sql STABLE AS $$
	SELECT p.id, count(r.id), p.max_containers, p.up,
		p.max_containers IS NULL OR count(r.id) < p.max_containers
	FROM platforms p LEFT JOIN runs r ON r.platform_id = p.id AND r.state <> 'finished'
	WHERE p.enabled
	GROUP BY p.id;
$$;

-- Place waiting runs while an engine has room: the next run in
-- runit_queue_order() that its pool lets start and that an engine can take
-- goes to the enabled, up engine among its candidates with the fewest
-- active runs (ties: the default first, then the lowest id). One caller at a
-- time (a transaction lock), on any instance. Returns what it placed; the
-- instances that own those runs are told (NOTIFY runit_queue) and launch them.
CREATE FUNCTION runit_queue_dispatch()
RETURNS TABLE (run_id bigint, platform_id bigint, instance text) LANGUAGE plpgsql AS $$
DECLARE
	w record;
	any_waiting boolean;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('runit_queue', 0));
	LOOP
		SELECT q.id, q.user_id, q.instance, pick.id AS plat INTO w
		FROM runit_queue_order() q JOIN runs r ON r.id = q.id
		CROSS JOIN LATERAL (
			SELECT l.id FROM runit_platform_load() l JOIN platforms p ON p.id = l.id
			WHERE l.room AND l.up IS NOT FALSE
				AND (r.candidates IS NULL OR l.id = ANY (r.candidates))
			ORDER BY l.active, p.is_default DESC, l.id LIMIT 1) pick
		WHERE runit_pool_fits(r.user_id, r.pool_cpu_millis, r.pool_mem_bytes)
		ORDER BY q.q_position LIMIT 1;
		EXIT WHEN NOT FOUND;
		UPDATE runs SET platform_id = w.plat WHERE runs.id = w.id;
		INSERT INTO queue_turns (user_id, served) VALUES (w.user_id, nextval('queue_turn_seq'))
			ON CONFLICT (user_id) DO UPDATE SET served = EXCLUDED.served;
		run_id := w.id;
		platform_id := w.plat;
		instance := w.instance;
		RETURN NEXT;
	END LOOP;
	SELECT EXISTS (SELECT 1 FROM runs r WHERE r.state = 'queued' AND r.platform_id IS NULL
		AND r.queued_at IS NOT NULL) INTO any_waiting;
	IF any_waiting OR run_id IS NOT NULL THEN
		PERFORM pg_notify('runit_queue', '');
	END IF;
END $$;

-- run/start through the queue: the row (runit_run_insert: the quota, the
-- one-run-per-(user, project) index), then a dispatch. Returns the row's id
-- (null when the quota is reached, with active and lim), the platform it
-- was placed on (null: it waits) and its position when it waits.
CREATE FUNCTION runit_run_enqueue(p_user bigint, p_project bigint, p_runtime bigint,
	p_instance text, p_snapshot jsonb, p_candidates bigint[], p_cpu_millis bigint,
	p_mem_bytes bigint)
RETURNS TABLE (id bigint, active bigint, lim bigint, platform_id bigint, q_position bigint,
	kind text, endpoint text, oci_runtime text, name text)
LANGUAGE plpgsql AS $$
DECLARE
	ins record;
BEGIN
	SELECT * INTO ins FROM runit_run_insert(p_user, p_project, p_runtime, NULL, p_instance,
		p_snapshot);
	IF ins.id IS NULL THEN
		RETURN QUERY SELECT NULL::bigint, ins.active, ins.lim, NULL::bigint, NULL::bigint,
			NULL::text, NULL::text, NULL::text, NULL::text;
		RETURN;
	END IF;
	UPDATE runs SET queued_at = clock_timestamp(), candidates = p_candidates,
		pool_cpu_millis = p_cpu_millis, pool_mem_bytes = p_mem_bytes
		WHERE runs.id = ins.id;
	PERFORM runit_queue_dispatch();
	RETURN QUERY SELECT ins.id, ins.active, ins.lim, r.platform_id,
		(SELECT q.q_position FROM runit_queue_order() q WHERE q.id = ins.id),
		p.kind, p.endpoint, coalesce(p.options ->> 'oci_runtime', ''), p.name
		FROM runs r LEFT JOIN platforms p ON p.id = r.platform_id WHERE r.id = ins.id;
END $$;

-- An instance's runs that went through the queue and are not launched yet:
-- placed (platform_id set: launch it there, as the row says now) or waiting
-- (with their position).
CREATE FUNCTION runit_queue_mine(p_instance text)
RETURNS TABLE (id bigint, platform_id bigint, q_position bigint, kind text, endpoint text,
	oci_runtime text, name text) LANGUAGE sql STABLE AS $$
	SELECT r.id, r.platform_id, q.q_position, p.kind, p.endpoint,
		coalesce(p.options ->> 'oci_runtime', ''), p.name
	FROM runs r LEFT JOIN runit_queue_order() q ON q.id = r.id
		LEFT JOIN platforms p ON p.id = r.platform_id
	WHERE r.instance = p_instance AND r.state = 'queued' AND r.queued_at IS NOT NULL;
$$;

-- The health round's report (run_plat.c), written when it changed.
CREATE FUNCTION runit_platform_up(p_id bigint, p_up boolean) RETURNS void LANGUAGE sql AS $$
	UPDATE platforms SET up = p_up, up_changed_at = now()
	WHERE id = p_id AND up IS DISTINCT FROM p_up;
$$;

-- admin/platform/create|update: as in 016, with max_containers (null: no
-- limit; absent: unchanged).
CREATE OR REPLACE FUNCTION runit_platform_save(p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	cur platforms;
	pid bigint := p_id;
	want_default boolean := (p ->> 'is_default')::boolean;
BEGIN
	IF pid IS NULL THEN
		INSERT INTO platforms (name, code, kind, endpoint, description, options, enabled,
				max_containers)
			VALUES (p ->> 'name', coalesce(p ->> 'code', lower(p ->> 'name')),
				p ->> 'kind', p ->> 'endpoint', coalesce(p ->> 'description', ''),
				coalesce(p -> 'options', '{}'::jsonb),
				coalesce((p ->> 'enabled')::boolean, true),
				(p ->> 'max_containers')::integer)
			RETURNING id INTO pid;
	ELSE
		SELECT * INTO cur FROM platforms WHERE id = pid FOR UPDATE;
		IF NOT FOUND THEN
			RETURN runit_err('NOT_FOUND', 'no such platform', jsonb_build_object('id', pid));
		END IF;
		IF cur.is_default AND want_default IS NOT FALSE AND (p ->> 'enabled')::boolean IS FALSE THEN
			RETURN runit_err('CONFLICT', 'the default platform cannot be disabled; make another platform the default first');
		END IF;
		UPDATE platforms SET
			name = coalesce(p ->> 'name', name),
			code = coalesce(p ->> 'code', code),
			kind = coalesce(p ->> 'kind', kind),
			endpoint = coalesce(p ->> 'endpoint', endpoint),
			description = coalesce(p ->> 'description', description),
			options = coalesce(p -> 'options', options),
			enabled = coalesce((p ->> 'enabled')::boolean, enabled),
			max_containers = CASE WHEN p ? 'max_containers'
				THEN (p ->> 'max_containers')::integer ELSE max_containers END,
			is_default = is_default AND want_default IS NOT FALSE,
			-- another engine: what the old one said no longer holds
			engine_os = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '' ELSE engine_os END,
			engine_arch = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '' ELSE engine_arch END,
			engine_version = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '' ELSE engine_version END,
			engine_info = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '{}' ELSE engine_info END,
			engine_seen_at = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN NULL ELSE engine_seen_at END,
			updated_at = now()
			WHERE id = pid;
	END IF;
	IF want_default THEN
		PERFORM runit_platform_make_default(pid);
	END IF;
	RETURN runit_ok((SELECT to_jsonb(x) FROM platforms x WHERE x.id = pid));
END $$;
