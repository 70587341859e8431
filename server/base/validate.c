/*
 * validate.c - pure checks of user and admin input (see validate.h).
 */
#include "validate.h"
#include "paths.h"
#include "proto.h"

#include <string.h>

size_t validate_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

static int has_control(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return 1;
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return 1;
	}
	return 0;
}

const char *validate_project_name(const char *s, size_t len)
{
	if (!s || len == 0)
		return "the name is empty";
	if (!proto_utf8_valid(s, len) || memchr(s, 0, len))
		return "the name is not valid text";
	if (validate_utf8_chars(s, len) > VALIDATE_NAME_MAX_CHARS)
		return "the name is longer than 100 characters";
	if (has_control((const unsigned char *)s, len))
		return "the name contains a control character";
	if (s[0] == ' ' || s[len - 1] == ' ')
		return "the name starts or ends with a space";
	return NULL;
}

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

const char *validate_env_name(const char *name)
{
	static const char *const reserved[] = {"PATH", "HOME",	 "USER",     "LOGNAME", "SHELL",
					       "PWD",  "OLDPWD", "HOSTNAME", "TERM",	"TMPDIR",
					       "IFS",  "ENV",	 "BASH_ENV"};
	size_t n = name ? strlen(name) : 0;

	if (n == 0)
		return "empty variable name";
	if (n > VALIDATE_ENV_NAME_MAX)
		return "variable name longer than 128 characters";
	if (!is_alpha_(name[0]))
		return "a variable name starts with a letter or '_'";
	for (size_t i = 1; i < n; i++)
		if (!is_alpha_(name[i]) && !is_digit(name[i]))
			return "a variable name has only letters, digits and '_'";
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(name, reserved[i]))
			return "this variable name is reserved";
	if (!strncmp(name, "LD_", 3) || !strncmp(name, "RUNIT_", 6))
		return "LD_* and RUNIT_* variable names are reserved";
	return NULL;
}

/* 1 when s[0] is in first and all of s[1..] in rest, length 1..max. */
static int token_ok(const char *s, const char *first, const char *rest, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max || !strchr(first, s[0]))
		return 0;
	return strspn(s + 1, rest) == n - 1;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZ" LOWER_DIGITS

const char *validate_runtime_code(const char *code)
{
	if (!token_ok(code, LOWER_DIGITS, LOWER_DIGITS "._-", 64))
		return "a runtime code is 1-64 of a-z, 0-9, '.', '_', '-' (starting with a letter "
		       "or digit)";
	return NULL;
}

const char *validate_platform_name(const char *name)
{
	if (!token_ok(name, ALNUM, ALNUM "_.-", 64))
		return "a platform name is 1-64 of A-Z, a-z, 0-9, '_', '.', '-' (starting with a "
		       "letter or digit)";
	return NULL;
}

/* One path component of an image name: [a-z0-9]+ with single '.', '_',
 * "__" or runs of '-' between alphanumerics. */
static int image_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return 0;
	while (i < n) {
		size_t run = 0;
		while (i < n && strchr(LOWER_DIGITS, s[i]) && s[i])
			i++, run++;
		if (run == 0)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.' || (s[i] == '_' && (i + 1 >= n || s[i + 1] != '_')))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < n && s[i] == '-')
				i++;
		else
			return 0;
		if (i == n)
			return 0; /* a separator may not end a component */
	}
	return 1;
}

/* Registry host[:port]: letters, digits, '.', '-'; a numeric port. */
static int registry_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t host = colon ? (size_t)(colon - s) : n;

	if (host == 0)
		return 0;
	for (size_t i = 0; i < host; i++)
		if (!strchr(ALNUM ".-", s[i]) || !s[i])
			return 0;
	if (colon) {
		size_t pl = n - host - 1;
		if (pl == 0 || pl > 5)
			return 0;
		for (size_t i = host + 1; i < n; i++)
			if (!is_digit(s[i]))
				return 0;
	}
	return 1;
}

const char *validate_image(const char *ref)
{
	static const char *bad =
	    "not a well-formed image reference ([registry/]name[:tag][@sha256:hex])";
	size_t n = ref ? strlen(ref) : 0;
	const char *at, *name_end, *p, *slash, *colon, *first_slash;

	if (n == 0 || n > 255)
		return "an image reference is 1-255 characters";
	at = strchr(ref, '@');
	if (at) {
		const char *hex = strchr(at + 1, ':');
		size_t hl;
		if (!hex || hex == at + 1 ||
		    !token_ok(at + 1, LOWER_DIGITS,
			      LOWER_DIGITS "+._-:", (size_t)(hex - at - 1) + 1 + 128))
			return bad;
		hl = strlen(hex + 1);
		if (hl < 32 || strspn(hex + 1, "0123456789abcdef") != hl)
			return bad;
		name_end = at;
	} else {
		name_end = ref + n;
	}
	/* the tag is after the last ':' that follows the last '/' */
	slash = NULL;
	for (p = ref; p < name_end; p++)
		if (*p == '/')
			slash = p;
	colon = NULL;
	for (p = slash ? slash : ref; p < name_end; p++)
		if (*p == ':')
			colon = p;
	if (colon) {
		size_t tl = (size_t)(name_end - colon - 1);
		if (tl == 0 || tl > 128 || !strchr(ALNUM "_", colon[1]))
			return bad;
		for (p = colon + 1; p < name_end; p++)
			if (!strchr(ALNUM "_.-", *p) || !*p)
				return bad;
		name_end = colon;
	}
	/* optional registry: the first component, if it has '.' or ':' or is localhost */
	if (name_end <= ref)
		return bad;
	p = ref;
	first_slash = memchr(ref, '/', (size_t)(name_end - ref));
	if (first_slash) {
		size_t fl = (size_t)(first_slash - ref);
		if (memchr(ref, '.', fl) || memchr(ref, ':', fl) ||
		    (fl == 9 && !memcmp(ref, "localhost", 9))) {
			if (!registry_ok(ref, fl))
				return bad;
			p = first_slash + 1;
		}
	}
	if (p >= name_end)
		return bad;
	while (p < name_end) {
		const char *e = memchr(p, '/', (size_t)(name_end - p));
		if (!e)
			e = name_end;
		if (!image_component_ok(p, (size_t)(e - p)))
			return bad;
		if (e == name_end)
			break;
		p = e + 1;
		if (p == name_end)
			return bad;
	}
	return NULL;
}

const char *validate_argv(const json_t *v)
{
	size_t i, n;
	const json_t *a;

	if (!json_is_array(v))
		return "a command is an array of strings (argv), not a shell string";
	n = json_array_size(v);
	if (n == 0 || n > VALIDATE_ARGV_MAX)
		return "a command has 1-256 arguments";
	json_array_foreach(v, i, a)
	{
		if (!json_is_string(a))
			return "every argument of a command is a string";
		if (json_string_length(a) == 0 && i == 0)
			return "the program name of a command is empty";
		if (json_string_length(a) > VALIDATE_ARG_MAX)
			return "an argument of a command is longer than 4096 bytes";
		if (strlen(json_string_value(a)) != json_string_length(a))
			return "an argument of a command contains NUL";
	}
	return NULL;
}

const char *validate_faq(const json_t *v)
{
	size_t i;
	const json_t *e;

	if (!json_is_array(v))
		return "a FAQ is an array of {question, answer}";
	if (json_array_size(v) > VALIDATE_FAQ_MAX)
		return "a FAQ has at most 100 entries";
	json_array_foreach(v, i, e)
	{
		const json_t *q = json_object_get(e, "question"), *a = json_object_get(e, "answer");
		if (!json_is_object(e) || json_object_size(e) != 2 || !json_is_string(q) ||
		    !json_is_string(a))
			return "each FAQ entry is {question: string, answer: string} and nothing "
			       "else";
		if (json_string_length(q) == 0 || json_string_length(a) == 0)
			return "a FAQ question or answer is empty";
		if (validate_utf8_chars(json_string_value(q), json_string_length(q)) >
		    VALIDATE_QUESTION_MAX)
			return "a FAQ question is longer than 500 characters";
		if (validate_utf8_chars(json_string_value(a), json_string_length(a)) >
		    VALIDATE_ANSWER_MAX)
			return "a FAQ answer is longer than 10000 characters";
	}
	return NULL;
}

const char *validate_template(const json_t *v, long long max_files, long long max_file_bytes)
{
	const char *path;
	const json_t *content;
	size_t file_len;

	if (!json_is_object(v))
		return "a template is an object {path: content}";
	if ((long long)json_object_size(v) > max_files)
		return "a template has more files than max_files_per_project";
	json_object_foreach((json_t *)v, path, content)
	{
		if (paths_invalid(path, strlen(path)))
			return "a template file path is not a valid path";
		if (!paths_is_nfc(path, strlen(path)))
			return "a template file path is not in Unicode NFC";
		if (!json_is_string(content))
			return "a template file's content is a string";
		if ((long long)json_string_length(content) > max_file_bytes)
			return "a template file is larger than max_file_bytes";
	}
	if (paths_map_clash(v, &file_len))
		return "a template has a file and a folder of the same name (\"a\" and \"a/b\")";
	return NULL;
}

const char *validate_platform_kind(const char *kind)
{
	static const char *const kinds[] = {"docker", "podman", "swarm", "kubernetes"};

	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return NULL;
	return "kind is one of docker, podman, swarm, kubernetes";
}

const char *validate_endpoint(const char *ep)
{
	size_t n = ep ? strlen(ep) : 0;
	const char *rest;

	if (n == 0 || n > 1024)
		return "an endpoint is 1-1024 characters";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)ep[i] <= 0x20 || ep[i] == 0x7f)
			return "an endpoint has no spaces or control characters";
	if (ep[0] == '/')
		return NULL;
	if (!strncmp(ep, "unix://", 7))
		return ep[7] == '/' && ep[8] ? NULL
					     : "a unix:// endpoint names an absolute socket path";
	if (!strncmp(ep, "tcp://", 6))
		rest = ep + 6;
	else if (!strncmp(ep, "http://", 7))
		rest = ep + 7;
	else if (!strncmp(ep, "https://", 8))
		rest = ep + 8;
	else
		return "an endpoint is unix:///path, /path, tcp://host:port or "
		       "http(s)://host[:port]";
	if (!*rest || *rest == '/' || *rest == ':')
		return "an endpoint URL names a host";
	return NULL;
}

const char *validate_platform_options(const json_t *v)
{
	const json_t *oci;

	if (!json_is_object(v))
		return "options is an object";
	oci = json_object_get(v, "oci_runtime");
	if (oci && !json_is_null(oci) &&
	    (!json_is_string(oci) ||
	     !token_ok(json_string_value(oci), LOWER_DIGITS, LOWER_DIGITS "._-", 64)))
		return "options.oci_runtime is a runtime name such as \"runsc\"";
	return NULL;
}
