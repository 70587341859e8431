/*
 * plat_tar.h - an in-memory ustar (POSIX.1-1988) archive writer, used to put
 * a project's files into a run's workspace in one request.
 *
 * Every entry is owned by the uid/gid given at init (the run user, so the
 * program can read, write and delete its own files) with a mode masked to
 * 0777 (never setuid, setgid or sticky). Parent directories are written
 * before their contents, explicitly, for every nested path ("src/util/x.go"
 * gives "src/", "src/util/", then the file), so extraction never relies on
 * what the destination already holds. Only regular files and directories
 * exist: no links of any kind. Paths are checked (plat_tar_check_path):
 * relative, no "." or ".." or empty component, no control character, at
 * most 255 bytes and splittable into ustar's 155-byte prefix and 100-byte
 * name, and so is each of its parent directories (so no component is over
 * 100 bytes). Pure: no I/O.
 */
#ifndef RUNIT_PLAT_TAR_H
#define RUNIT_PLAT_TAR_H

#include <stddef.h>
#include <stdint.h>

#define PLAT_TAR_BLOCK 512
#define PLAT_TAR_MAX_PATH 255
/* Largest file: what 11 octal digits of the size field hold, minus one. */
#define PLAT_TAR_MAX_FILE 077777777777ULL

struct plat_tar {
	char *data; /* the archive so far; owned */
	size_t len;
	size_t cap;
	unsigned uid;
	unsigned gid;
	int64_t mtime; /* the date of the entries added from now on */
	/* paths already written, for duplicates and implicit parents */
	char **paths; /* owned, open-addressed hash set */
	unsigned char *is_dir;
	size_t nslots;
	size_t nused;
	int finished;
};

/* An empty archive whose entries will belong to uid:gid, dated mtime. */
void plat_tar_init(struct plat_tar *t, unsigned uid, unsigned gid, int64_t mtime);

/* Frees what the archive holds; t may be initialised again. */
void plat_tar_release(struct plat_tar *t);

/*
 * 0 if path is acceptable as an archive entry, else PLAT_E_INVAL (shape) or
 * PLAT_E_TOO_LONG (does not fit ustar).
 */
int plat_tar_check_path(const char *path);

/*
 * Add a directory (and its parents). Adding one that is already there is a
 * no-op. PLAT_E_EXISTS if a file has that path.
 */
int plat_tar_add_dir(struct plat_tar *t, const char *path, unsigned mode);

/*
 * Add a regular file with these contents (copied); parent directories are
 * added as 0755 first. mode 0 means 0644. PLAT_E_EXISTS if the path, or a
 * parent of it as a file, is already in the archive; PLAT_E_TOO_LONG for a
 * path that does not fit or a file over PLAT_TAR_MAX_FILE.
 */
int plat_tar_add_file(struct plat_tar *t, const char *path, const void *data, size_t len,
		      unsigned mode);

/*
 * End the archive (two zero blocks). After it t->data and t->len are the
 * complete archive, and nothing more may be added (PLAT_E_INVAL).
 */
int plat_tar_finish(struct plat_tar *t);

#endif
