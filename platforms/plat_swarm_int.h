/*
 * plat_swarm_int.h - what the files of the "swarm" backend share. Not for
 * use outside platforms/plat_swarm*.c.
 */
#ifndef RUNIT_PLAT_SWARM_INT_H
#define RUNIT_PLAT_SWARM_INT_H

#include <jansson.h>

#include "plat_docker_int.h"

/*
 * The files plat_start() puts into the workspace, in this order, to let the
 * program run: the reference dated 2 s after the epoch, then the marker
 * dated 1 s. The engine dates an entry last, after its owner and mode, so
 * the marker is older than the reference only once its extraction is
 * complete: a gate that removed it earlier made the engine's lchown fail.
 */
#define SW_START_REF ".run-it-swarm-ref"
#define SW_START_MARK ".run-it-swarm-start"

/* The start of the names of the volumes a service gets for its workspace
 * and /tmp: "runit-swarm-<32 hex>-ws" and "-tmp"; removed with it. */
#define SW_VOLUME_PREFIX "runit-swarm-"

/*
 * The service definition of spec (plat_swarm_spec.c): a replicated job
 * whose ContainerSpec.Image is still spec->image (the caller replaces it
 * with the image's id). NULL on a bad string or no memory.
 */
json_t *sw_service_json(const struct plat_spec *s);

/* Stdin through a FIFO the gate makes (plat_swarm_stdin.c): its name,
 * and the file holding the pid of the relay that writes into it. */
#define SW_STDIN_FIFO "/tmp/.run-it-stdin"
#define SW_STDIN_PID "/tmp/.run-it-stdin.pid"

/* The docker backend's stdin_closed hook: end the program's stdin. */
void sw_stdin_closed(struct plat_docker *d, const char *id);

/* The backend's constructor (plat_swarm.c). */
int plat_swarm_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out);

#endif
