/*
 * db_listen.c - LISTEN/NOTIFY for the pool (db_listen() in db.h). The
 * first subscription opens one extra connection, outside the pool's FIFO,
 * that only LISTENs; after every reconnect it LISTENs to every channel
 * again and tells each subscriber that notifications may have been missed.
 * It sits above db_conn.c, which calls back through p->hooks: the listener
 * is up (listener_ready), a notification came (notify).
 */
#include "db_int.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void listener_send(struct db_pool *p);

/* A channel name we can double-quote safely: [A-Za-z_][A-Za-z0-9_]{0,62}. */
static int channel_ok(const char *s)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789";
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 63 && strchr(alpha, s[0]) && strspn(s, alnum) == n;
}

/* Delivers one notification to the subscribers of its channel. */
static void on_notify(struct db_pool *p, const char *channel, const char *payload)
{
	struct db_sub *s;

	for (s = p->subs; s && !p->closing; s = s->next)
		if (strcmp(s->channel, channel) == 0)
			s->cb(s->arg, channel, payload);
}

static void on_listen_done(void *arg, PGresult *res, const char *err)
{
	struct db_conn *c = arg;
	struct db_pool *p = c->pool;
	struct db_sub *s;

	(void)res;
	if (p->closing)
		return;
	if (err) {
		if (c->state == DB_CONN_READY) /* an SQL error, not a lost connection */
			log_json(LOG_ERROR, "LISTEN failed", json_pack("{s:s}", "error", err));
		return;
	}
	if (p->listen_dirty) {
		listener_send(p);
		return;
	}
	if (c->reconnected) {
		/* notifications sent while we were away are lost: say so */
		c->reconnected = 0;
		for (s = p->subs; s && !p->closing; s = s->next)
			s->cb(s->arg, s->channel, NULL);
	}
}

/* LISTENs to every subscribed channel (again) on the listener connection. */
static void listener_send(struct db_pool *p)
{
	struct db_conn *c = p->listener;
	struct db_sub *s;
	size_t len = 1, off = 0;
	char *sql;

	if (!c || c->state != DB_CONN_READY)
		return;
	if (c->cur) {
		p->listen_dirty = 1;
		return;
	}
	p->listen_dirty = 0;
	for (s = p->subs; s; s = s->next)
		len += strlen(s->channel) + sizeof("LISTEN \"\";");
	sql = malloc(len);
	if (!sql) {
		db__conn_fail(c, "out of memory");
		return;
	}
	for (s = p->subs; s; s = s->next) {
		int n = snprintf(sql + off, len - off, "LISTEN \"%s\";", s->channel);

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	sql[off] = '\0';
	db__conn_internal(c, sql, on_listen_done, c);
	free(sql);
}

int db_listen(struct db_pool *p, const char *channel,
	      void (*cb)(void *arg, const char *channel, const char *payload), void *arg)
{
	struct db_sub *s;

	if (!p || p->closing || !cb || !channel_ok(channel))
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->channel = strdup(channel))) {
		free(s);
		return -1;
	}
	if (!p->listener) {
		p->listener = db__conn_new(p, 1);
		if (!p->listener) {
			free(s->channel);
			free(s);
			return -1;
		}
		p->hooks.listener_ready = listener_send;
		p->hooks.notify = on_notify;
	}
	s->cb = cb;
	s->arg = arg;
	s->next = p->subs;
	p->subs = s;
	if (p->listener->state == DB_CONN_READY)
		listener_send(p);
	else if (p->listener->state == DB_CONN_DOWN && !p->listener->pg &&
		 !uv_is_active((uv_handle_t *)&p->listener->timer))
		db__conn_connect(p->listener);
	return 0;
}
