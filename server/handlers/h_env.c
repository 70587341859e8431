/*
 * h_env.c - a project's environment variables: env/get (owner,
 * collaborators, admins) and env/set (owner, editors, admins). Names are
 * [A-Za-z_][A-Za-z0-9_]* and not reserved (validate.h); values are text of
 * at most 32 KiB; a project has at most 100. Values are never logged,
 * never copied into forks and never shown in the gallery; the run engine
 * reads them from env_vars for each run.
 */
#include "handlers.h"
#include "dbcall.h"
#include "h_common.h"
#include "rpc.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>

static void h_env_get(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct hc_who who;
	long long project;
	const char *p[3];

	if (hc_project_param(c, msg->params, "project", &project))
		return;
	hc_who(c, project, &who);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = who.pid;
	dbcall(c, "SELECT runit_env_get($1::bigint, $2::boolean, $3::bigint)", 3, p, NULL, NULL);
}

/* Check every {NAME: value|null}; -1 after failing c. */
static int vars_ok(struct rpc_call *c, json_t *vars)
{
	const char *name, *why;
	json_t *v;
	char msg[200];

	if (json_object_size(vars) > VALIDATE_ENV_MAX_VARS) {
		hc_fail_too_large(c, "max_env_vars", VALIDATE_ENV_MAX_VARS,
				  (long long)json_object_size(vars), "more than 100 variables");
		return -1;
	}
	json_object_foreach(vars, name, v)
	{
		if ((why = validate_env_name(name))) {
			snprintf(msg, sizeof(msg), "%.64s: %s", name, why);
			rpc_fail(c, PROTO_R_INVALID_PARAMS, msg,
				 json_pack("{s:s, s:s}", "name", name, "why", why));
			return -1;
		}
		if (!json_is_string(v) && !json_is_null(v)) {
			snprintf(msg, sizeof(msg), "%s: a value is a string, or null to delete",
				 name);
			rpc_fail(c, PROTO_R_INVALID_PARAMS, msg, json_pack("{s:s}", "name", name));
			return -1;
		}
		if (json_is_string(v) && json_string_length(v) > VALIDATE_ENV_VALUE_MAX) {
			snprintf(msg, sizeof(msg), "%s: the value is longer than 32768 bytes",
				 name);
			rpc_fail(c, PROTO_R_TOO_LARGE, msg,
				 json_pack("{s:s, s:s, s:i, s:I}", "name", name, "limit",
					   "env_value_bytes", "max", VALIDATE_ENV_VALUE_MAX, "size",
					   (json_int_t)json_string_length(v)));
			return -1;
		}
	}
	return 0;
}

static void h_env_set(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct hc_who who;
	long long project;
	json_t *vars;
	char *text, max[16];
	const char *p[5];

	if (hc_project_param(c, msg->params, "project", &project))
		return;
	if (proto_get_obj(msg->params, "vars", 1, &vars, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (vars_ok(c, vars))
		return;
	text = json_dumps(vars, JSON_COMPACT);
	if (!text) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	hc_who(c, project, &who);
	snprintf(max, sizeof(max), "%d", VALIDATE_ENV_MAX_VARS);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = who.pid;
	p[3] = text;
	p[4] = max;
	dbcall(c,
	       "SELECT runit_env_set($1::bigint, $2::boolean, $3::bigint, $4::jsonb, $5::integer)",
	       5, p, NULL, NULL);
	free(text);
}

const struct proto_method env_methods[] = {
    {"env/get", PROTO_ROLE_USER, h_env_get},
    {"env/set", PROTO_ROLE_USER, h_env_set},
};
const size_t env_methods_count = sizeof(env_methods) / sizeof(env_methods[0]);
