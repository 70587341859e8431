/*
 * h_image.c - the admins' runtime images: admin/image/list (each image the
 * runtimes name, whether the platform new runs go to has it, and the job
 * under way), admin/image/build and admin/image/pull (started here, their
 * progress and end arrive as admin/event "image"). The work is run_image.c's.
 */
#include "handlers.h"
#include "audit.h"
#include "dbcall.h"
#include "rpc.h"
#include "run_image.h"
#include "validate.h"

#include <string.h>

static void h_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;

	rpc_reply(c, json_pack("{s:o}", "images", run_image_all(c->srv)));
}

typedef int (*job_fn)(struct srv *srv, const char *image, long long by, const char **reason,
		      char *why, size_t n);

static void start_job(struct rpc_call *c, struct proto_msg *msg, job_fn fn, const char *op)
{
	struct proto_error err;
	const char *image = NULL, *reason = "INTERNAL", *bad;
	char why[300], action[16];

	if (proto_get_str(msg->params, "image", 1, 255, &image, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if ((bad = validate_image(image))) {
		snprintf(why, sizeof(why), "param \"image\": %s", bad);
		rpc_fail(c, PROTO_R_INVALID_PARAMS, why, NULL);
		return;
	}
	if (fn(c->srv, image, c->user_id, &reason, why, sizeof(why))) {
		rpc_fail(c, dbcall_reason(reason), why, json_pack("{s:s}", "image", image));
		return;
	}
	snprintf(action, sizeof(action), "image.%s", op);
	audit(c->srv, c->user_id, action, image, NULL, c->ip);
	rpc_reply(c, json_pack("{s:s, s:s, s:s}", "image", image, "op", op, "state", "started"));
}

static void h_build(void *ctx, struct proto_msg *msg)
{
	start_job(ctx, msg, run_image_build, "build");
}

static void h_pull(void *ctx, struct proto_msg *msg)
{
	start_job(ctx, msg, run_image_pull, "pull");
}

const struct proto_method image_methods[] = {
    {"admin/image/list", PROTO_ROLE_ADMIN, h_list},
    {"admin/image/build", PROTO_ROLE_ADMIN, h_build},
    {"admin/image/pull", PROTO_ROLE_ADMIN, h_pull},
};
const size_t image_methods_count = sizeof(image_methods) / sizeof(image_methods[0]);
