/*
 * audit.c - write audit_log rows through the pool (see audit.h).
 */
#include "audit.h"
#include "db.h"
#include "log.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>

static void written(void *arg, PGresult *res, const char *err)
{
	char *action = arg;

	if (!res)
		log_json(LOG_ERROR, "audit log write failed",
			 json_pack("{s:s, s:s}", "action", action, "error", err));
	free(action);
}

void audit(struct srv *srv, long long actor_id, const char *action, const char *target,
	   json_t *detail, const char *ip)
{
	char actor[24], *d, *a;
	const char *p[5];

	snprintf(actor, sizeof(actor), "%lld", actor_id);
	if (!detail)
		detail = json_object();
	d = json_dumps(detail, JSON_COMPACT);
	json_decref(detail);
	a = strdup(action);
	if (!d || !a) {
		free(d);
		free(a);
		return;
	}
	p[0] = actor_id ? actor : NULL;
	p[1] = action;
	p[2] = target;
	p[3] = d;
	p[4] = ip && *ip ? ip : NULL;
	if (db_query(srv->db,
		     "INSERT INTO audit_log (actor_id, action, target, detail, ip) "
		     "VALUES ($1, $2, $3, $4::jsonb, $5)",
		     5, p, written, a))
		free(a);
	free(d);
}
