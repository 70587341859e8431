/*
 * h_collab.c - live co-editing: collab/join, collab/push, collab/pull,
 * collab/cursor, collab/checkpoint and collab/leave (protocol/PROTOCOL.md, "Live co-editing").
 * Params are checked here and the caller must have the project open (its
 * room: access_watch.c takes it out when its access goes); the rules live
 * in server/domain/collab.c.
 */
#include "handlers.h"
#include "collab.h"
#include "h_common.h"
#include "room.h"
#include "rpc.h"

#include <string.h>

static int id_param(struct rpc_call *c, json_t *params, const char *key, long long *out)
{
	struct proto_error err;

	if (proto_get_int(params, key, 1, 1, PROTO_MAX_SAFE_INT, out, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	return 0;
}

static int version_param(struct rpc_call *c, json_t *params, int required, long long *out)
{
	struct proto_error err;

	*out = 0;
	if (proto_get_int(params, "version", required, 1, PROTO_MAX_SAFE_INT, out, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	return 0;
}

static void h_join(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long project, have;
	const char *path;

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &path) || version_param(c, msg->params, 0, &have))
		return;
	if (!room_is_member(c->srv, project, c->sess_id)) {
		rpc_fail(c, PROTO_R_NOT_FOUND, "open the project first (project/open)", NULL);
		return;
	}
	collab_join(c, project, path, have);
}

static void h_push(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long file, version;
	const char *client;
	json_t *changes;

	if (id_param(c, msg->params, "file", &file) || version_param(c, msg->params, 1, &version))
		return;
	if (proto_get_str(msg->params, "client", 1, COLLAB_CLIENT_MAX, &client, &err) ||
	    proto_get_arr(msg->params, "changes", 1, &changes, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	collab_push(c, file, version, client, changes);
}

static void h_pull(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long file, version;

	if (id_param(c, msg->params, "file", &file) || version_param(c, msg->params, 1, &version))
		return;
	collab_pull(c, file, version);
}

/* ranges: [{anchor, head}] in UTF-16 units, at most COLLAB_MAX_RANGES. */
static int ranges_ok(json_t *ranges)
{
	size_t i;
	json_t *r;

	if (json_array_size(ranges) < 1 || json_array_size(ranges) > COLLAB_MAX_RANGES)
		return 0;
	json_array_foreach(ranges, i, r)
	{
		json_t *a = json_object_get(r, "anchor"), *h = json_object_get(r, "head");

		if (!json_is_object(r) || json_object_size(r) != 2 || !json_is_integer(a) ||
		    !json_is_integer(h) || json_integer_value(a) < 0 || json_integer_value(h) < 0)
			return 0;
	}
	return 1;
}

static void h_cursor(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long file, version;
	json_t *ranges;

	if (id_param(c, msg->params, "file", &file) || version_param(c, msg->params, 1, &version))
		return;
	if (proto_get_arr(msg->params, "ranges", 1, &ranges, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!ranges_ok(ranges)) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS,
			 "ranges: 1 to 32 objects {anchor, head} of whole numbers >= 0", NULL);
		return;
	}
	collab_cursor(c, file, version, ranges);
}

static void h_checkpoint(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long file;

	if (id_param(c, msg->params, "file", &file))
		return;
	collab_checkpoint(c, file);
}

static void h_leave(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long file;

	if (id_param(c, msg->params, "file", &file))
		return;
	collab_leave(c, file);
}

const struct proto_method collab_methods[] = {
    {"collab/join", PROTO_ROLE_USER, h_join},
    {"collab/push", PROTO_ROLE_USER, h_push},
    {"collab/pull", PROTO_ROLE_USER, h_pull},
    {"collab/cursor", PROTO_ROLE_USER, h_cursor},
    {"collab/leave", PROTO_ROLE_USER, h_leave},
    {"collab/checkpoint", PROTO_ROLE_USER, h_checkpoint},
};
const size_t collab_methods_count = sizeof(collab_methods) / sizeof(collab_methods[0]);
