/*
 * pg_blocking.c - blocking libpq helpers for the set-up of unit tests that
 * need PostgreSQL (pg_blocking.h). Never used by the server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg_blocking.h"

/* base conninfo with dbname replaced, as key='value' pairs. */
int conninfo_with_db(const char *base, const char *db, char *out, size_t n)
{
	PQconninfoOption *o = PQconninfoParse(base, NULL), *it;
	size_t off = 0;

	if (!o)
		return -1;
	for (it = o; it->keyword; it++) {
		const char *v = strcmp(it->keyword, "dbname") == 0 ? db : it->val;
		const char *s;

		if (!v)
			continue;
		int w = snprintf(out + off, n - off, "%s%s='", off ? " " : "", it->keyword);
		if (w < 0 || (size_t)w >= n - off)
			goto out_overflow;
		off += (size_t)w;
		for (s = v; *s; s++) {
			if (off + 3 >= n)
				goto out_overflow;
			if (*s == '\'' || *s == '\\')
				out[off++] = '\\';
			out[off++] = *s;
		}
		out[off++] = '\'';
		out[off] = '\0';
	}
	PQconninfoFree(o);
	return 0;
out_overflow:
	PQconninfoFree(o);
	return -1;
}

/* Blocking statement on a throwaway connection (test set-up only). */
void exec_blocking(const char *conninfo, const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
}

/* First value of a blocking query, copied into out. */
void query_blocking(const char *conninfo, const char *sql, char *out, size_t n)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
}
