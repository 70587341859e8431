-- 010_build_cache.sql - a cache volume per project, and a build limit apart
-- from the run limit (docs/decisions.md, "The project's cache volume").
--
--  * projects.cache_key names the project's cache volume on a container
--    platform: runit-cache-<cache_key without dashes>. Random, so two
--    deployments sharing one engine (or a project id reused after a
--    restore) never share a volume; a fork gets its own.
--  * cache_volumes_gone: the volumes of deleted projects (by any means:
--    project/delete, a deleted user's projects, raw SQL), until a server
--    has removed them from every platform (run_cache.c).
--  * runtimes.build_wall_ms: the build's own time limit; the run limit
--    (wall_ms) counts from the end of the build. runtimes.cache_bytes: the
--    cap of a project's cache volume (0: no cache volume for the runtime).
--  * Two reasons a run ends with: build_failed (the build command failed:
--    the compiler's output is in the log) and build_timeout (the build
--    passed build_wall_ms).

ALTER TABLE projects ADD COLUMN cache_key uuid NOT NULL DEFAULT gen_random_uuid();

CREATE TABLE cache_volumes_gone (
	volume  text PRIMARY KEY CHECK (volume ~ '^runit-cache-[0-9a-f]{32}$'),
	gone_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION runit_cache_volume(p_key uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT 'runit-cache-' || replace(p_key::text, '-', '')
$$;

CREATE FUNCTION runit_project_cache_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO cache_volumes_gone (volume) VALUES (runit_cache_volume(OLD.cache_key))
		ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;

CREATE TRIGGER projects_cache_gone AFTER DELETE ON projects
	FOR EACH ROW EXECUTE FUNCTION runit_project_cache_gone();

ALTER TABLE runtimes
	ADD COLUMN build_wall_ms integer NOT NULL DEFAULT 60000
		CHECK (build_wall_ms BETWEEN 100 AND 3600000),
	ADD COLUMN cache_bytes bigint NOT NULL DEFAULT 268435456
		CHECK (cache_bytes = 0 OR cache_bytes BETWEEN 1048576 AND 68719476736);

-- The reasons: the list of runs_reason_check as it is now (other
-- migrations may have added to it) plus the two build reasons.
DO $$
DECLARE
	def text;
BEGIN
	SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
		WHERE conrelid = 'runs'::regclass AND conname = 'runs_reason_check';
	IF def IS NULL OR position(']))' IN def) = 0 THEN
		RAISE EXCEPTION 'runs_reason_check has an unexpected form: %', def;
	END IF;
	IF position('build_failed' IN def) > 0 THEN
		RETURN;
	END IF;
	EXECUTE 'ALTER TABLE runs DROP CONSTRAINT runs_reason_check';
	EXECUTE 'ALTER TABLE runs ADD CONSTRAINT runs_reason_check '
		|| replace(def, ']))', ', ''build_failed''::text, ''build_timeout''::text]))');
END $$;
