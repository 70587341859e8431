/*
 * admin_view.h - the admins' live view: sessions that called
 * admin/subscribe get every event of the bus (bus.h) as an admin/event
 * notification {seq, topic, kind, at, instance, data}: the events of this
 * server instance and, relayed by bus_relay.c, those of the others. A subscriber that falls
 * behind (its queue half full) is dropped with one last admin/resubscribe
 * notification: it calls admin/subscribe again for a fresh snapshot. So a
 * slow admin never slows the server or grows memory.
 *
 * The view subscribes to the bus; nobody calls it to publish. The
 * snapshot that admin/subscribe answers with is built by the handler
 * (h_admin_live.c), which then adds the session here.
 */
#ifndef RUNIT_ADMIN_VIEW_H
#define RUNIT_ADMIN_VIEW_H

#include <stdint.h>
#include <jansson.h>

struct srv;
struct sess;

/* Subscribe the view to the bus (at start-up). 0, or -1 out of memory. */
int admin_view_init(struct srv *srv);
void admin_view_release(struct srv *srv);
/* Send s every event published from now on. */
void admin_view_add(struct srv *srv, struct sess *s);
void admin_view_remove(struct srv *srv, uint64_t sess_id);
/* An event of another server instance (bus_relay.c): sent to every
 * subscriber with the next number of this server's sequence, never
 * published on this server's bus. data is borrowed. */
void admin_view_remote(struct srv *srv, const char *instance, const char *topic, const char *kind,
		       long long at, json_t *data);

#endif
