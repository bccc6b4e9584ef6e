// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvbench-tap: what a TAP device takes and gives on this machine with no
 * PV path in the way, the baselines of `make bench-net` (bench/bench-net):
 *
 *   writer IF       frames (--size; IPv4/UDP to --dst, as netfront-tool
 *                   gen's) into the TAP for --seconds:
 *                   --batch IORING_OP_WRITEs per io_uring_enter, the fd
 *                   registered (IOSQE_FIXED_FILE), the virtio_net_hdr in
 *                   front of each frame in the same buffer;
 *   reader IF       frames out of the TAP: --batch reads kept posted, each
 *                   re-posted as it completes; ends --idle seconds after
 *                   the last frame, at --seconds, or on SIGTERM;
 *   forward A B     a userspace switch of two ports with vnet_hdr and TSO
 *                   offloads on: every frame read from one TAP is written
 *                   to the other, header and all, until SIGTERM.
 *
 * IF is an existing TAP's name (`ip tuntap add IF mode tap vnet_hdr
 * multi_queue`: pvback-net's flags), or NS/IF for one in the network
 * namespace /run/netns/NS.  reader and forward
 * print "ready" once their reads are posted; every mode ends with one JSON
 * line: pps counts from the first frame to the last, cpu_seconds is the
 * process's CPU time over the run (reader, forward: from "ready" on).
 * Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <liburing.h>

#include "pvcommon.h"
#include "pvnet.h"
#include "benchlib.h"

#define VH       sizeof(struct virtio_net_hdr)
#define BUF_SIZE (VH + 65536u)     /* a TSO super-frame fits */
#define MAX_BATCH 1024u

struct opts {
	unsigned size, batch;
	double seconds, idle;
	uint8_t dst[6];
};

struct side {                      /* one TAP: fixed file index = its number */
	const char *name;
	int fd;
	uint64_t frames, bytes, errors;
};

struct counts {
	uint64_t t_first, t_last;
	double cpu0;                /* the process's CPU seconds at the start */
};

/* CPU seconds this process used so far (user + system). */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Open IF (or NS/IF in /run/netns/NS) with IFF_VNET_HDR, offloads as asked. */
static int tap_attach(const char *spec, unsigned offloads)
{
	const char *slash = strchr(spec, '/');
	/* pvback-net's flags: the same TAP path, and a queue whose io_uring is
	 * still being torn down does not keep the next run out (EBUSY). */
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE };
	int fd = -1, self = -1, ns = -1, rc = 0;

	if (slash) {
		char path[128];

		snprintf(path, sizeof(path), "/run/netns/%.*s", (int)(slash - spec), spec);
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (self < 0 || ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
			rc = -errno;
			goto out;
		}
		spec = slash + 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", spec);
	/* Blocking: io_uring waits for us; reads of an O_NONBLOCK TAP fail. */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOFFLOAD, offloads) < 0)
		rc = -errno;
out:
	if (self >= 0 && setns(self, CLONE_NEWNET) < 0 && rc == 0)
		rc = -errno;
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	if (rc < 0 && fd >= 0)
		close(fd);
	return rc < 0 ? rc : fd;
}

static int ring_setup(struct io_uring *ring, unsigned entries, const int *fds, unsigned n)
{
	int rc = io_uring_queue_init(entries, ring, 0);

	if (rc < 0)
		return rc;
	rc = io_uring_register_files(ring, fds, n);
	if (rc < 0)
		io_uring_queue_exit(ring);
	return rc;
}

/* Cancel what is posted (n requests in all), reap it, give the files back:
 * once this returns the TAP queues are free for the next run. */
static void ring_teardown(struct io_uring *ring, unsigned n)
{
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;

	if (n && sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, UINT64_MAX);
		io_uring_submit(ring);
	}
	while (n && io_uring_wait_cqe_timeout(ring, &cqe, &ts) == 0) {
		if (io_uring_cqe_get_data64(cqe) != UINT64_MAX)
			n--;
		io_uring_cqe_seen(ring, cqe);
	}
	io_uring_unregister_files(ring);
	io_uring_queue_exit(ring);
}

static void prep(struct io_uring *ring, bool write, unsigned file, void *buf, unsigned len,
		 uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (write)
		io_uring_prep_write(sqe, (int)file, buf, len, 0);
	else
		io_uring_prep_read(sqe, (int)file, buf, len, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, tag);
}

static void print_result(const char *mode, const struct side *s, unsigned n, const struct opts *o,
			 const struct counts *c)
{
	double secs = c->t_last > c->t_first ? (c->t_last - c->t_first) / 1e9 : 0;
	uint64_t frames = 0, bytes = 0, errors = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		frames += s[i].frames;
		bytes += s[i].bytes;
		errors += s[i].errors;
	}
	printf("{\"tool\":\"pvbench-tap\",\"mode\":\"%s\",\"size\":%u,\"batch\":%u,"
	       "\"frames\":%llu,\"bytes\":%llu,\"errors\":%llu,\"seconds\":%.3f,\"pps\":%.0f,"
	       "\"gbps\":%.3f,\"cpu_seconds\":%.3f}\n",
	       mode, o->size, o->batch, (unsigned long long)frames, (unsigned long long)bytes,
	       (unsigned long long)errors, secs, secs > 0 ? frames / secs : 0,
	       secs > 0 ? bytes * 8 / secs / 1e9 : 0, cpu_seconds() - c->cpu0);
}

static void *buffers(unsigned n)
{
	void *m = mmap(NULL, (size_t)n * BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static void stamp(struct counts *c)
{
	uint64_t now = pv_now_ns();

	if (!c->t_first)
		c->t_first = now;
	c->t_last = now;
}

/* ------------------------------------------------------------- writer */

static int run_writer(struct side *s, const struct opts *o)
{
	struct io_uring ring;
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct counts c = { 0 };
	uint8_t *mem = buffers(o->batch);
	uint64_t end;
	unsigned i;
	int rc;

	if (!mem)
		return -ENOMEM;
	rc = ring_setup(&ring, o->batch, &s->fd, 1);
	if (rc < 0)
		return rc;
	/* netfront-tool gen's frames (IPv4/UDP: a bridge's netfilter hooks
	 * see them as they see gen's), each in its own buffer; the
	 * virtio_net_hdr before each stays zero. */
	for (i = 0; i < o->batch; i++)
		pv_net_udp4_hdrs(mem + (size_t)i * BUF_SIZE + VH, o->size, o->dst, src, 9000, 9);
	end = pv_now_ns() + (uint64_t)(o->seconds * 1e9);
	c.cpu0 = cpu_seconds();
	c.t_first = pv_now_ns();
	while (!bench_stopped() && (c.t_last = pv_now_ns()) < end) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		for (i = 0; i < o->batch; i++)
			prep(&ring, true, 0, mem + (size_t)i * BUF_SIZE, (unsigned)VH + o->size, i);
		rc = io_uring_submit_and_wait(&ring, o->batch);
		if (rc < 0 && rc != -EINTR)
			break;
		io_uring_for_each_cqe(&ring, head, cqe) {
			n++;
			if (cqe->res > 0) {
				s->frames++;
				s->bytes += o->size;
			} else {
				s->errors++;
			}
		}
		io_uring_cq_advance(&ring, n);
		rc = 0;
	}
	print_result("writer", s, 1, o, &c);
	ring_teardown(&ring, 0);
	munmap(mem, (size_t)o->batch * BUF_SIZE);
	return rc;
}

/* ------------------------------------------------- reader and forward */

/* Tags: buffer index << 2 | its side (0, 1) << 1 | write. */
static int run_io(struct side *s, unsigned nsides, const struct opts *o)
{
	unsigned nbuf = o->batch * nsides, i;
	struct __kernel_timespec ts = { .tv_nsec = 100 * 1000 * 1000 };
	struct counts c = { 0 };
	struct io_uring ring;
	int fds[2] = { s[0].fd, nsides > 1 ? s[1].fd : -1 };
	uint8_t *mem = buffers(nbuf);
	uint64_t start = pv_now_ns();
	int rc;

	if (!mem)
		return -ENOMEM;
	rc = ring_setup(&ring, 2 * nbuf, fds, nsides);
	if (rc < 0)
		return rc;
	for (i = 0; i < nbuf; i++)
		prep(&ring, false, i / o->batch, mem + (size_t)i * BUF_SIZE, BUF_SIZE,
		     (uint64_t)i << 2 | (i / o->batch) << 1);
	rc = io_uring_submit(&ring);
	if (rc < 0)
		goto out;
	printf("ready\n");
	fflush(stdout);
	c.cpu0 = cpu_seconds();
	while (!bench_stopped()) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		uint64_t now;

		rc = io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR)
			break;
		rc = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t tag = io_uring_cqe_get_data64(cqe);
			unsigned k = (unsigned)(tag >> 2), from = (unsigned)(tag >> 1) & 1;
			uint8_t *buf = mem + (size_t)k * BUF_SIZE;

			n++;
			if (tag & 1) {          /* a forwarded frame left: read again */
				if (cqe->res < 0)
					s[!from].errors++;
				prep(&ring, false, from, buf, BUF_SIZE, tag & ~1ull);
				continue;
			}
			if (cqe->res == -ECANCELED)
				continue;
			if (cqe->res <= (int)VH) {
				s[from].errors++;
				prep(&ring, false, from, buf, BUF_SIZE, tag);
				continue;
			}
			stamp(&c);
			s[from].frames++;
			s[from].bytes += (unsigned)cqe->res - VH;
			if (nsides > 1)
				prep(&ring, true, !from, buf, (unsigned)cqe->res, tag | 1);
			else
				prep(&ring, false, from, buf, BUF_SIZE, tag);
		}
		io_uring_cq_advance(&ring, n);
		now = pv_now_ns();
		if (o->seconds > 0 && now - start >= (uint64_t)(o->seconds * 1e9))
			break;
		if (o->idle > 0 && c.t_last && now - c.t_last >= (uint64_t)(o->idle * 1e9))
			break;
	}
	print_result(nsides > 1 ? "forward" : "reader", s, nsides, o, &c);
out:
	ring_teardown(&ring, nbuf); /* every buffer has one request out */
	munmap(mem, (size_t)nbuf * BUF_SIZE);
	return rc;
}

/* --------------------------------------------------------------- main */

static const char usage[] =
	"usage: pvbench-tap [--size N] [--batch N] [--seconds S] [--idle S] [--dst MAC]\n"
	"                   writer IF | reader IF | forward IF_A IF_B\n"
	"  IF: an existing TAP, or NETNS/IF; defaults: --size 64 --batch 64\n"
	"  --seconds 5 (writer; reader/forward: 0 = until SIGTERM), --idle 0\n";

int main(int argc, char **argv)
{
	struct opts o = { .size = 64, .batch = 64, .seconds = -1,
			  .dst = { 0x02, 0, 0, 0, 0, 0x99 } };
	const struct bench_opt opts[] = {
		{ "size", BENCH_OPT_UINT, &o.size }, { "batch", BENCH_OPT_UINT, &o.batch },
		{ "seconds", BENCH_OPT_DOUBLE, &o.seconds }, { "idle", BENCH_OPT_DOUBLE, &o.idle },
		{ "dst", BENCH_OPT_MAC, o.dst },
	};
	struct side s[2] = { { .fd = -1 }, { .fd = -1 } };
	unsigned nsides, i, off = 0;
	const char *mode;
	int rc = 0;

	bench_opts_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	if (optind >= argc || o.size < PV_NET_UDP4_HLEN || o.size > 65536 || !o.batch || o.batch > MAX_BATCH)
		bench_usage_exit(usage, 2);
	mode = argv[optind++];
	nsides = !strcmp(mode, "forward") ? 2 : 1;
	if ((strcmp(mode, "writer") && strcmp(mode, "reader") && nsides == 1) ||
	    argc - optind != (int)nsides)
		bench_usage_exit(usage, 2);
	if (o.seconds < 0)
		o.seconds = strcmp(mode, "writer") ? 0 : 5;
	/* The forwarder takes what the kernel would segment: whole TSO frames. */
	if (nsides == 2)
		off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	for (i = 0; i < nsides; i++) {
		s[i].name = argv[optind + i];
		s[i].fd = tap_attach(s[i].name, off);
		if (s[i].fd < 0) {
			fprintf(stderr, "pvbench-tap: %s: %s\n", s[i].name, strerror(-s[i].fd));
			rc = s[i].fd;
			goto out;
		}
	}
	bench_catch_stop();
	rc = !strcmp(mode, "writer") ? run_writer(s, &o) : run_io(s, nsides, &o);
	if (rc < 0)
		fprintf(stderr, "pvbench-tap: %s: %s\n", mode, strerror(-rc));
out:
	for (i = 0; i < nsides; i++)
		if (s[i].fd >= 0)
			close(s[i].fd);
	return rc < 0 ? 1 : 0;
}
