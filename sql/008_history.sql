-- 008_history.sql - a file's versions, readable and restorable, and a
-- project restored to the code of a past run (conventions: see
-- 002_projects.sql; the C side is server/handlers/h_history.c).
--
--  * How many versions of a file are kept, and for how long, are settings
--    that admins change: file_versions_kept (the earlier versions kept
--    besides the current one; default 20, as 002 kept) and
--    file_versions_max_age_s (an earlier version goes once it has not been
--    current for that long; default 365 days). The current version is
--    always kept. A version past either limit is
--    never shown (runit_version_kept), whether or not it has been deleted
--    yet: it is deleted at the file's next write (every writer calls
--    runit_versions_prune) and, for every file, when an admin changes
--    either setting (a trigger).
--  * file_versions.replaced_at: when the version stopped being current,
--    which is what the age limit counts from (a file untouched for a year
--    keeps, after its next save, the version that was current until then).
--  * A restore is a save: a new version with the old content, through
--    runit_file_save (access, base version, limits, history, pruning), so
--    nothing is overwritten and the content replaced stays in the history.
--    A project restored to a run's snapshot checks the client's view of
--    the project (every path with its version) against the project, in
--    the transaction that writes, as file/save checks base_version.

ALTER TABLE file_versions
	ADD COLUMN replaced_at timestamptz,
	ADD COLUMN size integer GENERATED ALWAYS AS (octet_length(content)) STORED;

UPDATE file_versions v SET replaced_at = coalesce(
	(SELECT n.saved_at FROM file_versions n WHERE n.file_id = v.file_id AND n.version = v.version + 1),
	(SELECT f.updated_at FROM files f WHERE f.id = v.file_id AND f.version = v.version + 1),
	now());
ALTER TABLE file_versions ALTER COLUMN replaced_at SET DEFAULT now(),
	ALTER COLUMN replaced_at SET NOT NULL;
CREATE INDEX file_versions_by_replaced ON file_versions (replaced_at);

-- The two settings. The allowed keys are rebuilt from the keys present
-- (every key has its row), so that another migration's keys stay allowed
-- whichever order two branches' migrations were written in.
ALTER TABLE settings DROP CONSTRAINT settings_key_check;
INSERT INTO settings (key, value) VALUES
	('file_versions_kept',      '20'),
	('file_versions_max_age_s', '31536000')
ON CONFLICT (key) DO NOTHING;
DO $$
BEGIN
	EXECUTE format('ALTER TABLE settings ADD CONSTRAINT settings_key_check CHECK (key IN (%s))',
		(SELECT string_agg(quote_literal(key), ', ' ORDER BY key) FROM settings));
END $$;

-- ----------------------------------------------------------- helpers

-- Whether the earlier version p_version (replaced at p_replaced) of a file
-- now at p_current is still kept under the settings.
CREATE FUNCTION runit_version_kept(p_version bigint, p_current bigint, p_replaced timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT p_version >= p_current - runit_setting('file_versions_kept')
		AND p_replaced >= now() - make_interval(secs => runit_setting('file_versions_max_age_s'))
$$;

-- Delete the earlier versions no longer kept: of one file (p_file), of
-- one project's files (p_project), or of every file (both NULL).
CREATE FUNCTION runit_versions_prune(p_project bigint, p_file bigint) RETURNS void
LANGUAGE sql AS $$
	DELETE FROM file_versions v USING files f
	WHERE f.id = v.file_id
		AND (p_file IS NULL OR f.id = p_file)
		AND (p_project IS NULL OR f.project_id = p_project)
		AND NOT runit_version_kept(v.version, f.version, v.replaced_at)
$$;

CREATE FUNCTION runit_versions_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM runit_versions_prune(NULL, NULL);
	RETURN NULL;
END $$;
CREATE TRIGGER settings_versions_prune AFTER UPDATE ON settings
	FOR EACH ROW WHEN (NEW.key IN ('file_versions_kept', 'file_versions_max_age_s')
		AND OLD.value IS DISTINCT FROM NEW.value)
	EXECUTE FUNCTION runit_versions_settings_changed();

-- {id, username} of a user, or null.
CREATE FUNCTION runit_user_ref(p_user bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'username', u.username) FROM users u WHERE u.id = p_user
$$;

-- Like runit_check(.., 1, ..), and a public project's visitors are refused
-- too: a file's earlier versions and the runs' snapshots may hold what the
-- owner removed before making the project public (the rule of run/get).
CREATE FUNCTION runit_check_history(p_project bigint, p_user bigint, p_admin boolean,
				    p_need integer, p_lock boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, p_need, p_lock);
BEGIN
	IF e IS NULL AND runit_access(p_project, p_user, p_admin) = 'public' THEN
		RETURN runit_err('FORBIDDEN', 'only the owner and collaborators see earlier versions',
			jsonb_build_object('project', p_project, 'access', 'public'));
	END IF;
	RETURN e;
END $$;

-- ----------------------------------------------------- reading history

-- A file's versions, newest first: the current one, then the earlier ones
-- still kept, p_limit at a time, those below p_before (NULL: from the
-- newest). next: the p_before of the next page, or null at the end.
CREATE FUNCTION runit_file_history(p_user bigint, p_admin boolean, p_project bigint, p_path text,
				   p_before bigint, p_limit integer)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check_history(p_project, p_user, p_admin, 1, false);
	f record;
	page jsonb;
	more boolean;
	last_v bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT id, version, size, updated_at, updated_by INTO f
		FROM files WHERE project_id = p_project AND path = p_path;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	WITH vs AS (
		SELECT f.version AS version, f.updated_at AS saved_at, f.size AS size,
			f.updated_by AS who, true AS is_cur
		UNION ALL
		SELECT v.version, v.saved_at, v.size, v.saved_by, false
			FROM file_versions v
			WHERE v.file_id = f.id AND v.version < f.version
				AND runit_version_kept(v.version, f.version, v.replaced_at)),
	pg AS (
		SELECT * FROM vs WHERE p_before IS NULL OR version < p_before
		ORDER BY version DESC LIMIT p_limit + 1)
	SELECT coalesce(jsonb_agg(jsonb_build_object('version', version, 'saved_at', saved_at,
			'size', size, 'by', runit_user_ref(who), 'current', is_cur)
			ORDER BY version DESC) FILTER (WHERE rn <= p_limit), '[]'::jsonb),
		count(*) > p_limit,
		min(version) FILTER (WHERE rn <= p_limit)
		INTO page, more, last_v
		FROM (SELECT *, row_number() OVER (ORDER BY version DESC) AS rn FROM pg) x;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', f.version,
		'kept', runit_setting('file_versions_kept'),
		'max_age_s', runit_setting('file_versions_max_age_s'),
		'versions', page, 'next', CASE WHEN more THEN last_v END));
END $$;

-- file/read with a version: the current one (as runit_file_read) or an
-- earlier one still kept.
CREATE FUNCTION runit_file_read_version(p_user bigint, p_admin boolean, p_project bigint,
					p_path text, p_version bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check_history(p_project, p_user, p_admin, 1, false);
	f record;
	v record;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT id, content, size, version, updated_at, updated_by INTO f
		FROM files WHERE project_id = p_project AND path = p_path;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	IF p_version = f.version THEN
		RETURN runit_ok(jsonb_build_object('path', p_path, 'content', f.content, 'size', f.size,
			'version', f.version, 'updated_at', f.updated_at, 'current', true,
			'by', runit_user_ref(f.updated_by)));
	END IF;
	SELECT content, size, saved_at, saved_by INTO v FROM file_versions
		WHERE file_id = f.id AND version = p_version AND version < f.version
			AND runit_version_kept(version, f.version, replaced_at);
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', format('version %s of this file is not kept', p_version),
			jsonb_build_object('path', p_path, 'version', p_version, 'current', f.version));
	END IF;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'content', v.content, 'size', v.size,
		'version', p_version, 'updated_at', v.saved_at, 'current', false,
		'by', runit_user_ref(v.saved_by)));
END $$;

-- ------------------------------------------------------------ writers

-- runit_file_save of 005 with the settings' pruning (p_keep is unused
-- since this migration) and replaced_at recorded.
CREATE OR REPLACE FUNCTION runit_file_save(p_user bigint, p_admin boolean, p_project bigint,
				p_path text, p_content text, p_base bigint, p_keep integer DEFAULT 20)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	sz bigint := octet_length(p_content);
	f record;
	lim bigint;
	total bigint;
	v bigint;
	clash text;
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
		clash := runit_path_clash(p_project, p_path);
		IF clash IS NOT NULL THEN
			RETURN runit_path_clash_err('path', p_path, clash);
		END IF;
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
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by, replaced_at)
		VALUES (f.id, f.version, f.content, f.updated_at, f.updated_by, now())
		ON CONFLICT (file_id, version) DO NOTHING;
	UPDATE files SET content = p_content, version = version + 1, updated_at = now(),
		updated_by = p_user WHERE id = f.id RETURNING version INTO v;
	PERFORM runit_versions_prune(NULL, f.id);
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', v, 'size', sz));
END $$;

-- runit_files_put of 005 with the settings' pruning (p_keep unused).
CREATE OR REPLACE FUNCTION runit_files_put(p_user bigint, p_admin boolean, p_project bigint,
				p_files jsonb, p_keep integer DEFAULT 20)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	lim bigint;
	n bigint;
	total bigint;
	big record;
	bad record;
	res jsonb;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	IF jsonb_typeof(p_files) <> 'object' THEN
		RETURN runit_err('INVALID_PARAMS', 'files is an object {path: content}');
	END IF;
	SELECT k.key AS path, x.path AS clash INTO bad
		FROM jsonb_object_keys(p_files) k(key)
		JOIN (SELECT f.path FROM files f WHERE f.project_id = p_project
			UNION SELECT jsonb_object_keys(p_files)) x(path)
		ON starts_with(k.key, x.path || '/') OR starts_with(x.path, k.key || '/')
		ORDER BY 1, 2 LIMIT 1;
	IF FOUND THEN
		RETURN runit_path_clash_err('files', bad.path, bad.clash);
	END IF;
	lim := runit_setting('max_file_bytes');
	SELECT key, octet_length(value) AS sz INTO big FROM jsonb_each_text(p_files)
		WHERE octet_length(value) > lim LIMIT 1;
	IF FOUND THEN
		RETURN runit_too_large('max_file_bytes', lim, big.sz,
			format('%s is %s bytes', big.key, big.sz));
	END IF;
	SELECT count(*), coalesce(sum(sz), 0) INTO n, total FROM (
		SELECT f.size AS sz FROM files f
			WHERE f.project_id = p_project AND NOT (p_files ? f.path)
		UNION ALL
		SELECT octet_length(value) FROM jsonb_each_text(p_files)) x;
	lim := runit_setting('max_files_per_project');
	IF n > lim THEN
		RETURN runit_too_large('max_files_per_project', lim, n, format('the project would have %s files', n));
	END IF;
	lim := runit_setting('max_project_bytes');
	IF total > lim THEN
		RETURN runit_too_large('max_project_bytes', lim, total,
			format('the project would hold %s bytes', total));
	END IF;
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by, replaced_at)
		SELECT f.id, f.version, f.content, f.updated_at, f.updated_by, now()
		FROM files f JOIN jsonb_each_text(p_files) j ON j.key = f.path
		WHERE f.project_id = p_project AND f.content <> j.value
		ON CONFLICT (file_id, version) DO NOTHING;
	WITH up AS (
		INSERT INTO files (project_id, path, content, updated_by)
			SELECT p_project, key, value, p_user FROM jsonb_each_text(p_files)
			ON CONFLICT (project_id, path) DO UPDATE SET content = EXCLUDED.content,
				version = files.version + 1, updated_at = now(),
				updated_by = EXCLUDED.updated_by
			WHERE files.content IS DISTINCT FROM EXCLUDED.content
			RETURNING path, version, (xmax = 0) AS created)
	SELECT coalesce(jsonb_agg(jsonb_build_object('path', path, 'version', version,
		'op', CASE WHEN created THEN 'created' ELSE 'saved' END) ORDER BY path), '[]'::jsonb)
		INTO res FROM up;
	PERFORM runit_versions_prune(p_project, NULL);
	IF jsonb_array_length(res) > 0 THEN
		UPDATE projects SET updated_at = now() WHERE id = p_project;
	END IF;
	RETURN runit_ok(jsonb_build_object('files', res));
END $$;

-- ----------------------------------------------------------- restoring

-- Restore an earlier version of a file: a save of its content on p_base.
-- Result: file/save's, plus restored_from.
CREATE FUNCTION runit_file_restore(p_user bigint, p_admin boolean, p_project bigint, p_path text,
				   p_version bigint, p_base bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	f record;
	old text;
	res jsonb;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT id, version, content INTO f FROM files
		WHERE project_id = p_project AND path = p_path FOR UPDATE;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	IF f.version <> p_base THEN
		RETURN runit_err('CONFLICT', format('the file is at version %s, not %s', f.version, p_base),
			jsonb_build_object('path', p_path, 'version', f.version, 'content', f.content));
	END IF;
	IF p_version = f.version THEN
		old := f.content;
	ELSE
		SELECT content INTO old FROM file_versions
			WHERE file_id = f.id AND version = p_version AND version < f.version
				AND runit_version_kept(version, f.version, replaced_at);
		IF NOT FOUND THEN
			RETURN runit_err('NOT_FOUND', format('version %s of this file is not kept', p_version),
				jsonb_build_object('path', p_path, 'version', p_version, 'current', f.version));
		END IF;
	END IF;
	res := runit_file_save(p_user, p_admin, p_project, p_path, old, p_base);
	IF res ? 'ok' THEN
		res := jsonb_set(res, '{ok,restored_from}', to_jsonb(p_version));
	END IF;
	RETURN res;
END $$;

-- A project back to the code of one of its runs. p_apply false: what would
-- change, for the client to confirm ({run, added, changed, removed,
-- unchanged, base_versions}). p_apply true: p_base must be the project's
-- files now ({path: version}, every file, as base_versions said), else
-- CONFLICT with the current base_versions; then files not in the snapshot
-- are deleted, changed ones saved (a new version; the replaced content
-- goes to the history), missing ones created, with file/save's limits.
-- Result {run, files: [{path, op, version, size?}], added, changed, removed}.
CREATE FUNCTION runit_project_restore(p_user bigint, p_admin boolean, p_project bigint,
				      p_run bigint, p_base jsonb, p_apply boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check_history(p_project, p_user, p_admin,
		CASE WHEN p_apply THEN 2 ELSE 1 END, p_apply);
	snap jsonb;
	cur jsonb;
	added jsonb;
	changed jsonb;
	removed jsonb;
	same bigint;
	lim bigint;
	n bigint;
	total bigint;
	big record;
	res jsonb;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT code_snapshot INTO snap FROM runs WHERE id = p_run AND project_id = p_project;
	IF snap IS NULL THEN
		RETURN runit_err('NOT_FOUND', 'no such run of this project, or it kept no code',
			jsonb_build_object('run', p_run, 'project', p_project));
	END IF;
	SELECT coalesce(jsonb_object_agg(path, version), '{}'::jsonb) INTO cur
		FROM files WHERE project_id = p_project;
	SELECT coalesce(jsonb_agg(s.key ORDER BY s.key) FILTER (WHERE f.id IS NULL), '[]'::jsonb),
		coalesce(jsonb_agg(s.key ORDER BY s.key) FILTER (WHERE f.content <> s.value), '[]'::jsonb),
		count(*) FILTER (WHERE f.content = s.value)
		INTO added, changed, same
		FROM jsonb_each_text(snap) s
		LEFT JOIN files f ON f.project_id = p_project AND f.path = s.key;
	SELECT coalesce(jsonb_agg(path ORDER BY path), '[]'::jsonb) INTO removed
		FROM files WHERE project_id = p_project AND NOT (snap ? path);
	IF NOT p_apply THEN
		RETURN runit_ok(jsonb_build_object('run', p_run, 'added', added, 'changed', changed,
			'removed', removed, 'unchanged', same, 'base_versions', cur));
	END IF;
	IF p_base IS DISTINCT FROM cur THEN
		RETURN runit_err('CONFLICT', 'the project changed since base_versions was read',
			jsonb_build_object('project', p_project, 'base_versions', cur));
	END IF;
	lim := runit_setting('max_file_bytes');
	SELECT key, octet_length(value) AS sz INTO big FROM jsonb_each_text(snap)
		WHERE octet_length(value) > lim ORDER BY key LIMIT 1;
	IF FOUND THEN
		RETURN runit_too_large('max_file_bytes', lim, big.sz,
			format('%s is %s bytes', big.key, big.sz));
	END IF;
	SELECT count(*), coalesce(sum(octet_length(value)), 0) INTO n, total FROM jsonb_each_text(snap);
	lim := runit_setting('max_files_per_project');
	IF n > lim THEN
		RETURN runit_too_large('max_files_per_project', lim, n,
			format('the project would have %s files', n));
	END IF;
	lim := runit_setting('max_project_bytes');
	IF total > lim THEN
		RETURN runit_too_large('max_project_bytes', lim, total,
			format('the project would hold %s bytes', total));
	END IF;
	WITH del AS (
		DELETE FROM files WHERE project_id = p_project AND NOT (snap ? path)
		RETURNING path, version)
	SELECT coalesce(jsonb_agg(jsonb_build_object('path', path, 'op', 'deleted',
		'version', version)), '[]'::jsonb) INTO res FROM del;
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by, replaced_at)
		SELECT f.id, f.version, f.content, f.updated_at, f.updated_by, now()
		FROM files f JOIN jsonb_each_text(snap) s ON s.key = f.path
		WHERE f.project_id = p_project AND f.content <> s.value
		ON CONFLICT (file_id, version) DO NOTHING;
	WITH up AS (
		INSERT INTO files (project_id, path, content, updated_by)
			SELECT p_project, key, value, p_user FROM jsonb_each_text(snap)
			ON CONFLICT (project_id, path) DO UPDATE SET content = EXCLUDED.content,
				version = files.version + 1, updated_at = now(),
				updated_by = EXCLUDED.updated_by
			WHERE files.content IS DISTINCT FROM EXCLUDED.content
			RETURNING path, version, size, (xmax = 0) AS created)
	SELECT res || coalesce(jsonb_agg(jsonb_build_object('path', path, 'version', version,
		'size', size, 'op', CASE WHEN created THEN 'created' ELSE 'saved' END)), '[]'::jsonb)
		INTO res FROM up;
	PERFORM runit_versions_prune(p_project, NULL);
	IF jsonb_array_length(res) > 0 THEN
		UPDATE projects SET updated_at = now() WHERE id = p_project;
	END IF;
	RETURN runit_ok(jsonb_build_object('run', p_run, 'files', (SELECT coalesce(jsonb_agg(x
		ORDER BY x ->> 'path'), '[]'::jsonb) FROM jsonb_array_elements(res) x),
		'added', added, 'changed', changed, 'removed', removed));
END $$;
