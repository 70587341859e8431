/*
 * rpc_methods.c - the list of method tables. Each module keeps its table of
 * { method, role needed, handler } beside its handlers (session_methods in
 * h_session.c, auth_methods in h_auth.c, ...); rpc_dispatch() finds a
 * method here (app.c gives it handlers_method_find) and checks the role for every frame.
 * protocol/PROTOCOL.md documents each row.
 */
#include "handlers.h"

static const struct rpc_table {
	const struct proto_method *rows;
	const size_t *count;
} tables[] = {
    {session_methods, &session_methods_count},
    {auth_methods, &auth_methods_count},
    {run_methods, &run_methods_count},
    {presence_methods, &presence_methods_count},
    {admin_live_methods, &admin_live_methods_count},
    {auth_totp_methods, &auth_totp_methods_count},
    {admin_user_methods, &admin_user_methods_count},
    {project_methods, &project_methods_count},
    {file_methods, &file_methods_count},
    {env_methods, &env_methods_count},
    {runtime_methods, &runtime_methods_count},
    {admin_config_methods, &admin_config_methods_count},
    {history_methods, &history_methods_count},
    {image_methods, &image_methods_count},
    {error_methods, &error_methods_count},
    {collab_methods, &collab_methods_count},
    {prefs_methods, &prefs_methods_count},
};

const struct proto_method *handlers_method_find(const char *name)
{
	const struct proto_method *m;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		m = proto_method_find(tables[i].rows, *tables[i].count, name);
		if (m)
			return m;
	}
	return NULL;
}
