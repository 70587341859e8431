/*
 * proto_emit.c - outbound frames: responses, error responses and
 * notifications as compact JSON text, and the table of reason codes (wire
 * name, JSON-RPC code, default message) that every error frame is built from.
 *
 * jansson does the encoding, so every string it emits is escaped and the
 * frame is valid JSON whatever the server put into it; run/log alone is
 * written by hand (proto_notify_log), byte for byte as jansson would.
 */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reason_info {
	const char *name;
	int code;
	const char *message; /* default, when the caller gives none */
};

static const struct reason_info reasons[] = {
    [PROTO_R_NONE] = {"NONE", PROTO_INTERNAL_ERROR, "Internal error"},
    [PROTO_R_PARSE_ERROR] = {"PARSE_ERROR", PROTO_PARSE_ERROR, "Parse error"},
    [PROTO_R_INVALID_UTF8] = {"INVALID_UTF8", PROTO_PARSE_ERROR, "Frame is not valid UTF-8"},
    [PROTO_R_TOO_DEEP] = {"TOO_DEEP", PROTO_PARSE_ERROR, "JSON nested too deeply"},
    [PROTO_R_DUPLICATE_KEY] = {"DUPLICATE_KEY", PROTO_PARSE_ERROR, "Duplicate object key"},
    [PROTO_R_NUMBER_TOO_LARGE] = {"NUMBER_TOO_LARGE", PROTO_PARSE_ERROR, "Number out of range"},
    [PROTO_R_TOO_LARGE] = {"TOO_LARGE", PROTO_INVALID_REQUEST, "Too large"},
    [PROTO_R_INVALID_REQUEST] = {"INVALID_REQUEST", PROTO_INVALID_REQUEST, "Invalid request"},
    [PROTO_R_METHOD_NOT_FOUND] = {"METHOD_NOT_FOUND", PROTO_METHOD_NOT_FOUND, "Method not found"},
    [PROTO_R_INVALID_PARAMS] = {"INVALID_PARAMS", PROTO_INVALID_PARAMS, "Invalid params"},
    [PROTO_R_UNAUTHENTICATED] = {"UNAUTHENTICATED", PROTO_APP_ERROR, "Sign in first"},
    [PROTO_R_FORBIDDEN] = {"FORBIDDEN", PROTO_APP_ERROR, "Forbidden"},
    [PROTO_R_NOT_FOUND] = {"NOT_FOUND", PROTO_APP_ERROR, "Not found"},
    [PROTO_R_CONFLICT] = {"CONFLICT", PROTO_APP_ERROR, "Conflict"},
    [PROTO_R_INVALID_PATH] = {"INVALID_PATH", PROTO_APP_ERROR, "Invalid path"},
    [PROTO_R_RATE_LIMITED] = {"RATE_LIMITED", PROTO_APP_ERROR, "Too many requests"},
    [PROTO_R_RUN_QUOTA] = {"RUN_QUOTA", PROTO_APP_ERROR, "Run quota reached"},
    [PROTO_R_RUNTIME_DISABLED] = {"RUNTIME_DISABLED", PROTO_APP_ERROR, "Runtime disabled"},
    [PROTO_R_PLATFORM_UNAVAILABLE] = {"PLATFORM_UNAVAILABLE", PROTO_APP_ERROR,
				      "Platform unavailable"},
    [PROTO_R_MFA_REQUIRED] = {"MFA_REQUIRED", PROTO_APP_ERROR, "Two-factor code required"},
    [PROTO_R_INTERNAL] = {"INTERNAL", PROTO_INTERNAL_ERROR, "Internal error"},
    [PROTO_R_UNAVAILABLE] = {"UNAVAILABLE", PROTO_APP_ERROR, "Service temporarily unavailable"},
    [PROTO_R_SLOW_CONSUMER] = {"SLOW_CONSUMER", PROTO_APP_ERROR, "Outbound queue overflowed"},
    [PROTO_R_BATCH_UNSUPPORTED] = {"BATCH_UNSUPPORTED", PROTO_INVALID_REQUEST,
				   "Batch requests are not supported"},
    [PROTO_R_IMAGE_MISSING] = {"IMAGE_MISSING", PROTO_APP_ERROR, "Runtime image missing"},
    [PROTO_R_POOL_FULL] = {"POOL_FULL", PROTO_APP_ERROR, "Resource pool full"},
    [PROTO_R_TLS_REQUIRED] = {"TLS_REQUIRED", PROTO_APP_ERROR, "TLS certificates required"},
    [PROTO_R_TLS_INVALID] = {"TLS_INVALID", PROTO_APP_ERROR, "TLS certificates invalid"},
};

_Static_assert(sizeof(reasons) / sizeof(reasons[0]) == PROTO_R_COUNT,
	       "every enum proto_reason needs a row in reasons[]");

/* Out-of-range values are treated as INTERNAL, never indexed. */
static const struct reason_info *reason_info(enum proto_reason r)
{
	if ((int)r < 0 || r >= PROTO_R_COUNT || !reasons[r].name)
		return &reasons[PROTO_R_INTERNAL];
	return &reasons[r];
}

const char *proto_reason_str(enum proto_reason r)
{
	return reason_info(r)->name;
}

int proto_reason_code(enum proto_reason r)
{
	return reason_info(r)->code;
}

void proto_error_set(struct proto_error *err, enum proto_reason reason, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return;
	err->reason = reason;
	err->message[0] = '\0';
	if (!fmt)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (n < 0) {
		err->message[0] = '\0';
		return;
	}
	/* Truncation may have cut a character in two: end on a whole one. */
	err->message[proto_utf8_valid_prefix(err->message, strlen(err->message))] = '\0';
}

/* Encode a frame object (borrowed); NULL if it cannot be encoded. */
static char *dump_frame(json_t *frame, size_t *len)
{
	char *s = frame ? json_dumps(frame, JSON_COMPACT) : NULL;

	if (len)
		*len = s ? strlen(s) : 0;
	return s;
}

/* {"jsonrpc":"2.0","id":...}: the common head of every response. */
static json_t *response_head(json_t *id)
{
	json_t *frame = json_object();

	if (!frame)
		return NULL;
	if (json_object_set_new(frame, "jsonrpc", json_string("2.0")) ||
	    json_object_set(frame, "id", id ? id : json_null())) {
		json_decref(frame);
		return NULL;
	}
	return frame;
}

char *proto_error_frame(json_t *id, enum proto_reason reason, const char *message,
			json_t *extra_data, size_t *len)
{
	const struct reason_info *ri = reason_info(reason);
	json_t *frame, *error, *data;
	char *out = NULL;
	size_t mlen;

	if (reason == PROTO_R_NONE)
		ri = &reasons[PROTO_R_INTERNAL];
	if (!message || !message[0])
		message = ri->message;
	mlen = proto_utf8_valid_prefix(message, strlen(message));

	frame = response_head(id);
	error = json_object();
	data = json_object();
	if (!frame || !error || !data)
		goto out_free;
	if (json_object_set_new(data, "reason", json_string(ri->name)) ||
	    json_object_set_new(error, "code", json_integer(ri->code)) ||
	    json_object_set_new(error, "message", json_stringn(message, mlen)) ||
	    json_object_set(error, "data", data) || json_object_set(frame, "error", error))
		goto out_free;

	if (json_is_object(extra_data) && json_object_update_missing(data, extra_data) == 0) {
		out = dump_frame(frame, len);
		if (out)
			goto out_free;
		/* extra_data held something jansson cannot encode: send without it. */
		json_object_clear(data);
		if (json_object_set_new(data, "reason", json_string(ri->name)))
			goto out_free;
	}
	out = dump_frame(frame, len);

out_free:
	json_decref(data);
	json_decref(error);
	json_decref(frame);
	if (!out && len)
		*len = 0;
	return out;
}

char *proto_result(json_t *id, json_t *result, size_t *len)
{
	json_t *frame = response_head(id);
	char *out = NULL;

	if (frame && json_object_set(frame, "result", result ? result : json_null()) == 0)
		out = dump_frame(frame, len);
	json_decref(frame);
	if (!out)
		return proto_error_frame(id, PROTO_R_INTERNAL, "result could not be encoded", NULL,
					 len);
	return out;
}

char *proto_result_steal(json_t *id, json_t *result, size_t *len)
{
	char *out = proto_result(id, result, len);

	json_decref(result);
	return out;
}

char *proto_notify(const char *method, json_t *params, size_t *len)
{
	json_t *frame;
	char *out = NULL;

	if (len)
		*len = 0;
	if (!method)
		return NULL;
	frame = json_object();
	if (!frame)
		return NULL;
	if (json_object_set_new(frame, "jsonrpc", json_string("2.0")) == 0 &&
	    json_object_set_new(frame, "method", json_string(method)) == 0 &&
	    json_object_set_new(frame, "params", params ? json_incref(params) : json_object()) == 0)
		out = dump_frame(frame, len);
	json_decref(frame);
	return out;
}

char *proto_notify_steal(const char *method, json_t *params, size_t *len)
{
	char *out = proto_notify(method, params, len);

	json_decref(params);
	return out;
}

/* What JSON_COMPACT writes for a byte of a valid UTF-8 string: 0 the byte
 * itself, else the letter of its two-character escape, or 'u' for \u00XX. */
static const char log_escape[256] = {
    ['\b'] = 'b',  ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"',
    ['\\'] = '\\', [0] = 'u',	 [1] = 'u',    [2] = 'u',    [3] = 'u',	   [4] = 'u',
    [5] = 'u',	   [6] = 'u',	 [7] = 'u',    [11] = 'u',   [14] = 'u',   [15] = 'u',
    [16] = 'u',	   [17] = 'u',	 [18] = 'u',   [19] = 'u',   [20] = 'u',   [21] = 'u',
    [22] = 'u',	   [23] = 'u',	 [24] = 'u',   [25] = 'u',   [26] = 'u',   [27] = 'u',
    [28] = 'u',	   [29] = 'u',	 [30] = 'u',   [31] = 'u'};

/* utf8 (valid UTF-8) as the inside of a JSON string, as jansson writes it;
 * at most 6 bytes a byte. lines: a newline ends the string and starts the
 * next one (",") instead. Returns where it stopped. */
static char *put_escaped(char *o, const char *utf8, size_t len, int lines)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len;) {
		size_t run_len = i;
		unsigned char c;

		while (run_len < len && !log_escape[(unsigned char)utf8[run_len]])
			run_len++;
		memcpy(o, utf8 + i, run_len - i);
		o += run_len - i;
		if ((i = run_len) == len)
			break;
		c = (unsigned char)utf8[i++];
		if (c == '\n' && lines) {
			memcpy(o, "\",\"", 3);
			o += 3;
			continue;
		}
		*o++ = '\\';
		*o++ = log_escape[c];
		if (log_escape[c] == 'u') {
			memcpy(o, "00", 2);
			o[2] = hex[c >> 4];
			o[3] = hex[c & 15];
			o += 4;
		}
	}
	return o;
}

char *proto_notify_log(long long run, long long seq, const char *stream, const char *utf8,
		       size_t len, size_t *out_len)
{
	char head[160], *out, *o;
	int hn = snprintf(head, sizeof(head),
			  "{\"jsonrpc\":\"2.0\",\"method\":\"run/log\",\"params\":{\"run\":%lld,"
			  "\"seq\":%lld,\"stream\":\"%s\",\"data\":\"",
			  run, seq, stream);

	if (out_len)
		*out_len = 0;
	if (hn < 0 || (size_t)hn >= sizeof(head) || len > ((size_t)-1 - 200) / 6)
		return NULL;
	out = malloc((size_t)hn + len * 6 + 4); /* at worst \u00XX for every byte */
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)hn);
	o = put_escaped(out + hn, utf8, len, 0);
	memcpy(o, "\"}}", 4); /* with its NUL */
	if (out_len)
		*out_len = (size_t)(o - out) + 3;
	return out;
}

char *proto_notify_collab_replace(long long file, long long version, const char *client,
				  long long user, long long old_len, const char *utf8, size_t len,
				  size_t *out_len)
{
	static const char mid[] = "]],\"client\":\"";
	size_t clen = strlen(client);
	char head[200], *out, *o;
	int hn = snprintf(head, sizeof(head),
			  "{\"jsonrpc\":\"2.0\",\"method\":\"collab/update\",\"params\":{\"file\":"
			  "%lld,\"version\":%lld,\"user\":%lld,\"changes\":[[%lld",
			  file, version, user, old_len);

	if (out_len)
		*out_len = 0;
	if (hn < 0 || (size_t)hn >= sizeof(head) || len > ((size_t)-1 - 400 - clen * 6) / 9)
		return NULL;
	/* at worst \u00XX for every byte, and ,"" for every line */
	out = malloc((size_t)hn + len * 9 + clen * 6 + sizeof(mid) + 8);
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)hn);
	o = out + hn;
	if (len) { /* as string_to_array(text, E'\n'): no line for "" */
		memcpy(o, ",\"", 2);
		o = put_escaped(o + 2, utf8, len, 1);
		*o++ = '"';
	}
	memcpy(o, mid, sizeof(mid) - 1);
	o = put_escaped(o + sizeof(mid) - 1, client, clen, 0);
	memcpy(o, "\"}}", 4); /* with its NUL */
	if (out_len)
		*out_len = (size_t)(o - out) + 3;
	return out;
}
