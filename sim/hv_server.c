/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim hypervisor server: owns every domain's memfds (RAM, grant table,
 * active table, guest allocator state, generation tables) and event-channel
 * port tables, and answers control requests from client processes on one
 * SOCK_SEQPACKET socket per domain (protocol in hv_proto.h).  Data-path
 * operations never come here: clients map and copy grants in-process and
 * notify by writing the peer's eventfd directly.
 *
 * Each connection has a pin journal (hv_sim_abi.h) the client keeps as it maps
 * and copies.  When the connection closes and the process that opened it has
 * exited too (its pidfd; until then it may still use what it mapped, as a
 * gntdev mapping outlives its fd), the daemon drops every pin the journal
 * still holds in domains still alive, as Linux's gntdev release does for a
 * dying process.  Records are validated one by one; a garbled journal can
 * at worst drop pins its domain holds, never crash the daemon.  Records
 * whose entry another process keeps locked wait on the pending list, retried
 * whenever a connection closes and on a timer backing off to a second.
 *
 * Runs in the pv_loop thread it was created on; no locks.  Does not log.
 *
 * Differences from Xen (bugs, listed so they get fixed when they matter):
 *  - a dead process's pins go just after its exit (we see the hangup and
 *    the pidfd), not during it as in gntdev's release;
 *  - pins go when the process is gone, not when its domain dies: a
 *    destroyed domain's still running process keeps the pages it mapped
 *    (and their pins) until it unmaps or exits;
 *  - a process may not map grants of its own domain (Xen allows it);
 *  - pvsim is not a security boundary: a mapping process receives the
 *    granting domain's whole RAM memfd; the client library enforces grants.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pvcommon.h"
#include "hv.h"
#include "evtchn.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define PINS_RETRY_MS     1    /* a journal entry stayed locked: try again, */
#define PINS_RETRY_MAX_MS 1024 /* backing off up to this */

/* A connection's pin journal; outlives the connection until settled. */
struct sim_pins {
	struct sim_pins *next;         /* hv->pending, once the connection closed */
	struct sim_hv *hv;
	uint16_t mapper;               /* the connection's domain */
	uint32_t tag;                  /* its lock-owner tag */
	pid_t pid;                     /* the process that connected, 0 if unknown */
	int pidfd;                     /* opened when the connection closes, or -1 */
	bool watching;                 /* pidfd is in the loop */
	int64_t timer;                 /* retry timer, or -1 */
	unsigned retry_ms;             /* its next delay */
	struct sim_pin_journal *j;     /* the journal memfd, mapped */
};

struct sim_conn {
	struct sim_conn *next;
	struct sim_dom *dom;
	int fd;
	bool claimed; /* closing it destroys the domain (crash callback) */
	struct sim_pins *pins;
};

struct sim_dom {
	struct sim_hv *hv;
	uint16_t domid;
	uint64_t mem_bytes;
	int ramfd, gntfd, actfd, metafd, evgenfd;
	struct grant_entry_v1 *shared; /* our mapping, to revoke at destroy */
	struct sim_gnt_active *active; /* our mapping, to drop dead processes' pins */
	uint32_t *evgen;
	int lfd;                       /* listening socket */
	char *sock_path;
	struct sim_conn *conns;
	struct sim_evtchn_dom ev;
};

struct sim_hv {
	struct pv_loop *loop;
	struct sim_dom *dom[SIM_NR_DOMIDS];
	int domgenfd;
	uint32_t *domgen; /* (generation << 1) | alive, per domid */
	uint32_t next_gen;
	uint32_t next_tag;        /* last lock-owner tag given to a connection */
	struct sim_pins *pending; /* journals of closed connections, not settled */
	void (*crash_fn)(void *opaque, uint16_t domid);
	void *crash_opaque;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A memfd of size bytes; seals keep clients from resizing it under others. */
static int make_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Map fd writable for us, then forbid writable mappings by anyone else. */
static void *map_readonly_table(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Older kernels lack the seal: clients then could, but don't, write. */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE);
	return p;
}

static struct sim_evtchn_dom *lookup_ev(void *opaque, uint16_t domid)
{
	struct sim_hv *hv = opaque;

	if (domid >= SIM_NR_DOMIDS || !hv->dom[domid])
		return NULL;
	return &hv->dom[domid]->ev;
}

/* --------------------------------------------------------- pin journals */

/* A journal for a new connection on sock; *fd is its memfd, for the welcome
 * (the caller closes it: the mapping keeps the journal). */
static int pins_create(struct sim_hv *hv, uint16_t mapper, int sock, struct sim_pins **out,
		       int *fd)
{
	struct sim_pins *p = calloc(1, sizeof(*p));
	struct ucred uc;
	socklen_t len = sizeof(uc);
	void *j;
	int rc;

	if (!p)
		return -ENOMEM;
	*fd = make_memfd("pvsim-pins", sim_pin_journal_size());
	if (*fd < 0) {
		rc = *fd;
		goto err_free;
	}
	/* Sparse: pages come as the client uses records.  The size seals keep
	 * our reads from faulting; F_SEAL_SEAL keeps the client from adding a
	 * write seal that would stop us clearing records. */
	(void)fcntl(*fd, F_ADD_SEALS, F_SEAL_SEAL);
	j = mmap(NULL, sim_pin_journal_size(), PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (j == MAP_FAILED) {
		rc = -errno;
		goto err_close;
	}
	p->j = j;
	p->hv = hv;
	p->mapper = mapper;
	if (++hv->next_tag < SIM_LOCK_FIRST_CONN)
		hv->next_tag = SIM_LOCK_FIRST_CONN;
	p->tag = hv->next_tag;
	p->timer = -1;
	p->retry_ms = PINS_RETRY_MS;
	p->pidfd = -1;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.pid > 0)
		p->pid = uc.pid;
	*out = p;
	return 0;

err_close:
	close_fd(fd);
err_free:
	free(p);
	return rc;
}

static void pins_free(struct sim_pins *p)
{
	struct sim_pins **pp;

	for (pp = &p->hv->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (p->watching)
		pv_loop_del_fd(p->hv->loop, p->pidfd);
	if (p->timer >= 0)
		pv_loop_del_timer(p->hv->loop, p->timer);
	munmap(p->j, sim_pin_journal_size());
	close_fd(&p->pidfd);
	free(p);
}

/* Records [0, n) that the journal says were used. */
static uint32_t pins_used(const struct sim_pins *p)
{
	uint32_t n = __atomic_load_n(&p->j->nr_used, __ATOMIC_RELAXED);

	return n < SIM_PIN_RECS ? n : SIM_PIN_RECS;
}

static bool pins_empty(const struct sim_pins *p)
{
	uint32_t i, n = pins_used(p);

	for (i = 0; i < n; i++)
		if (__atomic_load_n(&p->j->rec[i].state, __ATOMIC_RELAXED) != SIM_PIN_FREE)
			return false;
	return true;
}

/*
 * Whether the process that connected still runs: until it exits it may use
 * what it mapped even with the socket closed (exec and exit drop its memory
 * before its files, so a dead process never sees the hangup).  Without a
 * pidfd the hangup alone decides.  A pid reused after a forked child kept
 * the socket only delays the release.
 */
static bool pins_owner_alive(struct sim_pins *p)
{
	struct pollfd pfd = { .events = POLLIN };

#ifdef SYS_pidfd_open
	if (p->pidfd < 0 && p->pid > 0) {
		p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
		if (p->pidfd < 0) {
			p->pidfd = -1;
			p->pid = 0; /* ESRCH: gone and reaped */
		}
	}
#endif
	pfd.fd = p->pidfd;
	return p->pidfd >= 0 && poll(&pfd, 1, 0) == 0;
}

/* Settle one record (a private copy) spinning at most spins on its lock:
 * 0, or -EAGAIN to come back later. */
static int pins_settle(struct sim_pins *p, const struct sim_pin_rec *r, unsigned spins)
{
	struct sim_hv *hv = p->hv;
	struct sim_gnt_table t;
	struct sim_dom *d;

	/* Only the incarnation the pin was taken in: a destroyed domain's
	 * table went with it, and a new one with its id is not ours. */
	if (r->domid >= SIM_NR_DOMIDS || r->domid == p->mapper || !hv->dom[r->domid] ||
	    hv->domgen[r->domid] != r->gen || !sim_domgen_alive(r->gen))
		return 0;
	d = hv->dom[r->domid];
	t = (struct sim_gnt_table){
		.shared = d->shared,
		.active = d->active,
		.nr_entries = SIM_GNT_ENTRIES,
		.owner = SIM_LOCK_DAEMON,
		.nr_frames = d->mem_bytes / SIM_PAGE_SIZE,
	};
	return sim_gnt_release(&t, r, p->mapper, p->tag, spins) == -EAGAIN ? -EAGAIN : 0;
}

/*
 * Drop what the dead process still held.  PINNING and UNPINNING records go
 * first: one left so means the process died inside that entry's lock, and
 * only while the lock is still the dead holder's does the count tell whether
 * the change happened; any other record may then take a lock over, as its
 * meaning does not depend on it (and a mid-change record whose lock someone
 * else holds was not inside it).  Settled records become FREE; one whose
 * entry another process keeps locked stays for a later walk, and once one
 * did, the walk no longer spins on busy locks: a garbled journal naming a
 * busy entry a million times costs one wait.  Returns 0 or -EAGAIN.
 */
static int pins_walk(struct sim_pins *p)
{
	unsigned spins = SIM_GNT_RELEASE_SPINS;
	uint32_t i, n = pins_used(p);
	int pass, rc = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			/* One read of the record; only the copy is checked. */
			struct sim_pin_rec r = *(volatile struct sim_pin_rec *)&p->j->rec[i];
			bool mid = r.state == SIM_PIN_PINNING || r.state == SIM_PIN_UNPINNING;

			if (r.state == SIM_PIN_FREE || mid != (pass == 0))
				continue;
			if (pins_settle(p, &r, spins) == -EAGAIN) {
				rc = -EAGAIN;
				spins = 1;
				continue;
			}
			__atomic_store_n(&p->j->rec[i].state, SIM_PIN_FREE, __ATOMIC_RELAXED);
		}
	}
	return rc;
}

static void pins_check(struct sim_pins *p);

static void pins_pidfd_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	pins_check(opaque);
}

static void pins_timer_cb(struct pv_loop *loop, void *opaque)
{
	struct sim_pins *p = opaque;

	p->timer = -1;
	pins_check(p);
}

/* Wait on the list for the process to exit, or for a lock to come free. */
static void pins_defer(struct sim_pins *p, bool until_exit)
{
	struct sim_pins *q;

	for (q = p->hv->pending; q && q != p; q = q->next)
		;
	if (!q) {
		p->next = p->hv->pending;
		p->hv->pending = p;
	}
	if (until_exit) {
		if (!p->watching &&
		    pv_loop_add_fd(p->hv->loop, p->pidfd, PV_LOOP_IN, pins_pidfd_cb, p) < 0)
			goto fail;
		p->watching = true;
	} else {
		/* Backing off: a lock held for longer than a few spins belongs
		 * to a stopped process, or to a dead one we have yet to hear of. */
		p->timer = pv_loop_add_timer(p->hv->loop, p->retry_ms, pins_timer_cb, p);
		if (p->timer < 0)
			goto fail;
		if (p->retry_ms < PINS_RETRY_MAX_MS)
			p->retry_ms *= 2;
	}
	return;
fail:
	/* Cannot wait: the pins stay, the safe direction. */
	p->timer = -1;
	pins_free(p);
}

/* A connection went: the lock a pending walk waits for may have gone with
 * it (or been left by its dead holder, for its own walk to take over). */
static void pins_retry(struct sim_hv *hv)
{
	struct sim_pins *p, *next;

	for (p = hv->pending; p; p = next) {
		next = p->next;
		if (p->timer < 0)
			continue; /* waiting for its process to exit */
		pv_loop_del_timer(hv->loop, p->timer);
		p->timer = -1;
		pins_check(p);
	}
}

/* The connection is closed: settle the journal now, later, or never. */
static void pins_check(struct sim_pins *p)
{
	if (pins_empty(p)) {
		pins_free(p);
		return;
	}
	if (pins_owner_alive(p)) {
		pins_defer(p, true);
		return;
	}
	if (p->watching) {
		pv_loop_del_fd(p->hv->loop, p->pidfd);
		p->watching = false;
	}
	if (pins_walk(p) == -EAGAIN) {
		pins_defer(p, false);
		return;
	}
	pins_free(p);
}

int sim_hv_create(struct pv_loop *loop, struct sim_hv **out)
{
	size_t sz = SIM_NR_DOMIDS * sizeof(uint32_t);
	struct sim_hv *hv = calloc(1, sizeof(*hv));
	int rc;

	if (!hv)
		return -ENOMEM;
	hv->loop = loop;
	hv->domgenfd = make_memfd("pvsim-domgen", sz);
	if (hv->domgenfd < 0) {
		rc = hv->domgenfd;
		goto err_free;
	}
	hv->domgen = map_readonly_table(hv->domgenfd, sz);
	if (!hv->domgen) {
		rc = -errno;
		goto err_close;
	}
	*out = hv;
	return 0;

err_close:
	close(hv->domgenfd);
err_free:
	free(hv);
	return rc;
}

void sim_hv_destroy(struct sim_hv *hv)
{
	unsigned d;

	if (!hv)
		return;
	for (d = 0; d < SIM_NR_DOMIDS; d++)
		if (hv->dom[d])
			sim_hv_domain_destroy(hv, (uint16_t)d);
	while (hv->pending)
		pins_free(hv->pending); /* every domain they pin is gone */
	munmap(hv->domgen, SIM_NR_DOMIDS * sizeof(uint32_t));
	close(hv->domgenfd);
	free(hv);
}

void sim_hv_set_crash_cb(struct sim_hv *hv, void (*fn)(void *opaque, uint16_t domid),
			 void *opaque)
{
	hv->crash_fn = fn;
	hv->crash_opaque = opaque;
}

int sim_hv_domain_exists(struct sim_hv *hv, uint16_t domid)
{
	return domid < SIM_NR_DOMIDS && hv->dom[domid];
}

/* ------------------------------------------------------------ messages */

static int send_rsp(int fd, const struct sim_hv_rsp *rsp, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_HV_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)rsp, .iov_len = sizeof(*rsp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

static void conn_close_ports(struct sim_conn *conn)
{
	struct sim_dom *d = conn->dom;
	uint32_t p;

	for (p = 1; p < SIM_EVTCHN_PORTS; p++) {
		struct sim_evtchn_port *c = &d->ev.port[p];

		if (c->state != SIM_ECS_FREE && c->owner == conn) {
			int efd = c->efd;

			sim_evtchn_close(&d->ev, p, lookup_ev, d->hv);
			close_fd(&efd);
			c->efd = -1;
		}
	}
}

static void conn_free(struct sim_conn *conn)
{
	struct sim_dom *d = conn->dom;
	struct sim_conn **pp;

	for (pp = &d->conns; *pp; pp = &(*pp)->next) {
		if (*pp == conn) {
			*pp = conn->next;
			break;
		}
	}
	conn_close_ports(conn);
	pv_loop_del_fd(d->hv->loop, conn->fd);
	close(conn->fd);
	if (conn->pins)
		pins_check(conn->pins);
	free(conn);
	pins_retry(d->hv);
}

static int op_get_domain(struct sim_conn *conn, const struct sim_hv_req *req,
			 struct sim_hv_rsp *rsp, int *fds, unsigned *nfds)
{
	struct sim_hv *hv = conn->dom->hv;
	uint32_t domid = req->arg[0];
	struct sim_dom *rd;

	if (domid >= SIM_NR_DOMIDS)
		return -EINVAL;
	if (domid == conn->dom->domid)
		return -EINVAL; /* see the header: no mapping of our own grants */
	rd = hv->dom[domid];
	if (!rd)
		return -ESRCH;
	fds[0] = rd->ramfd;
	fds[1] = rd->gntfd;
	fds[2] = rd->actfd;
	*nfds = 3;
	rsp->size = rd->mem_bytes;
	rsp->val[0] = __atomic_load_n(&hv->domgen[domid], __ATOMIC_ACQUIRE);
	return 0;
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int op_evtchn_alloc(struct sim_conn *conn, const struct sim_hv_req *req,
			   struct sim_hv_rsp *rsp, int *fds, unsigned *nfds)
{
	struct sim_dom *d = conn->dom;
	int efd, port;

	if (req->arg[0] > UINT16_MAX)
		return -EINVAL;
	efd = new_eventfd();
	if (efd < 0)
		return efd;
	port = sim_evtchn_alloc_unbound(&d->ev, (uint16_t)req->arg[0], conn);
	if (port < 0) {
		close(efd);
		return port;
	}
	d->ev.port[port].efd = efd;
	rsp->val[0] = (uint32_t)port;
	rsp->val[1] = __atomic_load_n(&d->evgen[port], __ATOMIC_ACQUIRE);
	fds[0] = efd;
	*nfds = 1;
	return 0;
}

static int op_evtchn_bind(struct sim_conn *conn, const struct sim_hv_req *req,
			  struct sim_hv_rsp *rsp, int *fds, unsigned *nfds)
{
	struct sim_dom *d = conn->dom;
	struct sim_evtchn_dom *rd;
	int efd, port;

	rd = req->arg[0] <= UINT16_MAX ? lookup_ev(d->hv, (uint16_t)req->arg[0]) : NULL;
	if (!rd)
		return -ESRCH;
	efd = new_eventfd();
	if (efd < 0)
		return efd;
	port = sim_evtchn_bind_interdomain(&d->ev, rd, req->arg[1], conn);
	if (port < 0) {
		close(efd);
		return port;
	}
	d->ev.port[port].efd = efd;
	/* Xen: "We may have lost notifications on the remote unbound port. Fix
	 * that up here by conservatively always setting a notification on the
	 * local port." */
	eventfd_write(efd, 1);
	rsp->val[0] = (uint32_t)port;
	rsp->val[1] = __atomic_load_n(&d->evgen[port], __ATOMIC_ACQUIRE);
	fds[0] = efd;
	fds[1] = rd->port[req->arg[1]].efd;
	*nfds = fds[1] >= 0 ? 2 : 1;
	return 0;
}

static struct sim_evtchn_port *own_port(struct sim_conn *conn, uint32_t port)
{
	return sim_evtchn_owned(&conn->dom->ev, port, conn);
}

static int op_evtchn_info(struct sim_conn *conn, const struct sim_hv_req *req,
			  struct sim_hv_rsp *rsp, int *fds, unsigned *nfds)
{
	struct sim_dom *d = conn->dom;
	struct sim_evtchn_port *c = own_port(conn, req->arg[0]);

	if (!c)
		return -EINVAL;
	rsp->val[0] = c->state;
	rsp->val[1] = __atomic_load_n(&d->evgen[req->arg[0]], __ATOMIC_ACQUIRE);
	if (c->state == SIM_ECS_INTERDOMAIN) {
		struct sim_evtchn_dom *rd = lookup_ev(d->hv, c->remote_dom);

		if (rd && rd->port[c->remote_port].efd >= 0) {
			fds[0] = rd->port[c->remote_port].efd;
			*nfds = 1;
		}
	}
	return 0;
}

static int op_evtchn_close(struct sim_conn *conn, const struct sim_hv_req *req)
{
	struct sim_dom *d = conn->dom;
	struct sim_evtchn_port *c = own_port(conn, req->arg[0]);
	int efd, rc;

	if (!c)
		return -EINVAL;
	efd = c->efd;
	rc = sim_evtchn_close(&d->ev, req->arg[0], lookup_ev, d->hv);
	if (rc == 0) {
		close_fd(&efd);
		c->efd = -1;
	}
	return rc;
}

static void conn_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct sim_conn *conn = opaque;
	struct sim_hv_rsp rsp = { 0 };
	struct sim_hv_req req;
	int fds[SIM_HV_MAX_FDS];
	unsigned nfds = 0;
	ssize_t n;
	int rc;

	n = recv(fd, &req, sizeof(req), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		struct sim_hv *hv = conn->dom->hv;
		uint16_t domid = conn->dom->domid;
		bool crashed = conn->claimed;

		conn_free(conn);
		if (crashed && hv->crash_fn)
			hv->crash_fn(hv->crash_opaque, domid);
		return;
	}
	if ((size_t)n != sizeof(req)) {
		rc = -EINVAL;
		goto reply;
	}
	switch (req.op) {
	case SIM_HV_OP_GET_DOMAIN:
		rc = op_get_domain(conn, &req, &rsp, fds, &nfds);
		break;
	case SIM_HV_OP_EVTCHN_ALLOC:
		rc = op_evtchn_alloc(conn, &req, &rsp, fds, &nfds);
		break;
	case SIM_HV_OP_EVTCHN_BIND:
		rc = op_evtchn_bind(conn, &req, &rsp, fds, &nfds);
		break;
	case SIM_HV_OP_EVTCHN_INFO:
		rc = op_evtchn_info(conn, &req, &rsp, fds, &nfds);
		break;
	case SIM_HV_OP_EVTCHN_CLOSE:
		rc = op_evtchn_close(conn, &req);
		break;
	case SIM_HV_OP_CLAIM:
		conn->claimed = true;
		rc = 0;
		break;
	default:
		rc = -ENOSYS;
		break;
	}
reply:
	rsp.op = req.op;
	rsp.ret = rc;
	if (rc)
		nfds = 0;
	send_rsp(fd, &rsp, fds, nfds);
}

static void listen_cb(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct sim_dom *d = opaque;
	struct sim_hv_rsp rsp = { .op = SIM_HV_OP_WELCOME };
	int fds[SIM_HV_WFD_NR];
	struct sim_conn *conn;
	int cfd, pinfd = -1;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		goto err_close;
	conn->dom = d;
	conn->fd = cfd;
	if (pins_create(d->hv, d->domid, cfd, &conn->pins, &pinfd) < 0)
		goto err_free;
	if (pv_loop_add_fd(loop, cfd, PV_LOOP_IN, conn_cb, conn) < 0)
		goto err_pins;
	conn->next = d->conns;
	d->conns = conn;

	fds[SIM_HV_WFD_DOMGEN] = d->hv->domgenfd;
	fds[SIM_HV_WFD_EVTGEN] = d->evgenfd;
	fds[SIM_HV_WFD_RAM] = d->ramfd;
	fds[SIM_HV_WFD_GNTTAB] = d->gntfd;
	fds[SIM_HV_WFD_META] = d->metafd;
	fds[SIM_HV_WFD_PINS] = pinfd;
	rsp.val[0] = d->domid;
	rsp.val[1] = conn->pins->tag;
	rsp.size = d->mem_bytes;
	if (send_rsp(cfd, &rsp, fds, SIM_HV_WFD_NR) < 0)
		conn_free(conn);
	close(pinfd);
	return;

err_pins:
	pins_free(conn->pins);
	close(pinfd);
err_free:
	free(conn);
err_close:
	close(cfd);
}

/* ------------------------------------------------------------- domains */

static int dom_listen(struct sim_dom *d, const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	mode_t mask;
	int fd;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	/* The permissions bind() gives: what the umask leaves of 0777. */
	mask = umask(0);
	umask(mask);
	fd = pv_unix_listen(path, SOCK_SEQPACKET, 0777 & ~mask);
	if (fd < 0)
		return fd;
	d->lfd = fd;
	return 0;
}

static void dom_free(struct sim_dom *d)
{
	if (d->shared)
		munmap(d->shared, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1));
	if (d->active)
		munmap(d->active, SIM_GNT_ENTRIES * sizeof(struct sim_gnt_active));
	if (d->evgen)
		munmap(d->evgen, SIM_EVTCHN_PORTS * sizeof(uint32_t));
	close_fd(&d->ramfd);
	close_fd(&d->gntfd);
	close_fd(&d->actfd);
	close_fd(&d->metafd);
	close_fd(&d->evgenfd);
	close_fd(&d->lfd);
	free(d->sock_path);
	free(d);
}

int sim_hv_domain_create(struct sim_hv *hv, uint16_t domid, uint64_t mem_bytes,
			 const char *sock_path)
{
	uint64_t pages = (mem_bytes + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	struct sim_dom *d;
	uint32_t gen;
	int rc;

	if (domid >= SIM_NR_DOMIDS || pages > UINT32_MAX || !sock_path)
		return -EINVAL;
	if (hv->dom[domid])
		return -EEXIST;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->hv = hv;
	d->domid = domid;
	d->mem_bytes = pages * SIM_PAGE_SIZE;
	d->ramfd = d->gntfd = d->actfd = d->metafd = d->evgenfd = d->lfd = -1;
	rc = -ENOMEM;
	d->sock_path = strdup(sock_path);
	if (!d->sock_path)
		goto err;

	if ((rc = d->ramfd = make_memfd("pvsim-ram", d->mem_bytes)) < 0 ||
	    (rc = d->gntfd = make_memfd("pvsim-gnttab",
					SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1))) < 0 ||
	    (rc = d->actfd = make_memfd("pvsim-active",
					SIM_GNT_ENTRIES * sizeof(struct sim_gnt_active))) < 0 ||
	    (rc = d->metafd = make_memfd("pvsim-meta", sim_guest_meta_size(pages))) < 0 ||
	    (rc = d->evgenfd = make_memfd("pvsim-evtgen",
					  SIM_EVTCHN_PORTS * sizeof(uint32_t))) < 0)
		goto err;
	d->shared = mmap(NULL, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1),
			 PROT_READ | PROT_WRITE, MAP_SHARED, d->gntfd, 0);
	if (d->shared == MAP_FAILED) {
		d->shared = NULL;
		rc = -errno;
		goto err;
	}
	d->active = mmap(NULL, SIM_GNT_ENTRIES * sizeof(struct sim_gnt_active),
			 PROT_READ | PROT_WRITE, MAP_SHARED, d->actfd, 0);
	if (d->active == MAP_FAILED) {
		d->active = NULL;
		rc = -errno;
		goto err;
	}
	d->evgen = map_readonly_table(d->evgenfd, SIM_EVTCHN_PORTS * sizeof(uint32_t));
	if (!d->evgen) {
		rc = -errno;
		goto err;
	}
	{
		/* The allocator state starts with its page count. */
		uint64_t *meta = mmap(NULL, sizeof(struct sim_guest_meta), PROT_READ | PROT_WRITE,
				      MAP_SHARED, d->metafd, 0);

		if (meta == MAP_FAILED) {
			rc = -errno;
			goto err;
		}
		((struct sim_guest_meta *)meta)->nr_pages = pages;
		munmap(meta, sizeof(struct sim_guest_meta));
	}
	sim_evtchn_dom_init(&d->ev, domid, d->evgen);
	rc = dom_listen(d, sock_path);
	if (rc)
		goto err;
	rc = pv_loop_add_fd(hv->loop, d->lfd, PV_LOOP_IN, listen_cb, d);
	if (rc)
		goto err_unlink;

	hv->dom[domid] = d;
	gen = ++hv->next_gen;
	__atomic_store_n(&hv->domgen[domid], (gen << 1) | 1, __ATOMIC_RELEASE);
	return 0;

err_unlink:
	unlink(sock_path);
err:
	dom_free(d);
	return rc;
}

int sim_hv_domain_destroy(struct sim_hv *hv, uint16_t domid)
{
	struct sim_dom *d;
	uint32_t p;

	if (domid >= SIM_NR_DOMIDS || !hv->dom[domid])
		return -ESRCH;
	d = hv->dom[domid];

	/* Dead first: mapping processes check this before every grant op. */
	__atomic_store_n(&hv->domgen[domid], hv->domgen[domid] & ~1u, __ATOMIC_RELEASE);
	/* Revoke every grant: no entry is GTF_permit_access any more. */
	memset(d->shared, 0, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1));

	pv_loop_del_fd(hv->loop, d->lfd);
	unlink(d->sock_path);
	while (d->conns)
		conn_free(d->conns);
	/* Ports not owned by a connection (none today) and peers' views. */
	for (p = 1; p < SIM_EVTCHN_PORTS; p++) {
		if (d->ev.port[p].state != SIM_ECS_FREE) {
			sim_evtchn_close(&d->ev, p, lookup_ev, hv);
			close_fd(&d->ev.port[p].efd);
		}
	}
	/* Any cached state of this domain in a client is stale now. */
	for (p = 0; p < SIM_EVTCHN_PORTS; p++)
		sim_evtchn_bump(&d->ev, p);
	hv->dom[domid] = NULL;
	dom_free(d);
	return 0;
}
