/*
 * test_validate.c - the pure input checks of server/validate.c and
 * settings_check(): environment names (reserved ones included), image
 * references, argv commands (never a shell string), FAQ shape, templates,
 * platform fields, project names, and the ranges of global settings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "settings.h"
#include "validate.h"

static json_t *J(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(j);
	return j;
}

/* validate fn on JSON text; 1 when accepted. Frees the value. */
static int accepts(const char *(*fn)(const json_t *), const char *text)
{
	json_t *j = J(text);
	int ok = fn(j) == NULL;

	json_decref(j);
	return ok;
}

static void env_names(void **state)
{
	assert_null(validate_env_name("FOO"));
	assert_null(validate_env_name("_x1"));
	assert_null(validate_env_name("api_KEY_2"));
	assert_non_null(validate_env_name(""));
	assert_non_null(validate_env_name("1ABC"));
	assert_non_null(validate_env_name("A-B"));
	assert_non_null(validate_env_name("A B"));
	assert_non_null(validate_env_name("PATH"));
	assert_non_null(validate_env_name("HOME"));
	assert_non_null(validate_env_name("USER"));
	assert_non_null(validate_env_name("LD_PRELOAD"));
	assert_non_null(validate_env_name("RUNIT_TOKEN"));
	assert_null(validate_env_name("PATHS")); /* only the exact name is reserved */
	char longname[200];
	memset(longname, 'A', sizeof(longname));
	longname[128] = '\0';
	assert_null(validate_env_name(longname));
	longname[128] = 'A';
	longname[129] = '\0';
	assert_non_null(validate_env_name(longname));
}

static void image_references(void **state)
{
	assert_null(validate_image("runit/python:latest"));
	assert_null(validate_image("python"));
	assert_null(validate_image("python:3.11-slim"));
	assert_null(validate_image("docker.io/library/python:3.11"));
	assert_null(validate_image("localhost:5000/team/img:v1"));
	assert_null(validate_image("ghcr.io/a_b/c__d/e-f:1.0"));
	assert_null(validate_image(
	    "img@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_non_null(validate_image(""));
	assert_non_null(validate_image("Python")); /* upper case path */
	assert_non_null(validate_image("a b"));
	assert_non_null(validate_image("img;rm -rf /"));
	assert_non_null(validate_image("img:"));
	assert_non_null(validate_image("/img"));
	assert_non_null(validate_image("img/"));
	assert_non_null(validate_image("a//b"));
	assert_non_null(validate_image("img:-tag"));
	assert_non_null(validate_image("-img"));
	assert_non_null(validate_image("img@sha256:xyz"));
	assert_non_null(validate_image("$(id)"));
}

static void commands_are_argv(void **state)
{
	assert_true(accepts(validate_argv, "[\"python3\", \"-u\", \"main.py\"]"));
	assert_true(accepts(validate_argv, "[\"/tmp/main\"]"));
	assert_false(accepts(validate_argv, "\"python3 main.py\""));
	assert_false(accepts(validate_argv, "[]"));
	assert_false(accepts(validate_argv, "[\"\"]"));
	assert_false(accepts(validate_argv, "[\"sh\", 1]"));
	assert_false(accepts(validate_argv, "[[\"sh\"]]"));
	assert_false(accepts(validate_argv, "null"));
}

static void faq_shape(void **state)
{
	assert_true(accepts(validate_faq, "[]"));
	assert_true(accepts(validate_faq, "[{\"question\":\"Q?\",\"answer\":\"A.\"}]"));
	assert_false(accepts(validate_faq, "{}"));
	assert_false(accepts(validate_faq, "[{\"question\":\"Q?\"}]"));
	assert_false(accepts(validate_faq, "[{\"question\":\"Q?\",\"answer\":1}]"));
	assert_false(accepts(validate_faq, "[{\"question\":\"Q\",\"answer\":\"A\",\"x\":1}]"));
	assert_false(accepts(validate_faq, "[\"Q\"]"));
	assert_false(accepts(validate_faq, "[{\"question\":\"\",\"answer\":\"A\"}]"));
}

static void templates(void **state)
{
	json_t *t = J("{\"main.py\":\"print(1)\\n\", \"src/a.py\":\"\"}");

	assert_null(validate_template(t, 200, 262144));
	assert_non_null(validate_template(t, 1, 262144));
	assert_non_null(validate_template(t, 200, 3));
	json_decref(t);
	t = J("{\"../evil\":\"x\"}");
	assert_non_null(validate_template(t, 200, 262144));
	json_decref(t);
	t = J("{\"a\":1}");
	assert_non_null(validate_template(t, 200, 262144));
	json_decref(t);
	/* a file and a folder of one name: every project made from it could not run */
	t = J("{\"main.sh\":\"\", \"main.sh/child\":\"\"}");
	assert_non_null(strstr(validate_template(t, 200, 262144), "folder"));
	json_decref(t);
	t = J("{\"main.sh\":\"\", \"main.shx/child\":\"\", \"main/sh\":\"\"}");
	assert_null(validate_template(t, 200, 262144));
	json_decref(t);
	/* paths are stored in NFC: "e" + U+0301 is refused, U+00E9 accepted */
	t = J("{\"cafe\u0301.py\":\"\"}");
	assert_non_null(strstr(validate_template(t, 200, 262144), "NFC"));
	json_decref(t);
	t = J("{\"caf\u00e9.py\":\"\"}");
	assert_null(validate_template(t, 200, 262144));
	json_decref(t);
	t = J("{\"main\u202ehs.exe\":\"\"}");
	assert_non_null(validate_template(t, 200, 262144));
	json_decref(t);
}

static void platforms(void **state)
{
	assert_null(validate_platform_kind("docker"));
	assert_null(validate_platform_kind("kubernetes"));
	assert_non_null(validate_platform_kind("lxc"));
	assert_null(validate_endpoint("unix:///var/run/docker.sock"));
	assert_null(validate_endpoint("/run/podman/podman.sock"));
	assert_null(validate_endpoint("tcp://10.0.0.2:2376"));
	assert_null(validate_endpoint("https://k8s.example:6443"));
	assert_non_null(validate_endpoint("unix://relative.sock"));
	assert_non_null(validate_endpoint("ftp://x"));
	assert_non_null(validate_endpoint("tcp:// x"));
	assert_non_null(validate_endpoint(""));
	assert_true(accepts(validate_platform_options, "{}"));
	assert_true(accepts(validate_platform_options, "{\"oci_runtime\":\"runsc\"}"));
	assert_false(accepts(validate_platform_options, "{\"oci_runtime\":\"runsc; rm\"}"));
	assert_false(accepts(validate_platform_options, "[]"));
	assert_null(validate_platform_name("local-docker"));
	assert_non_null(validate_platform_name("-x"));
	assert_null(validate_runtime_code("python-3.11"));
	assert_non_null(validate_runtime_code("Python"));
}

static void project_names(void **state)
{
	char big[5001];

	assert_null(validate_project_name("hello", 5));
	assert_null(validate_project_name("Ünïcode 名前", strlen("Ünïcode 名前")));
	assert_non_null(validate_project_name("", 0));
	assert_non_null(validate_project_name(" x", 2));
	assert_non_null(validate_project_name("x ", 2));
	assert_non_null(validate_project_name("a\nb", 3));
	memset(big, 'n', sizeof(big));
	assert_null(validate_project_name(big, 100));
	assert_non_null(validate_project_name(big, 101));
	assert_non_null(validate_project_name(big, 5000));
}

static void settings_ranges(void **state)
{
	json_t *v;
	struct settings st;

	v = json_integer(262144);
	assert_null(settings_check("max_file_bytes", v));
	json_decref(v);
	v = json_integer(0);
	assert_non_null(settings_check("max_file_bytes", v));
	json_decref(v);
	v = json_string("10");
	assert_non_null(settings_check("max_files_per_project", v));
	json_decref(v);
	v = json_true();
	assert_null(settings_check("signup_enabled", v));
	assert_non_null(settings_check("max_file_bytes", v));
	assert_non_null(settings_check("no_such_key", v));
	json_decref(v);
	v = J("[{\"question\":\"q\",\"answer\":\"a\"}]");
	assert_null(settings_check("global_faq", v));
	json_decref(v);

	/* the pool's: a word, and budgets where 0 is unlimited */
	v = json_string("wait");
	assert_null(settings_check("pool_full", v));
	json_decref(v);
	v = json_string("later");
	assert_non_null(settings_check("pool_full", v));
	json_decref(v);
	v = json_integer(0);
	assert_null(settings_check("pool_cpu_millis_user", v));
	json_decref(v);
	v = json_integer(-1);
	assert_non_null(settings_check("pool_mem_bytes_user", v));
	json_decref(v);

	settings_defaults(&st);
	assert_int_equal(st.pool_full, 0);
	assert_int_equal(st.pool_cpu_millis_user, 4000);
	v = json_string("wait");
	assert_int_equal(settings_apply(&st, "pool_full", v), 0);
	assert_int_equal(st.pool_full, 1);
	json_decref(v);
	v = settings_value(&st, "pool_full");
	assert_string_equal(json_string_value(v), "wait");
	json_decref(v);
	settings_defaults(&st);
	assert_int_equal(st.max_file_bytes, 262144);
	assert_int_equal(st.max_files_per_project, 200);
	assert_int_equal(st.max_project_bytes, 2097152);
	assert_int_equal(st.signup_enabled, 1);
	v = json_integer(5);
	assert_int_equal(settings_apply(&st, "max_files_per_project", v), 0);
	assert_int_equal(st.max_files_per_project, 5);
	json_decref(v);
	v = json_real(7.0);
	assert_int_equal(settings_apply(&st, "max_project_bytes", v), 0);
	assert_int_equal(st.max_project_bytes, 7);
	json_decref(v);
	for (size_t i = 0; settings_key_at(i); i++) {
		json_t *x = settings_value(&st, settings_key_at(i));
		assert_non_null(x);
		json_decref(x);
	}
	json_decref(st.global_faq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(env_names),	 cmocka_unit_test(image_references),
	    cmocka_unit_test(commands_are_argv), cmocka_unit_test(faq_shape),
	    cmocka_unit_test(templates),	 cmocka_unit_test(platforms),
	    cmocka_unit_test(project_names),	 cmocka_unit_test(settings_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
