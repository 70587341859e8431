/*
 * collab_file.c - the files open for live co-editing (collab_int.h): each
 * one's text, version, last updates and members, and sending to members.
 * collab.c answers the methods and talks to the database.
 */
#include "collab_int.h"
#include "metrics.h"
#include "changeset.h"
#include "room.h"
#include "sess.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct co_file *co_file_find(struct srv *srv, long long id)
{
	for (struct co_file *f = srv->collab ? srv->collab->files : NULL; f; f = f->next)
		if (f->id == id)
			return f;
	return NULL;
}

struct co_file *co_file_new(struct srv *srv, long long id, long long project, const char *path,
			    long long version, const char *text, size_t len)
{
	struct co_file *f = calloc(1, sizeof(*f));

	if (!f || !(f->text = malloc(len + 1))) {
		free(f);
		return NULL;
	}
	memcpy(f->text, text, len);
	f->text[len] = '\0';
	f->len = len;
	f->srv = srv;
	f->id = id;
	f->project = project;
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->version = version;
	f->next = srv->collab->files;
	srv->collab->files = f;
	srv->collab->nfiles++;
	return f;
}

static void upd_forget(struct co_file *f, struct co_upd *u)
{
	f->ring_weight -= u->weight;
	f->srv->collab->ring_weight -= u->weight;
	metrics.collab_updates_bytes = (long long)f->srv->collab->ring_weight;
	u->weight = 0;
	json_decref(u->changes);
	u->changes = NULL;
	free(u->whole);
	u->whole = NULL;
}

/* The oldest updates go (the newest too, if it alone is over) until the
 * rest weigh at most keep. */
static void ring_trim(struct co_file *f, size_t keep)
{
	while (f->ring_n && f->ring_weight > keep) {
		upd_forget(f, &f->ring[(f->version - (long long)f->ring_n + 1) % COLLAB_RING]);
		f->ring_n--;
	}
}

static void ring_clear(struct co_file *f)
{
	for (size_t i = 0; i < COLLAB_RING; i++)
		upd_forget(f, &f->ring[i]);
	f->ring_n = 0;
}

/*
 * About the memory a ChangeSet takes in jansson: each value's node and
 * allocation (64 bytes, roughly) and a string's bytes. A save's update
 * replaces the whole text, one string a line: 256 KB of empty lines is
 * 262,144 strings, some 20 MB, where 256 such updates kept (COLLAB_RING)
 * took gigabytes. The bound keeps fewer updates instead; a client further
 * behind gets the whole text, which is no larger than those updates.
 */
static size_t weight(json_t *j, int depth)
{
	size_t w = 64, i;
	json_t *v;

	if (json_is_string(j))
		return w + json_string_length(j);
	if (json_is_array(j) && depth < 4) {
		json_array_foreach(j, i, v) w += weight(v, depth + 1);
	}
	return w;
}

static void file_free(struct co_file *f)
{
	f->srv->collab->nfiles--;
	ring_clear(f);
	free(f->members);
	free(f->text);
	free(f);
}

void co_file_maybe_free(struct co_file *f)
{
	struct co_file **pp;

	if (f->n || f->busy || f->q_head)
		return;
	for (pp = &f->srv->collab->files; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	file_free(f);
}

void co_file_free_all(struct srv *srv)
{
	while (srv->collab->files) {
		struct co_file *f = srv->collab->files;

		srv->collab->files = f->next;
		file_free(f);
	}
}

static void send_one(struct srv *srv, uint64_t sid, struct sess_frame *f)
{
	struct sess *s = sess_find(srv, sid);

	if (s && !s->closing)
		sess_send_shared(s, f);
}

/* 1 when the session may still follow the file: open, and in the room
 * (access_watch.c takes a session that lost access out of it at once). */
static int may_follow(struct co_file *f, uint64_t sid)
{
	struct sess *s = sess_find(f->srv, sid);

	return s && !s->closing && room_is_member(f->srv, f->project, sid);
}

static void member_drop(struct co_file *f, size_t i)
{
	f->members[i] = f->members[--f->n];
}

/* Tell the members that sid's cursor is gone. */
static void tell_left(struct co_file *f, uint64_t sid)
{
	json_t *note = json_pack("{s:I, s:I, s:b}", "file", (json_int_t)f->id, "session",
				 (json_int_t)sid, "left", 1);

	if (note)
		co_file_send(f, "collab/cursor", note, 0);
	json_decref(note);
}

/* Remove the members that may no longer follow the file, then tell the
 * others (at most 16 at a time are told; the rest just go). */
static void prune(struct co_file *f)
{
	uint64_t gone[16];
	size_t ngone = 0, i = 0;

	while (i < f->n) {
		if (may_follow(f, f->members[i].sess)) {
			i++;
			continue;
		}
		if (ngone < 16)
			gone[ngone++] = f->members[i].sess;
		member_drop(f, i);
	}
	for (i = 0; i < ngone; i++)
		tell_left(f, gone[i]);
}

/* sf (taken) to every member but except. */
static void send_frame(struct co_file *f, struct sess_frame *sf, uint64_t except)
{
	prune(f);
	/* each version starts with another member: whoever hears first pushes
	 * first, and under load the first would always win */
	for (size_t k = 0, i = f->n ? (size_t)f->version % f->n : 0; k < f->n; k++) {
		if (f->members[i].sess != except)
			send_one(f->srv, f->members[i].sess, sf);
		i = i + 1 == f->n ? 0 : i + 1;
	}
	sess_frame_unref(sf);
}

void co_file_send(struct co_file *f, const char *method, json_t *params, uint64_t except)
{
	struct sess_frame *sf = sess_frame_notify(method, params);

	if (sf) /* one frame for every member: a save's update is the whole text */
		send_frame(f, sf, except);
}

struct co_member *co_member(struct co_file *f, uint64_t sid)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->members[i].sess != sid)
			continue;
		if (may_follow(f, sid))
			return &f->members[i];
		co_member_remove(f, sid);
		return NULL;
	}
	return NULL;
}

struct co_member *co_member_add(struct co_file *f, uint64_t sid)
{
	struct co_member *m;

	for (size_t i = 0; i < f->n; i++)
		if (f->members[i].sess == sid)
			return &f->members[i];
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		struct co_member *nm = realloc(f->members, cap * sizeof(*nm));

		if (!nm)
			return NULL;
		f->members = nm;
		f->cap = cap;
	}
	m = &f->members[f->n++];
	memset(m, 0, sizeof(*m));
	m->sess = sid; /* and a full bucket */
	return m;
}

void co_member_remove(struct co_file *f, uint64_t sid)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->members[i].sess != sid)
			continue;
		member_drop(f, i);
		tell_left(f, sid);
		return;
	}
}

int co_member_spend(struct co_member *m)
{
	return bucket_take(&m->rate, COLLAB_RATE, COLLAB_BURST, srv_now_ms());
}

/* [[old_len, line, line...]]: the text's lines as string_to_array(text,
 * E'\n') makes them, the ChangeSet every save writes. */
static json_t *replace_json(long long old_len, const char *text, size_t len)
{
	json_t *sec = json_array(), *all = json_array();
	size_t at = 0;

	json_array_append_new(sec, json_integer(old_len));
	while (len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;

		json_array_append_new(sec, json_stringn(text + at, end - at));
		if (!nl)
			break;
		at = end + 1;
	}
	json_array_append_new(all, sec);
	return all;
}

static json_t *upd_json(const struct co_upd *u)
{
	json_t *changes =
	    u->changes ? json_incref(u->changes) : replace_json(u->old_len, u->whole, u->whole_len);

	return json_pack("{s:I, s:s, s:I, s:o}", "version", (json_int_t)u->version, "client",
			 u->client, "user", (json_int_t)u->user, "changes", changes);
}

/* f is at the next version, text (stolen), made by changes (stolen; NULL:
 * the whole text replaced): kept in the ring. */
static struct co_upd *step(struct co_file *f, char *text, size_t len, const char *client,
			   long long user, json_t *changes)
{
	struct co_upd *u;

	free(f->text);
	f->text = text;
	f->len = len;
	f->version++;
	u = &f->ring[f->version % COLLAB_RING];
	upd_forget(f, u);
	u->version = f->version;
	snprintf(u->client, sizeof(u->client), "%s", client ? client : "");
	u->user = user;
	u->changes = changes;
	u->weight = changes ? weight(changes, 0) : 0;
	f->ring_weight += u->weight;
	f->srv->collab->ring_weight += u->weight;
	if (f->ring_n < COLLAB_RING)
		f->ring_n++;
	return u;
}

static void keep_within_budget(struct co_file *f)
{
	struct collab *c = f->srv->collab;
	size_t budget = (size_t)f->srv->cfg.collab_memory, share;

	/* a file keeps COLLAB_RING_WEIGHT at most, and its share of
	 * RUNIT_COLLAB_MEMORY among the open files; when there are more files
	 * than when the others were written, they are brought to it too. A
	 * client behind what is kept gets the whole text: this is a cache. */
	share = budget / (c->nfiles ? c->nfiles : 1);
	if (share > COLLAB_RING_WEIGHT)
		share = COLLAB_RING_WEIGHT;
	ring_trim(f, share);
	if (c->ring_weight > budget)
		for (struct co_file *g = c->files; g; g = g->next)
			ring_trim(g, share);
	metrics.collab_updates_bytes = (long long)c->ring_weight;
}

void co_file_advance(struct co_file *f, char *text, size_t len, const char *client, long long user,
		     json_t *changes)
{
	struct co_upd *u = step(f, text, len, client, user, changes);
	json_t *note = upd_json(u);

	if (note && !json_object_set_new(note, "file", json_integer(f->id)))
		co_file_send(f, "collab/update", note, 0);
	json_decref(note);
	keep_within_budget(f);
}

void co_file_replace(struct co_file *f, char *text, size_t len, long long old_len,
		     const char *client, long long user)
{
	struct co_upd *u = step(f, text, len, client, user, NULL);
	size_t flen, lines = 1;
	char *frame = proto_notify_collab_replace(f->id, u->version, u->client, user, old_len,
						  f->text, f->len, &flen);
	struct sess_frame *sf = frame ? sess_frame_new(frame, flen) : NULL;

	free(frame);
	if (sf)
		send_frame(f, sf, 0);
	/* kept as text, weighed as its ChangeSet would be in jansson */
	for (size_t i = 0; i < len; i++)
		lines += f->text[i] == '\n';
	if ((u->whole = malloc(len ? len : 1))) {
		memcpy(u->whole, f->text, len);
		u->whole_len = len;
		u->old_len = old_len;
		u->weight = 64 * (lines + 2) + len;
		f->ring_weight += u->weight;
		f->srv->collab->ring_weight += u->weight;
	}
	keep_within_budget(f);
}

void co_file_reset(struct co_file *f, long long version, const char *text, size_t len)
{
	char *t = malloc(len + 1);
	json_t *note;

	if (!t)
		return;
	memcpy(t, text, len);
	t[len] = '\0';
	free(f->text);
	f->text = t;
	f->len = len;
	f->version = version;
	ring_clear(f);
	note = json_pack("{s:I, s:I, s:b, s:s%}", "file", (json_int_t)f->id, "version",
			 (json_int_t)version, "reset", 1, "content", text, len);
	if (note)
		co_file_send(f, "collab/update", note, 0);
	json_decref(note);
}

json_t *co_file_since(struct co_file *f, long long version)
{
	json_t *arr;

	if (version > f->version || version < f->version - (long long)f->ring_n)
		return NULL;
	for (long long v = version + 1; v <= f->version; v++)
		if (!f->ring[v % COLLAB_RING].changes && !f->ring[v % COLLAB_RING].whole)
			return NULL; /* out of memory when it was kept */
	if (!(arr = json_array()))
		return NULL;
	for (long long v = version + 1; v <= f->version; v++)
		json_array_append_new(arr, upd_json(&f->ring[v % COLLAB_RING]));
	return arr;
}
