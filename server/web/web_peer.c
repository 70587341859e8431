/*
 * web_peer.c - the client's address and scheme behind a trusted reverse
 * proxy (web_peer.h). The header parsing is pure (web_peer_pick,
 * web_peer_proto_https) and unit-tested; the two lws wrappers read the
 * headers and the TCP peer, and ask netmask.c whether that peer is trusted.
 */
#include "web_peer.h"
#include "netmask.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HDR_MAX 2048 /* longer forwarded headers are not believed */

/* [s, e) without surrounding spaces and tabs */
static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/*
 * One chain entry [s, e) as a canonical IP address in out: "1.2.3.4",
 * "1.2.3.4:567", "2001:db8::1", "[2001:db8::1]:567", each perhaps in
 * double quotes (Forwarded). 0, or -1 when it is not an address.
 */
static int entry_addr(const char *s, const char *e, char *out, size_t outsz)
{
	char buf[64];
	unsigned char bin[16];
	const char *colon;
	size_t n;
	int fam;

	trim(&s, &e);
	if (e - s >= 2 && *s == '"' && e[-1] == '"')
		s++, e--;
	if (s < e && *s == '[') { /* [v6] or [v6]:port */
		const char *close = memchr(s, ']', (size_t)(e - s));
		if (!close)
			return -1;
		s++, e = close;
	} else if ((colon = memchr(s, ':', (size_t)(e - s))) &&
		   !memchr(colon + 1, ':', (size_t)(e - colon - 1))) {
		e = colon; /* v4:port (a bare v6 address has two colons or more) */
	}
	n = (size_t)(e - s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, buf, bin) != 1 || !inet_ntop(fam, bin, out, (socklen_t)outsz))
		return -1;
	return 0;
}

/* In one Forwarded element [s, e) ("for=a;proto=https;by=b"), the value
 * of the parameter name (with its '='), as [*vs, *ve). 0, or -1. */
static int fwd_param(const char *s, const char *e, const char *name, const char **vs,
		     const char **ve)
{
	size_t nl = strlen(name);

	while (s < e) {
		const char *semi = memchr(s, ';', (size_t)(e - s)), *pe = semi ? semi : e, *ps = s;
		trim(&ps, &pe);
		if ((size_t)(pe - ps) > nl && !strncasecmp(ps, name, nl)) {
			*vs = ps + nl;
			*ve = pe;
			return 0;
		}
		s = semi ? semi + 1 : e;
	}
	return -1;
}

int web_peer_pick(const struct netmask *trusted, int ntrusted, const char *peer, const char *xff,
		  const char *forwarded, char *out, size_t outsz)
{
	int use_xff = xff && *xff, n;
	const char *list = use_xff ? xff : forwarded, *end;
	char cur[64], a[64];

	n = snprintf(cur, sizeof(cur), "%s", peer ? peer : "");
	if (n < 0 || (size_t)n >= sizeof(cur))
		cur[0] = '\0';
	if (ntrusted < 1 || !cur[0] || !netmask_match(trusted, ntrusted, cur) || !list)
		goto out;
	/* from the right: each hop appended the address it saw */
	for (end = list + strlen(list); end > list;) {
		const char *s = end, *vs = s, *ve = end;

		while (s > list && s[-1] != ',')
			s--;
		if (use_xff)
			vs = s;
		else if (fwd_param(s, end, "for=", &vs, &ve))
			break;
		if (entry_addr(vs, ve, a, sizeof(a)))
			break;
		memcpy(cur, a, sizeof(cur));
		if (!netmask_match(trusted, ntrusted, cur))
			break;
		end = s > list ? s - 1 : list;
	}
out:
	n = snprintf(out, outsz, "%s", cur);
	return (n < 0 || (size_t)n >= outsz) ? -1 : 0;
}

int web_peer_proto_https(const char *xfp, const char *forwarded)
{
	const char *s, *e, *vs, *ve;

	if (xfp && *xfp) { /* the last value: the one our proxy set */
		e = xfp + strlen(xfp);
		s = strrchr(xfp, ',');
		s = s ? s + 1 : xfp;
		trim(&s, &e);
		return e - s == 5 && !strncasecmp(s, "https", 5);
	}
	if (forwarded && *forwarded) {
		e = forwarded + strlen(forwarded);
		s = strrchr(forwarded, ',');
		s = s ? s + 1 : forwarded;
		if (fwd_param(s, e, "proto=", &vs, &ve))
			return 0;
		if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"')
			vs++, ve--;
		return ve - vs == 5 && !strncasecmp(vs, "https", 5);
	}
	return 0;
}

/* A header into buf; NULL when absent or longer than buf. */
static const char *hdr(struct lws *wsi, enum lws_token_indexes tok, const char *custom, char *buf,
		       int bufsz)
{
	int n = custom ? lws_hdr_custom_copy(wsi, buf, bufsz, custom, (int)strlen(custom))
		       : lws_hdr_copy(wsi, buf, bufsz, tok);
	return n > 0 ? buf : NULL;
}

/* 1 when the TCP peer is one of RUNIT_TRUSTED_PROXIES; its address in peer. */
static int peer_trusted(struct lws *wsi, const struct config *cfg, char *peer, size_t peersz)
{
	peer[0] = '\0';
	lws_get_peer_simple(wsi, peer, peersz);
	return cfg->trusted_proxies_n > 0 &&
	       netmask_match(cfg->trusted_proxies, cfg->trusted_proxies_n, peer);
}

void web_peer_addr(struct lws *wsi, const struct config *cfg, char *out, size_t outsz)
{
	char peer[64], xff[HDR_MAX], fwd[HDR_MAX];

	if (!peer_trusted(wsi, cfg, peer, sizeof(peer))) {
		snprintf(out, outsz, "%s", peer);
		return;
	}
	if (web_peer_pick(cfg->trusted_proxies, cfg->trusted_proxies_n, peer,
			  hdr(wsi, WSI_TOKEN_X_FORWARDED_FOR, NULL, xff, sizeof(xff)),
			  hdr(wsi, 0, "forwarded:", fwd, sizeof(fwd)), out, outsz))
		snprintf(out, outsz, "%s", peer);
}

int web_peer_https(struct lws *wsi, const struct config *cfg)
{
	char peer[64], xfp[64], fwd[HDR_MAX];

	if (lws_is_ssl(wsi))
		return 1;
	if (!peer_trusted(wsi, cfg, peer, sizeof(peer)))
		return 0;
	return web_peer_proto_https(hdr(wsi, 0, "x-forwarded-proto:", xfp, sizeof(xfp)),
				    hdr(wsi, 0, "forwarded:", fwd, sizeof(fwd)));
}
