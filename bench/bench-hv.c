// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvbench-hv: the cost of the hypervisor primitives through pv_hv_* against
 * a running pvsim ($PVSIM_DIR; a guest domain must exist) or, with
 * --embedded, against an hv server on a thread of this process.  Measures
 * grant map+unmap of 1 and 11 pages, a 4 KiB grant copy, and the event
 * notify -> wake-up latency between two processes.  Prints one JSON object
 * per metric (p50/p99/mean in microseconds), like pvbench-xs.
 *
 * Usage: pvbench-hv [--guest DOMID|NAME] [--iters N] [--embedded]
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "pvcommon.h"
#include "benchlib.h"
#include "hv.h"

/* --xen: real Xen in loopback (dom0 shares with and maps from itself). */
static enum pv_hv_kind hv_kind = PV_HV_SIM;

static struct pv_hv *open_as(uint16_t domid)
{
	struct pv_hv *hv;
	char buf[16];
	int rc;

	snprintf(buf, sizeof(buf), "%u", domid);
	setenv("PVSIM_DOMID", buf, 1);
	rc = pv_hv_open(hv_kind, &hv);
	if (rc) {
		fprintf(stderr, "pvbench-hv: cannot open the %s hypervisor as domain %u: %s\n",
			hv_kind == PV_HV_XEN ? "xen" : "sim", domid, strerror(-rc));
		return NULL;
	}
	return hv;
}

/* A domain id, or a domain name looked up in xenstore as xl does. */
static int resolve_guest(const char *s)
{
	struct xs_handle *xs;
	unsigned n = 0, len;
	char **ents, *end;
	int domid = -ENOENT;
	long v = strtol(s, &end, 10);

	if (*s && !*end)
		return v > 0 && v < 0x7ff0 ? (int)v : -EINVAL;
	xs = xs_open(XS_OPEN_READONLY);
	if (!xs)
		return -errno;
	ents = xs_directory(xs, XBT_NULL, "/local/domain", &n);
	for (unsigned i = 0; ents && i < n && domid < 0; i++) {
		char path[64], *name;

		snprintf(path, sizeof(path), "/local/domain/%s/name", ents[i]);
		name = xs_read(xs, XBT_NULL, path, &len);
		if (name && !strcmp(name, s))
			domid = atoi(ents[i]);
		free(name);
	}
	free(ents);
	xs_close(xs);
	return domid;
}

static int bench_map(struct pv_hv *be, struct pv_hv *guest, uint16_t gdom, unsigned iters)
{
	uint64_t *ns = calloc(iters, sizeof(*ns));
	unsigned counts[2] = { 1, 11 };
	uint32_t refs[11];
	void *g, *p;
	int rc;

	if (!ns)
		return -ENOMEM;
	rc = pv_hv_share(guest, 0, 11, true, refs, &g);
	if (rc)
		goto out;
	for (unsigned c = 0; c < 2; c++) {
		char name[64];

		for (unsigned i = 0; i < iters; i++) {
			uint64_t t0 = pv_now_ns();

			rc = pv_hv_map(be, gdom, counts[c], refs, true, &p);
			if (rc)
				goto out_unshare;
			((volatile char *)p)[0];
			rc = pv_hv_unmap(be, p, counts[c]);
			if (rc)
				goto out_unshare;
			ns[i] = pv_now_ns() - t0;
		}
		snprintf(name, sizeof(name), "grant_map_unmap_%u", counts[c]);
		bench_report(name, ns, iters);
	}
	{
		static char buf[4096];
		struct pv_hv_copy_seg seg = { .ref = refs[0], .domid = gdom, .local = buf,
					      .len = 4096 };

		for (unsigned i = 0; i < iters; i++) {
			uint64_t t0 = pv_now_ns();

			seg.to_guest = i & 1;
			rc = pv_hv_copy(be, 1, &seg);
			if (rc)
				goto out_unshare;
			ns[i] = pv_now_ns() - t0;
		}
		bench_report("grant_copy_4k", ns, iters);
	}
out_unshare:
	pv_hv_unshare(guest, g, 11);
out:
	free(ns);
	return rc;
}

struct shared_clock {
	volatile uint64_t t_send;
	uint64_t ns[];
};

static int wait_port(struct pv_hv *hv, int ms)
{
	struct pollfd pfd = { .fd = pv_hv_evtchn_fd(hv), .events = POLLIN };
	int port;

	for (;;) {
		port = pv_hv_evtchn_pending(hv);
		if (port >= 0) {
			pv_hv_evtchn_unmask(hv, (uint32_t)port);
			return port;
		}
		if (poll(&pfd, 1, ms) <= 0)
			return -ETIMEDOUT;
	}
}

/* The guest side of the ping-pong, in a child process. */
static int pong(uint16_t gdom, int port_pipe, struct shared_clock *clk, unsigned iters)
{
	struct pv_hv *hv = open_as(gdom);
	int port;

	if (!hv)
		return 1;
	port = pv_hv_evtchn_alloc(hv, 0);
	if (port < 0 || write(port_pipe, &port, sizeof(port)) != sizeof(port))
		return 2;
	for (unsigned i = 0; i < iters; i++) {
		if (wait_port(hv, 5000) != port)
			return 3;
		clk->ns[i] = pv_now_ns() - clk->t_send;
		if (pv_hv_evtchn_notify(hv, (uint32_t)port) < 0)
			return 4;
	}
	pv_hv_close(hv);
	return 0;
}

static int bench_evtchn(struct pv_hv *be, uint16_t gdom, unsigned iters)
{
	size_t sz = sizeof(struct shared_clock) + iters * sizeof(uint64_t);
	struct shared_clock *clk;
	uint64_t *rtt;
	int pfd[2], gport, port, st, rc = -EIO;
	pid_t pid;

	clk = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rtt = calloc(iters, sizeof(*rtt));
	if (clk == MAP_FAILED || !rtt || pipe(pfd) < 0)
		return -ENOMEM;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(pong(gdom, pfd[1], clk, iters));
	if (read(pfd[0], &gport, sizeof(gport)) != sizeof(gport))
		goto out;
	port = pv_hv_evtchn_bind(be, gdom, (uint32_t)gport);
	if (port < 0 || wait_port(be, 1000) != port) /* Xen's bind-time event */
		goto out;
	for (unsigned i = 0; i < iters; i++) {
		uint64_t t0 = pv_now_ns();

		clk->t_send = t0;
		if (pv_hv_evtchn_notify(be, (uint32_t)port) < 0 || wait_port(be, 5000) != port)
			goto out;
		rtt[i] = pv_now_ns() - t0;
	}
	rc = 0;
out:
	waitpid(pid, &st, 0);
	if (rc == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		bench_report("evtchn_notify_wakeup", clk->ns, iters);
		bench_report("evtchn_round_trip", rtt, iters);
	} else if (rc == 0) {
		rc = -EIO;
	}
	close(pfd[0]);
	close(pfd[1]);
	munmap(clk, sz);
	free(rtt);
	return rc;
}

/* --embedded: dom0 and dom1 on an hv server thread of this process. */
static char emb_dir[64];

static void *emb_thread(void *loop)
{
	pv_loop_run(loop);
	return NULL;
}

static int start_embedded(void)
{
	struct pv_loop *loop;
	struct sim_hv *hv;
	pthread_t t;
	char path[PATH_MAX];
	int rc;

	snprintf(emb_dir, sizeof(emb_dir), "/tmp/pvbench-hv.XXXXXX");
	if (!mkdtemp(emb_dir))
		return -errno;
	setenv("PVSIM_DIR", emb_dir, 1);
	rc = pv_loop_create(&loop);
	if (rc)
		return rc;
	rc = sim_hv_create(loop, &hv);
	if (rc)
		return rc;
	for (uint16_t d = 0; d < 2; d++) {
		snprintf(path, sizeof(path), "%s/hv/%u", emb_dir, d);
		rc = sim_hv_domain_create(hv, d, 64 << 20, path);
		if (rc)
			return rc;
	}
	return -pthread_create(&t, NULL, emb_thread, loop);
}

static void cleanup_embedded(void)
{
	char cmd[128];

	if (!emb_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", emb_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "pvbench-hv: cannot remove %s\n", emb_dir);
}

int main(int argc, char **argv)
{
	const char *guest_arg = "1";
	unsigned iters = 20000;
	bool embedded = false;
	struct pv_hv *be, *guest;
	int gdom, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--guest") && i + 1 < argc)
			guest_arg = argv[++i];
		else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--embedded"))
			embedded = true;
		else if (!strcmp(argv[i], "--xen"))
			hv_kind = PV_HV_XEN;
		else {
			fprintf(stderr, "usage: pvbench-hv [--guest DOMID|NAME] [--iters N] "
					"[--embedded | --xen]\n"
					"  --xen: real Xen, loopback in dom0 (gntalloc -> gntdev)\n");
			return 2;
		}
	}
	if (iters < 100)
		iters = 100;
	if (embedded) {
		rc = start_embedded();
		if (rc) {
			fprintf(stderr, "pvbench-hv: embedded hypervisor: %s\n", strerror(-rc));
			return 1;
		}
		guest_arg = "1";
	}
	gdom = hv_kind == PV_HV_XEN ? 0 : resolve_guest(guest_arg);
	if (gdom < 0) {
		fprintf(stderr, "pvbench-hv: no guest domain '%s': %s\n", guest_arg,
			strerror(-gdom));
		return 1;
	}
	be = open_as(0);
	guest = open_as((uint16_t)gdom);
	if (!be || !guest)
		return 1;
	rc = bench_map(be, guest, (uint16_t)gdom, iters);
	if (!rc)
		rc = bench_evtchn(be, (uint16_t)gdom, iters);
	if (rc)
		fprintf(stderr, "pvbench-hv: %s\n", strerror(-rc));
	pv_hv_close(guest);
	pv_hv_close(be);
	cleanup_embedded();
	return rc ? 1 : 0;
}
