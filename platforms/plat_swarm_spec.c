/*
 * plat_swarm_spec.c - a struct plat_spec as a Swarm service definition
 * (POST /services/create, Engine API 1.41): one replicated job
 * (TotalCompletions 1, MaxConcurrent 1) that is never restarted, whose
 * ContainerSpec carries the hardening the "docker" platform puts in
 * HostConfig, as far as the service API can say it. The mapping, and what
 * it cannot say, is in docs/platforms/swarm.md:
 *
 *   user, read-only root, init, capabilities  User, ReadOnly, Init,
 *                                             CapabilityDrop ["ALL"]
 *   no new privileges                         not in the service API: the
 *                                             node's dockerd runs with
 *                                             --no-new-privileges
 *   no network                                no Networks: the node's
 *                                             dockerd runs with --bridge
 *                                             none (checked: plat_swarm.c)
 *   memory, CPU, pids                         Resources.Limits MemoryBytes,
 *                                             NanoCPUs, Pids
 *   nofile, fsize                             Ulimits
 *   workspace, /tmp (with size and inodes)    Mounts: tmpfs volumes of the
 *                                             local driver, named (so
 *                                             remove finds them)
 *   logs kept                                 LogDriver "none"
 *   files before the program runs             the start gate (plat_swarm.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_swarm_int.h"

/*
 * The start gate: the task's container runs this first, as the run user,
 * and it waits until plat_start() has put the marker file into the
 * workspace, whole (older than the reference: plat_swarm_int.h), removes
 * both and only then execs the program (argv), so the program sees exactly
 * the files put in, whenever they were put. $1 is the workspace.
 */
#define SW_GATE_WAIT                                                                               \
	"d=$1; shift; m=\"$d/" SW_START_MARK "\"; r=\"$d/" SW_START_REF "\"; "                     \
	"until [ -e \"$m\" ] && [ \"$m\" -ot \"$r\" ]; do sleep 0.05; done; rm -f \"$m\" \"$r\"; "
static const char sw_gate[] = SW_GATE_WAIT "exec \"$@\"";

/*
 * The same, for a program with stdin (not a terminal) and a writable /tmp:
 * its stdin is a FIFO that a relay (cat, the container's stdin on fd 3)
 * feeds, so plat_close_stdin() can end it (plat_swarm_stdin.c). The relay
 * removes the FIFO's name once both ends are open; without mkfifo the
 * program gets the container's stdin, as the plain gate does.
 */
static const char sw_gate_stdin[] =
    SW_GATE_WAIT "f=" SW_STDIN_FIFO "; "
		 "if mkfifo -m 600 \"$f\" 2>/dev/null; then exec 3<&0; "
		 "{ rm -f \"$f\"; exec cat <&3 3<&-; } >\"$f\" & echo $! >" SW_STDIN_PID "; "
		 "exec \"$@\" <\"$f\" 3<&-; fi; exec \"$@\"";

static json_t *sw_command(const struct plat_spec *s)
{
	json_t *cmd = json_pack("[s, s, s, s, s]", "/bin/sh", "-c",
				s->open_stdin && !s->tty && s->tmp_bytes ? sw_gate_stdin : sw_gate,
				"run-it-gate", s->workspace);

	for (const char *const *a = s->argv; cmd && *a; a++)
		if (json_array_append_new(cmd, json_string(*a)) < 0) {
			json_decref(cmd);
			return NULL;
		}
	return cmd;
}

/*
 * Name a mount's volume: the node creates it (with the mount's driver
 * options) before the container, and an unnamed one would be left behind
 * beside the container's own (found here). 0, or -1.
 */
static int sw_name_volume(json_t *mount, const char *tag)
{
	unsigned char rnd[16];
	char name[64];
	int n;

	if (!mount || uv_random(NULL, NULL, rnd, sizeof(rnd), 0, NULL))
		return -1;
	n = snprintf(name, sizeof(name), "%s", SW_VOLUME_PREFIX);
	for (size_t i = 0; i < sizeof(rnd); i++)
		n += snprintf(name + n, sizeof(name) - (size_t)n, "%02x", rnd[i]);
	snprintf(name + n, sizeof(name) - (size_t)n, "-%s", tag);
	return json_object_set_new(mount, "Source", json_string(name));
}

static json_t *sw_container_spec(const struct plat_spec *s)
{
	json_t *cs, *mounts, *ul, *ws, *tmp = NULL;
	int bad = 0;

	cs = json_pack("{s:s, s:b, s:b, s:b, s:b, s:[s]}", "User", s->user, "TTY", s->tty,
		       "OpenStdin", s->open_stdin, "ReadOnly", s->readonly_rootfs, "Init", s->init,
		       "CapabilityDrop", "ALL");
	mounts = json_array();
	ul = json_array();
	if (!cs || !mounts || !ul) {
		json_decref(cs);
		json_decref(mounts);
		json_decref(ul);
		return NULL;
	}
	ws = dk_workspace_mount(s);
	bad |= sw_name_volume(ws, "ws");
	bad |= json_array_append_new(mounts, ws);
	if (s->volume)
		bad |= json_array_append_new(mounts, json_pack("{s:s, s:s, s:s}", "Type", "volume",
							       "Source", s->volume, "Target",
							       s->volume_path));
	if (s->tmp_bytes) {
		tmp = dk_tmp_volume_mount(s);
		bad |= sw_name_volume(tmp, "tmp");
		bad |= json_array_append_new(mounts, tmp);
	}
	if (s->nofile)
		bad |= json_array_append_new(ul, dk_ulimit("nofile", s->nofile));
	if (s->fsize_bytes)
		bad |= json_array_append_new(ul, dk_ulimit("fsize", s->fsize_bytes));
	bad |= json_object_set_new(cs, "Mounts", mounts);
	bad |= json_object_set_new(cs, "Ulimits", ul);
	bad |= json_object_set_new(cs, "Command", sw_command(s));
	bad |= json_object_set_new(cs, "Env", dk_strv(s->env));
	bad |= json_object_set_new(cs, "Labels", dk_labels_json(s->labels, s->nlabels));
	if (s->workdir)
		bad |= json_object_set_new(cs, "Dir", json_string(s->workdir));
	if (bad) {
		json_decref(cs);
		return NULL;
	}
	return cs;
}

json_t *sw_service_json(const struct plat_spec *s)
{
	json_t *svc, *tt, *cs, *lim;
	int bad = 0;

	cs = sw_container_spec(s);
	lim = json_object();
	tt = json_pack("{s:{s:s, s:i}, s:{s:s, s:{}}}", "RestartPolicy", "Condition", "none",
		       "MaxAttempts", 0, "LogDriver", "Name", "none", "Options");
	svc = json_pack("{s:{s:{s:i, s:i}}}", "Mode", "ReplicatedJob", "MaxConcurrent", 1,
			"TotalCompletions", 1);
	if (!cs || !lim || !tt || !svc) {
		json_decref(cs);
		json_decref(lim);
		json_decref(tt);
		json_decref(svc);
		return NULL;
	}
	if (s->memory_bytes)
		bad |= json_object_set_new(lim, "MemoryBytes",
					   json_integer((json_int_t)s->memory_bytes));
	if (s->nano_cpus)
		bad |= json_object_set_new(lim, "NanoCPUs", json_integer((json_int_t)s->nano_cpus));
	if (s->pids_limit)
		bad |= json_object_set_new(lim, "Pids", json_integer(s->pids_limit));
	bad |= json_object_set_new(tt, "ContainerSpec", cs);
	bad |= json_object_set_new(tt, "Resources", json_pack("{s:o}", "Limits", lim));
	bad |= json_object_set_new(svc, "TaskTemplate", tt);
	bad |= json_object_set_new(svc, "Labels", dk_labels_json(s->labels, s->nlabels));
	if (s->name)
		bad |= json_object_set_new(svc, "Name", json_string(s->name));
	if (bad) {
		json_decref(svc);
		return NULL;
	}
	return svc;
}
