-- 031_save_many.sql - several file/saves in one statement and one
-- transaction (issue 16, "Saves"; conventions: see 002_projects.sql).
--
-- Under 100 clients saving, the eight pool connections spent about half
-- their time waiting for their commit's WAL flush (pg_stat_activity
-- sampled: WALWrite and WALSync) and a third waiting for the server, and
-- 100 clients got no more saves a second than pgbench's eight (about 1,300
-- here). pgbench, eight clients, each saving ten files of its own: one save
-- a transaction 1,281-1,362 saves/s, ten a statement 2,950-3,200. The
-- server (core/dbbatch.c) sends the file/saves that wait for the database
-- together through this function; a save alone still goes through
-- runit_file_save_announce_later.
--
-- p_saves: [[user, admin, project, path, content, base_version], ...], the
-- parameters of runit_file_save_announce_later as JSON strings. Answers:
-- a jsonb array, one answer a save in the order given, each what
-- runit_file_save_announce_later returns. The saves run in the order of
-- (project, path), the order every writer locks in (project row, then its
-- file), so two such statements never wait for each other in a circle; two
-- saves of one file in one statement run in the order given, the second
-- then finding the version the first wrote (CONFLICT, as one after the
-- other would). A statement failure (an error raised, not answered) fails
-- them all; the server then sends each alone.
CREATE FUNCTION runit_file_save_many(p_saves jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	s record;
	res jsonb[] := array_fill(NULL::jsonb, ARRAY[jsonb_array_length(p_saves)]);
BEGIN
	FOR s IN SELECT x, i FROM jsonb_array_elements(p_saves) WITH ORDINALITY AS t(x, i)
		 ORDER BY (x->>2)::bigint, x->>3, i LOOP
		res[s.i] := runit_file_save_announce_later((s.x->>0)::bigint, (s.x->>1)::boolean,
			(s.x->>2)::bigint, s.x->>3, s.x->>4, (s.x->>5)::bigint);
	END LOOP;
	RETURN to_jsonb(res);
END $$;
