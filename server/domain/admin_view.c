/*
 * admin_view.c - the admins' live view (admin_view.h): a list of
 * subscribed session ids, fed from the bus.
 */
#include "admin_view.h"
#include "bus.h"
#include "proto.h"
#include "sess.h"
#include "srv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

struct admin_view {
	uint64_t *subs;
	size_t nsubs, capsubs;
};

void admin_view_remove(struct srv *srv, uint64_t sess_id)
{
	struct admin_view *v = srv->admin;

	for (size_t i = 0; v && i < v->nsubs; i++) {
		if (v->subs[i] == sess_id) {
			v->subs[i] = v->subs[--v->nsubs];
			return;
		}
	}
}

void admin_view_add(struct srv *srv, struct sess *s)
{
	struct admin_view *v = srv->admin;

	for (size_t i = 0; i < v->nsubs; i++)
		if (v->subs[i] == s->id)
			return;
	if (v->nsubs == v->capsubs) {
		size_t cap = v->capsubs ? v->capsubs * 2 : 8;
		uint64_t *n = realloc(v->subs, cap * sizeof(*n));
		if (!n)
			return;
		v->subs = n;
		v->capsubs = cap;
	}
	v->subs[v->nsubs++] = s->id;
}

/* One admin/event to every subscriber; data borrowed. */
static void send_all(struct srv *srv, long long seq, const char *instance, const char *topic,
		     const char *kind, long long at, json_t *data)
{
	struct admin_view *v = srv->admin;
	json_t *p;
	char *frame;
	size_t len;

	p = json_pack("{s:I, s:s, s:s, s:I, s:s, s:O}", "seq", (json_int_t)seq, "topic", topic,
		      "kind", kind, "at", (json_int_t)at, "instance", instance, "data", data);
	frame = proto_notify_steal("admin/event", p, &len);
	if (!frame)
		return;
	for (size_t i = 0; i < v->nsubs;) {
		struct sess *s = sess_find(srv, v->subs[i]);
		char *copy;
		if (!s || s->closing) {
			v->subs[i] = v->subs[--v->nsubs];
			continue;
		}
		if (s->q_bytes + len > srv->cfg.out_queue_bytes / 2) {
			/* behind: drop it, and say so (there is room below the hard limit) */
			v->subs[i] = v->subs[--v->nsubs];
			sess_notify(s, "admin/resubscribe",
				    json_pack("{s:s, s:I}", "reason", "overflow", "last_seq",
					      (json_int_t)seq - 1));
			continue;
		}
		copy = malloc(len + 1);
		if (copy) {
			memcpy(copy, frame, len + 1);
			sess_send(s, copy, len);
		}
		i++;
	}
	free(frame);
}

static long long now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static const char *instance_name(const struct srv *srv)
{
	return srv->cfg.instance ? srv->cfg.instance : "run-it";
}

static void on_event(void *arg, const struct bus_event *ev)
{
	struct srv *srv = arg;

	if (srv->admin->nsubs)
		send_all(srv, ev->seq, instance_name(srv), ev->topic, ev->kind, now_ms(), ev->data);
}

void admin_view_remote(struct srv *srv, const char *instance, const char *topic, const char *kind,
		       long long at, json_t *data)
{
	/* a number of the same sequence as the bus's: the view's seq has no holes */
	long long seq = bus_take_seq(srv);

	if (srv->admin && srv->admin->nsubs)
		send_all(srv, seq, instance, topic, kind, at, data);
}

/* A closed session leaves the view before its "closed" event is sent. */
static void on_session(void *arg, const struct bus_event *ev)
{
	struct srv *srv = arg;

	if (!strcmp(ev->kind, "closed"))
		admin_view_remove(
		    srv, (uint64_t)json_integer_value(json_object_get(ev->data, "session")));
}

int admin_view_init(struct srv *srv)
{
	srv->admin = calloc(1, sizeof(*srv->admin));
	if (!srv->admin || bus_on(srv, "session", on_session, srv) ||
	    bus_on(srv, NULL, on_event, srv))
		return -1;
	return 0;
}

void admin_view_release(struct srv *srv)
{
	if (!srv->admin)
		return;
	free(srv->admin->subs);
	free(srv->admin);
	srv->admin = NULL;
}
