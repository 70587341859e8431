/*
 * h_prefs.c - a signed-in user's own preferences: prefs/get and prefs/set.
 * One key so far, "theme" ("light", "dark" or "system"), which the IDE
 * follows in every tab of the user's; runit_prefs_set (sql/013_front.sql)
 * refuses unknown keys and values, so nothing else lands in users.prefs.
 */
#include "handlers.h"
#include "dbcall.h"
#include "h_common.h"
#include "rpc.h"

#include <stdlib.h>

static void h_prefs_get(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct hc_who who;
	const char *p[1];

	(void)msg;
	hc_who(c, 0, &who);
	p[0] = who.uid;
	dbcall(c,
	       "SELECT coalesce((SELECT runit_ok(jsonb_build_object('prefs', prefs)) FROM users"
	       " WHERE id = $1::bigint), runit_err('NOT_FOUND', 'no such user'))",
	       1, p, NULL, NULL);
}

static void h_prefs_set(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct hc_who who;
	json_t *prefs = NULL;
	char *text;
	const char *p[2];

	if (proto_get_obj(msg->params, "prefs", 1, &prefs, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!(text = json_dumps(prefs, JSON_COMPACT))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	hc_who(c, 0, &who);
	p[0] = who.uid;
	p[1] = text;
	dbcall(c, "SELECT runit_prefs_set($1::bigint, $2::jsonb)", 2, p, NULL, NULL);
	free(text);
}

const struct proto_method prefs_methods[] = {
    {"prefs/get", PROTO_ROLE_USER, h_prefs_get},
    {"prefs/set", PROTO_ROLE_USER, h_prefs_set},
};
const size_t prefs_methods_count = sizeof(prefs_methods) / sizeof(prefs_methods[0]);
