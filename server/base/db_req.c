/*
 * db_req.c - one request to the database pool: a query or an acquire, with
 * its own copy of the SQL and parameters (the caller's buffers may go as
 * soon as db_query() returns), and the one run of its callback, which
 * counts it, times it and says which SQLSTATE failed it. The lowest file of
 * the pool (db_int.h lists the others).
 */
#include "db_int.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct db_req *db__req_new(enum db_req_kind kind, const char *sql, int nparams,
			   const char *const *params)
{
	size_t sqllen = sql ? strlen(sql) + 1 : 0;
	size_t total = sizeof(struct db_req) + (size_t)nparams * sizeof(char *) + sqllen;
	struct db_req *r;
	char *s;
	int i;

	for (i = 0; i < nparams; i++)
		if (params[i])
			total += strlen(params[i]) + 1;
	r = calloc(1, total);
	if (!r)
		return NULL;
	r->t_new = uv_hrtime();
	r->kind = kind;
	r->nparams = nparams;
	r->params = (const char **)(r + 1);
	s = (char *)(r->params + nparams);
	for (i = 0; i < nparams; i++) {
		if (!params[i])
			continue;
		size_t l = strlen(params[i]) + 1;
		memcpy(s, params[i], l);
		r->params[i] = s;
		s += l;
	}
	if (sql) {
		memcpy(s, sql, sqllen);
		r->sql = s;
	}
	return r;
}

void db__req_deliver(struct db_pool *p, struct db_req *r, struct db_conn *c, PGresult *res,
		     const char *err, const char *sqlstate, const char *constraint)
{
	if (!r->internal) {
		p->queries++;
		if (err)
			p->errors++;
		if (r->kind == DB_REQ_QUERY)
			metrics_db_query((double)(uv_hrtime() - r->t_new) / 1e9);
	}
	snprintf(p->sqlstate, sizeof(p->sqlstate), "%s", sqlstate ? sqlstate : "");
	snprintf(p->constraint, sizeof(p->constraint), "%s", constraint ? constraint : "");
	if (r->kind == DB_REQ_ACQUIRE)
		r->acb(r->arg, err ? NULL : c, err);
	else
		r->cb(r->arg, err ? NULL : res, err);
	/* the pool's memory outlives db_pool_free() until its handles close */
	p->sqlstate[0] = '\0';
	p->constraint[0] = '\0';
	free(r);
}
