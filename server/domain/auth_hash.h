/*
 * auth_hash.h - argon2id password hashing and verification on libuv's worker
 * threads (uv_queue_work), never on the event loop. Callbacks run on the
 * loop thread, exactly once, never from inside the call.
 */
#ifndef RUNIT_AUTH_HASH_H
#define RUNIT_AUTH_HASH_H

#include <uv.h>

/* hash is borrowed (valid during the call); NULL on failure (out of memory). */
typedef void (*auth_hash_cb)(void *arg, const char *hash);
/* match: 1 when the password matches the stored hash, 0 otherwise. */
typedef void (*auth_verify_cb)(void *arg, int match);

int auth_hash_password(uv_loop_t *loop, const char *password, auth_hash_cb cb, void *arg);
/* stored may be NULL: the work of a verification is still done (same timing
 * for unknown users), and the answer is 0. */
int auth_verify_password(uv_loop_t *loop, const char *stored, const char *password,
			 auth_verify_cb cb, void *arg);

#endif
