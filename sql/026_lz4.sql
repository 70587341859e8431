-- 026_lz4.sql - the texts a save writes are compressed with lz4, not pglz
-- (issue 16, "Saves"; conventions: see 002_projects.sql).
--
-- A file/save of 10 KB writes its text three times (files.content, the
-- replaced text in file_versions.content, the ChangeSet in
-- collab_updates.changes), and PostgreSQL compresses each value over 2 KB
-- before it is stored. pglz, the default, costs several times lz4's CPU for
-- about the same size on source code. bench/saves.py, alternating the two
-- (default_toast_compression) over two runs each: one client 601-615 ->
-- 700-731 saves/s, 100 clients 1,229-1,324 -> 1,376-1,396 saves/s, their
-- p99 93-99 -> 83-86 ms. A run's stored output (run_logs.data) takes the
-- same path. Values already stored keep pglz: both are read alike.
--
-- A PostgreSQL built without lz4 keeps pglz: nothing else changes.

DO $$
BEGIN
	ALTER TABLE files ALTER COLUMN content SET COMPRESSION lz4;
	ALTER TABLE file_versions ALTER COLUMN content SET COMPRESSION lz4;
	ALTER TABLE collab_updates ALTER COLUMN changes SET COMPRESSION lz4;
	ALTER TABLE run_logs ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
	RAISE NOTICE 'lz4 is not available in this PostgreSQL: texts stay pglz';
END $$;
