/*
 * run_table.c - the engine's list of runs and what can be read off it
 * without changing a run: find one, visit all, describe one, count them.
 * The bottom of the run engine: every other run_*.c file may use it.
 */
#include "run_int.h"
#include "srv.h"

#include <stdlib.h>

static const char *const state_names[] = {"queued",  "starting", "building",
					  "running", "stopping", "finished"};

const char *run_state_name(enum run_state s)
{
	return state_names[s];
}

long long run_id(const struct run *r)
{
	return r->id;
}

long long run_user(const struct run *r)
{
	return r->user_id;
}

long long run_project(const struct run *r)
{
	return r->project_id;
}

struct run *run_find(struct srv *srv, long long id)
{
	struct run *r;

	if (!srv->runs)
		return NULL;
	for (r = srv->runs->runs; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

void run_foreach(struct srv *srv, void (*fn)(struct run *, void *), void *arg)
{
	struct run *r, *n;

	if (!srv->runs)
		return;
	for (r = srv->runs->runs; r; r = n) {
		n = r->next;
		if (r->id) /* not the warm containers */
			fn(r, arg);
	}
}

json_t *run_describe(const struct run *r)
{
	return json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:I, s:I}", "run", (json_int_t)r->id,
			 "user", (json_int_t)r->user_id, "username", r->username, "project",
			 (json_int_t)r->project_id, "state", state_names[r->state], "runtime",
			 r->runtime_code, "output_bytes", (json_int_t)r->out_bytes, "age_ms",
			 (json_int_t)(srv_now_ms() - r->t_created));
}

/* Take r out of the engine's list (it is being freed). */
void run_unlink(struct run *r)
{
	struct run **pp = &r->eng->runs;

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

size_t run_count_on_platform(struct srv *srv, long long platform_id)
{
	size_t n = 0;

	if (srv->runs)
		for (struct run *r = srv->runs->runs; r; r = r->next)
			n += r->id && r->platform_id == platform_id;
	return n;
}

int run_engine_busy(struct srv *srv)
{
	/* a slot: a start under way too (one waiting to try its row again) */
	return srv->runs && (srv->runs->runs || srv->runs->removing || srv->runs->slots);
}
