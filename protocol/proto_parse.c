/*
 * proto_parse.c - turn one inbound websocket text frame into a validated
 * JSON-RPC 2.0 request or notification, or into the reason it was refused.
 *
 * The checks run cheapest and most protective first: size before anything is
 * read, UTF-8 and nesting depth over the raw bytes before jansson parses (so
 * jansson's recursive parser never goes deeper than the limit), then jansson
 * with duplicate keys and NUL characters refused, then the number range over
 * the whole tree, then the envelope. PROTOCOL.md "Parse rules" describes the
 * outcome; keep the two in step.
 */
#include "proto.h"

#include <string.h>

/*
 * 1 when some array or object in buf opens deeper than max. Brackets inside
 * strings do not count. It sees the same tokens as jansson up to jansson's
 * first syntax error, and never counts lower than jansson's real nesting
 * (a stray closer cannot take the count below zero), so a frame it passes
 * cannot make jansson recurse deeper than max.
 */
static int too_deep(const char *buf, size_t len, int max)
{
	int depth = 0, in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (c == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			break;
		case '{':
		case '[':
			if (++depth > max)
				return 1;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* 1 when every number in v, integer or real, is within +-PROTO_MAX_SAFE_INT. */
static int numbers_in_range(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_INTEGER: {
		json_int_t n = json_integer_value(v);

		return n >= -PROTO_MAX_SAFE_INT && n <= PROTO_MAX_SAFE_INT;
	}
	case JSON_REAL: {
		double d = json_real_value(v);

		return d >= -(double)PROTO_MAX_SAFE_INT && d <= (double)PROTO_MAX_SAFE_INT;
	}
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
		{
			if (!numbers_in_range(item))
				return 0;
		}
		return 1;
	case JSON_OBJECT:
		json_object_foreach(v, key, item)
		{
			if (!numbers_in_range(item))
				return 0;
		}
		return 1;
	default:
		return 1;
	}
}

/* Map a jansson load failure to our reason, with the byte offset. */
static void jansson_error(const json_error_t *je, struct proto_error *err)
{
	int pos = je->position;

	switch (json_error_code(je)) {
	case json_error_duplicate_key:
		proto_error_set(err, PROTO_R_DUPLICATE_KEY, "duplicate object key at byte %d", pos);
		break;
	case json_error_numeric_overflow:
		proto_error_set(err, PROTO_R_NUMBER_TOO_LARGE, "number out of range at byte %d",
				pos);
		break;
	case json_error_stack_overflow:
		proto_error_set(err, PROTO_R_TOO_DEEP, "JSON nested too deeply at byte %d", pos);
		break;
	case json_error_invalid_utf8:
		proto_error_set(err, PROTO_R_INVALID_UTF8, "invalid UTF-8 at byte %d", pos);
		break;
	case json_error_null_character:
	case json_error_null_byte_in_key:
		proto_error_set(err, PROTO_R_PARSE_ERROR,
				"\\u0000 is not allowed in strings (byte %d)", pos);
		break;
	case json_error_out_of_memory:
		proto_error_set(err, PROTO_R_INTERNAL, "out of memory");
		break;
	case json_error_unknown:
		/* jansson fails silently only when an allocation failed. */
		if (!je->text[0]) {
			proto_error_set(err, PROTO_R_INTERNAL, "out of memory");
			break;
		}
		/* fall through */
	default:
		proto_error_set(err, PROTO_R_PARSE_ERROR, "invalid JSON at byte %d: %s", pos,
				je->text);
		break;
	}
}

/* The id if it is one a response may carry: a string or an in-range integer. */
static json_t *usable_id(json_t *id)
{
	if (json_is_string(id))
		return id;
	if (json_is_integer(id) && json_integer_value(id) >= -PROTO_MAX_SAFE_INT &&
	    json_integer_value(id) <= PROTO_MAX_SAFE_INT)
		return id;
	return NULL;
}

/* Envelope checks on a parsed object. 0 and msg filled, or -1 and err. */
static int check_envelope(json_t *root, struct proto_msg *msg, struct proto_error *err)
{
	json_t *v, *params;
	const char *key;
	size_t n;

	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "jsonrpc") && strcmp(key, "id") && strcmp(key, "method") &&
		    strcmp(key, "params")) {
			n = proto_utf8_complete_prefix(key, strnlen(key, 32));
			proto_error_set(err, PROTO_R_INVALID_REQUEST,
					"unexpected member \"%.*s\" in request", (int)n, key);
			return -1;
		}
	}
	v = json_object_get(root, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		proto_error_set(err, PROTO_R_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
		return -1;
	}
	v = json_object_get(root, "id");
	if (v && !usable_id(v)) {
		proto_error_set(err, PROTO_R_INVALID_REQUEST,
				"\"id\" must be a string or an integer");
		return -1;
	}
	v = json_object_get(root, "method");
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > PROTO_MAX_METHOD) {
		proto_error_set(err, PROTO_R_INVALID_REQUEST,
				"\"method\" must be a non-empty string of at most %d bytes",
				PROTO_MAX_METHOD);
		return -1;
	}
	params = json_object_get(root, "params");
	if (!params) {
		if (json_object_set_new(root, "params", json_object())) {
			proto_error_set(err, PROTO_R_INTERNAL, "out of memory");
			return -1;
		}
		params = json_object_get(root, "params");
	} else if (!json_is_object(params)) {
		proto_error_set(err, PROTO_R_INVALID_REQUEST, "\"params\" must be an object");
		return -1;
	}
	msg->method = json_string_value(v);
	msg->params = params;
	return 0;
}

int proto_parse(const char *buf, size_t len, const struct proto_limits *lim, struct proto_msg *msg,
		struct proto_error *err)
{
	size_t max_frame = lim && lim->max_frame ? lim->max_frame : 1024 * 1024;
	int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : 32;
	json_error_t je;
	json_t *root;
	size_t good;

	memset(msg, 0, sizeof(*msg));
	proto_error_set(err, PROTO_R_NONE, "%s", "");

	if (len > max_frame) {
		proto_error_set(err, PROTO_R_TOO_LARGE,
				"frame of %zu bytes is over the limit of %zu bytes", len,
				max_frame);
		return -1;
	}
	if (!buf || len == 0) {
		proto_error_set(err, PROTO_R_PARSE_ERROR, "empty frame");
		return -1;
	}
	good = proto_utf8_valid_prefix(buf, len);
	if (good != len) {
		proto_error_set(err, PROTO_R_INVALID_UTF8, "invalid UTF-8 at byte %zu", good);
		return -1;
	}
	if (too_deep(buf, len, max_depth)) {
		proto_error_set(err, PROTO_R_TOO_DEEP, "JSON nested deeper than %d levels",
				max_depth);
		return -1;
	}

	root = proto_json_load(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!root) {
		jansson_error(&je, err);
		return -1;
	}
	msg->root = root;
	if (json_is_object(root))
		msg->id = usable_id(json_object_get(root, "id"));

	if (!numbers_in_range(root)) {
		proto_error_set(err, PROTO_R_NUMBER_TOO_LARGE,
				"a number is outside -(2^53-1)..2^53-1");
		goto out_fail;
	}
	if (json_is_array(root)) {
		proto_error_set(err, PROTO_R_BATCH_UNSUPPORTED,
				"batch requests are not supported: send one object per frame");
		goto out_fail;
	}
	if (!json_is_object(root)) {
		proto_error_set(err, PROTO_R_INVALID_REQUEST, "a request must be a JSON object");
		goto out_fail;
	}
	if (check_envelope(root, msg, err))
		goto out_fail;
	return 0;

out_fail:
	msg->method = NULL;
	msg->params = NULL;
	if (!msg->id) {
		json_decref(msg->root);
		msg->root = NULL;
	}
	return -1;
}

void proto_msg_release(struct proto_msg *msg)
{
	if (!msg)
		return;
	json_decref(msg->root);
	memset(msg, 0, sizeof(*msg));
}
