/*
 * bus.h - the event bus: how a lower module tells higher ones that
 * something happened without calling up. A module publishes (topic, kind,
 * data); every subscriber of that topic, and every subscriber of all
 * topics, is called at once, on the loop thread, in the order it
 * subscribed. Every event gets the next number of one sequence for the
 * whole server (the admins' live view shows it as admin/event's seq).
 *
 * Topics in use (docs/architecture.md lists them with their kinds):
 * "session", "run", "platform", "user", "project", "config" and the other
 * prefixes of audited actions.
 */
#ifndef RUNIT_BUS_H
#define RUNIT_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct srv;

struct bus_event {
	long long seq;
	const char *topic;
	const char *kind;
	json_t *data; /* borrowed: a subscriber that keeps it takes a reference */
};

typedef void (*bus_fn)(void *arg, const struct bus_event *ev);

struct bus_sub {
	char topic[24]; /* "" for every topic */
	bus_fn fn;
	void *arg;
};

/* Embedded in struct srv. */
struct bus {
	long long seq;
	struct bus_sub *subs;
	size_t nsubs, capsubs;
};

/* Call fn for every event of topic (NULL: of every topic). 0, or -1 out of
 * memory. Subscriptions last as long as the server; modules subscribe at
 * start-up (app.c wires them). */
int bus_on(struct srv *srv, const char *topic, bus_fn fn, void *arg);
/* Publish one event; data is stolen (may be NULL: an empty object). */
void bus_publish(struct srv *srv, const char *topic, const char *kind, json_t *data);
/* Take the next number without publishing anything (an event that is not
 * this server's: another instance's, relayed to the admins' view). */
long long bus_take_seq(struct srv *srv);
/* The last sequence number published. */
long long bus_seq(const struct srv *srv);
/* Free the subscriptions (at shutdown). */
void bus_release(struct srv *srv);

#endif
