/*
 * collab.h - live co-editing of a project's files (issue 14), the
 * @codemirror/collab model with the server as the authority:
 *
 *  - A session that has the project open (project/open: its room) joins a
 *    file with collab/join and gets its version and text (or, rejoining
 *    from a version the server still remembers, the updates it missed).
 *  - collab/push sends a CodeMirror ChangeSet made on version v. It is
 *    accepted only if v is the file's current version: the server applies
 *    it to its copy of the text (protocol/changeset.c), writes it to
 *    PostgreSQL with compare-and-set on the version (runit_collab_push,
 *    sql/015_collab.sql) and sends collab/update to every joined session,
 *    the pusher included (its own client id tells it the change was
 *    confirmed). Otherwise CONFLICT with the current version: the client
 *    waits for the updates it lacks, rebases, pushes again.
 *  - Every other writer of the file (file/save, run/start's buffers, a
 *    restore) makes a version too; a trigger records it as an update that
 *    replaces the text and NOTIFYs runit_collab, which is also how
 *    updates made on another server instance arrive: the instance reads
 *    the rows it lacks from collab_updates, in order.
 *  - collab/cursor relays a session's selections to the others; collab/pull
 *    answers a client that lost track; collab/checkpoint marks the current
 *    text to be kept in the history (Save).
 *
 * Per open file the module keeps the text, the version and the last
 * COLLAB_RING updates (fewer when they weigh more than COLLAB_RING_WEIGHT);
 * one database statement at a time per file (a push, or reading what other
 * writers did), so the copy in memory never runs ahead of the database.
 * Members are kept by session id; a session that left the project's room
 * (closed it, or lost access: access_watch.c) gets nothing more at once,
 * and its pushes are refused.
 */
#ifndef RUNIT_COLLAB_H
#define RUNIT_COLLAB_H

#include <jansson.h>

struct srv;
struct rpc_call;

#define COLLAB_RING 256		     /* updates remembered per open file, */
#define COLLAB_RING_WEIGHT (1 << 20) /* and at most this weight of them (collab_file.c) */
#define COLLAB_CLIENT_MAX 64	     /* bytes of a client id */
#define COLLAB_RATE 30		     /* pushes and cursor moves per second per member, */
#define COLLAB_BURST 60		     /* after a burst of this many */
#define COLLAB_MAX_RANGES 32	     /* selection ranges in one collab/cursor */
#define COLLAB_QUEUE_MAX 1000	     /* pushes waiting on one file */

/* LISTEN runit_collab, follow closed sessions. 0, or -1. */
int collab_init(struct srv *srv);
void collab_release(struct srv *srv);

/* Each ends c exactly once. project/path/file are checked by the caller;
 * the caller's session must have the project open. */
void collab_join(struct rpc_call *c, long long project, const char *path, long long have_version);
void collab_push(struct rpc_call *c, long long file, long long base, const char *client,
		 json_t *changes);
void collab_pull(struct rpc_call *c, long long file, long long version);
void collab_cursor(struct rpc_call *c, long long file, long long version, json_t *ranges);
void collab_leave(struct rpc_call *c, long long file);
/* Keep the file's current text in the history when a live edit replaces it
 * (the IDE's Save). */
void collab_checkpoint(struct rpc_call *c, long long file);

#endif
