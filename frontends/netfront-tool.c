// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netfront-tool: drive a vif of our own domain through the userspace
 * netfront, for integration tests, benchmarks and by hand (run inside
 * `pvsim env NAME`, or in a Xen guest's dom0-less userspace).
 *
 *   handshake            connect, print what was negotiated and the keys
 *                        written, close
 *   tap IFNAME           the vif as a TAP device (netfront-tap.c); prints
 *                        "ready", runs until SIGTERM, then one JSON line;
 *                        --rx-log FILE, --control FIFO (commands while
 *                        running, see netfront-tool.h)
 *   gen / sink           packet generator and sink (netfront-bench.c); one
 *                        JSON line each
 *   reconfigure N        change xdp-headroom to N on the live connection
 *   mcast add|del MAC..  multicast control dummy requests, one status each
 *   ctrl TYPE [D0 D1 D2] one ctrl ring request: its status and data
 *   raw RULE [ARG]       hostile netif TX requests built by hand:
 *                        tx-slots N, first-short, cross-page, bad-extra T,
 *                        gso-size-0, bad-gso-type, prod-overflow, bad-gref,
 *                        missing-extra, too-many-extras, big-slot,
 *                        event-storm N, revoked-frag (a frag whose grant
 *                        was ended before the push), revoke-race N (N
 *                        2000-byte frames, each page's access ended as
 *                        soon as the backend lets go of it); prints the
 *                        responses and the backend's state afterwards
 *   attack MODE          a sustained hostile guest (netfront-hostile.c):
 *                        flip, never-consume, revoke; --count N --seed S
 *
 * Options before the command set what is negotiated (netfront_opts).
 * The main thread owns xenstore; queue threads own their queues and wait
 * on their event channels, never sleeping.  Exit status 0 on success, 1 on
 * a failure (message on stderr), 2 for a usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "pvnet.h"
#include "pvring.h"
#include "pvfront.h"
#include "netfront.h"
#include "netfront-tool.h"

double nft_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint32_t nft_pattern_sum(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* ------------------------------------------------------- queue threads */

struct runner {
	struct nft_thread *t;
	nft_thread_fn *fn;
	int done_fd;
};

static void *thread_main(void *opaque)
{
	struct runner *r = opaque;
	uint64_t one = 1;

	r->fn(r->t);
	if (write(r->done_fd, &one, sizeof(one)) < 0)
		r->t->rc = r->t->rc ?: -errno;
	return NULL;
}

int nft_wait_queue(struct nft_thread *t, int ms)
{
	struct pollfd pfd[2] = {
		{ .fd = netfront_queue_fd(t->nf, t->q), .events = POLLIN },
		{ .fd = t->stop_fd, .events = POLLIN },
	};
	int rc;

	rc = poll(pfd, 2, ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd[0].revents & POLLIN)
		netfront_queue_ack(t->nf, t->q);
	return 0;
}

static void control_serve(struct nft_control *c, struct netfront *nf, struct nft_thread *t);
static int control_fd(const struct nft_control *c);

int nft_run_queues(struct netfront *nf, nft_thread_fn *fn, void *arg, double seconds,
		   const char *ready, struct nft_thread *t, struct nft_control *ctl)
{
	unsigned nq = netfront_info(nf)->nr_queues, i, started = 0, done = 0;
	struct runner r[NETFRONT_MAX_QUEUES];
	pthread_t th[NETFRONT_MAX_QUEUES];
	volatile int stop = 0;
	double end = seconds > 0 ? nft_now() + seconds : 0;
	int sfd = -1, stop_fd = -1, done_fd = -1, cmd_fd = -1, rc = 0;
	struct nft_cmd cmd = { .state = NFT_CMD_IDLE };
	sigset_t set, old;
	uint64_t v;

	/* Blocked in every thread (main() did it before any existed). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctl)
		cmd_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || stop_fd < 0 || done_fd < 0 || (ctl && cmd_fd < 0)) {
		rc = -errno;
		goto out;
	}
	for (i = 0; i < nq; i++) {
		t[i] = (struct nft_thread){ .nf = nf, .q = i, .stop_fd = stop_fd, .stop = &stop,
					    .arg = arg, .cmd = i == 0 && ctl ? &cmd : NULL,
					    .cmd_fd = i == 0 ? cmd_fd : -1 };
		r[i] = (struct runner){ &t[i], fn, done_fd };
		rc = -pthread_create(&th[i], NULL, thread_main, &r[i]);
		if (rc < 0)
			break;
		started++;
	}
	if (rc == 0 && ready) {
		printf("%s\n", ready);
		fflush(stdout);
	}
	while (rc == 0 && done < started) {
		struct pollfd pfd[4] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = netfront_xs_fd(nf), .events = POLLIN },
			{ .fd = done_fd, .events = POLLIN },
			{ .fd = ctl ? control_fd(ctl) : -1, .events = POLLIN },
		};
		int ms = -1, st;

		if (end > 0) {
			double left = end - nft_now();

			if (left <= 0)
				break;
			ms = (int)(left * 1000) + 1;
		}
		if (poll(pfd, 4, ms) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (pfd[0].revents & POLLIN)
			break;
		if (pfd[1].revents & POLLIN) {
			st = netfront_backend_state(nf);
			if (st != XenbusStateConnected && st != XenbusStateReconfigured) {
				rc = -ECONNRESET;
				break;
			}
		}
		if ((pfd[2].revents & POLLIN) && read(done_fd, &v, sizeof(v)) == sizeof(v))
			done += (unsigned)v;
		if (pfd[3].revents & POLLIN)
			control_serve(ctl, nf, t);
	}
	stop = 1;
	v = 1;
	if (write(stop_fd, &v, sizeof(v)) < 0 && rc == 0)
		rc = -errno;
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (rc == 0 && t[i].rc < 0)
			rc = t[i].rc;
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (stop_fd >= 0)
		close(stop_fd);
	if (done_fd >= 0)
		close(done_fd);
	if (cmd_fd >= 0)
		close(cmd_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ------------------------------------------------------- control FIFO */

struct nft_control {
	int fd;
	char buf[1024];              /* a partial line */
	size_t len;
	unsigned seq;                /* commands read */
};

int nft_control_open(const char *path, struct nft_control **out)
{
	struct nft_control *c;
	struct stat sb;
	int fd;

	/* Read-write: the FIFO never reads as ended while we hold it. */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
		close(fd);
		return -ENOTSUP;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	*out = c;
	return 0;
}

void nft_control_close(struct nft_control *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

static int control_fd(const struct nft_control *c)
{
	return c->fd;
}

static void reply(unsigned seq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(unsigned seq, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per reply: queue 0's thread answers too. */
	printf("control %u: %s\n", seq, line);
	fflush(stdout);
}

/* Pairs of hex digits (nothing else) into out: their count, or -EINVAL. */
static int hex_bytes(const char *s, uint8_t *out, unsigned max)
{
	unsigned n = 0;

	for (; isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1]) && n < max; s += 2) {
		char pair[3] = { s[0], s[1], '\0' };

		out[n++] = (uint8_t)strtoul(pair, NULL, 16);
	}
	return *s ? -EINVAL : (int)n;
}

static const char *backend_state_name(int st);

/* One command line, answered on stdout. */
static void control_cmd(struct nft_control *c, struct netfront *nf, struct nft_thread *t,
			char *line)
{
	char *argv[136], *save = NULL, *w;
	unsigned seq = ++c->seq;
	int argc = 0, rc;

	for (w = strtok_r(line, " \t", &save); w && argc < 136; w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	if (!argc) {
		reply(seq, "error empty command");
		return;
	}
	if (!strcmp(argv[0], "mcast") && argc == 3 &&
	    (!strcmp(argv[1], "add") || !strcmp(argv[1], "del"))) {
		struct nft_cmd *k = t[0].cmd;
		uint64_t one = 1;

		if (pv_net_parse_mac(argv[2], k->mac) < 0) {
			reply(seq, "mcast %s %s error bad address", argv[1], argv[2]);
			return;
		}
		if (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE) != NFT_CMD_IDLE) {
			reply(seq, "mcast %s %s error busy", argv[1], argv[2]);
			return;
		}
		k->add = !strcmp(argv[1], "add");
		k->seq = seq;
		__atomic_store_n(&k->state, NFT_CMD_POSTED, __ATOMIC_RELEASE);
		if (write(t[0].cmd_fd, &one, sizeof(one)) < 0)
			reply(seq, "mcast error %s", strerror(errno));
		return; /* queue 0's thread answers */
	}
	if (!strcmp(argv[0], "mcast-control") && argc == 2 &&
	    (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		rc = netfront_set_mcast_control(nf, !strcmp(argv[1], "on"));
		reply(seq, "mcast-control %s %s", argv[1], rc < 0 ? strerror(-rc) : "ok");
		return;
	}
	if (!strcmp(argv[0], "reconfigure") && argc == 2) {
		rc = netfront_reconfigure(nf, (unsigned)strtoul(argv[1], NULL, 0));
		if (rc < 0)
			reply(seq, "reconfigure %s error %s", argv[1], strerror(-rc));
		else
			reply(seq, "reconfigure %s ok backend %s", argv[1],
			      backend_state_name(netfront_backend_state(nf)));
		return;
	}
	if (!strcmp(argv[0], "ctrl") && argc >= 2 && argc <= 5) {
		uint32_t d[3] = { 0, 0, 0 }, data = 0;
		int i;

		for (i = 2; i < argc; i++)
			d[i - 2] = (uint32_t)strtoul(argv[i], NULL, 0);
		rc = netfront_ctrl(nf, (uint16_t)strtoul(argv[1], NULL, 0), d[0], d[1], d[2], &data,
				   2000);
		if (rc < 0)
			reply(seq, "ctrl %s error %s", argv[1], strerror(-rc));
		else
			reply(seq, "ctrl %s status %d data %u", argv[1], rc, data);
		return;
	}
	if (!strcmp(argv[0], "hash-key") && argc == 2) {
		uint8_t key[4096];
		int n = hex_bytes(argv[1], key, sizeof(key));

		rc = n < 0 ? n : netfront_ctrl_set_hash_key(nf, key, (uint32_t)n, 2000);
		if (rc < 0)
			reply(seq, "hash-key error %s", strerror(-rc));
		else
			reply(seq, "hash-key status %d", rc);
		return;
	}
	if (!strcmp(argv[0], "hash-mapping") && argc >= 2) {
		uint32_t map[128];
		int i;

		for (i = 2; i < argc && i - 2 < 128; i++)
			map[i - 2] = (uint32_t)strtoul(argv[i], NULL, 0);
		rc = netfront_ctrl_set_hash_mapping(nf, map, (uint32_t)(argc - 2),
						    (uint32_t)strtoul(argv[1], NULL, 0), 2000);
		if (rc < 0)
			reply(seq, "hash-mapping error %s", strerror(-rc));
		else
			reply(seq, "hash-mapping status %d", rc);
		return;
	}
	reply(seq, "error unknown command '%s'", argv[0]);
}

static void control_serve(struct nft_control *c, struct netfront *nf, struct nft_thread *t)
{
	ssize_t n;
	char *nl;

	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0)
		return;
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n'))) {
		*nl = '\0';
		control_cmd(c, nf, t, c->buf);
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->buf) - 1) {
		reply(++c->seq, "error line too long");
		c->len = 0;
	}
}

void nft_thread_cmd_ack(struct nft_thread *t)
{
	uint64_t v;

	if (t->cmd_fd >= 0 && read(t->cmd_fd, &v, sizeof(v)) < 0)
		return; /* nothing was posted: EAGAIN */
}

void nft_thread_cmd(struct nft_thread *t)
{
	struct nft_cmd *k = t->cmd;
	const uint8_t *m;
	int rc, st;

	if (!k)
		return;
	m = k->mac;
	switch (__atomic_load_n(&k->state, __ATOMIC_ACQUIRE)) {
	case NFT_CMD_POSTED:
		rc = netfront_mcast(t->nf, k->add, k->mac);
		if (rc < 0) {
			reply(k->seq, "mcast %s %02x:%02x:%02x:%02x:%02x:%02x error %s",
			      k->add ? "add" : "del", m[0], m[1], m[2], m[3], m[4], m[5],
			      strerror(-rc));
			__atomic_store_n(&k->state, NFT_CMD_IDLE, __ATOMIC_RELEASE);
			return;
		}
		__atomic_store_n(&k->state, NFT_CMD_SENT, __ATOMIC_RELAXED);
		__attribute__((fallthrough)); /* answered already? */
	case NFT_CMD_SENT:
		st = netfront_mcast_status(t->nf);
		if (st == -EINPROGRESS)
			return;
		reply(k->seq, "mcast %s %02x:%02x:%02x:%02x:%02x:%02x %s", k->add ? "add" : "del",
		      m[0], m[1], m[2], m[3], m[4], m[5], st == NETIF_RSP_OKAY ? "OKAY" : "ERROR");
		__atomic_store_n(&k->state, NFT_CMD_IDLE, __ATOMIC_RELEASE);
		return;
	default:
		return;
	}
}

void nft_print_stats_tail(struct netfront *nf)
{
	unsigned q, nq = netfront_info(nf)->nr_queues;
	uint64_t kicks = 0, notifies = 0, events = 0, rx_errors = 0, tx_errors = 0, csum_sw = 0;
	uint64_t fixup = 0, no_xdp = 0, bad_id = 0;

	for (q = 0; q < nq; q++) {
		const struct netfront_stats *st = netfront_stats(nf, q);

		kicks += st->tx_kicks;
		notifies += st->tx_notifies + st->rx_notifies;
		events += st->events;
		rx_errors += st->rx_errors;
		tx_errors += st->tx_errors;
		csum_sw += st->tx_csum_sw;
		fixup += st->rx_gso_checksum_fixup;
		no_xdp += st->rx_no_xdp_extra;
		bad_id += st->rx_id_mismatch;
	}
	printf(",\"tx_errors\":%llu,\"rx_errors\":%llu,\"tx_csum_sw\":%llu,"
	       "\"rx_gso_checksum_fixup\":%llu,\"rx_no_xdp_extra\":%llu,\"rx_id_mismatch\":%llu,"
	       "\"kicks\":%llu,\"notifies\":%llu,\"events\":%llu%s%s%s}\n",
	       (unsigned long long)tx_errors, (unsigned long long)rx_errors,
	       (unsigned long long)csum_sw, (unsigned long long)fixup, (unsigned long long)no_xdp,
	       (unsigned long long)bad_id,
	       (unsigned long long)kicks, (unsigned long long)notifies, (unsigned long long)events,
	       netfront_broken(nf) ? ",\"broken\":\"" : "",
	       netfront_broken(nf) ? netfront_broken(nf) : "", netfront_broken(nf) ? "\"" : "");
}

/* ------------------------------------------------------------ commands */

static void print_mac(FILE *f, const uint8_t *m)
{
	fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int do_handshake(struct netfront *nf)
{
	const struct netfront_info *in = netfront_info(nf);

	printf("mac ");
	print_mac(stdout, in->mac);
	printf("\nqueues %u max-queues %u split %d tx-slots %u rx-slots %u mtu %u trusted %d\n",
	       in->nr_queues, in->max_queues, in->split, in->tx_slots, in->rx_slots, in->mtu,
	       in->trusted);
	printf("tx sg %d csum %d ipv6-csum %d gso-tcpv4 %d gso-tcpv6 %d\n", in->tx_sg, in->tx_csum,
	       in->tx_ipv6_csum, in->tx_gso_tcpv4, in->tx_gso_tcpv6);
	printf("rx sg %d csum %d ipv6-csum %d gso-tcpv4 %d gso-tcpv6 %d rx-notify %d\n", in->rx_sg,
	       in->rx_csum, in->rx_ipv6_csum, in->rx_gso_tcpv4, in->rx_gso_tcpv6, in->rx_notify);
	printf("mcast-control %d ctrl-ring %d xdp %d xdp-headroom %u regrant %d\n",
	       in->mcast_control, in->ctrl_ring, in->xdp, in->xdp_headroom, in->regrant);
	printf("keys:\n%s", netfront_keys(nf));
	return 0;
}

static int do_reconfigure(struct netfront *nf, unsigned headroom)
{
	int rc = netfront_reconfigure(nf, headroom);

	if (rc == 0)
		printf("xdp-headroom %u\n", netfront_info(nf)->xdp_headroom);
	return rc;
}

static const char *status_name(int16_t s)
{
	switch (s) {
	case NETIF_RSP_OKAY: return "OKAY";
	case NETIF_RSP_ERROR: return "ERROR";
	case NETIF_RSP_DROPPED: return "DROPPED";
	case NETIF_RSP_NULL: return "NULL";
	default: return "?";
	}
}

static const char *backend_state_name(int st)
{
	static const char *const names[] = {
		"unknown", "initialising", "initwait", "initialised", "connected",
		"closing", "closed", "reconfiguring", "reconfigured",
	};

	return st >= 0 && st <= XenbusStateReconfigured ? names[st] : "gone";
}

/* Wait (ms) until queue 0's TX is all answered or the backend left. */
static int settle(struct netfront *nf, int ms)
{
	struct nft_thread t = { .nf = nf, .q = 0, .stop_fd = -1 };
	double end = nft_now() + ms / 1000.0;
	int rc, st;

	for (;;) {
		rc = netfront_tx_complete(nf, 0);
		if (rc < 0)
			return rc;
		st = netfront_backend_state(nf);
		if (st != XenbusStateConnected || nft_now() >= end || !netfront_tx_inflight(nf, 0))
			return st;
		nft_wait_queue(&t, 50);
	}
}

static int do_mcast(struct netfront *nf, int argc, char **argv)
{
	bool add;
	uint8_t mac[6];
	int i, rc;

	if (argc < 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
		return -EINVAL;
	add = !strcmp(argv[1], "add");
	for (i = 2; i < argc; i++) {
		uint64_t errors = netfront_stats(nf, 0)->tx_errors;

		if (pv_net_parse_mac(argv[i], mac) < 0)
			return -EINVAL;
		rc = netfront_mcast(nf, add, mac);
		if (rc < 0)
			return rc;
		rc = settle(nf, 2000);
		if (rc < 0)
			return rc;
		printf("mcast %s %s %s\n", argv[1], argv[i],
		       netfront_tx_inflight(nf, 0) ? "no-response" :
		       netfront_stats(nf, 0)->tx_errors > errors ? "ERROR" : "OKAY");
	}
	return 0;
}

static int do_ctrl(struct netfront *nf, int argc, char **argv)
{
	uint32_t d[3] = { 0, 0, 0 }, data = 0;
	int i, rc;

	if (argc < 2)
		return -EINVAL;
	for (i = 0; i < 3 && i + 2 < argc; i++)
		d[i] = (uint32_t)strtoul(argv[i + 2], NULL, 0);
	rc = netfront_ctrl(nf, (uint16_t)strtoul(argv[1], NULL, 0), d[0], d[1], d[2], &data, 2000);
	if (rc < 0)
		return rc;
	printf("status %d data %u\n", rc, data);
	return 0;
}

/* ----------------------------------------------------------------- raw */

#define NFT_RACE_MAX 64u /* revoke-race frames: their statuses fit st[] */

static int put(struct netfront *nf, const void *ent, unsigned *n)
{
	int rc = netfront_tx_raw(nf, 0, ent);

	if (rc == 0)
		(*n)++;
	return rc;
}

static int put_extra(struct netfront *nf, uint8_t type, uint8_t flags, uint16_t size,
		     uint8_t gso_type, unsigned *n)
{
	struct netif_extra_info x = { .type = type, .flags = flags };
	uint8_t ent[sizeof(struct netif_tx_request)] = { 0 };

	x.u.gso.size = size;
	x.u.gso.type = gso_type;
	memcpy(ent, &x, sizeof(x));
	return put(nf, ent, n);
}

/*
 * One hostile request (or pattern) on queue 0, then what came back.  The
 * data slots point at a page granted read-only holding a 60-byte frame.
 */
static int do_raw(struct netfront *nf, int argc, char **argv)
{
	const char *rule = argc > 1 ? argv[1] : "";
	unsigned long arg = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	struct pvfront_ring *r = netfront_tx_ring(nf, 0);
	struct netif_tx_request t = { .offset = 0, .id = 0, .size = 60 };
	int16_t st[64];
	unsigned n = 0, got, i, k;
	uint32_t ref, race_ref[NFT_RACE_MAX];
	uint8_t *page, *race_page[NFT_RACE_MAX] = { NULL };
	unsigned nrace = 0, revoked = 0, held = 0;
	int rc = 0, state;

	rc = netfront_grant(nf, 0, 1, false, &ref, (void **)&page);
	if (rc < 0)
		return rc;
	memset(page, 0, 4096);
	memset(page, 0xff, 6);
	memcpy(page + 6, netfront_info(nf)->mac, 6);
	page[12] = 0x88;
	page[13] = 0xb5; /* local experimental ethertype */
	t.gref = ref;
	if (!strcmp(rule, "tx-slots") && arg >= 1) {
		for (i = 0; i < arg && rc == 0; i++) {
			t.id = (uint16_t)i;
			t.flags = i + 1 < arg ? NETTXF_more_data : 0;
			t.size = (uint16_t)(i == 0 ? 60 * arg : 60);
			rc = put(nf, &t, &n);
		}
	} else if (!strcmp(rule, "first-short")) {
		t.size = 10;
		rc = put(nf, &t, &n);
	} else if (!strcmp(rule, "cross-page")) {
		t.offset = 4000;
		t.size = 200;
		rc = put(nf, &t, &n);
	} else if (!strcmp(rule, "bad-extra") && argc > 2) {
		t.flags = NETTXF_extra_info;
		rc = put(nf, &t, &n);
		if (rc == 0)
			rc = put_extra(nf, (uint8_t)arg, 0, 0, 0, &n);
	} else if (!strcmp(rule, "gso-size-0") || !strcmp(rule, "bad-gso-type")) {
		bool zero = !strcmp(rule, "gso-size-0");

		t.flags = NETTXF_extra_info | NETTXF_csum_blank | NETTXF_data_validated;
		rc = put(nf, &t, &n);
		if (rc == 0)
			rc = put_extra(nf, XEN_NETIF_EXTRA_TYPE_GSO, 0, zero ? 0 : 1448,
				       zero ? XEN_NETIF_GSO_TYPE_TCPV4 : 7, &n);
	} else if (!strcmp(rule, "prod-overflow")) {
		volatile struct pv_sring_hdr *h = pvfront_ring_sring(r);

		pvfront_ring_set_req_prod(r, h->rsp_prod + r->front.nr_ents + 5);
		n = 0;
	} else if (!strcmp(rule, "bad-gref")) {
		t.gref = 0x7ffffff0; /* never granted */
		rc = put(nf, &t, &n);
	} else if (!strcmp(rule, "missing-extra")) {
		t.flags = NETTXF_extra_info; /* and no extra follows */
		rc = put(nf, &t, &n);
	} else if (!strcmp(rule, "too-many-extras")) {
		t.flags = NETTXF_extra_info;
		rc = put(nf, &t, &n);
		for (k = 0; k < 6 && rc == 0; k++)
			rc = put_extra(nf, (uint8_t)(1 + k % 4), k < 5 ? XEN_NETIF_EXTRA_FLAG_MORE : 0,
				       1448, XEN_NETIF_GSO_TYPE_TCPV4, &n);
	} else if (!strcmp(rule, "big-slot")) {
		t.flags = NETTXF_more_data; /* the follow-on slot is larger than the rest */
		rc = put(nf, &t, &n);
		t.id = 1;
		t.flags = 0;
		t.size = 100;
		if (rc == 0)
			rc = put(nf, &t, &n);
	} else if (!strcmp(rule, "revoked-frag")) {
		/* 200 bytes in the first slot, 100 in a page whose grant ended. */
		uint32_t gone;
		void *p2;

		rc = netfront_grant(nf, 0, 1, false, &gone, &p2);
		if (rc == 0)
			rc = netfront_ungrant(nf, 0, p2, 1);
		t.flags = NETTXF_more_data;
		t.size = 300;
		if (rc == 0)
			rc = put(nf, &t, &n);
		t = (struct netif_tx_request){ .gref = gone, .id = 1, .size = 100 };
		if (rc == 0)
			rc = put(nf, &t, &n);
	} else if (!strcmp(rule, "revoke-race") && arg) {
		/* Each frame on a page of its own, revoked right after the push
		 * (below): whoever comes first, the backend's map or our end of
		 * access, the other must cope. */
		nrace = arg < NFT_RACE_MAX ? (unsigned)arg : NFT_RACE_MAX;
		for (i = 0; i < nrace && rc == 0; i++) {
			rc = netfront_grant(nf, 0, 1, false, &race_ref[i], (void **)&race_page[i]);
			if (rc < 0) {
				race_page[i] = NULL;
				break;
			}
			memcpy(race_page[i], page, 60);
			t = (struct netif_tx_request){ .gref = race_ref[i], .id = (uint16_t)i,
						       .size = 2000 };
			rc = put(nf, &t, &n);
		}
	} else if (!strcmp(rule, "event-storm") && arg) {
		for (i = 0; i < arg; i++)
			netfront_notify(nf, 0);
		/* The backend must still serve a proper frame afterwards. */
		rc = netfront_send(nf, 0, page, 60, NULL);
	} else {
		fprintf(stderr, "netfront-tool: raw: unknown rule '%s'\n", rule);
		netfront_ungrant(nf, 0, page, 1);
		return -EINVAL;
	}
	if (rc < 0)
		goto out;
	if (strcmp(rule, "prod-overflow"))
		netfront_kick(nf, 0);
	netfront_notify(nf, 0); /* whether it asked or not */
	/* Revoke while the backend works: an end of access fails while it
	 * maps the page, so try each a few times. */
	for (k = 0; k < 1000 && revoked < nrace; k++)
		for (i = 0; i < nrace; i++)
			if (race_page[i] && netfront_ungrant(nf, 0, race_page[i], 1) == 0) {
				race_page[i] = NULL;
				revoked++;
			}
	printf("sent %u raw slots\n", n);
	/* What comes back: responses of the raw slots, or a disconnect. */
	got = 0;
	state = XenbusStateConnected;
	for (double end = nft_now() + 3; nft_now() < end;) {
		struct nft_thread th = { .nf = nf, .q = 0, .stop_fd = -1 };

		rc = netfront_tx_complete(nf, 0);
		k = netfront_tx_raw_status(nf, 0, st, 64);
		for (i = 0; i < k; i++)
			printf("response %s\n", status_name(st[i]));
		got += k;
		state = netfront_backend_state(nf);
		if (rc < 0 || state != XenbusStateConnected)
			break;
		/* Nothing to answer (a raw index): wait for a disconnect. */
		if ((n || netfront_stats(nf, 0)->tx_slots) && got >= n &&
		    !netfront_tx_inflight(nf, 0))
			break;
		nft_wait_queue(&th, 50);
	}
	if (!strcmp(rule, "event-storm"))
		printf("frame after the storm: %s\n",
		       netfront_stats(nf, 0)->tx_packets ? "OKAY" :
		       netfront_tx_inflight(nf, 0) ? "no-response" : "ERROR");
	if (nrace) {
		/* Every response is in: the backend holds none of them now. */
		for (i = 0; i < nrace; i++)
			if (race_page[i] && netfront_ungrant(nf, 0, race_page[i], 1) < 0)
				held++;
		printf("access ended at once: %u of %u\n", revoked, nrace);
		printf("still mapped after the responses: %u\n", held);
	}
	if (netfront_broken(nf))
		printf("netfront broken: %s\n", netfront_broken(nf));
	printf("backend %s\n", backend_state_name(state));
	rc = 0;
out:
	for (i = 0; i < nrace; i++)
		if (race_page[i])
			netfront_ungrant(nf, 0, race_page[i], 1);
	/* Ended at close if the backend still maps it (it copies: it won't). */
	netfront_ungrant(nf, 0, page, 1);
	return rc;
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netfront-tool [options] COMMAND [args]\n"
		"options (what is negotiated):\n"
		"  --devid N            the vif (device/vif/N), default 0\n"
		"  --queues N           queues wanted (clamped to the backend's), default 1\n"
		"  --split on|off       split event channels if offered, default on\n"
		"  --no-sg --no-gso --no-gso4 --no-gso6 --no-csum --no-ipv6-csum --no-rx-notify\n"
		"  --mcast-control      request-multicast-control\n"
		"  --ctrl-ring          ctrl-ring-ref + event-channel-ctrl\n"
		"  --regrant            grant per packet, end access per response (as Linux)\n"
		"  --xdp-headroom N     written at connect\n"
		"  --timeout MS         handshake waits, default 10000\n"
		"commands: handshake |\n"
		"  tap IFNAME [--io uring|rw] [--batch N] [--rx-log FILE] [--control FIFO] |\n"
		"  gen [--size N] [--offset N] [--dst MAC] [--count N] [--seconds S] [--batch N]\n"
		"      [--csum none|sw|offload] |\n"
		"  sink [--count N] [--seconds S] [--idle S] [--batch N] [--verify] |\n"
		"  reconfigure N | mcast add|del MAC... | ctrl TYPE [D0 D1 D2] |\n"
		"  raw tx-slots N|first-short|cross-page|bad-extra T|gso-size-0|bad-gso-type|\n"
		"      prod-overflow|bad-gref|missing-extra|too-many-extras|big-slot|event-storm N|\n"
		"      revoked-frag|revoke-race N |\n"
		"  attack flip|never-consume|revoke [--count N] [--seed S]\n"
		"tap --rx-log FILE: a line per received frame (slots, flags, data offset, extras)\n"
		"tap --control FIFO: a command a line, each answered \"control N: ...\" on stdout:\n"
		"  mcast add|del MAC | mcast-control on|off | reconfigure HEADROOM |\n"
		"  ctrl TYPE [D0 D1 D2] | hash-key HEX | hash-mapping OFFSET QUEUE...\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "devid", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "split", required_argument, NULL, 's' },
		{ "no-sg", no_argument, NULL, 'S' },
		{ "no-gso", no_argument, NULL, 'G' },
		{ "no-gso4", no_argument, NULL, '4' },
		{ "no-gso6", no_argument, NULL, '6' },
		{ "no-csum", no_argument, NULL, 'C' },
		{ "no-ipv6-csum", no_argument, NULL, 'I' },
		{ "no-rx-notify", no_argument, NULL, 'N' },
		{ "mcast-control", no_argument, NULL, 'm' },
		{ "ctrl-ring", no_argument, NULL, 'c' },
		{ "regrant", no_argument, NULL, 'r' },
		{ "xdp-headroom", required_argument, NULL, 'x' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const commands[] = {
		"handshake", "tap", "gen", "sink", "reconfigure", "mcast", "ctrl", "raw", "attack",
		NULL,
	};
	struct netfront_opts o;
	struct netfront *nf;
	const char *cmd;
	sigset_t sigs;
	int c, rc;

	netfront_opts_default(&o, 0);
	/* "+": stop at the command; its own options follow it. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.devid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'q': o.nr_queues = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				usage(stderr);
				return 2;
			}
			o.split = !strcmp(optarg, "on");
			break;
		case 'S': o.sg = false; break;
		case 'G': o.gso_tcpv4 = o.gso_tcpv6 = false; break;
		case '4': o.gso_tcpv4 = false; break;
		case '6': o.gso_tcpv6 = false; break;
		case 'C': o.csum = o.ipv6_csum = false; break;
		case 'I': o.ipv6_csum = false; break;
		case 'N': o.rx_notify = false; break;
		case 'm': o.mcast_control = true; break;
		case 'c': o.ctrl_ring = true; break;
		case 'r': o.regrant = true; break;
		case 'x': o.xdp_headroom = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': o.timeout_ms = (int)strtol(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	for (c = 0; commands[c] && strcmp(commands[c], cmd); c++)
		;
	if (!commands[c]) {
		fprintf(stderr, "netfront-tool: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	/* Before any thread exists (libxenstore starts one in netfront_open):
	 * SIGTERM/SIGINT then reach only nft_run_queues' signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	rc = netfront_open(&o, &nf);
	if (rc < 0) {
		fprintf(stderr, "netfront-tool: connect vif %u: %s\n", o.devid, strerror(-rc));
		return 1;
	}
	argc -= optind;
	argv += optind;
	optind = 1; /* the command parses its own options */
	if (!strcmp(cmd, "handshake"))
		rc = do_handshake(nf);
	else if (!strcmp(cmd, "tap"))
		rc = nft_tap(nf, argc, argv);
	else if (!strcmp(cmd, "gen"))
		rc = nft_gen(nf, argc, argv);
	else if (!strcmp(cmd, "sink"))
		rc = nft_sink(nf, argc, argv);
	else if (!strcmp(cmd, "reconfigure") && argc > 1)
		rc = do_reconfigure(nf, (unsigned)strtoul(argv[1], NULL, 0));
	else if (!strcmp(cmd, "mcast"))
		rc = do_mcast(nf, argc, argv);
	else if (!strcmp(cmd, "ctrl"))
		rc = do_ctrl(nf, argc, argv);
	else if (!strcmp(cmd, "raw"))
		rc = do_raw(nf, argc, argv);
	else if (!strcmp(cmd, "attack"))
		rc = nft_attack(&nf, &o, argc, argv); /* may reconnect: nf changes, or NULL */
	else
		rc = -EINVAL;
	if (rc == -EINVAL)
		usage(stderr);
	if (rc < 0)
		fprintf(stderr, "netfront-tool: %s: %s%s%s\n", cmd, strerror(-rc),
			nf && netfront_broken(nf) ? "; netfront broken: " : "",
			nf && netfront_broken(nf) ? netfront_broken(nf) : "");
	fflush(stdout);
	if (nf)
		netfront_close(nf);
	return rc < 0 ? 1 : 0;
}
