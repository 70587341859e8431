/*
 * test_proto_params.c - the param readers of protocol/proto_params.c
 * (proto_get_str, _int, _bool, _obj, _arr) and the method table lookup:
 * types, inclusive ranges, defaults, and refusals with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"

static json_t *params_fixture(void)
{
	json_error_t je;
	json_t *p = json_loads("{\"s\":\"hello\",\"e\":\"\",\"i\":42,\"neg\":-5,\"r\":1.5,"
			       "\"b\":true,\"f\":false,\"o\":{\"k\":1},\"a\":[1,2],\"n\":null}",
			       0, &je);

	assert_non_null(p);
	return p;
}

static void test_get_str_reads_limits_and_defaults(void **state)
{
	json_t *p = params_fixture();
	struct proto_error err;
	const char *s = "default";
	(void)state;

	assert_int_equal(proto_get_str(p, "s", 1, 5, &s, &err), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(proto_get_str(p, "e", 1, 0, &s, &err), 0);
	assert_string_equal(s, "");

	s = "default";
	assert_int_equal(proto_get_str(p, "missing", 0, 10, &s, &err), 0);
	assert_string_equal(s, "default");
	assert_int_equal(proto_get_str(p, "n", 0, 10, &s, &err), 0); /* null = absent */
	assert_string_equal(s, "default");

	assert_int_equal(proto_get_str(p, "s", 1, 4, &s, &err), -1);
	assert_int_equal(err.reason, PROTO_R_TOO_LARGE);
	assert_non_null(strstr(err.message, "\"s\""));
	assert_int_equal(proto_get_str(p, "missing", 1, 10, &s, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "missing"));
	assert_int_equal(proto_get_str(p, "n", 1, 10, &s, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_int_equal(proto_get_str(p, "i", 0, 10, &s, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "\"i\""));
	json_decref(p);
}

static void test_get_str_refuses_server_built_nul(void **state)
{
	json_t *p = json_object();
	struct proto_error err;
	const char *s = NULL;
	(void)state;

	json_object_set_new(p, "x", json_stringn("a\0b", 3));
	assert_int_equal(proto_get_str(p, "x", 1, 10, &s, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_null(s);
	json_decref(p);
}

static void test_get_int_checks_type_and_inclusive_range(void **state)
{
	json_t *p = params_fixture();
	struct proto_error err;
	long long v = 99;
	(void)state;

	assert_int_equal(proto_get_int(p, "i", 1, 42, 42, &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(proto_get_int(p, "neg", 1, -5, 0, &v, &err), 0);
	assert_int_equal(v, -5);
	assert_int_equal(proto_get_int(p, "i", 1, 0, 41, &v, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_non_null(strstr(err.message, "41"));
	assert_int_equal(proto_get_int(p, "i", 1, 43, 100, &v, &err), -1);
	assert_int_equal(proto_get_int(p, "r", 1, 0, 10, &v, &err), -1); /* real */
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_int_equal(proto_get_int(p, "s", 1, 0, 10, &v, &err), -1);
	assert_int_equal(proto_get_int(p, "b", 1, 0, 10, &v, &err), -1);
	v = 7;
	assert_int_equal(proto_get_int(p, "missing", 0, 0, 10, &v, &err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(proto_get_int(p, "missing", 1, 0, 10, &v, &err), -1);
	json_decref(p);
}

static void test_get_bool_obj_arr_check_types(void **state)
{
	json_t *p = params_fixture();
	struct proto_error err;
	json_t *o = (json_t *)1;
	int b = -1;
	(void)state;

	assert_int_equal(proto_get_bool(p, "b", 1, &b, &err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(proto_get_bool(p, "f", 1, &b, &err), 0);
	assert_int_equal(b, 0);
	b = -1;
	assert_int_equal(proto_get_bool(p, "missing", 0, &b, &err), 0);
	assert_int_equal(b, -1);
	assert_int_equal(proto_get_bool(p, "i", 1, &b, &err), -1); /* 1 is not true */
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);

	assert_int_equal(proto_get_obj(p, "o", 1, &o, &err), 0);
	assert_ptr_equal(o, json_object_get(p, "o"));
	assert_int_equal(proto_get_obj(p, "missing", 0, &o, &err), 0);
	assert_null(o);
	assert_int_equal(proto_get_obj(p, "a", 1, &o, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_null(o);

	assert_int_equal(proto_get_arr(p, "a", 1, &o, &err), 0);
	assert_int_equal(json_array_size(o), 2);
	assert_int_equal(proto_get_arr(p, "n", 0, &o, &err), 0);
	assert_null(o);
	assert_int_equal(proto_get_arr(p, "o", 1, &o, &err), -1);
	assert_int_equal(proto_get_arr(p, "missing", 1, &o, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	json_decref(p);
}

static void test_param_readers_refuse_non_object_params(void **state)
{
	json_t *a = json_array();
	struct proto_error err;
	const char *s = NULL;
	long long v = 0;
	(void)state;

	assert_int_equal(proto_get_str(a, "x", 0, 10, &s, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	assert_int_equal(proto_get_int(NULL, "x", 0, 0, 1, &v, &err), -1);
	assert_int_equal(err.reason, PROTO_R_INVALID_PARAMS);
	json_decref(a);
}

/* ---- method table ---- */

static int handler_calls;
static void handler_a(void *ctx, struct proto_msg *msg)
{
	(void)ctx;
	(void)msg;
	handler_calls++;
}

static void test_method_find_exact_name_in_unsorted_table(void **state)
{
	static const struct proto_method table[] = {
	    {"run/start", PROTO_ROLE_USER, handler_a},
	    {"auth/login", PROTO_ROLE_ANON, handler_a},
	    {"admin/user/disable", PROTO_ROLE_ADMIN, handler_a},
	    {"run/stop", PROTO_ROLE_USER, NULL},
	};
	const size_t n = sizeof(table) / sizeof(table[0]);
	const struct proto_method *m;
	(void)state;

	m = proto_method_find(table, n, "auth/login");
	assert_ptr_equal(m, &table[1]);
	assert_int_equal(m->role, PROTO_ROLE_ANON);
	m->handler(NULL, NULL);
	assert_int_equal(handler_calls, 1);
	assert_ptr_equal(proto_method_find(table, n, "run/stop"), &table[3]);
	assert_ptr_equal(proto_method_find(table, n, "admin/user/disable"), &table[2]);
	assert_null(proto_method_find(table, n, "run"));
	assert_null(proto_method_find(table, n, "run/start/"));
	assert_null(proto_method_find(table, n, "Run/Start"));
	assert_null(proto_method_find(table, n, ""));
	assert_null(proto_method_find(table, n, NULL));
	assert_null(proto_method_find(NULL, 0, "run/start"));
	/* n bounds the search */
	assert_null(proto_method_find(table, 3, "run/stop"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_str_reads_limits_and_defaults),
	    cmocka_unit_test(test_get_str_refuses_server_built_nul),
	    cmocka_unit_test(test_get_int_checks_type_and_inclusive_range),
	    cmocka_unit_test(test_get_bool_obj_arr_check_types),
	    cmocka_unit_test(test_param_readers_refuse_non_object_params),
	    cmocka_unit_test(test_method_find_exact_name_in_unsorted_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
