/*
 * test_plat_docker_tty.c - the "docker" platform's terminal (spec.tty)
 * against a real engine and the busybox test image (as
 * test_plat_docker_live.c): stdout and stderr written alternately with no
 * pause arrive as one raw stream in exactly that order; the program sees a
 * terminal on all three descriptors; plat_resize() sets the size it reads;
 * "\x03" on stdin interrupts the program (it is the terminal's foreground
 * process group under the engine's init), "\x04" ends a read; and an
 * ended or absent container cannot be resized.
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

static void stdin_written_tty(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	assert_null(err);
	r->writes_done++;
}

/* Run the loop until the output has text (or fail after 30 s). */
static void await_text(struct env *e, struct run *r, const char *text)
{
	for (int i = 0; i < 600 && !(r->log && strstr(r->log, text)); i++)
		run_for(e, 50);
	if (!r->log || !strstr(r->log, text))
		fail_msg("no \"%s\" in the output: %s", text, r->log ? r->log : "");
}

/* Begin a terminal run of script (as main.sh). */
static void tty_begin(struct env *e, struct run *r, struct plat_spec *spec,
		      struct plat_label *labels, const char *script)
{
	static const char *const argv[] = {"sh", "main.sh", NULL};
	struct plat_tar t;

	spec_init(e, spec, argv, labels);
	spec->tty = true;
	spec->open_stdin = true;
	one_file(&t, "main.sh", script, 0755);
	run_begin(e, r, spec, &t, PLAT_ATTACH_STDIN | PLAT_ATTACH_TTY);
	plat_tar_release(&t);
}

static void tty_write(struct run *r, const char *s)
{
	assert_int_equal(plat_write_stdin(r->att, s, strlen(s), stdin_written_tty, r), 0);
}

static void test_tty_keeps_the_order_of_stdout_and_stderr(void **state)
{
	struct env *e = *state;
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res w = {0};
	char *want = NULL, line[32];
	size_t wl = 0;
	FILE *f;

	NEED_ENGINE(e);
	tty_begin(e, &r, &spec, labels,
		  "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo terminal\n"
		  "i=0; while [ $i -lt 500 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done\n"
		  "printf '\\n\\nend'\n");
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	assert_int_equal(w.ex.exit_code, 0);
	f = open_memstream(&want, &wl);
	fputs("<1>terminal\r\n", f);
	for (int i = 0; i < 500; i++) {
		snprintf(line, sizeof(line), "o%d\r\ne%d\r\n", i, i);
		fputs(line, f);
	}
	fputs("\r\n\r\nend", f);
	fclose(f);
	/* one stream, in the order written; the terminal made \n into \r\n */
	assert_string_equal(r.log, want);
	free(want);
	run_release(&r);
}

static void test_tty_resize_sets_the_size_the_program_reads(void **state)
{
	struct env *e = *state;
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res w = {0}, z = {0};

	NEED_ENGINE(e);
	tty_begin(e, &r, &spec, labels, "read -r _; stty size; read -r _; stty size\n");
	assert_int_equal(plat_resize(r.p, r.id, 33, 101, done_cb, &z), 0);
	assert_int_equal(z.done, 0);
	AWAIT(e, &z, "resize");
	OK_OR_FAIL(&z);
	tty_write(&r, "a\n");
	await_text(e, &r, "33 101\r\n");
	memset(&z, 0, sizeof(z));
	assert_int_equal(plat_resize(r.p, r.id, 7, 42, done_cb, &z), 0);
	AWAIT(e, &z, "second resize");
	OK_OR_FAIL(&z);
	tty_write(&r, "b\n");
	run_finish(e, &r, &w);
	/* the terminal echoes what it is sent */
	assert_string_equal(r.log, "<1>a\r\n33 101\r\nb\r\n7 42\r\n");
	assert_int_equal(plat_resize(r.p, r.id, 0, 80, done_cb, &z), PLAT_E_INVAL);
	assert_int_equal(plat_resize(r.p, r.id, 24, 65536, done_cb, &z), PLAT_E_INVAL);
	run_release(&r);
}

static void test_tty_ctrl_c_interrupts_and_ctrl_d_ends_a_read(void **state)
{
	struct env *e = *state;
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0}, c = {0};
	struct res w = {0}, wc = {0};

	NEED_ENGINE(e);
	/* SIGINT reaches the script only if its group has the terminal */
	tty_begin(e, &r, &spec, labels,
		  "trap 'echo interrupted; exit 5' INT\necho ready\n"
		  "while :; do sleep 0.05; done\n");
	await_text(e, &r, "ready\r\n");
	tty_write(&r, "\x03");
	run_finish(e, &r, &w);
	OK_OR_FAIL(&w);
	assert_int_equal(w.ex.exit_code, 5);
	assert_non_null(strstr(r.log, "ready\r\n"));
	assert_non_null(strstr(r.log, "interrupted\r\n"));
	run_release(&r);

	tty_begin(e, &c, &spec, labels, "cat; echo \"cat ended $?\"\n");
	tty_write(&c, "abc\n\x04");
	run_finish(e, &c, &wc);
	assert_string_equal(c.log, "<1>abc\r\nabc\r\ncat ended 0\r\n");
	run_release(&c);
}

/* Only a running container has a terminal to size; an absent one is not found. */
static void test_tty_resize_of_an_ended_or_absent_container_fails(void **state)
{
	struct env *e = *state;
	struct plat_label labels[2];
	struct plat_spec spec;
	struct run r = {0};
	struct res z = {0}, w = {0};
	char id[96];

	NEED_ENGINE(e);
	tty_begin(e, &r, &spec, labels, "exit 0\n");
	run_until(e, &r.ended, 60000, "end of output");
	assert_int_equal(plat_wait(r.p, r.id, wait_cb, &w), 0);
	AWAIT(e, &w, "wait");
	assert_int_equal(plat_resize(r.p, r.id, 24, 80, done_cb, &z), 0);
	AWAIT(e, &z, "resize of an ended container");
	print_message("resize of an ended container: %s (%d): %s\n", plat_strerror(z.code), z.http,
		      z.msg);
	assert_true(z.code < 0);
	snprintf(id, sizeof(id), "%s", r.id);
	memset(&w, 0, sizeof(w));
	run_finish(e, &r, &w); /* removes it */
	memset(&z, 0, sizeof(z));
	assert_int_equal(plat_resize(e->p, id, 24, 80, done_cb, &z), 0);
	AWAIT(e, &z, "resize of an absent container");
	assert_int_equal(z.code, PLAT_E_NOT_FOUND);
	run_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tty_keeps_the_order_of_stdout_and_stderr),
	    cmocka_unit_test(test_tty_resize_sets_the_size_the_program_reads),
	    cmocka_unit_test(test_tty_ctrl_c_interrupts_and_ctrl_d_ends_a_read),
	    cmocka_unit_test(test_tty_resize_of_an_ended_or_absent_container_fails),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
