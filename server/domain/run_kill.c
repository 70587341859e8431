/*
 * run_kill.c - a run's container is stopped: now, or, for a run replaced by
 * a newer start of its project (kill_later), once the newer run's first
 * output went out (run_kill_replaced) or after RUN_KILL_LATER_MS: its
 * teardown takes the CPU the new start needs (docs/decisions.md, "Run
 * again"). The run is pending until the engine answers.
 */
#include "run_int.h"
#include "log.h"
#include "srv.h"

static void killed(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	if (err && err->code != PLAT_E_NOT_FOUND)
		log_json(LOG_WARN, "stopping a container failed",
			 json_pack("{s:I, s:I, s:s}", "run_id", (json_int_t)r->id, "user_id",
				   (json_int_t)r->user_id, "error", err->message));
	/* if the container was never started, wait will not come: detach */
	if (!r->started && r->att && !r->attach_ended)
		plat_detach(r->att);
	r->eng->op_done(r);
}

void run_kill_now(struct run *r)
{
	r->kill_later = 0;
	uv_timer_stop(&r->wall);
	if (r->exit_sent && r->att && !r->attach_ended) /* paused: its output goes nowhere */
		plat_detach(r->att);
	if (r->exited || plat_stop(r->plat, r->cid, 0, killed, r))
		r->eng->op_done(r);
}

static void on_kill_later(uv_timer_t *t)
{
	run_kill_now(t->data);
}

void run_kill(struct run *r)
{
	if (r->kill_later && !r->eng->srv->stopping) { /* run_kill_replaced() */
		r->kill_later = 2;
		uv_timer_start(&r->wall, on_kill_later, RUN_KILL_LATER_MS, 0);
	} else {
		run_kill_now(r);
	}
}

void run_kill_replaced(const struct run *by)
{
	struct run *r, *n;

	for (r = by->eng->runs; r; r = n) {
		n = r->next;
		if (r->kill_later == 2 && r->user_id == by->user_id &&
		    r->project_id == by->project_id)
			run_kill_now(r);
	}
}
