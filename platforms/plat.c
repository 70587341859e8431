/*
 * plat.c - what all platforms share: choosing a backend by name
 * (plat_new) and the descriptions of the PLAT_E_* codes.
 */
#include <string.h>

#include "plat_docker_int.h"
#include "platform.h"

/* The backends, by the name a platform row in the database gives. */
static const struct {
	const char *name;
	int (*make)(uv_loop_t *loop, const struct plat_config *cfg, struct plat **out);
} plat_backends[] = {
    {"docker", plat_docker_new}, {"podman", plat_docker_new}, /* its Docker-compatible socket */
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

const char *plat_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case PLAT_E_INVAL:
		return "invalid argument";
	case PLAT_E_NOMEM:
		return "out of memory";
	case PLAT_E_UNAVAILABLE:
		return "container platform unavailable";
	case PLAT_E_NOT_FOUND:
		return "not found";
	case PLAT_E_CONFLICT:
		return "conflict";
	case PLAT_E_REJECTED:
		return "request rejected by the platform";
	case PLAT_E_ENGINE:
		return "platform internal error";
	case PLAT_E_PROTOCOL:
		return "unexpected answer from the platform";
	case PLAT_E_TIMEOUT:
		return "timed out";
	case PLAT_E_CANCELED:
		return "canceled";
	case PLAT_E_PULL:
		return "image could not be pulled";
	case PLAT_E_UNSUPPORTED:
		return "not supported";
	case PLAT_E_TOO_LONG:
		return "too long";
	case PLAT_E_EXISTS:
		return "already exists";
	case PLAT_E_AGAIN:
		return "try again later";
	case PLAT_E_CLOSED:
		return "closed";
	case PLAT_E_IO:
		return "I/O error";
	default:
		return "unknown error";
	}
}
