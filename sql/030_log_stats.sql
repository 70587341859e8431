-- 030_log_stats.sql - autovacuum's analyze of the three largest tables
-- reads a tenth of the rows (issue 16, "Saves"; conventions: see
-- 002_projects.sql).
--
-- collab_updates, file_versions and run_logs are logs: rows go in and out
-- by the thousand a minute under load, and every query reads them by
-- their primary key's prefix (a file's or a run's rows, in order). Their
-- statistics only tell the planner that; yet each analyze sampled 30,000
-- rows (300 x the default target of 100) with their texts. Under 100
-- clients saving, autovacuum analyzes them about once a minute, and one
-- such pass over the saves' tables took the CPU of a 0.3 s stretch in which
-- the saves' median rose from 47-62 to 67-76 ms (docs/decisions.md,
-- "Saves"). Now their columns keep a target of 10 (3,000 rows sampled)
-- and the payloads none (no query filters on a text or a change set).
-- ANALYZE on the bench database: collab_updates 163 -> 26 ms, file_versions
-- 78 -> 20 ms, run_logs 50 -> 13 ms; the plans of their reads (the pull of
-- a file's updates, the history's prune, a run's output) stay index scans.

ALTER TABLE collab_updates ALTER COLUMN changes SET STATISTICS 0,
	ALTER COLUMN file_id SET STATISTICS 10, ALTER COLUMN version SET STATISTICS 10,
	ALTER COLUMN client_id SET STATISTICS 10, ALTER COLUMN user_id SET STATISTICS 10,
	ALTER COLUMN created_at SET STATISTICS 10;
ALTER TABLE file_versions ALTER COLUMN content SET STATISTICS 0,
	ALTER COLUMN file_id SET STATISTICS 10, ALTER COLUMN version SET STATISTICS 10,
	ALTER COLUMN saved_at SET STATISTICS 10, ALTER COLUMN saved_by SET STATISTICS 10,
	ALTER COLUMN replaced_at SET STATISTICS 10, ALTER COLUMN size SET STATISTICS 10;
ALTER TABLE run_logs ALTER COLUMN data SET STATISTICS 0,
	ALTER COLUMN run_id SET STATISTICS 10, ALTER COLUMN seq SET STATISTICS 10,
	ALTER COLUMN stream SET STATISTICS 10, ALTER COLUMN at SET STATISTICS 10;
