/*
 * errmon_sentry.h - send envelopes to a Sentry-compatible service (Sentry,
 * GlitchTip): POST SCHEME://HOST/api/ID/envelope/ with X-Sentry-Auth,
 * through libcurl's multi interface on the server's loop
 * (platforms/plat_http.h), so the loop never waits for it. At most
 * SENTRY_INFLIGHT requests at once and SENTRY_QUEUE waiting; past that an
 * envelope is dropped. Each request has a 3 s connect and a 10 s total
 * timeout. Outcomes are counted in /metrics (runit_sentry_*), never logged
 * as errors.
 */
#ifndef RUNIT_ERRMON_SENTRY_H
#define RUNIT_ERRMON_SENTRY_H

#include <stddef.h>
#include <uv.h>

#define SENTRY_INFLIGHT 4
#define SENTRY_QUEUE 32

struct errmon_sentry;

/* url: the envelope endpoint, key: the DSN's public key (config.h).
 * NULL out of memory. */
struct errmon_sentry *errmon_sentry_new(uv_loop_t *loop, const char *url, const char *key);
/* Abandons what is in flight or queued (counted as dropped). */
void errmon_sentry_free(struct errmon_sentry *s);
/* Send one envelope (stolen, malloc'd, len bytes). */
void errmon_sentry_send(struct errmon_sentry *s, char *envelope, size_t len);

#endif
