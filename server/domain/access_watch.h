/*
 * access_watch.h - access that changes reaches open sockets at once. When
 * access to a project may have shrunk (a member removed or demoted, the
 * project made private, handed over or deleted), every session that
 * watches it (its room, its runs' watchers) is checked again with the one
 * rule (runit_access): a session that may no longer read the project
 * leaves its room (project/changed op "access_lost", presence/left to the
 * others) and its runs; one that may still read it but no longer see its
 * runs (a public project's visitor) stops getting run events. The runs of
 * a project that no longer exists are cancelled.
 *
 * The database tells every server instance (a trigger NOTIFYs
 * runit_access with the project id, sql/006_runs_access.sql); the handler
 * that made the change also checks at once, before it answers, so its
 * caller's next request already meets the new rule on this instance.
 *
 * An account disabled on any instance (its sessions end through NOTIFY
 * runit_auth, auth_sess.h) has its runs and starts under way ended on
 * every instance too, with reason cancelled and code user_disabled; once
 * the listener reconnects (a notice may have been missed), every user with
 * a run or a start on this instance is checked again.
 */
#ifndef RUNIT_ACCESS_WATCH_H
#define RUNIT_ACCESS_WATCH_H

struct srv;

/* LISTEN runit_access. 0, or -1. */
int access_watch_init(struct srv *srv);

/* Check the project's watchers again; done (may be NULL) runs exactly once
 * afterwards (also when the database is unavailable: then nothing changed). */
void access_watch_check(struct srv *srv, long long project_id, void (*done)(void *arg), void *arg);

#endif
