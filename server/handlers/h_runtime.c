/*
 * h_runtime.c - what users see of runtimes: runtime/list (the enabled
 * runtimes with their template files, and whether each can run now: its
 * image is on the container platform) and faq/get (the global FAQ from the
 * in-memory settings and a runtime's own FAQ).
 */
#include "handlers.h"
#include "dbcall.h"
#include "rpc.h"
#include "run_image.h"
#include "settings.h"
#include "validate.h"

#include <stdlib.h>

/* The rows arrived: say which can run (their image is on the platform). */
static void list_done(void *arg, struct rpc_call *c, json_t *ok)
{
	size_t i;
	json_t *rt;

	if (!ok)
		return;
	json_array_foreach(ok, i, rt)
	{
		const char *image = json_string_value(json_object_get(rt, "image"));
		enum run_image_state st =
		    image ? run_image_state(c->srv, image) : RUN_IMAGE_UNKNOWN;

		json_object_set_new(rt, "available", json_boolean(st != RUN_IMAGE_MISSING));
		json_object_set_new(rt, "image_state", json_string(run_image_state_name(st)));
		if (st == RUN_IMAGE_MISSING) {
			json_object_set_new(rt, "reason", json_string("IMAGE_MISSING"));
			json_object_set_new(
			    rt, "message",
			    json_string("Not installed on this server yet: an admin "
					"must build or pull its image."));
		} else {
			json_object_set_new(rt, "reason", json_null());
		}
		json_object_del(rt, "image");
	}
	rpc_reply(c, json_incref(ok));
}

static void h_runtime_list(void *ctx, struct proto_msg *msg)
{
	dbcall(ctx,
	       "SELECT runit_ok(coalesce(jsonb_agg(jsonb_build_object('code', code, 'name', name,"
	       " 'language', language, 'version', version, 'os', os, 'arch', arch,"
	       " 'description', description, 'entry', entry_file, 'template', template,"
	       " 'network_allowed', network_allowed, 'image', image) ORDER BY language, code),"
	       " '[]'::jsonb))"
	       " FROM runtimes WHERE enabled",
	       0, NULL, list_done, NULL);
}

static json_t *global_faq(const struct rpc_call *c)
{
	const struct settings *st = settings_get(c->srv);

	return st->global_faq ? json_deep_copy(st->global_faq) : json_array();
}

/* The runtime's FAQ arrived: add the global one. */
static void faq_done(void *arg, struct rpc_call *c, json_t *ok)
{
	if (!ok)
		return;
	rpc_reply(c, json_pack("{s:o, s:O}", "global", global_faq(c), "runtime", ok));
}

static void h_faq_get(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	const char *code = NULL;

	if (proto_get_str(msg->params, "runtime", 0, 64, &code, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!code) {
		rpc_reply(c, json_pack("{s:o, s:[]}", "global", global_faq(c), "runtime"));
		return;
	}
	dbcall(
	    c,
	    "SELECT coalesce((SELECT runit_ok(faq) FROM runtimes WHERE code = $1),"
	    " runit_err('NOT_FOUND', 'no such runtime', jsonb_build_object('runtime', $1::text)))",
	    1, &code, faq_done, NULL);
}

const struct proto_method runtime_methods[] = {
    {"runtime/list", PROTO_ROLE_ANON, h_runtime_list},
    {"faq/get", PROTO_ROLE_ANON, h_faq_get},
};
const size_t runtime_methods_count = sizeof(runtime_methods) / sizeof(runtime_methods[0]);
