/*
 * room_relay.h - carries every room broadcast (file/changed,
 * project/changed, presence) to the same project's room on the other server
 * instances, through PostgreSQL (NOTIFY runit_room), so people on two
 * instances see each other and each other's changes. Loop thread only.
 */
#ifndef RUNIT_ROOM_RELAY_H
#define RUNIT_ROOM_RELAY_H

struct srv;

/* Start relaying (after room_init and the database pool). 0, or -1. */
int room_relay_init(struct srv *srv);
/* NOTIFY runit_collab with payload (collab.c's "<file id> <version>") after
 * the notifications waiting here, in the same batches: file/save's
 * announcement, made after its commit instead of inside it. */
void room_relay_notify_collab(struct srv *srv, const char *payload);
/* Stop relaying; before the database pool is freed. */
void room_relay_release(struct srv *srv);

#endif
