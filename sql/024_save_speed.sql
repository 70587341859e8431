-- 024_save_speed.sql - a file/save costs less of the database (issue 16,
-- "Saves"; conventions: see 002_projects.sql). Same results as before:
--
--  * runit_utf16_len (the length the collab trigger writes into a
--    whole-text ChangeSet, 015_collab.sql) counts an ASCII text without
--    the regular expression: its UTF-16 length is its character count.
--    The expression over 10 KB was a third of a save's time.
--  * runit_versions_prune of one file (every save) finds the oldest
--    version to keep with one index scan, instead of counting the newer
--    versions of each one (a subquery per version, planned on every call
--    as an SQL function). It still keeps the file_versions_kept newest
--    earlier versions younger than file_versions_max_age_s. Pruning a
--    project or every file (an admin's change of those settings) is as in
--    015_collab.sql.
--
-- pgbench, 4 clients saving 10 KB into files of their own: 663 -> 1053
-- saves/s on the 2-core machine of docs/decisions.md ("Saves").

CREATE OR REPLACE FUNCTION runit_utf16_len(p text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN octet_length(p) = char_length(p) THEN char_length(p)::bigint
		ELSE char_length(p)::bigint + regexp_count(p, '[\U00010000-\U0010FFFF]') END
$$;

CREATE OR REPLACE FUNCTION runit_versions_prune(p_project bigint, p_file bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	keep bigint := runit_setting('file_versions_kept');
	oldest timestamptz := now() - make_interval(secs => runit_setting('file_versions_max_age_s'));
	cur bigint;
	cut bigint;
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
	-- the newest earlier version past the keep newest ones: it and older go
	SELECT version INTO cut FROM file_versions WHERE file_id = p_file AND version < cur
		ORDER BY version DESC OFFSET keep LIMIT 1;
	DELETE FROM file_versions WHERE file_id = p_file
		AND (version <= cut OR version >= cur OR replaced_at < oldest);
END $$;
