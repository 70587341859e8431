/*
 * room_relay.c - the rooms of every server instance as one (room_relay.h).
 *
 * Each broadcast made here (file/changed, project/changed, presence/changed,
 * presence/left) goes to the other instances as a NOTIFY on runit_room:
 *
 *   {"i": "<this relay's id>", "p": <project>, "m": "<method>", "x": {params},
 *    "e": <the origin's session id>, "j": true when it just joined,
 *    "t": {"i": "<relay id>", "s": <session id>} for one session only}
 *
 * and each instance delivers the relayed ones to its own members of that
 * room. Session ids in presence events name the instance ("<id>/<session>")
 * so they stay unique. A member that joins is answered by every other
 * instance with one targeted presence/changed per member of its own.
 *
 * Notifications leave in order, through one statement at a time (PostgreSQL
 * delivers them in commit order; several pool connections at once would not
 * keep it): all those waiting, up to BATCH_BYTES of payload, in one
 * transaction, so that a burst of saves costs a few NOTIFY commits, not one
 * each. The batch grows with what waits: the statement waits its turn in the
 * pool behind the saves, and a fixed number a batch (64 until 5 December)
 * fell behind 100 clients saving, whose file/changed were then dropped
 * (docs/decisions.md, "Saves"). The queue is bounded; a NOTIFY payload is
 * under 8000 bytes, so larger events are not relayed (none of today's are
 * near it) and both are counted.
 *
 * The same queue carries the NOTIFY runit_collab of a file/save
 * (room_relay_notify_collab; the save's own transaction does not NOTIFY, since
 * PostgreSQL lets NOTIFYing commits through one at a time, each with its
 * WAL flush: docs/decisions.md, "Saves"). That one is never dropped: when
 * the queue is full it goes at once, on its own.
 */
#include "room_relay.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "presence.h"
#include "room.h"
#include "sess.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHANNEL "runit_room"
#define PAYLOAD_MAX 7900
#define QUEUE_MAX 4096
#define MEMBERS_MAX 256
#define BATCH_BYTES (1 << 20)
/* A NOTIFY's commit writes a commit record; nothing is lost if a crash
 * loses it (notifications do not outlive a restart), so it does not wait
 * for its WAL flush: one fsync less a save, and PostgreSQL's database-wide
 * lock on NOTIFYing commits is held for less (docs/decisions.md, "Saves"). */
#define NO_FLUSH "set_config('synchronous_commit', 'off', true)"

static const char *str(json_t *v)
{
	return json_string_value(v) ? json_string_value(v) : "";
}

struct room_relay {
	struct srv *srv;
	char id[96];
	char **queue; /* payloads waiting, oldest first (a ring) */
	char *chan;   /* each one's channel: 'r' runit_room, 'c' runit_collab */
	size_t head, n;
	int sending;
	int stopped; /* released while a NOTIFY was out: sent() frees it */
};

static void send_next(struct room_relay *r);

static void sent(void *arg, PGresult *res, const char *err)
{
	struct room_relay *r = arg;

	(void)res;
	if (r->stopped) {
		free(r);
		return;
	}
	if (err)
		log_json(LOG_WARN, "cannot relay a room event", json_pack("{s:s}", "error", err));
	r->sending = 0;
	send_next(r);
}

static const char *chan_name(char chan)
{
	return chan == 'c' ? "runit_collab" : CHANNEL;
}

/* The waiting notifications (at least one, up to BATCH_BYTES of payload), in
 * order, as one JSON array of [channel, payload]. */
static char *take_batch(struct room_relay *r)
{
	json_t *arr = json_array();
	char *lit = NULL;
	size_t bytes = 0;

	while (arr && r->n && (!bytes || bytes + strlen(r->queue[r->head]) <= BATCH_BYTES)) {
		char *payload = r->queue[r->head];
		char chan = r->chan[r->head];

		bytes += strlen(payload) + 1;
		r->head = (r->head + 1) % QUEUE_MAX;
		r->n--;
		json_array_append_new(arr, json_pack("[s, s]", chan_name(chan), payload));
		free(payload);
	}
	if (arr)
		lit = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return lit;
}

static void send_next(struct room_relay *r)
{
	const char *p[1];
	char *batch;

	if (r->sending || !r->n)
		return;
	if (!(batch = take_batch(r)))
		return;
	p[0] = batch;
	r->sending = 1;
	if (db_query(r->srv->db,
		     "SELECT " NO_FLUSH ", count(pg_notify(x->>0, x->>1)) FROM (SELECT x FROM "
		     "jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(x, i) ORDER BY i) s",
		     1, p, sent, r))
		r->sending = 0; /* not accepted: the callback will not run */
	free(batch);
}

/* Queue payload (taken) on chan; 0, or -1 when full or too large (then
 * payload is freed). */
static int push(struct room_relay *r, char chan, char *payload)
{
	size_t at = (r->head + r->n) % QUEUE_MAX;

	if (strlen(payload) > PAYLOAD_MAX || r->n == QUEUE_MAX) {
		free(payload);
		return -1;
	}
	r->queue[at] = payload;
	r->chan[at] = chan;
	r->n++;
	send_next(r);
	return 0;
}

static void enqueue(struct room_relay *r, json_t *msg)
{
	char *payload = json_dumps(msg, JSON_COMPACT);

	json_decref(msg);
	if (payload && push(r, 'r', payload))
		metrics.room_relay_dropped_total++;
}

static void sent_alone(void *arg, PGresult *res, const char *err)
{
	(void)arg;
	(void)res;
	if (err)
		log_json(LOG_WARN, "cannot announce a saved file",
			 json_pack("{s:s}", "error", err));
}

void room_relay_notify_collab(struct srv *srv, const char *payload)
{
	struct room_relay *r = srv->relay; /* NULL once released */
	char *copy = r ? strdup(payload) : NULL;
	const char *p[1] = {payload};

	if (copy && !push(r, 'c', copy)) /* push frees it when it refuses */
		return;
	if (db_query(srv->db, "SELECT " NO_FLUSH ", pg_notify('runit_collab', $1)", 1, p,
		     sent_alone, NULL))
		log_json(LOG_WARN, "cannot announce a saved file", NULL);
}

/* room.c's hook: after every broadcast made on this instance. */
static void relay_out(struct srv *srv, long long pid, const char *method, json_t *params,
		      uint64_t except, int joined)
{
	struct room_relay *r = srv->relay;
	json_t *msg = json_pack("{s:s, s:I, s:s, s:O, s:I}", "i", r->id, "p", (json_int_t)pid, "m",
				method, "x", params, "e", (json_int_t)except);

	if (!msg)
		return;
	if (joined)
		json_object_set_new(msg, "j", json_true());
	enqueue(r, msg);
}

/* A presence event's session, named after the instance it lives on. */
static void name_session(json_t *params, const char *origin)
{
	const char *sid = json_string_value(json_object_get(params, "session"));
	char name[160];

	if (!sid)
		return;
	snprintf(name, sizeof(name), "%s/%s", origin, sid);
	json_object_set_new(params, "session", json_string(name));
}

/* Another instance's member joined: tell it about each of ours. */
static void answer_join(struct room_relay *r, long long pid, const char *origin, json_t *e)
{
	uint64_t ids[MEMBERS_MAX];
	size_t n = room_members(r->srv, pid, ids, MEMBERS_MAX);

	for (size_t i = 0; i < n && i < MEMBERS_MAX; i++) {
		struct sess *s = sess_find(r->srv, ids[i]);
		json_t *msg;

		if (!s || s->closing)
			continue;
		msg = json_pack("{s:s, s:I, s:s, s:o, s:{s:s, s:O}}", "i", r->id, "p",
				(json_int_t)pid, "m", "presence/changed", "x",
				presence_about(pid, s), "t", "i", origin, "s", e);
		if (msg)
			enqueue(r, msg);
	}
}

static void relay_in(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	struct room_relay *r = srv->relay; /* NULL once released */
	json_t *msg, *x, *t;
	const char *origin, *method;
	long long pid;

	(void)channel;
	if (!r || !payload) /* reconnected: presence is refreshed by the next events */
		return;
	msg = json_loads(payload, 0, NULL);
	origin = json_string_value(json_object_get(msg, "i"));
	method = json_string_value(json_object_get(msg, "m"));
	x = json_object_get(msg, "x");
	pid = json_integer_value(json_object_get(msg, "p"));
	if (!origin || !method || !json_is_object(x) || pid <= 0 || !strcmp(origin, r->id))
		goto out;
	if (!strncmp(method, "presence/", 9))
		name_session(x, origin);
	t = json_object_get(msg, "t");
	if (t) {
		struct sess *s;
		uint64_t sid = (uint64_t)json_integer_value(json_object_get(t, "s"));

		if (strcmp(str(json_object_get(t, "i")), r->id))
			goto out;
		s = sess_find(r->srv, sid);
		if (s && !s->closing && room_is_member(r->srv, pid, sid))
			sess_notify(s, method, json_incref(x));
		goto out;
	}
	room_deliver(r->srv, pid, method, x);
	if (!strcmp(method, "project/changed") && !strcmp(str(json_object_get(x, "op")), "deleted"))
		room_drop(r->srv, pid);
	if (json_is_true(json_object_get(msg, "j")))
		answer_join(r, pid, origin, json_object_get(msg, "e"));
out:
	json_decref(msg);
}

int room_relay_init(struct srv *srv)
{
	struct room_relay *r = calloc(1, sizeof(*r));

	if (!r || !(r->queue = calloc(QUEUE_MAX, sizeof(*r->queue))) ||
	    !(r->chan = calloc(QUEUE_MAX, 1))) {
		if (r)
			free(r->queue);
		free(r);
		return -1;
	}
	r->srv = srv;
	/* the instance's name, and this process: two starts never share it */
	snprintf(r->id, sizeof(r->id), "%.64s.%x", srv->cfg.instance ? srv->cfg.instance : "run-it",
		 (unsigned)getpid() ^ (unsigned)(srv_now_ms() & 0xffff));
	srv->relay = r;
	room_set_relay(srv, relay_out);
	return db_listen(srv->db, CHANNEL, relay_in, srv);
}

void room_relay_release(struct srv *srv)
{
	struct room_relay *r = srv->relay;

	if (!r)
		return;
	room_set_relay(srv, NULL);
	while (r->n) {
		free(r->queue[r->head]);
		r->head = (r->head + 1) % QUEUE_MAX;
		r->n--;
	}
	free(r->queue);
	free(r->chan);
	srv->relay = NULL;
	if (r->sending)
		r->stopped = 1;
	else
		free(r);
}
