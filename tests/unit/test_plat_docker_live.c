/*
 * test_plat_docker_live.c - the "docker" platform against a real Docker
 * engine (RUNIT_DOCKER_HOST, default unix:///var/run/docker.sock) with a
 * busybox image (RUNIT_TEST_SHELL_IMAGE, default runit/shell:latest, built
 * by images/). Proves: version negotiation; files in, output out in order
 * with the exit code; kill and wait; stdin round trip; the hardening seen
 * from inside; backpressure; a fresh workspace per run; list by label and
 * removal; volumes; a missing image. (test_plat_docker_outage.c: an engine
 * that goes away and comes back.) Without an engine or the image, each
 * test says SKIP and why.
 *
 * The helpers (test_plat_live.h) drive the loop with uv_run() until the
 * awaited callback has run, with a timer as the deadline. Everything created
 * carries the label runit.test=<this run>, and the group teardown removes
 * what is left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "test_plat_live.h"

/* ---- the tests ---- */

static void test_live_ping_negotiates_version(void **state)
{
	struct env *e = *state;
	struct res r = {0};
	char *end;
	long minor;

	NEED_ENGINE(e);
	assert_int_equal(plat_ping(e->p, ping_cb, &r), 0);
	assert_int_equal(r.done, 0);
	AWAIT(e, &r, "ping");
	OK_OR_FAIL(&r);
	assert_true(!strncmp(r.api, "1.", 2));
	minor = strtol(r.api + 2, &end, 10);
	assert_true(*end == '\0' && minor >= 41);
	print_message("negotiated API %s with \"%s\"\n", r.api, r.server);
}

static void test_live_output_in_order_with_exit_code(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"sh", "main.sh", NULL};
	/* the two streams are two pipes: give each write time to land */
	static const char script[] = "echo out1\nsleep 0.2\n"
				     "echo err1 >&2\nsleep 0.2\n"
				     "echo out2\nsleep 0.2\n"
				     "printf 'err2 no newline' >&2\nsleep 0.2\n"
				     "echo\necho '  spaced  '\nprintf '\\n\\n'\n"
				     "exit 3\n";
	struct plat_label labels[2];
	struct plat_spec spec;
	struct plat_tar t;
	struct run r = {0};
	struct res w = {0};

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	one_file(&t, "main.sh", script, 0755);
	run_begin(e, &r, &spec, &t, 0);
	run_finish(e, &r, &w);
	assert_int_equal(r.ready, 1);
	assert_int_equal(r.end_code, 0);
	assert_string_equal(r.log, "<1>out1\n<2>err1\n<1>out2\n<2>err2 no newline"
				   "<1>\n  spaced  \n\n\n");
	OK_OR_FAIL(&w);
	assert_int_equal(w.ex.exit_code, 3);
	assert_false(w.ex.oom_killed);
	plat_tar_release(&t);
	run_release(&r);
}

static void test_live_kill_ends_a_sleeper_and_wait_returns(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"sleep", "1000", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res k = {0}, k2 = {0}, w = {0}, in = {0};
	uint64_t t0;

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	run_begin(e, &r, &spec, NULL, 0);
	assert_int_equal(plat_inspect(e->p, r.id, inspect_cb, &in), 0);
	AWAIT(e, &in, "inspect");
	OK_OR_FAIL(&in);
	assert_int_equal(in.running, 1);
	t0 = uv_hrtime();
	assert_int_equal(plat_stop(e->p, r.id, 0, done_cb, &k), 0);
	AWAIT(e, &k, "kill");
	OK_OR_FAIL(&k);
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	assert_int_equal(w.ex.exit_code, 137);
	assert_true(uv_hrtime() - t0 < 10000000000ULL);
	/* stopping what is gone is an error only because it is gone */
	assert_int_equal(plat_stop(e->p, r.id, 0, done_cb, &k2), 0);
	AWAIT(e, &k2, "kill again");
	assert_int_equal(k2.code, PLAT_E_NOT_FOUND);
	run_release(&r);
}

static void test_live_stop_with_grace_then_already_stopped(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"sleep", "1000", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res s1 = {0}, s2 = {0}, w = {0};

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	run_begin(e, &r, &spec, NULL, 0);
	assert_int_equal(plat_stop(e->p, r.id, 5, done_cb, &s1), 0);
	AWAIT(e, &s1, "stop");
	OK_OR_FAIL(&s1);
	/* init forwarded SIGTERM: it did not need the 5 s */
	run_until(e, &r.ended, 60000, "end of output");
	assert_int_equal(plat_stop(e->p, r.id, 0, done_cb, &s2), 0);
	AWAIT(e, &s2, "kill a stopped container");
	OK_OR_FAIL(&s2);
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	assert_int_equal(w.ex.exit_code, 143);
	run_release(&r);
}

static void test_live_memory_bomb_is_oom_killed(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {
	    "sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res w = {0};

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	spec.memory_bytes = 32 << 20;
	run_begin(e, &r, &spec, NULL, 0);
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	assert_null(strstr(r.log ? r.log : "", "survived"));
	assert_int_equal(w.ex.exit_code, 137);
	/* podman: with conmon started in the bundle (docs/platforms/podman.md) */
	assert_true(w.ex.oom_killed);
	run_release(&r);
}

static void stdin_written(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	assert_null(err);
	r->writes_done++;
}

/* cat echoes: the second line goes in only after the first came out. */
static void stdin_on_data(struct run *r, int stream, const char *buf, size_t len)
{
	if (strstr(r->log, "hello\n") && !strstr(r->log, "world")) {
		if (r->stdin_tail[0])
			return;
		snprintf(r->stdin_tail, sizeof(r->stdin_tail), "sent");
		assert_int_equal(plat_write_stdin(r->att, "world\n", 6, stdin_written, r), 0);
		assert_int_equal(plat_write_stdin(r->att, "", 0, stdin_written, r), 0);
		assert_int_equal(plat_close_stdin(r->att), 0);
		assert_int_equal(plat_write_stdin(r->att, "late", 4, stdin_written, r),
				 PLAT_E_CLOSED);
	}
}

static void test_live_stdin_round_trip_through_cat(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"cat", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res w = {0};

	NEED_ENGINE(e);
	/* swarm: no StdinOnce in a service, the gate's FIFO instead
	 * (docs/platforms/swarm.md, "Stdin") */
	spec_init(e, &spec, argv, labels);
	spec.open_stdin = true;
	r.on_data = stdin_on_data;
	run_begin(e, &r, &spec, NULL, PLAT_ATTACH_STDIN);
	assert_int_equal(plat_write_stdin(r.att, "hello\n", 6, stdin_written, &r), 0);
	assert_int_equal(r.writes_done, 0);
	run_finish(e, &r, &w);
	assert_int_equal(r.end_code, 0);
	assert_string_equal(r.log, "<1>hello\nworld\n");
	assert_int_equal(r.writes_done, 3);
	OK_OR_FAIL(&w);
	assert_int_equal(w.ex.exit_code, 0); /* cat saw EOF */
	run_release(&r);
}

static void test_live_stdin_needs_the_flag(void **state)
{
	struct env *e = *state;
	/* not "true": an engine as quick as Podman ended the attach (r.att
	 * NULL) before the start's answer came back */
	static const char *const argv[] = {"sleep", "1", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res w = {0};

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	run_begin(e, &r, &spec, NULL, 0);
	assert_non_null(r.att);
	assert_int_equal(plat_write_stdin(r.att, "x", 1, stdin_written, &r), PLAT_E_CLOSED);
	run_finish(e, &r, &w);
	assert_int_equal(w.ex.exit_code, 0);
	run_release(&r);
}

/*
 * A capped workspace is a RAM filesystem that exists only while the
 * container runs: its files go in after the start, while the command waits
 * for a line on stdin, and writes stop at its caps (bytes, then files).
 */
static void test_live_capped_workspace_takes_files_after_start_and_stops_at_its_caps(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {
	    "/bin/sh", "-c", "read -r _ || exit 0; exec \"$@\"", "wait", "sh", "main.sh", NULL};
	static const char script[] =
	    "ls -ln /workspace | awk 'NF > 2 {print $1, $3, $NF}'\n"
	    "echo $(df -k /workspace /tmp | tail -n 2 | awk '{print $2}')\n"
	    "echo $(df -i /workspace /tmp | tail -n 2 | awk '{print $2}')\n"
	    "dd if=/dev/zero of=/workspace/big bs=1048576 count=8 2>&1 | head -n 1\n"
	    "rm /workspace/big; n=0\n"
	    "while { true > /workspace/f$n; } 2>/dev/null; do n=$((n+1)); done; echo files $n\n"
	    "mount | grep -c 'on /workspace type tmpfs (rw,nosuid,nodev'\n";
	struct plat_label labels[2];
	struct plat_spec spec;
	struct plat_tar t;
	struct run r = {0};
	struct res w = {0}, f = {0};

	/* podman's tmpfs has no nr_inodes (docs/platforms/podman.md): the
	 * sizes only, not the file caps (filling those would never end) */
	static const char script_podman[] =
	    "ls -ln /workspace | awk 'NF > 2 {print $1, $3, $NF}'\n"
	    "echo $(df -k /workspace /tmp | tail -n 2 | awk '{print $2}')\n"
	    "dd if=/dev/zero of=/workspace/big bs=1048576 count=8 2>&1 | head -n 1\n"
	    "mount | grep -c 'on /workspace type tmpfs (rw,nosuid,nodev'\n";
	int podman;

	NEED_ENGINE(e);
	podman = !strcmp(e->kind, "podman");
	spec_init(e, &spec, argv, labels);
	spec.open_stdin = true;
	spec.workspace_bytes = 4 << 20;
	spec.workspace_inodes = 64;
	spec.tmp_bytes = 2 << 20;
	spec.tmp_inodes = 32;
	run_begin(e, &r, &spec, NULL, PLAT_ATTACH_STDIN); /* started, waiting */
	one_file(&t, "main.sh", podman ? script_podman : script, 0644);
	assert_int_equal(plat_put_files(e->p, r.id, "/workspace", t.data, t.len, done_cb, &f), 0);
	AWAIT(e, &f, "put files into the started container");
	OK_OR_FAIL(&f);
	assert_int_equal(plat_write_stdin(r.att, "go\n", 3, stdin_written, &r), 0);
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	if (podman)
		assert_string_equal(
		    r.log, "<1>-rw-r--r-- 1000 main.sh\n4096 2048\n"
			   "dd: error writing '/workspace/big': No space left on device\n1\n");
	else /* 64 inodes: the root, main.sh and 62 more */
		assert_string_equal(r.log,
				    "<1>-rw-r--r-- 1000 main.sh\n"
				    "4096 2048\n64 32\n"
				    "dd: error writing '/workspace/big': No space left on device\n"
				    "files 62\n1\n");
	assert_int_equal(w.ex.exit_code, 0);
	plat_tar_release(&t);
	run_release(&r);
}

static const char hardening_script[] =
    "id -u; id -g\n"
    "touch /rootfile 2>/dev/null && echo root-writable || echo root-ro\n"
    "touch /etc/x 2>/dev/null && echo etc-writable || echo etc-ro\n"
    "echo net: $(ls /sys/class/net)\n"
    "touch /tmp/t && echo tmp-ok\n"
    "touch /workspace/w && echo ws-ok\n"
    "cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable || echo shadow-denied\n"
    "ls -ln /workspace/main.sh | awk '{print $1, $3, $4}'\n"
    "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr -s '\\t ' ' '\n"
    "echo nofile $(ulimit -n)\n"
    "ls /var/run/docker.sock /run/docker.sock 2>/dev/null || echo no-docker-socket\n"
    "echo user:$USER home:$HOME\n";

static const char hardening_expect[] =
    "<1>1000\n1000\nroot-ro\netc-ro\nnet: lo\ntmp-ok\nws-ok\nshadow-denied\n"
    "-rwxr-xr-x 1000 1000\nCapEff: 0000000000000000\nNoNewPrivs: 1\n"
    "nofile 256\nno-docker-socket\nuser: home:/tmp\n";

/* gVisor's /proc/self/status has no NoNewPrivs line */
static const char hardening_expect_gvisor[] =
    "<1>1000\n1000\nroot-ro\netc-ro\nnet: lo\ntmp-ok\nws-ok\nshadow-denied\n"
    "-rwxr-xr-x 1000 1000\nCapEff: 0000000000000000\n"
    "nofile 256\nno-docker-socket\nuser: home:/tmp\n";

static void hardening_run(struct env *e, const char *runtime, int64_t pids, const char *expect)
{
	static const char *const argv[] = {"sh", "main.sh", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct plat_tar t;
	struct run r = {0};
	struct res w = {0};

	spec_init(e, &spec, argv, labels);
	spec.runtime = runtime;
	spec.pids_limit = pids;
	one_file(&t, "main.sh", hardening_script, 0755);
	run_begin(e, &r, &spec, &t, 0);
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	assert_string_equal(r.log, expect);
	assert_int_equal(w.ex.exit_code, 0);
	plat_tar_release(&t);
	run_release(&r);
}

static void test_live_hardening_seen_from_inside(void **state)
{
	struct env *e = *state;

	NEED_ENGINE(e);
	hardening_run(e, NULL, 64, hardening_expect);
}

static void test_live_hardening_under_gvisor(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"true", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct res c = {0}, rm = {0};

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	spec.runtime = "runsc";
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), 0);
	AWAIT(e, &c, "create with runsc");
	if (c.code) {
		print_message("SKIP: runtime runsc not usable here: %s\n", c.msg);
		skip();
	}
	assert_int_equal(plat_remove(e->p, c.id, done_cb, &rm), 0);
	AWAIT(e, &rm, "remove");
	/*
	 * Under gVisor the pids cgroup counts the sandbox's own host threads:
	 * 64 kills it (found here); the user's processes are not host
	 * processes there, memory is what bounds them.
	 */
	hardening_run(e, "runsc", 256, hardening_expect_gvisor);
}

/* Pause at the first piece, hold it, check the program is blocked. */
static void test_live_pause_blocks_the_program(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"seq", "1", "400000", NULL};
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res w = {0}, in = {0};
	char *expect, *p;
	size_t len = 0;
	int hits;

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	r.pause_after = 1;
	run_begin(e, &r, &spec, NULL, 0);
	run_for(e, 1500);
	assert_int_equal(r.paused, 1);
	assert_int_equal(r.paused_hits, 0);
	hits = r.pieces;
	assert_true(r.out_bytes < 1000000);
	assert_int_equal(plat_inspect(e->p, r.id, inspect_cb, &in), 0);
	AWAIT(e, &in, "inspect");
	assert_int_equal(in.running, 1); /* blocked on its full pipe */
	assert_int_equal(r.pieces, hits);
	r.paused = 0;
	plat_resume(r.att);
	run_finish(e, &r, &w);
	assert_int_equal(r.end_code, 0);
	expect = malloc(4000000);
	assert_non_null(expect);
	p = expect;
	memcpy(p, "<1>", 3);
	len = 3;
	for (int i = 1; i <= 400000; i++)
		len += (size_t)snprintf(expect + len, 4000000 - len, "%d\n", i);
	assert_int_equal(r.log_len, len);
	assert_memory_equal(r.log, expect, len);
	free(expect);
	assert_int_equal(w.ex.exit_code, 0);
	run_release(&r);
}

static void test_live_each_run_sees_exactly_its_files(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"sh", "main.sh", NULL};
	/* run 1 plants a stale file and symlinks at names run 2 uses */
	static const char plant[] = "echo stale > stale.txt\n"
				    "ln -s /etc/passwd data.txt\n"
				    "ln -s /tmp src\n"
				    "ls -A /workspace | tr '\\n' ' '\n";
	static const char look[] =
	    "ls -lnA /workspace /workspace/src | awk 'NF > 2 {print $1, $3, $NF}'\n"
	    "cat data.txt src/x.txt\n"
	    "echo new > data.txt && cat data.txt\n";
	struct plat_label labels[2];
	struct plat_spec spec;
	struct plat_tar t;
	struct run r1 = {0}, r2 = {0};
	struct res w1 = {0}, w2 = {0};

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	one_file(&t, "main.sh", plant, 0644);
	run_begin(e, &r1, &spec, &t, 0);
	run_finish(e, &r1, &w1);
	assert_string_equal(r1.log, "<1>data.txt main.sh src stale.txt ");
	plat_tar_release(&t);

	plat_tar_init(&t, PLAT_RUN_UID, PLAT_RUN_GID, time(NULL));
	assert_int_equal(plat_tar_add_file(&t, "main.sh", look, strlen(look), 0644), 0);
	assert_int_equal(plat_tar_add_file(&t, "data.txt", "saved\n", 6, 0), 0);
	assert_int_equal(plat_tar_add_file(&t, "src/x.txt", "x\n", 2, 0), 0);
	assert_int_equal(plat_tar_finish(&t), 0);
	run_begin(e, &r2, &spec, &t, 0);
	run_finish(e, &r2, &w2);
	assert_string_equal(r2.log, "<1>-rw-r--r-- 1000 data.txt\n"
				    "-rw-r--r-- 1000 main.sh\n"
				    "drwxr-xr-x 1000 src\n"
				    "-rw-r--r-- 1000 x.txt\n"
				    "saved\nx\nnew\n");
	assert_int_equal(w2.ex.exit_code, 0);
	plat_tar_release(&t);
	run_release(&r1);
	run_release(&r2);
}

/* The name of a container's anonymous volume, through the docker CLI. */
static int workspace_volume(const char *id, char *out, size_t n)
{
	char cmd[256];
	FILE *p;
	size_t len;

	snprintf(cmd, sizeof(cmd),
		 "docker inspect -f '{{range .Mounts}}"
		 "{{.Name}}{{end}}' %s 2>/dev/null",
		 id);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	len = fread(out, 1, n - 1, p);
	out[len] = '\0';
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	return pclose(p) == 0 && len ? 0 : -1;
}

static int volume_exists(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "docker volume inspect %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

static void test_live_list_by_label_then_remove_leaves_nothing(void **state)
{
	struct env *e = *state;
	static const char *const argv[] = {"true", NULL};
	struct plat_label labels[2];
	struct plat_label match[2];
	struct plat_spec spec;
	struct res c = {0}, l1 = {0}, l2 = {0}, l3 = {0}, rm = {0}, rm2 = {0};
	char vol[128];
	int have_cli;

	NEED_ENGINE(e);
	spec_init(e, &spec, argv, labels);
	labels[1].value = "listed";
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), 0);
	AWAIT(e, &c, "create");
	OK_OR_FAIL(&c);
	have_cli = workspace_volume(c.id, vol, sizeof(vol)) == 0;

	match[0] = (struct plat_label){"runit.test", e->label};
	match[1] = (struct plat_label){"runit.role", "listed"};
	assert_int_equal(plat_list(e->p, match, 2, list_cb, &l1), 0);
	AWAIT(e, &l1, "list");
	OK_OR_FAIL(&l1);
	assert_int_equal(l1.count, 1);
	assert_string_equal(l1.id, c.id);
	assert_string_equal(l1.first_label, "listed");
	match[1].value = "other";
	assert_int_equal(plat_list(e->p, match, 2, list_cb, &l2), 0);
	AWAIT(e, &l2, "list");
	assert_int_equal(l2.count, 0);

	assert_int_equal(plat_remove(e->p, c.id, done_cb, &rm), 0);
	AWAIT(e, &rm, "remove");
	OK_OR_FAIL(&rm);
	match[1] = (struct plat_label){"runit.role", NULL}; /* key only */
	assert_int_equal(plat_list(e->p, match, 2, list_cb, &l3), 0);
	AWAIT(e, &l3, "list");
	for (int i = 0; i < l3.count; i++)
		assert_string_not_equal(l3.id, c.id);
	/* removing what is gone succeeds */
	assert_int_equal(plat_remove(e->p, c.id, done_cb, &rm2), 0);
	AWAIT(e, &rm2, "remove again");
	OK_OR_FAIL(&rm2);
	if (have_cli)
		assert_false(volume_exists(vol)); /* the workspace went too */
	else
		print_message("note: no docker CLI, workspace volume not checked\n");
}

static void test_live_named_volume_is_mounted_kept_and_removed(void **state)
{
	struct env *e = *state;
	/* the count, then the mounts themselves on stderr: shown if it fails */
	static const char *const argv[] = {
	    "sh", "-c", "grep -c ' /cache ' /proc/mounts; grep ' /cache ' /proc/self/mountinfo >&2",
	    NULL};
	struct plat_label labels[2];
	struct plat_label vl[1] = {{"runit.test", e->label}};
	struct plat_spec spec;
	struct res v1 = {0}, v2 = {0}, busy = {0}, rv = {0}, rv2 = {0};
	struct res w = {0}, c = {0};
	struct run r = {0};

	NEED_ENGINE(e);
	assert_int_equal(plat_ensure_volume(e->p, e->volume, vl, 1, done_cb, &v1), 0);
	AWAIT(e, &v1, "volume");
	OK_OR_FAIL(&v1);
	assert_int_equal(plat_ensure_volume(e->p, e->volume, vl, 1, done_cb, &v2), 0);
	AWAIT(e, &v2, "volume again");
	OK_OR_FAIL(&v2);

	spec_init(e, &spec, argv, labels);
	spec.volume = e->volume;
	spec.volume_path = "/workspace/cache"; /* under the workspace: no */
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), PLAT_E_INVAL);
	spec.volume_path = "/";
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), PLAT_E_INVAL);
	spec.volume_path = "/cache";
	spec.user = "0:0";
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), PLAT_E_INVAL);
	spec.user = "root";
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), PLAT_E_INVAL);
	spec.user = "0";
	assert_int_equal(plat_create(e->p, &spec, create_cb, &c), PLAT_E_INVAL);
	assert_int_equal(c.done, 0);
	spec.user = "1000:1000";
	run_begin(e, &r, &spec, NULL, 0);
	run_until(e, &r.ended, 60000, "end of output");
	/* stdout's count and stderr's line come in either order (a swarm
	 * service's two streams are not ordered between them) */
	if (!strstr(r.log, "<1>1\n") || !strstr(r.log, " /cache ") ||
	    strstr(strstr(r.log, " /cache ") + 1, " /cache "))
		fail_msg("/cache is not one mount: %s", r.log);
	/* a container (even exited) holds it */
	assert_int_equal(plat_remove_volume(e->p, e->volume, done_cb, &busy), 0);
	AWAIT(e, &busy, "remove a volume in use");
	assert_int_equal(busy.code, PLAT_E_CONFLICT);
	run_finish(e, &r, &w);
	assert_int_equal(w.ex.exit_code, 0);
	/* removing the container dropped its workspace, not this volume */
	if (system("docker version >/dev/null 2>&1") == 0)
		assert_true(volume_exists(e->volume));
	assert_int_equal(plat_remove_volume(e->p, e->volume, done_cb, &rv), 0);
	AWAIT(e, &rv, "remove volume");
	OK_OR_FAIL(&rv);
	assert_int_equal(plat_remove_volume(e->p, e->volume, done_cb, &rv2), 0);
	AWAIT(e, &rv2, "remove volume again");
	OK_OR_FAIL(&rv2);
	run_release(&r);
}

static void test_live_missing_image_not_found_or_pull_error(void **state)
{
	struct env *e = *state;
	struct res a = {0}, b = {0}, c = {0};

	NEED_ENGINE(e);
	assert_int_equal(plat_ensure_image(e->p, e->image, false, NULL, done_cb, &a), 0);
	AWAIT(e, &a, "image present");
	OK_OR_FAIL(&a);
	assert_int_equal(plat_ensure_image(e->p, "runit/none-such:never", false, NULL, done_cb, &b),
			 0);
	AWAIT(e, &b, "image absent");
	assert_int_equal(b.code, PLAT_E_NOT_FOUND);
	/* a registry on this machine's loopback that is not there */
	assert_int_equal(
	    plat_ensure_image(e->p, "localhost:1/runit/none:never", true, NULL, done_cb, &c), 0);
	AWAIT(e, &c, "pull");
	assert_int_equal(c.code, PLAT_E_PULL);
	assert_true(strlen(c.msg) > 0);
	print_message("pull error as reported: %s\n", c.msg);
	assert_int_equal(plat_ensure_image(e->p, "bad image!", true, NULL, done_cb, &c),
			 PLAT_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_live_ping_negotiates_version),
	    cmocka_unit_test(test_live_output_in_order_with_exit_code),
	    cmocka_unit_test(test_live_kill_ends_a_sleeper_and_wait_returns),
	    cmocka_unit_test(test_live_stop_with_grace_then_already_stopped),
	    cmocka_unit_test(test_live_memory_bomb_is_oom_killed),
	    cmocka_unit_test(test_live_stdin_round_trip_through_cat),
	    cmocka_unit_test(test_live_stdin_needs_the_flag),
	    cmocka_unit_test(
		test_live_capped_workspace_takes_files_after_start_and_stops_at_its_caps),
	    cmocka_unit_test(test_live_hardening_seen_from_inside),
	    cmocka_unit_test(test_live_hardening_under_gvisor),
	    cmocka_unit_test(test_live_pause_blocks_the_program),
	    cmocka_unit_test(test_live_each_run_sees_exactly_its_files),
	    cmocka_unit_test(test_live_list_by_label_then_remove_leaves_nothing),
	    cmocka_unit_test(test_live_named_volume_is_mounted_kept_and_removed),
	    cmocka_unit_test(test_live_missing_image_not_found_or_pull_error),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
