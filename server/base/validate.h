/*
 * validate.h - pure checks of what users and admins send: project names,
 * environment variable names, runtime fields (code, image reference, argv
 * commands, template files, FAQ) and platform fields (global settings are
 * checked by settings.h).
 * Each returns NULL when the value is acceptable, else a short English
 * reason (a static string) for the error message. No I/O:
 * unit-tested in tests/unit/test_paths.c. The CHECKs in sql/ are the
 * database's copy of the same rules.
 */
#ifndef RUNIT_VALIDATE_H
#define RUNIT_VALIDATE_H

#include <stddef.h>
#include <jansson.h>

#define VALIDATE_NAME_MAX_CHARS 100  /* project names */
#define VALIDATE_DESC_MAX_CHARS 2000 /* project descriptions */
#define VALIDATE_ENV_NAME_MAX 128
#define VALIDATE_ENV_VALUE_MAX 32768 /* bytes */
#define VALIDATE_ENV_MAX_VARS 100
#define VALIDATE_ARGV_MAX 256	  /* elements */
#define VALIDATE_ARG_MAX 4096	  /* bytes per element */
#define VALIDATE_FAQ_MAX 100	  /* entries */
#define VALIDATE_QUESTION_MAX 500 /* characters */
#define VALIDATE_ANSWER_MAX 10000 /* characters */

/* Characters (code points) in valid UTF-8 s[0..len). */
size_t validate_utf8_chars(const char *s, size_t len);

/* 1..100 characters, no control characters, no leading/trailing space. */
const char *validate_project_name(const char *s, size_t len);
/* [A-Za-z_][A-Za-z0-9_]{0,127}, not a reserved name (PATH, HOME, USER,
 * LOGNAME, SHELL, PWD, OLDPWD, HOSTNAME, TERM, TMPDIR, IFS, ENV, BASH_ENV,
 * LD_*, RUNIT_*). */
const char *validate_env_name(const char *name);

/* Runtime code: [a-z0-9][a-z0-9._-]{0,63}. */
const char *validate_runtime_code(const char *code);
/* Platform name: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}. */
const char *validate_platform_name(const char *name);
/* A container image reference, [registry[:port]/]path[:tag][@algo:hex],
 * lower-case path components as Docker's reference grammar has them. */
const char *validate_image(const char *ref);
/* A command as argv: a JSON array of 1..256 non-empty strings (each at
 * most 4096 bytes), never one string for a shell. */
const char *validate_argv(const json_t *v);
/* [{question, answer}] with only those two string members. */
const char *validate_faq(const json_t *v);
/* {path: content}: valid paths (paths.h) in Unicode NFC, no file that is
 * also a folder ("a" and "a/b"), at most max_files entries, each content a
 * string of at most max_file_bytes. */
const char *validate_template(const json_t *v, long long max_files, long long max_file_bytes);
/* Platform kind: docker, podman, swarm, kubernetes. */
const char *validate_platform_kind(const char *kind);
/* unix:///abs/path, /abs/path, tcp://host:port, http(s)://host[:port][/...];
 * at most 1024 bytes, no space or control character. */
const char *validate_endpoint(const char *ep);
/* An object; "oci_runtime", when present, a name like "runsc". */
const char *validate_platform_options(const json_t *v);

#endif
