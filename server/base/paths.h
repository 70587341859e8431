/*
 * paths.h - the one rule for file paths inside a project, used by every
 * method that takes a path (file/..., run/start's files, runtime templates).
 * No I/O, so it is unit-tested on its own (tests/unit/test_paths.c). The
 * file_path domain and the files trigger in sql/ (001_init.sql,
 * 005_paths.sql) are the same rule, as the database's last line of defence.
 *
 * Paths are stored in Unicode NFC (libunistring's u8_normalize): "é" as
 * U+00E9 and as "e" + U+0301 are one file. Every path a client sends goes
 * through paths_nfc() before it is stored or looked up.
 *
 * Paths that clash: a path cannot be both a file and a folder, so "a" and
 * "a/b" cannot both be files of one project (paths_clash()). The database
 * enforces it, under concurrency and across server instances
 * (runit_path_clash() in sql/005_paths.sql); the C check is for templates
 * and early answers.
 */
#ifndef RUNIT_PATHS_H
#define RUNIT_PATHS_H

#include <jansson.h>
#include <stddef.h>

#define PATHS_MAX_BYTES 255 /* whole path, in bytes */
#define PATHS_MAX_DEPTH 16  /* segments: "a/b/c" has 3 */

/*
 * NULL when path[0..len) is acceptable, else a short English reason
 * (a static string, for error.data.why): relative ("src/util.go"), valid
 * UTF-8, 1..PATHS_MAX_BYTES bytes, at most PATHS_MAX_DEPTH segments, no
 * leading '/', no empty segment ("a//b", trailing '/'), no "." or ".."
 * segment, no backslash, no NUL, no control character (C0, DEL, C1), no
 * invisible or bidirectional formatting character: U+00AD, U+061C,
 * U+180E, U+200B-U+200F, U+2028-U+202E, U+2060-U+206F, U+FEFF,
 * U+FFF9-U+FFFB (a name that shows as "main.sh" must be "main.sh").
 * path may be NULL (then the reason is "missing"). Says nothing about
 * normalisation: see paths_nfc().
 */
const char *paths_invalid(const char *path, size_t len);

/*
 * path[0..len) checked with paths_invalid() and put in Unicode NFC: a new
 * NUL-terminated string that the caller frees, its length in *outlen
 * (outlen may be NULL). NULL, with *why a static reason, when the path is
 * not acceptable before or after normalisation, or on out of memory.
 */
char *paths_nfc(const char *path, size_t len, size_t *outlen, const char **why);

/* 1 when path[0..len) is acceptable and already in NFC, else 0. */
int paths_is_nfc(const char *path, size_t len);

/*
 * 1 when a and b cannot both be files of one project: one is a folder of
 * the other ("a" and "a/b", "a" and "a/b/c"). Equal paths do not clash
 * (they are the same file).
 */
int paths_clash(const char *a, size_t alen, const char *b, size_t blen);

/*
 * The keys of *map ({path: value}) in NFC. On success *map is replaced by
 * a new object with the normalised keys and the same values (the old
 * reference is released; unchanged when every key was NFC already) and 0
 * is returned. -1, with *map untouched and a message naming the path in
 * msg[0..n), when a key is not acceptable (paths_invalid) or two keys
 * name the same file once normalised, or on out of memory.
 */
int paths_nfc_keys(json_t **map, char *msg, size_t n);

/*
 * A key of map ({path: value}) that lies under another key (paths_clash()):
 * the key (borrowed), with *file_len the length of the other key, its
 * prefix ("a/b" and 1 for "a"). NULL when no two keys clash.
 */
const char *paths_map_clash(const json_t *map, size_t *file_len);

#endif
