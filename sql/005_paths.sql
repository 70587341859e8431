-- 005_paths.sql - paths that cannot collide or deceive (conventions: see
-- 002_projects.sql; the C side is server/base/paths.h).
--
--  * A path cannot be both a file and a folder: "main.sh" and
--    "main.sh/child" cannot both be files of one project (the run's tar
--    could not hold both; every run failed). runit_path_clash() finds the
--    file a new path clashes with. The runit_file_* functions and
--    runit_files_put() check it with the project row locked and answer
--    INVALID_PATH naming both paths; a trigger on files checks it again,
--    for every other writer (project/create from a template, project/fork,
--    raw SQL), and raises SQLSTATE RP001 (server/core/dbcall.h maps it to
--    INVALID_PATH). The trigger locks the project row too (FOR NO KEY
--    UPDATE, as every writer of a project does), so two writers at once,
--    on any server instance, are serialised and exactly one wins.
--  * Paths are stored in Unicode NFC. The server normalises every path it
--    is sent (paths_nfc()); the trigger normalises what other writers
--    store. Existing paths are normalised here, except one whose NFC form
--    is already taken in its project: it keeps its name (not lost: listed
--    and run, but the API, which normalises, reaches its twin; an operator
--    renames it in SQL).
--  * Bidirectional formatting and invisible characters are refused by the
--    file_path domain (NOT VALID: rows stored before stay; every new value
--    is checked). Such a file stored before is listed and run, but the API
--    refuses its path: an operator renames it in SQL.
--
-- Pairs that clash and were stored before this migration stay; the trigger
-- refuses only new ones (either file can still be saved, renamed or
-- deleted, and a rename or a delete is how the owner fixes the project).

ALTER DOMAIN file_path ADD CONSTRAINT file_path_invisible
	CHECK (VALUE !~ '[\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]')
	NOT VALID;

DO $$
DECLARE
	r record;
	n text;
BEGIN
	IF current_setting('server_encoding') <> 'UTF8' THEN
		RETURN; -- normalize() needs UTF8; run-it's databases are UTF8
	END IF;
	FOR r IN SELECT id, project_id, path FROM files WHERE path IS NOT NFC NORMALIZED ORDER BY id
	LOOP
		n := normalize(r.path, NFC);
		IF NOT EXISTS (SELECT 1 FROM files WHERE project_id = r.project_id AND path = n) THEN
			BEGIN
				UPDATE files SET path = n WHERE id = r.id;
			EXCEPTION WHEN check_violation THEN
				NULL; -- the NFC form breaks a rule (length): keep the name
			END;
		END IF;
	END LOOP;
END $$;

-- The path of a file of the project that p_path clashes with: a file that
-- would be a folder of p_path ("a" for "a/b"), or a file under p_path as a
-- folder ("a/b" for "a"). p_except: a file id to leave out (the file being
-- renamed). NULL when there is none. VOLATILE: called after the project
-- row is locked, it must see what was committed while it waited.
CREATE FUNCTION runit_path_clash(p_project bigint, p_path text, p_except bigint DEFAULT NULL)
RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT f.path FROM files f
	WHERE f.project_id = p_project AND f.id IS DISTINCT FROM p_except
		AND (starts_with(f.path, p_path || '/') OR starts_with(p_path, f.path || '/'))
	ORDER BY f.path LIMIT 1
$$;

-- The message for p_path clashing with the file p_clash.
CREATE FUNCTION runit_path_clash_msg(p_path text, p_clash text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN starts_with(p_path, p_clash || '/')
		THEN format('"%s" is a file, so "%s" cannot be a file under it '
			'(a path cannot be both a file and a folder)', p_clash, p_path)
		ELSE format('"%s" is a folder (it holds "%s"), so it cannot be a file '
			'(a path cannot be both a file and a folder)', p_path, p_clash) END
$$;

-- INVALID_PATH for p_path (the request's param p_param) clashing with p_clash.
CREATE FUNCTION runit_path_clash_err(p_param text, p_path text, p_clash text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT runit_err('INVALID_PATH', p_param || ': ' || runit_path_clash_msg(p_path, p_clash),
		jsonb_build_object('param', p_param, 'why', 'a path cannot be both a file and a folder',
			'path', p_path, 'clash', p_clash))
$$;

CREATE FUNCTION runit_files_path_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	clash text;
BEGIN
	IF current_setting('server_encoding') = 'UTF8' THEN
		IF NEW.path IS NOT NFC NORMALIZED THEN
			NEW.path := normalize(NEW.path, NFC);
		END IF;
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.path = OLD.path AND NEW.project_id = OLD.project_id THEN
		RETURN NEW;
	END IF;
	PERFORM 1 FROM projects WHERE id = NEW.project_id FOR NO KEY UPDATE;
	clash := runit_path_clash(NEW.project_id, NEW.path, NEW.id);
	IF clash IS NOT NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'RP001',
			MESSAGE = runit_path_clash_msg(NEW.path, clash),
			DETAIL = format('project %s', NEW.project_id);
	END IF;
	RETURN NEW;
END $$;

CREATE TRIGGER files_path_check BEFORE INSERT OR UPDATE OF path, project_id ON files
	FOR EACH ROW EXECUTE FUNCTION runit_files_path_check();

-- ---------------------------------------------------------------------
-- The writers of 002 and 003, with the clash checked before anything is
-- written (their comments are there; only the clash checks are new).

CREATE OR REPLACE FUNCTION runit_file_create(p_user bigint, p_admin boolean, p_project bigint,
				  p_path text, p_content text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	sz bigint := octet_length(p_content);
	lim bigint;
	n bigint;
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
	IF EXISTS (SELECT 1 FROM files WHERE project_id = p_project AND path = p_path) THEN
		RETURN runit_err('CONFLICT', 'a file with this path exists', jsonb_build_object('path', p_path));
	END IF;
	clash := runit_path_clash(p_project, p_path);
	IF clash IS NOT NULL THEN
		RETURN runit_path_clash_err('path', p_path, clash);
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

-- A save never creates a file; saving a path that clashes with a file
-- (a folder, or under a file) says so instead of NOT_FOUND.
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
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by)
		VALUES (f.id, f.version, f.content, f.updated_at, f.updated_by)
		ON CONFLICT (file_id, version) DO NOTHING;
	UPDATE files SET content = p_content, version = version + 1, updated_at = now(),
		updated_by = p_user WHERE id = f.id RETURNING version INTO v;
	DELETE FROM file_versions WHERE file_id = f.id AND version < v - p_keep;
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'version', v, 'size', sz));
END $$;

-- The renamed file itself is left out of the clash: "a" may become "a/b".
CREATE OR REPLACE FUNCTION runit_file_rename(p_user bigint, p_admin boolean, p_project bigint,
				  p_path text, p_new_path text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	v bigint;
	fid bigint;
	clash text;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT id, version INTO fid, v FROM files WHERE project_id = p_project AND path = p_path;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	IF p_new_path <> p_path THEN
		IF EXISTS (SELECT 1 FROM files WHERE project_id = p_project AND path = p_new_path) THEN
			RETURN runit_err('CONFLICT', 'a file with the new path exists',
				jsonb_build_object('path', p_new_path));
		END IF;
		clash := runit_path_clash(p_project, p_new_path, fid);
		IF clash IS NOT NULL THEN
			RETURN runit_path_clash_err('new_path', p_new_path, clash);
		END IF;
		UPDATE files SET path = p_new_path, updated_at = now(), updated_by = p_user
			WHERE id = fid;
		UPDATE projects SET updated_at = now() WHERE id = p_project;
	END IF;
	RETURN runit_ok(jsonb_build_object('path', p_path, 'new_path', p_new_path, 'version', v));
END $$;

-- The buffers clash with the project's files or with each other: the first
-- pair (by path) is named, param "files".
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
	INSERT INTO file_versions (file_id, version, content, saved_at, saved_by)
		SELECT f.id, f.version, f.content, f.updated_at, f.updated_by
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
	DELETE FROM file_versions v USING files f
		WHERE f.id = v.file_id AND f.project_id = p_project AND v.version < f.version - p_keep;
	IF jsonb_array_length(res) > 0 THEN
		UPDATE projects SET updated_at = now() WHERE id = p_project;
	END IF;
	RETURN runit_ok(jsonb_build_object('files', res));
END $$;
