/*
 * test_plat_docker_args.c - what the "docker" platform decides without an
 * engine: which API version to speak, which endpoints, names and images it
 * accepts, which specs it refuses before sending anything, and that every
 * error code has a description. No engine needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "plat_docker_int.h"
#include "platform.h"

static void test_args_version_choice(void **state)
{
	char v[16];

	assert_int_equal(dk_choose_version("1.41", v, sizeof(v)), 0);
	assert_string_equal(v, "1.41");
	/* newer engines are spoken to in their own version */
	assert_int_equal(dk_choose_version("1.44", v, sizeof(v)), 0);
	assert_string_equal(v, "1.44");
	assert_int_equal(dk_choose_version("2.0", v, sizeof(v)), 0);
	assert_string_equal(v, "2.0");
	assert_int_equal(dk_choose_version("1.40", v, sizeof(v)), PLAT_E_UNSUPPORTED);
	assert_int_equal(dk_choose_version("0.99", v, sizeof(v)), PLAT_E_UNSUPPORTED);
	assert_int_equal(dk_choose_version("", v, sizeof(v)), PLAT_E_PROTOCOL);
	assert_int_equal(dk_choose_version("1.41x", v, sizeof(v)), PLAT_E_PROTOCOL);
	assert_int_equal(dk_choose_version("v1.41", v, sizeof(v)), PLAT_E_PROTOCOL);
}

static void test_args_names_and_images(void **state)
{
	assert_true(dk_valid_name("3f2a9c"));
	assert_true(dk_valid_name("runit-main-run-42"));
	assert_true(dk_valid_name("a_b.c-d"));
	assert_false(dk_valid_name(""));
	assert_false(dk_valid_name(NULL));
	assert_false(dk_valid_name("-x"));
	assert_false(dk_valid_name("a/b"));
	assert_false(dk_valid_name("a?b"));
	assert_false(dk_valid_name("../x"));
	assert_true(dk_valid_image("runit/shell:latest"));
	assert_true(dk_valid_image("localhost:5000/a/b@sha256:0123abcd"));
	assert_false(dk_valid_image("bad image"));
	assert_false(dk_valid_image("/abs"));
	assert_false(dk_valid_image("a/../b"));
	assert_false(dk_valid_image("a?x=1"));
}

static void test_args_endpoints(void **state)
{
	uv_loop_t loop;
	struct plat *p = (struct plat *)1;
	struct plat_config cfg = {0};

	uv_loop_init(&loop);
	assert_int_equal(plat_new(&loop, NULL, &p), 0); /* the default */
	assert_string_equal(p->ops->name, "docker");
	assert_int_equal(p->ops->version, PLAT_OPS_VERSION);
	plat_free(p);
	cfg.endpoint = "/run/podman/podman.sock";
	cfg.backend = "podman";
	assert_int_equal(plat_new(&loop, &cfg, &p), 0);
	plat_free(p);
	cfg.backend = NULL;
	cfg.endpoint = "tcp://127.0.0.1:2375"; /* without its TLS PEMs: test_plat_tls.c */
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_INVAL);
	assert_null(p);
	cfg.endpoint = "ssh://host";
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_UNSUPPORTED);
	cfg.endpoint = "relative.sock";
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_INVAL);
	cfg.endpoint = NULL;
	cfg.api_version = "1.20";
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_INVAL);
	cfg.api_version = NULL;
	cfg.backend = "kubernetes";
	assert_int_equal(plat_new(&loop, &cfg, &p), PLAT_E_UNSUPPORTED);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void never(void *arg, const char *id, const struct plat_err *err)
{
	fail_msg("a refused call must not call back");
}

static void test_args_bad_specs_refused_at_once(void **state)
{
	static const char *const argv[] = {"sh", NULL};
	static const char *const empty[] = {NULL};
	uv_loop_t loop;
	struct plat *p;
	struct plat_spec s = {.image = "runit/shell:latest",
			      .argv = argv,
			      .user = "1000:1000",
			      .workspace = "/workspace"};
	struct plat_label bad_label = {"k", NULL};

	uv_loop_init(&loop);
	assert_int_equal(plat_new(&loop, NULL, &p), 0);
	s.user = "root:root";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.user = "";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.user = NULL;
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.user = "1000:1000";
	s.argv = empty;
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.argv = argv;
	s.workspace = "workspace";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.workspace = "/workspace";
	s.volume = "proj-1";
	s.volume_path = "/workspace";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.volume_path = "/workspace/";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.volume_path = "/";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.volume_path = NULL;
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.volume = NULL;
	s.labels = &bad_label;
	s.nlabels = 1;
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.nlabels = 0;
	s.name = "no/slash";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.name = NULL;
	s.memory_bytes = UINT64_MAX;
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.memory_bytes = 0;
	s.workspace_bytes = UINT64_MAX; /* a capped workspace: sizes in range */
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.workspace_bytes = 1 << 20;
	s.tmp_inodes = UINT64_MAX;
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.tmp_inodes = 0;
	s.workspace = NULL; /* and only with a workspace */
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.workspace = "/workspace";
	s.pool = "U42"; /* a pool's name: 1-48 of [a-z0-9_-] */
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.pool = "../u42";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.pool = "";
	assert_int_equal(plat_create(p, &s, never, NULL), PLAT_E_INVAL);
	s.pool = NULL;
	/* a tar that is not one, no callback */
	assert_int_equal(plat_put_files(p, "abc", "/workspace", "x", 1, NULL, NULL), PLAT_E_INVAL);
	plat_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A pool's name maps to its cgroup parent under /runit (platform.h). */
static void test_args_pool_cgroup_parent(void **state)
{
	char out[64], small[8];

	assert_true(dk_valid_pool("u42"));
	assert_true(dk_valid_pool("t1a2b-u7"));
	assert_false(dk_valid_pool("u/42"));
	assert_false(dk_valid_pool(NULL));
	assert_int_equal(dk_cgroup_parent("u42", out, sizeof(out)), 0);
	assert_string_equal(out, "/runit/u42");
	assert_int_equal(dk_cgroup_parent("u42", small, sizeof(small)), PLAT_E_TOO_LONG);
}

static void test_args_every_error_has_a_description(void **state)
{
	for (int e = PLAT_E_IO; e <= 0; e++)
		assert_string_not_equal(plat_strerror(e), "unknown error");
	assert_string_equal(plat_strerror(-1000), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args_version_choice),
	    cmocka_unit_test(test_args_names_and_images),
	    cmocka_unit_test(test_args_endpoints),
	    cmocka_unit_test(test_args_bad_specs_refused_at_once),
	    cmocka_unit_test(test_args_pool_cgroup_parent),
	    cmocka_unit_test(test_args_every_error_has_a_description),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
