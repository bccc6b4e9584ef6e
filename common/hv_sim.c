/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "sim" hypervisor ops: the client side of pvsim (sim/hv_server.c).
 * A handle is one connection to $PVSIM_DIR/hv/<domid>; the socket we connect
 * to is our identity.  Control operations (evtchn alloc/bind/close, fetching
 * a foreign domain's memfds) are requests on that socket; the data path runs
 * here without the daemon, as Xen's hypercalls would:
 *  - map: pin each entry (common/hv_sim_gnttab.c), then map exactly the granted frame
 *    of the granting domain's RAM memfd into a PROT_NONE reservation with a
 *    guard page either side;
 *  - copy: under the entry's lock, mark it in use, memcpy through a private
 *    whole-RAM mapping, clear (one locked section, no pin count);
 *  - every pin is journalled (hv_sim_abi.h) in a memfd the daemon gave this
 *    connection, in the same locked section that counts it: a record per
 *    mapped page, taken from a free stack, and one naming the entry of the
 *    copy in progress.  If the process dies, the daemon drops what the
 *    journal still holds, as Linux's gntdev release does;
 *  - share: allocate pages and refs from our own RAM and grant table the way
 *    a Linux guest does; unshare is end-access with cmpxchg;
 *  - notify: write the peer port's eventfd; the handle's pollable fd is an
 *    epoll set of our ports' eventfds with EPOLLONESHOT (fired = masked,
 *    unmask re-arms).  A read-only generation table per port, written by the
 *    daemon, tells us when a cached peer eventfd went stale.  pending()
 *    fetches up to SIM_EV_BATCH fired ports per epoll_wait (a handle with
 *    many ports drains in one syscall; a caller with a single port can stop
 *    after one pending() instead of asking again for -EAGAIN).
 *    The re-arm on unmask stays a syscall: the mask must hold against the
 *    peer (a masked port's notify must not wake us), and only the kernel's
 *    interest set can refuse a wake-up that the peer's eventfd write causes
 *    without trusting the peer with shared mask bits.
 *
 * One thread per handle; after fork() the child must open its own.
 *
 * Differences from Xen (bugs, listed so they get fixed when they matter):
 *  - Linux's gntalloc defers ending access of pages still mapped when the
 *    handle closes; we leave such pages granted for good (leaked);
 *  - grants of our own domain cannot be mapped (Xen allows it);
 *  - at most SIM_PIN_RECS - 1 pages mapped per handle (-ENOMEM beyond);
 *  - a process dying inside the page/ref allocator's locked section (share,
 *    unshare) leaves it locked for the domain's other processes;
 *  - shared pages are a contiguous run of our RAM (gntalloc pages need not be);
 *  - a grant copy's local side may be any memory we can read or write: on
 *    Xen, gntdev must pin it, and VM_PFNMAP/VM_IO mappings (usbfs DMA
 *    buffers from libusb_dev_mem_alloc, device BARs) fail with EFAULT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hv_internal.h"
#include "hv_sim_abi.h"

#define MAP_HASH 256
#define SIM_EV_BATCH 16

struct sim_fdom { /* a foreign domain whose grants we map or copy */
	struct sim_fdom *next;
	uint16_t domid;
	uint32_t gen;     /* its domgen value when fetched */
	unsigned users;   /* live mappings, + 1 while it is the cached one */
	int ramfd;
	void *ram;        /* whole RAM, private to this library: copies only */
	uint64_t ram_bytes;
	struct sim_gnt_table t;
};

struct hs_map {
	struct hs_map *next;
	void *addr;
	unsigned count;
	bool writable;
	struct sim_fdom *dom;
	uint32_t refs[];  /* count refs, then count journal records */
};

struct hs_share {
	struct hs_share *next;
	void *addr;
	unsigned count;
	uint16_t domid;
	bool readonly;
	uint64_t gfn;
	uint32_t refs[];
};

struct sim_port {
	int efd;       /* ours: in the epoll set */
	int peer_efd;  /* the peer port's, -1 while unbound */
	uint32_t gen;  /* evgen[port] when peer_efd was learnt */
};

struct hv_sim {
	int sock;
	uint16_t domid;
	uint32_t *domgen;                  /* read-only, SIM_NR_DOMIDS */
	uint32_t *evgen;                   /* read-only, SIM_EVTCHN_PORTS */
	void *ram;                         /* our own RAM (guest side) */
	uint64_t ram_bytes;
	struct grant_entry_v1 *gnttab;     /* our own grant table */
	struct sim_guest_meta *meta;
	size_t meta_size;
	struct sim_fdom *doms;             /* current (cached) foreign domains */
	struct sim_pin_journal *pins;      /* read by the daemon when we are gone */
	uint32_t tag;                      /* our lock-owner tag */
	uint32_t pins_used;                /* records handed out so far (nr_used) */
	uint32_t *pins_free;               /* stack of free records below pins_used */
	uint32_t pins_nfree, pins_cap;
	struct hs_map *maps[MAP_HASH];
	struct hs_share *shares;
	int epfd;
	struct sim_port *ports[SIM_EVTCHN_PORTS];
	struct epoll_event evq[SIM_EV_BATCH]; /* fired ports fetched, not yet returned */
	int evq_i, evq_n;
};

static struct hv_sim *S(struct pv_hv *hv)
{
	return hv->priv;
}

/* ------------------------------------------------------------- control */

static void close_fds(int *fds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Receive one answer with its fds. Returns 0 or -errno (transport). */
static int recv_rsp(int sock, struct sim_hv_rsp *rsp, int *fds, unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_HV_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = rsp, .iov_len = sizeof(*rsp) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			unsigned k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (k > SIM_HV_MAX_FDS - *nfds)
				k = SIM_HV_MAX_FDS - *nfds;
			memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
			*nfds += k;
		}
	}
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n != sizeof(*rsp) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close_fds(fds, *nfds);
		*nfds = 0;
		return -EPROTO;
	}
	return 0;
}

/* One request, one answer; fds[] receives exactly want fds on success
 * (missing ones are -1). */
static int rpc(struct hv_sim *s, uint32_t op, uint32_t a0, uint32_t a1,
	       struct sim_hv_rsp *rsp, int *fds, unsigned want)
{
	struct sim_hv_req req = { .op = op, .arg = { a0, a1, 0 } };
	int got[SIM_HV_MAX_FDS];
	unsigned n, i;
	int rc;

	if (send(s->sock, &req, sizeof(req), MSG_NOSIGNAL) < 0)
		return -errno;
	rc = recv_rsp(s->sock, rsp, got, &n);
	if (rc)
		return rc;
	if (rsp->op != op || rsp->ret) {
		close_fds(got, n);
		return rsp->op != op ? -EPROTO : rsp->ret;
	}
	for (i = 0; i < want; i++)
		fds[i] = i < n ? got[i] : -1;
	close_fds(got + want, n > want ? n - want : 0);
	return 0;
}

/* ---------------------------------------------------------- open/close */

static void *map_fd(int fd, size_t size, int prot)
{
	void *p;

	if (!size)
		return NULL;
	p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void sim_unmap_all(struct hv_sim *s)
{
	if (s->domgen)
		munmap(s->domgen, SIM_NR_DOMIDS * sizeof(uint32_t));
	if (s->evgen)
		munmap(s->evgen, SIM_EVTCHN_PORTS * sizeof(uint32_t));
	if (s->ram)
		munmap(s->ram, s->ram_bytes);
	if (s->gnttab)
		munmap(s->gnttab, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1));
	if (s->meta)
		munmap(s->meta, s->meta_size);
	if (s->pins)
		munmap(s->pins, sim_pin_journal_size());
}

static int sim_welcome(struct hv_sim *s)
{
	struct sim_hv_rsp rsp;
	int fds[SIM_HV_MAX_FDS];
	unsigned n;
	int rc;

	rc = recv_rsp(s->sock, &rsp, fds, &n);
	if (rc)
		return rc;
	rc = -EPROTO;
	if (rsp.op != SIM_HV_OP_WELCOME || rsp.ret || n != SIM_HV_WFD_NR ||
	    rsp.val[0] != s->domid || rsp.val[1] < SIM_LOCK_FIRST_CONN)
		goto out;
	s->tag = rsp.val[1];
	s->domgen = map_fd(fds[SIM_HV_WFD_DOMGEN], SIM_NR_DOMIDS * sizeof(uint32_t), PROT_READ);
	s->evgen = map_fd(fds[SIM_HV_WFD_EVTGEN], SIM_EVTCHN_PORTS * sizeof(uint32_t), PROT_READ);
	s->gnttab = map_fd(fds[SIM_HV_WFD_GNTTAB], SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1),
			   PROT_READ | PROT_WRITE);
	s->pins = map_fd(fds[SIM_HV_WFD_PINS], sim_pin_journal_size(), PROT_READ | PROT_WRITE);
	if (!s->domgen || !s->evgen || !s->gnttab || !s->pins) {
		rc = -errno;
		goto out;
	}
	/* Record SIM_PIN_COPY is in use from the start. */
	s->pins_used = SIM_PIN_COPY + 1;
	__atomic_store_n(&s->pins->nr_used, s->pins_used, __ATOMIC_RELAXED);
	s->ram_bytes = rsp.size;
	if (s->ram_bytes) {
		s->ram = map_fd(fds[SIM_HV_WFD_RAM], s->ram_bytes, PROT_READ | PROT_WRITE);
		s->meta_size = sim_guest_meta_size(s->ram_bytes / SIM_PAGE_SIZE);
		s->meta = map_fd(fds[SIM_HV_WFD_META], s->meta_size, PROT_READ | PROT_WRITE);
		if (!s->ram || !s->meta) {
			rc = -errno;
			goto out;
		}
	}
	rc = 0;
out:
	close_fds(fds, n);
	return rc;
}

static int hs_open(struct pv_hv *hv)
{
	char path[256];
	struct hv_sim *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = pv_sim_domid(&s->domid);
	if (rc)
		goto err_free;
	rc = pv_sim_path(path, sizeof(path), NULL, "hv", s->domid);
	if (rc)
		goto err_free;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		rc = -errno;
		goto err_free;
	}
	s->sock = pv_unix_connect(path, SOCK_SEQPACKET);
	if (s->sock < 0) {
		rc = s->sock;
		goto err_ep;
	}
	rc = sim_welcome(s);
	if (rc)
		goto err_sock;
	hv->priv = s;
	hv->domid = s->domid;
	return 0;

err_sock:
	sim_unmap_all(s);
	free(s->pins_free);
	close(s->sock);
err_ep:
	close(s->epfd);
err_free:
	free(s);
	return rc;
}

/* --------------------------------------------------- foreign domains */

static void fdom_put(struct sim_fdom *d)
{
	if (--d->users)
		return;
	munmap(d->ram, d->ram_bytes);
	munmap(d->t.shared, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1));
	munmap(d->t.active, SIM_GNT_ENTRIES * sizeof(struct sim_gnt_active));
	close(d->ramfd);
	free(d);
}

static void fdom_uncache(struct hv_sim *s, struct sim_fdom **pp)
{
	struct sim_fdom *d = *pp;

	*pp = d->next;
	fdom_put(d);
}

/* The granting domain domid, fetched once per incarnation. -ESRCH when dead. */
static int fdom_get(struct hv_sim *s, uint16_t domid, struct sim_fdom **out)
{
	struct sim_fdom *d, **pp;
	struct sim_hv_rsp rsp;
	uint32_t g;
	int fds[3];
	int rc;

	if (domid >= SIM_NR_DOMIDS)
		return -ESRCH;
	g = __atomic_load_n(&s->domgen[domid], __ATOMIC_ACQUIRE);
	for (pp = &s->doms; *pp; pp = &(*pp)->next) {
		if ((*pp)->domid != domid)
			continue;
		if ((*pp)->gen == g && sim_domgen_alive(g)) {
			*out = *pp;
			return 0;
		}
		fdom_uncache(s, pp);
		break;
	}
	if (!sim_domgen_alive(g))
		return -ESRCH;

	rc = rpc(s, SIM_HV_OP_GET_DOMAIN, domid, 0, &rsp, fds, 3);
	if (rc)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = -ENOMEM;
		goto err_fds;
	}
	d->domid = domid;
	d->gen = rsp.val[0];
	d->users = 1;
	d->ramfd = fds[0];
	d->ram_bytes = rsp.size;
	d->t.nr_entries = SIM_GNT_ENTRIES;
	d->t.owner = s->tag;
	d->t.nr_frames = rsp.size / SIM_PAGE_SIZE;
	d->t.shared = map_fd(fds[1], SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1),
			     PROT_READ | PROT_WRITE);
	d->t.active = map_fd(fds[2], SIM_GNT_ENTRIES * sizeof(struct sim_gnt_active),
			     PROT_READ | PROT_WRITE);
	d->ram = d->ram_bytes ? map_fd(fds[0], d->ram_bytes, PROT_READ | PROT_WRITE) : NULL;
	if (!d->t.shared || !d->t.active || (d->ram_bytes && !d->ram)) {
		rc = -ENOMEM;
		goto err_map;
	}
	close(fds[1]);
	close(fds[2]);
	d->next = s->doms;
	s->doms = d;
	*out = d;
	return 0;

err_map:
	if (d->t.shared)
		munmap(d->t.shared, SIM_GNT_ENTRIES * sizeof(struct grant_entry_v1));
	if (d->t.active)
		munmap(d->t.active, SIM_GNT_ENTRIES * sizeof(struct sim_gnt_active));
	if (d->ram)
		munmap(d->ram, d->ram_bytes);
	free(d);
err_fds:
	close_fds(fds, 3);
	return rc;
}

/* ------------------------------------------------------- pin journal */

/* A free record for a pin about to be taken, O(1): 0 or -ENOMEM. */
static int pin_rec_get(struct hv_sim *s, uint32_t *out)
{
	if (s->pins_nfree) {
		*out = s->pins_free[--s->pins_nfree];
		return 0;
	}
	if (s->pins_used == SIM_PIN_RECS)
		return -ENOMEM;
	if (s->pins_used >= s->pins_cap) {
		/* Room for every record to come back: pin_rec_put cannot fail. */
		uint32_t cap = s->pins_cap ? s->pins_cap * 2 : 1024;
		uint32_t *p;

		if (cap > SIM_PIN_RECS)
			cap = SIM_PIN_RECS;
		p = realloc(s->pins_free, (size_t)cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->pins_free = p;
		s->pins_cap = cap;
	}
	*out = s->pins_used++;
	/* The daemon reads records below nr_used: raise it before using one. */
	__atomic_store_n(&s->pins->nr_used, s->pins_used, __ATOMIC_RELAXED);
	return 0;
}

static void pin_rec_put(struct hv_sim *s, uint32_t i)
{
	sim_pin_rec_state(&s->pins->rec[i], SIM_PIN_FREE);
	s->pins_free[s->pins_nfree++] = i;
}

/* Pin ref of d as journal record i (a free one): see sim_gnt_pin. */
static int pin_take(struct hv_sim *s, struct sim_fdom *d, uint32_t ref, bool writable,
		    uint32_t i, uint32_t *frame)
{
	struct sim_pin_rec *r = &s->pins->rec[i];

	sim_pin_rec_want(r, d->domid, d->gen, ref, writable);
	return sim_gnt_pin(&d->t, ref, s->domid, writable, frame, r);
}

/* Drop the pin of record i (HELD); the record stays for the caller to free. */
static void pin_drop(struct hv_sim *s, struct sim_fdom *d, uint32_t ref, bool writable,
		     uint32_t i)
{
	sim_gnt_unpin(&d->t, ref, writable, &s->pins->rec[i]);
}

/* ----------------------------------------------------------- map/unmap */

static unsigned map_hash(const void *addr)
{
	return ((uintptr_t)addr >> SIM_PAGE_SHIFT) % MAP_HASH;
}

static int hs_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
		   bool writable, void **addr)
{
	struct hv_sim *s = S(hv);
	int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
	size_t span = ((size_t)count + 2) * SIM_PAGE_SIZE;
	struct sim_fdom *d;
	struct hs_map *m;
	uint32_t *recs;
	unsigned i = 0;
	char *base, *va;
	int rc;

	if (count > SIM_GNT_ENTRIES)
		return -EINVAL;
	rc = fdom_get(s, domid, &d);
	if (rc)
		return rc;
	m = malloc(sizeof(*m) + 2 * count * sizeof(uint32_t));
	if (!m)
		return -ENOMEM;
	recs = m->refs + count;
	/* Guard pages either side: a backend overrunning a mapping faults. */
	base = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto err_free;
	}
	va = base + SIM_PAGE_SIZE;
	for (i = 0; i < count; i++) {
		uint32_t frame;

		rc = pin_rec_get(s, &recs[i]);
		if (rc)
			goto err_unpin;
		rc = pin_take(s, d, refs[i], writable, recs[i], &frame);
		if (rc) {
			pin_rec_put(s, recs[i]);
			goto err_unpin;
		}
		if (mmap(va + (size_t)i * SIM_PAGE_SIZE, SIM_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
			 d->ramfd, (off_t)frame << SIM_PAGE_SHIFT) == MAP_FAILED) {
			rc = -errno;
			pin_drop(s, d, refs[i], writable, recs[i]);
			pin_rec_put(s, recs[i]);
			goto err_unpin;
		}
	}
	m->addr = va;
	m->count = count;
	m->writable = writable;
	m->dom = d;
	memcpy(m->refs, refs, count * sizeof(uint32_t));
	m->next = s->maps[map_hash(va)];
	s->maps[map_hash(va)] = m;
	d->users++;
	*addr = va;
	return 0;

err_unpin:
	/* Pages go before pins: the guest may reuse a frame once unpinned. */
	munmap(base, span);
	while (i--) {
		pin_drop(s, d, refs[i], writable, recs[i]);
		pin_rec_put(s, recs[i]);
	}
err_free:
	free(m);
	return rc;
}

static int hs_unmap(struct pv_hv *hv, void *addr, unsigned count)
{
	struct hv_sim *s = S(hv);
	struct hs_map **pp, *m;
	unsigned i;

	for (pp = &s->maps[map_hash(addr)]; *pp; pp = &(*pp)->next)
		if ((*pp)->addr == addr)
			break;
	m = *pp;
	if (!m || m->count != count)
		return -EINVAL;
	*pp = m->next;
	munmap((char *)addr - SIM_PAGE_SIZE, ((size_t)count + 2) * SIM_PAGE_SIZE);
	for (i = 0; i < count; i++) {
		uint32_t rec = m->refs[count + i];

		pin_drop(s, m->dom, m->refs[i], m->writable, rec);
		pin_rec_put(s, rec);
	}
	fdom_put(m->dom);
	free(m);
	return 0;
}

/* ---------------------------------------------------------------- copy */

static int copy_one(struct hv_sim *s, struct pv_hv_copy_seg *seg)
{
	struct sim_pin_rec *r;
	struct sim_fdom *d;
	uint32_t frame;
	char *page;
	int rc;

	/* Xen: GNTST_bad_copy_arg */
	if ((unsigned)seg->offset + seg->len > SIM_PAGE_SIZE || (!seg->local && seg->len))
		return -EINVAL;
	rc = fdom_get(s, seg->domid, &d);
	if (rc)
		return rc;
	/* The entry stays locked during the copy, and counts no pin: if we
	 * die in it, the record lets the daemon take the lock over. */
	r = &s->pins->rec[SIM_PIN_COPY];
	sim_pin_rec_want(r, d->domid, d->gen, seg->ref, seg->to_guest);
	rc = sim_gnt_copy_begin(&d->t, seg->ref, s->domid, seg->to_guest, &frame);
	if (rc == 0) {
		page = (char *)d->ram + ((size_t)frame << SIM_PAGE_SHIFT);
		if (seg->to_guest)
			memcpy(page + seg->offset, seg->local, seg->len);
		else
			memcpy(seg->local, page + seg->offset, seg->len);
		sim_gnt_copy_end(&d->t, seg->ref);
	}
	sim_pin_rec_state(r, SIM_PIN_FREE);
	return rc;
}

static void hs_copy(struct pv_hv *hv, unsigned count, struct pv_hv_copy_seg *segs)
{
	unsigned i;

	for (i = 0; i < count; i++)
		segs[i].status = (int16_t)copy_one(S(hv), &segs[i]);
}

/* ------------------------------------------------------- share/unshare */

static bool bit_test(const uint64_t *map, uint64_t i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void bit_assign(uint64_t *map, uint64_t i, bool v)
{
	if (v)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

/* First fit of count clear bits in [0, n); returns the start or -ENOMEM. */
static int64_t find_run(const uint64_t *map, uint64_t n, unsigned count)
{
	uint64_t i = 0, run = 0;

	while (i < n) {
		if (i % 64 == 0 && map[i / 64] == ~0ull && i + 64 <= n) {
			i += 64;
			run = 0;
			continue;
		}
		run = bit_test(map, i) ? 0 : run + 1;
		i++;
		if (run == count)
			return (int64_t)(i - count);
	}
	return -ENOMEM;
}

static int hs_share(struct pv_hv *hv, uint16_t domid, unsigned count, bool writable,
		     uint32_t *refs, void **addr)
{
	struct hv_sim *s = S(hv);
	struct sim_guest_meta *meta = s->meta;
	struct hs_share *sh;
	int64_t gfn;
	unsigned i, got = 0;
	uint32_t r;

	if (!s->ram)
		return -ENOMEM; /* a domain without RAM has nothing to share */
	if (count > SIM_GNT_ENTRIES)
		return -EINVAL;
	sh = malloc(sizeof(*sh) + count * sizeof(uint32_t));
	if (!sh)
		return -ENOMEM;

	sim_spin_lock(&meta->lock, s->tag);
	gfn = find_run(meta->page_map, meta->nr_pages, count);
	if (gfn < 0)
		goto err_unlock;
	for (r = SIM_GNT_RESERVED; r < SIM_GNT_ENTRIES && got < count; r++)
		if (!bit_test(meta->ref_map, r))
			sh->refs[got++] = r;
	if (got < count)
		goto err_unlock;
	for (i = 0; i < count; i++) {
		bit_assign(meta->page_map, (uint64_t)gfn + i, true);
		bit_assign(meta->ref_map, sh->refs[i], true);
	}
	sim_spin_unlock(&meta->lock);

	/* gntalloc hands out zeroed pages. */
	memset((char *)s->ram + ((size_t)gfn << SIM_PAGE_SHIFT), 0, (size_t)count * SIM_PAGE_SIZE);
	for (i = 0; i < count; i++) {
		sim_gnt_grant_access(&s->gnttab[sh->refs[i]], domid, (uint32_t)gfn + i, !writable);
		refs[i] = sh->refs[i];
	}
	sh->addr = (char *)s->ram + ((size_t)gfn << SIM_PAGE_SHIFT);
	sh->count = count;
	sh->domid = domid;
	sh->readonly = !writable;
	sh->gfn = (uint64_t)gfn;
	sh->next = s->shares;
	s->shares = sh;
	*addr = sh->addr;
	return 0;

err_unlock:
	sim_spin_unlock(&meta->lock);
	free(sh);
	return -ENOMEM;
}

static void share_free(struct hv_sim *s, struct hs_share *sh)
{
	unsigned i;

	sim_spin_lock(&s->meta->lock, s->tag);
	for (i = 0; i < sh->count; i++) {
		bit_assign(s->meta->page_map, sh->gfn + i, false);
		bit_assign(s->meta->ref_map, sh->refs[i], false);
	}
	sim_spin_unlock(&s->meta->lock);
	free(sh);
}

/* End access to every page, or to none: -EBUSY while one is in use. */
static int share_end(struct hv_sim *s, struct hs_share *sh)
{
	unsigned i;

	for (i = 0; i < sh->count; i++) {
		if (sim_gnt_end_access(&s->gnttab[sh->refs[i]]) < 0) {
			while (i--)
				sim_gnt_grant_access(&s->gnttab[sh->refs[i]], sh->domid,
						     (uint32_t)(sh->gfn + i), sh->readonly);
			return -EBUSY;
		}
	}
	return 0;
}

static int hs_unshare(struct pv_hv *hv, void *addr, unsigned count)
{
	struct hv_sim *s = S(hv);
	struct hs_share **pp, *sh;
	int rc;

	for (pp = &s->shares; *pp; pp = &(*pp)->next)
		if ((*pp)->addr == addr)
			break;
	sh = *pp;
	if (!sh || sh->count != count)
		return -EINVAL;
	rc = share_end(s, sh);
	if (rc)
		return rc;
	*pp = sh->next;
	share_free(s, sh);
	return 0;
}

/* The guest's own view of its entry: Xen sets GTF_reading/GTF_writing
 * while the grantee maps or copies it, and end access fails on them. */
static int hs_share_in_use(struct pv_hv *hv, uint32_t ref)
{
	struct hv_sim *s = S(hv);
	uint16_t flags;

	if (!s->gnttab || ref >= SIM_GNT_ENTRIES)
		return -EINVAL;
	flags = __atomic_load_n(&s->gnttab[ref].flags, __ATOMIC_ACQUIRE);
	return flags & (GTF_reading | GTF_writing) ? 1 : 0;
}

/* ------------------------------------------------------ event channels */

static int hs_evtchn_fd(struct pv_hv *hv)
{
	return S(hv)->epfd;
}

static int port_arm(struct hv_sim *s, uint32_t port, int op)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = port };

	return epoll_ctl(s->epfd, op, s->ports[port]->efd, &ev) < 0 ? -errno : 0;
}

static int port_add(struct hv_sim *s, uint32_t port, int efd, int peer_efd, uint32_t gen)
{
	struct sim_port *p;
	int rc;

	if (port >= SIM_EVTCHN_PORTS || s->ports[port]) {
		rc = -EPROTO;
		goto err;
	}
	p = malloc(sizeof(*p));
	if (!p) {
		rc = -ENOMEM;
		goto err;
	}
	p->efd = efd;
	p->peer_efd = peer_efd;
	p->gen = gen;
	s->ports[port] = p;
	rc = port_arm(s, port, EPOLL_CTL_ADD);
	if (rc) {
		s->ports[port] = NULL;
		free(p);
		goto err;
	}
	return (int)port;
err:
	close(efd);
	if (peer_efd >= 0)
		close(peer_efd);
	return rc;
}

static void port_free(struct hv_sim *s, uint32_t port)
{
	struct sim_port *p = s->ports[port];
	int i;

	/* A fetched event of this port must not come back for a port reusing
	 * the number. */
	for (i = s->evq_i; i < s->evq_n; i++)
		if (s->evq[i].data.u32 == port)
			s->evq[i].data.u32 = SIM_EVTCHN_PORTS;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, p->efd, NULL);
	close(p->efd);
	if (p->peer_efd >= 0)
		close(p->peer_efd);
	free(p);
	s->ports[port] = NULL;
}

static int hs_evtchn_bind(struct pv_hv *hv, uint16_t domid, uint32_t remote_port)
{
	struct hv_sim *s = S(hv);
	struct sim_hv_rsp rsp;
	int fds[2], rc;

	rc = rpc(s, SIM_HV_OP_EVTCHN_BIND, domid, remote_port, &rsp, fds, 2);
	if (rc)
		return rc;
	if (fds[0] < 0) {
		close_fds(fds, 2);
		return -EPROTO;
	}
	rc = port_add(s, rsp.val[0], fds[0], fds[1], rsp.val[1]);
	if (rc < 0)
		rpc(s, SIM_HV_OP_EVTCHN_CLOSE, rsp.val[0], 0, &rsp, NULL, 0);
	return rc;
}

static int hs_evtchn_alloc(struct pv_hv *hv, uint16_t remote_domid)
{
	struct hv_sim *s = S(hv);
	struct sim_hv_rsp rsp;
	int fd, rc;

	rc = rpc(s, SIM_HV_OP_EVTCHN_ALLOC, remote_domid, 0, &rsp, &fd, 1);
	if (rc)
		return rc;
	if (fd < 0)
		return -EPROTO;
	rc = port_add(s, rsp.val[0], fd, -1, rsp.val[1]);
	if (rc < 0)
		rpc(s, SIM_HV_OP_EVTCHN_CLOSE, rsp.val[0], 0, &rsp, NULL, 0);
	return rc;
}

static struct sim_port *port_get(struct hv_sim *s, uint32_t port)
{
	return port < SIM_EVTCHN_PORTS ? s->ports[port] : NULL;
}

/* The peer changed (bound, closed, re-bound, domain gone): ask the daemon. */
static int port_refresh(struct hv_sim *s, uint32_t port, struct sim_port *p)
{
	struct sim_hv_rsp rsp;
	int fd, rc;

	rc = rpc(s, SIM_HV_OP_EVTCHN_INFO, port, 0, &rsp, &fd, 1);
	if (rc)
		return rc;
	if (p->peer_efd >= 0)
		close(p->peer_efd);
	p->peer_efd = fd;
	p->gen = rsp.val[1];
	return 0;
}

static int hs_evtchn_notify(struct pv_hv *hv, uint32_t port)
{
	static const uint64_t one = 1;
	struct hv_sim *s = S(hv);
	struct sim_port *p = port_get(s, port);
	int rc;

	if (!p)
		return -EINVAL;
	if (__atomic_load_n(&s->evgen[port], __ATOMIC_ACQUIRE) != p->gen) {
		rc = port_refresh(s, port, p);
		if (rc)
			return rc;
	}
	/* Unbound (never or since the peer closed): Xen drops it silently.
	 * The counter saturates long before it could overflow: EAGAIN is fine. */
	if (p->peer_efd >= 0 && write(p->peer_efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int hs_evtchn_pending(struct pv_hv *hv)
{
	struct hv_sim *s = S(hv);
	uint64_t v;
	int n;

	for (;;) {
		while (s->evq_i < s->evq_n) {
			uint32_t port = s->evq[s->evq_i++].data.u32;
			struct sim_port *p = port_get(s, port);

			if (!p)
				continue; /* closed since it was fetched */
			/* Clear the pending count: notifies so far are this one event. */
			if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
			return (int)port;
		}
		do
			n = epoll_wait(s->epfd, s->evq, SIM_EV_BATCH, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -errno;
		s->evq_i = 0;
		s->evq_n = n;
		if (n == 0)
			return -EAGAIN;
	}
}

static int hs_evtchn_unmask(struct pv_hv *hv, uint32_t port)
{
	struct hv_sim *s = S(hv);

	if (!port_get(s, port))
		return -EINVAL;
	return port_arm(s, port, EPOLL_CTL_MOD);
}

static int hs_evtchn_close(struct pv_hv *hv, uint32_t port)
{
	struct hv_sim *s = S(hv);
	struct sim_hv_rsp rsp;
	int rc;

	if (!port_get(s, port))
		return -EINVAL;
	rc = rpc(s, SIM_HV_OP_EVTCHN_CLOSE, port, 0, &rsp, NULL, 0);
	port_free(s, port);
	return rc;
}

static int hs_claim(struct pv_hv *hv)
{
	struct sim_hv_rsp rsp;

	return rpc(S(hv), SIM_HV_OP_CLAIM, 0, 0, &rsp, NULL, 0);
}

static void hs_close(struct pv_hv *hv)
{
	struct hv_sim *s = S(hv);
	unsigned i;

	/* Unmap first: with the journal empty when the socket goes, the
	 * daemon has nothing to wait for (it drops pins only once we exit). */
	for (i = 0; i < MAP_HASH; i++)
		while (s->maps[i])
			hs_unmap(hv, s->maps[i]->addr, s->maps[i]->count);
	/* Closing the socket closes our ports in the daemon. */
	close(s->sock);
	for (i = 0; i < SIM_EVTCHN_PORTS; i++)
		if (s->ports[i])
			port_free(s, i);
	close(s->epfd);
	while (s->shares) {
		struct hs_share *sh = s->shares;

		s->shares = sh->next;
		if (share_end(s, sh) == 0)
			share_free(s, sh);
		else
			free(sh); /* still mapped by the peer: stays granted */
	}
	while (s->doms)
		fdom_uncache(s, &s->doms);
	sim_unmap_all(s);
	free(s->pins_free);
	free(s);
}

const struct pv_hv_ops pv_hv_sim_ops = {
	.name = "sim",
	.kind = PV_HV_SIM,
	.open = hs_open,
	.close = hs_close,
	.map = hs_map,
	.unmap = hs_unmap,
	.copy = hs_copy,
	.share = hs_share,
	.unshare = hs_unshare,
	.share_in_use = hs_share_in_use,
	.evtchn_fd = hs_evtchn_fd,
	.evtchn_bind = hs_evtchn_bind,
	.evtchn_alloc = hs_evtchn_alloc,
	.evtchn_notify = hs_evtchn_notify,
	.evtchn_pending = hs_evtchn_pending,
	.evtchn_unmask = hs_evtchn_unmask,
	.evtchn_close = hs_evtchn_close,
	.claim = hs_claim,
};
