/*
 * h_history.c - going back: file/history (a file's kept versions, newest
 * first, paged), file/restore (an earlier version of a file becomes its
 * next version) and project/restore (the project's files become those of
 * one of its runs' code snapshots; with preview true, only what would
 * change). file/read's version param is in h_file.c. The runit_* functions
 * of sql/008_history.sql check access and do the work in one transaction;
 * a restore is a save there (base version, limits, history), and each file
 * it changed is announced to the project's other sessions as file/changed.
 */
#include "handlers.h"
#include "dbcall.h"
#include "h_common.h"
#include "metrics.h"
#include "room.h"
#include "rpc.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most versions file/history returns at once. */
#define HIST_MAX_LIMIT 200
#define HIST_DEFAULT_LIMIT 50

struct restore {
	struct hc_who who;
	long long from; /* file/restore: the version restored; 0 for a run */
	long long run;	/* project/restore: the run */
};

/* Read an optional (required) positive integer param into buf. 0, or -1
 * after failing c. Absent and optional: buf is "" and *n 0. */
static int int_param(struct rpc_call *c, json_t *params, const char *key, int required,
		     long long max, long long *n, char *buf, size_t len)
{
	struct proto_error err;

	*n = 0;
	buf[0] = '\0';
	if (proto_get_int(params, key, required, 1, max, n, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (*n)
		snprintf(buf, len, "%lld", *n);
	return 0;
}

static void h_file_history(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct hc_who who;
	long long project, before, limit = HIST_DEFAULT_LIMIT;
	char bbuf[24], lbuf[24];
	const char *path, *p[6];
	struct proto_error err;

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &path) ||
	    int_param(c, msg->params, "before", 0, PROTO_MAX_SAFE_INT, &before, bbuf, sizeof(bbuf)))
		return;
	if (proto_get_int(msg->params, "limit", 0, 1, HIST_MAX_LIMIT, &limit, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	snprintf(lbuf, sizeof(lbuf), "%lld", limit);
	hc_who(c, project, &who);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = who.pid;
	p[3] = path;
	p[4] = before ? bbuf : NULL;
	p[5] = lbuf;
	dbcall(c,
	       "SELECT runit_file_history($1::bigint, $2::boolean, $3::bigint, $4, $5::bigint,"
	       " $6::integer)",
	       6, p, NULL, NULL);
}

/* file/changed for one file of ok's, to the room but the caller. */
static void announce(struct rpc_call *c, struct restore *r, json_t *file)
{
	json_t *note;

	note = json_pack("{s:I, s:O, s:O, s:O, s:o}", "project", (json_int_t)r->who.project, "path",
			 json_object_get(file, "path"), "op", json_object_get(file, "op"),
			 "version", json_object_get(file, "version"), "by", hc_by(c));
	if (!note)
		return;
	if (json_object_get(file, "size"))
		json_object_set(note, "size", json_object_get(file, "size"));
	if (r->from)
		json_object_set_new(note, "restored_from", json_integer(r->from));
	if (r->run)
		json_object_set_new(note, "run", json_integer(r->run));
	room_broadcast(c->srv, r->who.project, "file/changed", note, c->sess_id);
	json_decref(note);
}

static void restored(void *arg, struct rpc_call *c, json_t *ok)
{
	struct restore *r = arg;
	json_t *files, *f;
	size_t i;

	if (!ok)
		goto out_free;
	if (r->run) { /* project/restore: every file it changed */
		files = json_object_get(ok, "files");
		json_array_foreach(files, i, f)
		{
			const char *op = json_string_value(json_object_get(f, "op"));

			if (op && !strcmp(op, "saved"))
				metrics_file_saved();
			announce(c, r, f);
		}
	} else if (!json_is_true(json_object_get(ok, "unchanged"))) {
		metrics_file_saved();
		f = json_pack("{s:O, s:s, s:O, s:O}", "path", json_object_get(ok, "path"), "op",
			      "saved", "version", json_object_get(ok, "version"), "size",
			      json_object_get(ok, "size"));
		if (f)
			announce(c, r, f);
		json_decref(f);
	}
	rpc_reply(c, json_incref(ok));
out_free:
	free(r);
}

static struct restore *restore_new(struct rpc_call *c, long long project)
{
	struct restore *r = calloc(1, sizeof(*r));

	if (!r) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return NULL;
	}
	hc_who(c, project, &r->who);
	return r;
}

static void h_file_restore(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct restore *r;
	long long project, version, base;
	char vbuf[24], bbuf[24];
	const char *path, *p[6];

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &path) ||
	    int_param(c, msg->params, "version", 1, PROTO_MAX_SAFE_INT, &version, vbuf,
		      sizeof(vbuf)) ||
	    int_param(c, msg->params, "base_version", 1, PROTO_MAX_SAFE_INT, &base, bbuf,
		      sizeof(bbuf)))
		return;
	if (!(r = restore_new(c, project)))
		return;
	r->from = version;
	p[0] = r->who.uid;
	p[1] = r->who.is_admin;
	p[2] = r->who.pid;
	p[3] = path;
	p[4] = vbuf;
	p[5] = bbuf;
	if (dbcall(c,
		   "SELECT runit_file_restore($1::bigint, $2::boolean, $3::bigint, $4, $5::bigint,"
		   " $6::bigint)",
		   6, p, restored, r))
		free(r);
}

/* base_versions: {path: version}, every value a positive integer. The
 * database compares it with the project as a whole; no path check here. */
static int base_versions_param(struct rpc_call *c, json_t *params, int required, char **out)
{
	struct proto_error err;
	json_t *obj, *v;
	const char *k;

	*out = NULL;
	if (proto_get_obj(params, "base_versions", required, &obj, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (!obj)
		return 0;
	json_object_foreach(obj, k, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			rpc_fail(c, PROTO_R_INVALID_PARAMS,
				 "base_versions is an object {path: version}, each version a "
				 "positive integer",
				 NULL);
			return -1;
		}
	}
	if (!(*out = json_dumps(obj, JSON_COMPACT))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return -1;
	}
	return 0;
}

static void h_project_restore(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct restore *r;
	long long project, run;
	int preview = 0;
	char rbuf[24], *base = NULL;
	const char *p[6];

	if (hc_project_param(c, msg->params, "project", &project) ||
	    int_param(c, msg->params, "run", 1, PROTO_MAX_SAFE_INT, &run, rbuf, sizeof(rbuf)))
		return;
	if (proto_get_bool(msg->params, "preview", 0, &preview, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (base_versions_param(c, msg->params, !preview, &base))
		return;
	if (!(r = restore_new(c, project)))
		goto out_free_base;
	r->run = run;
	p[0] = r->who.uid;
	p[1] = r->who.is_admin;
	p[2] = r->who.pid;
	p[3] = rbuf;
	p[4] = base;
	p[5] = preview ? "false" : "true";
	if (dbcall(c,
		   "SELECT runit_project_restore($1::bigint, $2::boolean, $3::bigint, $4::bigint,"
		   " $5::jsonb, $6::boolean)",
		   6, p, preview ? NULL : restored, preview ? NULL : r) ||
	    preview)
		free(r);
out_free_base:
	free(base);
}

const struct proto_method history_methods[] = {
    {"file/history", PROTO_ROLE_USER, h_file_history},
    {"file/restore", PROTO_ROLE_USER, h_file_restore},
    {"project/restore", PROTO_ROLE_USER, h_project_restore},
};
const size_t history_methods_count = sizeof(history_methods) / sizeof(history_methods[0]);
