/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim hypervisor server: owns every domain's memfds (RAM, grant table,
 * active table, guest allocator state, generation tables) and event-channel
 * port tables, and answers control requests from client processes on one
 * SOCK_SEQPACKET socket per domain (protocol in hv_proto.h).  Data-path
 * operations never come here: clients map and copy grants in-process and
 * notify by writing the peer's eventfd directly.
 *
 * Runs in the pv_loop thread it was created on; no locks.  Does not log.
 *
 * Differences from Xen (bugs, listed so they get fixed when they matter):
 *  - a process that exits with grants still mapped keeps their pins for
 *    good (GTF_reading/GTF_writing stay set), where Linux's gntdev unmaps
 *    them when the process goes; the guest's end access then keeps failing
 *    with -EBUSY, the safe direction (fix: a per-connection maptrack memfd
 *    the daemon walks at hangup);
 *  - a process may not map grants of its own domain (Xen allows it);
 *  - pvsim is not a security boundary: a mapping process receives the
 *    granting domain's whole RAM memfd; the client library enforces grants.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pvcommon.h"
#include "hv.h"
#include "hv_proto.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

struct sim_conn {
	struct sim_conn *next;
	struct sim_dom *dom;
	int fd;
	bool claimed; /* closing it destroys the domain (crash callback) */
};

struct sim_dom {
	struct sim_hv *hv;
	uint16_t domid;
	uint64_t mem_bytes;
	int ramfd, gntfd, actfd, metafd, evgenfd;
	struct grant_entry_v1 *shared; /* our mapping, to revoke at destroy */
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
	free(conn);
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
	struct sim_evtchn_port *c;

	if (port >= SIM_EVTCHN_PORTS)
		return NULL;
	c = &conn->dom->ev.port[port];
	if (c->state == SIM_ECS_FREE || c->owner != conn)
		return NULL;
	return c;
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
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	conn = calloc(1, sizeof(*conn));
	if (!conn)
		goto err_close;
	conn->dom = d;
	conn->fd = cfd;
	if (pv_loop_add_fd(loop, cfd, PV_LOOP_IN, conn_cb, conn) < 0)
		goto err_free;
	conn->next = d->conns;
	d->conns = conn;

	fds[SIM_HV_WFD_DOMGEN] = d->hv->domgenfd;
	fds[SIM_HV_WFD_EVTGEN] = d->evgenfd;
	fds[SIM_HV_WFD_RAM] = d->ramfd;
	fds[SIM_HV_WFD_GNTTAB] = d->gntfd;
	fds[SIM_HV_WFD_META] = d->metafd;
	rsp.val[0] = d->domid;
	rsp.size = d->mem_bytes;
	if (send_rsp(cfd, &rsp, fds, SIM_HV_WFD_NR) < 0)
		conn_free(conn);
	return;

err_free:
	free(conn);
err_close:
	close(cfd);
}

/* ------------------------------------------------------------- domains */

static int dom_listen(struct sim_dom *d, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	char *slash;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	d->lfd = fd;
	return 0;
}

static void dom_free(struct sim_dom *d)
{
	if (d->shared)
		munmap(d->shared, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1));
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
