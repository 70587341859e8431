/*
 * run_next.c - when a run asks the engine for its next containers (the
 * engine's running hook: its slot's next one, for "run again", and the
 * pool's refill): once, when its output is light. Making a container takes
 * the CPU that the program's start, and a program printing at full speed
 * with its delivery, need. RUN_NEXT_AFTER_MS after "go" if it prints
 * nothing sooner; after its first byte, once it printed under
 * RUN_NEXT_HEAVY_BYTES in RUN_NEXT_QUIET_MS (in RUN_NEXT_CALM_MS once its
 * output was heavy) and was not paused for a reader meanwhile;
 * RUN_NEXT_MAX_MS after "go" at the latest (docs/decisions.md, "The next
 * containers wait for a flood of output").
 * A run that ends first does not ask: its end does (run_slot_released).
 */
#include "run_int.h"
#include "srv.h"

static void run_next(struct run *r)
{
	uv_timer_stop(&r->next_due);
	if (r->next_asked || r->ending)
		return;
	r->next_asked = 1;
	r->eng->running(r);
}

static int late(const struct run *r)
{
	return srv_now_ms() - r->t_started >= RUN_NEXT_MAX_MS;
}

static void on_next_due(uv_timer_t *t);

static void wait_for(struct run *r, uint64_t ms)
{
	r->next_bytes = 0;
	r->next_since = srv_now_ms();
	r->next_paced = r->paced;
	uv_timer_start(&r->next_due, on_next_due, ms, 0);
}

/* Light: not paused for a reader at any time since the wait began (its
 * delivery has the CPU then), and under RUN_NEXT_HEAVY_BYTES (else
 * run_next_output started the wait again). Once output was heavy, light
 * must last RUN_NEXT_CALM_MS: a paced program prints in bursts. */
static void on_next_due(uv_timer_t *t)
{
	struct run *r = t->data;

	if ((r->paced || r->next_paced || r->paced_since >= r->next_since) && !late(r))
		wait_for(r, RUN_NEXT_CALM_MS);
	else
		run_next(r);
}

void run_next_go(struct run *r)
{
	wait_for(r, RUN_NEXT_AFTER_MS);
}

void run_next_output(struct run *r, int first, size_t len)
{
	if (r->next_asked)
		return;
	if (first)
		wait_for(r, RUN_NEXT_QUIET_MS);
	else if ((r->next_bytes += len) > RUN_NEXT_HEAVY_BYTES && !late(r))
		wait_for(r, RUN_NEXT_CALM_MS);
}
