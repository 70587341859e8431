/*
 * plat_docker_int.h - what the files of the Docker backend share: its state,
 * one request to the Engine API (struct dk_req) and the helpers that build,
 * send and finish requests. Not for use outside platforms/plat_docker*.c.
 *
 * A request is one libcurl easy handle plus what it needs to live: owned
 * path, body, headers, a response buffer and the completion (finish) that
 * turns the response into the operation's callback. Requests wait in a FIFO
 * while the API version is being negotiated (GET /_ping), then go out as
 * /v<version><path>. A container's create, start and removal (r->limited)
 * also take one of max_ops places: the rest wait in a second FIFO (the
 * gate), since an engine given many at once gets through fewer in all.
 */
#ifndef RUNIT_PLAT_DOCKER_INT_H
#define RUNIT_PLAT_DOCKER_INT_H

#include <stdbool.h>
#include <curl/curl.h>
#include <jansson.h>

#include "plat_http.h"
#include "platform.h"

/* The oldest Engine API we speak: Docker 20.10. */
#define DK_MIN_MAJOR 1
#define DK_MIN_MINOR 41
/* Containers created, started or removed at once (plat_config.max_ops):
 * on 2 cores, 2 to 6 gave the same runs per second; with no limit, 20
 * users running at once got about 0.6 of it (bench/runs_per_second.py). */
#define DK_MAX_OPS 4
/* Largest non-streamed response body we keep. */
#define DK_RESP_MAX (16u << 20)

struct plat_docker {
	struct plat base;
	uv_loop_t *loop;
	struct plat_http *http;
	char *socket_path; /* the unix socket; NULL over TCP */
	char *base_url;	   /* over TCP: "https://host:port"; else "http://docker" */
	/* over TCP: the PEM texts of plat_config (the key wiped when freed) */
	char *tls_ca, *tls_cert, *tls_key;
	char api_version[16]; /* negotiated or pinned; "" = not yet */
	bool pinned;
	bool podman; /* "podman": every container gets an explicit nproc */
	unsigned op_timeout_ms;
	unsigned connect_timeout_ms;
	plat_stats_cb stats;		      /* plat_config.stats, or NULL */
	struct dk_req *nego;		      /* negotiation in flight */
	struct dk_req *wait_head, *wait_tail; /* waiting for the version */
	struct dk_req *gate_head, *gate_tail; /* limited, waiting for a place */
	unsigned max_ops;		      /* limited requests at once; 0: any */
	unsigned ops_busy;		      /* limited requests with the engine */
	bool destroying;
	/* a backend whose engine does not close a container's stdin when its
	 * attach closes (swarm: no StdinOnce) does it here, once the stdin
	 * connection of plat_close_stdin() has ended: every byte written is
	 * with the engine by then. NULL for docker and podman. */
	void (*stdin_closed)(struct plat_docker *d, const char *id);
};

struct dk_req;
typedef void (*dk_finish)(struct dk_req *r, const struct plat_err *err);

struct dk_req {
	struct plat_docker *d;
	CURL *easy;
	struct curl_slist *hdrs;
	char *path;	  /* path and query, without the version; owned */
	bool unversioned; /* /_ping */
	char *body;	  /* owned request body, or NULL */
	/* response */
	long status;
	bool headers_done;
	char *resp; /* body, NUL-terminated when finished */
	size_t resp_len, resp_cap;
	bool resp_too_large;
	char api_version[16]; /* API-Version header */
	char server[96];      /* Server header */
	/* hooks for streaming responses (attach, pull); NULL: buffer */
	size_t (*on_write)(struct dk_req *r, const char *buf, size_t len);
	void (*on_headers)(struct dk_req *r);
	/* completion */
	dk_finish finish;
	union {
		plat_done_cb done;
		plat_ping_cb ping;
		plat_create_cb create;
		plat_wait_cb wait;
		plat_inspect_cb inspect;
		plat_list_cb list;
	} cb;
	void *arg;
	void *ctx;	   /* operation's own state, borrowed */
	char *str;	   /* operation's own string, owned */
	bool flag;	   /* operation's own flag */
	bool stream_error; /* a streamed response reported an error */
	plat_progress_cb progress;
	struct plat_http_xfer *xfer; /* while with the transport */
	bool canceled;
	long timeout_ms;     /* kept while waiting for the version */
	struct dk_req *next; /* in the negotiation FIFO or the gate */
	bool limited;	     /* a create, start or removal: takes a place
			      * from when it goes out until it is done */
	char errbuf[CURL_ERROR_SIZE];
	char msg[512];
};

/*
 * A request for method ("GET", "POST", "PUT", "DELETE") on path (with its
 * query, already escaped). body is copied when body_len is not 0 or when
 * body is not NULL; a POST always sends a body (empty if NULL). NULL when
 * out of memory.
 */
struct dk_req *dk_req_new(struct plat_docker *d, const char *method, const char *path,
			  const char *body, size_t body_len, dk_finish finish);

/* The same, with a JSON body (not consumed) sent as application/json. */
struct dk_req *dk_req_new_json(struct plat_docker *d, const char *method, const char *path,
			       json_t *body, dk_finish finish);

/* Add a request header line ("Name: value"); 0 or PLAT_E_NOMEM. */
int dk_req_header(struct dk_req *r, const char *line);

/* Free a request that was never submitted. */
void dk_req_free(struct dk_req *r);

/*
 * Send (after negotiation if needed). On 0, finish runs exactly once,
 * later, and the request is freed after it; on error the caller still owns
 * the request. timeout_ms 0 means none.
 */
int dk_req_submit(struct dk_req *r, long timeout_ms);

/* Abort: finish runs with PLAT_E_CANCELED unless it already ran (for a
 * request still waiting for the version or a place: once its turn comes). */
void dk_req_cancel(struct dk_req *r);

/* Send what waits in the gate while places are free; once d is being
 * freed, fail all of it with PLAT_E_CANCELED. */
void dk_gate_release(struct plat_docker *d);

/* Fill err from an HTTP status and r's response (the engine's message). */
void dk_http_error(struct dk_req *r, struct plat_err *err, int code);

/* Escape one path segment or query value; free with curl_free(). */
char *dk_escape(const char *s);

/* "%s" formatting into a new string; NULL when out of memory. */
char *dk_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse r's response as JSON; NULL (and *err set) if it is not. */
json_t *dk_resp_json(struct dk_req *r, struct plat_err *err);

/* Pick the version to speak from the engine's: 0, or PLAT_E_UNSUPPORTED. */
int dk_choose_version(const char *server_version, char *out, size_t outsz);

/* Where the engine is, for messages: its socket path or base URL. */
const char *dk_where(const struct plat_docker *d);
/* Set d's socket path, or base URL and PEMs, from cfg->endpoint: 0 or a
 * PLAT_E_* (a TCP endpoint without all three PEMs: PLAT_E_INVAL). */
int dk_where_init(struct plat_docker *d, const struct plat_config *cfg);
/* Free them (the key wiped first). */
void dk_free_where(struct plat_docker *d);

/* Names put in paths unescaped: ids, container and volume names. */
bool dk_valid_name(const char *s);
/* Image references: [host[:port]/]path[:tag][@digest]. */
bool dk_valid_image(const char *s);
/* Submit r, or free it on failure (then nothing runs); r may be NULL. */
int dk_send(struct dk_req *r, long timeout_ms);
/* {"key": "value"...}; NULL for a NULL key or value, or no memory. */
json_t *dk_labels_json(const struct plat_label *labels, size_t n);

/* plat_create() (plat_docker_create.c), and the parts of it swarm shares. */
int dk_create(struct plat *p, const struct plat_spec *spec, plat_create_cb cb, void *arg);
/* 0 or PLAT_E_INVAL: root user, missing image or argv, overlapping mounts... */
int dk_check_spec(const struct plat_spec *s);
/* A JSON array of the strings of a NULL-terminated vector (NULL: []). */
json_t *dk_strv(const char *const *v);
/* {"Name", "Soft", "Hard"} with soft = hard = v. */
json_t *dk_ulimit(const char *name, int64_t v);
/* The uid and gid of a numeric "uid:gid" user, else the run user's. */
void dk_user_ids(const char *user, unsigned long *uid, unsigned long *gid);
/* /tmp as an anonymous tmpfs volume of the local driver: size and inodes. */
json_t *dk_tmp_volume_mount(const struct plat_spec *s);
/* The mount of the fresh workspace (spec->workspace must be set). */
json_t *dk_workspace_mount(const struct plat_spec *s);

/* Resource pools (plat_docker_cgroup.c): a valid spec.pool name; the
 * cgroup parent it maps to (0 or PLAT_E_TOO_LONG); its limits written
 * before a create: 0 written, 1 not this engine's or not writable here,
 * -1 a write failed (the old values stay). */
bool dk_valid_pool(const char *s);
int dk_cgroup_parent(const char *pool, char *out, size_t n);
int dk_cgroup_limits(const struct plat_docker *d, const struct plat_spec *s);

/* Attach operations (plat_docker_attach.c). */
int dk_attach(struct plat *p, const char *id, unsigned flags, const struct plat_attach_cbs *cbs,
	      void *arg, struct plat_attach **out);
int dk_write_stdin(struct plat_attach *a, const void *buf, size_t len, plat_done_cb cb, void *arg);
int dk_close_stdin(struct plat_attach *a);
void dk_pause(struct plat_attach *a);
void dk_resume(struct plat_attach *a);
void dk_detach(struct plat_attach *a);

/* GET /version and /info: plat_engine() (plat_docker_engine.c). */
int dk_engine(struct plat *p, plat_engine_cb cb, void *arg);

/* The backend's constructors (plat_docker.c). */
int plat_docker_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out);
int plat_podman_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out);

/*
 * The nproc limit (soft = hard) the "podman" platform gives every container.
 * Podman's compatible API sets RLIMIT_NPROC to 1048576 for a container that
 * asks for any ulimit but nproc (containers.conf's default_ulimits apply only
 * to a container that asks for none); where root cannot raise its hard
 * limit that high (this machine: 96362) every such container fails to
 * start ("error setting rlimit type 6"). Docker leaves nproc as dockerd's.
 * The pids limit (spec.pids_limit) is what bounds a run; this only has to
 * be under the host's hard limit and above what all runs of the run user
 * together use (RLIMIT_NPROC counts a uid's processes host-wide).
 */
#define DK_PODMAN_NPROC 32768

/*
 * For a backend built on this one (plat_swarm.c): its operations, and
 * setting up / tearing down a struct plat_docker the caller allocated
 * (zeroed, perhaps first in a bigger struct) with ops as its table.
 * dk_fini() cancels every request (their callbacks run) and frees what
 * dk_init() made, not d.
 */
extern const struct plat_ops plat_docker_ops;
int dk_init(struct plat_docker *d, uv_loop_t *loop, const struct plat_config *cfg,
	    const struct plat_ops *ops);
void dk_fini(struct plat_docker *d);

#endif
