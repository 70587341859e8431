/*
 * access.c - the C side of the project access rule (see access.h; the rule
 * itself is runit_access() in sql/002_projects.sql).
 */
#include "access.h"
#include "db.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum access_level access_level_of(const char *name)
{
	if (!name || !*name)
		return ACCESS_NONE;
	if (!strcmp(name, "owner") || !strcmp(name, "admin"))
		return ACCESS_OWN;
	if (!strcmp(name, "editor"))
		return ACCESS_WRITE;
	if (!strcmp(name, "viewer") || !strcmp(name, "public"))
		return ACCESS_READ;
	return ACCESS_NONE;
}

int access_sees_runs(const char *name)
{
	return name && (!strcmp(name, "owner") || !strcmp(name, "admin") ||
			!strcmp(name, "editor") || !strcmp(name, "viewer"));
}

enum proto_reason access_decide(enum access_level have, enum access_level need)
{
	if (have >= need && have > ACCESS_NONE)
		return PROTO_R_NONE;
	return have == ACCESS_NONE ? PROTO_R_NOT_FOUND : PROTO_R_FORBIDDEN;
}

void access_params(long long user_id, enum proto_role role, char user_buf[24],
		   const char **is_admin)
{
	snprintf(user_buf, 24, "%lld", user_id);
	*is_admin = role >= PROTO_ROLE_ADMIN ? "true" : "false";
}

struct check {
	access_cb cb;
	void *arg;
	enum access_level need;
};

static void checked(void *arg, PGresult *res, const char *err)
{
	struct check *k = arg;
	const char *name = NULL;
	enum proto_reason r;

	if (!res) {
		k->cb(k->arg, PROTO_R_UNAVAILABLE, NULL, "database unavailable, try again");
		free(k);
		return;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		name = PQgetvalue(res, 0, 0);
	r = access_decide(access_level_of(name), k->need);
	k->cb(k->arg, r, name,
	      r == PROTO_R_NONE	       ? NULL
	      : r == PROTO_R_NOT_FOUND ? "no such project"
	      : k->need >= ACCESS_OWN  ? "only the owner of this project may do that"
				       : "you have read-only access to this project");
	free(k);
}

int access_check(struct srv *srv, long long project_id, long long user_id, enum proto_role role,
		 enum access_level need, access_cb cb, void *arg)
{
	struct check *k;
	char pid[24], uid[24];
	const char *p[3];

	if (!cb || need <= ACCESS_NONE || !(k = calloc(1, sizeof(*k))))
		return -1;
	k->cb = cb;
	k->arg = arg;
	k->need = need;
	snprintf(pid, sizeof(pid), "%lld", project_id);
	access_params(user_id, role, uid, &p[2]);
	p[0] = pid;
	p[1] = uid;
	if (db_query(srv->db, "SELECT " ACCESS_SQL("$1", "$2", "$3"), 3, p, checked, k)) {
		free(k);
		return -1;
	}
	return 0;
}
