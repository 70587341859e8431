-- 016_platform_meta.sql - platforms described like runtimes: a code and a
-- description that admins edit, and what the engine says about itself
-- (OS, architecture, version, kernel, CPUs, memory, swarm state), written by
-- the server's platform health round (run_plat.c) when it changes, never by
-- admins.

ALTER TABLE platforms
	ADD COLUMN code text CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
	ADD COLUMN description text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
	ADD COLUMN engine_os text NOT NULL DEFAULT '' CHECK (length(engine_os) <= 64),
	ADD COLUMN engine_arch text NOT NULL DEFAULT '' CHECK (length(engine_arch) <= 64),
	ADD COLUMN engine_version text NOT NULL DEFAULT '' CHECK (length(engine_version) <= 128),
	-- {api_version, kernel, operating_system, ncpu, mem_total, swarm, swarm_nodes}
	ADD COLUMN engine_info jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(engine_info) = 'object'),
	ADD COLUMN engine_seen_at timestamptz;

-- Existing rows: the code is the lower-cased name (names are unique; two
-- that differ only in case keep apart with the id).
UPDATE platforms p SET code = CASE
		WHEN (SELECT count(*) FROM platforms q WHERE lower(q.name) = lower(p.name)) > 1
		THEN left(lower(p.name), 40) || '-' || p.id
		ELSE lower(p.name) END;
ALTER TABLE platforms ALTER COLUMN code SET NOT NULL;
ALTER TABLE platforms ADD CONSTRAINT platforms_code_key UNIQUE (code);

-- A row inserted without a code (seed, scripts, older tests) gets its
-- lower-cased name, as a new platform does through admin/platform/create.
CREATE FUNCTION runit_platform_default_code() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.code IS NULL THEN
		NEW.code := lower(NEW.name);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER platforms_default_code BEFORE INSERT ON platforms
	FOR EACH ROW EXECUTE FUNCTION runit_platform_default_code();

-- Create (p_id NULL) or update a platform from a validated patch
-- {name, code, kind, endpoint, description, options, enabled, is_default};
-- absent members are unchanged (a new platform's code is its lower-cased
-- name). The default platform cannot be disabled.
CREATE OR REPLACE FUNCTION runit_platform_save(p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	cur platforms;
	pid bigint := p_id;
	want_default boolean := (p ->> 'is_default')::boolean;
BEGIN
	IF pid IS NULL THEN
		INSERT INTO platforms (name, code, kind, endpoint, description, options, enabled)
			VALUES (p ->> 'name', coalesce(p ->> 'code', lower(p ->> 'name')),
				p ->> 'kind', p ->> 'endpoint', coalesce(p ->> 'description', ''),
				coalesce(p -> 'options', '{}'::jsonb),
				coalesce((p ->> 'enabled')::boolean, true))
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

-- The health round's report of what engine platform p_id is. Writes only
-- when something changed (the round runs every few seconds on every
-- server), and never for a row whose endpoint changed since the round read
-- it (p_endpoint).
CREATE FUNCTION runit_platform_engine(p_id bigint, p_endpoint text, p_os text, p_arch text,
	p_version text, p_info jsonb) RETURNS void LANGUAGE sql AS $$
	UPDATE platforms SET engine_os = left(p_os, 64), engine_arch = left(p_arch, 64),
		engine_version = left(p_version, 128), engine_info = p_info, engine_seen_at = now()
	WHERE id = p_id AND endpoint = p_endpoint
		AND (engine_os, engine_arch, engine_version, engine_info)
			IS DISTINCT FROM (left(p_os, 64), left(p_arch, 64), left(p_version, 128), p_info);
$$;
