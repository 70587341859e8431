/*
 * log.c - JSON lines on stderr. Built with jansson so every message and field
 * is escaped correctly whatever it contains.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int min_level = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};
static log_hook_fn error_hook;
static void *error_hook_arg;
static _Thread_local int in_hook; /* a line logged by the hook itself */

void log_set_error_hook(log_hook_fn fn, void *arg)
{
	error_hook = fn;
	error_hook_arg = arg;
}

void log_set_level(int level)
{
	min_level = level;
}

int log_enabled(enum log_level lvl)
{
	return (int)lvl >= min_level;
}

void log_json(enum log_level lvl, const char *msg, json_t *fields)
{
	struct timeval tv;
	struct tm tm;
	char ts[64];
	char *line;
	json_t *o;

	if (!log_enabled(lvl)) {
		json_decref(fields);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(tv.tv_usec / 1000));
	o = json_pack("{s:s, s:s, s:s}", "time", ts, "level", level_names[lvl], "msg", msg);
	if (!o) {
		json_decref(fields);
		return;
	}
	if (fields)
		json_object_update_missing(o, fields);
	json_decref(fields);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (lvl == LOG_ERROR && error_hook && !in_hook) {
		in_hook = 1;
		error_hook(error_hook_arg, o);
		in_hook = 0;
	}
	json_decref(o);
	if (line) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
}

const char *log_oneline(char *dst, size_t n, const char *src)
{
	size_t o = 0;

	if (n == 0)
		return dst;
	for (src = src ? src : "unknown error"; *src && o + 1 < n; src++) {
		char ch = *src == '\n' || *src == '\t' || *src == '\r' ? ' ' : *src;

		if (ch == ' ' && (o == 0 || dst[o - 1] == ' '))
			continue;
		dst[o++] = ch;
	}
	if (((unsigned char)*src & 0xC0) == 0x80) { /* cut inside a UTF-8 character */
		while (o > 0 && ((unsigned char)dst[o - 1] & 0xC0) == 0x80)
			o--;
		if (o > 0)
			o--;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	return dst;
}

void log_msgf(enum log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!log_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_json(lvl, buf, NULL);
}
