// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim's toolstack role, part two: a vif's hotplug script, run as libxl
 * 4.17's device_hotplug runs it (libxl_device.c; libxl_linux.c
 * libxl__hotplug_nic and get_hotplug_env): `SCRIPT online|offline
 * type_if=vif` with stdin on /dev/null and stdout on our stderr, killed
 * after LIBXL_HOTPLUG_TIMEOUT; libxl's variables (script, XENBUS_TYPE,
 * XENBUS_PATH relative to dom0's home, XENBUS_BASE_PATH, netdev, vif)
 * on top of our environment, which is pvsim's dom0 environment, so the
 * script's xenstore-read/-write reach pvsim's xenstored.  Also the rule
 * that turns script=NAME into a path.
 *
 * Runs in the CLI process, whose libxenstore handle may run a reader
 * thread: the child only redirects and execs (everything is built before
 * fork()).  Only dom0-served vifs get scripts (libxl runs none for a
 * driver domain's devices), and vbd scripts are not run at all (pvback-blk
 * writes its own hotplug-status).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "pvcommon.h"
#include "toolstack.h"

extern char **environ;

/* The scripts/ directory of the source tree whose build dir holds our
 * binary (<tree>/build/bin/pvsim -> <tree>/scripts), if it exists. */
static int tree_script_dir(char *out, size_t len)
{
	char exe[PATH_MAX], dir[PATH_MAX + 16], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../../scripts", exe);
	if (!realpath(dir, exe))
		return -errno;
	if ((size_t)snprintf(out, len, "%s", exe) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int sim_hotplug_resolve(const char *name, bool must_exist, char *out, size_t len, char *err,
			size_t errlen)
{
	char tree[PATH_MAX] = "";

	if (!name)
		name = access(SIM_XEN_SCRIPT_DIR "/vif-bridge", F_OK) == 0 ? "vif-bridge"
									  : "pvback-vif-bridge";
	if (!*name) {
		snprintf(err, errlen, "empty script=");
		return -EINVAL;
	}
	if (name[0] == '/') {
		if ((size_t)snprintf(out, len, "%s", name) >= len)
			return -ENAMETOOLONG;
		if (must_exist && access(out, F_OK)) {
			snprintf(err, errlen, "hotplug script %s: %s", out, strerror(errno));
			return -ENOENT;
		}
		return 0;
	}
	if ((size_t)snprintf(out, len, "%s/%s", SIM_XEN_SCRIPT_DIR, name) >= len)
		return -ENAMETOOLONG;
	if (access(out, F_OK) == 0)
		return 0;
	if (tree_script_dir(tree, sizeof(tree)) == 0) {
		char cand[PATH_MAX * 2];

		snprintf(cand, sizeof(cand), "%s/%s", tree, name);
		if (access(cand, F_OK) == 0) {
			if ((size_t)snprintf(out, len, "%s", cand) >= len)
				return -ENAMETOOLONG;
			return 0;
		}
	}
	if (!must_exist)
		return 0; /* libxl's path; nothing runs it */
	snprintf(err, errlen, "hotplug script '%s' is neither in %s nor in %s", name,
		 SIM_XEN_SCRIPT_DIR, tree[0] ? tree : "a source tree's scripts/ next to pvsim");
	return -ENOENT;
}

/* ------------------------------------------------------------ running */

struct env {
	char **v;
	size_t n, cap;
};

static int env_add(struct env *e, const char *name, const char *val)
{
	char *s;

	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	if (val ? asprintf(&s, "%s=%s", name, val) < 0 : !(s = strdup(name)))
		return -ENOMEM;
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

static void env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* Our environment with names[i]=vals[i] set over it (libxl__exec setenv()s
 * them in the child; we may not, with a thread about). */
static int env_build(struct env *e, const char *const *names, const char *const *vals,
		     unsigned n)
{
	int rc = 0;

	for (char **p = environ; *p && !rc; p++) {
		size_t kl = strcspn(*p, "=");
		bool ours = false;

		for (unsigned i = 0; i < n && !ours; i++)
			ours = strlen(names[i]) == kl && !strncmp(*p, names[i], kl);
		if (!ours)
			rc = env_add(e, *p, NULL);
	}
	for (unsigned i = 0; i < n && !rc; i++)
		rc = env_add(e, names[i], vals[i]);
	return rc;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Wait for the child for at most timeout_ms; SIGKILL it after that, as
 * libxl's async_exec_timeout does.  0 with *status, or -ETIMEDOUT. */
static int child_wait(pid_t pid, int timeout_ms, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), rc = 0;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Without pidfds (Linux < 5.3) the wait is not bounded. */
	while (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		long left = timeout_ms - ms_since(&t0);
		int n = left > 0 ? poll(&p, 1, (int)left) : 0;

		if (n > 0)
			break;
		if (n == 0) {
			kill(pid, SIGKILL);
			rc = -ETIMEDOUT;
			break;
		}
		if (errno != EINTR)
			break;
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return rc;
}

static bool nonempty(const char *val, const void *arg)
{
	return *val;
}

/* After `online` exited 0: the script's verdict, which it may leave to a
 * helper it started (within what is left of the timeout). */
static int online_status(struct xs_handle *xs, const char *be, const char *what, long left_ms,
			 char *err, size_t errlen)
{
	char path[300], *st = NULL, *why;
	int rc;

	snprintf(path, sizeof(path), "%s/hotplug-status", be);
	rc = sim_ts_wait(xs, path, nonempty, NULL, left_ms > 0 ? (int)left_ms : 0, &st);
	if (rc == 0 && !strcmp(st, "connected")) {
		free(st);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/hotplug-error", be);
	why = xs_read(xs, XBT_NULL, path, NULL);
	if (rc == -ENOENT)
		snprintf(err, errlen, "%s: the backend directory was removed", what);
	else if (rc < 0)
		snprintf(err, errlen, "%s exited 0 but wrote no hotplug-status in %d s", what,
			 SIM_TS_HOTPLUG_TIMEOUT_MS / 1000);
	else
		snprintf(err, errlen, "%s: hotplug-status is '%s'%s%s", what, st, why ? ": " : "",
			 why ? why : "");
	free(why);
	free(st);
	return rc < 0 ? rc : -EIO;
}

int sim_hotplug_run_vif(struct xs_handle *xs, unsigned domid, int devid, const char *action,
			char *err, size_t errlen)
{
	static const char *const names[] = { "script", "XENBUS_TYPE", "XENBUS_PATH",
		"XENBUS_BASE_PATH", "netdev", "vif" };
	char be[160], rel[128], path[300], ifname[32], what[PATH_MAX + 32];
	char *script, *gw, *why;
	struct env env = { 0 };
	struct timespec t0;
	int rc, nul, status = 0;
	pid_t pid;

	snprintf(rel, sizeof(rel), "backend/vif/%u/%d", domid, devid);
	snprintf(be, sizeof(be), "/local/domain/0/%s", rel);
	snprintf(path, sizeof(path), "%s/script", be);
	script = xs_read(xs, XBT_NULL, path, NULL);
	if (!script) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(what, sizeof(what), "%s %s", script, action);
	if (access(script, X_OK)) {
		rc = -errno;
		snprintf(err, errlen, "hotplug script %s: %s", script, strerror(errno));
		free(script);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/gatewaydev", be);
	gw = xs_read(xs, XBT_NULL, path, NULL);
	/* libxl__device_nic_devname: always the kernel's name; the script
	 * itself renames it to the vifname key (vif-common.sh). */
	snprintf(ifname, sizeof(ifname), "vif%u.%d", domid, devid);
	{
		const char *vals[] = { script, "vif", rel, "backend", gw ? gw : "", ifname };

		rc = env_build(&env, names, vals, sizeof(names) / sizeof(names[0]));
	}
	free(gw);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", what, strerror(-rc));
		goto out;
	}

	char *const argv[] = { script, (char *)action, "type_if=vif", NULL };

	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = nul < 0 ? -1 : fork();
	if (pid == 0) {
		if (dup2(nul, 0) < 0 || dup2(2, 1) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		execve(script, argv, env.v);
		_exit(127);
	}
	if (nul >= 0)
		close(nul);
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot start it: %s", what, strerror(errno));
		goto out;
	}
	rc = child_wait(pid, SIM_TS_HOTPLUG_TIMEOUT_MS, &status);
	if (rc == -ETIMEDOUT) {
		snprintf(err, errlen, "%s did not finish in %d s: killed", what,
			 SIM_TS_HOTPLUG_TIMEOUT_MS / 1000);
		goto out;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: waiting for it: %s", what, strerror(-rc));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		/* libxl's device_hotplug_child_death_cb: the reason is hotplug-error. */
		snprintf(path, sizeof(path), "%s/hotplug-error", be);
		why = xs_read(xs, XBT_NULL, path, NULL);
		if (WIFEXITED(status))
			snprintf(err, errlen, "%s exited with status %d%s%s", what,
				 WEXITSTATUS(status), why ? ": " : "", why ? why : "");
		else
			snprintf(err, errlen, "%s killed by signal %d%s%s", what, WTERMSIG(status),
				 why ? ": " : "", why ? why : "");
		free(why);
		rc = -EIO;
		goto out;
	}
	if (!strcmp(action, "online"))
		rc = online_status(xs, be, what, SIM_TS_HOTPLUG_TIMEOUT_MS - ms_since(&t0), err,
				   errlen);
out:
	env_free(&env);
	free(script);
	return rc;
}
