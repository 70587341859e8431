/*
 * run_notice.h - the wrapper's exit notice, found in a run's stdout.
 *
 * The wait wrapper (run_build.c) runs the program as its child and, once
 * it exits, prints "\x1erun-it-exit-TOKEN CODE\n" on stdout (through a
 * terminal "\r\n"): TOKEN is the run's, sent with "go", so output of the
 * program's that merely looks like a notice is no notice. The notice is
 * taken out of the output; with it the run can end as soon as the output
 * ends, without waiting for the engine's teardown (run.c). Pure: no run,
 * no loop; bytes that may begin a notice are held until the next chunk.
 */
#ifndef RUN_NOTICE_H
#define RUN_NOTICE_H

#include <stddef.h>

#define RUN_NOTICE_TOKEN_LEN 24 /* hex digits */

struct run_notice {
	char prefix[48]; /* "\x1erun-it-exit-TOKEN " */
	size_t plen;	 /* 0: no notice expected */
	char hold[64];	 /* bytes that may begin the notice */
	size_t hold_len;
	int seen, code; /* the notice came, with this exit code */
};

typedef void (*run_notice_out)(void *arg, const char *buf, size_t len);

/* Expect the notice with this token (RUN_NOTICE_TOKEN_LEN hex digits). */
void run_notice_init(struct run_notice *n, const char *token);
/* Stdout bytes in: every byte that is not the notice goes to out, in
 * order, at once or (a possible notice's beginning) with the next call.
 * Returns 1 on the call that completes the notice. */
int run_notice_feed(struct run_notice *n, const char *buf, size_t len, run_notice_out out,
		    void *arg);
/* The output ended: what is held was no notice. */
void run_notice_flush(struct run_notice *n, run_notice_out out, void *arg);

#endif
