/*
 * run_slot.c - the slots of the run engine: one per (user, project) that
 * has a start, a run or a warm container, so that a project runs once per
 * user at a time on this server (run_start.c drives them; the database's
 * one_active_run index holds the rule across servers).
 */
#include "run_int.h"

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

	if (slot->busy || slot->waiting || slot->latest || slot->active || slot->warm)
		return;
	for (pp = &eng->slots; *pp; pp = &(*pp)->next) {
		if (*pp == slot) {
			*pp = slot->next;
			free(slot);
			return;
		}
	}
}
