/*
 * auth_rules.h - the rules for user names and passwords, shared by the
 * command line and the server, and the argon2id cost we hash with.
 */
#ifndef RUNIT_AUTH_RULES_H
#define RUNIT_AUTH_RULES_H

#include <sodium.h>

#define AUTH_USERNAME_MIN 3
#define AUTH_USERNAME_MAX 32
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 256 /* bytes: keeps hashing bounded */
#define AUTH_PWHASH_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define AUTH_PWHASH_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

/* NULL when acceptable, else a sentence saying what is wrong. */
const char *auth_username_invalid(const char *name);
const char *auth_password_invalid(const char *pw);

#endif
