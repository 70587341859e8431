/*
 * presence.c - presence/changed and presence/left for the sessions watching
 * a project (presence.h). The presence/update method is in h_presence.c.
 */
#include "presence.h"
#include "room.h"
#include "sess.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRESENCE_MAX 256

json_t *presence_about(long long project_id, const struct sess *s)
{
	char sid[24];

	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)s->id);
	return json_pack("{s:I, s:s, s:{s:I, s:s}, s:o}", "project", (json_int_t)project_id,
			 "session", sid, "user", "id", (json_int_t)s->user_id, "username",
			 s->username, "file",
			 s->presence_file[0] ? json_string(s->presence_file) : json_null());
}

void presence_joined(struct srv *srv, long long project_id, struct sess *s)
{
	uint64_t ids[PRESENCE_MAX];
	size_t n = room_members(srv, project_id, ids, PRESENCE_MAX);
	json_t *me = presence_about(project_id, s);

	room_broadcast_joined(srv, project_id, "presence/changed", me, s->id);
	json_decref(me);
	for (size_t i = 0; i < n && i < PRESENCE_MAX; i++) {
		struct sess *o = sess_find(srv, ids[i]);
		if (o && o != s && !o->closing)
			sess_notify(s, "presence/changed", presence_about(project_id, o));
	}
}

void presence_left(struct srv *srv, long long project_id, uint64_t sess_id)
{
	char sid[24];
	json_t *p;

	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)sess_id);
	p = json_pack("{s:I, s:s}", "project", (json_int_t)project_id, "session", sid);
	room_broadcast(srv, project_id, "presence/left", p, sess_id);
	json_decref(p);
}

int presence_spend(struct sess *s)
{
	return bucket_take(&s->presence, PRESENCE_RATE, PRESENCE_BURST, srv_now_ms());
}

void presence_moved(struct srv *srv, long long project_id, struct sess *s, const char *file)
{
	json_t *me;

	snprintf(s->presence_file, sizeof(s->presence_file), "%s", file ? file : "");
	me = presence_about(project_id, s);
	room_broadcast(srv, project_id, "presence/changed", me, s->id);
	json_decref(me);
}
