-- 015_collab.sql - live co-editing (issue 14; the C side is
-- server/domain/collab.c, the methods server/handlers/h_collab.c;
-- conventions: see 002_projects.sql).
--
--  * files keeps the authoritative text and version. Every change of a
--    file's version, whoever makes it (a live edit, file/save, run/start's
--    unsaved buffers, a restore), is one row of collab_updates: the
--    CodeMirror ChangeSet that turns the previous version into this one
--    (positions in UTF-16 code units). A live edit writes its own row; a
--    trigger writes a whole-text replacement for every other writer. So
--    all writers share one version sequence and any server instance can
--    bring a client from version v to the current one.
--  * A live edit is accepted only on the current version: compare-and-set
--    on files.version with the row locked (runit_collab_push). Two
--    instances that accept pushes at the same time never fork: the second
--    one's CAS fails, it answers CONFLICT and its client rebases.
--  * The trigger NOTIFYs runit_collab with "<file id> <version>" (or
--    "<file id> 0" when the file is deleted) on commit; every instance
--    reads the rows it misses from the table (a NOTIFY payload is limited
--    to 8000 bytes, an update is not).
--  * collab_updates is bounded: the newest 1000 rows of a file are kept
--    (pruned every 100 versions); a client further behind gets the whole
--    text.
--  * History (file_versions) keeps, of live edits, the text that a push
--    replaces when that text had been current for 2 s or more (a pause in
--    the typing) or the file's newest earlier version stopped being
--    current more than 30 s ago, or the IDE's Save asked for it
--    (collab/checkpoint): snapshots at pauses, on Save and at least every
--    half minute of typing, not one per keystroke. Since versions are no longer consecutive in the
--    history, file_versions_kept now counts the earlier versions kept
--    (the newest ones), not version numbers (runit_version_kept and
--    runit_versions_prune of 008 are replaced below).

-- Set by collab/checkpoint (the IDE's Save while editing live): the text
-- of this version goes to the history when a live edit replaces it.
ALTER TABLE files ADD COLUMN collab_keep boolean NOT NULL DEFAULT false;

CREATE TABLE collab_updates (
	file_id    bigint NOT NULL REFERENCES files (id) ON DELETE CASCADE,
	version    bigint NOT NULL CHECK (version >= 2), -- the version this update made
	client_id  text NOT NULL DEFAULT '' CHECK (length(client_id) <= 64),
	user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
	changes    jsonb NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (file_id, version)
);

-- UTF-16 length of a text (JavaScript's string length): characters above
-- U+FFFF count twice.
CREATE FUNCTION runit_utf16_len(p text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT char_length(p)::bigint + regexp_count(p, '[\U00010000-\U0010FFFF]')
$$;

-- The ChangeSet JSON that replaces p_old by p_new as a whole.
CREATE FUNCTION runit_collab_replace(p_old text, p_new text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(jsonb_build_array(runit_utf16_len(p_old))
		|| to_jsonb(string_to_array(p_new, E'\n')))
$$;

-- Every version change of a file gets its update row (a live edit has
-- written its own already) and is announced to every instance.
CREATE FUNCTION runit_collab_file_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('runit_collab', OLD.id || ' 0');
		RETURN NULL;
	END IF;
	IF NEW.version = OLD.version THEN
		RETURN NULL;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM collab_updates WHERE file_id = NEW.id AND version = NEW.version) THEN
		INSERT INTO collab_updates (file_id, version, user_id, changes)
			VALUES (NEW.id, NEW.version, NEW.updated_by,
				runit_collab_replace(OLD.content, NEW.content));
	END IF;
	PERFORM pg_notify('runit_collab', NEW.id || ' ' || NEW.version);
	RETURN NULL;
END $$;
CREATE TRIGGER files_collab AFTER UPDATE OR DELETE ON files
	FOR EACH ROW EXECUTE FUNCTION runit_collab_file_changed();

-- collab/join: the file's id, version and text, and whether the caller
-- may edit it (read access needed).
CREATE FUNCTION runit_collab_open(p_user bigint, p_admin boolean, p_project bigint, p_path text)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 1, false);
	f record;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	SELECT id, version, content INTO f FROM files WHERE project_id = p_project AND path = p_path;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('path', p_path));
	END IF;
	RETURN runit_ok(jsonb_build_object('file', f.id, 'path', p_path, 'version', f.version,
		'content', f.content,
		'may_edit', runit_access_rank(runit_access(p_project, p_user, p_admin)) >= 2));
END $$;

-- One live edit: p_changes (applied by the server to version p_base,
-- giving p_content) becomes version p_base + 1, if the file is still at
-- p_base (else CONFLICT with the current version). Access (editor), the
-- file and project size limits and the history as described above.
-- Result {version, size}.
CREATE FUNCTION runit_collab_push(p_user bigint, p_admin boolean, p_project bigint, p_file bigint,
				  p_base bigint, p_client text, p_changes jsonb, p_content text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	sz bigint := octet_length(p_content);
	f record;
	lim bigint;
	total bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	lim := runit_setting('max_file_bytes');
	IF sz > lim THEN
		RETURN runit_too_large('max_file_bytes', lim, sz, format('the file would be %s bytes', sz));
	END IF;
	SELECT id, version, size, updated_at, updated_by, collab_keep INTO f FROM files
		WHERE id = p_file AND project_id = p_project FOR UPDATE;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('file', p_file));
	END IF;
	IF f.version <> p_base THEN
		RETURN runit_err('CONFLICT', format('the file is at version %s, not %s', f.version, p_base),
			jsonb_build_object('file', p_file, 'version', f.version));
	END IF;
	SELECT coalesce(sum(size), 0) INTO total FROM files WHERE project_id = p_project;
	lim := runit_setting('max_project_bytes');
	IF total - f.size + sz > lim THEN
		RETURN runit_too_large('max_project_bytes', lim, total - f.size + sz,
			format('the project would hold %s bytes', total - f.size + sz));
	END IF;
	IF f.collab_keep OR f.updated_at < now() - interval '2 seconds' OR NOT EXISTS (SELECT 1 FROM file_versions
			WHERE file_id = f.id AND replaced_at > now() - interval '30 seconds') THEN
		INSERT INTO file_versions (file_id, version, content, saved_at, saved_by, replaced_at)
			SELECT id, version, content, updated_at, updated_by, now() FROM files WHERE id = f.id
			ON CONFLICT (file_id, version) DO NOTHING;
	END IF;
	INSERT INTO collab_updates (file_id, version, client_id, user_id, changes)
		VALUES (f.id, p_base + 1, p_client, p_user, p_changes);
	UPDATE files SET content = p_content, version = p_base + 1, updated_at = now(),
		updated_by = p_user, collab_keep = false WHERE id = f.id;
	PERFORM runit_versions_prune(NULL, f.id);
	IF (p_base + 1) % 100 = 0 THEN
		DELETE FROM collab_updates WHERE file_id = f.id AND version <= p_base + 1 - 1000;
	END IF;
	UPDATE projects SET updated_at = now() WHERE id = p_project;
	RETURN runit_ok(jsonb_build_object('version', p_base + 1, 'size', sz));
END $$;

-- collab/checkpoint: keep the file's current text in the history when a
-- live edit replaces it. Result {version}.
CREATE FUNCTION runit_collab_checkpoint(p_user bigint, p_admin boolean, p_project bigint,
					p_file bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	v bigint;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	UPDATE files SET collab_keep = true WHERE id = p_file AND project_id = p_project
		RETURNING version INTO v;
	IF NOT FOUND THEN
		RETURN runit_err('NOT_FOUND', 'no such file', jsonb_build_object('file', p_file));
	END IF;
	RETURN runit_ok(jsonb_build_object('file', p_file, 'version', v));
END $$;

-- file_versions_kept counts kept earlier versions, newest first (see the
-- head of this file); the age limit is as in 008.
CREATE OR REPLACE FUNCTION runit_version_kept(p_version bigint, p_current bigint, p_replaced timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT p_version < p_current
		AND p_replaced >= now() - make_interval(secs => runit_setting('file_versions_max_age_s'))
$$;

CREATE OR REPLACE FUNCTION runit_versions_prune(p_project bigint, p_file bigint) RETURNS void
LANGUAGE sql AS $$
	DELETE FROM file_versions v USING files f
	WHERE f.id = v.file_id
		AND (p_file IS NULL OR f.id = p_file)
		AND (p_project IS NULL OR f.project_id = p_project)
		AND (NOT runit_version_kept(v.version, f.version, v.replaced_at)
			OR (SELECT count(*) FROM file_versions w WHERE w.file_id = v.file_id
				AND w.version > v.version AND w.version < f.version)
				>= runit_setting('file_versions_kept'))
$$;
