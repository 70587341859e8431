-- 025_save_cpu.sql - a file/save costs less of the database, and its
-- commit no longer waits in line (issue 16, "Saves"; conventions: see
-- 002_projects.sql). Same results as before.
--
-- 1. runit_setting, runit_access, runit_ok, runit_err and runit_collab_replace
-- were SQL functions that PostgreSQL cannot inline (a FROM, or a body with
-- a STABLE function such as to_jsonb or jsonb_build_object in an IMMUTABLE
-- function): every call, four settings and one access check per save,
-- parsed and planned its body again. As PL/pgSQL functions their plans are
-- kept for the connection. Same bodies, same results.
--
-- pg_stat_user_functions over 5 s of one pgbench client saving 10 KB
-- (track_functions = all): runit_setting 47 -> 7 us a call,
-- runit_access 139 -> 18 us, runit_collab_replace 305 -> 136 us; one client
-- 677 -> 1,080 saves/s, four 1,151 -> 1,523 (docs/decisions.md, "Saves").
--
-- 2. file/save's transaction does not NOTIFY runit_collab itself: a
--    NOTIFYing commit holds a database-wide lock through its WAL flush, so
--    such commits go one at a time. runit_file_save_announce_later has the
--    collab trigger leave the payload in the transaction-local setting
--    runit.collab_notify and returns it as collab_notify; the server sends
--    it right after the commit, with the room events in one batch
--    (server/domain/room_relay.c) - before its answer, so in the order the
--    trigger would have. Every other writer (live edits, restore, run/start's
--    buffers, deletes) still NOTIFYs from the trigger.

CREATE OR REPLACE FUNCTION runit_setting(p_key text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT (value #>> '{}')::numeric::bigint FROM settings WHERE key = p_key);
END $$;

CREATE OR REPLACE FUNCTION runit_err(p_reason text, p_message text, p_data jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_object('error', p_reason, 'message', p_message,
		'data', coalesce(p_data, '{}'::jsonb));
END $$;

CREATE OR REPLACE FUNCTION runit_ok(p_result jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_object('ok', p_result);
END $$;

CREATE OR REPLACE FUNCTION runit_access(p_project bigint, p_user bigint, p_admin boolean)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT CASE
		WHEN p.owner_id = p_user THEN 'owner'
		WHEN p_admin THEN 'admin'
		ELSE coalesce((SELECT m.role FROM project_members m
		               WHERE m.project_id = p.id AND m.user_id = p_user),
		              CASE WHEN p.is_public THEN 'public' END)
	END
	FROM projects p WHERE p.id = p_project);
END $$;

CREATE OR REPLACE FUNCTION runit_collab_replace(p_old text, p_new text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	RETURN jsonb_build_array(jsonb_build_array(runit_utf16_len(p_old))
		|| to_jsonb(string_to_array(p_new, E'\n')));
END $$;

-- The collab trigger of 015_collab.sql; with runit.collab_later on, the
-- announcement is left to the caller (above).
CREATE OR REPLACE FUNCTION runit_collab_file_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
	IF current_setting('runit.collab_later', true) = 'on' THEN
		PERFORM set_config('runit.collab_notify', NEW.id || ' ' || NEW.version, true);
	ELSE
		PERFORM pg_notify('runit_collab', NEW.id || ' ' || NEW.version);
	END IF;
	RETURN NULL;
END $$;

-- file/save: runit_file_save (008_history.sql), with the runit_collab
-- payload in the result as collab_notify for the server to send after the
-- commit (absent when nothing changed or on an error).
CREATE FUNCTION runit_file_save_announce_later(p_user bigint, p_admin boolean, p_project bigint,
					       p_path text, p_content text, p_base bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	res jsonb;
	later text;
BEGIN
	PERFORM set_config('runit.collab_later', 'on', true);
	PERFORM set_config('runit.collab_notify', '', true);
	res := runit_file_save(p_user, p_admin, p_project, p_path, p_content, p_base);
	later := current_setting('runit.collab_notify');
	PERFORM set_config('runit.collab_later', 'off', true);
	IF later <> '' AND res ? 'ok' THEN
		res := jsonb_set(res, '{ok,collab_notify}', to_jsonb(later));
	END IF;
	RETURN res;
END $$;
