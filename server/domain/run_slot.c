/*
 * run_slot.c - the slots of the run engine: one per (user, project) that
 * has a start, a run or a warm container, so that a project runs once per
 * user at a time on this server (run_start.c drives them; the database's
 * one_active_run index holds the rule across servers), and the slot's
 * next container, prepared while its run runs.
 */
#include "run_int.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>

struct run_slot *run_slot_get(struct run_engine *eng, long long user, long long project)
{
	struct run_slot *s;

	for (s = eng->slots; s; s = s->next)
		if (s->user_id == user && s->project_id == project)
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->user_id = user;
	s->project_id = project;
	s->eng = eng;
	s->next = eng->slots;
	eng->slots = s;
	return s;
}

void run_slot_maybe_free(struct run_engine *eng, struct run_slot *slot)
{
	struct run_slot **pp;

	if (slot->busy || slot->starts || slot->waiting || slot->latest || slot->active ||
	    slot->warm)
		return;
	for (pp = &eng->slots; *pp; pp = &(*pp)->next) {
		if (*pp == slot) {
			*pp = slot->next;
			free(slot);
			return;
		}
	}
}

void run_slot_cancel(struct run_engine *eng, long long user, long long project, const char *reason,
		     const char *code, const char *message)
{
	struct run_slot *s;

	for (s = eng->slots; s; s = s->next) {
		if ((user && s->user_id != user) || (project && s->project_id != project) ||
		    !s->starts)
			continue;
		s->cancels++;
		snprintf(s->cancel_reason, sizeof(s->cancel_reason), "%s", reason);
		snprintf(s->cancel_code, sizeof(s->cancel_code), "%s", code ? code : "");
		snprintf(s->cancel_msg, sizeof(s->cancel_msg), "%s", message ? message : "");
	}
}

/* While r runs, its slot's next container is prepared: "run again" (which
 * replaces r) then only puts the files in and lets it go. Once r's program
 * runs, not before: the engine serves r's own start first. */
void run_slot_running(struct run *r)
{
	struct run_slot *slot = r->slot;
	struct run_engine *eng = r->eng;

	if (!slot || slot->active != r || slot->warm || slot->waiting || eng->srv->stopping) {
		run_prep_refill(eng, r); /* the pool, for any run of this configuration */
		return;
	}
	slot->warm = run_warm_prepare(eng, r);
	if (slot->warm) /* the pool's refill waits for r's end: one container at a time */
		slot->warm->slot = slot;
	else
		run_prep_refill(eng, r);
}
