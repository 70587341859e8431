/*
 * test_plat_swarm_spec.c - the "swarm" platform's service definition
 * without an engine: a replicated job that never restarts, the hardening
 * and limits in the ContainerSpec and Resources, the start gate before the
 * program's argv, the capped workspace and /tmp as tmpfs volumes, no
 * network attachment, and the specs refused before anything is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "plat_swarm_int.h"
#include "platform.h"

static const char *const argv_[] = {"python3", "-u", "main.py", NULL};
static const char *const env_[] = {"HOME=/tmp", NULL};

static void spec_of(struct plat_spec *s, struct plat_label *l)
{
	memset(s, 0, sizeof(*s));
	s->image = "runit/python:latest";
	s->argv = argv_;
	s->env = env_;
	s->workdir = "/workspace";
	s->user = "1000:1000";
	s->workspace = "/workspace";
	s->readonly_rootfs = true;
	s->init = true;
	s->open_stdin = true;
	s->workspace_bytes = 4 << 20;
	s->workspace_inodes = 64;
	s->tmp_bytes = 2 << 20;
	s->tmp_inodes = 32;
	s->memory_bytes = 128 << 20;
	s->nano_cpus = 500000000;
	s->pids_limit = 64;
	s->nofile = 256;
	s->fsize_bytes = 8 << 20;
	l[0] = (struct plat_label){"run-it.run", "42"};
	s->labels = l;
	s->nlabels = 1;
}

static const char *str_at(json_t *o, const char *path)
{
	json_t *j = json_object_get(o, path);

	return json_string_value(j);
}

static void test_swarm_service_is_a_hardened_job(void **state)
{
	struct plat_label l[1];
	struct plat_spec s;
	json_t *svc, *tt, *cs, *lim, *cmd, *mounts, *ul;
	const char *o;

	spec_of(&s, l);
	svc = sw_service_json(&s);
	assert_non_null(svc);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_object_get(svc, "Mode"), "ReplicatedJob"),
			     "TotalCompletions")),
			 1);
	tt = json_object_get(svc, "TaskTemplate");
	assert_string_equal(str_at(json_object_get(tt, "RestartPolicy"), "Condition"), "none");
	assert_string_equal(str_at(json_object_get(tt, "LogDriver"), "Name"), "none");
	assert_null(json_object_get(tt, "Networks")); /* the node's none: --bridge none */
	cs = json_object_get(tt, "ContainerSpec");
	assert_string_equal(str_at(cs, "User"), "1000:1000");
	assert_true(json_is_true(json_object_get(cs, "ReadOnly")));
	assert_true(json_is_true(json_object_get(cs, "Init")));
	assert_true(json_is_true(json_object_get(cs, "OpenStdin")));
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(cs, "CapabilityDrop"), 0)), "ALL");
	assert_string_equal(str_at(json_object_get(cs, "Labels"), "run-it.run"), "42");
	/* the gate, its workspace, then the program's argv as given */
	cmd = json_object_get(cs, "Command");
	assert_int_equal(json_array_size(cmd), 5 + 3);
	assert_string_equal(json_string_value(json_array_get(cmd, 0)), "/bin/sh");
	assert_non_null(strstr(json_string_value(json_array_get(cmd, 2)), SW_START_MARK));
	/* it goes once the marker is older than the reference: whole */
	assert_non_null(strstr(json_string_value(json_array_get(cmd, 2)), SW_START_REF));
	assert_non_null(strstr(json_string_value(json_array_get(cmd, 2)), "-ot"));
	/* stdin (not a terminal) and a /tmp: through the FIFO that
	 * plat_close_stdin() can end (plat_swarm_stdin.c) */
	assert_non_null(strstr(json_string_value(json_array_get(cmd, 2)), SW_STDIN_FIFO));
	assert_string_equal(json_string_value(json_array_get(cmd, 4)), "/workspace");
	assert_string_equal(json_string_value(json_array_get(cmd, 5)), "python3");
	assert_string_equal(json_string_value(json_array_get(cmd, 7)), "main.py");
	lim = json_object_get(json_object_get(tt, "Resources"), "Limits");
	assert_int_equal(json_integer_value(json_object_get(lim, "MemoryBytes")), 128 << 20);
	assert_int_equal(json_integer_value(json_object_get(lim, "NanoCPUs")), 500000000);
	assert_int_equal(json_integer_value(json_object_get(lim, "Pids")), 64);
	ul = json_object_get(cs, "Ulimits");
	assert_int_equal(json_array_size(ul), 2);
	assert_string_equal(str_at(json_array_get(ul, 0), "Name"), "nofile");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ul, 1), "Hard")),
			 8 << 20);
	mounts = json_object_get(cs, "Mounts");
	assert_int_equal(json_array_size(mounts), 2);
	o = str_at(json_object_get(
		       json_object_get(json_object_get(json_array_get(mounts, 0), "VolumeOptions"),
				       "DriverConfig"),
		       "Options"),
		   "o");
	assert_non_null(o);
	assert_non_null(strstr(o, "size=4194304,nr_inodes=64,uid=1000,gid=1000,mode=0700"));
	assert_string_equal(str_at(json_array_get(mounts, 1), "Target"), "/tmp");
	o = str_at(json_object_get(
		       json_object_get(json_object_get(json_array_get(mounts, 1), "VolumeOptions"),
				       "DriverConfig"),
		       "Options"),
		   "o");
	assert_non_null(strstr(o, "size=2097152,nr_inodes=32,"));
	json_decref(svc);
}

static void on_create(void *arg, const char *id, const struct plat_err *err)
{
	fail_msg("no callback for a spec refused at once");
}

static void test_swarm_refuses_before_sending(void **state)
{
	struct plat_config cfg = {.backend = "swarm", .endpoint = "/nonexistent/swarm.sock"};
	struct plat_label l[1];
	struct plat_spec s;
	struct plat *p;
	uv_loop_t loop;

	uv_loop_init(&loop);
	assert_int_equal(plat_new(&loop, &cfg, &p), 0);
	spec_of(&s, l);
	s.workspace = NULL; /* the gate needs one */
	s.workspace_bytes = s.workspace_inodes = 0;
	assert_int_equal(plat_create(p, &s, on_create, NULL), PLAT_E_INVAL);
	spec_of(&s, l);
	s.user = "0:0";
	assert_int_equal(plat_create(p, &s, on_create, NULL), PLAT_E_INVAL);
	spec_of(&s, l);
	s.image = "bad image!";
	assert_int_equal(plat_create(p, &s, on_create, NULL), PLAT_E_INVAL);
	assert_int_equal(plat_start(p, "bad/id", NULL, NULL), PLAT_E_INVAL);
	assert_int_equal(plat_remove(p, "", NULL, NULL), PLAT_E_INVAL);
	plat_free(p);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_swarm_service_is_a_hardened_job),
	    cmocka_unit_test(test_swarm_refuses_before_sending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
