/*
 * migrate.h - forward-only schema migrations, compiled in from sql/NNN_*.sql
 * (server/embed_sql.cmake writes the table). Applied in order, each in its own
 * transaction, recorded in schema_migrations. Used by `run-it migrate` and at
 * `serve` start, before the event loop runs (so blocking libpq is fine here).
 */
#ifndef RUNIT_MIGRATE_H
#define RUNIT_MIGRATE_H

#include <stddef.h>

struct migration {
	const char *name; /* "001_init" */
	const char *sql;
};
extern const struct migration migrations[];
extern const size_t migrations_count;

/* Apply what is missing. Returns 0, or -1 after one clear log line (log.h).
 * verbose: say on stdout what was applied (the migrate command). */
int migrate_run(const char *conninfo, int verbose);

#endif
