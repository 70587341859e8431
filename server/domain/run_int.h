/*
 * run_int.h - what run.c, run_start.c, run_stream.c and h_run.c share about
 * a run. Not for use outside the run engine.
 */
#ifndef RUNIT_RUN_INT_H
#define RUNIT_RUN_INT_H

#include "run.h"
#include "metrics.h"
#include "run_notice.h"
#include "run_out.h"
#include "run_plat.h"
#include "run_pool.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <uv.h>

enum run_state { RS_QUEUED, RS_STARTING, RS_BUILDING, RS_RUNNING, RS_STOPPING, RS_FINISHED };

/* One event kept for run/attach: a notification, already encoded. */
struct ring_item {
	struct ring_item *next;
	long long seq;
	struct sess_frame *f; /* the encoded notification (one reference) */
};

/* A session watching a run, and where its output was skipped (run/gap). */
struct watcher {
	uint64_t sess;
	long long gap_from; /* 0: no gap open */
	int lagging;	    /* held the program too long: gets gaps, holds it no more */
};

struct start_req; /* run_start.c's */

/* One per (user, project) with a start, a run or a warm container
 * (run_slot.c; run_start.c drives it). */
struct run_slot {
	struct run_slot *next;
	long long user_id, project_id;
	struct start_req *latest;  /* the newest start for this slot */
	struct start_req *waiting; /* a start waiting for the slot */
	int busy;		   /* a start holds the slot (or its run is alive) */
	struct run *active;
	struct run *warm; /* a prepared container for the next run */
	struct run_engine *eng;
	int letting_go; /* the replaced run's row is being finished */
	int starts;	/* starts under way that point to it (not only latest) */
	/* run_cancel_project/_user while starts were under way: a start that
	 * began before (start_req's cancels differs) ends its run at once */
	unsigned cancels;
	char cancel_reason[16], cancel_code[32], cancel_msg[128];
};
struct sess;
struct run_sweep;
struct run_cache;

struct run {
	struct run *next;
	struct run_engine *eng;
	struct run_slot *slot;
	long long id, user_id, project_id, runtime_id, platform_id;
	char username[64]; /* who started it, for the shared console (run/status "by") */
	char runtime_code[72];
	enum run_state state;

	/* what to run (owned) */
	char image[256];
	json_t *build_cmd; /* NULL when none */
	json_t *run_cmd;
	json_t *env;	  /* {NAME: value} */
	json_t *snapshot; /* {path: content} */
	long long wall_ms, memory_bytes, nano_cpus, pids, output_limit;
	long long disk_bytes, disk_inodes; /* each of /workspace and /tmp */
	long long build_wall_ms;	   /* the build's limit; wall_ms counts after it */
	long long cache_bytes;		   /* the cache volume's cap; 0: no volume */
	char cache_vol[64];		   /* the project's cache volume (run_build.c) */
	char go_key[40];		   /* the build key, or "-" (run_build.c) */
	int network;
	struct run_pool pool; /* its user's resource pool (run_pool.h) */
	struct plat *plat;
	char oci_runtime[64];
	char marker[64]; /* printed by the build wrapper when the build is done */
	uint32_t marker_raw[2];
	char nbuf[16];	 /* the build command's length, an argv string of make_argv */
	char capbuf[24]; /* the cache cap in KiB, another */
	int build_done;

	/* the container */
	char cid[96];
	struct plat_attach *att;
	void *tar;
	size_t tar_len;
	int started, exited, attach_ended, removed;
	int exit_code, have_exit;
	int exit_seen, oom_killed; /* the engine said it ended (waited()) */
	/* the wrapper's exit notice (run_notice.h), the last bytes of stdout
	 * and (through pipes) of stderr: with it the run ends without the
	 * engine's wait, which is then dropped: still open (wait_open) but no
	 * longer pending, it only keeps r allocated */
	struct run_notice notice, notice_err;
	char notice_token[RUN_NOTICE_TOKEN_LEN + 1];
	int wait_open, wait_dropped;
	/* the run ended on the notice: its container is removed once the
	 * engine saw the wrapper exit, or RUN_REMOVE_AFTER_EXIT_MS after
	 * (r->wall), not killed while it exits (run.c, finalize) */
	int remove_on_exit;

	/* timing */
	int64_t t_created, t_started, t_first_byte;
	struct metrics_run mx;
	uv_timer_t wall, flush, pace;
	uv_timer_t next_due; /* asks for the next containers (run_next) */
	int next_asked;
	size_t next_bytes;  /* output since next_since (run_next.c) */
	int64_t next_since; /* next_due's wait began, paced then or not: */
	int next_paced;
	int handles_open;

	/* output */
	struct runout out;
	long long seq;		/* last sequence number used */
	long long out_bytes;	/* program output counted against the limit */
	long long stored_bytes; /* output written to run_logs (capped) */
	struct ring_item *ring_head, *ring_tail;
	size_t ring_bytes;
	struct watcher *watchers;
	size_t nwatchers, capwatchers;
	/* pacing (run_stream.c): output paused for a reader since paced_since;
	 * pace_off: no more pausing (the program exited long enough ago) */
	int paced, pace_off;
	int64_t paced_since;
	char *marker_scan; /* bytes of stdout held while looking for the marker */
	size_t marker_len;

	/* Every container's program waits for one line on stdin ("go"),
	 * written once a run owns it and its files are in. A warm container
	 * is prepared so for the next run of a slot; id 0 until a run adopts
	 * it. waiting: started, its program waiting; go_sent: it was let go
	 * (user code runs) */
	int warm, waiting, go_sent;
	int kill_later; /* replaced: its kill may wait; 2: it waits (run_kill_replaced) */
	int prep;	/* a prepared container in the pool (run_prep.c): no user yet */
	char *held;	/* run/stdin before "go", written after it */
	size_t held_len;
	int stdin_eof;	       /* run/stdin closed the input */
	uint64_t starter_sess; /* the session that started the run */

	/* a terminal (run/start's tty; run_input.c): the output before the
	 * wrapper's RUN_TTY_GO line is dropped (tty_match: bytes of it seen),
	 * input waits for it (tty_live); rows x cols is the console's size,
	 * size_rows x size_cols the one last sent; sizable once a run owns the
	 * started container; sizing while a request is on its way */
	int tty, tty_live, tty_match;
	unsigned rows, cols, size_rows, size_cols;
	int sizable, sizing;

	/* ending */
	int ending, finalized, pending;
	int row_ending;		/* the row's finish is asked: nothing more waits for it */
	int exit_sent;		/* run/exit went out before the end (replaced) */
	long long t_ended;	/* the end's time (ms) for the row and run/exit, once known */
	int removing, released; /* the container's removal and the row, after finalize */
	char reason[16];
	char message[256];
	char code[32];	     /* the reason code, or "" (runs.end_code) */
	long long queue_pos; /* waiting for an engine with room: its place (from 1) */
};

struct run_engine {
	struct srv *srv;
	char process[40];	 /* random: labels the containers of this process */
	struct run_sweep *sweep; /* containers still to remove (run_sweep.c) */
	struct run_cache *cache; /* cache volumes of deleted projects (run_cache.c) */
	struct run_reap *reap;	 /* dead instances taken over (run_reap.c) */
	struct run_queue *queue; /* this instance's queued runs (run_queue.c) */
	struct run *runs;
	struct run_slot *slots;
	unsigned removing; /* containers of released runs still being removed */
	/* hooks: how run_stream.c and run.c tell the files above them */
	void (*op_done)(struct run *r); /* a pending operation ended (run_op_done) */
	void (*release)(struct run *r); /* the row is finished (run.c) */
	void (*slot_released)(struct run_engine *eng, struct run *r); /* run_start.c */
	void (*running)(struct run *r); /* the program was let go (run_start.c) */
};

/* The terminal wrapper prints this line once it has read "go" (run_input.c). */
#define RUN_TTY_GO "\x1erun-it-go"

/*
 * The engine's files, lowest first; each calls only those above it in this
 * list, never one below (tests/layers/check):
 *   run_table.c   the list of runs: find, visit, describe, count
 *   run_sweep.c   containers still to remove: left by an earlier process,
 *                 or by a removal that failed; retried until done
 *   run_cache.c   the cache volumes of deleted projects, removed
 *   run_reap.c    this instance is alive; the work of dead ones ended
 *   run_build.c   the build wrapper, the build key, the files' tar
 *   run_stream.c  events out: run/log, run/status, run/exit to watchers,
 *                 the ring for run/attach, run_logs and the finished row
 *   run_input.c   run/stdin, the terminal: its size, the wrapper's marker
 *   run.c         the lifecycle of one run's container, output in
 *   run_warm.c    warm containers for the next run of a project
 *   run_queue.c   several engines: candidates, the fair queue, engines gone
 *   run_prep.c    prepared containers per runtime, for any run
 *   run_start.c   run/start: access, quota, buffers, the slot, the row
 *   run_engine.c  set-up, cross-instance cancels, reconciliation, shutdown
 * A lower file tells a higher one through the engine's hooks below, set
 * once by run_engine_init().
 */

/* run_build.c: what the build wrapper is given (pure: no engine calls) */
/* The wrapper script that builds (or restores the build's output from the
 * project's cache volume), prints the marker, then runs the program:
 * argv after it is N MARKER CAP_KB BUILD... RUN... */
extern const char run_build_script[];
/* r->go_key: a hash of what the build reads (image, build command, env,
 * files), computed here on the server; "-" when there is no build or no
 * cache. */
void run_build_go_line(struct run *r);
/* The wait wrapper, through pipes and through a terminal: it reads the
 * payload below, then runs its arguments (and prints the exit notice,
 * run_notice.h). */
extern const char run_wait_pipe[];
extern const char run_wait_tty[];
/* What lets r's program go, written on its stdin (owned by *out): the line
 * "go KEY ENV TAR TOKEN" (TOKEN: the exit notice's), then the files (the tar, or none when tar_len
 * is 0: they went in by the archive call) and the environment, raw or, with a terminal, as base64
 * lines. */
int run_build_payload(const struct run *r, const void *tar, size_t tar_len, char **out,
		      size_t *len);
/* 1 when r's container gets the project's cache volume at /cache. */
int run_build_cached(const struct run *r);
/* argv for r's container (the wrapper, the build, the run command), up to
 * max entries with the NULL; -1 when the runtime has no run command. */
int run_build_argv(struct run *r, const char **argv, size_t max);
/* The container's limits and hardening for r (the runtime's, its pool). */
void run_build_limits(const struct run *r, struct plat_spec *spec);
/* The files of r->snapshot as a tar for the workspace (owned by *out). */
int run_build_tar(const struct run *r, void **out, size_t *len);

/* run_table.c */
const char *run_state_name(enum run_state s);
void run_unlink(struct run *r);

/* run_sweep.c */
/* Reconcile every platform now (what an earlier process of this instance
 * left) and retry what is left to remove every interval_ms. */
int run_sweep_start(struct run_engine *eng, unsigned interval_ms);
void run_sweep_stop(struct run_engine *eng);
/* Remove container cid of p once p answers (its removal failed). */
void run_sweep_add(struct run_engine *eng, struct plat *p, const char *cid);

/* run_cache.c: remove deleted projects' cache volumes every interval_ms */
int run_cache_start(struct run_engine *eng, unsigned interval_ms);
void run_cache_stop(struct run_engine *eng);

/* run_reap.c: say this instance is alive every RUNIT_INSTANCE_DEAD_S / 4;
 * end the runs and remove the containers of instances silent for longer */
int run_reap_start(struct run_engine *eng);
void run_reap_stop(struct run_engine *eng);

/* run_stream.c */
void run_on_chunk(void *arg, int stream, const char *utf8, size_t len);
/* srv->sess_drained: a session's queue has room; paused runs look again. */
void run_on_sess_drained(struct srv *srv, struct sess *s);
/* The run is ending: resume its output if it may no longer be paced. */
void run_pace_stop(struct run *r);
void run_emit_status(struct run *r);
/* The run's state: told to its watchers, and to its row (but stopping and
 * finished, which run_finish_db() writes); running unless it is ending;
 * "started" on the bus once its program was let go. */
void run_set_state(struct run *r, enum run_state s);
void run_set_running(struct run *r);
void run_publish_started(struct run *r);
void run_emit_exit(struct run *r);
void run_emit_exit_now(struct run *r);
void run_ring_clear(struct run *r);
int run_watch(struct run *r, uint64_t sess_id);
json_t *run_row_note(long long run_id, long long seq, const char *stream, const char *data,
		     const char **method);
/* Finish the row; then eng->release(r). */
void run_finish_db(struct run *r);
void run_db_set_container(struct run *r);
void run_db_ignore(void *arg, PGresult *res, const char *err);

/* run_input.c */
void run_input_flush(struct run *r);
size_t run_input_skip(struct run *r, const char *buf, size_t len);
int run_input_sync_then(struct run *r, plat_done_cb then);
void run_input_sync(struct run *r);
void run_input_sized(struct run *r, const struct plat_err *err);

/* run.c */
struct run *run_new(struct run_engine *eng);
void run_launch(struct run *r);
void run_launch_adopted(struct run *r);
void run_end(struct run *r, const char *reason, const char *message);
/* run_end with a reason code (NULL: none), sent in run/exit and stored. */
void run_end_code(struct run *r, const char *reason, const char *code, const char *message);
/* One of the run's pending operations finished (may finalize it). */
void run_op_done(struct run *r);
/* The row is finished: run/exit out, the slot freed, the run freed. */
void run_release(struct run *r);

/* run_kill.c: r's container is stopped; r is pending for it */
void run_kill_now(struct run *r);
/* now, or for a replaced run (kill_later) later: */
void run_kill(struct run *r);
/* A replaced run's container (kill_later) is killed once a newer run of its
 * project's first output went out (by: that run; run.c calls it), or after
 * RUN_KILL_LATER_MS (docs/decisions.md, "Run again"). */
void run_kill_replaced(const struct run *by);

/* run_kill.c: a replaced run is killed at most this long after
 * (run_kill_replaced) */
#define RUN_KILL_LATER_MS 300
/* run.c: a container whose wrapper told its exit is removed at the latest
 * this long after, exited or not */
#define RUN_REMOVE_AFTER_EXIT_MS 1000
/* run_next.c: r asks for its next containers once, when its output is
 * light (the file's comment); the timer is r->next_due */
#define RUN_NEXT_AFTER_MS 100
#define RUN_NEXT_QUIET_MS 20
#define RUN_NEXT_CALM_MS 100
#define RUN_NEXT_HEAVY_BYTES (128 * 1024)
#define RUN_NEXT_MAX_MS 2000
/* "go" went down r's stdin */
void run_next_go(struct run *r);
/* r printed len bytes (first: its first) */
void run_next_output(struct run *r, int first, size_t len);

/* run_warm.c */
#define WARM_IDLE_MS (120 * 1000)
struct run *run_warm_prepare(struct run_engine *eng, const struct run *done);
int run_warm_matches(const struct run *w, const char *image, json_t *build_cmd, json_t *run_cmd,
		     json_t *env, long long wall_ms, long long memory, long long cpus,
		     long long pids, long long output, long long disk_bytes, long long disk_inodes,
		     int network, struct plat *plat, const char *oci_runtime, long long cache_bytes,
		     int tty);

/* run_prep.c: prepared containers per configuration (docs/decisions.md,
 * "Prepared containers") */
/* A prepared container made for want's configuration (with ready_only one
 * whose program already waits), taken out of the pool (its ownership passes
 * to the caller), or NULL. */
struct run *run_prep_take(struct run_engine *eng, const struct run *want, int ready_only);
/* Top the pool up for r's configuration (in the background). */
void run_prep_refill(struct run_engine *eng, const struct run *r);
/* Every prepared container goes (a runtime, a platform or a setting
 * changed; the server stops). */
void run_prep_drop_all(struct run_engine *eng, const char *why);
/* 1 when a run of r's configuration may use a prepared container. */
int run_prep_eligible(const struct run *r);

/* run_slot.c: the slot of (user, project), made when missing (NULL: out of
 * memory); free it when nothing holds it any more. */
struct run_slot *run_slot_get(struct run_engine *eng, long long user, long long project);
void run_slot_maybe_free(struct run_engine *eng, struct run_slot *slot);
/* The runs of the starts under way for project (0: any) of user (0: any)
 * end, once made, with this reason, code (or NULL) and message. */
void run_slot_cancel(struct run_engine *eng, long long user, long long project, const char *reason,
		     const char *code, const char *message);

/* run_start.c */
void run_slot_released(struct run_engine *eng, struct run *r);
/* r's program was let go: its slot's next container is prepared now. */
void run_slot_running(struct run *r);

#endif
