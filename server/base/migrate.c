/*
 * migrate.c - applies the compiled-in migrations (sql/NNN_*.sql, see
 * embed_sql.cmake) that the database lacks. Runs before the event loop, so
 * it uses blocking libpq. An advisory lock serialises servers starting at
 * once; each migration and its schema_migrations row commit together; a
 * database that knows a migration this binary does not is refused (it was
 * migrated by a newer run-it).
 */
#include "migrate.h"
#include "log.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key: "run-it migrate" */
#define MIGRATE_LOCK_KEY "7233698402717003009"

static void notice_silent(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* One log line: what went wrong, libpq's message as "error", and the
 * fields (stolen, may be NULL). */
static void report(const char *what, const char *pgmsg, json_t *fields)
{
	char line[1024];

	log_oneline(line, sizeof(line), pgmsg);
	if (!fields)
		fields = json_object();
	if (fields)
		json_object_set_new(fields, "error", json_string(line[0] ? line : "unknown error"));
	log_json(LOG_ERROR, what, fields);
}

/* The primary message of a failed result ("relation \"x\" already exists"),
 * else whatever libpq has. */
static const char *res_msg(const PGresult *r, PGconn *c)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (m)
		return m;
	return r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(c);
}

/* 1-based line of a 1-based character position in sql (ASCII assumed). */
static int line_of(const char *sql, const char *pos)
{
	long want = pos ? strtol(pos, NULL, 10) : 0;
	int line = 1;
	long i;

	for (i = 0; i + 1 < want && sql[i]; i++)
		if (sql[i] == '\n')
			line++;
	return want > 0 ? line : 0;
}

/* Runs one statement; 0 if it succeeded, else reports what (with the
 * migration's name, if any) and returns -1. */
static int exec_ok(PGconn *c, const char *sql, int nparams, const char *const *params,
		   const char *what, const char *migration)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		report(what, res_msg(r, c),
		       migration ? json_pack("{s:s}", "migration", migration) : NULL);
	PQclear(r);
	return ok ? 0 : -1;
}

static int known(const char *name)
{
	size_t i;

	for (i = 0; i < migrations_count; i++)
		if (strcmp(migrations[i].name, name) == 0)
			return 1;
	return 0;
}

/* Applies one migration: its SQL and its schema_migrations row, atomically. */
static int apply_one(PGconn *c, const struct migration *m)
{
	const char *params[1] = {m->name};
	PGresult *r;

	if (exec_ok(c, "BEGIN", 0, NULL, "migrate: BEGIN failed", m->name) < 0)
		return -1;
	/* simple protocol: a migration holds many statements */
	r = PQexec(c, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
		int line = line_of(m->sql, pos);
		json_t *f = json_pack("{s:s}", "migration", m->name);

		if (f && line > 0)
			json_object_set_new(f, "line", json_integer(line));
		report("migration failed", res_msg(r, c), f);
		PQclear(r);
		PQclear(PQexec(c, "ROLLBACK"));
		return -1;
	}
	PQclear(r);
	if (exec_ok(c, "INSERT INTO schema_migrations (name) VALUES ($1)", 1, params,
		    "migration failed", m->name) < 0 ||
	    exec_ok(c, "COMMIT", 0, NULL, "migration failed", m->name) < 0) {
		PQclear(PQexec(c, "ROLLBACK"));
		return -1;
	}
	return 0;
}

/* Refuses a database migrated by a newer binary; fills *applied (sorted
 * names, owned by the caller via PQclear). */
static int check_applied(PGconn *c, PGresult **applied)
{
	PGresult *r = PQexec(c, "SELECT name FROM schema_migrations ORDER BY name");
	int i;

	*applied = NULL;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		report("migrate: cannot read schema_migrations", res_msg(r, c), NULL);
		PQclear(r);
		return -1;
	}
	for (i = 0; i < PQntuples(r); i++) {
		if (!known(PQgetvalue(r, i, 0))) {
			log_json(LOG_ERROR,
				 "the database schema is newer than this run-it: it has a "
				 "migration this binary does not know; upgrade run-it (or use a "
				 "database of this version)",
				 json_pack("{s:s}", "migration", PQgetvalue(r, i, 0)));
			PQclear(r);
			return -1;
		}
	}
	*applied = r;
	return 0;
}

static int is_applied(const PGresult *applied, const char *name)
{
	int i;

	for (i = 0; i < PQntuples(applied); i++)
		if (strcmp(PQgetvalue(applied, i, 0), name) == 0)
			return 1;
	return 0;
}

static int migrate_locked(PGconn *c, int verbose)
{
	PGresult *applied;
	size_t i;
	int n = 0;

	if (exec_ok(c,
		    "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " name text PRIMARY KEY,"
		    " applied_at timestamptz NOT NULL DEFAULT now())",
		    0, NULL, "migrate: cannot create schema_migrations", NULL) < 0)
		return -1;
	if (check_applied(c, &applied) < 0)
		return -1;
	for (i = 0; i < migrations_count; i++) {
		if (i > 0 && strcmp(migrations[i - 1].name, migrations[i].name) >= 0) {
			log_json(LOG_ERROR, "migrate: migrations out of order",
				 json_pack("{s:s}", "migration", migrations[i].name));
			PQclear(applied);
			return -1;
		}
		if (is_applied(applied, migrations[i].name))
			continue;
		if (apply_one(c, &migrations[i]) < 0) {
			PQclear(applied);
			return -1;
		}
		n++;
		if (verbose)
			printf("migrate: applied %s\n", migrations[i].name);
	}
	PQclear(applied);
	if (verbose && n == 0)
		printf("migrate: schema up to date (%zu migrations)\n", migrations_count);
	return 0;
}

int migrate_run(const char *conninfo, int verbose)
{
	PGconn *c;
	PGresult *r;
	int rc;

	c = PQconnectdb(conninfo ? conninfo : "");
	if (!c || PQstatus(c) != CONNECTION_OK) {
		report("cannot connect to the database", c ? PQerrorMessage(c) : "out of memory",
		       NULL);
		PQfinish(c);
		return -1;
	}
	PQsetNoticeProcessor(c, notice_silent, NULL);
	/* another server migrating right now: wait for it, then find nothing to do */
	r = PQexec(c, "SELECT pg_try_advisory_lock(" MIGRATE_LOCK_KEY ")");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		report("migrate: cannot take the migration lock", res_msg(r, c), NULL);
		PQclear(r);
		PQfinish(c);
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		if (verbose)
			printf("migrate: waiting for another server's migration\n");
		if (exec_ok(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL,
			    "migrate: cannot take the migration lock", NULL) < 0) {
			PQclear(r);
			PQfinish(c);
			return -1;
		}
	}
	PQclear(r);
	rc = migrate_locked(c, verbose);
	PQclear(PQexec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	PQfinish(c);
	fflush(stdout);
	return rc;
}
