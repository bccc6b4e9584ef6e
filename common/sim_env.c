// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one owner of how a process finds pvsim and where daemons keep their
 * run files (pvcommon.h "pvsim environment").  A process acts as domain
 * $PVSIM_DOMID (default 0) of the pvsim instance in $PVSIM_DIR (default
 * pv_sim_default_dir()); pvsim's run directory holds
 *
 *   ctl.sock        pvsim's control socket (create, lookup, ...)
 *   xs/<domid>      xenstored, one socket per domain (XENSTORED_PATH)
 *   hv/<domid>      the hypervisor, one socket per domain (common/hv_sim.c)
 *   <prog>.sock     a backend daemon's control socket (pv_run_path)
 *   <prog>.state    its restart journals
 *
 * On Xen the daemons use /run/<prog>/control.sock and /run/<prog>/state.
 * The environment is read when asked, never cached: tests and the fio engine
 * change it at run time (pv_sim_become).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xen/xen.h>

#include "pvcommon.h"

static char default_dir[256];
static pthread_once_t default_dir_once = PTHREAD_ONCE_INIT;

static void build_default_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		snprintf(default_dir, sizeof(default_dir), "/run/pvsim");
	else if (xdg && *xdg == '/' && strlen(xdg) < sizeof(default_dir) - 8)
		snprintf(default_dir, sizeof(default_dir), "%s/pvsim", xdg);
	else
		snprintf(default_dir, sizeof(default_dir), "/tmp/pvsim-%u", (unsigned)getuid());
}

const char *pv_sim_default_dir(void)
{
	pthread_once(&default_dir_once, build_default_dir);
	return default_dir;
}

bool pv_sim_configured(void)
{
	const char *d = getenv("PVSIM_DIR");

	return d && *d;
}

const char *pv_sim_dir(void)
{
	const char *d = getenv("PVSIM_DIR");

	return d && *d ? d : pv_sim_default_dir();
}

int pv_sim_domid(uint16_t *out)
{
	const char *s = getenv("PVSIM_DOMID");
	uint64_t v;

	if (!s || !*s) {
		*out = 0;
		return 0;
	}
	if (pv_parse_uint(s, 0, DOMID_FIRST_RESERVED - 1, &v) < 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int pv_sim_path(char *buf, size_t len, const char *dir, const char *leaf, int domid)
{
	int n;

	if (!dir)
		dir = pv_sim_dir();
	if (domid >= 0)
		n = snprintf(buf, len, "%s/%s/%d", dir, leaf, domid);
	else
		n = snprintf(buf, len, "%s/%s", dir, leaf);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pv_sim_lookup(const char *dir, const char *name)
{
	char path[256], req[128], buf[256], *last;
	size_t off = 0;
	uint64_t v;
	ssize_t n;
	int fd, rc;

	if (pv_parse_uint(name, 0, DOMID_FIRST_RESERVED - 1, &v) == 0)
		return (int)v;
	rc = pv_sim_path(path, sizeof(path), dir, "ctl.sock", -1);
	if (rc < 0)
		return rc;
	if ((size_t)snprintf(req, sizeof(req), "lookup %s\n", name) >= sizeof(req))
		return -ENAMETOOLONG;
	fd = pv_unix_connect(path, SOCK_STREAM);
	if (fd < 0)
		return fd;
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	while (off && buf[off - 1] == '\n')
		buf[--off] = '\0';
	/* pvsim's reply ends with "ok <domid>" or "err <text>". */
	last = strrchr(buf, '\n');
	last = last ? last + 1 : buf;
	if (strncmp(last, "ok ", 3) || pv_parse_uint(last + 3, 0, DOMID_FIRST_RESERVED - 1, &v) < 0)
		return -ENOENT;
	return (int)v;
}

int pv_sim_become(const char *dir, const char *name)
{
	char path[256], id[16];
	int domid, rc;

	if (!dir)
		dir = pv_sim_dir();
	domid = pv_sim_lookup(dir, name);
	if (domid < 0)
		return domid;
	rc = pv_sim_path(path, sizeof(path), dir, "xs", domid);
	if (rc < 0)
		return rc;
	snprintf(id, sizeof(id), "%d", domid);
	/* What `pvsim env NAME` prints. */
	if (setenv("PVSIM_DIR", dir, 1) || setenv("PVSIM_DOMID", id, 1) ||
	    setenv("PVBACK_HV", "sim", 1) || setenv("XENSTORED_PATH", path, 1))
		return -errno;
	return domid;
}

int pv_run_path(enum pv_hv_kind kind, const char *prog, enum pv_run_file f, char *buf, size_t len)
{
	int n;

	if (kind == PV_HV_SIM)
		n = snprintf(buf, len, "%s/%s.%s", pv_sim_dir(), prog, f == PV_RUN_CTL ? "sock" : "state");
	else
		n = snprintf(buf, len, "/run/%s/%s", prog, f == PV_RUN_CTL ? "control.sock" : "state");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
