-- 002_projects.sql - projects, files and environment as server-side
-- functions, so that every change that must be atomic (a save checked
-- against its base version and the project's limits, a fork copying files,
-- a project created from a template under the per-user quota) is ONE
-- statement from the server: one round trip, committed before the reply,
-- correct whichever server instance sends it.
--
-- Conventions:
--  * Access is runit_access(project, user, is_admin): 'owner', 'admin',
--    'editor', 'viewer', 'public' or NULL (no such project, or invisible).
--    runit_access_rank() orders them: 3 own (owner, admin), 2 write (editor),
--    1 read (viewer, public), 0 none. server/access.h is the C side.
--  * The runit_* functions that answer a request return jsonb, either
--    {"ok": <result>} or {"error": "<REASON>", "message": "...", "data": {...}}
--    where REASON is a protocol reason code (protocol/PROTOCOL.md). Every
--    such error is returned BEFORE anything is written, so returning it
--    commits nothing.
--  * Writers to a project lock its row (FOR NO KEY UPDATE) first: writes to
--    one project are serialised, and in READ COMMITTED every later statement
--    of the function sees what the previous writer committed, so the limits
--    (files per project, project bytes) hold under concurrency.
--  * Limits come from the settings table at the time of the write (the
--    server's in-memory copy is only for early, cheap refusals).

-- A runtime row installed by `run-it seed` carries the digest of the recipe
-- it came from; an admin edit clears it, and seed never overwrites a row
-- whose digest is NULL (the admin's edits win).
ALTER TABLE runtimes ADD COLUMN seed_digest text CHECK (seed_digest ~ '^[0-9a-f]{32}$');

-- Every server instance keeps the settings in memory and reloads them when
-- told on this channel.
CREATE FUNCTION runit_settings_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('runit_settings', '');
	RETURN NULL;
END $$;
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE ON settings
	FOR EACH STATEMENT EXECUTE FUNCTION runit_settings_notify();

-- Gallery search by name (newest first among matches).
CREATE INDEX projects_gallery_name ON projects (lower(name)) WHERE is_public;

-- ------------------------------------------------------------- helpers

CREATE FUNCTION runit_setting(p_key text) RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT (value #>> '{}')::numeric::bigint FROM settings WHERE key = p_key
$$;

CREATE FUNCTION runit_err(p_reason text, p_message text, p_data jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('error', p_reason, 'message', p_message,
		'data', coalesce(p_data, '{}'::jsonb))
$$;

CREATE FUNCTION runit_ok(p_result jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('ok', p_result)
$$;

CREATE FUNCTION runit_access(p_project bigint, p_user bigint, p_admin boolean)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT CASE
		WHEN p.owner_id = p_user THEN 'owner'
		WHEN p_admin THEN 'admin'
		ELSE coalesce((SELECT m.role FROM project_members m
		               WHERE m.project_id = p.id AND m.user_id = p_user),
		              CASE WHEN p.is_public THEN 'public' END)
	END
	FROM projects p WHERE p.id = p_project
$$;

CREATE FUNCTION runit_access_rank(p_access text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE p_access
		WHEN 'owner' THEN 3 WHEN 'admin' THEN 3
		WHEN 'editor' THEN 2
		WHEN 'viewer' THEN 1 WHEN 'public' THEN 1
		ELSE 0 END
$$;

-- NULL when p_user may act on the project with rank p_need, else the error
-- to return. p_lock: lock the project row for the rest of the transaction.
CREATE FUNCTION runit_check(p_project bigint, p_user bigint, p_admin boolean,
			    p_need integer, p_lock boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	acc text;
BEGIN
	IF p_lock THEN
		PERFORM 1 FROM projects WHERE id = p_project FOR NO KEY UPDATE;
	END IF;
	acc := runit_access(p_project, p_user, p_admin);
	IF runit_access_rank(acc) = 0 THEN
		RETURN runit_err('NOT_FOUND', 'no such project', jsonb_build_object('project', p_project));
	END IF;
	IF runit_access_rank(acc) < p_need THEN
		RETURN runit_err('FORBIDDEN', CASE p_need
			WHEN 3 THEN 'only the owner of this project may do that'
			ELSE 'you have read-only access to this project' END,
			jsonb_build_object('project', p_project, 'access', acc));
	END IF;
	RETURN NULL;
END $$;

-- The project as the API shows it, with its file list (no contents).
CREATE FUNCTION runit_project_json(p_project bigint, p_access text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object(
		'id', p.id, 'name', p.name, 'description', p.description,
		'is_public', p.is_public, 'forked_from', p.forked_from,
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

-- TOO_LARGE error naming the limit.
CREATE FUNCTION runit_too_large(p_limit text, p_max bigint, p_size bigint, p_what text)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT runit_err('TOO_LARGE', format('%s: the limit %s is %s', p_what, p_limit, p_max),
		jsonb_build_object('limit', p_limit, 'max', p_max, 'size', p_size))
$$;

-- The per-user project quota (users.max_projects, else the setting).
-- Locks the user row so that two creations at once cannot both pass.
CREATE FUNCTION runit_project_quota(p_user bigint) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	lim bigint;
	n bigint;
BEGIN
	SELECT coalesce(max_projects, runit_setting('max_projects_per_user')) INTO lim
		FROM users WHERE id = p_user FOR NO KEY UPDATE;
	SELECT count(*) INTO n FROM projects WHERE owner_id = p_user;
	IF n >= lim THEN
		RETURN runit_too_large('max_projects_per_user', lim, n + 1,
			format('you already have %s projects', n));
	END IF;
	RETURN NULL;
END $$;

-- ------------------------------------------------------------ projects

CREATE FUNCTION runit_project_create(p_user bigint, p_admin boolean, p_name text,
				     p_runtime text, p_description text, p_public boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	rt record;
	e jsonb;
	pid bigint;
BEGIN
	SELECT id, enabled, template INTO rt FROM runtimes WHERE code = p_runtime;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such runtime', jsonb_build_object('runtime', p_runtime));
	END IF;
	IF NOT rt.enabled THEN
		RETURN runit_err('RUNTIME_DISABLED', 'this runtime is disabled',
			jsonb_build_object('runtime', p_runtime));
	END IF;
	e := runit_project_quota(p_user);
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	INSERT INTO projects (owner_id, name, description, runtime_id, is_public)
		VALUES (p_user, p_name, coalesce(p_description, ''), rt.id, coalesce(p_public, false))
		RETURNING id INTO pid;
	INSERT INTO files (project_id, path, content, updated_by)
		SELECT pid, t.key, t.value, p_user FROM jsonb_each_text(rt.template) t;
	RETURN runit_ok(runit_project_json(pid, 'owner'));
END $$;

CREATE FUNCTION runit_project_get(p_user bigint, p_admin boolean, p_project bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	RETURN runit_ok(runit_project_json(p_project, runit_access(p_project, p_user, p_admin)));
END $$;

-- p_name / p_description / p_public NULL: unchanged.
CREATE FUNCTION runit_project_update(p_user bigint, p_admin boolean, p_project bigint,
				     p_name text, p_description text, p_public boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 3, true);
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	UPDATE projects SET name = coalesce(p_name, name),
		description = coalesce(p_description, description),
		is_public = coalesce(p_public, is_public), updated_at = now()
		WHERE id = p_project;
	RETURN runit_ok(runit_project_json(p_project, runit_access(p_project, p_user, p_admin)));
END $$;

CREATE FUNCTION runit_project_delete(p_user bigint, p_admin boolean, p_project bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 3, true);
	v_owner bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	DELETE FROM projects WHERE id = p_project RETURNING owner_id INTO v_owner;
	RETURN runit_ok(jsonb_build_object('id', p_project, 'owner_id', v_owner));
END $$;

-- A fork of a public project, or of one's own (admins: any). Files are
-- copied at their current content (each at version 1); environment
-- variables are not. The fork is private.
CREATE FUNCTION runit_project_fork(p_user bigint, p_admin boolean, p_project bigint, p_name text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
	src record;
	acc text;
	pid bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	acc := runit_access(p_project, p_user, p_admin);
	SELECT * INTO src FROM projects WHERE id = p_project FOR KEY SHARE;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such project', jsonb_build_object('project', p_project));
	END IF;
	IF NOT src.is_public AND acc NOT IN ('owner', 'admin') THEN
		RETURN runit_err('FORBIDDEN', 'only public projects and your own can be forked',
			jsonb_build_object('project', p_project, 'access', acc));
	END IF;
	e := runit_project_quota(p_user);
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	INSERT INTO projects (owner_id, name, description, runtime_id, is_public, forked_from)
		VALUES (p_user, coalesce(p_name, src.name), src.description, src.runtime_id, false, src.id)
		RETURNING id INTO pid;
	INSERT INTO files (project_id, path, content, updated_by)
		SELECT pid, f.path, f.content, p_user FROM files f WHERE f.project_id = src.id;
	RETURN runit_ok(runit_project_json(pid, 'owner'));
END $$;

-- Collaborators: the owner (or an admin) adds, changes or removes one.
CREATE FUNCTION runit_members_json(p_project bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('user', jsonb_build_object('id', u.id,
		'username', u.username), 'role', m.role, 'added_at', m.added_at) ORDER BY u.username),
		'[]'::jsonb)
	FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = p_project
$$;

-- Owner, collaborators and admins see the members; a public project's
-- visitors get FORBIDDEN.
CREATE FUNCTION runit_project_members(p_user bigint, p_admin boolean, p_project bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	IF runit_access(p_project, p_user, p_admin) = 'public' THEN
		RETURN runit_err('FORBIDDEN', 'only the owner and collaborators see the members',
			jsonb_build_object('project', p_project));
	END IF;
	RETURN runit_ok(jsonb_build_object('owner', (SELECT jsonb_build_object('id', u.id,
		'username', u.username) FROM projects p JOIN users u ON u.id = p.owner_id
		WHERE p.id = p_project), 'members', runit_members_json(p_project)));
END $$;

-- p_role 'editor' | 'viewer' adds or changes; NULL removes.
CREATE FUNCTION runit_project_share(p_user bigint, p_admin boolean, p_project bigint,
				    p_username text, p_role text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 3, true);
	uid bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT id INTO uid FROM users WHERE lower(username) = lower(p_username);
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such user', jsonb_build_object('username', p_username));
	END IF;
	IF uid = (SELECT owner_id FROM projects WHERE id = p_project) THEN
		RETURN runit_err('CONFLICT', 'the owner is not a collaborator of their own project');
	END IF;
	IF p_role IS NULL THEN
		DELETE FROM project_members WHERE project_id = p_project AND user_id = uid;
	ELSE
		INSERT INTO project_members (project_id, user_id, role) VALUES (p_project, uid, p_role)
			ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role;
	END IF;
	RETURN runit_ok(jsonb_build_object('members', runit_members_json(p_project)));
END $$;

-- --------------------------------------------------------------- files

CREATE FUNCTION runit_file_read(p_user bigint, p_admin boolean, p_project bigint, p_path text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
	f record;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT path, content, size, version, updated_at INTO f
		FROM files WHERE project_id = p_project AND path = p_path;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	RETURN runit_ok(jsonb_build_object('path', f.path, 'content', f.content, 'size', f.size,
		'version', f.version, 'updated_at', f.updated_at));
END $$;

CREATE FUNCTION runit_file_list(p_user bigint, p_admin boolean, p_project bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	RETURN runit_ok(jsonb_build_object('files', coalesce((SELECT jsonb_agg(jsonb_build_object(
		'path', f.path, 'size', f.size, 'version', f.version, 'updated_at', f.updated_at)
		ORDER BY f.path) FROM files f WHERE f.project_id = p_project), '[]'::jsonb)));
END $$;

CREATE FUNCTION runit_file_create(p_user bigint, p_admin boolean, p_project bigint,
				  p_path text, p_content text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	sz bigint := octet_length(p_content);
	lim bigint;
	n bigint;
	total bigint;
	v bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	lim := runit_setting('max_file_bytes');
	IF sz > lim THEN
		RETURN runit_too_large('max_file_bytes', lim, sz, format('the file is %s bytes', sz));
	END IF;
	IF EXISTS (SELECT 1 FROM files WHERE project_id = p_project AND path = p_path) THEN
		RETURN runit_err('CONFLICT', 'a file with this path exists', jsonb_build_object('path', p_path));
	END IF;
	SELECT count(*), coalesce(sum(size), 0) INTO n, total FROM files WHERE project_id = p_project;
	lim := runit_setting('max_files_per_project');
	IF n >= lim THEN
		RETURN runit_too_large('max_files_per_project', lim, n + 1,
			format('the project has %s files', n));
	END IF;
	lim := runit_setting('max_project_bytes');
	IF total + sz > lim THEN
		RETURN runit_too_large('max_project_bytes', lim, total + sz,
			format('the project would hold %s bytes', total + sz));
	END IF;
	INSERT INTO files (project_id, path, content, updated_by)
		VALUES (p_project, p_path, p_content, p_user) RETURNING version INTO v;
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', v, 'size', sz));
END $$;

-- Optimistic concurrency: the save applies only on p_base, the version the
-- client edited; otherwise CONFLICT with the current version and content.
-- The replaced content goes to file_versions (the last p_keep are kept).
CREATE FUNCTION runit_file_save(p_user bigint, p_admin boolean, p_project bigint,
				p_path text, p_content text, p_base bigint, p_keep integer DEFAULT 20)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	sz bigint := octet_length(p_content);
	f record;
	lim bigint;
	total bigint;
	v bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	lim := runit_setting('max_file_bytes');
	IF sz > lim THEN
		RETURN runit_too_large('max_file_bytes', lim, sz, format('the file is %s bytes', sz));
	END IF;
	SELECT id, version, content, size, updated_at, updated_by INTO f
		FROM files WHERE project_id = p_project AND path = p_path FOR UPDATE;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	IF f.version <> p_base THEN
		RETURN runit_err('CONFLICT', format('the file is at version %s, not %s', f.version, p_base),
			jsonb_build_object('path', p_path, 'version', f.version, 'content', f.content));
	END IF;
	IF f.content = p_content THEN
		RETURN runit_ok(jsonb_build_object('path', p_path, 'version', f.version,
			'size', f.size, 'unchanged', true));
	END IF;
	SELECT coalesce(sum(size), 0) INTO total FROM files WHERE project_id = p_project;
	lim := runit_setting('max_project_bytes');
	IF total - f.size + sz > lim THEN
		RETURN runit_too_large('max_project_bytes', lim, total - f.size + sz,
			format('the project would hold %s bytes', total - f.size + sz));
	END IF;
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by)
		VALUES (f.id, f.version, f.content, f.updated_at, f.updated_by)
		ON CONFLICT (file_id, version) DO NOTHING;
	UPDATE files SET content = p_content, version = version + 1, updated_at = now(),
		updated_by = p_user WHERE id = f.id RETURNING version INTO v;
	DELETE FROM file_versions WHERE file_id = f.id AND version < v - p_keep;
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', v, 'size', sz));
END $$;

CREATE FUNCTION runit_file_rename(p_user bigint, p_admin boolean, p_project bigint,
				  p_path text, p_new_path text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	v bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT version INTO v FROM files WHERE project_id = p_project AND path = p_path;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	IF p_new_path <> p_path THEN
		IF EXISTS (SELECT 1 FROM files WHERE project_id = p_project AND path = p_new_path) THEN
			RETURN runit_err('CONFLICT', 'a file with the new path exists',
				jsonb_build_object('path', p_new_path));
		END IF;
		UPDATE files SET path = p_new_path, updated_at = now(), updated_by = p_user
			WHERE project_id = p_project AND path = p_path;
		UPDATE projects SET updated_at = now() WHERE id = p_project;
	END IF;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'new_path', p_new_path, 'version', v));
END $$;

CREATE FUNCTION runit_file_delete(p_user bigint, p_admin boolean, p_project bigint, p_path text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	v bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	DELETE FROM files WHERE project_id = p_project AND path = p_path RETURNING version INTO v;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', v));
END $$;

-- ---------------------------------------------------------- environment

-- Readable by the owner, collaborators (editor or viewer) and admins; a
-- public project's visitors get FORBIDDEN.
CREATE FUNCTION runit_env_get(p_user bigint, p_admin boolean, p_project bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	IF runit_access(p_project, p_user, p_admin) = 'public' THEN
		RETURN runit_err('FORBIDDEN', 'only the owner and collaborators see environment variables',
			jsonb_build_object('project', p_project));
	END IF;
	RETURN runit_ok(jsonb_build_object('vars', coalesce((SELECT jsonb_object_agg(name, value
		ORDER BY name) FROM env_vars WHERE project_id = p_project), '{}'::jsonb)));
END $$;

-- p_vars: {NAME: "value" | null}; null deletes. At most p_max variables
-- remain afterwards. Names and values are validated by the server first;
-- the env_vars CHECKs stand behind it.
CREATE FUNCTION runit_env_set(p_user bigint, p_admin boolean, p_project bigint, p_vars jsonb,
			      p_max integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	n bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT count(*) INTO n FROM (
		SELECT name FROM env_vars WHERE project_id = p_project
			AND NOT (p_vars ? name)
		UNION
		SELECT key FROM jsonb_each(p_vars) WHERE jsonb_typeof(value) <> 'null') k;
	IF n > p_max THEN
		RETURN runit_too_large('max_env_vars', p_max, n, format('the project would have %s variables', n));
	END IF;
	DELETE FROM env_vars WHERE project_id = p_project
		AND name IN (SELECT key FROM jsonb_each(p_vars) WHERE jsonb_typeof(value) = 'null');
	INSERT INTO env_vars (project_id, name, value)
		SELECT p_project, key, value #>> '{}' FROM jsonb_each(p_vars)
		WHERE jsonb_typeof(value) = 'string'
		ON CONFLICT (project_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = now();
	RETURN runit_ok(jsonb_build_object('vars', coalesce((SELECT jsonb_object_agg(name, value
		ORDER BY name) FROM env_vars WHERE project_id = p_project), '{}'::jsonb)));
END $$;

-- ------------------------------------------------------------ platforms

-- Make one platform the default (and enabled), clearing the old default in
-- the same transaction (platforms_one_default is not deferrable).
CREATE FUNCTION runit_platform_make_default(p_id bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	UPDATE platforms SET is_default = false, updated_at = now() WHERE is_default AND id <> p_id;
	UPDATE platforms SET is_default = true, enabled = true, updated_at = now() WHERE id = p_id;
END $$;

-- Create (p_id NULL) or update a platform from a validated patch
-- {name, kind, endpoint, options, enabled, is_default}; absent members are
-- unchanged. The default platform cannot be disabled.
CREATE FUNCTION runit_platform_save(p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	cur platforms;
	pid bigint := p_id;
	want_default boolean := (p ->> 'is_default')::boolean;
BEGIN
	IF pid IS NULL THEN
		INSERT INTO platforms (name, kind, endpoint, options, enabled)
			VALUES (p ->> 'name', p ->> 'kind', p ->> 'endpoint',
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
			kind = coalesce(p ->> 'kind', kind),
			endpoint = coalesce(p ->> 'endpoint', endpoint),
			options = coalesce(p -> 'options', options),
			enabled = coalesce((p ->> 'enabled')::boolean, enabled),
			is_default = is_default AND want_default IS NOT FALSE,
			updated_at = now()
			WHERE id = pid;
	END IF;
	IF want_default THEN
		PERFORM runit_platform_make_default(pid);
	END IF;
	RETURN runit_ok((SELECT to_jsonb(x) FROM platforms x WHERE x.id = pid));
END $$;
