-- 003_files_put.sql - runit_files_put(): save several files at once without
-- base versions, for run/start's unsaved buffers, with the same access rule,
-- limits and history as file/save (conventions: see 002_projects.sql).
-- A separate migration because 002 was already applied to shared databases
-- (migrations are forward-only).

-- Save several files at once without base versions: run/start's unsaved
-- buffers ({path: content}), which must never be lost. Missing files are
-- created, changed ones replaced (their old content goes to file_versions),
-- identical ones left alone; the limits hold for the result. Returns
-- {"ok": {"files": [{path, version, op: "created" | "saved"}]}} listing the
-- files that changed, for file/changed.
CREATE FUNCTION runit_files_put(p_user bigint, p_admin boolean, p_project bigint,
				p_files jsonb, p_keep integer DEFAULT 20)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	e jsonb := runit_check(p_project, p_user, p_admin, 2, true);
	lim bigint;
	n bigint;
	total bigint;
	big record;
	res jsonb;
BEGIN
	IF e IS NOT NULL THEN
		RETURN e;
	END IF;
	IF jsonb_typeof(p_files) <> 'object' THEN
		RETURN runit_err('INVALID_PARAMS', 'files is an object {path: content}');
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

