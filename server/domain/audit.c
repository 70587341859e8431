/*
 * audit.c - write audit_log rows through the pool (see audit.h).
 */
#include "audit.h"
#include "db.h"
#include "log.h"
#include "srv.h"
#include "bus.h"

#include <string.h>

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

/*
 * Every audited action is also an admin event: "user.disable" is topic
 * "user", kind "disable"; changes of runtimes, platforms, settings and the
 * FAQ are topic "config" with the whole action as kind ("runtime.update").
 */
static void announce(struct srv *srv, long long actor_id, const char *action, const char *target,
		     json_t *detail)
{
	static const char *config[] = {"runtime.", "platform.", "settings", "faq"};
	const char *dot = strchr(action, '.');
	char topic[32];

	for (size_t i = 0; i < sizeof(config) / sizeof(config[0]); i++) {
		if (!strncmp(action, config[i], strlen(config[i]))) {
			bus_publish(srv, "config", action,
				    json_pack("{s:I, s:s?, s:O}", "actor", (json_int_t)actor_id,
					      "target", target, "detail", detail));
			return;
		}
	}
	snprintf(topic, sizeof(topic), "%.*s", dot ? (int)(dot - action) : (int)strlen(action),
		 action);
	bus_publish(srv, topic, dot ? dot + 1 : action,
		    json_pack("{s:I, s:s?, s:O}", "actor", (json_int_t)actor_id, "target", target,
			      "detail", detail));
}

void audit(struct srv *srv, long long actor_id, const char *action, const char *target,
	   json_t *detail, const char *ip)
{
	char actor[24], *d, *a;
	const char *p[5];

	snprintf(actor, sizeof(actor), "%lld", actor_id);
	if (!detail)
		detail = json_object();
	announce(srv, actor_id, action, target, detail);
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
