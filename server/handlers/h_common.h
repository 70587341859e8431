/*
 * h_common.h - small pieces shared by the project, file and environment
 * handlers: reading a project id or a path param (failing the call with
 * the right reason), the caller as SQL params, and the "by" object of
 * notifications.
 */
#ifndef RUNIT_H_COMMON_H
#define RUNIT_H_COMMON_H

#include <jansson.h>
#include <stdint.h>

struct rpc_call;

/* The caller as ACCESS_SQL params, plus the project id as text. */
struct hc_who {
	char uid[24];
	const char *is_admin; /* "true" / "false" */
	char pid[24];
	long long project;
};

/* Fill who from c (and project, 0 when none). */
void hc_who(struct rpc_call *c, long long project, struct hc_who *who);

/* Read a required project id (a positive integer) from params[key].
 * 0, or -1 after failing c with INVALID_PARAMS. */
int hc_project_param(struct rpc_call *c, json_t *params, const char *key, long long *out);

/* Read a required path from params[key], check it and put it in Unicode
 * NFC (paths.h): params[key] is replaced by its NFC form, *out borrows it.
 * 0, or -1 after failing c: INVALID_PATH with data {param, why}, or
 * INVALID_PARAMS when it is missing or not a string. */
int hc_path_param(struct rpc_call *c, json_t *params, const char *key, const char **out);

/* Fail c with TOO_LARGE and data {limit, max, size}. */
void hc_fail_too_large(struct rpc_call *c, const char *limit, long long max, long long size,
		       const char *message);

/* {id, username} of the caller, new reference (username from its session,
 * "" when the session is gone). */
json_t *hc_by(struct rpc_call *c);

#endif
