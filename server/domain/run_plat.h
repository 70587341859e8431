/*
 * run_plat.h - which platform a run goes to. Platforms are rows in the
 * database, edited by admins; the default enabled one is read for every
 * run, so a change takes effect without a restart. Connections to the same
 * endpoint are shared. Falls back to RUNIT_DOCKER_HOST when no row exists.
 */
#ifndef RUNIT_RUN_PLAT_H
#define RUNIT_RUN_PLAT_H

#include "platform.h"

#include <jansson.h>

struct srv;

struct run_platform {
	long long id;	      /* platforms.id, 0 for the built-in fallback */
	struct plat *plat;    /* shared, owned by the registry */
	char oci_runtime[64]; /* "" for the engine's default */
	char name[64];
};

typedef void (*run_plat_cb)(void *arg, const struct run_platform *rp, const char *err);
/* Resolve the default platform and check it answers (ping). err is a
 * reason for the user when it does not. */
int run_plat_pick(struct srv *srv, run_plat_cb cb, void *arg);
/* The platform of an endpoint, created on first use. NULL on failure. */
struct plat *run_plat_get(struct srv *srv, const char *kind, const char *endpoint);
void run_plat_free_all(struct srv *srv);

/* Ping every enabled platform (the built-in one when no row is enabled)
 * every interval_ms, the first time at once, and again at once when an
 * admin changes a platform on this instance; a change of health is an
 * admin event (topic "platform", kind "up"/"down"). */
void run_plat_start_health(struct srv *srv, unsigned interval_ms);
/* A hook, set once at start-up (run_image.c): called at the end of every
 * health round with the platform new runs go to (NULL when it cannot be
 * made) and its platforms.id (0 for the built-in one). */
typedef void (*run_plat_round_fn)(struct srv *srv, struct plat *plat, long long platform_id);
void run_plat_on_round(struct srv *srv, run_plat_round_fn fn);
/* "up", "down" or "unknown" (not enabled, or no answer yet). */
const char *run_plat_health(struct srv *srv, long long platform_id);
/* 1 when an enabled platform answered its last ping: Run works. */
int run_plat_can_run(struct srv *srv);
/* The listed platform with this platforms.id (0: the built-in one): 0 and
 * *out filled, or -1 when it is not listed (disabled, deleted). */
int run_plat_by_id(struct srv *srv, long long id, struct run_platform *out);
/* The platforms of the last round (at most max), each with its health in
 * up[] (1 up, 0 down, -1 not known yet). Returns how many. */
size_t run_plat_list(struct srv *srv, struct run_platform *out, int *up, size_t max);
/* 1 when the last round found platform id down at this endpoint. */
int run_plat_down_at(struct srv *srv, long long id, const char *endpoint);
/* The engine failed in a way that says it is gone (a connection error):
 * down at once, not at the next round (a "platform" "down" event). */
void run_plat_mark_down(struct srv *srv, long long id, const char *why);
/* For /healthz: a new array of the enabled platforms of the last round,
 * [{name, health, default}], default marking where new runs go. */
json_t *run_plat_health_all(struct srv *srv);

#endif
