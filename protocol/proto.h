/*
 * proto.h - the JSON-RPC 2.0 wire protocol of run-it: parse and validate one
 * inbound text frame, build outbound responses, errors and notifications,
 * look methods up in a dispatch table, read typed params.
 *
 * This module depends on jansson only (no lws, libpq or libcurl) so that it
 * can be unit-tested and fuzzed on its own. protocol/PROTOCOL.md is the
 * authoritative description of the frames.
 */
#ifndef RUNIT_PROTO_H
#define RUNIT_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Standard JSON-RPC 2.0 error codes, and the one application code. */
#define PROTO_PARSE_ERROR (-32700)
#define PROTO_INVALID_REQUEST (-32600)
#define PROTO_METHOD_NOT_FOUND (-32601)
#define PROTO_INVALID_PARAMS (-32602)
#define PROTO_INTERNAL_ERROR (-32603)
#define PROTO_APP_ERROR (-32000)

/* Largest integer a JavaScript client can hold exactly: 2^53 - 1. */
#define PROTO_MAX_SAFE_INT 9007199254740991LL

/*
 * Stable reason codes, sent as error.data.reason. Never renumber: append.
 * proto_reason_str() gives the upper-case wire name ("TOO_LARGE").
 */
enum proto_reason {
	PROTO_R_NONE = 0,
	PROTO_R_PARSE_ERROR,	  /* not JSON at all (-32700) */
	PROTO_R_INVALID_UTF8,	  /* frame is not valid UTF-8 (-32700) */
	PROTO_R_TOO_DEEP,	  /* nesting deeper than the limit (-32700) */
	PROTO_R_DUPLICATE_KEY,	  /* an object repeats a key (-32700) */
	PROTO_R_NUMBER_TOO_LARGE, /* number outside what we accept (-32700 or -32602) */
	PROTO_R_TOO_LARGE,	  /* frame or value over a size limit */
	PROTO_R_INVALID_REQUEST,  /* valid JSON, not a valid request (-32600) */
	PROTO_R_METHOD_NOT_FOUND, /* (-32601) */
	PROTO_R_INVALID_PARAMS,	  /* (-32602) */
	PROTO_R_UNAUTHENTICATED,
	PROTO_R_FORBIDDEN,
	PROTO_R_NOT_FOUND,
	PROTO_R_CONFLICT,
	PROTO_R_INVALID_PATH,
	PROTO_R_RATE_LIMITED,
	PROTO_R_RUN_QUOTA,
	PROTO_R_RUNTIME_DISABLED,
	PROTO_R_PLATFORM_UNAVAILABLE,
	PROTO_R_MFA_REQUIRED,
	PROTO_R_INTERNAL,
	PROTO_R_UNAVAILABLE,	   /* a dependency (database) is down; retry later */
	PROTO_R_SLOW_CONSUMER,	   /* outbound queue overflowed */
	PROTO_R_BATCH_UNSUPPORTED, /* JSON-RPC batch arrays are refused (-32600) */
	PROTO_R_IMAGE_MISSING,	   /* the runtime's image is not on the platform */
	PROTO_R_POOL_FULL,	   /* the run does not fit in its user's pool */
	PROTO_R_TLS_REQUIRED,	   /* a tcp:// platform without its TLS certificates */
	PROTO_R_TLS_INVALID,	   /* a platform's PEMs do not parse or do not match */
	PROTO_R_COUNT
};

const char *proto_reason_str(enum proto_reason r);
/* The JSON-RPC code that goes with a reason (-32700, -32600, ..., -32000). */
int proto_reason_code(enum proto_reason r);

struct proto_limits {
	size_t max_frame; /* bytes; default 1 MiB */
	int max_depth;	  /* nesting of arrays/objects; default 32 */
};
#define PROTO_LIMITS_DEFAULT                                                                       \
	{                                                                                          \
		1024 * 1024, 32                                                                    \
	}

/* An error found while parsing or handling a frame. */
struct proto_error {
	enum proto_reason reason;
	char message[160];
};

/*
 * One parsed inbound message. The client sends requests (with "id") and may
 * send notifications (no "id"; they get no response).
 *   root   - new reference to the whole document (owned; proto_msg_release)
 *   id     - borrowed from root: a JSON string or an integer in
 *            [-(2^53-1), 2^53-1]; NULL for a notification
 *   method - borrowed from root, non-empty, at most 128 bytes
 *   params - borrowed from root: an object (absent params gives an empty
 *            object owned by root's lifetime through proto_msg_release)
 */
struct proto_msg {
	json_t *root;
	json_t *id;
	const char *method;
	json_t *params;
};

/*
 * Parse one frame. Returns 0 and fills *msg, or -1 and fills *err; on error
 * *msg is zeroed except that msg->id is set (a new reference in msg->root)
 * when the frame was valid JSON with a usable id, so the error response can
 * carry it. Call proto_msg_release() in both cases.
 * Checks: size limit, UTF-8, nesting depth, duplicate keys, integer range,
 * non-finite/huge reals, "jsonrpc":"2.0", method string, params object,
 * batches refused.
 */
int proto_parse(const char *buf, size_t len, const struct proto_limits *lim, struct proto_msg *msg,
		struct proto_error *err);

/*
 * json_loadb(buf, len, flags, err) with the same value or error, faster
 * for long strings (proto_json.c): they are decoded outside jansson. buf
 * must be valid UTF-8 (proto_utf8_valid; proto_parse checks it first): the
 * long strings' bytes are not checked again.
 */
json_t *proto_json_load(const char *buf, size_t len, size_t flags, json_error_t *err);
void proto_msg_release(struct proto_msg *msg);
/*
 * Details of proto_parse (PROTOCOL.md, "Parse rules", is the full list):
 *  - lim may be NULL, and a zero field means its default (PROTO_LIMITS_DEFAULT).
 *  - on error, when msg->id is set, msg->root is the whole parsed document
 *    (method and params are NULL); otherwise msg->root is NULL.
 *  - every number in the document, integer or real, must lie within
 *    +-PROTO_MAX_SAFE_INT, else PROTO_R_NUMBER_TOO_LARGE.
 *  - "\u0000" in any string or key is refused with PROTO_R_PARSE_ERROR.
 *  - a request object may hold only jsonrpc, id, method and params.
 *  - err may be NULL.
 */

/* Longest accepted method name, in bytes. */
#define PROTO_MAX_METHOD 128

/*
 * Fill *err (ignored when NULL) with a reason and a printf-style message.
 * The message is cut to fit err->message and to end on a whole UTF-8
 * character, so it is always valid UTF-8. For handlers as well as parsers.
 */
void proto_error_set(struct proto_error *err, enum proto_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Outbound frames as newly allocated NUL-terminated compact JSON strings
 * (free() them); *len gets strlen. NULL only on allocation failure.
 * Arguments are borrowed (not stolen) unless the name says _steal.
 */
/*
 * A NULL id is sent as null, a NULL result as null, NULL notify params as {}.
 * extra_data: its keys are merged into error.data (a "reason" key there is
 * ignored); anything but an object is ignored. A NULL or empty message gets
 * the reason's default text; a message that is not valid UTF-8 is cut at the
 * first bad byte. If result or extra_data cannot be encoded (a string made
 * with json_string_nocheck that is not UTF-8), proto_result sends an INTERNAL
 * error for the same id instead and proto_error_frame drops extra_data, so a
 * request still gets exactly one response; proto_notify returns NULL.
 */
char *proto_result(json_t *id, json_t *result, size_t *len);
char *proto_result_steal(json_t *id, json_t *result, size_t *len);
char *proto_error_frame(json_t *id, enum proto_reason reason, const char *message,
			json_t *extra_data, size_t *len);
char *proto_notify(const char *method, json_t *params, size_t *len);
char *proto_notify_steal(const char *method, json_t *params, size_t *len);
/*
 * The run/log notification {"run", "seq", "stream", "data"}: the same bytes
 * as proto_notify("run/log", ...) of those four, without building and
 * walking a jansson object (a run's output is most of what the server
 * sends). utf8 must be valid UTF-8 (run_out.h makes it so); NULL on no
 * memory.
 */
char *proto_notify_log(long long run, long long seq, const char *stream, const char *utf8,
		       size_t len, size_t *out_len);

/*
 * The collab/update frame of a whole-text replacement (a save), written by
 * hand as proto_notify_log is: params {file, version, user, changes:
 * [[old_len, line, line...]], client}, the lines of utf8 (valid UTF-8) as
 * string_to_array(text, E'\n') makes them. jansson took one value a line:
 * 256 KB of empty lines cost the event loop tens of milliseconds.
 */
char *proto_notify_collab_replace(long long file, long long version, const char *client,
				  long long user, long long old_len, const char *utf8, size_t len,
				  size_t *out_len);

/* Roles, ordered: a session with role R may call methods that need <= R. */
enum proto_role { PROTO_ROLE_ANON = 0, PROTO_ROLE_USER = 1, PROTO_ROLE_ADMIN = 2 };

/*
 * The dispatch table: one row per method, the role it needs and its handler.
 * ctx is the caller's (the server's session); the protocol module never
 * looks inside it.
 */
typedef void (*proto_handler_fn)(void *ctx, struct proto_msg *msg);
struct proto_method {
	const char *name;
	enum proto_role role;
	proto_handler_fn handler;
};
/* Binary or linear search; NULL when unknown. The table need not be sorted. */
const struct proto_method *proto_method_find(const struct proto_method *table, size_t n,
					     const char *name);

/*
 * Param readers. Each returns 0 on success, or -1 with *err set to
 * PROTO_R_INVALID_PARAMS (or PROTO_R_TOO_LARGE for a string over max bytes)
 * and a message naming the field. A missing optional field leaves *out as
 * the given default and returns 0.
 */
int proto_get_str(json_t *params, const char *key, int required, size_t max_bytes, const char **out,
		  struct proto_error *err);
int proto_get_int(json_t *params, const char *key, int required, long long min, long long max,
		  long long *out, struct proto_error *err);
int proto_get_bool(json_t *params, const char *key, int required, int *out,
		   struct proto_error *err);
/* Borrowed object/array; required or NULL when absent. */
int proto_get_obj(json_t *params, const char *key, int required, json_t **out,
		  struct proto_error *err);
int proto_get_arr(json_t *params, const char *key, int required, json_t **out,
		  struct proto_error *err);

/* UTF-8 helpers shared with the run log streamer. */
/* 1 when buf[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int proto_utf8_valid(const char *buf, size_t len);
/*
 * Length of the longest prefix of buf[0..len) that does not end inside a
 * multi-byte character that might still be completed by later bytes.
 * Used to avoid splitting a character across two frames.
 */
size_t proto_utf8_complete_prefix(const char *buf, size_t len);
/* Length of the longest prefix of buf[0..len) that is valid UTF-8. */
size_t proto_utf8_valid_prefix(const char *buf, size_t len);

#endif
