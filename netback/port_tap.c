// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The TAP host port: a vif is a TAP device (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR | IFF_MULTI_QUEUE) named as Linux netback names its vif, so
 * the toolstack's bridge script (vif-bridge) attaches it unchanged.  Each
 * netif queue has a TAP queue of its own (queue 0 is the fd opened at probe,
 * which keeps the device alive between connections) and an io_uring on its
 * thread's loop.  Under --isolate domain the xenbus process opens every
 * queue's fd (net_tap_queue_fds) and a worker process runs the queues on a
 * port made of the fds it was handed (net_tap_port_adopt), opening none:
 *
 *  - guest TX: one IORING_OP_WRITE per frame (the vnet_hdr in the packet's
 *    headroom, just before the frame), or an IORING_OP_WRITEV of {vnet_hdr
 *    + head, segments...} for a zero-copy frame (NET_PORT_TX_SEGS: the
 *    segments are mapped guest pages), all of a burst submitted with one
 *    system call (measured 4.5-7x a write() per frame on these machines,
 *    research/net-usb.md 6); TAP writes complete inline, so the
 *    completions are reaped right after the submit and the buffers go back
 *    to the queue at once; one that does not (an io-wq punt) calls tx_done
 *    from its completion later, which is when the guest's pages are free;
 *  - guest RX: NET_TAP_READS reads ({vnet_hdr, 64 KiB}) stay posted; their
 *    completions (the ring fd is readable) queue frames for rx_burst, and a
 *    frame's buffer is posted again when rx_release gives it back (not
 *    while paused: then the kernel queues, and drops beyond txqueuelen).
 *
 * The TAP is opened O_NONBLOCK.  io_uring then issues every read and write
 * at once on this thread, in order, and a read that finds nothing waits on
 * the TAP's poll.  A blocking TAP counts as "nowait" for io_uring only where
 * tun sets FMODE_NOWAIT (newer kernels): on Debian 12's 6.1 (a Xen dom0)
 * every read and write of a blocking TAP went to an io-wq worker thread,
 * one per posted read, which reordered frames (TCP retransmits) and took
 * a guest's ping from 8 to 100 ms under TCG.  A kernel that hands a read's
 * -EAGAIN back instead of polling gets an explicit poll (wait_readable).
 *
 * Offloads (TUNSETOFFLOAD) say what guest RX may receive: partial checksums
 * and TSO super-frames only when the frontend takes them.  The carrier
 * follows the queues (TUNSETCARRIER).  Every op returns -errno; nothing
 * here logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "netback.h"
#include "uring.h"

#define NET_TAP_READS   64u     /* reads posted per queue */
#define NET_TAP_WRITES  256u    /* writes in flight per queue */
#define NET_TAP_VH      sizeof(struct virtio_net_hdr)
#define NET_TAP_RXLEN   (NET_MAX_PKT + 64) /* a read's frame room: a GSO super-frame fits */
/* A read's buffer: the header, then the frame 64-byte aligned. */
#define NET_TAP_RXBUF   ((NET_PKT_HEADROOM + NET_TAP_RXLEN + 63u) & ~63u)
#define NET_TAP_SQ      512u    /* >= NET_TAP_READS + NET_TAP_WRITES */

struct net_port {
	char ifname[IFNAMSIZ];
	int fd0;                    /* queue 0, opened at probe (adopted: handed over) */
	/* The queues' fds the port owns: fd0, and an adopted port's others. */
	int qfd[NET_MAX_QUEUES];
	bool taken[NET_MAX_QUEUES]; /* a queue thread uses qfd[i] */
	unsigned nr_qfd;
	bool adopted;               /* a worker's: it opens no TAP queue */
	unsigned max_queues;
};

enum { OP_READ = 1, OP_WRITE = 2, OP_POLL = 3 };

struct tap_rx {                     /* one posted read and the frame it fills */
	struct net_pkt pkt;         /* data: the frame, its header just before */
	struct tap_rx *next;        /* ready list, or idle list while paused */
};

struct tap_tx {                     /* one write in flight */
	struct net_pkt *pkt;
	struct tap_tx *next;        /* free list */
	/* a zero-copy frame's: stable until the completion (an io-wq punt
	 * reads it after the submit) */
	struct iovec iov[1 + NET_PKT_MAX_SEGS];
};

struct net_port_queue {
	struct net_port *port;
	unsigned idx;
	int fd;
	struct pv_loop *loop;
	const struct net_port_queue_cbs *cbs;
	void *opaque;
	struct io_uring ring;
	bool ring_ok, in_loop;
	struct tap_rx rx[NET_TAP_READS];
	uint8_t *rx_mem;
	struct tap_rx *ready, **ready_tail; /* completed reads, in order */
	struct tap_rx *idle;        /* given back while paused: not posted */
	struct tap_rx *again;       /* reads that got -EAGAIN: re-posted when readable */
	bool poll_armed;            /* an IORING_OP_POLL_ADD for them is in flight */
	bool paused;
	bool posted;                /* the reads went out (from the queue's thread) */
	bool closing;               /* quiesced: nothing is posted any more */
	unsigned reads;             /* posted, not yet completed */
	struct tap_tx tx[NET_TAP_WRITES];
	struct tap_tx *free_tx;
	unsigned writes;            /* submitted, not yet completed */
	bool unsubmitted;
};

static int tun_open(const char *ifname, int flags, char *name_out)
{
	struct ifreq ifr = { .ifr_flags = (short)flags };
	int fd, rc;

	/* Non-blocking: io_uring's "nowait" file (see the top of the file). */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (name_out)
		snprintf(name_out, IFNAMSIZ, "%s", ifr.ifr_name);
	return fd;
}

/* An interface ioctl (SIOCSIFHWADDR, SIOCSIFMTU) by name. */
static int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

static int tap_open(const struct net_port_params *p, struct net_port **out)
{
	struct net_port *port = calloc(1, sizeof(*port));
	struct ifreq ifr = { 0 };
	int rc;

	if (!port)
		return -ENOMEM;
	if (strlen(p->ifname) >= IFNAMSIZ) {
		free(port);
		return -ENAMETOOLONG;
	}
	port->max_queues = p->max_queues;
	port->fd0 = tun_open(p->ifname, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE,
			     port->ifname);
	if (port->fd0 < 0) {
		rc = port->fd0;
		free(port);
		return rc;
	}
	port->qfd[0] = port->fd0;
	port->nr_qfd = 1;
	/* Persistent: a daemon killed or restarted leaves the interface, and
	 * its bridge port, to its successor (close decides when it goes). */
	if (ioctl(port->fd0, TUNSETPERSIST, 1) < 0) {
		rc = -errno;
		close(port->fd0);
		free(port);
		return rc;
	}
	/* A worker process (--isolate domain) must not attach a queue to
	 * another guest's interface: with an owner, attaching needs
	 * CAP_NET_ADMIN (tun_not_capable), which only the xenbus process has.
	 * Its queues' fds were attached before they were handed over. */
	if (p->attach_admin_only && ioctl(port->fd0, TUNSETOWNER, 0) < 0) {
		rc = -errno;
		ioctl(port->fd0, TUNSETPERSIST, 0);
		close(port->fd0);
		free(port);
		return rc;
	}
	/* The host side's address and MTU, as Linux netback gives its vif. */
	ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, p->mac, NET_ETH_ALEN);
	rc = if_ioctl(port->ifname, SIOCSIFHWADDR, &ifr);
	if (rc == 0) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_mtu = (int)p->mtu;
		rc = if_ioctl(port->ifname, SIOCSIFMTU, &ifr);
	}
	if (rc < 0) {
		ioctl(port->fd0, TUNSETPERSIST, 0);
		close(port->fd0);
		free(port);
		return rc;
	}
	*out = port;
	return 0;
}

static void tap_close(struct net_port *port, bool keep)
{
	if (!port)
		return;
	if (!keep && !port->adopted)
		ioctl(port->fd0, TUNSETPERSIST, 0); /* with the last fd, the device goes */
	for (unsigned i = 0; i < port->nr_qfd; i++)
		close(port->qfd[i]);
	free(port);
}

int net_tap_queue_fds(struct net_port *port, unsigned n, int *fds)
{
	unsigned i;
	int rc;

	if (n < 1 || n > NET_MAX_QUEUES || port->adopted)
		return -EINVAL;
	/* Queue 0 is the probe's fd: the device has only the queues we serve. */
	fds[0] = fcntl(port->fd0, F_DUPFD_CLOEXEC, 0);
	if (fds[0] < 0)
		return -errno;
	for (i = 1; i < n; i++) {
		fds[i] = tun_open(port->ifname,
				  IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE, NULL);
		if (fds[i] < 0) {
			rc = fds[i];
			while (i)
				close(fds[--i]);
			return rc;
		}
	}
	return 0;
}

int net_tap_port_adopt(const char *ifname, const int *fds, unsigned n, struct net_port **out)
{
	struct net_port *port;

	if (n < 1 || n > NET_MAX_QUEUES || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	snprintf(port->ifname, sizeof(port->ifname), "%s", ifname);
	memcpy(port->qfd, fds, n * sizeof(*fds));
	port->nr_qfd = n;
	port->fd0 = fds[0];
	port->max_queues = n;
	port->adopted = true;
	*out = port;
	return 0;
}

static const char *tap_ifname(const struct net_port *port)
{
	return port->ifname;
}

static int tap_set_carrier(struct net_port *port, bool up)
{
	int on = up;

	return ioctl(port->fd0, TUNSETCARRIER, &on) < 0 ? -errno : 0;
}

static int tap_set_offloads(struct net_port *port, unsigned off)
{
	unsigned f = 0;

	if (off & NET_OFF_CSUM)
		f |= TUN_F_CSUM;
	if (off & NET_OFF_TSO4)
		f |= TUN_F_TSO4 | TUN_F_TSO_ECN;
	if (off & NET_OFF_TSO6)
		f |= TUN_F_TSO6 | TUN_F_TSO_ECN;
	if (!(off & (NET_OFF_TSO4 | NET_OFF_TSO6)))
		f &= ~TUN_F_TSO_ECN;
	return ioctl(port->fd0, TUNSETOFFLOAD, f) < 0 ? -errno : 0;
}

static int tap_set_mtu(struct net_port *port, unsigned mtu)
{
	struct ifreq ifr = { .ifr_mtu = (int)mtu };

	return if_ioctl(port->ifname, SIOCSIFMTU, &ifr);
}

/* -------------------------------------------------------------- queues */

/* What a queue's ring may do (common/uring.h): these requests on the TAP,
 * registered file 0, and nothing else. */
static const uint8_t tap_uring_ops[] = {
	IORING_OP_READ, IORING_OP_WRITE, IORING_OP_WRITEV, IORING_OP_POLL_ADD,
	IORING_OP_ASYNC_CANCEL,
};
static const struct pv_uring_rules tap_uring_rules = {
	.ops = tap_uring_ops,
	.nr_ops = sizeof(tap_uring_ops),
	.flags_required = IOSQE_FIXED_FILE,
};

/* Every request names the TAP as registered file 0: no fget/fput per frame. */
static void prep_rw(struct io_uring_sqe *sqe, bool write, void *buf, unsigned len, uintptr_t tag)
{
	if (write)
		io_uring_prep_write(sqe, 0, buf, len, 0);
	else
		io_uring_prep_read(sqe, 0, buf, len, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, (void *)tag);
}

static void post_read(struct net_port_queue *q, struct tap_rx *r)
{
	struct io_uring_sqe *sqe;

	if (q->closing)
		return;
	sqe = io_uring_get_sqe(&q->ring);
	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	if (!sqe) { /* cannot happen: NET_TAP_SQ covers every read and a burst */
		r->next = q->idle;
		q->idle = r;
		return;
	}
	/* The header and the frame in one buffer: a plain read. */
	prep_rw(sqe, false, r->pkt.data - NET_TAP_VH, NET_TAP_VH + NET_TAP_RXLEN,
		(uintptr_t)r | OP_READ);
	q->reads++;
	q->unsubmitted = true;
}

/* A read that came back -EAGAIN (a kernel that does not poll for a
 * non-blocking file): park it and poll the TAP once for all of them. */
static void wait_readable(struct net_port_queue *q, struct tap_rx *r)
{
	struct io_uring_sqe *sqe;

	r->next = q->again;
	q->again = r;
	if (q->poll_armed || q->closing)
		return;
	sqe = io_uring_get_sqe(&q->ring);
	if (!sqe) {
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	if (!sqe) /* cannot happen: NET_TAP_SQ leaves room for one more */
		return;
	io_uring_prep_poll_add(sqe, 0, POLLIN);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)q | OP_POLL));
	q->poll_armed = true;
	q->unsubmitted = true;
}

static void repost_again(struct net_port_queue *q)
{
	while (q->again) {
		struct tap_rx *r = q->again;

		q->again = r->next;
		if (q->paused) {
			r->next = q->idle;
			q->idle = r;
		} else {
			post_read(q, r);
		}
	}
}

static void submit(struct net_port_queue *q)
{
	if (q->unsubmitted) {
		q->unsubmitted = false;
		io_uring_submit(&q->ring);
	}
}

/* Every completion waiting: finished writes give their buffers back,
 * finished reads queue their frame.  Returns how many frames came in. */
static unsigned reap(struct net_port_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned frames = 0;

	while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		uintptr_t d = (uintptr_t)io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&q->ring, cqe);
		if ((d & 3) == OP_WRITE) {
			struct tap_tx *t = (struct tap_tx *)(d & ~(uintptr_t)3);

			/* A failed write (host side down) is a drop, as a full
			 * qdisc would be: the guest was answered already. */
			q->writes--;
			t->next = q->free_tx;
			q->free_tx = t;
			q->cbs->tx_done(q->opaque, t->pkt);
			continue;
		}
		if ((d & 3) == OP_POLL) {
			q->poll_armed = false;
			if (res != -ECANCELED)
				repost_again(q);
			continue;
		}
		if ((d & 3) != OP_READ)
			continue; /* a cancel's own completion */
		struct tap_rx *r = (struct tap_rx *)(d & ~(uintptr_t)3);

		q->reads--;
		if (res == -ECANCELED)
			continue;
		if (res == -EAGAIN) {
			wait_readable(q, r);
			continue;
		}
		if (res < (int)sizeof(struct virtio_net_hdr) + (int)NET_ETH_HLEN) {
			post_read(q, r); /* an error or a runt: read again */
			continue;
		}
		r->pkt.len = r->pkt.head_len = (uint32_t)res - NET_TAP_VH;
		memcpy(&r->pkt.vh, r->pkt.data - NET_TAP_VH, NET_TAP_VH);
		r->next = NULL;
		*q->ready_tail = r;
		q->ready_tail = &r->next;
		frames++;
	}
	return frames;
}

static void on_ring(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct net_port_queue *q = opaque;

	reap(q);
	submit(q);
	if (q->ready && !q->paused)
		q->cbs->rx_ready(q->opaque);
}

static int tap_queue_open(struct net_port *port, unsigned idx, struct pv_loop *loop,
			  const struct net_port_queue_cbs *cbs, void *opaque,
			  struct net_port_queue **out)
{
	struct net_port_queue *q = calloc(1, sizeof(*q));
	unsigned i;
	int rc;

	if (!q)
		return -ENOMEM;
	q->port = port;
	q->idx = idx;
	q->loop = loop;
	q->cbs = cbs;
	q->opaque = opaque;
	q->fd = -1;
	q->ready_tail = &q->ready;
	if (idx < port->nr_qfd && !port->taken[idx]) {
		q->fd = port->qfd[idx];
		port->taken[idx] = true;
	} else if (port->adopted) {
		rc = -ENOENT; /* a worker has only the fds it was handed */
		goto fail;
	} else {
		char name[IFNAMSIZ];

		q->fd = tun_open(port->ifname, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE,
				 name);
		if (q->fd < 0) {
			rc = q->fd;
			goto fail;
		}
	}
	rc = pv_uring_init(&q->ring, NET_TAP_SQ, &q->fd, 1, &tap_uring_rules);
	if (rc < 0)
		goto fail;
	q->ring_ok = true;
	q->rx_mem = mmap(NULL, (size_t)NET_TAP_READS * NET_TAP_RXBUF, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (q->rx_mem == MAP_FAILED) {
		q->rx_mem = NULL;
		rc = -errno;
		goto fail;
	}
	for (i = NET_TAP_WRITES; i-- > 0;) {
		q->tx[i].next = q->free_tx;
		q->free_tx = &q->tx[i];
	}
	for (i = 0; i < NET_TAP_READS; i++) {
		struct tap_rx *r = &q->rx[i];

		r->pkt.data = q->rx_mem + (size_t)i * NET_TAP_RXBUF + NET_PKT_HEADROOM;
		r->pkt.owner = r;
		r->next = q->idle; /* posted by the queue's thread (tap_rx_burst) */
		q->idle = r;
	}
	rc = pv_loop_add_fd(loop, q->ring.ring_fd, PV_LOOP_IN, on_ring, q);
	if (rc < 0)
		goto fail;
	q->in_loop = true;
	*out = q;
	return 0;
fail:
	if (q->ring_ok)
		io_uring_queue_exit(&q->ring);
	if (q->rx_mem)
		munmap(q->rx_mem, (size_t)NET_TAP_READS * NET_TAP_RXBUF);
	if (q->fd >= 0 && idx < port->nr_qfd && q->fd == port->qfd[idx])
		port->taken[idx] = false;
	else if (q->fd >= 0)
		close(q->fd);
	free(q);
	return rc;
}

/* Writes still in the kernel give their buffers back; posted reads are
 * cancelled and waited for, so that none lands in rx_mem once it is
 * unmapped.  On the thread that submitted them: an io_uring request
 * belongs to its task, and one whose task has ended may not complete
 * until that process is interrupted. */
static int tap_queue_quiesce(struct net_port_queue *q)
{
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	unsigned waits = 0;

	q->closing = true;
	submit(q);
	sqe = io_uring_get_sqe(&q->ring);
	if (sqe) {
		io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
		sqe->flags |= IOSQE_FIXED_FILE; /* the ring's rule: no file is named anyway */
		io_uring_sqe_set_data(sqe, NULL);
		io_uring_submit(&q->ring);
	}
	reap(q);
	while ((q->writes || q->reads) && waits++ < 5) {
		if (io_uring_wait_cqe_timeout(&q->ring, &cqe, &ts) == 0)
			waits = 0;
		reap(q);
	}
	return q->writes || q->reads ? -ETIMEDOUT : 0;
}

static void tap_queue_close(struct net_port_queue *q)
{
	if (q->in_loop)
		pv_loop_del_fd(q->loop, q->ring.ring_fd);
	if (!q->closing || q->reads || q->writes)
		tap_queue_quiesce(q); /* the thread never ran, or left some */
	/* Now, not with the ring's deferred teardown: the TAP queue is free
	 * for the next daemon as soon as we close it. */
	io_uring_unregister_files(&q->ring);
	io_uring_queue_exit(&q->ring);
	munmap(q->rx_mem, (size_t)NET_TAP_READS * NET_TAP_RXBUF);
	if (q->idx < q->port->nr_qfd && q->fd == q->port->qfd[q->idx])
		q->port->taken[q->idx] = false;
	else
		close(q->fd);
	free(q);
}

/* A zero-copy frame: the header and the copied head, then the segments. */
static void prep_writev(struct io_uring_sqe *sqe, struct tap_tx *t, const struct net_pkt *p)
{
	unsigned i, n = p->nr_segs < NET_PKT_MAX_SEGS ? p->nr_segs : NET_PKT_MAX_SEGS;

	t->iov[0] = (struct iovec){ p->data - NET_TAP_VH, NET_TAP_VH + p->head_len };
	for (i = 0; i < n; i++)
		t->iov[1 + i] = (struct iovec){ p->segs[i].base, p->segs[i].len };
	io_uring_prep_writev(sqe, 0, t->iov, 1 + n, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)t | OP_WRITE));
}

static unsigned tap_tx_burst(struct net_port_queue *q, struct net_pkt **pkts, unsigned n)
{
	unsigned i;

	for (i = 0; i < n && q->free_tx; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
		struct tap_tx *t = q->free_tx;
		struct net_pkt *p = pkts[i];

		if (!sqe) {
			q->unsubmitted = false;
			io_uring_submit(&q->ring);
			sqe = io_uring_get_sqe(&q->ring);
			if (!sqe)
				break;
		}
		q->free_tx = t->next;
		t->pkt = p;
		/* The header in the packet's headroom: one buffer, one plain write. */
		memcpy(p->data - NET_TAP_VH, &p->vh, NET_TAP_VH);
		if (p->nr_segs)
			prep_writev(sqe, t, p);
		else
			prep_rw(sqe, true, p->data - NET_TAP_VH, NET_TAP_VH + p->len,
				(uintptr_t)t | OP_WRITE);
		q->writes++;
		q->unsubmitted = true;
	}
	return i;
}

static void tap_tx_flush(struct net_port_queue *q)
{
	submit(q);
	reap(q); /* TAP writes complete inline: the buffers come back now */
	if (q->ready && !q->paused)
		q->cbs->rx_ready(q->opaque);
}

static void tap_rx_pause(struct net_port_queue *q, bool pause);

static unsigned tap_rx_burst(struct net_port_queue *q, struct net_pkt **pkts, unsigned max)
{
	unsigned n = 0;

	if (!q->posted) {
		q->posted = true;
		if (!q->paused)
			tap_rx_pause(q, false); /* posts every read */
	}
	if (!q->ready) {
		reap(q);
		submit(q);
	}
	while (n < max && q->ready) {
		struct tap_rx *r = q->ready;

		q->ready = r->next;
		if (!q->ready)
			q->ready_tail = &q->ready;
		pkts[n++] = &r->pkt;
	}
	return n;
}

static void tap_rx_release(struct net_port_queue *q, struct net_pkt **pkts, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct tap_rx *r = pkts[i]->owner;

		if (q->paused) {
			r->next = q->idle;
			q->idle = r;
		} else {
			post_read(q, r);
		}
	}
	submit(q);
}

static void tap_rx_pause(struct net_port_queue *q, bool pause)
{
	q->paused = pause;
	if (pause)
		return;
	while (q->idle) {
		struct tap_rx *r = q->idle;

		q->idle = r->next;
		post_read(q, r);
	}
	submit(q);
}

/* Adaptive polling: completions without waiting for the ring fd. */
static bool tap_poll(struct net_port_queue *q)
{
	unsigned frames = reap(q);

	submit(q);
	if (q->ready && !q->paused)
		q->cbs->rx_ready(q->opaque);
	return frames > 0;
}

/* A TAP's counters are the kernel's (ip -s link). */
static const struct pv_stats_table *tap_stats(struct net_port *port, void *st, size_t size)
{
	return NULL;
}

const struct net_port_ops net_port_tap_ops = {
	.name = "tap",
	.caps = NET_PORT_TX_SEGS,
	.open = tap_open,
	.close = tap_close,
	.ifname = tap_ifname,
	.set_carrier = tap_set_carrier,
	.set_offloads = tap_set_offloads,
	.set_mtu = tap_set_mtu,
	.queue_open = tap_queue_open,
	.queue_quiesce = tap_queue_quiesce,
	.queue_close = tap_queue_close,
	.tx_burst = tap_tx_burst,
	.tx_flush = tap_tx_flush,
	.rx_burst = tap_rx_burst,
	.rx_release = tap_rx_release,
	.rx_pause = tap_rx_pause,
	.poll = tap_poll,
	.stats = tap_stats,
};
