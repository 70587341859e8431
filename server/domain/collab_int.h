/*
 * collab_int.h - private to the collab module: collab_file.c keeps the open
 * files (text, version, recent updates, members) and sends to members;
 * collab.c (above it) answers the methods, writes pushes and reads what
 * other writers did (NOTIFY runit_collab).
 */
#ifndef RUNIT_COLLAB_INT_H
#define RUNIT_COLLAB_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "bucket.h"
#include "collab.h"

struct changeset;
struct srv;
struct rpc_call;

struct co_upd {
	long long version; /* the version it made */
	char client[COLLAB_CLIENT_MAX + 1];
	long long user;
	json_t *changes; /* owned; NULL: it replaced the whole text (co_file_replace): */
	char *whole;	 /* owned: that text, */
	size_t whole_len;
	long long old_len; /* the length it replaced (UTF-16 units) */
	size_t weight;	   /* what changes takes in memory, about (collab_file.c) */
};

struct co_member {
	uint64_t sess;
	struct bucket rate; /* pushes and cursor moves */
};

struct co_push {
	struct co_push *next;
	struct rpc_call *c;
	long long base;
	char client[COLLAB_CLIENT_MAX + 1];
	json_t *changes; /* owned */
	struct changeset *cs;
	char *text; /* the result, while it is being written */
	size_t len;
};

struct co_file {
	struct co_file *next;
	struct srv *srv;
	long long id, project;
	char path[256];
	long long version;
	char *text;
	size_t len;
	struct co_upd ring[COLLAB_RING]; /* the update that made v is ring[v % COLLAB_RING] */
	size_t ring_n;			 /* versions version-ring_n+1 .. version are there */
	size_t ring_weight;		 /* theirs, in all */
	struct co_member *members;
	size_t n, cap;
	struct co_push *q_head, *q_tail, *writing;
	size_t q_len;
	int busy;	/* one statement in flight */
	int need_fetch; /* the database has a newer version */
	int gone;	/* deleted */
};

struct collab {
	struct srv *srv;
	struct co_file *files;
	size_t nfiles;
	size_t ring_weight; /* every open file's, in all (RUNIT_COLLAB_MEMORY) */
};

/* The open file, or NULL. */
struct co_file *co_file_find(struct srv *srv, long long id);
/* A new open file at version with text (copied); NULL out of memory. */
struct co_file *co_file_new(struct srv *srv, long long id, long long project, const char *path,
			    long long version, const char *text, size_t len);
/* Free f when nobody uses it (no member, nothing queued or in flight). */
void co_file_maybe_free(struct co_file *f);
void co_file_free_all(struct srv *srv);

/* The member for sess_id if it is one and still may be (its session is
 * open and in the project's room); a member that may not is removed. */
struct co_member *co_member(struct co_file *f, uint64_t sess_id);
/* Add (or find) a member. NULL out of memory. */
struct co_member *co_member_add(struct co_file *f, uint64_t sess_id);
/* Remove a member; tells the others its cursor is gone. */
void co_member_remove(struct co_file *f, uint64_t sess_id);
/* Take one token from m's bucket: 0, or -1 over the rate. */
int co_member_spend(struct co_member *m);

/* Record version+1 = text (stolen) made by changes (stolen), and send it
 * to every member as collab/update. */
void co_file_advance(struct co_file *f, char *text, size_t len, const char *client, long long user,
		     json_t *changes);
/* As co_file_advance, for an update that replaced the whole text of
 * old_len (UTF-16 units) with text (stolen): its frame is written by hand
 * and it is kept as text, its ChangeSet made only when a client asks. */
void co_file_replace(struct co_file *f, char *text, size_t len, long long old_len,
		     const char *client, long long user);
/* Replace the whole state (a gap, or the text could not be followed):
 * text copied; members get collab/update with reset. */
void co_file_reset(struct co_file *f, long long version, const char *text, size_t len);
/* The updates after version as a JSON array, or NULL when they are not
 * remembered (version too old, or ahead). */
json_t *co_file_since(struct co_file *f, long long version);
/* Send method/params (borrowed) to every member but except (0: none). */
void co_file_send(struct co_file *f, const char *method, json_t *params, uint64_t except);

#endif
