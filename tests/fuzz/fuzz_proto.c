/*
 * fuzz_proto.c - libFuzzer target for the inbound frame parser.
 *
 * Each input is one websocket text frame. It goes through proto_parse with
 * small limits (so the depth and size checks are reached often), then the
 * outcome is turned into the frame the server would send back, which must be
 * valid JSON that jansson reads back. Everything is freed: a leak is a crash
 * under LeakSanitizer. The first input byte picks one of a few limit sets.
 * Each input that is UTF-8 is also read by proto_json_load and by
 * json_loadb, which must agree: the same value, or the same error at the
 * same place.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* The reply must be one strict JSON object, or the fuzzer stops here. */
static void check_reply(char *frame, const size_t *lenp)
{
	size_t len = *lenp; /* read here: the frame's call is the argument beside it */

	json_error_t je;
	json_t *v;

	if (!frame)
		abort(); /* only allocation failure may give NULL */
	if (len != strlen(frame) || !proto_utf8_valid(frame, len))
		abort();
	v = json_loadb(frame, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(v))
		abort();
	json_decref(v);
	free(frame);
}

/* proto_json_load is json_loadb, faster: the same value or error. */
static void check_same_json(const char *buf, size_t len)
{
	const size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY;
	json_error_t e1, e2;
	json_t *a = json_loadb(buf, len, flags, &e1);
	json_t *b = proto_json_load(buf, len, flags, &e2);

	if (!a != !b || (a && !json_equal(a, b)) ||
	    (!a && (strcmp(e1.text, e2.text) || e1.position != e2.position)))
		abort();
	json_decref(a);
	json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct proto_limits lims[] = {
	    PROTO_LIMITS_DEFAULT,
	    {64, 4},
	    {4096, 8},
	    {0, 0},
	};
	const struct proto_limits *lim = &lims[0];
	struct proto_msg msg;
	struct proto_error err;
	size_t len;
	int rc;

	if (size > 0) {
		lim = &lims[data[0] % (sizeof(lims) / sizeof(lims[0]))];
		data++;
		size--;
	}
	if (proto_utf8_valid((const char *)data, size)) /* as proto_parse calls it */
		check_same_json((const char *)data, size);
	rc = proto_parse((const char *)data, size, lim, &msg, &err);
	if (rc == 0) {
		json_t *res;

		if (!msg.method || !json_is_object(msg.params) || !msg.root)
			abort();
		if (strlen(msg.method) == 0 || strlen(msg.method) > PROTO_MAX_METHOD)
			abort();
		/* echo the params back as a result, and as a notification */
		res = json_pack("{s:s, s:O}", "method", msg.method, "params", msg.params);
		check_reply(proto_result(msg.id, res, &len), &len);
		check_reply(proto_notify_steal(msg.method, res, &len), &len);
	} else {
		if (err.reason <= PROTO_R_NONE || err.reason >= PROTO_R_COUNT)
			abort();
		if (msg.method || msg.params || (msg.id && !msg.root))
			abort();
		if (!proto_utf8_valid(err.message, strlen(err.message)))
			abort();
	}
	check_reply(proto_error_frame(msg.id, err.reason, err.message, NULL, &len), &len);
	proto_msg_release(&msg);
	return 0;
}
