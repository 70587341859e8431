-- 018_instances.sql - server instances that are alive, and the ending of the
-- work of one that died (issue 15). Each instance writes its row every few
-- seconds (run_reap.c); an instance whose row is older than the dead time is
-- taken over by the first live instance that notices: its runs end with
-- reason error, its row goes, and the taker removes its containers.

CREATE TABLE instances (
	name       text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),
	process    text NOT NULL CHECK (length(process) BETWEEN 1 AND 64),
	started_at timestamptz NOT NULL DEFAULT now(),
	seen_at    timestamptz NOT NULL DEFAULT now()
);

-- This instance is alive (p_process: the process's token, as on its
-- containers).
CREATE FUNCTION runit_instance_alive(p_name text, p_process text)
RETURNS void LANGUAGE sql AS $$
	INSERT INTO instances (name, process) VALUES (p_name, p_process)
	ON CONFLICT (name) DO UPDATE SET seen_at = now(),
		started_at = CASE WHEN instances.process = EXCLUDED.process
			THEN instances.started_at ELSE now() END,
		process = EXCLUDED.process;
$$;

-- The instances other than p_self silent for more than p_dead_s seconds:
-- each is taken by exactly one caller (SKIP LOCKED), its runs are ended
-- (runit_runs_abandon) and its row deleted. Returns their names and how many
-- runs each had; the caller removes their containers.
CREATE FUNCTION runit_instances_reap(p_self text, p_dead_s integer)
RETURNS TABLE (name text, runs bigint) LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT i.name FROM instances i
		WHERE i.name <> p_self AND i.seen_at < now() - make_interval(secs => p_dead_s)
		ORDER BY i.name FOR UPDATE SKIP LOCKED
	LOOP
		name := r.name;
		SELECT count(*) INTO runs FROM runit_runs_abandon(r.name, NULL,
			'its server instance stopped answering');
		DELETE FROM instances i WHERE i.name = r.name;
		RETURN NEXT;
	END LOOP;
END $$;

-- Every stored run event is announced, so the instances that did not start
-- the run can follow it live (run_follow.c): "<run> <seq> <project>".
CREATE FUNCTION runit_run_logs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('runit_run_log', NEW.run_id || ' ' || NEW.seq || ' ' ||
		(SELECT project_id FROM runs WHERE id = NEW.run_id));
	RETURN NULL;
END $$;
CREATE TRIGGER run_logs_notify AFTER INSERT ON run_logs
	FOR EACH ROW EXECUTE FUNCTION runit_run_logs_notify();
