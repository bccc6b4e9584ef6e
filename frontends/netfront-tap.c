// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netfront-tool tap IFNAME: the vif as the guest's NIC, a TAP device in
 * the caller's network namespace (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, one
 * queue per netfront queue with IFF_MULTI_QUEUE), carrying the vif's `mac`
 * and `mtu`, with TUNSETOFFLOAD set to what the backend takes from us (so
 * the kernel hands us partial checksums and TSO frames only when netif can
 * carry them).  Frames go both ways with their virtio_net_hdr.
 *
 * One thread per queue, event-driven: epoll on its TAP queue, its event
 * channel and the stop eventfd.  Each wake-up drains up to --batch frames
 * each way, then pushes once (netfront_kick); when the tx ring is full the
 * TAP is taken out of the epoll set until completions make room, so a full
 * ring never spins.  The TAP side moves frames with readv/writev, one
 * system call per frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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

#include "netfront.h"
#include "netfront-tool.h"

#define PAGE 4096u
#define VH_LEN sizeof(struct virtio_net_hdr)

struct tap {
	char ifname[IFNAMSIZ];
	int fd[NETFRONT_MAX_QUEUES];
	unsigned batch;
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

static void tap_thread(struct nft_thread *t)
{
	struct tap *tp = t->arg;
	int ep = epoll_create1(EPOLL_CLOEXEC), tapfd = tp->fd[t->q], rc = 0, n, i;
	struct epoll_event ev[3], e;
	uint8_t *rxbuf = aligned_alloc(PAGE, 65536), *txbuf = aligned_alloc(PAGE, 65536);
	bool tap_on = true, more_rx = false, more_tx = false;

	if (ep < 0 || !rxbuf || !txbuf) {
		rc = ep < 0 ? -errno : -ENOMEM;
		goto out;
	}
	e = (struct epoll_event){ .events = EPOLLIN, .data.u32 = 0 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tapfd, &e) < 0)
		rc = -errno;
	e.data.u32 = 1;
	if (rc == 0 && epoll_ctl(ep, EPOLL_CTL_ADD, netfront_queue_fd(t->nf, t->q), &e) < 0)
		rc = -errno;
	e.data.u32 = 2;
	if (rc == 0 && epoll_ctl(ep, EPOLL_CTL_ADD, t->stop_fd, &e) < 0)
		rc = -errno;
	while (rc == 0 && !*t->stop) {
		n = epoll_wait(ep, ev, 3, more_rx || more_tx ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (i = 0; i < n; i++)
			if (ev[i].data.u32 == 1)
				netfront_queue_ack(t->nf, t->q);
		/* Completions first: they make room for what the TAP holds. */
		rc = netfront_tx_complete(t->nf, t->q);
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

int nft_tap(struct netfront *nf, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const struct netfront_info *in = netfront_info(nf);
	struct nft_thread th[NETFRONT_MAX_QUEUES];
	struct tap *tp = calloc(1, sizeof(*tp));
	struct tapq sum = { 0 };
	unsigned q;
	int c, rc;

	if (!tp)
		return -ENOMEM;
	tp->batch = 32;
	for (q = 0; q < NETFRONT_MAX_QUEUES; q++)
		tp->fd[q] = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'b') {
			rc = -EINVAL;
			goto out;
		}
		tp->batch = (unsigned)strtoul(optarg, NULL, 0) ?: 1;
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
	rc = nft_run_queues(nf, tap_thread, tp, 0, "ready", th);
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
	free(tp);
	return rc;
}
