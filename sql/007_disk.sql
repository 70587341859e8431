-- 007_disk.sql - what a run may write, and the row of a run whose server
-- went away.
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

-- End the runs of an instance that no process of it knows any more (the
-- server was killed, or crashed, during them): p_id one of them, or NULL for
-- all. Each ends with reason error and p_message, and its row is made to
-- agree with its stored log: a run/exit event is stored after the last
-- stored event (exit_code, duration_ms and first_byte_ms null: unknown),
-- last_seq is that event's seq, and output_bytes the bytes of the stored
-- output (stdout and stderr, as stored: UTF-8, capped per run), which is
-- all that is known of it. Returns the ids ended.
CREATE FUNCTION runit_runs_abandon(p_instance text, p_id bigint, p_message text)
RETURNS SETOF bigint LANGUAGE plpgsql AS $$
DECLARE
	r record;
	v_seq bigint;
	v_bytes bigint;
BEGIN
	FOR r IN SELECT id, project_id FROM runs
		WHERE instance = p_instance AND state <> 'finished' AND (p_id IS NULL OR id = p_id)
		ORDER BY id FOR UPDATE
	LOOP
		SELECT coalesce(max(l.seq), 0) + 1,
			coalesce(sum(octet_length(l.data)) FILTER (WHERE l.stream IN ('stdout', 'stderr')), 0)
			INTO v_seq, v_bytes FROM run_logs l WHERE l.run_id = r.id;
		INSERT INTO run_logs (run_id, seq, stream, data) VALUES (r.id, v_seq, 'meta',
			jsonb_build_object('run', r.id, 'seq', v_seq, 'project', r.project_id,
				'reason', 'error', 'exit_code', NULL, 'duration_ms', NULL,
				'first_byte_ms', NULL, 'message', p_message)::text);
		UPDATE runs SET state = 'finished', reason = 'error', exit_code = NULL,
			finished_at = now(), error_message = p_message, last_seq = v_seq,
			output_bytes = v_bytes
			WHERE id = r.id;
		RETURN NEXT r.id;
	END LOOP;
END
$$;
