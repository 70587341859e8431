/*
 * bus_relay.h - the admins' live view of every server instance: each event
 * of this server's bus goes to the other instances through PostgreSQL
 * (NOTIFY runit_admin), and each instance shows the others' events to its
 * own subscribed admins (admin_view_remote). Loop thread only.
 */
#ifndef RUNIT_BUS_RELAY_H
#define RUNIT_BUS_RELAY_H

struct srv;

/* Start relaying (after admin_view_init and the database pool). 0, or -1. */
int bus_relay_init(struct srv *srv);
/* Stop relaying; before the database pool is freed. */
void bus_relay_release(struct srv *srv);

#endif
