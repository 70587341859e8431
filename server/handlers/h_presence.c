/*
 * h_presence.c - presence/update: which file a session is in.
 */
#include "handlers.h"
#include "h_common.h"
#include "presence.h"
#include "room.h"
#include "rpc.h"
#include "sess.h"

/* presence/update {project, file}: which file this session is in (or null);
 * file is checked and normalised as file paths are (INVALID_PATH). */
static void h_update(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);
	struct proto_error err;
	long long project;
	const char *file = NULL;

	if (proto_get_int(msg->params, "project", 1, 1, PROTO_MAX_SAFE_INT, &project, &err) ||
	    proto_get_str(msg->params, "file", 0, 255, &file, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	/* shown to the others in the room: a path by the rules of file paths */
	if (file && hc_path_param(c, msg->params, "file", &file))
		return;
	if (!s || !room_is_member(c->srv, project, s->id)) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "open the project first (project/open)", NULL);
		return;
	}
	if (presence_spend(s)) {
		rpc_fail(c, PROTO_R_RATE_LIMITED, "moving between files too fast; wait a moment",
			 json_pack("{s:i}", "retry_after_s", 1));
		return;
	}
	presence_moved(c->srv, project, s, file);
	rpc_reply(c, NULL);
}

const struct proto_method presence_methods[] = {
    {"presence/update", PROTO_ROLE_USER, h_update},
};
const size_t presence_methods_count = sizeof(presence_methods) / sizeof(presence_methods[0]);
