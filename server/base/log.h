/*
 * log.h - structured logging: one JSON object per line on stderr with time,
 * level, message and whatever context fields the caller adds. Never log
 * secrets (passwords, tokens, TOTP secrets, env var values).
 */
#ifndef RUNIT_LOG_H
#define RUNIT_LOG_H

#include <jansson.h>
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(int level);
int log_enabled(enum log_level lvl);
/* fields is stolen (may be NULL): extra keys merged into the line. */
void log_json(enum log_level lvl, const char *msg, json_t *fields);
/*
 * src (libpq's and strerror's messages: several lines, a trailing newline)
 * as one line in dst: newlines and tabs become spaces, runs of spaces one,
 * none at the ends; NULL is "unknown error". Returns dst.
 */
const char *log_oneline(char *dst, size_t n, const char *src);
/*
 * The error hook: fn sees every LOG_ERROR line as it is written (line
 * borrowed: time, level, msg and the fields), on the thread that wrote it.
 * Set once at start-up by the module that collects errors (errmon.c; the
 * base may not call up) and cleared (NULL) when it stops. A line logged
 * from inside fn does not reach fn again.
 */
typedef void (*log_hook_fn)(void *arg, const json_t *line);
void log_set_error_hook(log_hook_fn fn, void *arg);
/* printf-style message, no extra fields. */
void log_msgf(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
