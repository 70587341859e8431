/*
 * errmon_event.h - the pure half of error monitoring (errmon.h): scrub
 * secrets out of an error's text and context, give it a fingerprint, and
 * write it as a Sentry event inside an envelope
 * (https://develop.sentry.dev/sdk/envelopes/). No loop, no database, no
 * globals: the unit tests call these directly.
 */
#ifndef RUNIT_ERRMON_EVENT_H
#define RUNIT_ERRMON_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ERRMON_FILTERED "[Filtered]"

/*
 * s with secrets replaced by "[Filtered]": the values of password=,
 * token=, secret=, key=, code=... (URL query and form style), a Bearer or
 * Basic credential, the user part of a URL (scheme://user:pass@host) and,
 * when hide is not NULL or "", every occurrence of hide (the DSN key).
 * New malloc'd string, NULL out of memory.
 */
char *errmon_scrub_str(const char *s, const char *hide);

/* 1 when a context key names a secret (password, token, cookie,
 * authorization, totp, code, dsn, ...): its value is never kept. */
int errmon_secret_key(const char *key);

/* v scrubbed in place, recursively: values of secret keys become
 * "[Filtered]", strings go through errmon_scrub_str(). */
void errmon_scrub_json(json_t *v, const char *hide);

/* 32 hex digits of source, type and message (digits ignored, so "run 12
 * failed" and "run 13 failed" are one error) into out[17]: FNV-1a 64. */
void errmon_fingerprint(const char *source, const char *type, const char *message, char out[17]);

/* What the Sentry event says besides the error itself. */
struct errmon_meta {
	const char *event_id;	 /* 32 hex digits */
	const char *timestamp;	 /* RFC 3339, UTC */
	const char *release;	 /* "run-it@0.1.0" */
	const char *server_name; /* RUNIT_INSTANCE */
	const char *environment;
};

/*
 * The Sentry event of one collected error ev ({source, type, message,
 * level, context, user_id, fingerprint}; see errmon.c): platform "c" or
 * "javascript", logger, message or exception (with the browser's frames
 * as its stacktrace), tags, contexts, user {id}. New reference.
 */
json_t *errmon_sentry_event(const json_t *ev, const struct errmon_meta *m);

/*
 * The envelope: header {event_id, dsn, sent_at}, item header {type:
 * "event", length, content_type}, the event; newline-separated. malloc'd,
 * its length in *len; NULL out of memory.
 */
char *errmon_envelope(const json_t *event, const char *dsn, const char *sent_at, size_t *len);

#endif
