/*
 * run_input.c - a run's input side: run/stdin (held until the program
 * starts, then written), and the terminal of a run started with a tty
 * (run/start's tty): its size (run/resize) and the wrapper's go marker.
 *
 * The container's command waits for one line, "go", before it becomes the
 * program (run.c, make_argv). Through pipes nothing of that is seen. A
 * terminal echoes what it reads, so "go" would appear in the output; the
 * terminal wrapper therefore prints RUN_TTY_GO (a line no program wrote:
 * no user code has run yet) right after reading "go", and everything the
 * output holds before that line and the line itself (the echo, nothing
 * else) are dropped here. Input sent meanwhile waits for the marker, so
 * the terminal echoes it where the program's output begins. The terminal
 * gets its size before "go" (run.c), so a program reads the console's
 * size from its first instruction; later sizes follow run/resize, one
 * request at a time, the newest winning.
 */
#include "run_int.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

/* input held until the program starts, at most: with "go\n" before it, as
 * much as may wait in the platform (1 MiB, platform.h) */
#define STDIN_HELD_MAX ((1 << 20) - 64)

static void stdin_written(void *arg, const struct plat_err *err)
{
	(void)arg;
	(void)err;
}

/* The program reads input from now on: write what waited. */
void run_input_flush(struct run *r)
{
	if (r->tty && !r->tty_live)
		return; /* the wrapper's marker has not come yet */
	if (r->held_len && r->att)
		plat_write_stdin(r->att, r->held, r->held_len, stdin_written, NULL);
	if (r->stdin_eof && r->att)
		plat_close_stdin(r->att);
	free(r->held);
	r->held = NULL;
	r->held_len = 0;
}

static int hold(struct run *r, const char *data, size_t len)
{
	char *p;

	if (r->held_len + len > STDIN_HELD_MAX)
		return PLAT_E_AGAIN;
	if (!len)
		return 0;
	if (!(p = realloc(r->held, r->held_len + len)))
		return PLAT_E_AGAIN;
	memcpy(p + r->held_len, data, len);
	r->held = p;
	r->held_len += len;
	return 0;
}

/*
 * Input for the program (run.h). What comes before the program reads is
 * held here (the waiting wrapper would read it otherwise, a terminal would
 * echo it before the marker) and written right after, at most
 * STDIN_HELD_MAX bytes. eof closes the pipe; a terminal gets Ctrl+D
 * instead ("\x04": end of file for a read at the start of a line; the
 * input stays open, as in a terminal). 0, PLAT_E_AGAIN (too much waits:
 * the program is not reading), PLAT_E_CLOSED (the input was closed, or the
 * run ends).
 */
int run_stdin(struct run *r, const char *data, size_t len, int eof)
{
	int rc = 0;

	if (r->ending || r->stdin_eof)
		return PLAT_E_CLOSED;
	if (!r->go_sent || (r->tty && !r->tty_live)) {
		if (r->held_len + len + (eof && r->tty) > STDIN_HELD_MAX)
			return PLAT_E_AGAIN;
		rc = hold(r, data, len);
		if (!rc && eof && r->tty)
			rc = hold(r, "\x04", 1);
		else if (!rc && eof)
			r->stdin_eof = 1;
		return rc;
	}
	if (!r->att)
		return PLAT_E_CLOSED;
	if (len)
		rc = plat_write_stdin(r->att, data, len, stdin_written, NULL);
	if (!rc && eof && r->tty) {
		rc = plat_write_stdin(r->att, "\x04", 1, stdin_written, NULL);
	} else if (!rc && eof) {
		rc = plat_close_stdin(r->att);
		r->stdin_eof = 1;
	}
	return rc;
}

/*
 * Output of a terminal run before its program began: how many bytes at the
 * start of buf are the wrapper's (all of them until RUN_TTY_GO has been
 * seen, the line included). The marker may come split across calls; its
 * first byte occurs in it once, so a mismatch restarts the match.
 */
size_t run_input_skip(struct run *r, const char *buf, size_t len)
{
	static const char mk[] = RUN_TTY_GO "\r\n";
	const int ml = (int)sizeof(mk) - 1;

	if (!r->tty || r->tty_live)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == mk[r->tty_match])
			r->tty_match++;
		else if (r->tty_match == ml - 2 && buf[i] == '\n')
			r->tty_match = ml; /* a terminal without \r: the line ends */
		else
			r->tty_match = buf[i] == mk[0];
		if (r->tty_match == ml) {
			r->tty_live = 1;
			run_input_flush(r);
			return i + 1;
		}
	}
	return len;
}

/* ---------- the terminal's size ---------- */

/* A size request landed (then's callback calls this first). */
void run_input_sized(struct run *r, const struct plat_err *err)
{
	r->sizing = 0;
	if (err && err->code != PLAT_E_CANCELED && !r->exited)
		log_json(
		    LOG_INFO, "setting the terminal size failed",
		    json_pack("{s:I, s:s}", "run_id", (json_int_t)r->id, "error", err->message));
	run_input_sync(r);
}

static void sized(void *arg, const struct plat_err *err)
{
	struct run *r = arg;

	run_input_sized(r, err);
	r->eng->op_done(r);
}

/*
 * Give the terminal the wanted size if it has another and no request is on
 * its way (the newest size is sent when the one before has landed). then,
 * if not NULL, is the callback of this request instead of the default; it
 * calls run_input_sized() and the engine's op_done. 0 when a request
 * went (counted in r->pending), else 1.
 */
int run_input_sync_then(struct run *r, plat_done_cb then)
{
	if (!r->tty || !r->sizable || r->sizing || r->ending || !r->cid[0] || !r->rows ||
	    (r->rows == r->size_rows && r->cols == r->size_cols))
		return 1;
	r->sizing = 1;
	r->size_rows = r->rows; /* sent; a failure is not retried */
	r->size_cols = r->cols;
	r->pending++;
	if (plat_resize(r->plat, r->cid, r->rows, r->cols, then ? then : sized, r)) {
		r->sizing = 0;
		r->pending--;
		return 1;
	}
	return 0;
}

void run_input_sync(struct run *r)
{
	run_input_sync_then(r, NULL);
}

/* run/resize (run.h): the new size of the console, rows and cols 1..1000. */
int run_resize(struct run *r, unsigned rows, unsigned cols)
{
	if (!r->tty)
		return PLAT_E_UNSUPPORTED;
	if (r->ending)
		return PLAT_E_CLOSED;
	r->rows = rows;
	r->cols = cols;
	run_input_sync(r);
	return 0;
}
