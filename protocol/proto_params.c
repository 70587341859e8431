/*
 * proto_params.c - typed readers for request params and the method table
 * lookup. Handlers read every field through these so that a wrong type, a
 * missing field or an over-long string always gets the same INVALID_PARAMS
 * (or TOO_LARGE) answer naming the field.
 *
 * A field that is present with the value null counts as absent: optional
 * fields keep their default, required ones are reported missing.
 */
#include "proto.h"

#include <string.h>

/*
 * Find params[key]. Returns 1 with *val set, 0 when absent and optional
 * (or null), -1 with err set when absent and required or params is unusable.
 */
static int param_lookup(json_t *params, const char *key, int required, json_t **val,
			struct proto_error *err)
{
	json_t *v;

	*val = NULL;
	if (!key) {
		proto_error_set(err, PROTO_R_INTERNAL, "param reader called without a key");
		return -1;
	}
	if (!json_is_object(params)) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "params must be an object");
		return -1;
	}
	v = json_object_get(params, key);
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "missing param \"%s\"", key);
		return -1;
	}
	*val = v;
	return 1;
}

int proto_get_str(json_t *params, const char *key, int required, size_t max_bytes, const char **out,
		  struct proto_error *err)
{
	json_t *v;
	const char *s;
	size_t n;
	int rc = param_lookup(params, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v)) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "param \"%s\" must be a string", key);
		return -1;
	}
	s = json_string_value(v);
	n = json_string_length(v);
	/* Only a server-built value can hold NUL; a C string would hide the rest. */
	if (strlen(s) != n) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "param \"%s\" contains NUL", key);
		return -1;
	}
	if (n > max_bytes) {
		proto_error_set(err, PROTO_R_TOO_LARGE, "param \"%s\" is longer than %zu bytes",
				key, max_bytes);
		return -1;
	}
	*out = s;
	return 0;
}

int proto_get_int(json_t *params, const char *key, int required, long long min, long long max,
		  long long *out, struct proto_error *err)
{
	json_t *v;
	long long n;
	int rc = param_lookup(params, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_integer(v)) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "param \"%s\" must be an integer",
				key);
		return -1;
	}
	n = json_integer_value(v);
	if (n < min || n > max) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS,
				"param \"%s\" must be between %lld and %lld", key, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

int proto_get_bool(json_t *params, const char *key, int required, int *out, struct proto_error *err)
{
	json_t *v;
	int rc = param_lookup(params, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_boolean(v)) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "param \"%s\" must be true or false",
				key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int proto_get_obj(json_t *params, const char *key, int required, json_t **out,
		  struct proto_error *err)
{
	json_t *v;
	int rc = param_lookup(params, key, required, &v, err);

	*out = NULL;
	if (rc <= 0)
		return rc;
	if (!json_is_object(v)) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "param \"%s\" must be an object", key);
		return -1;
	}
	*out = v;
	return 0;
}

int proto_get_arr(json_t *params, const char *key, int required, json_t **out,
		  struct proto_error *err)
{
	json_t *v;
	int rc = param_lookup(params, key, required, &v, err);

	*out = NULL;
	if (rc <= 0)
		return rc;
	if (!json_is_array(v)) {
		proto_error_set(err, PROTO_R_INVALID_PARAMS, "param \"%s\" must be an array", key);
		return -1;
	}
	*out = v;
	return 0;
}

const struct proto_method *proto_method_find(const struct proto_method *table, size_t n,
					     const char *name)
{
	size_t i;

	if (!table || !name)
		return NULL;
	for (i = 0; i < n; i++) {
		if (table[i].name && strcmp(table[i].name, name) == 0)
			return &table[i];
	}
	return NULL;
}
