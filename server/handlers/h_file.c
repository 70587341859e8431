/*
 * h_file.c - the files of a project: file/list, file/read, file/create,
 * file/rename, file/delete and file/save. Paths are checked here (paths.h)
 * and sizes against the in-memory settings, for an early answer; the
 * runit_file_* functions (sql/002_projects.sql) check access and the
 * limits again inside the transaction that writes, with the project row
 * locked. file/save applies only on the client's base_version (optimistic
 * concurrency): a stale save gets CONFLICT with the current version and
 * content, never a silent overwrite. Every answer comes after COMMIT.
 * A change is announced to the other sessions in the project's room as
 * file/changed. file/read's version param reads an earlier version
 * (sql/008_history.sql); the rest of a file's history is h_history.c.
 */
#include "handlers.h"
#include "dbbatch.h"
#include "dbcall.h"
#include "h_common.h"
#include "metrics.h"
#include "room.h"
#include "room_relay.h"
#include "rpc.h"
#include "settings.h"
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fop {
	struct hc_who who;
	const char *op; /* file/changed op: created, saved, renamed, deleted */
};

static struct fop *fop_new(struct rpc_call *c, long long project, const char *op)
{
	struct fop *f = calloc(1, sizeof(*f));

	if (!f) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return NULL;
	}
	hc_who(c, project, &f->who);
	f->op = op;
	return f;
}

/* Content param, checked against max_file_bytes. -1 after failing c. */
static int content_param(struct rpc_call *c, json_t *params, int required, const char **out)
{
	struct proto_error err;
	long long max = settings_get(c->srv)->max_file_bytes;
	json_t *v = json_object_get(params, "content");

	*out = "";
	if (json_is_string(v) && (long long)json_string_length(v) > max) {
		hc_fail_too_large(c, "max_file_bytes", max, (long long)json_string_length(v),
				  "the file is larger than the limit max_file_bytes");
		return -1;
	}
	if (proto_get_str(params, "content", required, (size_t)max, out, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (!*out)
		*out = "";
	return 0;
}

/* After a write: tell the room, then answer. */
static void written(void *arg, struct rpc_call *c, json_t *ok)
{
	struct fop *f = arg;
	json_t *note;

	if (!ok)
		goto out_free;
	if (!strcmp(f->op, "saved")) {
		const char *later = json_string_value(json_object_get(ok, "collab_notify"));

		metrics_file_saved();
		if (later) /* the save's transaction left it to us (sql/025_save_cpu.sql) */
			room_relay_notify_collab(c->srv, later);
		json_object_del(ok, "collab_notify");
	}
	if (!json_is_true(json_object_get(ok, "unchanged"))) {
		note = json_pack("{s:I, s:O, s:s, s:O, s:o}", "project", (json_int_t)f->who.project,
				 "path", json_object_get(ok, "path"), "op", f->op, "version",
				 json_object_get(ok, "version"), "by", hc_by(c));
		if (note && json_object_get(ok, "new_path"))
			json_object_set(note, "new_path", json_object_get(ok, "new_path"));
		if (note && json_object_get(ok, "size"))
			json_object_set(note, "size", json_object_get(ok, "size"));
		if (note)
			room_broadcast(c->srv, f->who.project, "file/changed", note, c->sess_id);
		json_decref(note);
	}
	rpc_reply(c, json_incref(ok));
out_free:
	free(f);
}

/* Send the statement with the caller, project and extra params; after it
 * (when op is not NULL) file/changed goes to the room. */
static void send_op(struct rpc_call *c, long long project, const char *op, const char *sql,
		    int nextra, const char *const *extra)
{
	struct fop *f = fop_new(c, project, op);
	const char *p[8];

	if (!f)
		return;
	p[0] = f->who.uid;
	p[1] = f->who.is_admin;
	p[2] = f->who.pid;
	for (int i = 0; i < nextra && i < 5; i++)
		p[3 + i] = extra[i];
	if (dbcall(c, sql, 3 + nextra, p, op ? written : NULL, op ? f : NULL)) {
		free(f);
		return;
	}
	if (!op)
		free(f);
}

static void h_file_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long project;

	if (hc_project_param(c, msg->params, "project", &project))
		return;
	send_op(c, project, NULL, "SELECT runit_file_list($1::bigint, $2::boolean, $3::bigint)", 0,
		NULL);
}

static void h_file_read(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long project;
	const char *path;

	struct proto_error err;
	long long version = 0;
	char vbuf[24];
	const char *x[2];

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &path))
		return;
	if (proto_get_int(msg->params, "version", 0, 1, PROTO_MAX_SAFE_INT, &version, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!version) {
		send_op(c, project, NULL,
			"SELECT runit_file_read($1::bigint, $2::boolean, $3::bigint, $4)", 1,
			&path);
		return;
	}
	/* a version given: the current one or a kept earlier one (h_history.c) */
	snprintf(vbuf, sizeof(vbuf), "%lld", version);
	x[0] = path;
	x[1] = vbuf;
	send_op(c, project, NULL,
		"SELECT runit_file_read_version($1::bigint, $2::boolean, $3::bigint, $4,"
		" $5::bigint)",
		2, x);
}

static void h_file_create(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long project;
	const char *x[2];

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &x[0]) || content_param(c, msg->params, 0, &x[1]))
		return;
	send_op(c, project, "created",
		"SELECT runit_file_create($1::bigint, $2::boolean, $3::bigint, $4, $5)", 2, x);
}

static void h_file_rename(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long project;
	const char *x[2];

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &x[0]) ||
	    hc_path_param(c, msg->params, "new_path", &x[1]))
		return;
	send_op(c, project, "renamed",
		"SELECT runit_file_rename($1::bigint, $2::boolean, $3::bigint, $4, $5)", 2, x);
}

static void h_file_delete(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long project;
	const char *path;

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &path))
		return;
	send_op(c, project, "deleted",
		"SELECT runit_file_delete($1::bigint, $2::boolean, $3::bigint, $4)", 1, &path);
}

/* file/save: alone while the database is idle, with the others waiting
 * when it is busy (dbbatch.h, sql/031_save_many.sql). */
static void h_file_save(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long project, base;
	char basebuf[24];
	const char *p[6];
	struct fop *f;

	if (hc_project_param(c, msg->params, "project", &project) ||
	    hc_path_param(c, msg->params, "path", &p[3]) || content_param(c, msg->params, 1, &p[4]))
		return;
	if (proto_get_int(msg->params, "base_version", 1, 1, PROTO_MAX_SAFE_INT, &base, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (!c->srv->saves &&
	    !(c->srv->saves = dbbatch_new(
		  c->srv,
		  "SELECT runit_file_save_announce_later($1::bigint, $2::boolean, $3::bigint, $4, "
		  "$5, $6::bigint)",
		  "SELECT runit_file_save_many($1::jsonb)", 6, c->srv->cfg.save_wait_ms))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	if (!(f = fop_new(c, project, "saved")))
		return;
	snprintf(basebuf, sizeof(basebuf), "%lld", base);
	p[0] = f->who.uid;
	p[1] = f->who.is_admin;
	p[2] = f->who.pid;
	p[5] = basebuf;
	if (dbbatch_call(c->srv->saves, c, p, written, f))
		free(f);
}

const struct proto_method file_methods[] = {
    {"file/list", PROTO_ROLE_ANON, h_file_list},
    {"file/read", PROTO_ROLE_ANON, h_file_read},
    {"file/create", PROTO_ROLE_USER, h_file_create},
    {"file/rename", PROTO_ROLE_USER, h_file_rename},
    {"file/delete", PROTO_ROLE_USER, h_file_delete},
    {"file/save", PROTO_ROLE_USER, h_file_save},
};
const size_t file_methods_count = sizeof(file_methods) / sizeof(file_methods[0]);
