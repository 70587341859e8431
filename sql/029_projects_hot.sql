-- 029_projects_hot.sql - a save's touch of its project is a HOT update
-- (issue 16, "Saves"; conventions: see 002_projects.sql).
--
-- Every file/save (and every other write of a file: create, rename,
-- delete, run/start's unsaved buffers) sets projects.updated_at, so that
-- project/list shows the most recently changed first. updated_at was a key
-- of projects_by_owner (owner_id, updated_at DESC), so each of those
-- UPDATEs was not HOT: it wrote a new entry into every index of projects
-- and left a dead one behind in each (bench database: 323,066 updates of
-- projects, none HOT, 19,936 dead rows). No query walked that index in
-- updated_at order: project/list sorts the caller's projects itself (its
-- OR of owner and member was a sequential scan with either index; it now
-- reads the owner's half by this one, h_project.c). projects_by_owner is
-- now on owner_id alone (the owner's lookups, and the foreign key's
-- cascade from users), and the table's pages keep a tenth free, so an
-- UPDATE of updated_at stays in its page.
--
-- bench/saves.py, the two indexes alternating on one database, three pairs:
-- 100 clients 1,680/1,669/1,496 -> 1,811/1,630/1,550 saves/s, p99
-- 90.7/87.4/97.0 -> 79.6/80.8/93.3 ms; 95 % of the updates HOT after.

DROP INDEX projects_by_owner;
CREATE INDEX projects_by_owner ON projects (owner_id);
ALTER TABLE projects SET (fillfactor = 90);
