-- 006_runs_access.sql - the active-run quota held in the database, the one
-- rule for who sees a project's runs, and a notice to every server instance
-- when access to a project may have shrunk.

-- Insert a run row if the user's quota allows it, else no row. The quota
-- counts active runs in other projects (a run in this project is replaced,
-- and the one_active_run index holds that rule). A transaction-level
-- advisory lock per user makes parallel starts, on any number of server
-- instances, take turns: each counts after the one before it committed.
-- Returns (id, active, lim): id NULL when the quota is reached.
CREATE FUNCTION runit_run_insert(p_user bigint, p_project bigint, p_runtime bigint,
	p_platform bigint, p_instance text, p_snapshot jsonb)
RETURNS TABLE (id bigint, active bigint, lim bigint) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	n bigint;
	q bigint;
	rid bigint;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('runit_run_quota', p_user));
	SELECT count(*) INTO n FROM runs r
		WHERE r.user_id = p_user AND r.state <> 'finished' AND r.project_id <> p_project;
	SELECT coalesce(u.max_active_runs, runit_setting('max_active_runs_per_user')) INTO q
		FROM users u WHERE u.id = p_user;
	IF n >= q THEN
		RETURN QUERY SELECT NULL::bigint, n, q;
		RETURN;
	END IF;
	INSERT INTO runs (user_id, project_id, runtime_id, platform_id, instance, code_snapshot)
		VALUES (p_user, p_project, p_runtime, p_platform, p_instance, p_snapshot)
		RETURNING runs.id INTO rid;
	RETURN QUERY SELECT rid, n, q;
END
$$;

-- Who sees a project's runs, live (run/log, run/status, run/exit) and stored
-- (run/attach, run/logs, run/get, run/history): those who may read its
-- environment variables, whose values a program may print. The owner,
-- admins, editors and viewers; not a public project's visitors, not a
-- collaborator who was removed (not even for runs they started).
CREATE FUNCTION runit_sees_runs(p_project bigint, p_user bigint, p_admin boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT coalesce(runit_access(p_project, p_user, p_admin) IN ('owner', 'admin', 'editor', 'viewer'),
		false)
$$;

-- Access to a project may have shrunk (a member removed or demoted, the
-- project made private, handed over or deleted): tell every instance, which
-- checks again the sessions that watch it (access_watch.c). On commit only,
-- and once per project per transaction.
CREATE FUNCTION runit_access_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'project_members' THEN
		PERFORM pg_notify('runit_access', OLD.project_id::text);
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM pg_notify('runit_access', OLD.id::text);
	ELSIF OLD.is_public IS DISTINCT FROM NEW.is_public OR OLD.owner_id IS DISTINCT FROM NEW.owner_id THEN
		PERFORM pg_notify('runit_access', NEW.id::text);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER project_members_access AFTER DELETE OR UPDATE OF role ON project_members
	FOR EACH ROW EXECUTE FUNCTION runit_access_notify();
CREATE TRIGGER projects_access AFTER DELETE OR UPDATE OF is_public, owner_id ON projects
	FOR EACH ROW EXECUTE FUNCTION runit_access_notify();
