/*
 * app.h - start the server and serve until SIGINT or SIGTERM (app.c).
 */
#ifndef RUNIT_APP_H
#define RUNIT_APP_H

#include "config.h"

/* Serve with cfg until a signal asks to stop; 0 on a clean stop. */
int app_run(const struct config *cfg);

#endif
