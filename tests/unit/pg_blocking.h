/*
 * pg_blocking.h - blocking libpq helpers for tests that need PostgreSQL:
 * set-up and checks only, never on an event loop.
 */
#ifndef RUNIT_TEST_PG_BLOCKING_H
#define RUNIT_TEST_PG_BLOCKING_H

#include <stddef.h>
#include <libpq-fe.h>

/* base conninfo with dbname replaced by db, as key='value' pairs; 0 or -1. */
int conninfo_with_db(const char *base, const char *db, char *out, size_t n);
/* Run sql on a throwaway connection; a failure fails the test. */
void exec_blocking(const char *conninfo, const char *sql);
/* The first value of a query on a throwaway connection, copied into out. */
void query_blocking(const char *conninfo, const char *sql, char *out, size_t n);

#endif
