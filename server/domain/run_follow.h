/*
 * run_follow.h - the live output of runs that another server instance
 * runs, for the sessions of this one: the project's room members who may
 * see runs, and run/attach callers. Every stored event of a run is
 * NOTIFYed (runit_run_log, a trigger on run_logs, sql/018_instances.sql);
 * this instance reads the new rows of the runs someone here follows and
 * sends them as the notifications they were, in order, with run/gap only
 * where a row is still missing after RUN_FOLLOW_HOLE_MS (output past the
 * stored cap, or a lost insert). Loop thread only.
 */
#ifndef RUNIT_RUN_FOLLOW_H
#define RUNIT_RUN_FOLLOW_H

#include <stdint.h>

struct srv;
struct rpc_call;

#define RUN_FOLLOW_HOLE_MS 2000

/* LISTEN and start the timer. 0, or -1. */
int run_follow_init(struct srv *srv);
void run_follow_release(struct srv *srv);

/* run/attach to a live run of another instance (its visibility checked):
 * replay from from_seq, then follow it; answers c (with position, when > 0:
 * its place in the queue). */
void run_follow_attach(struct srv *srv, struct rpc_call *c, long long run_id, long long project_id,
		       const char *state, long long position, long long from_seq);

/* The session stops following the project's runs (its access went). */
void run_follow_unwatch_project(struct srv *srv, long long project_id, uint64_t sess_id);

#endif
