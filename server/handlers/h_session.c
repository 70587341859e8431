/*
 * h_session.c - session/hello: who the server is, who you are, the limits.
 */
#include "handlers.h"
#include "rpc.h"
#include "sess.h"
#include "srv.h"

#include <stdio.h>

static const char *role_name(enum proto_role r)
{
	return r == PROTO_ROLE_ADMIN ? "admin" : r == PROTO_ROLE_USER ? "user" : "anonymous";
}

static const char *auth_state_name(enum sess_auth a)
{
	switch (a) {
	case SESS_AUTH_OK:
		return "ok";
	case SESS_AUTH_INVALID:
		return "invalid";
	case SESS_AUTH_UNAVAILABLE:
		return "unavailable";
	default:
		return "none";
	}
}

static void h_session_hello(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct sess *s = rpc_sess(c);
	struct proto_error err;
	const char *client = NULL;
	json_t *user = json_null();
	char sid[32];

	if (proto_get_str(msg->params, "client", 0, 128, &client, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!s) {
		rpc_fail(c, PROTO_R_INTERNAL, "session gone", NULL);
		return;
	}
	if (s->user_id)
		user = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)s->user_id, "username",
				 s->username, "role", role_name(s->role));
	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)s->id);
	rpc_reply(c, json_pack("{s:{s:s, s:s, s:s}, s:s, s:o, s:s, s:{s:I}}", "server", "name",
			       "run-it", "version", RUNIT_VERSION, "instance", c->srv->cfg.instance,
			       "session", sid, "user", user, "auth", auth_state_name(s->auth_state),
			       "limits", "max_frame", (json_int_t)c->srv->cfg.max_frame));
}

const struct proto_method session_methods[] = {
    {"session/hello", PROTO_ROLE_ANON, h_session_hello},
};
const size_t session_methods_count = sizeof(session_methods) / sizeof(session_methods[0]);
