/*
 * run_pool.c - the per-user resource pool (run_pool.h): the run row's
 * insert through runit_run_insert_pooled() (sql/020_pool.sql), the
 * POOL_FULL answer that says what holds the pool, and the pool's name and
 * limits for the platform. run_start.c calls it around the row's insert;
 * run.c puts the pool in the container's spec.
 */
#include "run_pool.h"
#include "platform.h"
#include "rpc.h"
#include "srv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int run_pool_insert(struct srv *srv, const char *const params[6], const char *cands,
		    long long nano_cpus, long long mem_bytes, db_cb cb, void *arg)
{
	char cpu[24], mem[24];
	const char *p[8];

	memcpy(p, params, 6 * sizeof(p[0]));
	/* a run reserves whole millicores: 0.0015 CPU holds 2 */
	snprintf(cpu, sizeof(cpu), "%lld", (nano_cpus + 999999) / 1000000);
	snprintf(mem, sizeof(mem), "%lld", mem_bytes);
	p[6] = cpu;
	p[7] = mem;
	if (cands && cands[0]) { /* no platform yet: the queue places it */
		p[3] = p[4], p[4] = p[5], p[5] = cands;
		return db_query(srv->db,
				"SELECT id, active, lim, platform_id, q_position, kind, endpoint, "
				"oci_runtime, name, pool FROM "
				"runit_run_enqueue($1, $2, $3, $4, $5::jsonb, $6, $7, $8)",
				8, p, cb, arg);
	}
	return db_query(srv->db,
			"SELECT id, active, lim, pool FROM runit_run_insert_pooled($1, $2, $3, $4, "
			"$5, $6::jsonb, $7, $8)",
			8, p, cb, arg);
}

static long long num(json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

/* "1.5 CPUs", "1 CPU", "250 millicores" */
static void cpu_text(long long millis, char *out, size_t n)
{
	if (millis < 1000)
		snprintf(out, n, "%lld millicores", millis);
	else if (millis % 1000 == 0)
		snprintf(out, n, "%lld CPU%s", millis / 1000, millis == 1000 ? "" : "s");
	else
		snprintf(out, n, "%.2g CPUs", (double)millis / 1000.0);
}

static void mem_text(long long bytes, char *out, size_t n)
{
	if (bytes >= (1LL << 30) && bytes % (1LL << 30) == 0)
		snprintf(out, n, "%lld GiB", bytes >> 30);
	else
		snprintf(out, n, "%lld MiB", (bytes + (1LL << 20) - 1) >> 20);
}

/* "“a” and “b”", "“a”, “b” and 3 more": the projects of the holders. */
static void names_text(json_t *holders, char *out, size_t n)
{
	size_t i, count = json_array_size(holders), shown = count > 3 ? 2 : count;
	size_t len = 0;

	out[0] = '\0';
	for (i = 0; i < shown && len < n; i++) {
		const char *name =
		    json_string_value(json_object_get(json_array_get(holders, i), "project"));
		const char *sep = i == 0 ? "" : (i + 1 == shown && count == shown) ? " and " : ", ";
		int k = snprintf(out + len, n - len, "%s\"%.60s\"", sep, name ? name : "?");

		if (k < 0)
			return;
		len += (size_t)k;
	}
	if (count > shown && len < n)
		snprintf(out + len, n - len, " and %zu more", count - shown);
}

int run_pool_refused(struct rpc_call *c, PGresult *res)
{
	json_t *pool, *holders;
	long long bc, bm, uc, um, nc, nm;
	int cpu_short, mem_short;
	char msg[512], names[256], have[48], need[48];
	const char *what;
	int col = PQfnumber(res, "pool");

	if (col < 0 || PQgetisnull(res, 0, col) || !PQgetisnull(res, 0, 0))
		return 0;
	pool = json_loads(PQgetvalue(res, 0, col), 0, NULL);
	if (!json_is_true(json_object_get(pool, "full"))) {
		json_decref(pool);
		return 0;
	}
	bc = num(pool, "budget", "cpu_millis");
	bm = num(pool, "budget", "mem_bytes");
	uc = num(pool, "used", "cpu_millis");
	um = num(pool, "used", "mem_bytes");
	nc = num(pool, "need", "cpu_millis");
	nm = num(pool, "need", "mem_bytes");
	cpu_short = bc > 0 && uc + nc > bc;
	mem_short = bm > 0 && um + nm > bm;
	what = cpu_short && mem_short ? "CPU and memory pool"
	       : cpu_short	      ? "CPU pool"
				      : "memory pool";
	if (cpu_short) {
		cpu_text(bc, have, sizeof(have));
		cpu_text(nc, need, sizeof(need));
	} else {
		mem_text(bm, have, sizeof(have));
		mem_text(nm, need, sizeof(need));
	}
	holders = json_object_get(pool, "holders");
	if ((cpu_short && nc > bc) || (!cpu_short && mem_short && nm > bm) ||
	    !json_array_size(holders)) {
		snprintf(msg, sizeof(msg),
			 "this run needs %s, more than your whole %s (%s): ask an admin for a "
			 "larger pool",
			 need, what, have);
	} else {
		names_text(holders, names, sizeof(names));
		snprintf(msg, sizeof(msg),
			 "your run%s in %s hold%s your %s (%s; this run needs %s): stop %s to run "
			 "this one",
			 json_array_size(holders) > 1 ? "s" : "", names,
			 json_array_size(holders) > 1 ? "" : "s", what, have, need,
			 json_array_size(holders) > 1 ? "one of them" : "it");
	}
	json_object_del(pool, "full");
	rpc_fail(c, PROTO_R_POOL_FULL, msg, pool);
	return 1;
}

void run_pool_read(struct srv *srv, PGresult *res, long long user_id, struct run_pool *out)
{
	json_t *pool;
	int col = PQfnumber(res, "pool");

	memset(out, 0, sizeof(*out));
	if (col < 0 || PQgetisnull(res, 0, col))
		return;
	pool = json_loads(PQgetvalue(res, 0, col), 0, NULL);
	if (json_is_object(pool)) {
		out->set = 1;
		out->cpu_millis = json_integer_value(json_object_get(pool, "cpu_millis"));
		out->mem_bytes = json_integer_value(json_object_get(pool, "mem_bytes"));
		snprintf(out->name, sizeof(out->name), "%su%lld", srv->cfg.pool_prefix, user_id);
	}
	json_decref(pool);
}

void run_pool_spec(const struct run_pool *p, struct plat_spec *spec)
{
	if (!p->set)
		return;
	spec->pool = p->name;
	spec->pool_nano_cpus = (uint64_t)p->cpu_millis * 1000000ULL;
	spec->pool_memory_bytes = (uint64_t)p->mem_bytes;
}
