/*
 * run_warm.c - warm containers: after a run ends, the next one of that
 * (user, project) is prepared with the same image, command, env, limits
 * and terminal or pipes (created, started, attached, its program waiting for one line on stdin),
 * so that "run again" only puts the files in and lets it go
 * (run_launch_adopted in run.c). An unused one goes after WARM_IDLE_MS.
 */
#include "run_int.h"
#include "srv.h"

#include <string.h>

static void on_warm_idle(uv_timer_t *t)
{
	run_end(t->data, "stopped", "warm container not used");
}

/* 1 when a warm container w (ready or still starting) was made for exactly
 * this configuration. */
int run_warm_matches(const struct run *w, const char *image, json_t *build_cmd, json_t *run_cmd,
		     json_t *env, long long wall_ms, long long memory, long long cpus,
		     long long pids, long long output, long long disk_bytes, long long disk_inodes,
		     int network, struct plat *plat, const char *oci_runtime, long long cache_bytes,
		     int tty)
{
	return !w->ending && !strcmp(w->image, image) &&
	       (w->build_cmd ? build_cmd && json_equal(w->build_cmd, build_cmd) : !build_cmd) &&
	       json_equal(w->run_cmd, run_cmd) && json_equal(w->env, env) &&
	       w->wall_ms == wall_ms && w->memory_bytes == memory && w->nano_cpus == cpus &&
	       w->pids == pids && w->output_limit == output && w->disk_bytes == disk_bytes &&
	       w->disk_inodes == disk_inodes && w->network == network && w->plat == plat &&
	       !strcmp(w->oci_runtime, oci_runtime) && w->cache_bytes == cache_bytes &&
	       w->tty == tty;
}

/* Prepare the next run of a finished one: same image, command, env, limits. */
struct run *run_warm_prepare(struct run_engine *eng, const struct run *done)
{
	struct run *w;
	size_t nwarm = 0;

	for (w = eng->runs; w; w = w->next)
		nwarm += !w->id && !w->prep;
	if (nwarm >= (size_t)eng->srv->cfg.warm_containers || !(w = run_new(eng)))
		return NULL;
	w->warm = 1;
	w->user_id = done->user_id;
	w->project_id = done->project_id;
	w->runtime_id = done->runtime_id;
	w->platform_id = done->platform_id;
	w->plat = done->plat;
	snprintf(w->oci_runtime, sizeof(w->oci_runtime), "%s", done->oci_runtime);
	snprintf(w->runtime_code, sizeof(w->runtime_code), "%s", done->runtime_code);
	snprintf(w->image, sizeof(w->image), "%s", done->image);
	w->build_cmd = json_incref(done->build_cmd);
	w->run_cmd = json_incref(done->run_cmd);
	w->env = json_incref(done->env);
	w->wall_ms = done->wall_ms;
	w->memory_bytes = done->memory_bytes;
	w->nano_cpus = done->nano_cpus;
	w->pids = done->pids;
	w->output_limit = done->output_limit;
	w->disk_bytes = done->disk_bytes;
	w->disk_inodes = done->disk_inodes;
	w->network = done->network;
	w->pool = done->pool; /* user code runs in it: the user's pool */
	w->build_wall_ms = done->build_wall_ms;
	w->cache_bytes = done->cache_bytes;
	snprintf(w->cache_vol, sizeof(w->cache_vol), "%s", done->cache_vol);
	w->tty = done->tty; /* a terminal or pipes, as the run before */
	uv_timer_start(&w->wall, on_warm_idle, WARM_IDLE_MS, 0);
	run_launch(w);
	return w;
}
