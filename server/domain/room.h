/*
 * room.h - rooms: which sessions are watching which project. A session
 * joins with project/open (after its read access was checked) and leaves
 * with project/close or when it closes (the bus tells room.c).
 * A session that closes leaves every room (room.c subscribes to the bus).
 * Everyone in a room gets the project's events: file/changed and
 * project/changed from the file and project handlers, run/status and
 * run/log from the run engine.
 *
 * Members are kept by session id, never by pointer; a member that has gone
 * is skipped and pruned. Loop thread only. Rooms are per server process;
 * room_relay.c carries each broadcast to the rooms of the other instances
 * through the hook set with room_set_relay().
 */
#ifndef RUNIT_ROOM_H
#define RUNIT_ROOM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct srv;
struct sess;

#define ROOM_MAX_PER_SESS 32 /* projects one session may watch at once */

/* What a member may get besides file and presence events. */
#define ROOM_SEES_RUNS 1u /* the project's runs (runit_sees_runs: not a visitor) */

/* Add s to the project's room with flags (joining twice is one membership,
 * with the new flags). 0, -1 out of memory, -2 the session already watches
 * ROOM_MAX_PER_SESS. */
int room_join(struct srv *srv, long long project_id, struct sess *s, unsigned flags);
/* Change a member's flags (its access changed); no-op for a non-member. */
void room_set_flags(struct srv *srv, long long project_id, uint64_t sess_id, unsigned flags);
/* Remove one session from one room (no-op when not a member). */
void room_leave(struct srv *srv, long long project_id, uint64_t sess_id);
/* Called after a session left a project's room. */
typedef void (*room_left_fn)(struct srv *srv, long long project_id, uint64_t sess_id);

/* Set up srv->rooms; on_left (may be NULL) hears of every leave but
 * room_leave's and room_drop's, whose callers know. 0, or -1 out of memory. */
int room_init(struct srv *srv, room_left_fn on_left);
void room_release(struct srv *srv);
/* Remove the session from every room (it closed). */
void room_leave_all(struct srv *srv, uint64_t sess_id);
/* Empty the room (the project was deleted). */
void room_drop(struct srv *srv, long long project_id);

/*
 * Send the notification {method, params} to every member except
 * except_sess_id (0: nobody is excepted). params is borrowed. The frame is
 * encoded once; a member whose queue is full is closed as a slow consumer
 * by sess_send, as anywhere else.
 */
void room_broadcast(struct srv *srv, long long project_id, const char *method, json_t *params,
		    uint64_t except_sess_id);

/* The same for a member that just joined: the other instances answer it
 * with their own members (presence). */
void room_broadcast_joined(struct srv *srv, long long project_id, const char *method,
			   json_t *params, uint64_t sess_id);
/* Only to this instance's members (a broadcast relayed from another). */
void room_deliver(struct srv *srv, long long project_id, const char *method, json_t *params);

/* Called after every broadcast on this instance (params borrowed; joined:
 * room_broadcast_joined). One hook, set once at start (room_relay.c). */
typedef void (*room_relay_fn)(struct srv *srv, long long project_id, const char *method,
			      json_t *params, uint64_t except_sess_id, int joined);
void room_set_relay(struct srv *srv, room_relay_fn fn);

/* 1 when the session watches the project. */
int room_is_member(struct srv *srv, long long project_id, uint64_t sess_id);

/* Session ids of up to max members into out; returns how many members the
 * room has (which may be more than max). */
size_t room_members(struct srv *srv, long long project_id, uint64_t *out, size_t max);
/* Call fn for the project of every room (a copy of the list: fn may join,
 * leave or drop). */
void room_foreach_project(struct srv *srv, void (*fn)(struct srv *, long long, void *), void *arg);
/* Like room_members, for the members that have every flag in flags. */
size_t room_members_with(struct srv *srv, long long project_id, unsigned flags, uint64_t *out,
			 size_t max);

#endif
