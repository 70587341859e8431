/*
 * bus_relay.c - the admins' live view of every server instance
 * (bus_relay.h).
 *
 * Each event published on this server's bus goes out as a NOTIFY on
 * runit_admin:
 *
 *   {"i": "<this relay's id>", "n": "<instance name>", "t": topic,
 *    "k": kind, "a": <Unix ms>, "d": {data}}
 *
 * and every other instance hands it to its admin view (admin_view_remote),
 * which numbers it in its own sequence. A relayed event is never published
 * on the receiver's bus: it is not relayed again (no loops), and the other
 * subscribers (rooms, collab) never take another instance's session for
 * one of theirs. An instance skips its own notifications by relay id (no
 * duplicates: the view already showed them from the bus).
 *
 * Not relayed: the session events of the connections themselves (opened,
 * signed_in, closed): sessions, their ids and admin/session/list belong to
 * each instance. Everything else is (runs, platforms, images, users,
 * config, errors, audited actions).
 *
 * Notifications leave one at a time, in order, as in room_relay.c. A
 * NOTIFY payload is under 8000 bytes: an event whose data is larger goes
 * with its scalar members only (strings cut to 256 bytes) and
 * "truncated": true. The queue is bounded; what it drops is counted.
 */
#include "bus_relay.h"
#include "admin_view.h"
#include "bus.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define CHANNEL "runit_admin"
#define PAYLOAD_MAX 7900
#define QUEUE_MAX 4096
#define CUT 256

struct bus_relay {
	struct srv *srv;
	char id[96];
	char **queue; /* payloads waiting, oldest first (a ring) */
	size_t head, n;
	int sending;
	int stopped; /* released while a NOTIFY was out: sent() frees it */
};

static void send_next(struct bus_relay *r);

static void sent(void *arg, PGresult *res, const char *err)
{
	struct bus_relay *r = arg;

	(void)res;
	if (r->stopped) {
		free(r);
		return;
	}
	if (err)
		log_json(LOG_WARN, "cannot relay an admin event", json_pack("{s:s}", "error", err));
	r->sending = 0;
	send_next(r);
}

static void send_next(struct bus_relay *r)
{
	char *payload;
	const char *p[1];

	if (r->sending || !r->n)
		return;
	payload = r->queue[r->head];
	r->head = (r->head + 1) % QUEUE_MAX;
	r->n--;
	p[0] = payload;
	r->sending = 1;
	if (db_query(r->srv->db, "SELECT pg_notify('" CHANNEL "', $1)", 1, p, sent, r))
		r->sending = 0; /* not accepted: the callback will not run */
	free(payload);
}

/* data's scalar members, long strings cut: what fits a NOTIFY. */
static json_t *small(json_t *data)
{
	json_t *out = json_object(), *v;
	const char *k;

	json_object_foreach(data, k, v)
	{
		if (json_is_string(v) && json_string_length(v) > CUT)
			json_object_set_new(out, k, json_stringn(json_string_value(v), CUT));
		else if (!json_is_object(v) && !json_is_array(v))
			json_object_set(out, k, v);
	}
	json_object_set_new(out, "truncated", json_true());
	return out;
}

static int relayed(const struct bus_event *ev)
{
	if (!strcmp(ev->topic, "session"))
		return strcmp(ev->kind, "opened") && strcmp(ev->kind, "signed_in") &&
		       strcmp(ev->kind, "closed");
	return 1;
}

static void on_event(void *arg, const struct bus_event *ev)
{
	struct srv *srv = arg;
	struct bus_relay *r = srv->bus_relay;
	struct timeval tv;
	json_t *msg;
	char *payload;

	if (!r || !relayed(ev))
		return;
	gettimeofday(&tv, NULL);
	msg = json_pack("{s:s, s:s, s:s, s:s, s:I, s:O}", "i", r->id, "n",
			srv->cfg.instance ? srv->cfg.instance : "run-it", "t", ev->topic, "k",
			ev->kind, "a", (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, "d",
			ev->data);
	if (!msg)
		return;
	payload = json_dumps(msg, JSON_COMPACT);
	if (payload && strlen(payload) > PAYLOAD_MAX) {
		free(payload);
		json_object_set_new(msg, "d", small(ev->data));
		payload = json_dumps(msg, JSON_COMPACT);
	}
	json_decref(msg);
	if (!payload)
		return;
	if (strlen(payload) > PAYLOAD_MAX || r->n == QUEUE_MAX) {
		metrics.admin_relay_dropped_total++;
		free(payload);
		return;
	}
	r->queue[(r->head + r->n) % QUEUE_MAX] = payload;
	r->n++;
	send_next(r);
}

static void relay_in(void *arg, const char *channel, const char *payload)
{
	struct srv *srv = arg;
	struct bus_relay *r = srv->bus_relay; /* NULL once released */
	json_t *msg;
	const char *origin, *name, *topic, *kind;

	(void)channel;
	if (!r || !payload) /* reconnected: the next events come as usual */
		return;
	msg = json_loads(payload, 0, NULL);
	origin = json_string_value(json_object_get(msg, "i"));
	name = json_string_value(json_object_get(msg, "n"));
	topic = json_string_value(json_object_get(msg, "t"));
	kind = json_string_value(json_object_get(msg, "k"));
	if (origin && name && topic && kind && strcmp(origin, r->id) &&
	    json_is_object(json_object_get(msg, "d")))
		admin_view_remote(srv, name, topic, kind,
				  json_integer_value(json_object_get(msg, "a")),
				  json_object_get(msg, "d"));
	json_decref(msg);
}

int bus_relay_init(struct srv *srv)
{
	struct bus_relay *r = calloc(1, sizeof(*r));

	if (!r || !(r->queue = calloc(QUEUE_MAX, sizeof(*r->queue)))) {
		free(r);
		return -1;
	}
	r->srv = srv;
	/* the instance's name, and this process: two starts never share it */
	snprintf(r->id, sizeof(r->id), "%.64s.%x", srv->cfg.instance ? srv->cfg.instance : "run-it",
		 (unsigned)getpid() ^ (unsigned)(srv_now_ms() & 0xffff));
	srv->bus_relay = r;
	if (bus_on(srv, NULL, on_event, srv))
		return -1;
	return db_listen(srv->db, CHANNEL, relay_in, srv);
}

void bus_relay_release(struct srv *srv)
{
	struct bus_relay *r = srv->bus_relay;

	if (!r)
		return;
	while (r->n) {
		free(r->queue[r->head]);
		r->head = (r->head + 1) % QUEUE_MAX;
		r->n--;
	}
	free(r->queue);
	srv->bus_relay = NULL;
	if (r->sending)
		r->stopped = 1;
	else
		free(r);
}
