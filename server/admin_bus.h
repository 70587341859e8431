/*
 * admin_bus.h - the admins' live view: sessions that called admin/subscribe
 * get every change as an admin/event notification {seq, topic, kind, at,
 * data} with one sequence number for the whole server. A subscriber that
 * falls behind (its queue half full) is dropped with one last
 * admin/resubscribe notification: it calls admin/subscribe again for a
 * fresh snapshot. So a slow admin never slows the server or grows memory.
 */
#ifndef RUNIT_ADMIN_BUS_H
#define RUNIT_ADMIN_BUS_H

#include <stdint.h>
#include <jansson.h>

struct srv;
struct sess;

/* topic: "session", "run", "platform", "user", "config"; kind: "opened",
 * "ended", ...; data stolen (may be NULL). Cheap when nobody subscribes. */
void bus_publish(struct srv *srv, const char *topic, const char *kind, json_t *data);
/* The last sequence number published. */
long long bus_seq(void);
void bus_subscribe(struct sess *s);
void bus_unsubscribe(uint64_t sess_id);

/* Method table: admin/subscribe, admin/unsubscribe, admin/session/list, admin/session/kick. */
#include "proto.h"
#include <stddef.h>
extern const struct proto_method admin_bus_methods[];
extern const size_t admin_bus_methods_count;

#endif
