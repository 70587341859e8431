/*
 * errmon_event.c - scrubbing, fingerprints and the Sentry event and
 * envelope of a collected error (errmon_event.h). Pure functions over
 * jansson values and strings.
 */
#include "errmon_event.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Names whose value is a secret wherever they appear in a key. */
static const char *const secret_parts[] = {
    "pass",	  "secret",  "token",	    "cookie",	 "authorization", "auth",
    "totp",	  "otp",     "recovery",    "dsn",	 "api_key",	  "apikey",
    "credential", "private", "session_key", "signature",
};
/* Names that are secrets only alone: "code" is a TOTP code, "exit_code" is not. */
static const char *const secret_exact[] = {"key", "code", "pin", "sid"};

int errmon_secret_key(const char *key)
{
	char low[64];
	size_t n = strlen(key);

	if (n >= sizeof(low))
		n = sizeof(low) - 1;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof(secret_parts) / sizeof(secret_parts[0]); i++)
		if (strstr(low, secret_parts[i]))
			return 1;
	for (size_t i = 0; i < sizeof(secret_exact) / sizeof(secret_exact[0]); i++)
		if (!strcmp(low, secret_exact[i]))
			return 1;
	return 0;
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int value_char(char c)
{
	return c && !strchr("&;, \t\r\n\"'<>)]}", c);
}

/* Length of a name=value / name: value secret at s (its name part), 0 if none. */
static size_t secret_assignment(const char *s, const char *start)
{
	size_t n = 0;
	char name[64];

	if (s > start && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
		return 0; /* not the start of a name */
	while (n < sizeof(name) - 1 && (isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '-'))
		name[n] = s[n], n++;
	name[n] = '\0';
	if (!n || !errmon_secret_key(name))
		return 0;
	if (s[n] == '"' || s[n] == '\'') /* "password": "..." */
		n++;
	if (s[n] != '=' && s[n] != ':')
		return 0;
	return n + 1;
}

char *errmon_scrub_str(const char *s, const char *hide)
{
	struct sbuf b = {NULL, 0, 0};
	size_t hl = hide ? strlen(hide) : 0;
	const char *p = s;

	if (sb_put(&b, "", 0))
		return NULL;
	while (*p) {
		size_t n;

		if (hl && !strncmp(p, hide, hl)) {
			if (sb_put(&b, ERRMON_FILTERED, strlen(ERRMON_FILTERED)))
				goto out_oom;
			p += hl;
			continue;
		}
		if (!strncasecmp(p, "bearer ", 7) || !strncasecmp(p, "basic ", 6)) {
			n = p[1] == 'e' || p[1] == 'E' ? 7 : 6;
			if (value_char(p[n])) {
				if (sb_put(&b, p, n) ||
				    sb_put(&b, ERRMON_FILTERED, strlen(ERRMON_FILTERED)))
					goto out_oom;
				for (p += n; value_char(*p); p++)
					;
				continue;
			}
		}
		if (!strncmp(p, "://", 3)) {
			/* scheme://user[:pass]@host: the user part goes */
			const char *q = p + 3;
			while (*q && !strchr("/@ \t\r\n\"'", *q))
				q++;
			if (*q == '@' && q > p + 3) {
				if (sb_put(&b, "://", 3) ||
				    sb_put(&b, ERRMON_FILTERED, strlen(ERRMON_FILTERED)))
					goto out_oom;
				p = q;
				continue;
			}
		}
		n = secret_assignment(p, s);
		if (n) {
			if (sb_put(&b, p, n))
				goto out_oom;
			p += n;
			while (*p == ' ' || *p == '"' || *p == '\'')
				if (sb_put(&b, p++, 1))
					goto out_oom;
			if (value_char(*p)) {
				const char *v = p;
				if (sb_put(&b, ERRMON_FILTERED, strlen(ERRMON_FILTERED)))
					goto out_oom;
				while (value_char(*p))
					p++;
				/* "Authorization: Bearer TOKEN": the credential goes too */
				if ((p - v == 6 && !strncasecmp(v, "bearer", 6)) ||
				    (p - v == 5 && !strncasecmp(v, "basic", 5)))
					for (p += *p == ' '; value_char(*p); p++)
						;
			}
			continue;
		}
		if (sb_put(&b, p++, 1))
			goto out_oom;
	}
	return b.p;

out_oom:
	free(b.p);
	return NULL;
}

void errmon_scrub_json(json_t *v, const char *hide)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			if (errmon_secret_key(k) && !json_is_null(x))
				json_object_set_new(v, k, json_string(ERRMON_FILTERED));
			else
				errmon_scrub_json(x, hide);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) errmon_scrub_json(x, hide);
	} else if (json_is_string(v)) {
		char *clean = errmon_scrub_str(json_string_value(v), hide);
		if (clean && strcmp(clean, json_string_value(v)))
			json_string_set(v, clean);
		free(clean);
	}
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		if (*s >= '0' && *s <= '9')
			continue;
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= 0xff; /* field separator */
	h *= 1099511628211ULL;
	return h;
}

void errmon_fingerprint(const char *source, const char *type, const char *message, char out[17])
{
	uint64_t h = 14695981039346656037ULL;

	h = fnv(h, source);
	h = fnv(h, type);
	h = fnv(h, message);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* The browser's frames (innermost first, as JavaScript prints them) as a
 * Sentry stacktrace (outermost first). */
static json_t *stacktrace(const json_t *frames)
{
	json_t *out = json_array(), *f;

	for (size_t i = json_array_size(frames); out && i > 0; i--) {
		const json_t *in = json_array_get(frames, i - 1);
		f = json_object();
		if (!f)
			break;
		json_object_set(f, "function", json_object_get(in, "function"));
		json_object_set(f, "filename", json_object_get(in, "filename"));
		json_object_set(f, "lineno", json_object_get(in, "lineno"));
		json_object_set(f, "colno", json_object_get(in, "colno"));
		json_object_set_new(f, "in_app", json_true());
		json_array_append_new(out, f);
	}
	return json_pack("{s:o}", "frames", out ? out : json_array());
}

json_t *errmon_sentry_event(const json_t *ev, const struct errmon_meta *m)
{
	const char *source = json_string_value(json_object_get(ev, "source"));
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *msg = json_string_value(json_object_get(ev, "message"));
	json_t *ctx = json_object_get(ev, "context");
	json_int_t uid = json_integer_value(json_object_get(ev, "user_id"));
	int browser = source && !strcmp(source, "browser");
	json_t *e, *tags, *frames;

	e = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:{s:O*}}", "event_id", m->event_id,
	    "timestamp", m->timestamp, "platform", browser ? "javascript" : "c", "level", "error",
	    "logger", browser ? "run-it.browser" : "run-it.server", "release", m->release,
	    "server_name", m->server_name, "environment", m->environment, "fingerprint",
	    json_string_value(json_object_get(ev, "fingerprint")), "contexts", "run-it", ctx);
	if (!e)
		return NULL;
	tags = json_pack("{s:s}", "source", browser ? "browser" : "server");
	if (tags && json_is_string(json_object_get(ctx, "method")))
		json_object_set(tags, "method", json_object_get(ctx, "method"));
	if (tags && json_is_string(json_object_get(ctx, "route")))
		json_object_set(tags, "route", json_object_get(ctx, "route"));
	json_object_set_new(e, "tags", tags ? tags : json_object());
	if (uid > 0) {
		char id[24];
		snprintf(id, sizeof(id), "%lld", (long long)uid);
		json_object_set_new(e, "user", json_pack("{s:s}", "id", id));
	}
	if (type && *type) {
		json_t *val = json_pack("{s:s, s:s}", "type", type, "value", msg ? msg : "");
		frames = json_object_get(ctx, "frames");
		if (val && json_array_size(frames))
			json_object_set_new(val, "stacktrace", stacktrace(frames));
		json_object_set_new(e, "exception", json_pack("{s:[o*]}", "values", val));
	} else {
		json_object_set_new(e, "message", json_pack("{s:s}", "formatted", msg ? msg : ""));
	}
	return e;
}

char *errmon_envelope(const json_t *event, const char *dsn, const char *sent_at, size_t *len)
{
	char *head = NULL, *item = NULL, *body, *out = NULL;
	json_t *h = NULL, *ih = NULL;
	size_t bl, hl, il;

	body = json_dumps(event, JSON_COMPACT);
	if (!body)
		return NULL;
	bl = strlen(body);
	h = json_pack("{s:O, s:s, s:s}", "event_id", json_object_get(event, "event_id"), "dsn", dsn,
		      "sent_at", sent_at);
	ih = json_pack("{s:s, s:I, s:s}", "type", "event", "length", (json_int_t)bl, "content_type",
		       "application/json");
	if (!h || !ih)
		goto out_free;
	head = json_dumps(h, JSON_COMPACT);
	item = json_dumps(ih, JSON_COMPACT);
	if (!head || !item)
		goto out_free;
	hl = strlen(head);
	il = strlen(item);
	out = malloc(hl + il + bl + 4);
	if (!out)
		goto out_free;
	memcpy(out, head, hl);
	out[hl] = '\n';
	memcpy(out + hl + 1, item, il);
	out[hl + 1 + il] = '\n';
	memcpy(out + hl + il + 2, body, bl);
	out[hl + il + bl + 2] = '\n';
	out[hl + il + bl + 3] = '\0';
	*len = hl + il + bl + 3;
out_free:
	free(head);
	free(item);
	free(body);
	json_decref(h);
	json_decref(ih);
	return out;
}
