/*
 * srv.c - the one global of the process, the_srv (srv.h), and the clock
 * every module reads through it. app.c fills the struct in at start-up and
 * tears it down at the end; nothing else assigns the_srv.
 */
#include "srv.h"

#include <time.h>

struct srv *the_srv;

int64_t srv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
