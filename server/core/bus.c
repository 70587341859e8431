/*
 * bus.c - the event bus (bus.h): a list of subscribers kept in the server
 * struct, called in order for each event.
 */
#include "bus.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bus_on(struct srv *srv, const char *topic, bus_fn fn, void *arg)
{
	struct bus *b = &srv->bus;
	struct bus_sub *sub;

	if (b->nsubs == b->capsubs) {
		size_t cap = b->capsubs ? b->capsubs * 2 : 8;
		struct bus_sub *n = realloc(b->subs, cap * sizeof(*n));
		if (!n)
			return -1;
		b->subs = n;
		b->capsubs = cap;
	}
	sub = &b->subs[b->nsubs++];
	snprintf(sub->topic, sizeof(sub->topic), "%s", topic ? topic : "");
	sub->fn = fn;
	sub->arg = arg;
	return 0;
}

void bus_publish(struct srv *srv, const char *topic, const char *kind, json_t *data)
{
	struct bus *b = &srv->bus;
	struct bus_event ev;

	ev.seq = ++b->seq;
	ev.topic = topic;
	ev.kind = kind;
	ev.data = data ? data : json_object();
	for (size_t i = 0; i < b->nsubs; i++)
		if (!b->subs[i].topic[0] || !strcmp(b->subs[i].topic, topic))
			b->subs[i].fn(b->subs[i].arg, &ev);
	json_decref(ev.data);
}

long long bus_take_seq(struct srv *srv)
{
	return ++srv->bus.seq;
}

long long bus_seq(const struct srv *srv)
{
	return srv->bus.seq;
}

void bus_release(struct srv *srv)
{
	free(srv->bus.subs);
	srv->bus.subs = NULL;
	srv->bus.nsubs = srv->bus.capsubs = 0;
}
