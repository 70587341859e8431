/*
 * test_plat_tar.c - the in-memory ustar writer: header fields and checksum
 * computed here independently, padding and end blocks, implicit parent
 * directories, long paths through the prefix field, refused paths, and the
 * archive read back by GNU tar (tar -tvf, tar -x) through popen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "plat_tar.h"
#include "platform.h"

static unsigned long octal(const unsigned char *f, size_t n)
{
	unsigned long v = 0;

	for (size_t i = 0; i < n && f[i] >= '0' && f[i] <= '7'; i++)
		v = v * 8 + (unsigned long)(f[i] - '0');
	return v;
}

static void check_header(const unsigned char *h)
{
	unsigned sum = 0;

	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	assert_int_equal(octal(h + 148, 8), sum);
	assert_memory_equal(h + 257,
			    "ustar\0"
			    "00",
			    8);
}

static void test_tar_header_fields_and_checksum(void **state)
{
	struct plat_tar t;
	const unsigned char *h;

	plat_tar_init(&t, 1000, 1000, 1700000000);
	assert_int_equal(plat_tar_add_file(&t, "main.sh", "echo hi\n", 8, 0755), 0);
	assert_int_equal(plat_tar_finish(&t), 0);
	h = (const unsigned char *)t.data;
	check_header(h);
	assert_string_equal((const char *)h, "main.sh");
	assert_int_equal(octal(h + 100, 8), 0755);
	assert_int_equal(octal(h + 108, 8), 1000);
	assert_int_equal(octal(h + 116, 8), 1000);
	assert_int_equal(octal(h + 124, 12), 8);
	assert_int_equal(octal(h + 136, 12), 1700000000);
	assert_int_equal(h[156], '0');
	assert_memory_equal(h + 512, "echo hi\n", 8);
	/* header, one data block, two zero blocks */
	assert_int_equal(t.len, 4 * 512);
	for (size_t i = 512 + 8; i < t.len; i++)
		assert_int_equal(t.data[i], 0);
	plat_tar_release(&t);
}

static void test_tar_sizes_are_padded(void **state)
{
	struct plat_tar t;
	char big[513];

	memset(big, 'x', sizeof(big));
	plat_tar_init(&t, 1000, 1000, 0);
	assert_int_equal(plat_tar_add_file(&t, "empty", "", 0, 0), 0);
	assert_int_equal(t.len, 512);
	assert_int_equal(plat_tar_add_file(&t, "big", big, sizeof(big), 0), 0);
	assert_int_equal(t.len, 512 + 512 + 1024);
	assert_int_equal(plat_tar_add_file(&t, "exact", big, 512, 0), 0);
	assert_int_equal(t.len, 2048 + 1024);
	assert_int_equal(plat_tar_finish(&t), 0);
	assert_int_equal(t.len % 512, 0);
	/* mode 0 means 0644 */
	assert_int_equal(octal((unsigned char *)t.data + 100, 8), 0644);
	/* nothing more after finish */
	assert_int_equal(plat_tar_add_file(&t, "late", "", 0, 0), PLAT_E_INVAL);
	assert_int_equal(plat_tar_finish(&t), PLAT_E_INVAL);
	plat_tar_release(&t);
}

static void test_tar_nested_paths_get_parent_dirs_first(void **state)
{
	struct plat_tar t;
	const unsigned char *h;

	plat_tar_init(&t, 1000, 1000, 0);
	assert_int_equal(plat_tar_add_file(&t, "src/util/x.go", "package u\n", 10, 0), 0);
	assert_int_equal(plat_tar_add_file(&t, "src/main.go", "package m\n", 10, 0), 0);
	h = (const unsigned char *)t.data;
	assert_string_equal((const char *)h, "src/");
	assert_int_equal(h[156], '5');
	assert_int_equal(octal(h + 100, 8), 0755);
	assert_int_equal(octal(h + 108, 8), 1000);
	check_header(h);
	assert_string_equal((const char *)h + 512, "src/util/");
	assert_string_equal((const char *)h + 1024, "src/util/x.go");
	assert_int_equal(h[1024 + 156], '0');
	/* src/ is not written twice */
	assert_string_equal((const char *)h + 2048, "src/main.go");
	assert_int_equal(t.len, 6 * 512);
	/* an explicit directory that already exists is a no-op */
	assert_int_equal(plat_tar_add_dir(&t, "src", 0700), 0);
	assert_int_equal(t.len, 6 * 512);
	assert_int_equal(plat_tar_add_dir(&t, "empty/dir", 0700), 0);
	assert_int_equal(t.len, 8 * 512);
	assert_string_equal(t.data + 7 * 512, "empty/dir/");
	assert_int_equal(octal((unsigned char *)t.data + 7 * 512 + 100, 8), 0700);
	plat_tar_release(&t);
}

static void test_tar_long_paths_use_prefix(void **state)
{
	struct plat_tar t;
	char path[300];
	const unsigned char *h;

	/* 70 + '/' + 79 + '/' + 90 = 241 */
	memset(path, 'd', 70);
	path[70] = '/';
	memset(path + 71, 'e', 79);
	path[150] = '/';
	memset(path + 151, 'f', 90);
	path[241] = '\0';
	plat_tar_init(&t, 1000, 1000, 0);
	assert_int_equal(plat_tar_add_file(&t, path, "x", 1, 0), 0);
	h = (const unsigned char *)t.data + 512; /* the second directory */
	check_header(h);
	assert_memory_equal(h, path + 71, 79);
	assert_string_equal((const char *)h + 79, "/");
	assert_int_equal(strnlen((const char *)h + 345, 155), 70);
	h += 512; /* the file */
	check_header(h);
	assert_int_equal(strnlen((const char *)h, 100), 90);
	assert_int_equal(strnlen((const char *)h + 345, 155), 150);
	assert_memory_equal(h + 345, path, 150);
	plat_tar_release(&t);

	/* a 150-byte directory cannot have its own entry: refused */
	memset(path, 'd', 150);
	path[150] = '/';
	memset(path + 151, 'f', 10);
	path[161] = '\0';
	assert_int_equal(plat_tar_check_path(path), PLAT_E_TOO_LONG);

	/* exactly 100 bytes fits the name field without a NUL */
	memset(path, 'n', 100);
	path[100] = '\0';
	assert_int_equal(plat_tar_check_path(path), 0);
	/* a single component of 101 bytes fits nowhere */
	memset(path, 'n', 101);
	path[101] = '\0';
	assert_int_equal(plat_tar_check_path(path), PLAT_E_TOO_LONG);
	/* 255 fits (155 + '/' + 99), 256 never */
	memset(path, 'a', 155);
	path[50] = '/';
	path[100] = '/';
	path[155] = '/';
	memset(path + 156, 'b', 99);
	path[255] = '\0';
	assert_int_equal(plat_tar_check_path(path), 0);
	path[255] = 'b';
	path[256] = '\0';
	assert_int_equal(plat_tar_check_path(path), PLAT_E_TOO_LONG);
	/* a 156-byte first part cannot be the prefix */
	memset(path, 'a', 156);
	path[156] = '/';
	memset(path + 157, 'b', 10);
	path[167] = '\0';
	assert_int_equal(plat_tar_check_path(path), PLAT_E_TOO_LONG);
}

static void test_tar_refuses_bad_paths(void **state)
{
	static const char *bad[] = {
	    "",	   "/etc/passwd", "..",	  "../x", "a/../b", "a/..",	 ".",
	    "./a", "a/./b",	  "a//b", "a/",	  "a\nb",   "tab\there", "del\x7f",
	};
	struct plat_tar t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(plat_tar_check_path(bad[i]), PLAT_E_INVAL);
	assert_int_equal(plat_tar_check_path(NULL), PLAT_E_INVAL);
	assert_int_equal(plat_tar_check_path("..hidden/...x/a b/ünï.py"), 0);
	plat_tar_init(&t, 1000, 1000, 0);
	assert_int_equal(plat_tar_add_file(&t, "../escape", "x", 1, 0), PLAT_E_INVAL);
	assert_int_equal(t.len, 0);
	plat_tar_release(&t);
}

static void test_tar_refuses_duplicates_and_file_dir_clashes(void **state)
{
	struct plat_tar t;

	plat_tar_init(&t, 1000, 1000, 0);
	assert_int_equal(plat_tar_add_file(&t, "a", "1", 1, 0), 0);
	assert_int_equal(plat_tar_add_file(&t, "a", "2", 1, 0), PLAT_E_EXISTS);
	assert_int_equal(plat_tar_add_file(&t, "a/b", "3", 1, 0), PLAT_E_EXISTS);
	assert_int_equal(plat_tar_add_dir(&t, "a", 0), PLAT_E_EXISTS);
	assert_int_equal(plat_tar_add_file(&t, "d/x", "4", 1, 0), 0);
	assert_int_equal(plat_tar_add_file(&t, "d", "5", 1, 0), PLAT_E_EXISTS);
	plat_tar_release(&t);
}

static void test_tar_masks_special_mode_bits(void **state)
{
	struct plat_tar t;

	plat_tar_init(&t, 1000, 1000, 0);
	assert_int_equal(plat_tar_add_file(&t, "s", "x", 1, 06755 | 01000), 0);
	assert_int_equal(octal((unsigned char *)t.data + 100, 8), 0755);
	plat_tar_release(&t);
}

static void test_tar_many_files_hash_set_grows(void **state)
{
	struct plat_tar t;
	char p[32];

	plat_tar_init(&t, 1000, 1000, 0);
	for (int i = 0; i < 500; i++) {
		snprintf(p, sizeof(p), "d%d/f%d", i % 7, i);
		assert_int_equal(plat_tar_add_file(&t, p, "x", 1, 0), 0);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(p, sizeof(p), "d%d/f%d", i % 7, i);
		assert_int_equal(plat_tar_add_file(&t, p, "y", 1, 0), PLAT_E_EXISTS);
	}
	assert_int_equal(t.len, (7 + 500 * 2) * 512);
	plat_tar_release(&t);
}

/* All a command prints, as a string. */
static void slurp(FILE *p, char *buf, size_t n)
{
	size_t len = fread(buf, 1, n - 1, p);

	buf[len] = '\0';
}

/* Write the archive to a file in dir; return its path in buf. */
static void save(const struct plat_tar *t, const char *dir, char *buf, size_t n)
{
	FILE *f;

	snprintf(buf, n, "%s/a.tar", dir);
	f = fopen(buf, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(t->data, 1, t->len, f), t->len);
	assert_int_equal(fclose(f), 0);
}

static void test_tar_gnu_tar_reads_it_back(void **state)
{
	char dir[] = "/tmp/test_plat_tar.XXXXXX";
	char tarpath[256], cmd[1024], listing[4096];
	char longp[260];
	struct plat_tar t;
	struct stat st;
	FILE *p;

	assert_non_null(mkdtemp(dir));
	memset(longp, 'K', 60);
	longp[60] = '/';
	memset(longp + 61, 'L', 89);
	longp[150] = '/';
	memset(longp + 151, 'M', 100);
	longp[251] = '\0';
	plat_tar_init(&t, 1000, 1000, 1700000000);
	assert_int_equal(plat_tar_add_file(&t, "main.py", "print(1)\n", 9, 0), 0);
	assert_int_equal(plat_tar_add_file(&t, "src/util/x.go", "package u\n", 10, 0755), 0);
	assert_int_equal(plat_tar_add_file(&t, longp, "deep", 4, 0), 0);
	assert_int_equal(plat_tar_finish(&t), 0);
	save(&t, dir, tarpath, sizeof(tarpath));

	snprintf(cmd, sizeof(cmd), "tar --numeric-owner -tvf %s 2>&1", tarpath);
	p = popen(cmd, "r");
	assert_non_null(p);
	slurp(p, listing, sizeof(listing));
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(listing, "-rw-r--r-- 1000/1000         9 "));
	assert_non_null(strstr(listing, " main.py\n"));
	assert_non_null(strstr(listing, "drwxr-xr-x 1000/1000         0 "));
	assert_non_null(strstr(listing, " src/\n"));
	assert_non_null(strstr(listing, " src/util/\n"));
	assert_non_null(strstr(listing, "-rwxr-xr-x 1000/1000        10 "));
	assert_non_null(strstr(listing, " src/util/x.go\n"));
	assert_non_null(strstr(listing, longp));
	assert_null(strstr(listing, "tar:")); /* no warnings, no checksum errors */

	snprintf(cmd, sizeof(cmd),
		 "tar -C %s -xf %s && cat %s/src/util/x.go "
		 "%s/%s",
		 dir, tarpath, dir, dir, longp);
	p = popen(cmd, "r");
	assert_non_null(p);
	slurp(p, listing, sizeof(listing));
	assert_int_equal(pclose(p), 0);
	assert_string_equal(listing, "package u\ndeep");
	snprintf(cmd, sizeof(cmd), "%s/src/util/x.go", dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	plat_tar_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tar_header_fields_and_checksum),
	    cmocka_unit_test(test_tar_sizes_are_padded),
	    cmocka_unit_test(test_tar_nested_paths_get_parent_dirs_first),
	    cmocka_unit_test(test_tar_long_paths_use_prefix),
	    cmocka_unit_test(test_tar_refuses_bad_paths),
	    cmocka_unit_test(test_tar_refuses_duplicates_and_file_dir_clashes),
	    cmocka_unit_test(test_tar_masks_special_mode_bits),
	    cmocka_unit_test(test_tar_many_files_hash_set_grows),
	    cmocka_unit_test(test_tar_gnu_tar_reads_it_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
