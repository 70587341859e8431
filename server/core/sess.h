/*
 * sess.h - one websocket session: its identity, its inbound message
 * assembly, and its bounded outbound queue. Code that finishes work later
 * (a database answer, a container's output) keeps the session's id, never a
 * pointer, and looks it up again: a session that closed meanwhile is simply
 * not found and the result is dropped.
 */
#ifndef RUNIT_SESS_H
#define RUNIT_SESS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "proto.h"
#include "bucket.h"

struct lws;
struct srv;

/*
 * One encoded frame, shared by every session it is queued on (a run's
 * output goes to its watchers as one copy, not one each). refs counts the
 * queues holding it (and its maker until sess_frame_unref).
 */
struct sess_frame {
	unsigned refs;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then len bytes */
};

struct outmsg {
	struct outmsg *next;
	struct sess_frame *f;
};

struct sess {
	uint64_t id;
	struct sess *hnext; /* hash chain */
	struct lws *wsi;
	struct srv *srv;
	char ip[64];
	int64_t opened_ms;
	int64_t last_active_ms;

	/* the signed-in user, if any (auth_sess.c) */
	long long user_id;
	char username[64];
	char presence_file[256]; /* the file this session is in (presence/update) */
	struct bucket presence;	 /* presence.c: what it may still tell its rooms */
	enum proto_role role;
	long long auth_session_id; /* sessions.id of the login */
	char user_agent[160];	   /* of the upgrade request, for new login sessions */
	enum sess_auth {
		SESS_AUTH_NONE = 0, /* no token presented */
		SESS_AUTH_PENDING,  /* token being looked up; reading paused */
		SESS_AUTH_OK,
		SESS_AUTH_INVALID,     /* token unknown, expired, revoked or user disabled */
		SESS_AUTH_UNAVAILABLE, /* database did not answer */
	} auth_state;

	/* inbound message being assembled from fragments */
	char *rx;
	size_t rx_len, rx_cap;
	int rx_oversize;
	int rx_binary;
	int64_t rx_since_ms; /* when the message in pieces began; 0: none (web.c) */
	unsigned bad_in_row; /* consecutive rejected frames: flood guard */
	unsigned calls;	     /* its requests not yet answered (rpc.c) */

	/* outbound queue */
	struct outmsg *q_head, *q_tail;
	size_t q_bytes;
	size_t q_count;
	int closing; /* set once: close requested, nothing more is queued */
	int close_code;
	char close_reason[96];
	int close_sent; /* the close frame went out; waiting for the client's */
	/* the queue passed a reader's high-water mark (run_stream.c paces a
	 * run on it): once it is down to drain_at bytes, srv->sess_drained is
	 * called and this is cleared */
	size_t drain_at;
	int drain_wanted;
};

struct sess *sess_new(struct srv *srv, struct lws *wsi);
void sess_free(struct sess *s); /* unlinks from the table, frees the queue */
struct sess *sess_find(struct srv *srv, uint64_t id);

/*
 * Queue one frame (a malloc'd string from proto_*; stolen, freed here).
 * Returns 0, or -1 when the session is closing or the queue overflowed (then
 * the session is being closed as a slow consumer and the frame dropped).
 */
int sess_send(struct sess *s, char *frame, size_t len);
/* A frame of len bytes copied from data, with one reference (the caller's);
 * NULL when out of memory. */
struct sess_frame *sess_frame_new(const char *data, size_t len);
void sess_frame_unref(struct sess_frame *f);
/* The notification method(params) as a frame to share (params borrowed);
 * NULL when out of memory. */
struct sess_frame *sess_frame_notify(const char *method, json_t *params);
/* Queue a shared frame (borrowed: the queue takes its own reference). As
 * sess_send otherwise. */
int sess_send_shared(struct sess *s, struct sess_frame *f);
/* Call srv->sess_drained(srv, s) once s's queue is down to at most bytes. */
void sess_want_drain(struct sess *s, size_t bytes);
/* Convenience: notification built and queued; params stolen. */
int sess_notify(struct sess *s, const char *method, json_t *params);
/* Write at most one queued frame; called from the WRITEABLE callback.
 * Returns -1 when the connection must close now. */
int sess_on_writable(struct sess *s);
/* Ask to close after what is queued is sent, with a 4000-4999 code and reason. */
void sess_close(struct sess *s, int code, const char *reason);

/* Tell the admins' live view that s opened (once its address is known). */
void sess_announce(struct sess *s);

/* Visit every live session. */
void sess_foreach(struct srv *srv, void (*fn)(struct sess *, void *), void *arg);

#endif
