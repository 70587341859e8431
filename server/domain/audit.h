/*
 * audit.h - the audit log: every admin action (and security events) as a
 * row in audit_log. Fire and forget: a failure to write is logged, and the
 * action it describes is not undone.
 */
#ifndef RUNIT_AUDIT_H
#define RUNIT_AUDIT_H

#include <jansson.h>

struct srv;

/* action: lower-case dotted name ("user.disable"); target: what it acted on
 * ("user:42"); detail is stolen (may be NULL); never put secrets in it. */
void audit(struct srv *srv, long long actor_id, const char *action, const char *target,
	   json_t *detail, const char *ip);

#endif
