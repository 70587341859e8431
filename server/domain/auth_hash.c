/*
 * auth_hash.c - argon2id (libsodium crypto_pwhash_str) on the libuv thread
 * pool. The password copy is wiped before it is freed. The jobs not done
 * are listed (loop thread only): at shutdown the queued ones are canceled
 * and answered at once, and the loop waits only for those running.
 */
#include "auth_hash.h"
#include "auth_rules.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define AUTH_HASH_NICE 10

struct hash_job {
	uv_work_t work;
	struct hash_job *prev, *next; /* in pending */
	char *password;
	char stored[crypto_pwhash_STRBYTES];
	int have_stored;
	int verify;
	int result; /* hash: 0 ok; verify: 1 match */
	auth_hash_cb hash_cb;
	auth_verify_cb verify_cb;
	void *arg;
};

/* A valid hash of a random password, computed once, to verify unknown users against. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static uv_once_t dummy_once = UV_ONCE_INIT;

/* the jobs submitted and not yet answered; no new ones once stopping */
static struct hash_job *pending;
static int npending, stopping;

static void make_dummy(void)
{
	char pw[32];

	randombytes_buf(pw, sizeof(pw));
	if (crypto_pwhash_str(dummy_hash, pw, sizeof(pw), AUTH_PWHASH_OPSLIMIT,
			      AUTH_PWHASH_MEMLIMIT))
		dummy_hash[0] = '\0';
}

/*
 * Hashing is CPU-bound and runs on libuv's pool threads (only argon2 uses
 * them here). Each pool thread lowers its own scheduling priority once, so
 * that with every core hashing the loop thread still gets the CPU at once
 * when a frame arrives.
 */
static void lower_priority_once(void)
{
	static _Thread_local int done;

	if (!done) {
		done = 1;
		if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), AUTH_HASH_NICE))
			done = 2; /* not fatal: only latency under load */
	}
}

static void work(uv_work_t *w)
{
	struct hash_job *j = w->data;
	size_t n = strlen(j->password);

	lower_priority_once();

	if (!j->verify) {
		j->result = crypto_pwhash_str(j->stored, j->password, n, AUTH_PWHASH_OPSLIMIT,
					      AUTH_PWHASH_MEMLIMIT);
		return;
	}
	if (!j->have_stored) {
		uv_once(&dummy_once, make_dummy);
		/* same work as a real verification; the answer is "no" whatever it says */
		if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, j->password, n) == 0)
			j->result = 0;
		j->result = 0;
		return;
	}
	j->result = crypto_pwhash_str_verify(j->stored, j->password, n) == 0;
}

static void after(uv_work_t *w, int status)
{
	struct hash_job *j = w->data;

	if (j->prev)
		j->prev->next = j->next;
	else
		pending = j->next;
	if (j->next)
		j->next->prev = j->prev;
	npending--;
	if (status == UV_ECANCELED && j->verify)
		j->verify_cb(j->arg, AUTH_HASH_CANCELED);
	else if (status == UV_ECANCELED)
		j->hash_cb(j->arg, "");
	else if (j->verify)
		j->verify_cb(j->arg, status == 0 && j->result == 1);
	else
		j->hash_cb(j->arg, status == 0 && j->result == 0 ? j->stored : NULL);
	sodium_memzero(j->password, strlen(j->password));
	free(j->password);
	sodium_memzero(j->stored, sizeof(j->stored));
	free(j);
}

static int submit(uv_loop_t *loop, struct hash_job *j, const char *password)
{
	if (stopping || !(j->password = strdup(password))) {
		free(j);
		return -1;
	}
	j->work.data = j;
	if (uv_queue_work(loop, &j->work, work, after)) {
		free(j->password);
		free(j);
		return -1;
	}
	j->next = pending;
	if (pending)
		pending->prev = j;
	pending = j;
	npending++;
	return 0;
}

void auth_hash_shutdown(void)
{
	stopping = 1;
	/* the queued ones only: uv_cancel() fails for a job already running */
	for (struct hash_job *j = pending; j; j = j->next)
		uv_cancel((uv_req_t *)&j->work);
}

int auth_hash_pending(void)
{
	return npending;
}

int auth_hash_password(uv_loop_t *loop, const char *password, auth_hash_cb cb, void *arg)
{
	struct hash_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -1;
	j->hash_cb = cb;
	j->arg = arg;
	return submit(loop, j, password);
}

int auth_verify_password(uv_loop_t *loop, const char *stored, const char *password,
			 auth_verify_cb cb, void *arg)
{
	struct hash_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -1;
	j->verify = 1;
	j->verify_cb = cb;
	j->arg = arg;
	if (stored && strlen(stored) < sizeof(j->stored)) {
		memcpy(j->stored, stored, strlen(stored) + 1);
		j->have_stored = 1;
	}
	return submit(loop, j, password);
}
