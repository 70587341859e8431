/*
 * presence.h - who else has a project open: when a session opens a project
 * (joins its room) the others get presence/changed about it and it gets one
 * presence/changed per session already there; presence/update says which
 * file it is in; closing the project or the socket sends presence/left.
 * Sessions on other instances (room_relay.c) are named "<instance>/<id>".
 */
#ifndef RUNIT_PRESENCE_H
#define RUNIT_PRESENCE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct srv;
struct sess;

/* The presence/changed params about s in the project (new reference). */
json_t *presence_about(long long project_id, const struct sess *s);
/* s has just joined the project's room (it was not a member before). */
void presence_joined(struct srv *srv, long long project_id, struct sess *s);
/* sess_id has left the project's room. */
void presence_left(struct srv *srv, long long project_id, uint64_t sess_id);

/*
 * What a session tells its rooms costs every member a frame (and the other
 * instances a NOTIFY): a session may join rooms and move between files
 * PRESENCE_RATE times a second, after a burst of PRESENCE_BURST. 0 when s
 * may tell one more now (and it is counted); -1 when it must wait.
 */
#define PRESENCE_RATE 10
#define PRESENCE_BURST 20
int presence_spend(struct sess *s);

/* s is now in file (NULL or "": none); tells the others. */
void presence_moved(struct srv *srv, long long project_id, struct sess *s, const char *file);

#endif
