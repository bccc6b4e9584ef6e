// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvsim: the embedded software hypervisor's daemon and command line.
 *
 * The daemon owns, in one single-threaded pv_loop: the xenstored (sim/xs.h),
 * the grant tables and event channels (sim/hv.h), and a control socket the
 * CLI speaks a one-line text protocol on (create, destroy, list, lookup,
 * stop).  Layout of the run directory (default pv_sim_default_dir()):
 *   ctl.sock        control socket        pvsim.pid, pvsim.log
 *   xs/<domid>      xenstored socket of each domain (XENSTORED_PATH)
 *   hv/<domid>      hypervisor socket of each domain (grants, event channels)
 * The toolstack role (attach/detach) runs in the CLI process through
 * libxenstore as dom0, exactly like libxl; see toolstack.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "pvcommon.h"
#include "hv.h"
#include "xs.h"
#include "toolstack.h"
#include "ctl.h"

#define MAX_DOMS     SIM_CTL_MAX_DOMS
#define CTL_MAX      SIM_CTL_MAX
#define NAME_MAX_LEN SIM_CTL_NAME_MAX

struct dom {
	bool used;
	char name[NAME_MAX_LEN];
	uint64_t mem;
};

struct pvsim {
	char dir[PATH_MAX - 32];
	struct pv_loop *loop;
	struct sim_xs *xs;
	struct sim_hv *hv;
	int ctl_fd;
	struct dom doms[MAX_DOMS];
	bool stopping;
	int stop_fd; /* the `pvsim stop` client: closed by our exit, so it sees EOF */
};

/* ------------------------------------------------------------ helpers */

static int sock_path(char *buf, size_t len, const char *dir, const char *sub, int domid)
{
	int n = domid < 0 ? snprintf(buf, len, "%s/%s", dir, sub)
			  : snprintf(buf, len, "%s/%s/%d", dir, sub, domid);

	return (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		       ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------------ daemon */

static int find_dom(struct pvsim *s, const char *key)
{
	int id = sim_ctl_parse_domid(key);

	if (id != -EINVAL)
		return id >= 0 && s->doms[id].used ? id : -ENOENT;
	for (int i = 0; i < MAX_DOMS; i++)
		if (s->doms[i].used && !strcmp(s->doms[i].name, key))
			return i;
	return -ENOENT;
}

/* Write the nodes libxl__domain_make writes for a new domain. */
static int write_domain_nodes(struct pvsim *s, int domid, const char *name, uint64_t mem)
{
	static const char *const rw_dirs[] = { "data", "drivers", "feature", "attr", "error",
		"control/shutdown", NULL };
	char path[128], val[64], perms[64];
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%d", domid);
	sim_xs_rm(s->xs, path);
	rc = sim_xs_mkdir(s->xs, path);
	/* libxl: the domain may read its own directory; dom0's is dom0's alone */
	if (domid)
		snprintf(perms, sizeof(perms), "n0 r%d", domid);
	else
		snprintf(perms, sizeof(perms), "n0");
	rc = rc ?: sim_xs_set_perms(s->xs, path, perms);
	snprintf(path, sizeof(path), "/local/domain/%d/name", domid);
	rc = rc ?: sim_xs_write(s->xs, path, name);
	snprintf(path, sizeof(path), "/local/domain/%d/domid", domid);
	snprintf(val, sizeof(val), "%d", domid);
	rc = rc ?: sim_xs_write(s->xs, path, val);
	snprintf(path, sizeof(path), "/local/domain/%d/memory/target", domid);
	snprintf(val, sizeof(val), "%llu", (unsigned long long)(mem >> 10));
	rc = rc ?: sim_xs_write(s->xs, path, val);
	snprintf(path, sizeof(path), "/local/domain/%d/device", domid);
	rc = rc ?: sim_xs_mkdir(s->xs, path);
	snprintf(path, sizeof(path), "/local/domain/%d/control", domid);
	rc = rc ?: sim_xs_mkdir(s->xs, path);
	snprintf(perms, sizeof(perms), "n%d", domid);
	for (const char *const *d = rw_dirs; !rc && *d; d++) {
		snprintf(path, sizeof(path), "/local/domain/%d/%s", domid, *d);
		rc = sim_xs_mkdir(s->xs, path) ?: sim_xs_set_perms(s->xs, path, perms);
	}
	if (!rc && domid != 0) {
		snprintf(path, sizeof(path), "/libxl/%d", domid);
		rc = sim_xs_mkdir(s->xs, path) ?: sim_xs_set_perms(s->xs, path, "n0");
	}
	return rc;
}

static int dom_create(struct pvsim *s, int domid, const char *name, uint64_t mem)
{
	char path[PATH_MAX];
	int rc;

	if (domid < 0) {
		for (domid = 1; domid < MAX_DOMS && s->doms[domid].used; domid++)
			;
		if (domid == MAX_DOMS)
			return -ENOSPC;
	}
	rc = sock_path(path, sizeof(path), s->dir, "hv", domid);
	if (rc)
		return rc;
	unlink(path);
	rc = sim_hv_domain_create(s->hv, (uint16_t)domid, mem, path);
	if (rc)
		return rc;
	rc = sock_path(path, sizeof(path), s->dir, "xs", domid);
	if (rc)
		goto fail_hv;
	unlink(path);
	rc = sim_xs_listen(s->xs, (uint16_t)domid, path);
	if (rc)
		goto fail_hv;
	rc = write_domain_nodes(s, domid, name, mem);
	if (rc)
		goto fail_xs;
	if (domid != 0)
		sim_xs_introduce(s->xs, (uint16_t)domid);
	s->doms[domid].used = true;
	snprintf(s->doms[domid].name, sizeof(s->doms[domid].name), "%s", name);
	s->doms[domid].mem = mem;
	pv_info(NULL, "created domain %d '%s' with %llu MiB", domid, name,
		(unsigned long long)(mem >> 20));
	return domid;

fail_xs:
	sim_xs_unlisten(s->xs, (uint16_t)domid);
	unlink(path);
fail_hv:
	sim_hv_domain_destroy(s->hv, (uint16_t)domid);
	return rc;
}

/*
 * As a dying domain on Xen: the hypervisor revokes its grants and channels,
 * xenstored fires @releaseDomain, then the toolstack force-removes the
 * domain's device nodes (libxl__devices_destroy with force) and its tree.
 */
static int dom_destroy(struct pvsim *s, int domid)
{
	char path[PATH_MAX];
	unsigned nb = 0;
	char **bdoms;

	if (domid <= 0 || domid >= MAX_DOMS || !s->doms[domid].used)
		return -ENOENT;
	sim_hv_domain_destroy(s->hv, (uint16_t)domid);
	sim_xs_release(s->xs, (uint16_t)domid);
	sim_xs_unlisten(s->xs, (uint16_t)domid);
	if (!sock_path(path, sizeof(path), s->dir, "xs", domid))
		unlink(path);
	if (!sock_path(path, sizeof(path), s->dir, "hv", domid))
		unlink(path);

	bdoms = sim_xs_directory(s->xs, "/local/domain", &nb);
	for (unsigned i = 0; bdoms && i < nb; i++) {
		unsigned nt = 0;
		char **types;

		snprintf(path, sizeof(path), "/local/domain/%s/backend", bdoms[i]);
		types = sim_xs_directory(s->xs, path, &nt);
		for (unsigned j = 0; types && j < nt; j++) {
			snprintf(path, sizeof(path), "/local/domain/%s/backend/%s/%d", bdoms[i],
				 types[j], domid);
			sim_xs_rm(s->xs, path);
		}
		free(types);
	}
	free(bdoms);
	snprintf(path, sizeof(path), "/local/domain/%d", domid);
	sim_xs_rm(s->xs, path);
	snprintf(path, sizeof(path), "/libxl/%d", domid);
	sim_xs_rm(s->xs, path);
	pv_info(NULL, "destroyed domain %d '%s'", domid, s->doms[domid].name);
	s->doms[domid].used = false;
	return 0;
}

static void on_crash(void *opaque, uint16_t domid)
{
	struct pvsim *s = opaque;

	pv_warn(NULL, "domain %u: its owning process exited; destroying it as crashed", domid);
	dom_destroy(s, domid);
}

static void ctl_reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ctl_reply(int fd, const char *fmt, ...)
{
	char buf[CTL_MAX * 4];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		pv_debug(NULL, "control reply lost: %s", strerror(errno));
}

static void ctl_list(struct pvsim *s, int fd)
{
	char buf[128 * 16];
	size_t off = 0;

	for (int i = 0; i < MAX_DOMS; i++) {
		if (!s->doms[i].used)
			continue;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%-20s %5d %8llu\n",
					s->doms[i].name, i,
					(unsigned long long)(s->doms[i].mem >> 20));
		if (off > sizeof(buf) - 128) {
			ctl_reply(fd, "%s", buf);
			off = 0;
		}
	}
	buf[off] = '\0';
	ctl_reply(fd, "%sok\n", buf);
}

/* One request line per connection: the reply ends with "ok ..." or "err ...". */
static void ctl_handle(struct pvsim *s, int fd, char *line)
{
	struct sim_ctl_req req;
	const char *const *argv = req.argv;
	int rc;

	sim_ctl_parse(line, &req);
	if (req.op == SIM_CTL_EMPTY) {
		ctl_reply(fd, "err empty request\n");
	} else if (req.op == SIM_CTL_PING) {
		ctl_reply(fd, "ok %d\n", (int)getpid());
	} else if (req.op == SIM_CTL_CREATE) {
		uint64_t mem;

		if (!sim_ctl_valid_name(argv[1]))
			ctl_reply(fd, "err invalid domain name '%s' (letters, digits, -_. ; not starting with a digit)\n",
				  argv[1]);
		else if (find_dom(s, argv[1]) >= 0)
			ctl_reply(fd, "err domain '%s' already exists\n", argv[1]);
		else if (sim_ctl_parse_size(argv[2], &mem))
			ctl_reply(fd, "err invalid memory size '%s' (e.g. 64M, a multiple of 4 KiB)\n",
				  argv[2]);
		else if ((rc = dom_create(s, -1, argv[1], mem)) < 0)
			ctl_reply(fd, "err creating domain '%s': %s\n", argv[1], strerror(-rc));
		else
			ctl_reply(fd, "ok %d\n", rc);
	} else if (req.op == SIM_CTL_DESTROY) {
		rc = find_dom(s, argv[1]);
		if (rc == 0)
			ctl_reply(fd, "err domain 0 cannot be destroyed\n");
		else if (rc < 0 || (rc = dom_destroy(s, rc)) < 0)
			ctl_reply(fd, "err no domain '%s'\n", argv[1]);
		else
			ctl_reply(fd, "ok\n");
	} else if (req.op == SIM_CTL_LOOKUP) {
		rc = find_dom(s, argv[1]);
		if (rc < 0)
			ctl_reply(fd, "err no domain '%s'\n", argv[1]);
		else
			ctl_reply(fd, "ok %d\n", rc);
	} else if (req.op == SIM_CTL_LIST) {
		ctl_list(s, fd);
	} else if (req.op == SIM_CTL_STOP) {
		s->stopping = true;
		pv_loop_stop(s->loop);
		ctl_reply(fd, "ok\n");
	} else {
		ctl_reply(fd, "err unknown request '%s'\n", argv[0]);
	}
}

static void ctl_accept(struct pv_loop *loop, int lfd, uint32_t events, void *opaque)
{
	struct pvsim *s = opaque;
	char line[CTL_MAX];
	ssize_t n;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* The CLI writes its whole line at once; bound the wait for a stuck client. */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = read(fd, line, sizeof(line) - 1);
	if (n > 0) {
		line[n] = '\0';
		ctl_handle(s, fd, line);
	}
	if (s->stopping && s->stop_fd < 0)
		s->stop_fd = fd;
	else
		close(fd);
}

static void on_signal(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct pvsim *s = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	pv_info(NULL, "signal %u: stopping", si.ssi_signo);
	s->stopping = true;
	pv_loop_stop(loop);
}

static int daemon_main(struct pvsim *s, int ready_fd)
{
	static const int signals[] = { SIGTERM, SIGINT };
	char path[PATH_MAX];
	int rc, sfd;
	mode_t mask;

	rc = pv_loop_create(&s->loop);
	if (rc)
		return rc;
	rc = sim_xs_create(s->loop, &s->xs);
	if (rc) {
		pv_err(NULL, "cannot start xenstored: %s", strerror(-rc));
		return rc;
	}
	rc = sim_hv_create(s->loop, &s->hv);
	if (rc) {
		pv_err(NULL, "cannot start the hypervisor: %s", strerror(-rc));
		return rc;
	}
	sim_hv_set_crash_cb(s->hv, on_crash, s);
	rc = dom_create(s, 0, "Domain-0", 16 << 20);
	if (rc < 0) {
		pv_err(NULL, "cannot create domain 0: %s", strerror(-rc));
		return rc;
	}
	sock_path(path, sizeof(path), s->dir, "ctl.sock", -1);
	/* The permissions bind() gives: what the umask leaves of 0777. */
	mask = umask(0);
	umask(mask);
	s->ctl_fd = pv_unix_listen(path, SOCK_STREAM, 0777 & ~mask);
	if (s->ctl_fd < 0) {
		pv_err(NULL, "cannot listen on %s: %s", path, strerror(-s->ctl_fd));
		return s->ctl_fd;
	}
	pv_loop_add_fd(s->loop, s->ctl_fd, PV_LOOP_IN, ctl_accept, s);

	/* The daemon starts no thread and runs no program: blocking the
	 * signals for their signalfd reaches nothing else. */
	sfd = pv_signalfd_open(signals, sizeof(signals) / sizeof(signals[0]));
	rc = sfd < 0 ? sfd : pv_loop_add_fd(s->loop, sfd, PV_LOOP_IN, on_signal, s);
	if (rc < 0) {
		pv_err(NULL, "signalfd: %s", strerror(-rc));
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);

	snprintf(path, sizeof(path), "%s/pvsim.pid", s->dir);
	FILE *f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	pv_info(NULL, "pvsim running in %s", s->dir);
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) < 0)
			pv_warn(NULL, "parent went away before start-up finished");
		close(ready_fd);
	}
	rc = pv_loop_run(s->loop);

	/* Shut down: guests first (their backends see @releaseDomain), then dom0. */
	for (int i = 1; i < MAX_DOMS; i++)
		if (s->doms[i].used)
			dom_destroy(s, i);
	pv_loop_del_fd(s->loop, s->ctl_fd);
	close(s->ctl_fd);
	sock_path(path, sizeof(path), s->dir, "ctl.sock", -1);
	unlink(path);
	sim_hv_destroy(s->hv);
	sim_xs_destroy(s->xs);
	pv_loop_destroy(s->loop);
	close(sfd);
	snprintf(path, sizeof(path), "%s/xs/0", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/hv/0", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/pvsim.pid", s->dir);
	unlink(path);
	pv_info(NULL, "pvsim stopped");
	return rc;
}

/* ------------------------------------------------------------ CLI */

/* Send one request; print the reply's body to out; return 0 on "ok", else -1. */
static int ctl_call(const char *dir, const char *req, char *okval, size_t oklen, bool quiet)
{
	char buf[65536], path[PATH_MAX];
	size_t off = 0, body;
	const char *last;
	ssize_t n;
	int fd;

	if (sock_path(path, sizeof(path), dir, "ctl.sock", -1))
		return -ENAMETOOLONG;
	fd = pv_unix_connect(path, SOCK_STREAM);
	if (fd < 0) {
		int err = fd;

		if (!quiet)
			fprintf(stderr, "pvsim: no pvsim running in %s (start it with 'pvsim start')\n",
				dir);
		return err;
	}
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		close(fd);
		return -EIO;
	}
	while (off < sizeof(buf) - 1 && (n = read(fd, buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	last = sim_ctl_reply_status(buf, off, &body);
	if (!strncmp(last, "ok", 2)) {
		if (body)
			fwrite(buf, 1, body, stdout);
		if (okval)
			snprintf(okval, oklen, "%s", last[2] == ' ' ? last + 3 : "");
		return 0;
	}
	if (!quiet)
		fprintf(stderr, "pvsim: %s\n", !strncmp(last, "err ", 4) ? last + 4 : "no reply");
	return -EIO;
}

static int cmd_start(const char *dir, bool foreground, const char *log_level)
{
	char path[PATH_MAX];
	struct pvsim *s;
	int pfd[2], rc;
	enum pv_log_level lvl = PV_LOG_INFO;
	pid_t pid;
	char c;

	if (log_level && pv_log_level_parse(log_level, &lvl)) {
		fprintf(stderr, "pvsim: bad log level '%s'\n", log_level);
		return 2;
	}
	if (ctl_call(dir, "ping\n", NULL, 0, true) == 0) {
		fprintf(stderr, "pvsim: already running in %s\n", dir);
		return 1;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "pvsim: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/xs", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/hv", dir);
	mkdir(path, 0755);
	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->stop_fd = -1;
	if (!realpath(dir, s->dir)) {
		fprintf(stderr, "pvsim: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (foreground) {
		pv_log_init("pvsim", false, lvl);
		return daemon_main(s, -1) ? 1 : 0;
	}
	if (pipe2(pfd, O_CLOEXEC))
		return 1;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "pvsim: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int log;

		close(pfd[0]);
		setsid();
		snprintf(path, sizeof(path), "%s/pvsim.log", s->dir);
		log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0) {
			dup2(nul, 0);
			close(nul);
		}
		if (log >= 0) {
			dup2(log, 1);
			dup2(log, 2);
			close(log);
		}
		pv_log_init("pvsim", false, lvl);
		rc = daemon_main(s, pfd[1]);
		_exit(rc ? 1 : 0);
	}
	close(pfd[1]);
	if (read(pfd[0], &c, 1) != 1) {
		int st = 0;

		waitpid(pid, &st, 0);
		fprintf(stderr, "pvsim: the daemon failed to start; see %s/pvsim.log\n", s->dir);
		return 1;
	}
	close(pfd[0]);
	free(s);
	return 0;
}

static int cmd_stop(const char *dir)
{
	/* The daemon keeps this connection open until it exits: EOF = gone. */
	return ctl_call(dir, "stop\n", NULL, 0, false) ? 1 : 0;
}

static int lookup(const char *dir, const char *name)
{
	char req[CTL_MAX], val[32];

	snprintf(req, sizeof(req), "lookup %s\n", name);
	if (ctl_call(dir, req, val, sizeof(val), false))
		return -ENOENT;
	return atoi(val);
}

static int cmd_env(const char *dir, const char *name)
{
	int domid = name ? lookup(dir, name) : 0;

	if (domid < 0)
		return 1;
	printf("export PVSIM_DIR='%s'\n", dir);
	printf("export PVSIM_DOMID=%d\n", domid);
	printf("export PVBACK_HV=sim\n");
	printf("export XENSTORED_PATH='%s/xs/%d'\n", dir, domid);
	return 0;
}

/* Act as dom0 from now on (what `pvsim env` prints: hotplug scripts
 * inherit it) and connect to its xenstored. */
static struct xs_handle *dom0_xs(const char *dir)
{
	char abs[PATH_MAX], path[PATH_MAX];
	struct xs_handle *xs;
	int rc;

	/* Absolute, for scripts that change directory. */
	if (!realpath(dir, abs))
		snprintf(abs, sizeof(abs), "%s", dir);
	rc = pv_sim_become(abs, "0");
	if (rc < 0) {
		fprintf(stderr, "pvsim: cannot act as dom0 of %s: %s\n", abs, strerror(-rc));
		return NULL;
	}
	xs = xs_open(0);
	if (!xs) {
		pv_sim_path(path, sizeof(path), abs, "xs", 0);
		fprintf(stderr, "pvsim: cannot connect to xenstored at %s: %s\n", path,
			strerror(errno));
	}
	return xs;
}

/* Leading --flags of attach/detach: each of allowed may come once, in any
 * order.  Returns the number of arguments taken, or -1 (usage). */
static int take_flags(int argc, char **argv, const char *const *allowed, bool *set)
{
	int i;

	for (i = 0; i < argc && !strncmp(argv[i], "--", 2); i++) {
		unsigned k;

		for (k = 0; allowed[k] && strcmp(argv[i], allowed[k]); k++)
			;
		if (!allowed[k])
			return -1;
		set[k] = true;
	}
	return i;
}


/* dom0's xenstore, for a command about DOMAIN (its domid in *domid); NULL
 * after saying why. */
static struct xs_handle *dom_xs(const char *dir, const char *name, int *domid)
{
	*domid = lookup(dir, name);
	return *domid < 0 ? NULL : dom0_xs(dir);
}
static int cmd_attach(const char *dir, int argc, char **argv)
{
	static const char *const flags[] = { "--no-script", NULL };
	bool set[1] = { false };
	struct xs_handle *xs;
	char err[1024] = "";
	int domid, rc, n;

	n = take_flags(argc, argv, flags, set);
	if (n < 0 || argc - n < 2) {
		fprintf(stderr, "usage: pvsim attach [--no-script] DOMAIN vbd|vif|vusb [key=value ...]\n");
		return 2;
	}
	argc -= n, argv += n;
	xs = dom_xs(dir, argv[0], &domid);
	if (!xs)
		return 1;
	rc = sim_ts_attach(xs, (unsigned)domid, argv[1], argc - 2, argv + 2, set[0], err,
			   sizeof(err));
	xs_close(xs);
	if (rc < 0) {
		fprintf(stderr, "pvsim: attach %s to %s: %s\n", argv[1], argv[0], err);
		return 1;
	}
	printf("%d\n", rc);
	return 0;
}

static int cmd_detach(const char *dir, int argc, char **argv)
{
	static const char *const flags[] = { "--force", "--no-script", NULL };
	bool set[2] = { false, false };
	struct xs_handle *xs;
	char err[1024] = "";
	int domid, rc, n;

	n = take_flags(argc, argv, flags, set);
	if (n < 0 || argc - n != 3) {
		fprintf(stderr, "usage: pvsim detach [--force] [--no-script] DOMAIN vbd|vif|vusb DEVID\n");
		return 2;
	}
	argc -= n, argv += n;
	xs = dom_xs(dir, argv[0], &domid);
	if (!xs)
		return 1;
	rc = sim_ts_detach(xs, (unsigned)domid, argv[1], argv[2], set[0], set[1], err,
			   sizeof(err));
	xs_close(xs);
	if (rc < 0 || err[0])
		fprintf(stderr, "pvsim: detach %s %s from %s: %s\n", argv[1], argv[2], argv[0],
			err[0] ? err : strerror(-rc));
	return rc < 0 && rc != -ETIMEDOUT ? 1 : 0;
}

/* usbdev-attach DOMAIN DEVID PORT SPEC / usbdev-detach DOMAIN DEVID PORT */
static int cmd_usbdev(const char *dir, bool attach, int argc, char **argv)
{
	struct xs_handle *xs;
	char err[512] = "";
	uint64_t devid, port;
	int domid, rc;

	if (argc != (attach ? 4 : 3) || pv_parse_uint(argv[1], 0, INT32_MAX, &devid) < 0 ||
	    pv_parse_uint(argv[2], 0, 255, &port) < 0) {
		fprintf(stderr, "usage: pvsim usbdev-attach DOMAIN DEVID PORT SPEC\n"
			"       pvsim usbdev-detach DOMAIN DEVID PORT\n");
		return 2;
	}
	xs = dom_xs(dir, argv[0], &domid);
	if (!xs)
		return 1;
	rc = sim_ts_usbdev(xs, (unsigned)domid, (unsigned)devid, (unsigned)port,
			   attach ? argv[3] : NULL, err, sizeof(err));
	xs_close(xs);
	if (rc < 0) {
		fprintf(stderr, "pvsim: usbdev-%s %s: %s\n", attach ? "attach" : "detach", argv[0],
			err[0] ? err : strerror(-rc));
		return 1;
	}
	return 0;
}

/*
 * Run CMD as guest domain NAME.  With --crash-on-exit this process claims the
 * domain first: when CMD exits or is killed (and so this process exits), the
 * daemon destroys the domain as a crashed guest, which is how a frontend
 * process "dies with its guest".
 */
static int cmd_run(const char *dir, int argc, char **argv)
{
	bool crash = false;
	struct pv_hv *hv = NULL;
	int domid, st = 0, rc;
	char val[32];
	pid_t pid;

	if (argc >= 1 && !strcmp(argv[0], "--crash-on-exit")) {
		crash = true;
		argc--, argv++;
	}
	if (argc < 3 || strcmp(argv[1], "--")) {
		fprintf(stderr, "usage: pvsim run [--crash-on-exit] NAME -- CMD [ARGS]\n");
		return 2;
	}
	domid = lookup(dir, argv[0]);
	if (domid < 0)
		return 1;
	snprintf(val, sizeof(val), "%d", domid);
	rc = pv_sim_become(dir, val);
	if (rc < 0) {
		fprintf(stderr, "pvsim: cannot act as %s: %s\n", argv[0], strerror(-rc));
		return 1;
	}
	if (crash) {
		rc = pv_hv_open(PV_HV_SIM, &hv);
		rc = rc ?: pv_hv_sim_claim(hv);
		if (rc) {
			fprintf(stderr, "pvsim: cannot claim domain %s: %s\n", argv[0], strerror(-rc));
			return 1;
		}
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "pvsim: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (hv)
		pv_hv_close(hv); /* closes the claiming connection: the guest "crashes" */
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvsim [--dir DIR] COMMAND [ARGS]\n"
		"  start [--foreground] [--log-level L]  start the simulated hypervisor\n"
		"  stop                                  stop it (destroys all guests)\n"
		"  create NAME --mem SIZE                create a guest domain; prints its domid\n"
		"  destroy NAME|DOMID                    destroy a guest domain (as a crash)\n"
		"  list                                  list domains: name, id, MiB\n"
		"  env [NAME]                            print exports to act as dom0 / NAME\n"
		"  attach [--no-script] DOMAIN vbd|vif|vusb [k=v ...]\n"
		"                                        add a device as `xl *-attach` does\n"
		"                                        (a vif: also its hotplug script)\n"
		"  detach [--force] [--no-script] DOMAIN TYPE DEVID\n"
		"                                        remove it as `xl *-detach` does\n"
		"  usbdev-attach DOMAIN DEVID PORT SPEC  put a USB device on a vusb port as\n"
		"                                        `xl usbdev-attach` (SPEC: BUS-PORT\n"
		"                                        or emu:storage,file=F|keyboard|...)\n"
		"  usbdev-detach DOMAIN DEVID PORT       take it off again\n"
		"  run [--crash-on-exit] NAME -- CMD     run CMD as guest NAME (its death\n"
		"                                        crashes the guest with that option)\n"
		"DIR defaults to $PVSIM_DIR, else %s.\n"
		"vbd keys: target= vdev= access=r|w devtype=disk|cdrom script= discard=\n"
		"vif keys: mac= bridge= script= rate= mtu= ip= vifname= devid=\n"
		"vusb keys: version=1|2 ports=1..31 devid=\n",
		pv_sim_default_dir());
}

int main(int argc, char **argv)
{
	const char *dir = getenv("PVSIM_DIR");
	const char *cmd;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--dir=", 6)) {
			dir = argv[i] + 6;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!dir || !*dir)
		dir = pv_sim_default_dir();
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i++];
	argc -= i;
	argv += i;

	/* Commands also accept --dir after their name (not inside run's CMD). */
	for (int j = 0; j + 1 < argc && strcmp(argv[j], "--"); j++)
		if (!strcmp(argv[j], "--dir")) {
			dir = argv[j + 1];
			memmove(&argv[j], &argv[j + 2], sizeof(char *) * (size_t)(argc - j - 2));
			argc -= 2;
			j--;
		}

	if (!strcmp(cmd, "start")) {
		bool fg = false;
		const char *lvl = NULL;

		for (int j = 0; j < argc; j++) {
			if (!strcmp(argv[j], "--foreground") || !strcmp(argv[j], "-f"))
				fg = true;
			else if (!strcmp(argv[j], "--log-level") && j + 1 < argc)
				lvl = argv[++j];
			else {
				usage(stderr);
				return 2;
			}
		}
		return cmd_start(dir, fg, lvl);
	}
	if (!strcmp(cmd, "stop"))
		return cmd_stop(dir);
	if (!strcmp(cmd, "create")) {
		char req[CTL_MAX], val[32];
		const char *mem = NULL;

		if (argc == 3 && !strcmp(argv[1], "--mem"))
			mem = argv[2];
		else if (argc == 2 && !strncmp(argv[1], "--mem=", 6))
			mem = argv[1] + 6;
		if (!mem) {
			fprintf(stderr, "usage: pvsim create NAME --mem SIZE\n");
			return 2;
		}
		snprintf(req, sizeof(req), "create %s %s\n", argv[0], mem);
		if (ctl_call(dir, req, val, sizeof(val), false))
			return 1;
		printf("%s\n", val);
		return 0;
	}
	if (!strcmp(cmd, "destroy") && argc == 1) {
		char req[CTL_MAX];

		snprintf(req, sizeof(req), "destroy %s\n", argv[0]);
		return ctl_call(dir, req, NULL, 0, false) ? 1 : 0;
	}
	if (!strcmp(cmd, "list"))
		return ctl_call(dir, "list\n", NULL, 0, false) ? 1 : 0;
	if (!strcmp(cmd, "env") && argc <= 1)
		return cmd_env(dir, argc ? argv[0] : NULL);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(dir, argc, argv);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(dir, argc, argv);
	if (!strcmp(cmd, "usbdev-attach") || !strcmp(cmd, "usbdev-detach"))
		return cmd_usbdev(dir, !strcmp(cmd, "usbdev-attach"), argc, argv);
	if (!strcmp(cmd, "run"))
		return cmd_run(dir, argc, argv);
	usage(stderr);
	return 2;
}
