/*
 * plat_tar.c - in-memory ustar writer (see plat_tar.h): header encoding with
 * the ustar prefix/name split and checksum, a growable buffer, and a small
 * hash set of the paths written so far.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat_tar.h"
#include "platform.h"

#define TAR_NAME_LEN 100
#define TAR_PREFIX_LEN 155

void plat_tar_init(struct plat_tar *t, unsigned uid, unsigned gid, int64_t mtime)
{
	memset(t, 0, sizeof(*t));
	t->uid = uid;
	t->gid = gid;
	t->mtime = mtime < 0 ? 0 : mtime;
}

void plat_tar_release(struct plat_tar *t)
{
	for (size_t i = 0; i < t->nslots; i++)
		free(t->paths[i]);
	free(t->paths);
	free(t->is_dir);
	free(t->data);
	memset(t, 0, sizeof(*t));
}

/*
 * Where to split path into prefix and name: 0 when it fits the name field
 * whole, else the index of the '/' between them, or -1 if it cannot fit.
 */
static long tar_split(const char *path, size_t len)
{
	if (len <= TAR_NAME_LEN)
		return 0;
	if (len > PLAT_TAR_MAX_PATH)
		return -1;
	for (size_t i = len - TAR_NAME_LEN - 1; i < len - 1; i++) {
		if (i > TAR_PREFIX_LEN)
			break;
		if (path[i] == '/')
			return (long)i;
	}
	return -1;
}

int plat_tar_check_path(const char *path)
{
	size_t len, comp = 0;

	if (!path || !*path || path[0] == '/')
		return PLAT_E_INVAL;
	len = strlen(path);
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c == '/' || c == '\0') {
			const char *s = path + i - comp;

			if (comp == 0 || (comp == 1 && s[0] == '.') ||
			    (comp == 2 && s[0] == '.' && s[1] == '.'))
				return PLAT_E_INVAL;
			comp = 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return PLAT_E_INVAL;
		comp++;
	}
	/* the path and each parent directory written before it must fit */
	for (size_t i = 1; i <= len; i++)
		if ((i == len || path[i] == '/') && tar_split(path, i) < 0)
			return PLAT_E_TOO_LONG;
	return 0;
}

static uint64_t tar_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot holding the first n bytes of path, or the empty slot for it. */
static size_t tar_slot(const struct plat_tar *t, const char *path, size_t n)
{
	size_t i = (size_t)tar_hash(path, n) & (t->nslots - 1);

	while (t->paths[i] && !(strlen(t->paths[i]) == n && !memcmp(t->paths[i], path, n)))
		i = (i + 1) & (t->nslots - 1);
	return i;
}

/* -1 absent, 0 a file, 1 a directory. */
static int tar_lookup(const struct plat_tar *t, const char *path, size_t n)
{
	size_t i;

	if (!t->nslots)
		return -1;
	i = tar_slot(t, path, n);
	return t->paths[i] ? t->is_dir[i] : -1;
}

static int tar_grow_set(struct plat_tar *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 64;
	struct plat_tar old = *t;

	t->paths = calloc(n, sizeof(*t->paths));
	t->is_dir = calloc(n, 1);
	if (!t->paths || !t->is_dir) {
		free(t->paths);
		free(t->is_dir);
		t->paths = old.paths;
		t->is_dir = old.is_dir;
		return PLAT_E_NOMEM;
	}
	t->nslots = n;
	for (size_t i = 0; i < old.nslots; i++) {
		if (!old.paths[i])
			continue;
		size_t j = tar_slot(t, old.paths[i], strlen(old.paths[i]));
		t->paths[j] = old.paths[i];
		t->is_dir[j] = old.is_dir[i];
	}
	free(old.paths);
	free(old.is_dir);
	return 0;
}

static int tar_remember(struct plat_tar *t, const char *path, size_t n, bool dir)
{
	size_t i;
	int rc;

	if ((t->nused + 1) * 2 > t->nslots && (rc = tar_grow_set(t)) < 0)
		return rc;
	i = tar_slot(t, path, n);
	t->paths[i] = strndup(path, n);
	if (!t->paths[i])
		return PLAT_E_NOMEM;
	t->is_dir[i] = dir;
	t->nused++;
	return 0;
}

/* Room for add more bytes in the archive buffer. */
static int tar_reserve(struct plat_tar *t, size_t add)
{
	size_t need, cap;
	char *p;

	if (add > SIZE_MAX - t->len)
		return PLAT_E_NOMEM;
	need = t->len + add;
	if (need <= t->cap)
		return 0;
	cap = t->cap ? t->cap : 8 * PLAT_TAR_BLOCK;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(t->data, cap);
	if (!p)
		return PLAT_E_NOMEM;
	t->data = p;
	t->cap = cap;
	return 0;
}

static int tar_octal(char *field, size_t width, uint64_t v)
{
	int n = snprintf(field, width, "%0*llo", (int)width - 1, (unsigned long long)v);

	return n == (int)width - 1 ? 0 : PLAT_E_TOO_LONG;
}

/* Append one header block for path[0..n) (a directory gets a '/'). */
static int tar_header(struct plat_tar *t, const char *path, size_t n, bool dir, unsigned mode,
		      uint64_t size)
{
	char name[PLAT_TAR_MAX_PATH + 2];
	unsigned char *h;
	unsigned sum = 0;
	long split;
	int rc;

	memcpy(name, path, n);
	name[n] = '\0';
	if (dir && n + 1 <= PLAT_TAR_MAX_PATH) {
		name[n] = '/';
		name[n + 1] = '\0';
		if (tar_split(name, n + 1) >= 0)
			n++;
		else
			name[n] = '\0';
	}
	split = tar_split(name, n);
	if (split < 0)
		return PLAT_E_TOO_LONG;
	if ((rc = tar_reserve(t, PLAT_TAR_BLOCK)) < 0)
		return rc;
	h = (unsigned char *)t->data + t->len;
	memset(h, 0, PLAT_TAR_BLOCK);
	if (split == 0) {
		memcpy(h, name, n);
	} else {
		memcpy(h + 345, name, (size_t)split);
		memcpy(h, name + split + 1, n - (size_t)split - 1);
	}
	if (tar_octal((char *)h + 100, 8, mode & 0777) < 0 ||
	    tar_octal((char *)h + 108, 8, t->uid) < 0 ||
	    tar_octal((char *)h + 116, 8, t->gid) < 0 || tar_octal((char *)h + 124, 12, size) < 0 ||
	    tar_octal((char *)h + 136, 12, (uint64_t)t->mtime) < 0)
		return PLAT_E_TOO_LONG;
	h[156] = dir ? '5' : '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < PLAT_TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 7, "%06o", sum);
	h[155] = ' ';
	t->len += PLAT_TAR_BLOCK;
	return 0;
}

/* Write the directories leading to path[0..n) that are not there yet. */
static int tar_parents(struct plat_tar *t, const char *path, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (path[i] != '/')
			continue;
		int kind = tar_lookup(t, path, i);
		int rc;

		if (kind == 1)
			continue;
		if (kind == 0)
			return PLAT_E_EXISTS;
		if ((rc = tar_header(t, path, i, true, 0755, 0)) < 0 ||
		    (rc = tar_remember(t, path, i, true)) < 0)
			return rc;
	}
	return 0;
}

int plat_tar_add_dir(struct plat_tar *t, const char *path, unsigned mode)
{
	size_t n;
	int rc, kind;

	if (t->finished)
		return PLAT_E_INVAL;
	if ((rc = plat_tar_check_path(path)) < 0)
		return rc;
	n = strlen(path);
	kind = tar_lookup(t, path, n);
	if (kind == 1)
		return 0;
	if (kind == 0)
		return PLAT_E_EXISTS;
	if ((rc = tar_parents(t, path, n)) < 0)
		return rc;
	if ((rc = tar_header(t, path, n, true, mode ? mode : 0755, 0)) < 0)
		return rc;
	return tar_remember(t, path, n, true);
}

int plat_tar_add_file(struct plat_tar *t, const char *path, const void *data, size_t len,
		      unsigned mode)
{
	size_t n, pad;
	int rc;

	if (t->finished || (len && !data))
		return PLAT_E_INVAL;
	if ((rc = plat_tar_check_path(path)) < 0)
		return rc;
	if ((uint64_t)len > PLAT_TAR_MAX_FILE)
		return PLAT_E_TOO_LONG;
	n = strlen(path);
	if (tar_lookup(t, path, n) >= 0)
		return PLAT_E_EXISTS;
	if ((rc = tar_parents(t, path, n)) < 0)
		return rc;
	pad = (PLAT_TAR_BLOCK - len % PLAT_TAR_BLOCK) % PLAT_TAR_BLOCK;
	if (len > SIZE_MAX - PLAT_TAR_BLOCK - pad)
		return PLAT_E_NOMEM;
	if ((rc = tar_reserve(t, PLAT_TAR_BLOCK + len + pad)) < 0)
		return rc;
	if ((rc = tar_header(t, path, n, false, mode ? mode : 0644, len)) < 0)
		return rc;
	if (len)
		memcpy(t->data + t->len, data, len);
	memset(t->data + t->len + len, 0, pad);
	t->len += len + pad;
	return tar_remember(t, path, n, false);
}

int plat_tar_finish(struct plat_tar *t)
{
	int rc;

	if (t->finished)
		return PLAT_E_INVAL;
	if ((rc = tar_reserve(t, 2 * PLAT_TAR_BLOCK)) < 0)
		return rc;
	memset(t->data + t->len, 0, 2 * PLAT_TAR_BLOCK);
	t->len += 2 * PLAT_TAR_BLOCK;
	t->finished = 1;
	return 0;
}
