/*
 * handlers.h - every method handler, by module. Each has proto_handler_fn's
 * shape; ctx is a struct rpc_call * the handler owns (see rpc.h).
 */
#ifndef RUNIT_HANDLERS_H
#define RUNIT_HANDLERS_H

#include "proto.h"

#include <stddef.h>

/* Each module's method table, defined beside its handlers. */
extern const struct proto_method session_methods[]; /* h_session.c */
extern const size_t session_methods_count;
extern const struct proto_method auth_methods[]; /* h_auth.c */
extern const size_t auth_methods_count;

#endif
