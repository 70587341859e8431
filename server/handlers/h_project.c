/*
 * h_project.c - projects: project/create, list, get, update, delete, fork,
 * open, close, members, share (collaborators) and the public gallery
 * (gallery/list). project/get, open and close, like gallery/list, work for
 * a session that has not signed in: the access rule (user id 0) then gives
 * it a public project's files read-only and NOT_FOUND for any other. Each
 * method checks its
 * params here and does its work in one statement (the runit_project_*
 * functions of sql/002_projects.sql apply the access rule of access.h in
 * the same transaction). project/open puts the session in the project's
 * room (room.h), where file/changed and project/changed are broadcast.
 */
#include "handlers.h"
#include "access.h"
#include "access_watch.h"
#include "audit.h"
#include "dbcall.h"
#include "h_common.h"
#include "room.h"
#include "presence.h"
#include "rpc.h"
#include "sess.h"
#include "srv.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns of a project summary (list, gallery); p, u, r are projects,
 * users, runtimes. */
#define SUMMARY_SQL                                                                                \
	"jsonb_build_object('id', p.id, 'name', p.name, 'description', p.description,"             \
	" 'is_public', p.is_public, 'forked_from', p.forked_from,"                                 \
	" 'owner', jsonb_build_object('id', u.id, 'username', u.username),"                        \
	" 'runtime', jsonb_build_object('code', r.code, 'name', r.name,"                           \
	"   'language', r.language, 'version', r.version, 'enabled', r.enabled),"                  \
	" 'created_at', p.created_at, 'updated_at', p.updated_at)"

#define GALLERY_MAX_LIMIT 100
#define GALLERY_MAX_PAGE 10000

/* What a handler remembers for after the statement. */
struct pj {
	struct hc_who who;
	int join;   /* project/open: join the room */
	int notify; /* broadcast project/changed with this op */
	const char *op;
	long long limit;
};

static struct pj *pj_new(struct rpc_call *c, long long project)
{
	struct pj *x = calloc(1, sizeof(*x));

	if (!x) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return NULL;
	}
	hc_who(c, project, &x->who);
	return x;
}

/*
 * Read a project name param: 0 with *out set (NULL when optional and
 * absent), or -1 after failing c. A name over 100 characters is TOO_LARGE.
 */
static int name_param(struct rpc_call *c, json_t *params, const char *key, int required,
		      const char **out)
{
	struct proto_error err;
	const char *s = NULL, *why;
	size_t len, chars;

	*out = NULL;
	if (proto_get_str(params, key, required, 1 << 20, &s, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (!s)
		return 0;
	len = strlen(s);
	chars = validate_utf8_chars(s, len);
	if (chars > VALIDATE_NAME_MAX_CHARS) {
		hc_fail_too_large(c, "name_chars", VALIDATE_NAME_MAX_CHARS, (long long)chars,
				  "the name is longer than 100 characters");
		return -1;
	}
	if ((why = validate_project_name(s, len))) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS, why, json_pack("{s:s}", "param", key));
		return -1;
	}
	*out = s;
	return 0;
}

static int desc_param(struct rpc_call *c, json_t *params, const char **out)
{
	struct proto_error err;
	size_t chars;

	*out = NULL;
	if (proto_get_str(params, "description", 0, 1 << 20, out, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (*out && (chars = validate_utf8_chars(*out, strlen(*out))) > VALIDATE_DESC_MAX_CHARS) {
		hc_fail_too_large(c, "description_chars", VALIDATE_DESC_MAX_CHARS, (long long)chars,
				  "the description is longer than 2000 characters");
		return -1;
	}
	return 0;
}

/* Optional boolean as SQL text: NULL when absent. -1 after failing c. */
static int bool_param(struct rpc_call *c, json_t *params, const char *key, const char **out)
{
	struct proto_error err;
	int v = -1;

	*out = NULL;
	if (proto_get_bool(params, key, 0, &v, &err)) {
		rpc_fail_err(c, &err);
		return -1;
	}
	if (v >= 0)
		*out = v ? "true" : "false";
	return 0;
}

/* ---- project/create ---- */

static void h_project_create(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	struct hc_who who;
	const char *name, *runtime = NULL, *desc, *pub, *p[6];

	if (name_param(c, msg->params, "name", 1, &name) || desc_param(c, msg->params, &desc) ||
	    bool_param(c, msg->params, "is_public", &pub))
		return;
	if (proto_get_str(msg->params, "runtime", 1, 64, &runtime, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	hc_who(c, 0, &who);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = name;
	p[3] = runtime;
	p[4] = desc;
	p[5] = pub;
	dbcall(c, "SELECT runit_project_create($1::bigint, $2::boolean, $3, $4, $5, $6::boolean)",
	       6, p, NULL, NULL);
}

/* ---- project/list ---- */

static void h_project_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct hc_who who;
	const char *p[1];

	hc_who(c, 0, &who);
	p[0] = who.uid;
	dbcall(c,
	       "SELECT runit_ok(jsonb_build_object('projects', coalesce(jsonb_agg(x.j"
	       " ORDER BY x.updated_at DESC, x.id DESC), '[]'::jsonb))) FROM ("
	       " SELECT " SUMMARY_SQL " || jsonb_build_object('access',"
	       "   CASE WHEN p.owner_id = $1::bigint THEN 'owner' ELSE m.role END) AS j,"
	       "  p.updated_at, p.id"
	       " FROM projects p JOIN users u ON u.id = p.owner_id"
	       " JOIN runtimes r ON r.id = p.runtime_id"
	       " LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = $1::bigint"
	       /* by the two indexes: an OR over the join read every project */
	       " WHERE p.id IN (SELECT o.id FROM projects o WHERE o.owner_id = $1::bigint"
	       "  UNION SELECT s.project_id FROM project_members s WHERE s.user_id = $1::bigint)"
	       " ORDER BY p.updated_at DESC, p.id DESC LIMIT 1000) x",
	       1, p, NULL, NULL);
}

/* ---- project/get, project/open ---- */

static void opened(void *arg, struct rpc_call *c, json_t *ok)
{
	struct pj *x = arg;
	struct sess *s;
	int rc;

	if (!ok)
		goto out_free;
	s = rpc_sess(c);
	if (x->join && s) {
		/* project/open is repeated by clients (a poll): announce only a new member */
		int was_member = room_is_member(c->srv, x->who.project, s->id);

		rc = room_join(c->srv, x->who.project, s,
			       access_sees_runs(json_string_value(json_object_get(ok, "access")))
				   ? ROOM_SEES_RUNS
				   : 0);
		if (rc) {
			rpc_fail(c, rc == -2 ? PROTO_R_TOO_LARGE : PROTO_R_INTERNAL,
				 rc == -2 ? "this session has too many projects open"
					  : "out of memory",
				 rc == -2 ? json_pack("{s:s, s:i}", "limit", "open_projects", "max",
						      ROOM_MAX_PER_SESS)
					  : NULL);
			goto out_free;
		}
		json_object_set_new(
		    ok, "watchers",
		    json_integer((json_int_t)room_members(c->srv, x->who.project, NULL, 0)));
		if (!was_member)
			presence_joined(c->srv, x->who.project, s);
	}
	rpc_reply(c, json_incref(ok));
out_free:
	free(x);
}

static void get_or_open(struct rpc_call *c, json_t *params, int join)
{
	struct sess *s;
	long long id;
	struct pj *x;
	const char *p[3];

	if (hc_project_param(c, params, "id", &id))
		return;
	/* joining tells every member (presence.h); opening again does not */
	if (join && (s = rpc_sess(c)) && !room_is_member(c->srv, id, s->id) && presence_spend(s)) {
		rpc_fail(c, PROTO_R_RATE_LIMITED, "opening projects too fast; wait a moment",
			 json_pack("{s:i}", "retry_after_s", 1));
		return;
	}
	if (!(x = pj_new(c, id)))
		return;
	x->join = join;
	p[0] = x->who.uid;
	p[1] = x->who.is_admin;
	p[2] = x->who.pid;
	if (dbcall(c, "SELECT runit_project_get($1::bigint, $2::boolean, $3::bigint)", 3, p, opened,
		   x))
		free(x);
}

static void h_project_get(void *ctx, struct proto_msg *msg)
{
	get_or_open(ctx, msg->params, 0);
}

static void h_project_open(void *ctx, struct proto_msg *msg)
{
	get_or_open(ctx, msg->params, 1);
}

/* The others hear of it only if it was there: a close costs every member
 * a frame, and the other instances a NOTIFY. */
static void leave_room(struct srv *srv, long long id, uint64_t sid)
{
	if (!room_is_member(srv, id, sid))
		return;
	room_leave(srv, id, sid);
	presence_left(srv, id, sid);
}

static void h_project_close(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;

	if (hc_project_param(c, msg->params, "id", &id))
		return;
	leave_room(c->srv, id, c->sess_id);
	rpc_reply(c, json_object());
}

/* ---- project/update, project/delete, project/share: access may shrink ---- */

struct after_check {
	struct rpc_call *c;
	json_t *result;
};

static void access_checked(void *arg)
{
	struct after_check *a = arg;

	rpc_reply(a->c, a->result);
	free(a);
}

/* Reply with result (borrowed) once the project's watchers have been
 * checked again (access_watch.h): the caller's next request meets the new
 * access on this instance; the others hear of it from the database. */
static void reply_after_access_check(struct rpc_call *c, long long project, json_t *result)
{
	struct after_check *a = malloc(sizeof(*a));

	if (!a) {
		rpc_reply(c, json_incref(result));
		return;
	}
	a->c = c;
	a->result = json_incref(result);
	access_watch_check(c->srv, project, access_checked, a);
}

static void changed(void *arg, struct rpc_call *c, json_t *ok)
{
	struct pj *x = arg;
	json_t *note;
	long long owner;

	if (!ok)
		goto out_free;
	owner = json_integer_value(json_object_get(ok, "owner_id"));
	if (!owner)
		owner = json_integer_value(json_object_get(json_object_get(ok, "owner"), "id"));
	if (c->role >= PROTO_ROLE_ADMIN && owner != c->user_id) {
		char target[40];
		snprintf(target, sizeof(target), "project:%lld", x->who.project);
		audit(c->srv, c->user_id,
		      !strcmp(x->op, "deleted") ? "project.delete" : "project.update", target,
		      json_pack("{s:I}", "owner_id", (json_int_t)owner), c->ip);
	}
	note = json_pack("{s:I, s:s, s:o}", "project", (json_int_t)x->who.project, "op", x->op,
			 "by", hc_by(c));
	if (!strcmp(x->op, "updated")) {
		static const char *const keys[] = {"name", "description", "is_public",
						   "public_runs"};
		for (size_t i = 0; i < 4; i++)
			json_object_set(note, keys[i], json_object_get(ok, keys[i]));
	}
	room_broadcast(c->srv, x->who.project, "project/changed", note, c->sess_id);
	json_decref(note);
	if (!strcmp(x->op, "deleted"))
		room_drop(c->srv, x->who.project);
	reply_after_access_check(c, x->who.project, ok);
out_free:
	free(x);
}

static void h_project_update(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;
	struct pj *x;
	const char *name, *desc, *pub, *runs, *p[7];

	if (hc_project_param(c, msg->params, "id", &id) ||
	    name_param(c, msg->params, "name", 0, &name) || desc_param(c, msg->params, &desc) ||
	    bool_param(c, msg->params, "is_public", &pub) ||
	    bool_param(c, msg->params, "public_runs", &runs) || !(x = pj_new(c, id)))
		return;
	x->op = "updated";
	p[0] = x->who.uid;
	p[1] = x->who.is_admin;
	p[2] = x->who.pid;
	p[3] = name;
	p[4] = desc;
	p[5] = pub;
	p[6] = runs;
	if (dbcall(c,
		   "SELECT runit_project_update($1::bigint, $2::boolean, $3::bigint, $4, $5,"
		   " $6::boolean, $7::boolean)",
		   7, p, changed, x))
		free(x);
}

static void h_project_delete(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;
	struct pj *x;
	const char *p[3];

	if (hc_project_param(c, msg->params, "id", &id) || !(x = pj_new(c, id)))
		return;
	x->op = "deleted";
	p[0] = x->who.uid;
	p[1] = x->who.is_admin;
	p[2] = x->who.pid;
	if (dbcall(c, "SELECT runit_project_delete($1::bigint, $2::boolean, $3::bigint)", 3, p,
		   changed, x))
		free(x);
}

/* ---- project/fork ---- */

static void h_project_fork(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;
	struct hc_who who;
	const char *name, *p[4];

	if (hc_project_param(c, msg->params, "id", &id) ||
	    name_param(c, msg->params, "name", 0, &name))
		return;
	hc_who(c, id, &who);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = who.pid;
	p[3] = name;
	dbcall(c, "SELECT runit_project_fork($1::bigint, $2::boolean, $3::bigint, $4)", 4, p, NULL,
	       NULL);
}

/* ---- project/members, project/share ---- */

static void h_project_members(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	long long id;
	struct hc_who who;
	const char *p[3];

	if (hc_project_param(c, msg->params, "id", &id))
		return;
	hc_who(c, id, &who);
	p[0] = who.uid;
	p[1] = who.is_admin;
	p[2] = who.pid;
	dbcall(c, "SELECT runit_project_members($1::bigint, $2::boolean, $3::bigint)", 3, p, NULL,
	       NULL);
}

static void shared(void *arg, struct rpc_call *c, json_t *ok)
{
	struct pj *x = arg;

	if (ok)
		reply_after_access_check(c, x->who.project, ok);
	free(x);
}

static void h_project_share(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long id;
	struct pj *x;
	const char *user = NULL, *role = NULL, *p[5];

	if (hc_project_param(c, msg->params, "id", &id))
		return;
	if (proto_get_str(msg->params, "username", 1, 64, &user, &err) ||
	    proto_get_str(msg->params, "role", 0, 16, &role, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (role && strcmp(role, "editor") && strcmp(role, "viewer")) {
		rpc_fail(c, PROTO_R_INVALID_PARAMS,
			 "param \"role\" is \"editor\", \"viewer\" or null (remove)", NULL);
		return;
	}
	if (!(x = pj_new(c, id)))
		return;
	p[0] = x->who.uid;
	p[1] = x->who.is_admin;
	p[2] = x->who.pid;
	p[3] = user;
	p[4] = role;
	if (dbcall(c, "SELECT runit_project_share($1::bigint, $2::boolean, $3::bigint, $4, $5)", 5,
		   p, shared, x))
		free(x);
}

/* ---- gallery/list ---- */

/* The statement fetched limit + 1 items, each with a _cursor: drop the
 * extra one and turn it into next_cursor. */
static void gallery_done(void *arg, struct rpc_call *c, json_t *ok)
{
	struct pj *x = arg;
	json_t *items, *next = json_null(), *it;
	size_t i;

	if (!ok)
		goto out_free;
	items = json_object_get(ok, "projects");
	if ((long long)json_array_size(items) > x->limit) {
		json_array_remove(items, json_array_size(items) - 1);
		next = json_incref(
		    json_object_get(json_array_get(items, json_array_size(items) - 1), "_cursor"));
	}
	json_array_foreach(items, i, it) json_object_del(it, "_cursor");
	json_object_set_new(ok, "next_cursor", next);
	rpc_reply(c, json_incref(ok));
out_free:
	free(x);
}

/* q as an ILIKE pattern: %q% with %, _ and \ escaped. NULL on no memory. */
static char *like_pattern(const char *q)
{
	size_t n = strlen(q), o = 0;
	char *out = malloc(2 * n + 3);

	if (!out)
		return NULL;
	out[o++] = '%';
	for (size_t i = 0; i < n; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
			out[o++] = '\\';
		out[o++] = q[i];
	}
	out[o++] = '%';
	out[o] = '\0';
	return out;
}

static void h_gallery_list(void *ctx, struct proto_msg *msg)
{
	struct rpc_call *c = ctx;
	struct proto_error err;
	long long limit = 20, page = 1, cursor_id = 0;
	const char *lang = NULL, *q = NULL, *cursor = NULL, *p[6];
	char lim[24], off[24], cid[24], ts[64], *pat = NULL;
	struct pj *x;

	if (proto_get_int(msg->params, "limit", 0, 1, GALLERY_MAX_LIMIT, &limit, &err) ||
	    proto_get_int(msg->params, "page", 0, 1, GALLERY_MAX_PAGE, &page, &err) ||
	    proto_get_str(msg->params, "language", 0, 50, &lang, &err) ||
	    proto_get_str(msg->params, "q", 0, 400, &q, &err) ||
	    proto_get_str(msg->params, "cursor", 0, 100, &cursor, &err)) {
		rpc_fail_err(c, &err);
		return;
	}
	if (cursor) {
		const char *comma = strrchr(cursor, ',');
		char *end;
		if (!comma || comma == cursor || (size_t)(comma - cursor) >= sizeof(ts) ||
		    (cursor_id = strtoll(comma + 1, &end, 10)) <= 0 || *end) {
			rpc_fail(c, PROTO_R_INVALID_PARAMS,
				 "param \"cursor\" is not a cursor from gallery/list", NULL);
			return;
		}
		snprintf(ts, sizeof(ts), "%.*s", (int)(comma - cursor), cursor);
		page = 1;
	}
	if (q && *q && !(pat = like_pattern(q))) {
		rpc_fail(c, PROTO_R_INTERNAL, "out of memory", NULL);
		return;
	}
	if (!(x = pj_new(c, 0))) {
		free(pat);
		return;
	}
	x->limit = limit;
	snprintf(lim, sizeof(lim), "%lld", limit + 1);
	snprintf(off, sizeof(off), "%lld", (page - 1) * limit);
	snprintf(cid, sizeof(cid), "%lld", cursor_id);
	p[0] = lang && *lang ? lang : NULL;
	p[1] = pat;
	p[2] = cursor ? ts : NULL;
	p[3] = cursor ? cid : NULL;
	p[4] = lim;
	p[5] = off;
	if (dbcall(c,
		   "SELECT runit_ok(jsonb_build_object('projects', coalesce(jsonb_agg(x.j"
		   " ORDER BY x.created_at DESC, x.id DESC), '[]'::jsonb))) FROM ("
		   " SELECT " SUMMARY_SQL " || jsonb_build_object('_cursor',"
		   "   p.created_at::text || ',' || p.id) AS j, p.created_at, p.id"
		   " FROM projects p JOIN users u ON u.id = p.owner_id"
		   " JOIN runtimes r ON r.id = p.runtime_id"
		   " WHERE p.is_public AND ($1::text IS NULL OR r.language = $1)"
		   " AND ($2::text IS NULL OR p.name ILIKE $2)"
		   " AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3::timestamptz, "
		   "$4::bigint))"
		   " ORDER BY p.created_at DESC, p.id DESC LIMIT $5::bigint OFFSET $6::bigint) x",
		   6, p, gallery_done, x))
		free(x);
	free(pat);
}

const struct proto_method project_methods[] = {
    {"project/create", PROTO_ROLE_USER, h_project_create},
    {"project/list", PROTO_ROLE_USER, h_project_list},
    {"project/get", PROTO_ROLE_ANON, h_project_get},
    {"project/update", PROTO_ROLE_USER, h_project_update},
    {"project/delete", PROTO_ROLE_USER, h_project_delete},
    {"project/fork", PROTO_ROLE_USER, h_project_fork},
    {"project/open", PROTO_ROLE_ANON, h_project_open},
    {"project/close", PROTO_ROLE_ANON, h_project_close},
    {"project/members", PROTO_ROLE_USER, h_project_members},
    {"project/share", PROTO_ROLE_USER, h_project_share},
    {"gallery/list", PROTO_ROLE_ANON, h_gallery_list},
};
const size_t project_methods_count = sizeof(project_methods) / sizeof(project_methods[0]);
