/*
 * run_prep.c - prepared containers: a small pool per configuration (the
 * platform, the runtime's image and commands, the limits the container is
 * created with, a terminal or pipes), made before any run needs one, so
 * that any run of that configuration - a project's first included - only
 * sends its files and environment down the attached stdin and lets the
 * program go. A prepared container belongs to nobody: it is created with no
 * user, no project and none of the project's variables (they come with
 * "go"), is used by exactly one run and never again (it is removed with
 * that run), and the pool is topped up in the background once the run that
 * took one is let go. docs/decisions.md, "Prepared containers".
 *
 * The setting prepared_per_runtime is how many wait per configuration (0:
 * none). A runtime with a build cache gets none: its cache volume is the
 * project's and is mounted when the container is created (run_build.c);
 * its runs use the per-project warm containers of run_warm.c. Any change of
 * a runtime, a platform or a setting drops the whole pool (refilled by the
 * next runs); so does the shutdown (run_engine.c).
 */
#include "run_int.h"
#include "settings.h"
#include "srv.h"

#include <string.h>

/* prepared containers of one server at most, whatever the configurations */
#define PREP_MAX_TOTAL 16
/* a prepared container gives its place to another configuration only once
 * it waited this long unused: with more configurations in use at once than
 * places, each refill would otherwise end another's fresh one (20 users
 * running at once: one container in four made for nothing) */
#define PREP_KEEP_MS 10000

int run_prep_eligible(const struct run *r)
{
	const struct settings *st = settings_get(r->eng->srv);

	return st && st->prepared_per_runtime > 0 && !run_build_cached(r) && r->plat &&
	       !r->eng->srv->stopping;
}

/* The same cgroup parent with the same limits (run_pool.h): a container
 * made under one user's pool is only ever given to that user's runs. */
static int same_pool(const struct run_pool *a, const struct run_pool *b)
{
	return a->set == b->set &&
	       (!a->set || (!strcmp(a->name, b->name) && a->cpu_millis == b->cpu_millis &&
			    a->mem_bytes == b->mem_bytes));
}

/* The same container: what it was created with (run.c, run_launch). */
static int same_container(const struct run *a, const struct run *b)
{
	return !strcmp(a->image, b->image) &&
	       (a->build_cmd ? b->build_cmd && json_equal(a->build_cmd, b->build_cmd)
			     : !b->build_cmd) &&
	       json_equal(a->run_cmd, b->run_cmd) && a->memory_bytes == b->memory_bytes &&
	       a->nano_cpus == b->nano_cpus && a->pids == b->pids &&
	       a->disk_bytes == b->disk_bytes && a->disk_inodes == b->disk_inodes &&
	       a->network == b->network && a->plat == b->plat &&
	       !strcmp(a->oci_runtime, b->oci_runtime) && a->tty == b->tty &&
	       a->runtime_id == b->runtime_id && same_pool(&a->pool, &b->pool);
}

struct run *run_prep_take(struct run_engine *eng, const struct run *want, int ready_only)
{
	struct run *p;

	if (!run_prep_eligible(want))
		return NULL;
	for (p = eng->runs; p; p = p->next) {
		if (!p->prep || p->id || p->ending || (ready_only && !p->waiting) ||
		    !same_container(p, want))
			continue;
		p->prep = 0; /* out of the pool: one run, never another */
		return p;
	}
	return NULL;
}

void run_prep_refill(struct run_engine *eng, const struct run *r)
{
	const struct settings *st = settings_get(eng->srv);
	long long have = 0, total = 0;
	struct run *p, *n;

	if (!run_prep_eligible(r))
		return;
	for (p = eng->runs; p; p = n) {
		n = p->next;
		if (!p->prep || p->ending)
			continue;
		if (same_container(p, r))
			have++;
		else if (p->runtime_id == r->runtime_id && p->tty == r->tty && p->plat == r->plat &&
			 same_pool(&p->pool, &r->pool))
			/* the runtime's limits changed (another server's admin): a
			 * configuration no run asks for any more */
			run_end(p, "stopped", "the runtime changed");
		else
			total++;
	}
	total += have;
	/* full: the configuration that asks now takes the place of the one
	 * prepared longest ago (another user's, say; the list is newest
	 * first), if that one waited PREP_KEEP_MS unused */
	while (have < st->prepared_per_runtime && total >= PREP_MAX_TOTAL) {
		struct run *oldest = NULL;

		for (p = eng->runs; p; p = p->next)
			if (p->prep && !p->ending && !same_container(p, r))
				oldest = p;
		if (!oldest || srv_now_ms() - oldest->t_created < PREP_KEEP_MS)
			break;
		run_end(oldest, "stopped", "room for another configuration");
		total--;
	}
	while (have++ < st->prepared_per_runtime && total++ < PREP_MAX_TOTAL) {
		if (!(p = run_new(eng)))
			return;
		p->warm = 1;
		p->prep = 1;
		p->runtime_id = r->runtime_id;
		p->platform_id = r->platform_id;
		p->plat = r->plat;
		snprintf(p->oci_runtime, sizeof(p->oci_runtime), "%s", r->oci_runtime);
		snprintf(p->runtime_code, sizeof(p->runtime_code), "%s", r->runtime_code);
		snprintf(p->image, sizeof(p->image), "%s", r->image);
		p->build_cmd = r->build_cmd ? json_incref(r->build_cmd) : NULL;
		p->run_cmd = json_incref(r->run_cmd);
		p->env = json_object(); /* none: the run's come down stdin */
		p->wall_ms = r->wall_ms;
		p->memory_bytes = r->memory_bytes;
		p->nano_cpus = r->nano_cpus;
		p->pids = r->pids;
		p->output_limit = r->output_limit;
		p->disk_bytes = r->disk_bytes;
		p->disk_inodes = r->disk_inodes;
		p->network = r->network;
		p->build_wall_ms = r->build_wall_ms;
		p->tty = r->tty;
		p->pool = r->pool; /* under its user's cgroup parent */
		run_launch(p);
	}
}

void run_prep_drop_all(struct run_engine *eng, const char *why)
{
	struct run *p, *n;

	for (p = eng->runs; p; p = n) {
		n = p->next;
		if (p->prep && !p->id)
			run_end(p, "stopped", why);
	}
}
