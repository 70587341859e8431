/*
 * plat_docker_cgroup.c - the kernel side of a resource pool (platform.h,
 * spec.pool) for the "docker" platform: the pool's cgroup parent, and its
 * limits written into the cgroup filesystem when the engine is on this
 * machine and that filesystem is writable (the server runs as root).
 *
 * The Engine API puts a container under a parent (HostConfig.CgroupParent)
 * but sets no limit on the parent itself; the engine creates a missing
 * parent with none. So before the create this file makes the parent and
 * writes its limits: cgroup v1 (cpu and memory hierarchies, the engine's
 * cgroupfs driver): cpu.cfs_period_us, cpu.cfs_quota_us (the pool's CPU as
 * a hard cap), cpu.shares (the pool's CPU as its weight against the other
 * pools when the host is busy) and memory.limit_in_bytes; cgroup v2:
 * cpu.max, cpu.weight and memory.max, with the cpu and memory controllers
 * enabled down the path. Without write access (a remote engine, a rootless
 * server) the parent is still named: the engine makes it, unlimited, and
 * the pools still share the CPU by equal weight. A failed write (a limit
 * lowered under a running container's, which the kernel refuses) leaves the
 * old value: the next create writes again. docs/platforms/docker.md.
 *
 * The writes are a few small writes to a kernel filesystem that lives in
 * memory, made once per create: they are done on the loop, like a clock read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plat_docker_int.h"

#define DK_CGROUP_ROOT "/sys/fs/cgroup"
#define DK_CGROUP_TOP "runit"
#define DK_CFS_PERIOD_US 100000ULL

bool dk_valid_pool(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 48 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int dk_cgroup_parent(const char *pool, char *out, size_t n)
{
	int k = snprintf(out, n, "/" DK_CGROUP_TOP "/%s", pool);

	return k < 0 || (size_t)k >= n ? PLAT_E_TOO_LONG : 0;
}

static int put(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, rc = 0;
	size_t len = strlen(val);

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, val, len) != (ssize_t)len)
		rc = -1;
	if (close(fd))
		rc = -1;
	return rc;
}

/* mkdir -p of root/top/pool (root exists). 0 or -1. */
static int make_dirs(const char *root, const char *pool, char *dir, size_t n)
{
	if ((size_t)snprintf(dir, n, "%s/" DK_CGROUP_TOP, root) >= n ||
	    (mkdir(dir, 0755) && errno != EEXIST))
		return -1;
	if ((size_t)snprintf(dir, n, "%s/" DK_CGROUP_TOP "/%s", root, pool) >= n ||
	    (mkdir(dir, 0755) && errno != EEXIST))
		return -1;
	return 0;
}

/* cpu.shares (v1): 1024 per CPU of the pool, in the kernel's range. */
static unsigned long long shares_of(uint64_t nano_cpus)
{
	unsigned long long s = nano_cpus ? nano_cpus * 1024 / 1000000000ULL : 1024;

	return s < 2 ? 2 : s > 262144 ? 262144 : s;
}

static int v1_limits(const struct plat_spec *s)
{
	char dir[200], v[48];
	int bad = 0;

	if (make_dirs(DK_CGROUP_ROOT "/cpu", s->pool, dir, sizeof(dir)))
		return -1;
	bad |= put(dir, "cpu.cfs_period_us", "100000");
	if (s->pool_nano_cpus)
		snprintf(
		    v, sizeof(v), "%llu",
		    (unsigned long long)(s->pool_nano_cpus * DK_CFS_PERIOD_US / 1000000000ULL));
	else
		snprintf(v, sizeof(v), "-1");
	bad |= put(dir, "cpu.cfs_quota_us", v);
	snprintf(v, sizeof(v), "%llu", shares_of(s->pool_nano_cpus));
	bad |= put(dir, "cpu.shares", v);
	if (make_dirs(DK_CGROUP_ROOT "/memory", s->pool, dir, sizeof(dir)))
		return -1;
	if (s->pool_memory_bytes)
		snprintf(v, sizeof(v), "%llu", (unsigned long long)s->pool_memory_bytes);
	else
		snprintf(v, sizeof(v), "-1");
	bad |= put(dir, "memory.limit_in_bytes", v);
	return bad ? -1 : 0;
}

static int v2_limits(const struct plat_spec *s)
{
	char dir[200], v[64];
	unsigned long long w;
	int bad = 0;

	bad |= put(DK_CGROUP_ROOT, "cgroup.subtree_control", "+cpu +memory");
	if (make_dirs(DK_CGROUP_ROOT, s->pool, dir, sizeof(dir)))
		return -1;
	bad |= put(DK_CGROUP_ROOT "/" DK_CGROUP_TOP, "cgroup.subtree_control", "+cpu +memory");
	if (s->pool_nano_cpus)
		snprintf(v, sizeof(v), "%llu %llu",
			 (unsigned long long)(s->pool_nano_cpus * DK_CFS_PERIOD_US / 1000000000ULL),
			 DK_CFS_PERIOD_US);
	else
		snprintf(v, sizeof(v), "max %llu", DK_CFS_PERIOD_US);
	bad |= put(dir, "cpu.max", v);
	w = shares_of(s->pool_nano_cpus) * 100 / 1024; /* weight 100 per CPU */
	snprintf(v, sizeof(v), "%llu", w < 1 ? 1 : w > 10000 ? 10000 : w);
	bad |= put(dir, "cpu.weight", v);
	if (s->pool_memory_bytes)
		snprintf(v, sizeof(v), "%llu", (unsigned long long)s->pool_memory_bytes);
	else
		snprintf(v, sizeof(v), "max");
	bad |= put(dir, "memory.max", v);
	bad |= put(dir, "cgroup.subtree_control", "+cpu +memory");
	return bad ? -1 : 0;
}

int dk_cgroup_limits(const struct plat_docker *d, const struct plat_spec *s)
{
	if (!s->pool || d->podman || !d->socket_path || access(DK_CGROUP_ROOT, W_OK))
		return 1;
	if (!access(DK_CGROUP_ROOT "/cgroup.controllers", F_OK))
		return v2_limits(s);
	if (access(DK_CGROUP_ROOT "/cpu", W_OK) || access(DK_CGROUP_ROOT "/memory", W_OK))
		return 1;
	return v1_limits(s);
}
