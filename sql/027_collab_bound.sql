-- 027_collab_bound.sql - collab_updates bounded for every writer, in rows
-- and in bytes (conventions: see 002_projects.sql).
--
-- 015 promised the newest 1000 rows of a file, but only a live edit
-- (runit_collab_push) pruned, every 100 versions. Every other writer -
-- file/save above all, also run/start's unsaved buffers and a restore -
-- goes through the files_collab trigger, which adds a whole-text
-- replacement as large as the file and never pruned: a file saved 150,000
-- times kept 150,000 rows, and a user saving a 256 KB file in a loop grew
-- the database by 256 KB a save, past max_project_bytes and the history's
-- file_versions_kept alike. And 1000 whole-text rows of a large file are
-- still 1000 times its size.
--
-- Now a trigger on collab_updates itself prunes the file's rows, whoever
-- wrote them: the newest row always stays; of the rest, only the newest up
-- to 1000 rows in all and up to 4 x max_file_bytes (as stored,
-- pg_column_size) in all. It prunes every 100 versions, and every 10 when
-- the row just written is 8 KB or more as stored (a whole-text row of a
-- larger file, say), so a file's rows there stay under about
-- 4 x max_file_bytes + 10 large rows + 100 small ones. The prune reads
-- every kept row of the file (about 1 ms for 1000): not on every write.
-- A client behind the oldest kept row gets the whole text, as before
-- (collab.c sees the gap and reloads); live editors are a few versions
-- behind at most. Writers of one file hold its files row (FOR UPDATE), so
-- two prunes of a file never meet.

CREATE FUNCTION runit_collab_prune(p_file bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	cap bigint := 4 * runit_setting('max_file_bytes');
	cut bigint;
BEGIN
	SELECT version INTO cut FROM (
		SELECT version, row_number() OVER w AS n, sum(pg_column_size(changes)) OVER w AS bytes
			FROM collab_updates WHERE file_id = p_file
			WINDOW w AS (ORDER BY version DESC)) kept
		WHERE n > 1 AND (n > 1000 OR bytes > cap)
		ORDER BY version DESC LIMIT 1;
	IF cut IS NOT NULL THEN
		DELETE FROM collab_updates WHERE file_id = p_file AND version <= cut;
	END IF;
END $$;

CREATE FUNCTION runit_collab_pruned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.version % 100 = 0 OR pg_column_size(NEW.changes) >= 8192 THEN
		PERFORM runit_collab_prune(NEW.file_id);
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER collab_updates_bound AFTER INSERT ON collab_updates
	FOR EACH ROW WHEN (NEW.version % 10 = 0) EXECUTE FUNCTION runit_collab_pruned();

-- what earlier versions left
DO $$
BEGIN
	PERFORM runit_collab_prune(file_id) FROM (SELECT DISTINCT file_id FROM collab_updates) f;
END $$;
