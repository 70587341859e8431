/*
 * auth_hash.h - argon2id password hashing and verification on libuv's worker
 * threads (uv_queue_work), never on the event loop. Callbacks run on the
 * loop thread, exactly once, never from inside the call.
 */
#ifndef RUNIT_AUTH_HASH_H
#define RUNIT_AUTH_HASH_H

#include <uv.h>

/* hash is borrowed (valid during the call); NULL on failure (out of memory),
 * "" when the job was canceled (auth_hash_shutdown): the server stops. */
typedef void (*auth_hash_cb)(void *arg, const char *hash);
/* match: 1 when the password matches the stored hash, 0 otherwise,
 * AUTH_HASH_CANCELED when the job was canceled (auth_hash_shutdown). */
typedef void (*auth_verify_cb)(void *arg, int match);
#define AUTH_HASH_CANCELED (-1)

int auth_hash_password(uv_loop_t *loop, const char *password, auth_hash_cb cb, void *arg);
/* stored may be NULL: the work of a verification is still done (same timing
 * for unknown users), and the answer is 0. */
int auth_verify_password(uv_loop_t *loop, const char *stored, const char *password,
			 auth_verify_cb cb, void *arg);

/* At shutdown: no new jobs (the calls fail), and the queued ones are
 * canceled, their callbacks called on the next loop turns ("" or
 * AUTH_HASH_CANCELED); the ones running still finish. */
void auth_hash_shutdown(void);
/* The jobs whose callbacks are still to come. */
int auth_hash_pending(void);

#endif
