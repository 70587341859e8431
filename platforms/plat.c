/*
 * plat.c - choosing a backend by name (plat_new): the table of backends.
 * It sits above them; what they share sits below them (plat_err.c).
 */
#include <string.h>

#include "plat_docker_int.h"
#include "plat_swarm_int.h"
#include "platform.h"

/* The backends, by the name a platform row in the database gives. */
static const struct {
	const char *name;
	int (*make)(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out);
} plat_backends[] = {
    {"docker", plat_docker_new},
    {"podman", plat_podman_new}, /* its Docker-compatible socket */
    {"swarm", plat_swarm_new},	 /* a manager's Engine API: replicated jobs */
};

int plat_new(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out)
{
	const char *name = cfg && cfg->backend ? cfg->backend : "docker";
	struct plat_config none = {0};

	*out = NULL;
	if (!loop)
		return PLAT_E_INVAL;
	for (size_t i = 0; i < sizeof(plat_backends) / sizeof(plat_backends[0]); i++)
		if (!strcmp(plat_backends[i].name, name))
			return plat_backends[i].make(loop, cfg ? cfg : &none, out);
	return PLAT_E_UNSUPPORTED;
}
