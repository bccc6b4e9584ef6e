// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Small helpers every module needs once (pvcommon.h "util"): strict decimal
 * parsing, XenbusState names, unix sockets, mkdir -p, and xl's vdev names.
 * Pure or plain system calls: no logging, no global state, -errno on failure.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvcommon.h"

int pv_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull alone takes " 1", "+1" and "-1" (as ULLONG_MAX): refuse them. */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *pv_xb_state_name(int state)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
		"Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (state < 0 || state >= (int)(sizeof(names) / sizeof(names[0])))
		return "invalid";
	return names[state];
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int pv_unix_connect(const char *path, int type)
{
	struct sockaddr_un sa;
	int fd, rc;

	rc = unix_addr(path, &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int pv_unix_listen(const char *path, int type, mode_t mode)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, rc;

	rc = unix_addr(path, &sa);
	if (rc < 0)
		return rc;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		/* A socket left by a process that died: nobody answers, replace it. */
		fd = pv_unix_connect(path, type);
		if (fd >= 0) {
			close(fd);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Never a moment with looser permissions than asked. */
	old = umask((~mode) & 0777);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || chmod(path, mode) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		if (rc != -EADDRINUSE)
			unlink(path);
		close(fd);
		return rc;
	}
	return fd;
}

int pv_mkdir_p(const char *path, mode_t last_mode)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, last_mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int pv_vdev_to_devid(const char *vdev, uint32_t *devid)
{
	unsigned disk = 0, part = 0, major;
	const char *p;
	uint64_t v;

	if (!vdev || !*vdev)
		return -EINVAL;
	if (vdev[0] >= '0' && vdev[0] <= '9') {
		if (pv_parse_uint(vdev, 0, 0x7fffffff, &v) < 0)
			return -EINVAL;
		*devid = (uint32_t)v;
		return 0;
	}
	if (!strncmp(vdev, "xvd", 3))
		major = 202;
	else if (!strncmp(vdev, "hd", 2))
		major = 3;
	else if (!strncmp(vdev, "sd", 2))
		major = 8;
	else
		return -EINVAL;
	p = vdev + (major == 202 ? 3 : 2);
	if (*p < 'a' || *p > 'z')
		return -EINVAL;
	/* Letters are bijective base 26: a..z, aa..zz, ... */
	while (*p >= 'a' && *p <= 'z') {
		disk = disk * 26 + (unsigned)(*p - 'a' + 1);
		if (disk > 1u << 20)
			return -EINVAL;
		p++;
	}
	disk--;
	if (*p) {
		if (pv_parse_uint(p, 1, 255, &v) < 0)
			return -EINVAL;
		part = (unsigned)v;
	}
	if (major == 202) {
		if (disk < 16 && part < 16)
			*devid = (202u << 8) | disk << 4 | part;
		else if (disk < (1u << 20))
			*devid = (1u << 28) | disk << 8 | part; /* extended */
		else
			return -EINVAL;
		return 0;
	}
	if (major == 3) {
		if (disk > 3 || part > 63)
			return -EINVAL;
		*devid = (3u << 8) | disk << 6 | part;
		return 0;
	}
	if (disk > 15 || part > 15)
		return -EINVAL;
	*devid = (8u << 8) | disk << 4 | part;
	return 0;
}
