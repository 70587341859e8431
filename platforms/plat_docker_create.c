/*
 * plat_docker_create.c - POST /containers/create for the "docker" platform:
 * checking a struct plat_spec and turning it into the engine's container
 * definition, hardened as DESIGN.md section 3 point 4 asks (no capabilities,
 * no new privileges, no network, read-only root, size-capped /tmp, memory
 * with no extra swap, CPU, pids, nofile and fsize limits, no logs kept) and
 * with the fresh private workspace platform.h explains. With spec.tty the
 * container gets a pseudo-terminal (platform.h, A TERMINAL). With spec.pool
 * it goes under its pool's cgroup parent (plat_docker_cgroup.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_docker_int.h"

static bool dk_is_root(const char *user)
{
	size_t n = strcspn(user, ":");

	return (n == 4 && !strncmp(user, "root", 4)) || (n == 1 && user[0] == '0') || n == 0;
}

/* 1 if a and b are the same directory or one is inside the other. */
static bool dk_paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	n = la < lb ? la : lb;
	if (strncmp(a, b, n))
		return false;
	return la == lb || (la > lb ? a[n] : b[n]) == '/';
}

int dk_check_spec(const struct plat_spec *s)
{
	if (!s->image || !dk_valid_image(s->image) || !s->argv || !s->argv[0] || !s->user ||
	    dk_is_root(s->user))
		return PLAT_E_INVAL;
	if (s->name && !dk_valid_name(s->name))
		return PLAT_E_INVAL;
	if (s->workspace && (s->workspace[0] != '/' || !s->workspace[1]))
		return PLAT_E_INVAL;
	if (s->volume && (!dk_valid_name(s->volume) || !s->volume_path ||
			  s->volume_path[0] != '/' || !s->volume_path[1]))
		return PLAT_E_INVAL;
	if (s->volume && s->workspace && dk_paths_overlap(s->workspace, s->volume_path))
		return PLAT_E_INVAL;
	if (s->pool && !dk_valid_pool(s->pool))
		return PLAT_E_INVAL;
	if (s->memory_bytes > INT64_MAX || s->nano_cpus > INT64_MAX || s->tmp_bytes > INT64_MAX ||
	    s->workspace_bytes > INT64_MAX || s->workspace_inodes > UINT32_MAX ||
	    s->tmp_inodes > UINT32_MAX ||
	    ((s->workspace_bytes || s->workspace_inodes) && !s->workspace) || s->pids_limit < 0 ||
	    s->nofile < 0 || s->fsize_bytes < 0 || (s->nlabels && !s->labels))
		return PLAT_E_INVAL;
	return 0;
}

json_t *dk_strv(const char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *dk_ulimit(const char *name, int64_t v)
{
	return json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)v, "Hard",
			 (json_int_t)v);
}

/* The uid and gid of a numeric "uid:gid" user, else the run user's. */
void dk_user_ids(const char *user, unsigned long *uid, unsigned long *gid)
{
	char *end;

	*uid = PLAT_RUN_UID;
	*gid = PLAT_RUN_GID;
	if (user[0] < '0' || user[0] > '9')
		return;
	*uid = strtoul(user, &end, 10);
	*gid = *end == ':' && end[1] >= '0' && end[1] <= '9' ? strtoul(end + 1, NULL, 10) : *uid;
}

/*
 * The workspace: an anonymous volume that goes with the container. With a
 * size (or file) cap it is a tmpfs of the local driver, owned by the run
 * user: it holds nothing while it is not mounted, which is why the files go
 * in after start (platform.h, THE WORKSPACE DECISION).
 */
json_t *dk_workspace_mount(const struct plat_spec *s)
{
	char opt[160], size[40] = "", inodes[40] = "";
	unsigned long uid, gid;

	if (!s->workspace_bytes && !s->workspace_inodes)
		return json_pack("{s:s, s:s}", "Type", "volume", "Target", s->workspace);
	dk_user_ids(s->user, &uid, &gid);
	if (s->workspace_bytes)
		snprintf(size, sizeof(size), "size=%llu,", (unsigned long long)s->workspace_bytes);
	if (s->workspace_inodes)
		snprintf(inodes, sizeof(inodes), "nr_inodes=%llu,",
			 (unsigned long long)s->workspace_inodes);
	snprintf(opt, sizeof(opt), "%s%suid=%lu,gid=%lu,mode=0700,nosuid,nodev", size, inodes, uid,
		 gid);
	return json_pack("{s:s, s:s, s:{s:{s:s, s:{s:s, s:s, s:s}}}}", "Type", "volume", "Target",
			 s->workspace, "VolumeOptions", "DriverConfig", "Name", "local", "Options",
			 "type", "tmpfs", "device", "tmpfs", "o", opt);
}

json_t *dk_tmp_volume_mount(const struct plat_spec *s)
{
	char opt[160], inodes[40] = "";

	if (s->tmp_inodes)
		snprintf(inodes, sizeof(inodes), "nr_inodes=%llu,",
			 (unsigned long long)s->tmp_inodes);
	snprintf(opt, sizeof(opt), "size=%llu,%smode=1777,nosuid,nodev",
		 (unsigned long long)s->tmp_bytes, inodes);
	return json_pack("{s:s, s:s, s:{s:{s:s, s:{s:s, s:s, s:s}}}}", "Type", "volume", "Target",
			 "/tmp", "VolumeOptions", "DriverConfig", "Name", "local", "Options",
			 "type", "tmpfs", "device", "tmpfs", "o", opt);
}

/*
 * Podman 4.3's compatible API ignores the driver options of an anonymous
 * volume (the workspace would be a plain directory on the host's disk,
 * uncapped: found here) and its tmpfs mounts know neither uid nor
 * nr_inodes. So its capped workspace is a tmpfs mount chowned to the
 * container's user ("U"), capped in bytes only.
 */
static int dk_podman_workspace(const struct plat_spec *s, json_t *tmpfs)
{
	char opt[96] = "rw,exec,nosuid,nodev,mode=0700,U";

	if (s->workspace_bytes)
		snprintf(opt, sizeof(opt), "rw,exec,nosuid,nodev,mode=0700,U,size=%llu",
			 (unsigned long long)s->workspace_bytes);
	return json_object_set_new(tmpfs, s->workspace, json_string(opt));
}

/* The HostConfig: the hardening of DESIGN.md section 3, point 4. */
static json_t *dk_host_config(const struct plat_spec *s, bool podman)
{
	json_t *hc, *mounts, *ul, *tmpfs;
	int bad = 0;

	hc = json_pack("{s:s, s:b, s:[s], s:[s], s:s, s:b, s:b, s:b,"
		       " s:{s:s, s:{}}}",
		       "NetworkMode", s->network ? "default" : "none", "ReadonlyRootfs",
		       s->readonly_rootfs, "CapDrop", "ALL", "SecurityOpt", "no-new-privileges",
		       "IpcMode", "private", "Privileged", 0, "AutoRemove", 0, "Init", s->init,
		       /* attach reads the pipes, not logs: keep nothing */
		       "LogConfig", "Type", "none", "Config");
	mounts = json_array();
	ul = json_array();
	if (!hc || !mounts || !ul)
		goto out_fail;
	tmpfs = json_object();
	if (!tmpfs)
		goto out_fail;
	if (s->workspace && podman && (s->workspace_bytes || s->workspace_inodes))
		bad |= dk_podman_workspace(s, tmpfs);
	else if (s->workspace)
		bad |= json_array_append_new(mounts, dk_workspace_mount(s));
	if (s->volume)
		bad |= json_array_append_new(mounts, json_pack("{s:s, s:s, s:s}", "Type", "volume",
							       "Source", s->volume, "Target",
							       s->volume_path));
	if (s->nofile)
		bad |= json_array_append_new(ul, dk_ulimit("nofile", s->nofile));
	if (s->fsize_bytes)
		bad |= json_array_append_new(ul, dk_ulimit("fsize", s->fsize_bytes));
	if (podman)
		bad |= json_array_append_new(ul, dk_ulimit("nproc", DK_PODMAN_NPROC));
	if (s->tmp_bytes) {
		char opt[96];

		/* Podman's tmpfs knows no nr_inodes: docs/platforms/podman.md */
		if (s->tmp_inodes && !podman)
			snprintf(opt, sizeof(opt), "rw,exec,nosuid,nodev,size=%llu,nr_inodes=%llu",
				 (unsigned long long)s->tmp_bytes,
				 (unsigned long long)s->tmp_inodes);
		else
			snprintf(opt, sizeof(opt), "rw,exec,nosuid,nodev,size=%llu",
				 (unsigned long long)s->tmp_bytes);
		bad |= json_object_set_new(tmpfs, "/tmp", json_string(opt));
	}
	if (json_object_size(tmpfs))
		bad |= json_object_set_new(hc, "Tmpfs", tmpfs);
	else
		json_decref(tmpfs);
	if (s->memory_bytes) {
		bad |= json_object_set_new(hc, "Memory", json_integer((json_int_t)s->memory_bytes));
		bad |= json_object_set_new(hc, "MemorySwap",
					   json_integer((json_int_t)s->memory_bytes));
	}
	if (s->nano_cpus)
		bad |= json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)s->nano_cpus));
	if (s->pids_limit)
		bad |= json_object_set_new(hc, "PidsLimit", json_integer(s->pids_limit));
	if (s->runtime)
		bad |= json_object_set_new(hc, "Runtime", json_string(s->runtime));
	if (s->pool && !podman) { /* the owner's pool: plat_docker_cgroup.c */
		char parent[96];

		bad |= dk_cgroup_parent(s->pool, parent, sizeof(parent)) ||
		       json_object_set_new(hc, "CgroupParent", json_string(parent));
	}
	bad |= json_object_set_new(hc, "Mounts", mounts);
	bad |= json_object_set_new(hc, "Ulimits", ul);
	if (bad) {
		json_decref(hc);
		return NULL;
	}
	return hc;

out_fail:
	json_decref(hc);
	json_decref(mounts);
	json_decref(ul);
	return NULL;
}

static json_t *dk_create_body(const struct plat_spec *s, bool podman)
{
	json_t *body, *hc;
	int bad = 0;

	body = json_pack("{s:s, s:[s], s:b, s:b, s:b, s:b, s:b, s:b, s:s}", "Image", s->image,
			 "Entrypoint", s->argv[0], "Tty", s->tty, "OpenStdin", s->open_stdin,
			 "StdinOnce", s->open_stdin, "AttachStdin", s->open_stdin, "AttachStdout",
			 1, "AttachStderr", 1, "User", s->user);
	hc = dk_host_config(s, podman);
	if (!body || !hc) {
		json_decref(body);
		json_decref(hc);
		return NULL;
	}
	bad |= json_object_set_new(body, "HostConfig", hc);
	bad |= json_object_set_new(body, "Cmd", dk_strv(s->argv + 1));
	bad |= json_object_set_new(body, "Env", dk_strv(s->env));
	bad |= json_object_set_new(body, "Labels", dk_labels_json(s->labels, s->nlabels));
	if (s->workdir)
		bad |= json_object_set_new(body, "WorkingDir", json_string(s->workdir));
	/* No network: NetworkMode "none" alone still has the engine set up a
	 * network sandbox for the container (about 270 ms of its start here,
	 * and its teardown); disabled, the container gets a new network
	 * namespace with only lo (up), the same isolation. docs/decisions.md */
	if (!s->network)
		bad |= json_object_set_new(body, "NetworkDisabled", json_true());
	if (bad) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* Podman's compatible API runs an unknown HostConfig.Runtime with its own
 * default runtime, silently: found here with "runsc". Refuse instead. */
static void dk_no_runtime(struct dk_req *r, const struct plat_err *err)
{
	struct plat_err e = {PLAT_E_UNSUPPORTED, 0,
			     "the podman platform cannot choose an OCI runtime per container "
			     "(docs/platforms/podman.md)"};

	r->cb.create(r->arg, NULL, err && err->code == PLAT_E_CANCELED ? err : &e);
}

static void dk_create_finish(struct dk_req *r, const struct plat_err *err)
{
	struct plat_err e;
	json_t *j;
	const char *id;

	if (err) {
		r->cb.create(r->arg, NULL, err);
		return;
	}
	j = dk_resp_json(r, &e);
	id = json_string_value(json_object_get(j, "Id"));
	if (j && !id) {
		snprintf(r->msg, sizeof(r->msg), "no Id in the create answer");
		e = (struct plat_err){PLAT_E_PROTOCOL, (int)r->status, r->msg};
	}
	r->cb.create(r->arg, id, id ? NULL : &e);
	json_decref(j);
}

int dk_create(struct plat *p, const struct plat_spec *spec, plat_create_cb cb, void *arg)
{
	struct plat_docker *d = (struct plat_docker *)p;
	struct dk_req *r;
	json_t *body;
	char *path;
	int rc;

	if (!cb || !spec || (rc = dk_check_spec(spec)) < 0)
		return PLAT_E_INVAL;
	if (d->podman && spec->runtime) { /* fails later, as an answer */
		r = dk_req_new(d, "GET", "/_ping", NULL, 0, dk_no_runtime);
		if (r) {
			r->unversioned = true;
			r->cb.create = cb;
			r->arg = arg;
		}
		return dk_send(r, (long)d->op_timeout_ms);
	}
	body = dk_create_body(spec, d->podman);
	if (!body)
		return PLAT_E_INVAL; /* a NULL string or a bad label */
	/* the pool's limits, before its first container (best effort: the
	 * accounting of the pool holds without them) */
	(void)dk_cgroup_limits(d, spec);
	path = spec->name ? dk_strdup_printf("/containers/create?name=%s", spec->name)
			  : strdup("/containers/create");
	r = path ? dk_req_new_json(d, "POST", path, body, dk_create_finish) : NULL;
	free(path);
	json_decref(body);
	if (r) {
		r->cb.create = cb;
		r->arg = arg;
		r->limited = true;
	}
	return dk_send(r, (long)d->op_timeout_ms);
}
