// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netfront-tool tap IFNAME: the vif as the guest's NIC, a TAP device in
 * the caller's network namespace (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one
 * queue per netfront queue with IFF_MULTI_QUEUE), carrying the vif's `mac`
 * and `mtu`, with TUNSETOFFLOAD set to what the backend takes from us (so
 * the kernel hands us partial checksums and TSO frames only when netif can
 * carry them).  Frames go both ways with their virtio_net_hdr.
 *
 * One thread per queue, event-driven: epoll on its TAP queue (or its
 * io_uring), its event channel and the stop eventfd.  Each wake-up drains
 * up to --batch frames each way, then pushes once (netfront_kick); while
 * the tx ring is full the TAP is left unread until completions make room,
 * so a full ring never spins.  --io uring (default) keeps --batch reads
 * posted and writes a batch with one submit; --io rw moves each frame with
 * one readv/writev.  Measured here (pvsim, pvback-net, 2 vCPUs, load ~1,
 * interleaved): iperf3 TCP 7.8-9.0 / 6.9-7.5 Gbit/s (guest->host /
 * host->guest) with uring against 7.3-8.4 / 5.8-7.7 with rw; 64-byte UDP
 * floods about 170 kpps each way with either (the pipeline, not the TAP
 * system calls, is the limit there).
 *
 * For protocol tests: --rx-log FILE writes one line per received frame
 * (how it came: slots, flags, data offset, each extra); --control FIFO
 * takes commands while running (nft_control: multicast list and control,
 * XDP headroom, ctrl ring), each answered by a "control N:" line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <liburing.h>

#include <xen/xen.h>
#include <xen/io/netif.h>

#include "netfront.h"
#include "netfront-tool.h"

#define PAGE 4096u
#define VH_LEN sizeof(struct virtio_net_hdr)

struct tap {
	char ifname[IFNAMSIZ];
	int fd[NETFRONT_MAX_QUEUES];
	unsigned batch;
	bool uring;                  /* --io uring: batched TAP I/O */
	FILE *rx_log;                /* --rx-log: a line per received frame, or NULL */
	struct tapq {
		uint64_t rx_frames, tx_frames, rx_drops, tx_drops;
	} st[NETFRONT_MAX_QUEUES];
};

/* TUNSETOFFLOAD: what the kernel may hand us is what netif may carry out. */
static unsigned offloads(const struct netfront_info *in)
{
	unsigned off = 0;

	if (in->tx_csum || in->tx_ipv6_csum)
		off |= TUN_F_CSUM; /* what the backend lacks, netfront finishes */
	if (in->tx_gso_tcpv4)
		off |= TUN_F_TSO4;
	if (in->tx_gso_tcpv6)
		off |= TUN_F_TSO6;
	return off;
}

static int link_up(const char *name, const struct netfront_info *in)
{
	struct ifreq ifr;
	int s, rc = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, in->mac, NETFRONT_ETH_ALEN);
	if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		rc = -errno;
	ifr.ifr_mtu = (int)(in->tx_sg || in->mtu <= 1500 ? in->mtu : 1500);
	if (rc == 0 && ioctl(s, SIOCSIFMTU, &ifr) < 0)
		rc = -errno;
	if (rc == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

static int tap_open(struct tap *tp, const struct netfront_info *in)
{
	unsigned q, off = offloads(in);
	int vhlen = (int)VH_LEN;
	struct ifreq ifr;

	for (q = 0; q < in->nr_queues; q++) {
		/* Non-blocking for both: read(2) must not block, and io_uring
		 * issues a non-blocking file's reads and writes at once on this
		 * thread, a read that finds nothing waiting on the TAP's poll; a
		 * blocking TAP sent every request to an io-wq worker thread on
		 * kernels whose tun lacks FMODE_NOWAIT (6.1), out of order. */
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

		if (fd < 0)
			return -errno;
		tp->fd[q] = fd;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tp->ifname);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
				(in->nr_queues > 1 ? IFF_MULTI_QUEUE : 0);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &vhlen) < 0 ||
		    ioctl(fd, TUNSETOFFLOAD, off) < 0)
			return -errno;
	}
	return link_up(tp->ifname, in);
}

/* --rx-log: how frame (len bytes) came, from netfront_rx_meta.  Its
 * destination, ethertype and last 4 bytes tell test frames apart. */
static void rx_log(struct nft_thread *t, struct tap *tp, const uint8_t *f, int len)
{
	const struct netfront_rx_meta *m = netfront_rx_meta(t->nf, t->q);
	uint32_t tail = 0;
	int i;

	if (!tp->rx_log)
		return;
	for (i = len >= 4 ? len - 4 : 0; i < len; i++)
		tail = tail << 8 | f[i];
	fprintf(tp->rx_log,
		"rx q=%u len=%d dst=%02x:%02x:%02x:%02x:%02x:%02x proto=0x%04x tail=%08x "
		"slots=%u frags=%u flags=0x%x rsp_offset=%u offset=%u extras=0x%x "
		"gso=%u/%u hash=0x%08x/%u/%u xdp=%u\n",
		t->q, len, f[0], f[1], f[2], f[3], f[4], f[5], f[12] << 8 | f[13], tail, m->slots,
		m->nr_frags, m->flags, m->rsp_offset, m->offset, m->extras, m->gso_type,
		m->gso_size, m->hash, m->hash_type, m->hash_alg, m->xdp_headroom);
	fflush(tp->rx_log);
}

/* Guest RX -> TAP: up to batch frames; true if more may wait. */
static int to_tap(struct nft_thread *t, struct tap *tp, uint8_t *buf, bool *more)
{
	struct tapq *st = &tp->st[t->q];
	struct virtio_net_hdr vh;
	unsigned i;
	int n;

	*more = false;
	for (i = 0; i < tp->batch; i++) {
		struct iovec iov[2] = { { &vh, VH_LEN }, { buf, 0 } };

		n = netfront_recv(t->nf, t->q, buf, NETFRONT_MAX_FRAME, &vh);
		if (n <= 0)
			return n;
		rx_log(t, tp, buf, n);
		iov[1].iov_len = (size_t)n;
		if (writev(tp->fd[t->q], iov, 2) < 0)
			st->rx_drops++; /* interface down, queue full: as a NIC drops */
		else
			st->rx_frames++;
	}
	*more = true;
	return 0;
}

/* TAP -> guest TX: up to batch frames while the ring has room. */
static int from_tap(struct nft_thread *t, struct tap *tp, uint8_t *buf, bool *more)
{
	struct tapq *st = &tp->st[t->q];
	struct virtio_net_hdr vh;
	unsigned i;
	ssize_t n;
	int rc;

	*more = false;
	for (i = 0; i < tp->batch; i++) {
		struct iovec iov[2] = { { &vh, VH_LEN }, { buf, 65536 } };

		if (!netfront_tx_ready(t->nf, t->q))
			return 0;
		n = readv(tp->fd[t->q], iov, 2);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if ((size_t)n <= VH_LEN)
			continue;
		rc = netfront_send(t->nf, t->q, buf, (size_t)n - VH_LEN, &vh);
		if (rc == -EIO)
			return rc;
		if (rc < 0)
			st->tx_drops++; /* an offload netif lacks, too big: dropped */
		else
			st->tx_frames++;
	}
	*more = true;
	return 0;
}

/* The thread's epoll set: the TAP side's fd (the TAP or the io_uring),
 * the queue's event channels, the stop eventfd, the control command's
 * eventfd (queue 0 with --control).  An epoll fd or -errno. */
static int epoll_open(struct nft_thread *t, int io_fd)
{
	const int fds[4] = { io_fd, netfront_queue_fd(t->nf, t->q), t->stop_fd, t->cmd_fd };
	int ep = epoll_create1(EPOLL_CLOEXEC), rc = 0;
	uint32_t i;

	if (ep < 0)
		return -errno;
	for (i = 0; i < 4 && rc == 0; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };

		if (fds[i] >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e) < 0)
			rc = -errno;
	}
	if (rc < 0)
		close(ep);
	return rc < 0 ? rc : ep;
}

/* Wait (not at all when busy); a fired event channel is acked here. */
static int epoll_next(struct nft_thread *t, int ep, bool busy)
{
	struct epoll_event ev[4];
	int n, i;

	n = epoll_wait(ep, ev, 4, busy ? 0 : -1);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (ev[i].data.u32 == 1)
			netfront_queue_ack(t->nf, t->q);
		else if (ev[i].data.u32 == 3)
			nft_thread_cmd_ack(t);
	}
	return 0;
}

static void tap_thread(struct nft_thread *t)
{
	struct tap *tp = t->arg;
	int ep = -1, tapfd = tp->fd[t->q], rc = 0;
	struct epoll_event e;
	uint8_t *rxbuf = aligned_alloc(PAGE, 65536), *txbuf = aligned_alloc(PAGE, 65536);
	bool tap_on = true, more_rx = false, more_tx = false;

	if (!rxbuf || !txbuf) {
		rc = -ENOMEM;
		goto out;
	}
	ep = epoll_open(t, tapfd);
	if (ep < 0) {
		rc = ep;
		goto out;
	}
	while (rc == 0 && !*t->stop) {
		rc = epoll_next(t, ep, more_rx || more_tx);
		if (rc < 0)
			break;
		/* Completions first: they make room for what the TAP holds. */
		rc = netfront_tx_complete(t->nf, t->q);
		if (rc >= 0)
			nft_thread_cmd(t);
		if (rc >= 0)
			rc = to_tap(t, tp, rxbuf, &more_rx);
		if (rc >= 0)
			rc = from_tap(t, tp, txbuf, &more_tx);
		if (rc >= 0)
			rc = netfront_kick(t->nf, t->q); /* one push each way */
		if (rc < 0)
			break;
		rc = 0;
		/* A full ring: leave the TAP unread until completions come. */
		if (tap_on != netfront_tx_ready(t->nf, t->q)) {
			tap_on = !tap_on;
			e = (struct epoll_event){ .events = tap_on ? EPOLLIN : 0, .data.u32 = 0 };
			epoll_ctl(ep, EPOLL_CTL_MOD, tapfd, &e);
		}
		if (!tap_on)
			more_tx = false;
	}
out:
	if (ep >= 0)
		close(ep);
	free(rxbuf);
	free(txbuf);
	t->rc = rc;
}

/* ---------------------------------------------------------- io_uring */

/*
 * --io uring: the same loop with the TAP side on an io_uring.  batch reads
 * stay posted on the (non-blocking: see tap_open) TAP queue; a completed read is sent on the
 * netfront queue when the ring has room, else held until completions make
 * room, then read again.  Frames to the TAP are taken batch at a time and
 * written with one submit (TAP writes complete inline); their buffers are
 * reused once every write of the batch completed.  epoll watches the
 * io_uring's fd instead of the TAP.
 */
#define TAG_READ  0x10000u
#define TAG_WRITE 0x20000u
#define TAG_POLL  0x40000u

struct ubuf {
	struct virtio_net_hdr vh;
	struct iovec iov[2];
	uint8_t *data;               /* page-aligned, 64 KiB */
	int len;                     /* a completed read's bytes; -1: posted */
};

struct uring_q {
	struct io_uring ring;
	struct ubuf *rd, *wr;
	unsigned *held, nheld;       /* completed reads waiting for tx room */
	unsigned *again, nagain;     /* reads that got -EAGAIN: re-posted when readable */
	bool poll_armed;
	unsigned writes;             /* in the kernel */
};

static void u_post_read(struct uring_q *u, int fd, unsigned k)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	struct ubuf *b = &u->rd[k];

	b->iov[0] = (struct iovec){ &b->vh, VH_LEN };
	b->iov[1] = (struct iovec){ b->data, 65536 };
	b->len = -1;
	io_uring_prep_readv(sqe, fd, b->iov, 2, 0);
	io_uring_sqe_set_data64(sqe, TAG_READ | k);
}

static void u_reap(struct uring_q *u, struct tapq *st, int fd)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		unsigned k = (unsigned)(tag & 0xffffu);

		n++;
		if (tag & TAG_WRITE) {
			u->writes--;
			if (cqe->res < 0)
				st->rx_drops++;
			else
				st->rx_frames++;
		} else if (tag & TAG_POLL) {
			u->poll_armed = false;
			while (cqe->res != -ECANCELED && u->nagain)
				u_post_read(u, fd, u->again[--u->nagain]);
		} else if (cqe->res > (int)VH_LEN) {
			u->rd[k].len = cqe->res - (int)VH_LEN;
			u->held[u->nheld++] = k;
		} else if (cqe->res == -EAGAIN) {
			/* A kernel that does not poll a non-blocking file for us */
			u->again[u->nagain++] = k;
			if (!u->poll_armed) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

				io_uring_prep_poll_add(sqe, fd, POLLIN);
				io_uring_sqe_set_data64(sqe, TAG_POLL);
				u->poll_armed = true;
			}
		} else if (cqe->res != -ECANCELED) {
			u_post_read(u, fd, k); /* an error or nothing: read again */
		}
	}
	io_uring_cq_advance(&u->ring, n);
}

static int u_to_tap(struct nft_thread *t, struct tap *tp, struct uring_q *u, bool *more)
{
	unsigned i;
	int n;

	*more = false;
	for (i = 0; i < tp->batch; i++) {
		struct ubuf *b = &u->wr[i];
		struct io_uring_sqe *sqe;

		n = netfront_recv(t->nf, t->q, b->data, NETFRONT_MAX_FRAME, &b->vh);
		if (n < 0)
			return n;
		if (!n)
			break;
		rx_log(t, tp, b->data, n);
		b->iov[0] = (struct iovec){ &b->vh, VH_LEN };
		b->iov[1] = (struct iovec){ b->data, (size_t)n };
		sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_writev(sqe, tp->fd[t->q], b->iov, 2, 0);
		io_uring_sqe_set_data64(sqe, TAG_WRITE | i);
		u->writes++;
	}
	*more = i == tp->batch;
	return 0;
}

static int u_from_tap(struct nft_thread *t, struct tap *tp, struct uring_q *u)
{
	struct tapq *st = &tp->st[t->q];
	unsigned i = 0;
	int rc;

	while (i < u->nheld && netfront_tx_ready(t->nf, t->q)) {
		unsigned k = u->held[i++];

		rc = netfront_send(t->nf, t->q, u->rd[k].data, (size_t)u->rd[k].len, &u->rd[k].vh);
		if (rc == -EIO)
			return rc;
		if (rc < 0)
			st->tx_drops++;
		else
			st->tx_frames++;
		u_post_read(u, tp->fd[t->q], k);
	}
	memmove(u->held, u->held + i, (u->nheld - i) * sizeof(*u->held));
	u->nheld -= i;
	return 0;
}

static void tap_thread_uring(struct nft_thread *t)
{
	struct tap *tp = t->arg;
	struct uring_q u = { 0 };
	int ep = -1, fd = tp->fd[t->q], rc;
	bool more_rx = false, ring_ok = false;
	uint8_t *mem = NULL;
	unsigned k, nb = tp->batch;

	rc = io_uring_queue_init(4 * nb, &u.ring, 0);
	if (rc < 0)
		goto out;
	ring_ok = true;
	u.rd = calloc(nb, sizeof(*u.rd));
	u.wr = calloc(nb, sizeof(*u.wr));
	u.held = calloc(nb, sizeof(*u.held));
	u.again = calloc(nb, sizeof(*u.again));
	mem = aligned_alloc(PAGE, (size_t)2 * nb * 65536);
	if (!u.rd || !u.wr || !u.held || !u.again || !mem) {
		rc = -ENOMEM;
		goto out;
	}
	for (k = 0; k < nb; k++) {
		u.rd[k].data = mem + (size_t)k * 65536;
		u.wr[k].data = mem + (size_t)(nb + k) * 65536;
		u_post_read(&u, fd, k);
	}
	io_uring_submit(&u.ring);
	ep = epoll_open(t, u.ring.ring_fd);
	if (ep < 0) {
		rc = ep;
		goto out;
	}
	while (rc == 0 && !*t->stop) {
		/* Reads reaped while waiting for writes raise no new event:
		 * held frames with room to send mean work now. */
		rc = epoll_next(t, ep, more_rx || (u.nheld && netfront_tx_ready(t->nf, t->q)));
		if (rc < 0)
			break;
		u_reap(&u, &tp->st[t->q], fd);
		rc = netfront_tx_complete(t->nf, t->q);
		if (rc >= 0)
			nft_thread_cmd(t);
		if (rc >= 0)
			rc = u_from_tap(t, tp, &u);
		if (rc >= 0)
			rc = u_to_tap(t, tp, &u, &more_rx);
		if (rc >= 0)
			rc = netfront_kick(t->nf, t->q);
		if (rc < 0)
			break;
		rc = 0;
		/* One submit: re-posted reads and this batch's writes.  The
		 * writes' buffers are reused next round: wait for them. */
		io_uring_submit(&u.ring);
		while (u.writes) {
			struct io_uring_cqe *cqe;

			if (io_uring_wait_cqe(&u.ring, &cqe) < 0)
				break;
			u_reap(&u, &tp->st[t->q], fd);
		}
	}
out:
	if (ring_ok) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u.ring);

		/* Posted reads land in mem: cancel them before it goes. */
		if (sqe) {
			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, 0);
			io_uring_submit(&u.ring);
		}
		io_uring_queue_exit(&u.ring);
	}
	if (ep >= 0)
		close(ep);
	free(mem);
	free(u.rd);
	free(u.wr);
	free(u.held);
	free(u.again);
	t->rc = rc;
}

int nft_tap(struct netfront *nf, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "io", required_argument, NULL, 'i' },
		{ "rx-log", required_argument, NULL, 'l' },
		{ "control", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct nft_control *ctl = NULL;
	const struct netfront_info *in = netfront_info(nf);
	struct nft_thread th[NETFRONT_MAX_QUEUES];
	struct tap *tp = calloc(1, sizeof(*tp));
	struct tapq sum = { 0 };
	unsigned q;
	int c, rc;

	if (!tp)
		return -ENOMEM;
	tp->batch = 32;
	tp->uring = true;
	for (q = 0; q < NETFRONT_MAX_QUEUES; q++)
		tp->fd[q] = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'b' && strtoul(optarg, NULL, 0) >= 1 && strtoul(optarg, NULL, 0) <= 256) {
			tp->batch = (unsigned)strtoul(optarg, NULL, 0);
		} else if (c == 'i' && (!strcmp(optarg, "uring") || !strcmp(optarg, "rw"))) {
			tp->uring = !strcmp(optarg, "uring");
		} else if (c == 'l' && !tp->rx_log) {
			tp->rx_log = fopen(optarg, "we");
			if (!tp->rx_log) {
				rc = -errno;
				fprintf(stderr, "netfront-tool: --rx-log %s: %s\n", optarg, strerror(-rc));
				goto out;
			}
		} else if (c == 'c' && !ctl) {
			rc = nft_control_open(optarg, &ctl);
			if (rc < 0) {
				fprintf(stderr, "netfront-tool: --control %s: %s\n", optarg,
					rc == -ENOTSUP ? "not a FIFO" : strerror(-rc));
				goto out;
			}
		} else {
			rc = -EINVAL;
			goto out;
		}
	}
	if (optind >= argc || strlen(argv[optind]) >= IFNAMSIZ) {
		rc = -EINVAL;
		goto out;
	}
	snprintf(tp->ifname, sizeof(tp->ifname), "%s", argv[optind]);
	rc = tap_open(tp, in);
	if (rc < 0) {
		fprintf(stderr, "netfront-tool: tap %s: %s\n", tp->ifname, strerror(-rc));
		goto out;
	}
	rc = nft_run_queues(nf, tp->uring ? tap_thread_uring : tap_thread, tp, 0, "ready", th, ctl);
	for (q = 0; q < in->nr_queues; q++) {
		sum.rx_frames += tp->st[q].rx_frames;
		sum.tx_frames += tp->st[q].tx_frames;
		sum.rx_drops += tp->st[q].rx_drops;
		sum.tx_drops += tp->st[q].tx_drops;
	}
	printf("{\"cmd\":\"tap\",\"ifname\":\"%s\",\"queues\":%u,\"tx_frames\":%llu,"
	       "\"rx_frames\":%llu,\"tx_drops\":%llu,\"rx_drops\":%llu",
	       tp->ifname, in->nr_queues, (unsigned long long)sum.tx_frames,
	       (unsigned long long)sum.rx_frames, (unsigned long long)sum.tx_drops,
	       (unsigned long long)sum.rx_drops);
	nft_print_stats_tail(nf);
out:
	for (q = 0; q < NETFRONT_MAX_QUEUES; q++)
		if (tp->fd[q] >= 0)
			close(tp->fd[q]);
	if (tp->rx_log)
		fclose(tp->rx_log);
	nft_control_close(ctl);
	free(tp);
	return rc;
}
