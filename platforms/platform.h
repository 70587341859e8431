/*
 * platform.h - the container platform interface of run-it: one struct of
 * asynchronous operations (ensure image and volume, create, put files, start,
 * attach, stdin, stop, wait, inspect, remove, list) that a backend implements,
 * plus small inline wrappers that state the contract. Everything above
 * platforms/ uses only this file (and plat_tar.h to build the files archive);
 * nothing above platforms/ knows which engine runs the containers.
 *
 * The shape follows redis' ConnectionType and curl's struct Curl_ssl: a
 * backend fills a `struct plat_ops` table (with a version field, as
 * SQLite's sqlite3_io_methods has) and embeds `struct plat` first in its own
 * state. Backends today: "docker" (plat_docker.c, Docker Engine API; also
 * "podman", Podman's Docker-compatible socket) and "swarm" (plat_swarm.c:
 * each container is a Swarm replicated job, docs/platforms/swarm.md).
 *
 * THE ASYNC RULE (libuv's). Every operation that takes a callback either
 * returns 0, and then calls its callback exactly once, later, from the event
 * loop (never from inside the call that started it); or returns a negative
 * PLAT_E_* code, and then the callback never runs. The only exception is
 * plat_free(): callbacks still pending run from inside it with
 * PLAT_E_CANCELED. Callbacks run on the loop thread. From a callback you may
 * call any function here except plat_free().
 *
 * THE WORKSPACE DECISION (DESIGN.md section 3, point 3). A run must see
 * exactly the saved files: no stale file from an earlier run, and no symlink
 * left by earlier user code that could redirect a write (Judge0's
 * CVE-2024-28185/28189). So the code never goes into a long-lived volume.
 * Each container gets a FRESH, EMPTY, private workspace (spec.workspace,
 * e.g. "/workspace": Docker backs it with an anonymous volume that lives and
 * dies with the container). Docker resolves the destination of
 * plat_put_files() inside the container's scope and extracts chrooted into
 * the container's root, so even a hostile archive could not reach the host;
 * and the tar writer (plat_tar.h) emits every parent directory explicitly,
 * so the archive never depends on what is already there. The named
 * per-project volume (spec.volume) is optional and only for what a runtime
 * wants to keep between runs (a dependency cache); the platform never
 * writes into it and refuses a spec that mounts it on or over the workspace
 * (PLAT_E_INVAL). Any symlink user code plants there can at most redirect
 * the user's own later writes inside that same container, which already
 * owns everything it can reach. A file deleted in the editor is gone in the
 * next run by construction.
 *
 * THE SIZE OF WHAT A RUN WRITES. With spec.workspace_bytes (and/or
 * workspace_inodes) the workspace is a RAM filesystem (Docker: an anonymous
 * volume of the local driver with tmpfs options, owned by the user's uid and
 * gid, mode 0700, nosuid, nodev) of at most that many bytes and files;
 * /tmp is one too (tmp_bytes, tmp_inodes). A program that writes more gets
 * ENOSPC, and nothing it writes reaches the host's disk. Their pages count
 * against the container's memory limit (memory_bytes, also memory+swap):
 * files plus memory past it end the program by the OOM killer
 * (plat_exit.oom_killed), whatever room the filesystems still have. The
 * price: a tmpfs volume holds files only while it is mounted, and the
 * engine mounts a container's volumes only while it runs (and for the
 * length of one archive request), so files put into a container that has
 * not started are lost. The files therefore go in AFTER plat_start(), into
 * a container whose command waits before any user code runs (the server's
 * waits for one line on stdin, then execs the program): the workspace is
 * still empty then, no user code has run, and the guarantee above holds.
 * Without a size the workspace is an engine volume on the host's disk,
 * capped per file only (spec.fsize_bytes), and files may go in before the
 * start. Either way it is freed with the container. The image's workspace
 * directory is copied into an engine volume, owner and mode included, so
 * runtime images must have an empty workspace directory owned by the run
 * user (uid 1000). The same holds for a named volume the first time it is
 * mounted: the run user can write to it only if the image has that
 * directory owned by uid 1000.
 *
 * A TERMINAL (spec.tty). With it the program's stdin, stdout and stderr are
 * one pseudo-terminal: isatty() is true, the output is one stream in
 * exactly the order the program wrote it (the attach carries it raw:
 * attach with PLAT_ATTACH_TTY, every byte arrives as PLAT_STDOUT), the
 * terminal's line discipline turns "\n" into "\r\n" on the way out, echoes
 * input, and turns a "\x03" written to stdin into SIGINT for the
 * foreground process group (with spec.init, the program's: Docker's tini
 * hands it the terminal) and "\x04" into end of file for a read. Closing
 * stdin does not reach a program reading a terminal: write "\x04". The size
 * is set with plat_resize() once the container runs (Docker 20.10 cannot
 * set it at create).
 *
 * Ownership: strings and arrays passed in are borrowed for the duration of
 * the call only (the backend copies what it keeps), except the tar buffer of
 * plat_put_files(), which is borrowed until its callback runs. Everything a
 * callback receives is borrowed for the duration of that callback.
 */
#ifndef RUNIT_PLATFORM_H
#define RUNIT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Version of struct plat_ops; a backend sets .version to this. */
#define PLAT_OPS_VERSION 1

/* The non-root user runs execute as, and the owner of their files. */
#define PLAT_RUN_UID 1000
#define PLAT_RUN_GID 1000

/* Error codes: negative, returned by calls and carried in struct plat_err. */
enum plat_errno {
	PLAT_E_INVAL = -1, /* bad argument or spec */
	PLAT_E_NOMEM = -2,
	PLAT_E_UNAVAILABLE = -3, /* engine not reachable (down, socket missing) */
	PLAT_E_NOT_FOUND = -4,	 /* no such container, image or volume */
	PLAT_E_CONFLICT = -5,	 /* name in use, volume in use, ... */
	PLAT_E_REJECTED = -6,	 /* engine refused the request (other 4xx) */
	PLAT_E_ENGINE = -7,	 /* engine failed (5xx) */
	PLAT_E_PROTOCOL = -8,	 /* a response we cannot understand */
	PLAT_E_TIMEOUT = -9,
	PLAT_E_CANCELED = -10,	  /* plat_detach() or plat_free() */
	PLAT_E_PULL = -11,	  /* image missing and could not be pulled */
	PLAT_E_UNSUPPORTED = -12, /* engine too old, or operation not offered */
	PLAT_E_TOO_LONG = -13,	  /* a path or size over a limit */
	PLAT_E_EXISTS = -14,	  /* the same path twice in an archive */
	PLAT_E_AGAIN = -15,	  /* stdin queue full: wait for a write callback */
	PLAT_E_CLOSED = -16,	  /* stdin closed or not attached */
	PLAT_E_IO = -17,	  /* another transport failure */
};

/* A static English description of a PLAT_E_* code. */
const char *plat_strerror(int err);

/*
 * What went wrong, given to callbacks (NULL means success). message is
 * borrowed: the engine's own message when it sent one ("No such container:
 * x"), else the transport's.
 */
struct plat_err {
	int code;	     /* PLAT_E_*, negative */
	int http_status;     /* the engine's HTTP status, 0 if none */
	const char *message; /* never NULL */
};

/* A key=value pair: container and volume labels. */
struct plat_label {
	const char *key;
	const char *value;
};

/*
 * What to run. Zero/NULL fields mean "no limit" or "not used"; the server
 * fills every limit. Borrowed for the duration of plat_create().
 */
struct plat_spec {
	const char *name;	 /* container name, optional (unique per engine) */
	const char *image;	 /* required */
	const char *const *argv; /* required, NULL-terminated: the whole command,
				  * the image's entrypoint is not used */
	const char *const *env;	 /* "KEY=value", NULL-terminated, optional:
				  * these and the image's own defaults
				  * (its PATH...), nothing from the host */
	const char *workdir;	 /* optional */
	const char *user;	 /* "1000:1000"; required (never root) */
	const char *workspace;	 /* fresh empty private dir for the code
				  * (e.g. "/workspace"); NULL for none */
	const char *volume;	 /* named volume kept between runs, optional */
	const char *volume_path; /* where it is mounted: absolute, not on or
				  * over/under the workspace */
	bool network;		 /* false: no network at all, loopback only */
	bool readonly_rootfs;
	bool init;		   /* a tiny init as PID 1 (reaps, forwards
				    * signals); recommended */
	bool open_stdin;	   /* keep stdin open for plat_write_stdin() */
	bool tty;		   /* a pseudo-terminal: see A TERMINAL */
	uint64_t workspace_bytes;  /* the workspace is a RAM filesystem of at
				    * most this size: see THE WORKSPACE
				    * DECISION; 0 = an engine volume, not
				    * size-capped */
	uint64_t workspace_inodes; /* files and folders in it; 0 = the
				    * kernel's default (with workspace_bytes) */
	uint64_t tmp_bytes;	   /* tmpfs on /tmp of this size; 0 = none */
	uint64_t tmp_inodes;	   /* files and folders in /tmp; 0 = default */
	uint64_t memory_bytes;	   /* memory = memory+swap; 0 = unlimited */
	uint64_t nano_cpus;	   /* 1e9 = one CPU; 0 = unlimited */
	int64_t pids_limit;	   /* 0 = unlimited. Under gVisor it counts
				    * the sandbox's own host threads (64 is
				    * too few: use 256 or more); the user's
				    * processes are not host processes
				    * there and memory bounds them */
	int64_t nofile;		   /* open files (soft = hard); 0 = default */
	int64_t fsize_bytes;	   /* largest file it may write; 0 = unlimited */
	const struct plat_label *labels;
	size_t nlabels;
	const char *runtime; /* OCI runtime ("runsc"), NULL for default */
	/*
	 * The owner's resource pool: every container of one pool shares its
	 * CPU and memory, and the pools share the host between them (one
	 * user's runs cannot starve another's). A name of 1-48 of
	 * [a-z0-9_-] ("u42"), NULL for none. Docker maps it to a cgroup
	 * parent (HostConfig.CgroupParent "/runit/<pool>") and, when the
	 * engine is local and the cgroup filesystem writable, sets that
	 * parent's limits before the create: docs/platforms/docker.md.
	 * Podman and Swarm accept and ignore it (their pages say why).
	 */
	const char *pool;
	uint64_t pool_nano_cpus;    /* the pool's CPU; 0 = unlimited */
	uint64_t pool_memory_bytes; /* the pool's memory; 0 = unlimited */
};

/* Result of plat_ping(): the backend and what it negotiated. */
struct plat_info {
	const char *backend;	 /* "docker" */
	const char *api_version; /* "1.41" */
	const char *server;	 /* "Docker/20.10.24 (linux)", or "" */
};

/* Result of plat_wait(). */
struct plat_exit {
	int exit_code;	   /* 137 for SIGKILL, as the engine reports */
	bool oom_killed;   /* the kernel's OOM killer ended it */
	const char *error; /* the engine's message if it could not run, or "" */
};

/* Result of plat_inspect(). */
struct plat_state {
	const char *status; /* "created", "running", "exited", ... */
	bool running;
	int exit_code;
	bool oom_killed;
	int pid;		 /* host pid of its init, 0 if not running */
	const char *started_at;	 /* RFC 3339 or "" */
	const char *finished_at; /* RFC 3339 or "" */
	const char *error;	 /* or "" */
};

/* One entry of plat_list(). */
struct plat_container {
	const char *id;
	const char *state; /* as plat_state.status */
	const struct plat_label *labels;
	size_t nlabels;
};

/* A line of image pull progress. current/total are bytes, -1 if unknown. */
struct plat_progress {
	const char *status; /* "Downloading", "Pull complete", ... */
	const char *id;	    /* layer id or "" */
	int64_t current;
	int64_t total;
};

/*
 * Result of plat_engine(): what the engine says about itself (GET /version
 * and /info on Docker). Strings are "" when the engine did not say.
 */
struct plat_engine {
	const char *os;		      /* "linux" */
	const char *arch;	      /* "amd64" */
	const char *version;	      /* the engine's version, "20.10.24" */
	const char *api_version;      /* "1.41" */
	const char *kernel;	      /* "6.1.0-13-amd64" */
	const char *operating_system; /* "Debian GNU/Linux 12 (bookworm)" */
	const char *swarm;	      /* "active", "inactive", ... or "" */
	int swarm_nodes;	      /* nodes in its swarm, 0 if none */
	int ncpu;
	int64_t mem_total; /* bytes */
};

typedef void (*plat_done_cb)(void *arg, const struct plat_err *err);
typedef void (*plat_engine_cb)(void *arg, const struct plat_engine *eng,
			       const struct plat_err *err);
typedef void (*plat_ping_cb)(void *arg, const struct plat_info *info, const struct plat_err *err);
typedef void (*plat_create_cb)(void *arg, const char *id, const struct plat_err *err);
typedef void (*plat_wait_cb)(void *arg, const struct plat_exit *ex, const struct plat_err *err);
typedef void (*plat_inspect_cb)(void *arg, const struct plat_state *st, const struct plat_err *err);
typedef void (*plat_list_cb)(void *arg, const struct plat_container *list, size_t n,
			     const struct plat_err *err);
/* Called zero or more times before the done callback; may be NULL. */
typedef void (*plat_progress_cb)(void *arg, const struct plat_progress *p);

/* The streams of an attach. */
enum plat_stream {
	PLAT_STDIN = 0,
	PLAT_STDOUT = 1,
	PLAT_STDERR = 2,
};

/* plat_attach() flags. */
#define PLAT_ATTACH_STDIN 0x1 /* also open stdin (the spec needs open_stdin) */
#define PLAT_ATTACH_TTY 0x2   /* the container has spec.tty: its output is raw */

/*
 * Callbacks of one attach. For each successful plat_attach(): end runs
 * exactly once. Before it: ready at most once, when output is flowing to us
 * (start the container then, not before: nothing is missed); data zero or
 * more times, only after ready, stdout and stderr kept apart, each stream's
 * bytes exact and in order (a chunk may end anywhere, even inside a UTF-8
 * character). Across the two streams the order is the engine's: Docker
 * reads stdout and stderr from two pipes, so writes to both within a few
 * milliseconds may arrive in either order (a TTY merges them, losing
 * which is which: with PLAT_ATTACH_TTY every byte is PLAT_STDOUT, in the
 * order written). end's err is NULL when the output closed normally (the
 * program exited; or the engine went away: plat_wait() tells),
 * PLAT_E_CANCELED after plat_detach(), else the failure; if ready never
 * ran, the attach failed. The handle is valid until end returns. ready,
 * data and plat_write_stdin() callbacks may run from inside the backend's
 * I/O processing (which is why every call here only records and defers).
 */
struct plat_attach_cbs {
	void (*ready)(void *arg);
	void (*data)(void *arg, enum plat_stream stream, const char *buf, size_t len);
	void (*end)(void *arg, const struct plat_err *err);
};

struct plat;
struct plat_attach;

/* The backend table. Read the wrappers below for each operation's contract. */
struct plat_ops {
	int version; /* PLAT_OPS_VERSION */
	const char *name;
	void (*destroy)(struct plat *p);
	int (*ping)(struct plat *p, plat_ping_cb cb, void *arg);
	int (*ensure_image)(struct plat *p, const char *image, bool pull, plat_progress_cb progress,
			    plat_done_cb cb, void *arg);
	int (*ensure_volume)(struct plat *p, const char *name, const struct plat_label *labels,
			     size_t nlabels, plat_done_cb cb, void *arg);
	int (*remove_volume)(struct plat *p, const char *name, plat_done_cb cb, void *arg);
	int (*create)(struct plat *p, const struct plat_spec *spec, plat_create_cb cb, void *arg);
	int (*put_files)(struct plat *p, const char *id, const char *dir, const void *tar,
			 size_t len, plat_done_cb cb, void *arg);
	int (*start)(struct plat *p, const char *id, plat_done_cb cb, void *arg);
	int (*attach)(struct plat *p, const char *id, unsigned flags,
		      const struct plat_attach_cbs *cbs, void *arg, struct plat_attach **out);
	int (*write_stdin)(struct plat_attach *a, const void *buf, size_t len, plat_done_cb cb,
			   void *arg);
	int (*close_stdin)(struct plat_attach *a);
	void (*pause)(struct plat_attach *a);
	void (*resume)(struct plat_attach *a);
	void (*detach)(struct plat_attach *a);
	int (*stop)(struct plat *p, const char *id, unsigned grace_s, plat_done_cb cb, void *arg);
	int (*wait)(struct plat *p, const char *id, plat_wait_cb cb, void *arg);
	int (*inspect)(struct plat *p, const char *id, plat_inspect_cb cb, void *arg);
	int (*remove)(struct plat *p, const char *id, plat_done_cb cb, void *arg);
	int (*list)(struct plat *p, const struct plat_label *match, size_t n, plat_list_cb cb,
		    void *arg);
	int (*resize)(struct plat *p, const char *id, unsigned rows, unsigned cols, plat_done_cb cb,
		      void *arg);
	int (*engine)(struct plat *p, plat_engine_cb cb, void *arg); /* optional */
};

/* Every backend's state starts with this. */
struct plat {
	const struct plat_ops *ops;
};

/* Every backend's attach handle starts with this. */
struct plat_attach {
	struct plat *plat;
};

/*
 * One finished request to the platform's API, for metrics (the server's
 * /metrics shows latency and errors without knowing the engine). seconds is
 * the time until the engine's answer began: for a stream (attach, wait,
 * pull) that is when it opened, not when it ended. code is 0 or the
 * request's PLAT_E_* outcome. Requests canceled by the caller (detach,
 * plat_free) are not reported.
 */
struct plat_api_stat {
	double seconds;
	int code;
	int http_status; /* 0 if the engine did not answer */
};
typedef void (*plat_stats_cb)(const struct plat_api_stat *st);

/* How to reach a platform. */
struct plat_config {
	const char *backend;	     /* "docker" (the default when NULL) */
	const char *endpoint;	     /* "unix:///var/run/docker.sock" or a
				      * bare socket path; NULL: that default;
				      * or tcp://host[:port] (https://...):
				      * HTTPS with the three PEMs below */
	const char *api_version;     /* pin ("1.41"); NULL: negotiate */
	unsigned op_timeout_ms;	     /* short operations; 0: 120000 */
	unsigned connect_timeout_ms; /* 0: 5000 */
	/* Containers created, started or removed at once on this engine; the
	 * rest wait their turn, in order (an engine given many at once gets
	 * through fewer in all). 0: 4; -1: no limit. */
	int max_ops;
	plat_stats_cb stats; /* optional: called on the loop thread once
			      * per finished API request */
	/* TCP endpoints only, all three required (PLAT_E_INVAL without):
	 * PEM texts of the CA the engine's certificate must chain to (the
	 * only one trusted: no system CAs), and the client's certificate
	 * and private key the engine's --tlsverify checks. Copied. TLS 1.2
	 * or later, peer and host name verified. */
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
};

/*
 * Check the three PEM texts of a TCP platform before they are stored: the
 * CA parses as one or more certificates, the certificate as one, the key
 * as a private key that belongs to that certificate. 0, or -1 and why
 * (an English sentence for an admin) in why. libcrypto only: no network.
 */
int plat_tls_check(const char *ca, const char *cert, const char *key, char *why, size_t whysz);

/* 1 when endpoint is one plat_new() reaches over TCP (needs the PEMs). */
int plat_endpoint_is_tcp(const char *endpoint);

/*
 * Make a platform on loop. Nothing is contacted yet: an engine that is down
 * is reported by the first operation (PLAT_E_UNAVAILABLE), and operations
 * work again once it is back. *out is NULL on failure.
 */
int plat_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out);

/*
 * Cancel everything (pending callbacks run now with PLAT_E_CANCELED; attach
 * handles end) and free. Its libuv handles close asynchronously: run the
 * loop afterwards until it has no handles left. Never call from a callback.
 */
static inline void plat_free(struct plat *p)
{
	if (p)
		p->ops->destroy(p);
}

/* Health and version negotiation: info names the backend and API version. */
static inline int plat_ping(struct plat *p, plat_ping_cb cb, void *arg)
{
	return p->ops->ping(p, cb, arg);
}

/*
 * Make sure image is present. If absent and pull is true, pull it (progress
 * lines go to progress, which may be NULL); failure to pull is PLAT_E_PULL
 * with the engine's reason. If absent and pull is false: PLAT_E_NOT_FOUND.
 */
static inline int plat_ensure_image(struct plat *p, const char *image, bool pull,
				    plat_progress_cb progress, plat_done_cb cb, void *arg)
{
	return p->ops->ensure_image(p, image, pull, progress, cb, arg);
}

/* Create the named volume unless it exists (labels used on creation). */
static inline int plat_ensure_volume(struct plat *p, const char *name,
				     const struct plat_label *labels, size_t nlabels,
				     plat_done_cb cb, void *arg)
{
	return p->ops->ensure_volume(p, name, labels, nlabels, cb, arg);
}

/* Remove a named volume. Absent is success; in use is PLAT_E_CONFLICT. */
static inline int plat_remove_volume(struct plat *p, const char *name, plat_done_cb cb, void *arg)
{
	return p->ops->remove_volume(p, name, cb, arg);
}

/*
 * Create (not start) a container from spec, hardened: no capabilities, no
 * new privileges, no network unless spec->network, a log configuration that
 * cannot fill the disk. cb gets the container id. PLAT_E_INVAL for a bad
 * spec (root user, missing image or argv, volume over the workspace).
 */
static inline int plat_create(struct plat *p, const struct plat_spec *spec, plat_create_cb cb,
			      void *arg)
{
	return p->ops->create(p, spec, cb, arg);
}

/*
 * Extract a tar archive (built with plat_tar.h) into dir of a container;
 * dir is spec.workspace. Before plat_start() for an uncapped workspace;
 * after it for a capped one (spec.workspace_bytes: see THE SIZE OF WHAT A
 * RUN WRITES), while the container's command still waits and no user code
 * has run. The archive's owners and modes are kept. tar is borrowed until
 * cb runs.
 */
static inline int plat_put_files(struct plat *p, const char *id, const char *dir, const void *tar,
				 size_t len, plat_done_cb cb, void *arg)
{
	return p->ops->put_files(p, id, dir, tar, len, cb, arg);
}

/* Start a created container; call it from the attach's ready callback. */
static inline int plat_start(struct plat *p, const char *id, plat_done_cb cb, void *arg)
{
	return p->ops->start(p, id, cb, arg);
}

/*
 * Attach to a created container's output (and stdin with
 * PLAT_ATTACH_STDIN); see struct plat_attach_cbs. *out is the handle, valid
 * until cbs->end returns; cbs is copied.
 */
static inline int plat_attach(struct plat *p, const char *id, unsigned flags,
			      const struct plat_attach_cbs *cbs, void *arg,
			      struct plat_attach **out)
{
	return p->ops->attach(p, id, flags, cbs, arg, out);
}

/*
 * Queue bytes for the program's stdin (copied). cb runs once the bytes are
 * handed to the transport, or with an error if stdin closed first. At most
 * 1 MiB may wait: past that PLAT_E_AGAIN. PLAT_E_CLOSED if the attach has
 * no stdin or it was closed.
 */
static inline int plat_write_stdin(struct plat_attach *a, const void *buf, size_t len,
				   plat_done_cb cb, void *arg)
{
	return a->plat->ops->write_stdin(a, buf, len, cb, arg);
}

/* End of input: queued bytes are delivered, then the program reads EOF. */
static inline int plat_close_stdin(struct plat_attach *a)
{
	return a->plat->ops->close_stdin(a);
}

/*
 * Backpressure. After plat_pause() returns no data callback runs until
 * plat_resume(); the backend stops reading, so a program that keeps
 * writing blocks on its full pipe instead of growing our memory.
 */
static inline void plat_pause(struct plat_attach *a)
{
	a->plat->ops->pause(a);
}

static inline void plat_resume(struct plat_attach *a)
{
	a->plat->ops->resume(a);
}

/* Stop listening: end runs later with PLAT_E_CANCELED (if not already). */
static inline void plat_detach(struct plat_attach *a)
{
	a->plat->ops->detach(a);
}

/*
 * Stop a container: grace_s 0 kills it at once (SIGKILL); otherwise SIGTERM,
 * then SIGKILL after grace_s seconds. A container that is not running is
 * success; one that does not exist is PLAT_E_NOT_FOUND.
 */
static inline int plat_stop(struct plat *p, const char *id, unsigned grace_s, plat_done_cb cb,
			    void *arg)
{
	return p->ops->stop(p, id, grace_s, cb, arg);
}

/*
 * Wait until a started container is no longer running; cb gets its exit
 * code and whether the OOM killer ended it. Call after plat_start().
 */
static inline int plat_wait(struct plat *p, const char *id, plat_wait_cb cb, void *arg)
{
	return p->ops->wait(p, id, cb, arg);
}

static inline int plat_inspect(struct plat *p, const char *id, plat_inspect_cb cb, void *arg)
{
	return p->ops->inspect(p, id, cb, arg);
}

/*
 * Remove a container, running or not, with its private workspace; named
 * volumes are kept. An absent container is success.
 */
static inline int plat_remove(struct plat *p, const char *id, plat_done_cb cb, void *arg)
{
	return p->ops->remove(p, id, cb, arg);
}

/*
 * Containers (running or not) carrying every label in match; a label with a
 * NULL value matches on the key alone.
 */
static inline int plat_list(struct plat *p, const struct plat_label *match, size_t n,
			    plat_list_cb cb, void *arg)
{
	return p->ops->list(p, match, n, cb, arg);
}

/*
 * Set the terminal size of a running container made with spec.tty (rows and
 * cols 1..65535); the program gets SIGWINCH. A container that is not
 * running fails (PLAT_E_CONFLICT or PLAT_E_ENGINE, as the engine says),
 * an absent one is PLAT_E_NOT_FOUND; Docker quietly accepts a resize of a
 * running container without a terminal (the caller knows its spec).
 * PLAT_E_UNSUPPORTED from a backend without terminals.
 */
static inline int plat_resize(struct plat *p, const char *id, unsigned rows, unsigned cols,
			      plat_done_cb cb, void *arg)
{
	if (!p->ops->resize)
		return PLAT_E_UNSUPPORTED;
	return p->ops->resize(p, id, rows, cols, cb, arg);
}

/*
 * What the engine is (platform metadata for admins): OS, architecture,
 * versions, CPUs, memory, swarm state. PLAT_E_UNSUPPORTED from a backend
 * that cannot say.
 */
static inline int plat_engine(struct plat *p, plat_engine_cb cb, void *arg)
{
	if (!p->ops->engine)
		return PLAT_E_UNSUPPORTED;
	return p->ops->engine(p, cb, arg);
}

#endif
