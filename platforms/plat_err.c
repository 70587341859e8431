/*
 * plat_err.c - the descriptions of the PLAT_E_* codes (plat_strerror), for
 * every backend and every caller.
 */
#include "platform.h"

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
