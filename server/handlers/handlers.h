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
extern const struct proto_method admin_live_methods[]; /* h_admin_live.c */
extern const size_t admin_live_methods_count;
extern const struct proto_method presence_methods[]; /* h_presence.c */
extern const size_t presence_methods_count;
extern const struct proto_method run_methods[]; /* h_run.c */
extern const size_t run_methods_count;
extern const struct proto_method auth_methods[]; /* h_auth.c */
extern const size_t auth_methods_count;
extern const struct proto_method auth_totp_methods[]; /* h_auth_totp.c */
extern const size_t auth_totp_methods_count;
extern const struct proto_method admin_user_methods[]; /* h_admin_users.c */
extern const size_t admin_user_methods_count;
extern const struct proto_method project_methods[]; /* h_project.c */
extern const size_t project_methods_count;
extern const struct proto_method file_methods[]; /* h_file.c */
extern const size_t file_methods_count;
extern const struct proto_method env_methods[]; /* h_env.c */
extern const size_t env_methods_count;
extern const struct proto_method runtime_methods[]; /* h_runtime.c */
extern const size_t runtime_methods_count;
extern const struct proto_method admin_config_methods[]; /* h_admin_config.c */
extern const size_t admin_config_methods_count;
extern const struct proto_method history_methods[]; /* h_history.c */
extern const size_t history_methods_count;
extern const struct proto_method image_methods[]; /* h_image.c */
extern const size_t image_methods_count;
extern const struct proto_method error_methods[]; /* h_errors.c */
extern const size_t error_methods_count;
extern const struct proto_method collab_methods[]; /* h_collab.c */
extern const size_t collab_methods_count;
extern const struct proto_method prefs_methods[]; /* h_prefs.c */
extern const size_t prefs_methods_count;

/* Look a method up in every module's table (rpc_methods.c); NULL if unknown. */
const struct proto_method *handlers_method_find(const char *name);

#endif
