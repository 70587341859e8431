-- 007_disk.sql - what a run may write.
--
-- A run writes only to /workspace and /tmp (the root filesystem is
-- read-only). Each of the two is a RAM filesystem (tmpfs) of at most
-- disk_bytes bytes and disk_inodes files and folders, so a program that
-- writes without end gets ENOSPC, and nothing it writes reaches the host's
-- disk. The pages count against the run's memory limit (memory_bytes, which
-- is also memory+swap): a run whose files and memory together pass it ends
-- with reason oom. A runtime's NULL means the global default, as for the
-- other limits (settings default_disk_bytes, default_disk_inodes).

ALTER TABLE runtimes
	ADD COLUMN disk_bytes bigint CHECK (disk_bytes BETWEEN 1048576 AND 68719476736),
	ADD COLUMN disk_inodes integer CHECK (disk_inodes BETWEEN 256 AND 16777216);

ALTER TABLE settings DROP CONSTRAINT settings_key_check;
ALTER TABLE settings ADD CONSTRAINT settings_key_check CHECK (key IN (
	'max_file_bytes', 'max_files_per_project', 'max_project_bytes',
	'max_projects_per_user', 'max_active_runs_per_user',
	'run_history_per_project', 'signup_enabled', 'global_faq',
	'default_wall_ms', 'default_memory_bytes', 'default_nano_cpus',
	'default_pids', 'default_output_bytes',
	'default_disk_bytes', 'default_disk_inodes',
	'session_max_age_s', 'session_idle_s'));

INSERT INTO settings (key, value) VALUES
	('default_disk_bytes',  '67108864'),
	('default_disk_inodes', '16384')
ON CONFLICT (key) DO NOTHING;
