/*
 * plat_swarm_stdin.c - end of file on a swarm task's stdin.
 *
 * A service's ContainerSpec has OpenStdin but no StdinOnce, so the engine
 * never closes the program's stdin when the attach's stdin connection
 * closes. So the start gate (plat_swarm_spec.c) does not give the program
 * the container's stdin: it makes a FIFO in /tmp, starts a relay (cat)
 * from the container's stdin into it, and execs the program reading the
 * FIFO; the relay removes the FIFO's name once both ends are open and
 * writes its pid to SW_STDIN_PID. plat_close_stdin() closes the attach's
 * stdin connection as on Docker; once it has ended (every byte written is
 * with the engine), the docker backend calls sw_stdin_closed(), which runs
 * SW_STDIN_KILL in the container as its user (POST /containers/{id}/exec,
 * then /exec/{id}/start detached): it waits until the relay is blocked
 * reading an empty stdin (so it has handed everything on; at most 5 s, for
 * a program that does not read), then ends it. The FIFO's last writer is
 * gone: the program reads EOF. docs/platforms/swarm.md, "Stdin".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_swarm_int.h"

/* /proc/<pid>/wchan says "pipe_read" (or "anon_pipe_read") while the
 * relay waits for bytes that are not there */
#define SW_STDIN_KILL                                                                              \
	"p=$(cat " SW_STDIN_PID " 2>/dev/null) || exit 0; i=0; "                                   \
	"while [ $i -lt 500 ]; do case $(cat /proc/$p/wchan 2>/dev/null) in "                      \
	"*pipe_read) break;; esac; sleep 0.01; i=$((i+1)); done; "                                 \
	"kill $p 2>/dev/null; rm -f " SW_STDIN_PID

static void sw_exec_started(struct dk_req *r, const struct plat_err *err)
{
	/* nothing waits for it: the program's stdin stays open if it failed
	 * (as before this existed), and its time limit still ends it */
	(void)r;
	(void)err;
}

static void sw_exec_created(struct dk_req *r, const struct plat_err *err)
{
	struct plat_err e;
	const char *xid;
	struct dk_req *start = NULL;
	json_t *j, *body;
	char *path;

	if (err)
		return;
	j = dk_resp_json(r, &e);
	xid = json_string_value(json_object_get(j, "Id"));
	body = json_pack("{s:b, s:b}", "Detach", 1, "Tty", 0);
	path = xid && dk_valid_name(xid) ? dk_strdup_printf("/exec/%s/start", xid) : NULL;
	if (path && body)
		start = dk_req_new_json(r->d, "POST", path, body, sw_exec_started);
	free(path);
	json_decref(body);
	json_decref(j);
	dk_send(start, (long)r->d->op_timeout_ms);
}

void sw_stdin_closed(struct plat_docker *d, const char *id)
{
	json_t *body;
	char *path;
	struct dk_req *r = NULL;

	if (d->destroying || !dk_valid_name(id))
		return;
	body = json_pack("{s:[s, s, s], s:b, s:b, s:b}", "Cmd", "/bin/sh", "-c", SW_STDIN_KILL,
			 "AttachStdin", 0, "AttachStdout", 0, "AttachStderr", 0);
	path = dk_strdup_printf("/containers/%s/exec", id);
	if (path && body)
		r = dk_req_new_json(d, "POST", path, body, sw_exec_created);
	free(path);
	json_decref(body);
	dk_send(r, (long)d->op_timeout_ms);
}
