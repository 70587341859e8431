-- 013_front.sql - what the IDE's front door needs: a project owner's
-- choice to show the output of the latest run to everyone who may read the
-- project (public_runs), and a user's own preferences (the colour theme).
--
-- Who sees runs stays runit_sees_runs() (sql/006_runs_access.sql): the
-- owner, admins, editors and viewers. public_runs adds exactly one thing for
-- a public project's visitors, signed in or not: the latest finished run's
-- summary and log (run/latest), never its code snapshot, never live output,
-- never older runs. It is off by default: a program may print the
-- environment variables, which visitors must not see.

ALTER TABLE projects ADD COLUMN public_runs boolean NOT NULL DEFAULT false;

-- {"theme": "light" | "dark" | "system"}; other keys are refused by
-- runit_prefs_set().
ALTER TABLE users ADD COLUMN prefs jsonb NOT NULL DEFAULT '{}'::jsonb
	CHECK (jsonb_typeof(prefs) = 'object' AND octet_length(prefs::text) <= 4096);

-- The project as the API shows it: as before, plus public_runs.
CREATE OR REPLACE FUNCTION runit_project_json(p_project bigint, p_access text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', p.id, 'name', p.name, 'description', p.description,
		'is_public', p.is_public, 'public_runs', p.public_runs, 'forked_from', p.forked_from,
		'owner', jsonb_build_object('id', u.id, 'username', u.username),
		'runtime', jsonb_build_object('code', r.code, 'name', r.name,
			'language', r.language, 'version', r.version,
			'entry', r.entry_file, 'enabled', r.enabled),
		'access', p_access,
		'created_at', p.created_at, 'updated_at', p.updated_at,
		'files', coalesce((SELECT jsonb_agg(jsonb_build_object('path', f.path,
				'size', f.size, 'version', f.version, 'updated_at', f.updated_at)
				ORDER BY f.path)
			FROM files f WHERE f.project_id = p.id), '[]'::jsonb),
		'total_bytes', (SELECT coalesce(sum(f.size), 0) FROM files f WHERE f.project_id = p.id))
	FROM projects p JOIN users u ON u.id = p.owner_id JOIN runtimes r ON r.id = p.runtime_id
	WHERE p.id = p_project
$$;

-- project/update with public_runs (NULL: unchanged). Replaces the 6-argument
-- form of sql/002_projects.sql.
DROP FUNCTION runit_project_update(bigint, boolean, bigint, text, text, boolean);
CREATE FUNCTION runit_project_update(p_user bigint, p_admin boolean, p_project bigint,
				     p_name text, p_description text, p_public boolean,
				     p_public_runs boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 3, true);
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	UPDATE projects SET name = coalesce(p_name, name),
		description = coalesce(p_description, description),
		is_public = coalesce(p_public, is_public),
		public_runs = coalesce(p_public_runs, public_runs), updated_at = now()
		WHERE id = p_project;
	RETURN runit_ok(runit_project_json(p_project, runit_access(p_project, p_user, p_admin)));
END $$;

-- run/latest: the newest finished run of a project with its first p_limit
-- log chunks (output and the exit), for those who see runs, and for a
-- public project's visitors when its owner turned public_runs on.
-- NOT_FOUND for a project the caller cannot see; FORBIDDEN for a visitor
-- while public_runs is off. {"run": null} when no run has finished.
CREATE FUNCTION runit_run_latest(p_user bigint, p_admin boolean, p_project bigint,
				 p_limit integer)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
	r record;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	IF NOT runit_sees_runs(p_project, p_user, p_admin)
	   AND NOT (SELECT public_runs FROM projects WHERE id = p_project) THEN
		RETURN runit_err('FORBIDDEN', 'the owner has not made the output of this project''s runs public',
			jsonb_build_object('project', p_project));
	END IF;
	SELECT * INTO r FROM runs WHERE project_id = p_project AND state = 'finished'
		ORDER BY id DESC LIMIT 1;
	IF NOT FOUND THEN
		RETURN runit_ok(jsonb_build_object('project', p_project, 'run', NULL, 'chunks', '[]'::jsonb,
			'truncated', false));
	END IF;
	RETURN runit_ok(jsonb_build_object('project', p_project,
		'run', jsonb_build_object('run', r.id, 'state', r.state, 'reason', r.reason,
			'exit_code', r.exit_code, 'created_at', extract(epoch FROM r.created_at)::bigint,
			'duration_ms', r.duration_ms, 'first_byte_ms', r.first_byte_ms, 'tty', r.tty,
			'runtime', (SELECT code FROM runtimes WHERE id = r.runtime_id)),
		'chunks', coalesce((SELECT jsonb_agg(jsonb_build_object('seq', l.seq, 'stream', l.stream,
				'data', l.data) ORDER BY l.seq)
			FROM (SELECT seq, stream, data FROM run_logs WHERE run_id = r.id
				AND stream IN ('stdout', 'stderr', 'meta') ORDER BY seq LIMIT p_limit) l),
			'[]'::jsonb),
		'truncated', (SELECT count(*) > p_limit FROM run_logs WHERE run_id = r.id
				AND stream IN ('stdout', 'stderr', 'meta'))));
END $$;

-- prefs/set: merge p_prefs into the user's preferences (a null value
-- removes a key). Only known keys with known values.
CREATE FUNCTION runit_prefs_set(p_user bigint, p_prefs jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	k text;
	v jsonb;
	res jsonb;
BEGIN
	FOR k, v IN SELECT * FROM jsonb_each(p_prefs) LOOP
		IF k <> 'theme' THEN
			RETURN runit_err('INVALID_PARAMS', format('unknown preference "%s"', k),
				jsonb_build_object('param', k));
		END IF;
		IF jsonb_typeof(v) <> 'null' AND (jsonb_typeof(v) <> 'string'
						     OR v #>> '{}' NOT IN ('light', 'dark', 'system')) THEN
			RETURN runit_err('INVALID_PARAMS', 'theme is "light", "dark", "system" or null',
				jsonb_build_object('param', k));
		END IF;
	END LOOP;
	UPDATE users SET prefs = jsonb_strip_nulls(prefs || p_prefs) WHERE id = p_user
		RETURNING prefs INTO res;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such user');
	END IF;
	RETURN runit_ok(jsonb_build_object('prefs', res));
END $$;
