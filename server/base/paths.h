/*
 * paths.h - the one rule for file paths inside a project, used by every
 * method that takes a path (file/..., run/start's files, runtime templates).
 * Pure: no allocation, no I/O, so it is unit-tested on its own
 * (tests/unit/test_paths.c). The file_path domain in sql/001_init.sql is
 * the same rule, as the database's last line of defence.
 */
#ifndef RUNIT_PATHS_H
#define RUNIT_PATHS_H

#include <stddef.h>

#define PATHS_MAX_BYTES 255 /* whole path, in bytes */
#define PATHS_MAX_DEPTH 16  /* segments: "a/b/c" has 3 */

/*
 * NULL when path[0..len) is acceptable, else a short English reason
 * (a static string, for error.data.why): relative ("src/util.go"), valid
 * UTF-8, 1..PATHS_MAX_BYTES bytes, at most PATHS_MAX_DEPTH segments, no
 * leading '/', no empty segment ("a//b", trailing '/'), no "." or ".."
 * segment, no backslash, no NUL, no control character (C0, DEL, C1).
 * path may be NULL (then the reason is "missing").
 */
const char *paths_invalid(const char *path, size_t len);

#endif
