/*
 * test_db_pool.c - the libpq pool (server/base/db_*.c) and the migrations
 * (server/base/migrate.c) against a live PostgreSQL: RUNIT_DATABASE_URL, normally
 * the private cluster of scripts/lib/pg.sh. Each run works in scratch
 * databases of its own (the role needs CREATEDB, as pg.sh gives it) and drops
 * them at the end. The restart test restarts that cluster through pg.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <uv.h>

#include "db.h"
#include "db_fix.h"
#include "pg_blocking.h"
#include "migrate.h"

static const char *g_url;  /* RUNIT_DATABASE_URL */
static char g_pool_db[64]; /* scratch database for the pool tests */
static char g_pool_url[1024];
static char g_mig_db[64]; /* scratch database for the migrations */
static char g_mig_url[1024];

/* The same on a held connection. */
static void cq(struct fix *f, struct db_conn *c, struct res *r, const char *sql)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(db_conn_query(c, sql, 0, NULL, on_res, r), 0);
	assert_int_equal(run_until(&f->loop, &r->done, 1, 15000), 0);
	assert_int_equal(r->done, 1);
}

struct acq {
	int done;
	struct db_conn *c;
};

static void on_acq(void *arg, struct db_conn *c, const char *err)
{
	struct acq *a = arg;

	assert_null(err);
	a->c = c;
	a->done++;
}

static struct db_conn *acquire(struct fix *f)
{
	struct acq a = {0};

	assert_int_equal(db_acquire(f->pool, on_acq, &a), 0);
	assert_int_equal(a.done, 0); /* never from inside the call */
	assert_int_equal(run_until(&f->loop, &a.done, 1, 15000), 0);
	assert_non_null(a.c);
	return a.c;
}

/* --------------------------------------------------------------- tests */

struct many {
	int done;
	int in_call;
	int order[100];
	int bad;
};

struct one {
	struct many *m;
	int i;
};

static void on_many(void *arg, PGresult *res, const char *err)
{
	struct one *o = arg;

	if (o->m->in_call || err || !res ||
	    strtol(PQgetvalue(res, 0, 0), NULL, 10) != (long)o->i * 2)
		o->m->bad++;
	o->m->order[o->m->done++] = o->i;
}

static void hundred_queries_on_four_connections_all_complete(void **state)
{
	struct fix *f = fix_new(g_pool_url, 4);
	struct many m = {0};
	struct one ones[100];
	struct db_stats st;
	int i, seen[100] = {0};

	(void)state;
	for (i = 0; i < 100; i++) {
		char num[16];
		const char *p[1] = {num};

		snprintf(num, sizeof(num), "%d", i);
		ones[i].m = &m;
		ones[i].i = i;
		m.in_call = 1;
		assert_int_equal(db_query(f->pool, "SELECT $1::int * 2", 1, p, on_many, &ones[i]),
				 0);
		m.in_call = 0;
	}
	db_pool_stats(f->pool, &st);
	assert_int_equal(st.queued, 100);
	assert_int_equal(run_until(&f->loop, &m.done, 100, 15000), 0);
	assert_int_equal(m.bad, 0);
	for (i = 0; i < 100; i++)
		seen[m.order[i]]++;
	for (i = 0; i < 100; i++)
		assert_int_equal(seen[i], 1);
	/* the pool opens all four; on a busy machine the last may still be
	 * connecting when three have answered everything */
	for (int waited = 0; waited < 15000; waited += 50) {
		db_pool_stats(f->pool, &st);
		if (st.connected == 4)
			break;
		run_for(&f->loop, 50);
	}
	assert_int_equal(st.size, 4);
	assert_int_equal(st.connected, 4);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.in_use, 0);
	assert_true(st.queries == 100 && st.errors == 0);
	fix_free(f);

	/* one connection: the FIFO shows as callbacks in submission order */
	f = fix_new(g_pool_url, 1);
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 100; i++) {
		char num[16];
		const char *p[1] = {num};

		snprintf(num, sizeof(num), "%d", i);
		assert_int_equal(db_query(f->pool, "SELECT $1::int * 2", 1, p, on_many, &ones[i]),
				 0);
	}
	assert_int_equal(run_until(&f->loop, &m.done, 100, 15000), 0);
	assert_int_equal(m.bad, 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(m.order[i], i);
	fix_free(f);
}

static void weird_parameters_round_trip(void **state)
{
	static const char *const texts[] = {
	    "",
	    "'",
	    "''",
	    "\"",
	    "\\",
	    "\\'; DROP TABLE kv; --",
	    "$1",
	    "$$ $q$",
	    "line1\nline2\r\n\ttab",
	    "<script>alert(1)</script>",
	    "grüße ✓ 🚀",
	    "%s%n%x",
	    "E'\\x41'",
	    "NULL",
	};
	struct fix *f = fix_new(g_pool_url, 2);
	struct res r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char copy[128];
		const char *p[1] = {copy};

		snprintf(copy, sizeof(copy), "%s", texts[i]);
		memset(&r, 0, sizeof(r));
		assert_int_equal(db_query(f->pool, "SELECT $1::text", 1, p, on_res, &r), 0);
		memset(copy, 'X', sizeof(copy) - 1); /* the pool copied it */
		assert_int_equal(run_until(&f->loop, &r.done, 1, 15000), 0);
		assert_true(r.ok);
		assert_false(r.isnull);
		assert_string_equal(r.val, texts[i]);
	}
	{
		const char *p[2] = {NULL, "x"};

		q(f, &r, "SELECT $1::text IS NULL AND $2::text = 'x'", 2, p);
		assert_true(r.ok);
		assert_string_equal(r.val, "t");
	}
	fix_free(f);
}

static void large_parameter_is_flushed_in_pieces(void **state)
{
	size_t n = 8u << 20; /* far more than a socket buffer: PQflush returns 1 */
	char *big = malloc(n + 1);
	struct fix *f = fix_new(g_pool_url, 1);
	const char *p[1] = {big};
	struct res r;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = '\0';
	big[n / 2] = '\'';
	q(f, &r, "SELECT length($1)::text || ' ' || md5($1)", 1, p);
	free(big);
	assert_true(r.ok);
	assert_non_null(strstr(r.val, "8388608 "));
	fix_free(f);
}

struct freer {
	struct fix *f;
	int done;
};

static void on_free_pool(void *arg, PGresult *res, const char *err)
{
	struct freer *fr = arg;

	assert_non_null(res);
	assert_null(err);
	fr->done++;
	db_pool_free(fr->f->pool); /* from inside a callback */
}

static void pool_freed_from_inside_a_callback(void **state)
{
	struct fix *f = fix_new(g_pool_url, 1);
	struct freer fr = {f, 0};
	struct res later;

	(void)state;
	memset(&later, 0, sizeof(later));
	assert_int_equal(db_query(f->pool, "SELECT 1", 0, NULL, on_free_pool, &fr), 0);
	assert_int_equal(db_query(f->pool, "SELECT 2", 0, NULL, on_res, &later), 0);
	uv_run(&f->loop, UV_RUN_DEFAULT); /* ends once the pool's handles closed */
	assert_int_equal(fr.done, 1);
	assert_int_equal(later.done, 1);
	assert_string_equal(later.err, "shutting down");
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
}

static void sql_error_gives_err_and_sqlstate(void **state)
{
	struct fix *f = fix_new(g_pool_url, 1);
	struct res r;
	const char *p[1] = {"k-dup"};

	(void)state;
	q(f, &r, "SELECT 1/0", 0, NULL);
	assert_false(r.ok);
	assert_string_equal(r.sqlstate, "22012");
	assert_non_null(strstr(r.err, "division by zero"));
	q(f, &r, "SELEKT 1", 0, NULL);
	assert_string_equal(r.sqlstate, "42601");
	q(f, &r, "INSERT INTO kv (k, v) VALUES ($1, 'a')", 1, p);
	assert_true(r.ok);
	q(f, &r, "INSERT INTO kv (k, v) VALUES ($1, 'b')", 1, p);
	assert_false(r.ok);
	assert_string_equal(r.sqlstate, "23505");
	assert_string_equal(r.constraint, "kv_pkey");
	assert_string_equal(db_last_sqlstate(f->pool), ""); /* only during the callback */
	q(f, &r, "SELECT 'still fine'", 0, NULL);	    /* same connection, still usable */
	assert_true(r.ok);
	assert_string_equal(r.val, "still fine");
	assert_string_equal(r.sqlstate, "");
	fix_free(f);
}

static void transaction_commit_and_rollback(void **state)
{
	struct fix *f = fix_new(g_pool_url, 2);
	struct db_conn *c;
	struct res r;

	(void)state;
	c = acquire(f);
	cq(f, c, &r, "BEGIN");
	cq(f, c, &r, "INSERT INTO kv VALUES ('t-commit', '1')");
	assert_true(r.ok);
	assert_int_equal(db_conn_query(c, "SELECT 1", 0, NULL, on_res, &r), 0);
	assert_int_equal(db_conn_query(c, "SELECT 2", 0, NULL, on_res, &r), -1); /* one at a time */
	r.done = 0;
	assert_int_equal(run_until(&f->loop, &r.done, 1, 15000), 0);
	cq(f, c, &r, "COMMIT");
	assert_true(r.ok);
	db_release(c);

	c = acquire(f);
	cq(f, c, &r, "BEGIN");
	cq(f, c, &r, "INSERT INTO kv VALUES ('t-rollback', '1')");
	cq(f, c, &r, "ROLLBACK");
	db_release(c);

	q(f, &r, "SELECT count(*) FROM kv WHERE k = 't-commit'", 0, NULL);
	assert_string_equal(r.val, "1");
	q(f, &r, "SELECT count(*) FROM kv WHERE k = 't-rollback'", 0, NULL);
	assert_string_equal(r.val, "0");
	fix_free(f);
}

static void release_inside_transaction_rolls_back(void **state)
{
	struct fix *f = fix_new(g_pool_url, 1); /* one connection: reuse is certain */
	struct db_conn *c;
	struct res r, r2;
	char xid[256];

	(void)state;
	c = acquire(f);
	cq(f, c, &r, "BEGIN");
	cq(f, c, &r, "INSERT INTO kv VALUES ('t-released', '1')");
	db_release(c);
	q(f, &r,
	  "SELECT count(*)::text || ':' || (pg_current_xact_id_if_assigned() IS NULL)::text"
	  " FROM kv WHERE k = 't-released'",
	  0, NULL);
	assert_true(r.ok);
	assert_string_equal(r.val, "0:true");

	/* released with a statement in flight: its callback still runs once */
	c = acquire(f);
	cq(f, c, &r, "BEGIN");
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(
	    db_conn_query(c, "INSERT INTO kv VALUES ('t-inflight', '1')", 0, NULL, on_res, &r2), 0);
	db_release(c);
	q(f, &r, "SELECT count(*) FROM kv WHERE k = 't-inflight'", 0, NULL);
	assert_int_equal(r2.done, 1);
	assert_true(r2.ok);
	assert_string_equal(r.val, "0");

	/* db_query leaving a transaction open is cleaned up too */
	q(f, &r, "BEGIN", 0, NULL);
	q(f, &r, "SELECT pg_current_xact_id()::text", 0, NULL);
	snprintf(xid, sizeof(xid), "%s", r.val);
	q(f, &r, "SELECT pg_current_xact_id()::text", 0, NULL);
	assert_true(r.ok);
	assert_string_not_equal(r.val, xid); /* two transactions, not the BEGIN's one */
	fix_free(f);
}

static void held_connection_starves_health_probe(void **state)
{
	struct fix *f = fix_new(g_pool_url, 1);
	struct db_stats st;
	struct db_conn *c;
	int healthy = 0, unhealthy = 0;

	(void)state;
	db_pool_start_health(f->pool, 100);
	for (int i = 0; i < 50 && !healthy; i++) {
		run_for(&f->loop, 100);
		db_pool_stats(f->pool, &st);
		healthy = st.healthy;
	}
	assert_true(healthy);
	c = acquire(f); /* the probe now waits in the queue */
	for (int i = 0; i < 40 && !unhealthy; i++) {
		run_for(&f->loop, 100);
		db_pool_stats(f->pool, &st);
		unhealthy = !st.healthy;
	}
	assert_true(unhealthy); /* within ~2 s, well before the 5 s queue limit */
	db_release(c);
	healthy = 0;
	for (int i = 0; i < 50 && !healthy; i++) {
		run_for(&f->loop, 100);
		db_pool_stats(f->pool, &st);
		healthy = st.healthy;
	}
	assert_true(healthy);
	fix_free(f);
}

static void unreachable_database_fails_queued_queries(void **state)
{
	struct fix *f = fix_new("postgresql://runit:x@127.0.0.1:1/none?connect_timeout=2", 2);
	struct res r, r2;
	uint64_t t0;

	(void)state;
	assert_null(db_pool_new(&f->loop, "host='unterminated", 1));
	assert_null(db_pool_new(&f->loop, g_url, 0));
	memset(&r, 0, sizeof(r));
	t0 = uv_now(&f->loop);
	assert_int_equal(db_query(f->pool, "SELECT 1", 0, NULL, on_res, &r), 0);
	assert_int_equal(run_until(&f->loop, &r.done, 1, 8000), 0);
	assert_true(uv_now(&f->loop) - t0 >= 4900);
	assert_false(r.ok);
	assert_string_equal(r.err, "database unavailable");
	assert_string_equal(r.sqlstate, "08001");
	/* freeing with requests queued: their callbacks say so */
	memset(&r2, 0, sizeof(r2));
	assert_int_equal(db_query(f->pool, "SELECT 1", 0, NULL, on_res, &r2), 0);
	db_pool_free(f->pool);
	assert_int_equal(r2.done, 1);
	assert_string_equal(r2.err, "shutting down");
	assert_int_equal(db_query(f->pool, "SELECT 1", 0, NULL, on_res, &r2), -1);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
}

struct heard {
	int notes;
	int resyncs;
	char payload[64];
};

static void on_note(void *arg, const char *channel, const char *payload)
{
	struct heard *h = arg;

	assert_string_equal(channel, "runit_Test");
	if (!payload) {
		h->resyncs++;
		return;
	}
	h->notes++;
	snprintf(h->payload, sizeof(h->payload), "%s", payload);
}

/* NOTIFY until the listener hears it (the LISTEN may still be on its way). */
static int notify_until_heard(struct fix *f, struct heard *h, const char *payload)
{
	const char *p[1] = {payload};
	struct res r;
	int i, before = h->notes;

	for (i = 0; i < 100; i++) {
		memset(&r, 0, sizeof(r));
		if (db_query(f->pool, "SELECT pg_notify('runit_Test', $1)", 1, p, on_res, &r) < 0)
			return -1;
		run_until(&f->loop, &r.done, 1, 6000);
		if (run_until(&f->loop, &h->notes, before + 1, 100) == 0)
			return strcmp(h->payload, payload) == 0 ? 0 : -1;
	}
	return -1;
}

static void listen_notify_delivers(void **state)
{
	struct fix *f = fix_new(g_pool_url, 1);
	struct heard h = {0};

	(void)state;
	assert_int_equal(db_listen(f->pool, "bad name", on_note, &h), -1);
	assert_int_equal(db_listen(f->pool, "runit_Test", on_note, &h), 0);
	assert_int_equal(notify_until_heard(f, &h, "hello 'there'"), 0);
	assert_int_equal(h.resyncs, 0);
	fix_free(f);
}

/* Restart the cluster through the project's script, like scripts/test. */
static int restart_postgres(void)
{
	char root[1024], cmd[2048];
	const char *file = __FILE__, *tail = strstr(file, "tests/unit/test_db_pool.c");
	const char *dir = getenv("RUNIT_DATA_DIR");
	PQconninfoOption *o = PQconninfoParse(g_url, NULL), *it;
	const char *port = "5433";

	for (it = o; it && it->keyword; it++)
		if (strcmp(it->keyword, "port") == 0 && it->val)
			port = it->val;
	snprintf(root, sizeof(root), "%.*s", tail ? (int)(tail - file) : 0, file);
	snprintf(cmd, sizeof(cmd),
		 "RUNIT_PG_PORT='%s' bash -c '. \"%sscripts/lib/pg.sh\" && pg_restart' >/dev/null",
		 port, root[0] ? root : "./");
	PQconninfoFree(o);
	if (!dir)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

struct sampler {
	struct db_pool *pool;
	int saw_down, saw_up_after;
};

static void on_sample(uv_timer_t *t)
{
	struct sampler *s = t->data;
	struct db_stats st;

	db_pool_stats(s->pool, &st);
	if (!st.healthy)
		s->saw_down = 1;
	else if (s->saw_down)
		s->saw_up_after = 1;
}

static void pool_survives_postgres_restart(void **state)
{
	char pgv[1200];
	const char *dir = getenv("RUNIT_DATA_DIR");
	struct fix *f;
	struct sampler s = {0};
	struct heard h = {0};
	uv_timer_t t;
	struct res r;
	struct db_stats st;
	uint64_t t0;
	int ok = 0;

	(void)state;
	snprintf(pgv, sizeof(pgv), "%s/pg/PG_VERSION", dir ? dir : "");
	if (!dir || access(pgv, F_OK) != 0) {
		printf("SKIP: pool_survives_postgres_restart: RUNIT_DATA_DIR does not hold a "
		       "scripts/lib/pg.sh cluster to restart\n");
		skip();
	}
	f = fix_new(g_pool_url, 3);
	db_pool_start_health(f->pool, 100);
	assert_int_equal(db_listen(f->pool, "runit_Test", on_note, &h), 0);
	q(f, &r, "SELECT 1", 0, NULL);
	assert_true(r.ok);
	assert_int_equal(notify_until_heard(f, &h, "before"), 0);
	run_for(&f->loop, 300); /* a probe completes */
	db_pool_stats(f->pool, &st);
	assert_true(st.healthy);

	s.pool = f->pool;
	uv_timer_init(&f->loop, &t);
	t.data = &s;
	uv_timer_start(&t, on_sample, 5, 5);
	assert_int_equal(restart_postgres(), 0);
	t0 = uv_now(&f->loop);
	/* a query sent before the pool noticed may fail (08006); then retry */
	while (!ok && uv_now(&f->loop) - t0 < 10000) {
		q(f, &r, "SELECT 'back'", 0, NULL);
		if (r.ok)
			ok = 1;
		else
			assert_memory_equal(r.sqlstate, "08", 2); /* connection class */
		uv_update_time(&f->loop);
	}
	assert_true(ok);
	assert_string_equal(r.val, "back");
	run_until(&f->loop, &s.saw_up_after, 1, 5000);
	assert_true(s.saw_down);
	assert_true(s.saw_up_after);
	/* the listener came back and LISTENs again */
	assert_int_equal(notify_until_heard(f, &h, "after"), 0);
	assert_true(h.resyncs >= 1);
	for (int i = 0; i < 50; i++) { /* the others reconnect too */
		db_pool_stats(f->pool, &st);
		if (st.connected == 3)
			break;
		run_for(&f->loop, 100);
	}
	assert_int_equal(st.connected, 3);
	uv_close((uv_handle_t *)&t, NULL);
	fix_free(f);
}

static void migrate_twice_is_a_noop(void **state)
{
	char v1[64], v2[64], n[64];
	struct fix *f;
	struct res r;

	(void)state;
	assert_int_equal(migrate_run(g_mig_url, 1), 0);
	query_blocking(g_mig_url, "SELECT count(*) FROM schema_migrations", n, sizeof(n));
	assert_int_equal(strtol(n, NULL, 10), (long)migrations_count);
	query_blocking(g_mig_url, "SELECT max(applied_at)::text FROM schema_migrations", v1,
		       sizeof(v1));
	assert_int_equal(migrate_run(g_mig_url, 0), 0);
	query_blocking(g_mig_url, "SELECT max(applied_at)::text FROM schema_migrations", v2,
		       sizeof(v2));
	assert_string_equal(v1, v2);
	query_blocking(g_mig_url, "SELECT count(*) FROM schema_migrations", n, sizeof(n));
	assert_int_equal(strtol(n, NULL, 10), (long)migrations_count);

	/* the schema's central rule, seen through the pool as the server sees it */
	exec_blocking(
	    g_mig_url,
	    "INSERT INTO users (username, password_hash) VALUES ('alice', 'x');"
	    "INSERT INTO runtimes (code, name, language, version, image, run_cmd, entry_file)"
	    " VALUES ('sh', 'Shell', 'sh', '1', 'runit/sh', '[\"sh\", \"main.sh\"]', 'main.sh');"
	    "INSERT INTO projects (owner_id, name, runtime_id) VALUES (1, 'p', 1)");
	f = fix_new(g_mig_url, 2);
	q(f, &r,
	  "INSERT INTO runs (user_id, project_id, runtime_id, instance) VALUES (1, 1, 1, 'i')", 0,
	  NULL);
	assert_true(r.ok);
	q(f, &r,
	  "INSERT INTO runs (user_id, project_id, runtime_id, instance) VALUES (1, 1, 1, 'i')", 0,
	  NULL);
	assert_false(r.ok);
	assert_string_equal(r.sqlstate, "23505");
	assert_string_equal(r.constraint, "one_active_run");
	q(f, &r, "INSERT INTO files (project_id, path, content) VALUES (1, 'a/../../b', '')", 0,
	  NULL);
	assert_string_equal(r.sqlstate, "23514");
	fix_free(f);

	/* a database migrated by a newer binary is refused */
	exec_blocking(g_mig_url,
		      "INSERT INTO schema_migrations (name) VALUES ('999_from_the_future')");
	assert_int_equal(migrate_run(g_mig_url, 0), -1);
	assert_int_equal(migrate_run("postgresql://runit:x@127.0.0.1:1/none", 0), -1);
}

/* ------------------------------------------------------------- set-up */

/* Drops scratch databases left by runs of this test that crashed. */
static void drop_stale_scratch(void)
{
	PGconn *c = PQconnectdb(g_url);
	PGresult *r =
	    PQexec(c, "SELECT datname, substring(datname from '[0-9]+$')"
		      " FROM pg_database WHERE datname ~ '^runit_test_(pool|migrate)_[0-9]+$'");
	char sql[256];
	int i;

	for (i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++) {
		pid_t pid = (pid_t)strtol(PQgetvalue(r, i, 1), NULL, 10);

		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* its test may still be running */
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
			 PQgetvalue(r, i, 0));
		PQclear(PQexec(c, sql));
	}
	PQclear(r);
	PQfinish(c);
}

static int group_setup(void **state)
{
	char sql[256];

	(void)state;
	drop_stale_scratch();
	snprintf(g_pool_db, sizeof(g_pool_db), "runit_test_pool_%ld", (long)getpid());
	snprintf(g_mig_db, sizeof(g_mig_db), "runit_test_migrate_%ld", (long)getpid());
	if (conninfo_with_db(g_url, g_pool_db, g_pool_url, sizeof(g_pool_url)) < 0 ||
	    conninfo_with_db(g_url, g_mig_db, g_mig_url, sizeof(g_mig_url)) < 0)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", g_pool_db);
	exec_blocking(g_url, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", g_mig_db);
	exec_blocking(g_url, sql);
	exec_blocking(g_pool_url, "CREATE TABLE kv (k text PRIMARY KEY, v text)");
	return 0;
}

static int group_teardown(void **state)
{
	char sql[256];

	(void)state;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_pool_db);
	exec_blocking(g_url, sql);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_mig_db);
	exec_blocking(g_url, sql);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hundred_queries_on_four_connections_all_complete),
	    cmocka_unit_test(weird_parameters_round_trip),
	    cmocka_unit_test(large_parameter_is_flushed_in_pieces),
	    cmocka_unit_test(pool_freed_from_inside_a_callback),
	    cmocka_unit_test(sql_error_gives_err_and_sqlstate),
	    cmocka_unit_test(transaction_commit_and_rollback),
	    cmocka_unit_test(release_inside_transaction_rolls_back),
	    cmocka_unit_test(held_connection_starves_health_probe),
	    cmocka_unit_test(listen_notify_delivers),
	    cmocka_unit_test(unreachable_database_fails_queued_queries),
	    cmocka_unit_test(migrate_twice_is_a_noop),
	    cmocka_unit_test(pool_survives_postgres_restart),
	};

	g_url = getenv("RUNIT_DATABASE_URL");
	if (!g_url || !*g_url) {
		printf("SKIP: RUNIT_DATABASE_URL not set\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
