/*
 * auth_rules.c - user name and password rules (see auth_rules.h).
 * Names: 3-32 of A-Z a-z 0-9 _ . -  (the users table CHECKs the same).
 */
#include "auth_rules.h"
#include "proto.h"

#include <string.h>

const char *auth_username_invalid(const char *name)
{
	size_t n = strlen(name);

	if (n < AUTH_USERNAME_MIN || n > AUTH_USERNAME_MAX)
		return "user names have 3 to 32 characters";
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
		return "user names use only letters, digits, '_', '.' and '-'";
	return NULL;
}

const char *auth_password_invalid(const char *pw)
{
	size_t n = strlen(pw);

	if (n < AUTH_PASSWORD_MIN)
		return "passwords have at least 8 characters";
	if (n > AUTH_PASSWORD_MAX)
		return "passwords have at most 256 bytes";
	if (!proto_utf8_valid(pw, n))
		return "passwords must be valid UTF-8";
	return NULL;
}
