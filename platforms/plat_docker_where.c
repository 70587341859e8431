/*
 * plat_docker_where.c - where the Docker backend's engine is: a unix
 * socket, or TCP with TLS client certificates (tcp://host:port or
 * https://host:port, the PEM texts of struct plat_config). Parsed once in
 * dk_init(); every request's connection is set from it (plat_docker_req.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_docker_int.h"

/* Free what dk_where_init() made; the key is wiped first. */
void dk_free_where(struct plat_docker *d)
{
	if (d->tls_key)
		explicit_bzero(d->tls_key, strlen(d->tls_key));
	free(d->tls_key);
	free(d->tls_cert);
	free(d->tls_ca);
	free(d->base_url);
	free(d->socket_path);
	d->tls_key = d->tls_cert = d->tls_ca = d->base_url = d->socket_path = NULL;
}

/* tcp://host[:port][/] or https://...: "https://host:port" (port 2376,
 * Docker's TLS port, when absent) in d->base_url, the PEMs copied. */
static int dk_tcp_init(struct plat_docker *d, const char *ep, const struct plat_config *cfg)
{
	const char *hp = ep + (ep[0] == 't' ? 6 : 8);
	size_t n = strcspn(hp, "/");
	const char *close = memchr(hp, ']', n);
	const char *colon =
	    memchr(close ? close : hp, ':', n - (size_t)((close ? close : hp) - hp));

	if (!cfg->tls_ca || !*cfg->tls_ca || !cfg->tls_cert || !*cfg->tls_cert || !cfg->tls_key ||
	    !*cfg->tls_key)
		return PLAT_E_INVAL; /* never plain HTTP to an engine: it is root on its host */
	if (!n || n > 255 || (hp[n] && strcmp(hp + n, "/")) ||
	    strspn(hp, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") < n)
		return PLAT_E_INVAL;
	d->base_url = colon ? dk_strdup_printf("https://%.*s", (int)n, hp)
			    : dk_strdup_printf("https://%.*s:2376", (int)n, hp);
	d->tls_ca = strdup(cfg->tls_ca);
	d->tls_cert = strdup(cfg->tls_cert);
	d->tls_key = strdup(cfg->tls_key);
	return d->base_url && d->tls_ca && d->tls_cert && d->tls_key ? 0 : PLAT_E_NOMEM;
}

int plat_endpoint_is_tcp(const char *ep)
{
	return ep && (!strncmp(ep, "tcp://", 6) || !strncmp(ep, "https://", 8));
}

/* The engine's address: a unix socket, or TCP with TLS (dk_tcp_init). */
int dk_where_init(struct plat_docker *d, const struct plat_config *cfg)
{
	const char *ep = cfg->endpoint ? cfg->endpoint : "unix:///var/run/docker.sock";
	int rc;

	if (plat_endpoint_is_tcp(ep)) {
		rc = dk_tcp_init(d, ep, cfg);
		if (rc < 0)
			dk_free_where(d);
		return rc;
	}
	if (!strncmp(ep, "unix://", 7))
		ep += 7;
	if (ep[0] != '/' || strlen(ep) >= 108) /* sun_path */
		return strstr(ep, "://") ? PLAT_E_UNSUPPORTED : PLAT_E_INVAL;
	d->socket_path = strdup(ep);
	d->base_url = strdup("http://docker");
	if (!d->socket_path || !d->base_url) {
		dk_free_where(d);
		return PLAT_E_NOMEM;
	}
	return 0;
}
