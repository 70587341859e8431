/*
 * plat_tls.c - checking the TLS material of a platform reached over TCP
 * (plat_tls_check, platform.h) with OpenSSL's libcrypto, before it is
 * stored: an admin who pastes a broken PEM or a key of another certificate
 * hears it when saving, not later as an engine that is down. The
 * connection itself is libcurl's (plat_docker_req.c).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "platform.h"

/* The certificates in pem: how many parsed, -1 when something else (or a
 * broken one) is there. *first gets the first (owned) when first != NULL. */
static int read_certs(const char *pem, X509 **first)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0;

	if (!b)
		return -1;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (first && !n)
			*first = x;
		else
			X509_free(x);
		n++;
	}
	/* the loop ends at the end of the text (PEM_R_NO_START_LINE) or at
	 * something that is not a certificate */
	unsigned long e = ERR_peek_last_error();
	if (n && ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		ERR_clear_error();
	else if (e)
		n = -1;
	ERR_clear_error();
	BIO_free(b);
	return n;
}

int plat_tls_check(const char *ca, const char *cert, const char *key, char *why, size_t whysz)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	int rc = -1;

	ERR_clear_error();
	if (!ca || read_certs(ca, NULL) <= 0) {
		snprintf(why, whysz,
			 "tls_ca is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
		goto out;
	}
	if (!cert || read_certs(cert, &x) != 1) {
		snprintf(why, whysz,
			 "tls_cert is not one PEM certificate (-----BEGIN CERTIFICATE-----)");
		goto out;
	}
	b = key ? BIO_new_mem_buf(key, -1) : NULL;
	/* no passphrase: an encrypted key is refused, not prompted for */
	if (!b || !(k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)""))) {
		snprintf(why, whysz,
			 "tls_key is not an unencrypted PEM private key "
			 "(-----BEGIN PRIVATE KEY----- or RSA/EC PRIVATE KEY)");
		goto out;
	}
	if (X509_check_private_key(x, k) != 1) {
		snprintf(why, whysz, "tls_key does not belong to tls_cert (another key pair)");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(k);
	BIO_free(b);
	X509_free(x);
	return rc;
}
