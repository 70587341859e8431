/*
 * h_common.c - helpers shared by h_project.c, h_file.c and h_env.c.
 */
#include "h_common.h"
#include "access.h"
#include "paths.h"
#include "rpc.h"
#include "sess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hc_who(struct rpc_call *c, long long project, struct hc_who *who)
{
	access_params(c->user_id, c->role, who->uid, &who->is_admin);
	who->project = project;
	snprintf(who->pid, sizeof(who->pid), "%lld", project);
}

int hc_project_param(struct rpc_call *c, json_t *params, const char *key, long long *out)
{
	struct proto_error err;

	if (proto_get_int(params, key, 1, 1, PROTO_MAX_SAFE_INT, out, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	return 0;
}

int hc_path_param(struct rpc_call *c, json_t *params, const char *key, const char **out)
{
	json_t *v = json_object_get(params, key);
	const char *why;
	char msg[160], *nfc;
	size_t len;

	if (!v || json_is_null(v)) {
		snprintf(msg, sizeof(msg), "missing param \"%s\"", key);
		rpc_fail(c, PROTO_R_INVALID_PARAMS, msg, NULL);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(msg, sizeof(msg), "param \"%s\" must be a string", key);
		rpc_fail(c, PROTO_R_INVALID_PARAMS, msg, NULL);
		return -1;
	}
	nfc = paths_nfc(json_string_value(v), json_string_length(v), &len, &why);
	if (!nfc) {
		snprintf(msg, sizeof(msg), "%s: %s", key, why);
		rpc_fail(c, PROTO_R_INVALID_PATH, msg,
			 json_pack("{s:s, s:s}", "param", key, "why", why));
		return -1;
	}
	/* the NFC form replaces the param, so *out lives as long as params */
	if ((len != json_string_length(v) || memcmp(nfc, json_string_value(v), len)) &&
	    json_object_set_new(params, key, json_stringn_nocheck(nfc, len))) {
		free(nfc);
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return -1;
	}
	free(nfc);
	*out = json_string_value(json_object_get(params, key));
	return 0;
}

void hc_fail_too_large(struct rpc_call *c, const char *limit, long long max, long long size,
		       const char *message)
{
	rpc_fail(c, PROTO_R_TOO_LARGE, message,
		 json_pack("{s:s, s:I, s:I}", "limit", limit, "max", (json_int_t)max, "size",
			   (json_int_t)size));
}

json_t *hc_by(struct rpc_call *c)
{
	struct sess *s = rpc_sess(c);

	return json_pack("{s:I, s:s}", "id", (json_int_t)c->user_id, "username",
			 s ? s->username : "");
}
