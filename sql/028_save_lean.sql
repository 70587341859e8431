-- 028_save_lean.sql - a file/save runs fewer statements (issue 16,
-- "Saves"; conventions: see 002_projects.sql). Same results as before.
--
-- A save ran about 25 statements inside PostgreSQL, each with its executor
-- started and ended: four runit_setting calls, the files row and then the
-- project's total, the files_collab trigger (its EXISTS check, its INSERT,
-- its set_config), runit_versions_prune (two settings, the file's version,
-- the cut, the DELETE), and PERFORMs of set_config around it all. Now:
--
--  * the four settings in one statement, the files row and the project's
--    total in one (the project row is locked first, so no writer of its
--    files can change the total in between);
--  * runit_file_save writes the file's collab_updates row itself, from the
--    texts it holds, before its UPDATE; the trigger is skipped for exactly
--    that file and version (runit.collab_written) and still does the work
--    for every other writer (run/start's buffers, a project restore's
--    creations, deletes, live edits' version changes);
--  * the prune of one file's versions is one statement
--    (runit_file_versions_prune), with the settings the save has read;
--  * set_config as an assignment, which PL/pgSQL evaluates without the
--    executor.
--
-- pgbench, the save alone, 10 KB, the two alternating, four pairs: four
-- clients 1,729-2,658 -> 2,143-2,778 saves/s (higher in all four). Through
-- the server (bench/saves.py, five pairs): 100 clients 990-1,491 ->
-- 1,316-1,641 saves/s, p99 lower in all five (docs/decisions.md, "Saves").

-- Versions of one file past the keep newest earlier ones or older than
-- max_age_s go; p_cur is the file's version (it and newer are not history).
CREATE FUNCTION runit_file_versions_prune(p_file bigint, p_cur bigint, p_keep bigint,
					  p_max_age_s bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM file_versions WHERE file_id = p_file
		AND (version >= p_cur
			OR replaced_at < now() - make_interval(secs => p_max_age_s)
			OR version <= (SELECT w.version FROM file_versions w
				WHERE w.file_id = p_file AND w.version < p_cur
				ORDER BY w.version DESC OFFSET p_keep LIMIT 1));
END $$;

-- 024's runit_versions_prune, its one-file case through the function above.
CREATE OR REPLACE FUNCTION runit_versions_prune(p_project bigint, p_file bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	keep bigint := runit_setting('file_versions_kept');
	cur bigint;
BEGIN
	IF p_file IS NULL THEN
		DELETE FROM file_versions v USING files f
		WHERE f.id = v.file_id
			AND (p_project IS NULL OR f.project_id = p_project)
			AND (NOT runit_version_kept(v.version, f.version, v.replaced_at)
				OR (SELECT count(*) FROM file_versions w WHERE w.file_id = v.file_id
					AND w.version > v.version AND w.version < f.version) >= keep);
		RETURN;
	END IF;
	SELECT version INTO cur FROM files WHERE id = p_file;
	PERFORM runit_file_versions_prune(p_file, cur, keep,
		runit_setting('file_versions_max_age_s'));
END $$;

-- The collab trigger of 025 for updates, skipped for the version a save
-- has written the row of (runit_file_save below); deletes as before.
DROP TRIGGER files_collab ON files;
CREATE TRIGGER files_collab AFTER UPDATE ON files FOR EACH ROW
	WHEN (NEW.version <> OLD.version
		AND current_setting('runit.collab_written', true) IS DISTINCT FROM NEW.id || ' ' || NEW.version)
	EXECUTE FUNCTION runit_collab_file_changed();
CREATE TRIGGER files_collab_gone AFTER DELETE ON files FOR EACH ROW
	EXECUTE FUNCTION runit_collab_file_changed();

-- runit_file_save of 008_history.sql: the same checks in the same order,
-- the same rows written, the same results.
CREATE OR REPLACE FUNCTION runit_file_save(p_user bigint, p_admin boolean, p_project bigint,
				p_path text, p_content text, p_base bigint, p_keep integer DEFAULT 20)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	sz bigint := octet_length(p_content);
	s record;
	f record;
	v bigint;
	clash text;
	said text;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT max(n) FILTER (WHERE key = 'max_file_bytes') AS max_file,
	       max(n) FILTER (WHERE key = 'max_project_bytes') AS max_project,
	       max(n) FILTER (WHERE key = 'file_versions_kept') AS keep,
	       max(n) FILTER (WHERE key = 'file_versions_max_age_s') AS max_age_s
		INTO s
		FROM (SELECT key, (value #>> '{}')::numeric::bigint AS n FROM settings
			WHERE key IN ('max_file_bytes', 'max_project_bytes', 'file_versions_kept',
				      'file_versions_max_age_s')) kv;
	IF sz > s.max_file THEN
		RETURN runit_too_large('max_file_bytes', s.max_file, sz, format('the file is %s bytes', sz));
	END IF;
	SELECT id, version, content, size, updated_at, updated_by,
	       (SELECT coalesce(sum(o.size), 0) FROM files o WHERE o.project_id = p_project) AS total
		INTO f
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
	IF f.total - f.size + sz > s.max_project THEN
		RETURN runit_too_large('max_project_bytes', s.max_project, f.total - f.size + sz,
			format('the project would hold %s bytes', f.total - f.size + sz));
	END IF;
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by, replaced_at)
		VALUES (f.id, f.version, f.content, f.updated_at, f.updated_by, now())
		ON CONFLICT (file_id, version) DO NOTHING;
	v := f.version + 1;
	said := set_config('runit.collab_written', f.id || ' ' || v, true);
	INSERT INTO collab_updates (file_id, version, user_id, changes)
		VALUES (f.id, v, p_user, runit_collab_replace(f.content, p_content))
		ON CONFLICT (file_id, version) DO NOTHING;
	UPDATE files SET content = p_content, version = v, updated_at = now(), updated_by = p_user
		WHERE id = f.id;
	IF current_setting('runit.collab_later', true) = 'on' THEN
		said := set_config('runit.collab_notify', said, true);
	ELSE
		PERFORM pg_notify('runit_collab', said);
	END IF;
	PERFORM runit_file_versions_prune(f.id, v, s.keep, s.max_age_s);
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', v, 'size', sz));
END $$;

-- 025's wrapper for file/save, its set_config calls as assignments.
CREATE OR REPLACE FUNCTION runit_file_save_announce_later(p_user bigint, p_admin boolean,
							   p_project bigint, p_path text,
							   p_content text, p_base bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	res jsonb;
	later text;
BEGIN
	later := set_config('runit.collab_later', 'on', true);
	later := set_config('runit.collab_notify', '', true);
	res := runit_file_save(p_user, p_admin, p_project, p_path, p_content, p_base);
	later := current_setting('runit.collab_notify');
	res := CASE WHEN later <> '' AND res ? 'ok'
		THEN jsonb_set(res, '{ok,collab_notify}', to_jsonb(later)) ELSE res END;
	later := set_config('runit.collab_later', 'off', true);
	RETURN res;
END $$;
