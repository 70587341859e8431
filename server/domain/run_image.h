/*
 * run_image.h - which runtime images the platform new runs go to has, so
 * that nothing is offered that cannot run; and the admins' way to get a
 * missing one (build it from its recipe, or pull it).
 *
 * The images named by the enabled runtimes are looked up on every engine
 * that is up (an image inspect each, never a pull; an image is present when
 * one of them has it, missing when all that answered lack it: README
 * "Several engines") at every platform health round
 * (run_plat.c calls in through a hook), at once when an admin changes a
 * runtime here, and after a build or pull. runtime/list reads the answer;
 * run/start asks again before it refuses (IMAGE_MISSING), so an image made
 * by hand meanwhile is found. A change of state, and the progress of a
 * build or pull, are bus events (topic "image") that admins see live.
 *
 * A build runs `images/build --tag TAG NAME` for an image
 * runit/NAME:TAG as a child process (libuv), its output lines published
 * as they come; a pull is the platform's own (Engine API image create).
 * One build at a time (they are heavy); one job per image.
 */
#ifndef RUNIT_RUN_IMAGE_H
#define RUNIT_RUN_IMAGE_H

#include <jansson.h>
#include <stddef.h>

struct srv;
struct plat;

enum run_image_state {
	RUN_IMAGE_UNKNOWN = -1, /* not checked yet, or the platform did not answer */
	RUN_IMAGE_MISSING = 0,
	RUN_IMAGE_PRESENT = 1,
};

/* Set up (the health round hook, the runtime change subscription). */
int run_image_init(struct srv *srv);
/* Server stopping: a running build is ended (SIGKILL to its process group). */
void run_image_shutdown(struct srv *srv);
/* After the platforms are freed (their canceled callbacks ran): free. */
void run_image_release(struct srv *srv);

/* The state of image on the platform new runs go to, as last checked. */
enum run_image_state run_image_state(struct srv *srv, const char *image);
/* "present", "missing" or "unknown". */
const char *run_image_state_name(enum run_image_state st);

/*
 * A new array for the admins: [{image, state, job}] where job is null or
 * {op: "build"|"pull", by, age_ms, lines: [last lines]}.
 */
json_t *run_image_all(struct srv *srv);

typedef void (*run_image_cb)(void *arg, enum run_image_state st);
/*
 * run/start: is image on plat? Returns 1 when it was found there at the
 * last check (cb is not called), 0 when it is being looked up now (cb runs
 * later, exactly once; RUN_IMAGE_UNKNOWN when the platform did not say),
 * negative on failure (cb never runs).
 */
int run_image_check(struct srv *srv, struct plat *plat, const char *image, run_image_cb cb,
		    void *arg);
/* The platform said image is not there (a create failed): remember it. */
void run_image_gone(struct srv *srv, struct plat *plat, const char *image);

/*
 * Start a build (images/build for runit/NAME:TAG) or a pull of image on the
 * platform new runs go to. 0 when started (progress and the end are bus
 * events); else negative with a reason code name ("INVALID_PARAMS",
 * "CONFLICT", "PLATFORM_UNAVAILABLE", "INTERNAL") and a message in why.
 */
int run_image_build(struct srv *srv, const char *image, long long by, const char **reason,
		    char *why, size_t n);
int run_image_pull(struct srv *srv, const char *image, long long by, const char **reason, char *why,
		   size_t n);

#endif
