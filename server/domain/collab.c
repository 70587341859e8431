/*
 * collab.c - live co-editing (collab.h): the methods' domain side, pushes
 * written with compare-and-set (runit_collab_push), and what other writers
 * and instances did read from collab_updates when runit_collab says so.
 * The open files themselves are collab_file.c's.
 *
 * One statement at a time per file (f->busy): a push, a fetch of newer
 * rows, or a reload of the whole text. While one is in flight, pushes
 * wait in the file's queue (COLLAB_QUEUE_MAX); a fetch goes before them,
 * since a push based on a version the database has passed can only fail.
 */
#include "collab.h"
#include "collab_int.h"
#include "access.h"
#include "bus.h"
#include "changeset.h"
#include "db.h"
#include "dbcall.h"
#include "log.h"
#include "room.h"
#include "rpc.h"
#include "sess.h"
#include "settings.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rows read at once: a save's row replaces the whole text, up to three
 * times max_file_bytes as JSON (a line each), and a fetch's rows are all in
 * memory together (500 of those were 400 MB); the rest come in the next */
#define FETCH_MAX 64

static void pump(struct co_file *f);

static void push_free(struct co_push *p)
{
	json_decref(p->changes);
	changeset_free(p->cs);
	free(p->text);
	free(p);
}

/* ------------------------------------------------- other writers' rows */

static void reloaded(void *arg, PGresult *res, const char *err)
{
	struct co_file *f = arg;

	f->busy = 0;
	if (!res) {
		log_json(LOG_WARN, "cannot reload a co-edited file",
			 json_pack("{s:I, s:s}", "file", (json_int_t)f->id, "error", err));
		f->need_fetch = 1; /* next time something happens */
	} else if (PQntuples(res) == 0) {
		f->gone = 1;
	} else {
		co_file_reset(f, strtoll(PQgetvalue(res, 0, 0), NULL, 10), PQgetvalue(res, 0, 1),
			      (size_t)PQgetlength(res, 0, 1));
	}
	pump(f);
}

static void reload(struct co_file *f)
{
	char id[24];
	const char *p[1] = {id};

	snprintf(id, sizeof(id), "%lld", f->id);
	f->busy = 1;
	f->need_fetch = 0;
	if (db_query(f->srv->db, "SELECT version, content FROM files WHERE id = $1::bigint", 1, p,
		     reloaded, f))
		f->busy = 0;
}

/* Apply one row (version, client, user, changes); -1 when it does not
 * follow (a gap, or changes that do not fit the text). */
static int follow(struct co_file *f, PGresult *res, int i)
{
	long long v = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	json_t *changes;
	struct changeset *cs = NULL;
	const char *why = NULL;
	char *text = NULL;
	size_t len = 0;

	if (v <= f->version)
		return 0; /* had it already (our own push) */
	if (v != f->version + 1)
		return -1;
	if (!PQgetisnull(res, i, 4)) { /* the whole text replaced: a save */
		long long old = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		size_t tl = (size_t)PQgetlength(res, i, 5);

		if (old < 0 || (size_t)old != changeset_utf16_len(f->text, f->len) ||
		    !(text = malloc(tl + 1))) {
			log_json(LOG_WARN, "a co-edited file's update does not fit: reloading it",
				 json_pack("{s:I, s:I, s:s}", "file", (json_int_t)f->id, "version",
					   (json_int_t)v, "why", "not the text's length"));
			return -1;
		}
		memcpy(text, PQgetvalue(res, i, 5), tl);
		text[tl] = '\0';
		co_file_replace(f, text, tl, old, PQgetvalue(res, i, 1),
				strtoll(PQgetvalue(res, i, 2), NULL, 10));
		return 0;
	}
	changes = json_loads(PQgetvalue(res, i, 3), 0, NULL);
	if (!changes || changeset_parse(changes, &cs, &why) ||
	    changeset_apply(cs, f->text, f->len, &text, &len, &why)) {
		log_json(LOG_WARN, "a co-edited file's update does not fit: reloading it",
			 json_pack("{s:I, s:I, s:s}", "file", (json_int_t)f->id, "version",
				   (json_int_t)v, "why", why ? why : "not JSON"));
		changeset_free(cs);
		json_decref(changes);
		return -1;
	}
	changeset_free(cs);
	co_file_advance(f, text, len, PQgetvalue(res, i, 1),
			strtoll(PQgetvalue(res, i, 2), NULL, 10), changes);
	return 0;
}

static void fetched(void *arg, PGresult *res, const char *err)
{
	struct co_file *f = arg;
	int n;

	f->busy = 0;
	if (!res) {
		log_json(LOG_WARN, "cannot read a co-edited file's updates",
			 json_pack("{s:I, s:s}", "file", (json_int_t)f->id, "error", err));
		pump(f);
		return;
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		if (follow(f, res, i)) {
			reload(f);
			return;
		}
	}
	if (n == FETCH_MAX)
		f->need_fetch = 1;
	pump(f);
}

static void fetch(struct co_file *f)
{
	char id[24], v[24], lim[24];
	const char *p[3] = {id, v, lim};

	snprintf(id, sizeof(id), "%lld", f->id);
	snprintf(v, sizeof(v), "%lld", f->version);
	snprintf(lim, sizeof(lim), "%d", FETCH_MAX);
	f->busy = 1;
	f->need_fetch = 0;
	/* a gap (rows pruned) shows as a first row past version + 1: reload.
	 * A row that replaces the whole text ([[length, line...]], what every
	 * save writes) comes as the length and the text, put together by the
	 * database: as JSON it is one jansson value a line, and 256 KB of
	 * empty lines held the event loop for tens of milliseconds. */
	if (db_query(f->srv->db,
		     "SELECT version, client_id, coalesce(user_id, 0), "
		     "CASE WHEN NOT w THEN changes::text END, CASE WHEN w THEN changes->0->>0 END, "
		     "CASE WHEN w THEN array_to_string(ARRAY(SELECT l FROM "
		     "jsonb_array_elements_text(changes->0) WITH ORDINALITY AS t(l, n) "
		     "WHERE n > 1 ORDER BY n), E'\\n') END "
		     "FROM (SELECT *, jsonb_typeof(changes) = 'array' AND "
		     "jsonb_array_length(changes) = 1 AND jsonb_typeof(changes->0) = 'array' AND "
		     "jsonb_typeof(changes->0->0) = 'number' AS w FROM collab_updates "
		     "WHERE file_id = $1::bigint AND version > $2::bigint "
		     "ORDER BY version LIMIT $3::int) u ORDER BY version",
		     3, p, fetched, f))
		f->busy = 0;
}

/* ------------------------------------------------------------ pushes */

static void pushed(void *arg, struct rpc_call *c, json_t *ok)
{
	struct co_file *f = arg;
	struct co_push *p = f->writing;

	f->writing = NULL;
	f->busy = 0;
	if (!ok) {
		/* answered already (CONFLICT, FORBIDDEN, ...): perhaps behind */
		f->need_fetch = 1;
	} else {
		long long v = json_integer_value(json_object_get(ok, "version"));

		if (v == f->version + 1) {
			co_file_advance(f, p->text, p->len, p->client, c->user_id,
					json_incref(p->changes));
			p->text = NULL;
		}
		rpc_reply(c, json_pack("{s:I, s:I}", "file", (json_int_t)f->id, "version",
				       (json_int_t)v));
	}
	push_free(p);
	pump(f);
}

static void conflict(struct rpc_call *c, struct co_file *f, long long base)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "the file is at version %lld, not %lld", f->version, base);
	rpc_fail(
	    c, PROTO_R_CONFLICT, msg,
	    json_pack("{s:I, s:I}", "file", (json_int_t)f->id, "version", (json_int_t)f->version));
}

/* Start writing p (the queue's head, taken off it): 0, or -1 when it was
 * answered at once. */
static int write_push(struct co_file *f, struct co_push *p)
{
	struct rpc_call *c = p->c;
	long long max = settings_get(f->srv)->max_file_bytes;
	char uid[24], pid[24], fid[24], base[24], *changes;
	const char *why = NULL, *admin;
	const char *prm[8];

	if (p->base != f->version) {
		conflict(c, f, p->base);
		return -1;
	}
	if (changeset_apply(p->cs, f->text, f->len, &p->text, &p->len, &why)) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, why,
			 json_pack("{s:I, s:I, s:s}", "file", (json_int_t)f->id, "version",
				   (json_int_t)f->version, "why", why));
		return -1;
	}
	if ((long long)p->len > max) {
		rpc_fail(c, PROTO_R_TOO_LARGE, "the file would be larger than max_file_bytes",
			 json_pack("{s:s, s:I, s:I}", "limit", "max_file_bytes", "max",
				   (json_int_t)max, "size", (json_int_t)p->len));
		return -1;
	}
	if (!(changes = json_dumps(p->changes, JSON_COMPACT))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return -1;
	}
	access_params(c->user_id, c->role, uid, &admin);
	snprintf(pid, sizeof(pid), "%lld", f->project);
	snprintf(fid, sizeof(fid), "%lld", f->id);
	snprintf(base, sizeof(base), "%lld", p->base);
	prm[0] = uid;
	prm[1] = admin;
	prm[2] = pid;
	prm[3] = fid;
	prm[4] = base;
	prm[5] = p->client;
	prm[6] = changes;
	prm[7] = p->text;
	f->busy = 1;
	f->writing = p;
	if (dbcall(c,
		   "SELECT runit_collab_push($1::bigint, $2::boolean, $3::bigint, $4::bigint,"
		   " $5::bigint, $6, $7::jsonb, $8)",
		   8, prm, pushed, f)) {
		f->busy = 0;
		f->writing = NULL;
		free(changes);
		return -1; /* c failed with UNAVAILABLE */
	}
	free(changes);
	return 0;
}

/* Next statement for f, if none is in flight. */
static void pump(struct co_file *f)
{
	while (!f->busy && !f->srv->stopping) { /* stopping: collab_release answers the queue */
		struct co_push *p;

		if (f->gone) {
			json_t *note =
			    json_pack("{s:I, s:b}", "file", (json_int_t)f->id, "deleted", 1);

			if (note && f->n)
				co_file_send(f, "collab/update", note, 0);
			json_decref(note);
			f->n = 0; /* nothing more to follow */
			while ((p = f->q_head)) {
				f->q_head = p->next;
				rpc_fail(p->c, PROTO_R_NOT_FOUND, "the file was deleted", NULL);
				push_free(p);
			}
			f->q_tail = NULL;
			f->q_len = 0;
			break;
		}
		if (f->need_fetch) {
			fetch(f);
			continue;
		}
		if (!(p = f->q_head))
			break;
		f->q_head = p->next;
		if (!f->q_head)
			f->q_tail = NULL;
		f->q_len--;
		if (write_push(f, p))
			push_free(p);
	}
	co_file_maybe_free(f);
}

/* ----------------------------------------------------------- methods */

struct join {
	long long have, project;
	uint64_t sess;
};

static void joined(void *arg, struct rpc_call *c, json_t *ok)
{
	struct join *j = arg;
	long long id = json_integer_value(json_object_get(ok, "file"));
	long long v = json_integer_value(json_object_get(ok, "version"));
	json_t *content = json_object_get(ok, "content"), *res, *since = NULL;
	struct co_file *f;

	if (!ok)
		goto out_free;
	f = co_file_find(c->srv, id);
	if (!f && !(f = co_file_new(c->srv, id, j->project,
				    json_string_value(json_object_get(ok, "path")), v,
				    json_string_value(content), json_string_length(content)))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		goto out_free;
	}
	if (v > f->version) /* our copy is behind the database: catch up */
		f->need_fetch = 1;
	if (!co_member_add(f, j->sess)) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		co_file_maybe_free(f);
		goto out_free;
	}
	if (j->have > 0)
		since = co_file_since(f, j->have);
	res = json_pack("{s:I, s:s, s:I, s:b, s:I}", "file", (json_int_t)f->id, "path", f->path,
			"version", (json_int_t)f->version, "may_edit",
			json_is_true(json_object_get(ok, "may_edit")), "session",
			(json_int_t)j->sess);
	if (res && since)
		json_object_set_new(res, "updates", since);
	else if (res)
		json_object_set_new(res, "content", json_stringn(f->text, f->len));
	rpc_reply(c, res);
	pump(f);
out_free:
	free(j);
}

void collab_join(struct rpc_call *c, long long project, const char *path, long long have_version)
{
	struct join *j = calloc(1, sizeof(*j));
	char uid[24], pid[24];
	const char *p[4] = {uid, NULL, pid, path};

	if (!j) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	j->have = have_version;
	j->project = project;
	j->sess = c->sess_id;
	access_params(c->user_id, c->role, uid, &p[1]);
	snprintf(pid, sizeof(pid), "%lld", project);
	if (dbcall(c, "SELECT runit_collab_open($1::bigint, $2::boolean, $3::bigint, $4)", 4, p,
		   joined, j))
		free(j);
}

/* The member c's session is of file, or NULL after failing c; spend: it
 * counts against the member's rate (pushes and cursor moves do). */
static struct co_member *member_of(struct rpc_call *c, long long file, struct co_file **fp,
				   int spend)
{
	struct co_file *f = co_file_find(c->srv, file);
	struct co_member *m = f ? co_member(f, c->sess_id) : NULL;

	if (!m) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "join the file first (collab/join)",
			 json_pack("{s:I}", "file", (json_int_t)file));
		if (f)
			co_file_maybe_free(f);
		return NULL;
	}
	if (spend && co_member_spend(m)) {
		rpc_fail(
		    c, PROTO_R_RATE_LIMITED, "too many updates: slow down",
		    json_pack("{s:I, s:i}", "file", (json_int_t)file, "per_second", COLLAB_RATE));
		return NULL;
	}
	*fp = f;
	return m;
}

void collab_push(struct rpc_call *c, long long file, long long base, const char *client,
		 json_t *changes)
{
	struct co_file *f;
	struct co_push *p;
	const char *why = NULL;

	if (!member_of(c, file, &f, 1))
		return;
	if (f->q_len >= COLLAB_QUEUE_MAX) {
		rpc_fail(c, PROTO_R_RATE_LIMITED, "too many pushes waiting on this file", NULL);
		return;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	if (changeset_parse(changes, &p->cs, &why)) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, why, json_pack("{s:s}", "why", why));
		free(p);
		return;
	}
	p->c = c;
	p->base = base;
	snprintf(p->client, sizeof(p->client), "%s", client);
	p->changes = json_incref(changes);
	if (f->q_tail)
		f->q_tail->next = p;
	else
		f->q_head = p;
	f->q_tail = p;
	f->q_len++;
	pump(f);
}

void collab_pull(struct rpc_call *c, long long file, long long version)
{
	struct co_file *f;
	json_t *since;

	if (!member_of(c, file, &f, 0))
		return;
	since = co_file_since(f, version);
	if (since)
		rpc_reply(c, json_pack("{s:I, s:I, s:o}", "file", (json_int_t)f->id, "version",
				       (json_int_t)f->version, "updates", since));
	else
		rpc_reply(c, json_pack("{s:I, s:I, s:s%}", "file", (json_int_t)f->id, "version",
				       (json_int_t)f->version, "content", f->text, f->len));
}

void collab_cursor(struct rpc_call *c, long long file, long long version, json_t *ranges)
{
	struct sess *s = rpc_sess(c);
	struct co_file *f;
	json_t *note;

	if (!member_of(c, file, &f, 1))
		return;
	note =
	    json_pack("{s:I, s:I, s:I, s:{s:I, s:s}, s:O}", "file", (json_int_t)f->id, "session",
		      (json_int_t)c->sess_id, "version", (json_int_t)version, "user", "id",
		      (json_int_t)c->user_id, "username", s ? s->username : "", "ranges", ranges);
	if (note)
		co_file_send(f, "collab/cursor", note, c->sess_id);
	json_decref(note);
	rpc_reply(c, NULL);
}

void collab_checkpoint(struct rpc_call *c, long long file)
{
	struct co_file *f;
	char uid[24], pid[24], fid[24];
	const char *p[4] = {uid, NULL, pid, fid};

	if (!member_of(c, file, &f, 1))
		return;
	access_params(c->user_id, c->role, uid, &p[1]);
	snprintf(pid, sizeof(pid), "%lld", f->project);
	snprintf(fid, sizeof(fid), "%lld", f->id);
	dbcall(c, "SELECT runit_collab_checkpoint($1::bigint, $2::boolean, $3::bigint, $4::bigint)",
	       4, p, NULL, NULL);
}

void collab_leave(struct rpc_call *c, long long file)
{
	struct co_file *f = co_file_find(c->srv, file);

	if (f) {
		co_member_remove(f, c->sess_id);
		co_file_maybe_free(f);
	}
	rpc_reply(c, NULL);
}

/* --------------------------------------------------------- start, stop */

/* "<file> <version>" from any instance (this one too); version 0: the
 * file was deleted. NULL: the listener reconnected, anything may have
 * been missed. */
static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	long long id = 0, v = 0;
	struct co_file *f;
	char *end;

	(void)channel;
	if (!payload) {
		struct co_file *next;

		for (f = srv->collab->files; f; f = next) {
			next = f->next;
			f->need_fetch = 1;
			pump(f);
		}
		return;
	}
	id = strtoll(payload, &end, 10);
	v = strtoll(end, NULL, 10);
	if (!(f = co_file_find(srv, id)))
		return;
	if (v == 0) {
		f->gone = 1;
	} else if (v > f->version) {
		if (f->writing && v == f->writing->base + 1)
			return; /* our own push, answered soon */
		f->need_fetch = 1;
	}
	pump(f);
}

/* A closed session leaves every file. */
static void on_session(void *arg, const struct bus_event *ev)
{
	struct srv *srv = arg;
	uint64_t sid;
	struct co_file *f, *next;

	if (strcmp(ev->kind, "closed"))
		return;
	sid = (uint64_t)json_integer_value(json_object_get(ev->data, "session"));
	for (f = srv->collab->files; f; f = next) {
		next = f->next;
		co_member_remove(f, sid);
		co_file_maybe_free(f);
	}
}

int collab_init(struct srv *srv)
{
	if (!(srv->collab = calloc(1, sizeof(*srv->collab))))
		return -1;
	srv->collab->srv = srv;
	if (bus_on(srv, "session", on_session, srv) ||
	    db_listen(srv->db, "runit_collab", on_notify, srv))
		return -1;
	return 0;
}

void collab_release(struct srv *srv)
{
	if (!srv->collab)
		return;
	/* pushes still waiting (the database answered every one in flight) */
	for (struct co_file *f = srv->collab->files; f; f = f->next) {
		struct co_push *p;

		while ((p = f->q_head)) {
			f->q_head = p->next;
			rpc_fail(p->c, PROTO_R_UNAVAILABLE, "the server is stopping", NULL);
			push_free(p);
		}
	}
	co_file_free_all(srv);
	free(srv->collab);
	srv->collab = NULL;
}
