// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Userspace blkif frontend (see blkfront.h for the contract).  Owns its own
 * pv_hv and pv_xs handles; the xenbus side goes through libpvfront.  Each
 * queue has a ring of nr_slots request slots; a request's id is its slot
 * index.  Data is bounced through granted pages (persistent: a pool per
 * slot granted once and kept; otherwise granted per request).  Responses
 * are copied out of the ring once (pv_ring_front_copy_rsp) before use: the
 * backend is not trusted either (ids are range- and state-checked).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvring.h"
#include "pvfront.h"
#include "blkfront.h"
#include "abi/blkif.h"

#define BF_MAX_ORDER  PVFRONT_RING_MAX_ORDER
#define BF_MAX_QUEUES 16u

struct bf_chunk { /* one pv_hv_share() allocation, for unsharing */
	void *addr;
	unsigned count;
};

#define BF_INLINE_IOV 4

struct bf_slot {
	bool used, raw;
	uint64_t tag;
	uint8_t operation;
	bool read;
	struct iovec *uiov;          /* the caller's iovec (copied), for reads */
	unsigned uiovcnt;
	unsigned uiov_cap;           /* entries uiov can hold: it only grows */
	struct iovec uiov_inline[BF_INLINE_IOV]; /* uiov's first home: no malloc per read */
	size_t len;
	/* per-request grants (not persistent) */
	void *tmp_data;
	unsigned tmp_pages;
	void *tmp_ind;
	unsigned tmp_ind_pages;
	/* persistent pool of this slot: pages granted once */
	void **pg;
	uint32_t *pref;
	unsigned npg;
	void *ind[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint32_t ind_ref[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned nind;
	struct bf_chunk *chunks;
	unsigned nchunks;
};

struct bf_queue {
	struct pvfront_ring r;       /* the shared ring and its event channel */
	struct bf_slot *slots;
	unsigned *free;              /* stack of free slot indexes */
	unsigned nr_free;
	unsigned inflight;
};

struct blkfront {
	struct pv_hv *hv;
	struct pv_xs *xs;
	struct pvfront *f;
	uint16_t self, backend;
	bool x86_32;
	unsigned max_segs;           /* per request: 11 or max_indirect */
	int timeout_ms;
	bool disconnected;           /* the xenbus close is done */
	struct pv_xs_watch *be_watch; /* backend state, as Linux blkfront keeps one */
	unsigned be_events, be_events_seen;
	struct blkfront_info info;
	struct bf_queue q[BF_MAX_QUEUES];
	char *buf;                   /* blkfront_buf_alloc()'s region, or NULL */
	unsigned buf_pages;
	uint32_t *buf_refs;          /* its grant refs, one per page */
};

static size_t ent_size(const struct blkfront *bf)
{
	return bf->x86_32 ? BLKIF_X86_32_ENT_SIZE : BLKIF_NATIVE_ENT_SIZE;
}

const struct blkfront_info *blkfront_info(const struct blkfront *bf)
{
	return &bf->info;
}

unsigned blkfront_inflight(const struct blkfront *bf, unsigned q)
{
	return q < bf->info.nr_queues ? bf->q[q].inflight : 0;
}

void *blkfront_sring(struct blkfront *bf, unsigned q)
{
	return q < bf->info.nr_queues ? pvfront_ring_sring(&bf->q[q].r) : NULL;
}

int blkfront_share(struct blkfront *bf, unsigned count, bool writable, uint32_t *refs, void **addr)
{
	return pv_hv_share(bf->hv, bf->backend, count, writable, refs, addr);
}

int blkfront_share_with(struct blkfront *bf, uint16_t domid, unsigned count, bool writable,
			uint32_t *refs, void **addr)
{
	return pv_hv_share(bf->hv, domid, count, writable, refs, addr);
}

uint16_t blkfront_domid(const struct blkfront *bf)
{
	return bf->self;
}

uint16_t blkfront_backend_id(const struct blkfront *bf)
{
	return bf->backend;
}

void *blkfront_ring_ent(struct blkfront *bf, unsigned q, uint32_t idx)
{
	struct pv_ring_front *r;

	if (q >= bf->info.nr_queues)
		return NULL;
	r = &bf->q[q].r.front;
	return r->ents + (size_t)(idx & (r->nr_ents - 1)) * r->ent_size;
}

int blkfront_write_state(struct blkfront *bf, const char *value)
{
	return pvfront_printf(bf->f, 0, "state", "%s", value);
}

int blkfront_unshare(struct blkfront *bf, void *addr, unsigned count)
{
	return pv_hv_unshare(bf->hv, addr, count);
}

int blkfront_notify(struct blkfront *bf, unsigned q)
{
	if (q >= bf->info.nr_queues)
		return -EINVAL;
	return pvfront_ring_notify(bf->hv, &bf->q[q].r);
}

/* ------------------------------------------------------------ handshake */

static int write_keys(struct pvfront *f, uint32_t t, void *opaque)
{
	struct blkfront *bf = opaque;
	unsigned i, n = bf->info.nr_queues, order = bf->info.ring_order;
	char key[64];
	int rc = 0;

	/* Keys of an earlier connection with other settings must not linger. */
	pvfront_rm(f, t, "ring-ref");
	pvfront_rm(f, t, "ring-page-order");
	pvfront_rm(f, t, "multi-queue-num-queues");
	pvfront_rm(f, t, "event-channel");
	for (i = 0; i < (1u << BF_MAX_ORDER); i++) {
		snprintf(key, sizeof(key), "ring-ref%u", i);
		pvfront_rm(f, t, key);
	}
	for (i = 0; i < BF_MAX_QUEUES; i++) {
		snprintf(key, sizeof(key), "queue-%u", i);
		pvfront_rm(f, t, key);
	}
	if (order > 0)
		rc = pvfront_printf(f, t, "ring-page-order", "%u", order);
	if (rc == 0 && n > 1)
		rc = pvfront_printf(f, t, "multi-queue-num-queues", "%u", n);
	for (i = 0; rc == 0 && i < n; i++) {
		char dir[32] = "";

		if (n > 1)
			snprintf(dir, sizeof(dir), "queue-%u/", i);
		rc = pvfront_ring_write_keys(f, t, &bf->q[i].r, dir, "ring-ref", "event-channel");
	}
	if (rc == 0)
		rc = pvfront_printf(f, t, "protocol", "%s",
				    bf->x86_32 ? XEN_IO_PROTO_ABI_X86_32 : XEN_IO_PROTO_ABI_NATIVE);
	if (rc == 0)
		rc = pvfront_printf(f, t, "feature-persistent", "%u", bf->info.persistent ? 1 : 0);
	return rc;
}

static uint64_t be_uint(struct blkfront *bf, const char *key, uint64_t def, uint64_t max)
{
	uint64_t v;

	return pvfront_read_be_uint(bf->f, key, 0, max, &v) == 0 ? v : def;
}

static int queue_setup(struct blkfront *bf, struct bf_queue *q)
{
	unsigned i;
	int rc;

	rc = pvfront_ring_setup(bf->f, bf->hv, bf->info.ring_order, ent_size(bf), true, &q->r);
	if (rc < 0)
		return rc;
	bf->info.nr_slots = q->r.front.nr_ents;
	q->slots = calloc(q->r.front.nr_ents, sizeof(*q->slots));
	q->free = calloc(q->r.front.nr_ents, sizeof(*q->free));
	if (!q->slots || !q->free)
		return -ENOMEM;
	for (i = q->r.front.nr_ents; i-- > 0;)
		q->free[q->nr_free++] = i;
	return 0;
}

static void slot_release_tmp(struct blkfront *bf, struct bf_slot *s)
{
	if (s->tmp_data)
		pv_hv_unshare(bf->hv, s->tmp_data, s->tmp_pages);
	if (s->tmp_ind)
		pv_hv_unshare(bf->hv, s->tmp_ind, s->tmp_ind_pages);
	s->tmp_data = s->tmp_ind = NULL;
	s->tmp_pages = s->tmp_ind_pages = 0;
}

static void queue_teardown(struct blkfront *bf, struct bf_queue *q)
{
	unsigned i, j;

	for (i = 0; q->slots && i < q->r.front.nr_ents; i++) {
		struct bf_slot *s = &q->slots[i];

		slot_release_tmp(bf, s);
		for (j = 0; j < s->nchunks; j++)
			pv_hv_unshare(bf->hv, s->chunks[j].addr, s->chunks[j].count);
		free(s->chunks);
		free(s->pg);
		free(s->pref);
		if (s->uiov != s->uiov_inline)
			free(s->uiov);
	}
	free(q->slots);
	free(q->free);
	pvfront_ring_teardown(bf->hv, &q->r);
	memset(q, 0, sizeof(*q));
	q->r.port = -1;
}

static void read_connect_keys(struct blkfront *bf)
{
	struct blkfront_info *in = &bf->info;

	in->sectors = be_uint(bf, "sectors", 0, UINT64_MAX);
	in->sector_size = (unsigned)be_uint(bf, "sector-size", 512, 1u << 20);
	in->physical_sector_size = (unsigned)be_uint(bf, "physical-sector-size", in->sector_size,
						     1u << 20);
	in->info = (unsigned)be_uint(bf, "info", 0, UINT32_MAX);
	in->flush = be_uint(bf, "feature-flush-cache", 0, 1);
	in->barrier = be_uint(bf, "feature-barrier", 0, 1);
	in->discard = be_uint(bf, "feature-discard", 0, 1);
	in->discard_secure = be_uint(bf, "discard-secure", 0, 1);
	in->discard_granularity = (unsigned)be_uint(bf, "discard-granularity", 0, UINT32_MAX);
	in->discard_alignment = (unsigned)be_uint(bf, "discard-alignment", 0, UINT32_MAX);
	in->persistent = in->persistent && be_uint(bf, "feature-persistent", 0, 1);
}

static void on_be_state(struct pv_xs *xs, const char *path, void *opaque)
{
	struct blkfront *bf = opaque;

	bf->be_events++;
}

int blkfront_open(const struct blkfront_opts *opts, struct blkfront **out)
{
	struct blkfront *bf = calloc(1, sizeof(*bf));
	char path[300];
	unsigned i;
	int rc;

	if (!bf)
		return -ENOMEM;
	for (i = 0; i < BF_MAX_QUEUES; i++)
		bf->q[i].r.port = -1;
	bf->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	bf->x86_32 = opts->x86_32;
	rc = pvfront_env_open("vbd", opts->devid, &bf->hv, &bf->xs, &bf->f);
	if (rc < 0)
		goto fail;
	bf->self = pv_hv_domid(bf->hv);
	bf->backend = pvfront_backend_id(bf->f);
	/* A previous user may have left us Closed: Initialising asks the
	 * backend to go back to InitWait (reconnect). */
	rc = pvfront_switch_state(bf->f, XenbusStateInitialising);
	if (rc < 0)
		goto fail;
	rc = pvfront_wait_backend(bf->f, PVFRONT_STATE(XenbusStateInitWait) |
					 PVFRONT_STATE(XenbusStateConnected), bf->timeout_ms);
	if (rc < 0)
		goto fail;

	/* Negotiate down to what the backend offers, as Linux blkfront does. */
	bf->info.ring_order = opts->ring_order;
	if (bf->info.ring_order > be_uint(bf, "max-ring-page-order", 0, BF_MAX_ORDER))
		bf->info.ring_order = (unsigned)be_uint(bf, "max-ring-page-order", 0, BF_MAX_ORDER);
	bf->info.nr_queues = opts->nr_queues ? opts->nr_queues : 1;
	if (bf->info.nr_queues > be_uint(bf, "multi-queue-max-queues", 1, BF_MAX_QUEUES))
		bf->info.nr_queues = (unsigned)be_uint(bf, "multi-queue-max-queues", 1, BF_MAX_QUEUES);
	if (!bf->info.nr_queues)
		bf->info.nr_queues = 1;
	bf->info.max_indirect = opts->max_indirect;
	if (bf->info.max_indirect > be_uint(bf, "feature-max-indirect-segments", 0, UINT32_MAX))
		bf->info.max_indirect =
			(unsigned)be_uint(bf, "feature-max-indirect-segments", 0, UINT32_MAX);
	if (bf->info.max_indirect > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST *
					    BLKIF_SEGS_PER_INDIRECT_FRAME)
		bf->info.max_indirect =
			BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME;
	if (bf->info.max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		bf->info.max_indirect = 0;
	bf->info.persistent = opts->persistent && be_uint(bf, "feature-persistent", 0, 1);
	bf->max_segs = bf->info.max_indirect ? bf->info.max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;

	for (i = 0; i < bf->info.nr_queues; i++) {
		rc = queue_setup(bf, &bf->q[i]);
		if (rc < 0)
			goto fail;
	}
	rc = pvfront_transaction(bf->f, write_keys, bf);
	if (rc < 0)
		goto fail;
	rc = pvfront_switch_wait(bf->f, XenbusStateInitialised, XenbusStateConnected,
				 bf->timeout_ms);
	if (rc < 0)
		goto fail;
	read_connect_keys(bf);
	rc = pvfront_switch_state(bf->f, XenbusStateConnected);
	if (rc < 0)
		goto fail;
	/* From now on a state event means "re-read sectors" (online resize). */
	snprintf(path, sizeof(path), "%s/state", pvfront_bepath(bf->f));
	rc = pv_xs_watch(bf->xs, path, on_be_state, bf, &bf->be_watch);
	if (rc < 0) {
		bf->be_watch = NULL;
		goto fail;
	}
	*out = bf;
	return 0;
fail:
	blkfront_close(bf);
	return rc;
}

void blkfront_close(struct blkfront *bf)
{
	unsigned i;

	if (!bf)
		return;
	/* The backend unmaps everything before it reaches Closed: then end access. */
	blkfront_disconnect(bf);
	for (i = 0; i < BF_MAX_QUEUES; i++)
		if (bf->q[i].slots || bf->q[i].r.sring || bf->q[i].r.port >= 0)
			queue_teardown(bf, &bf->q[i]);
	if (bf->buf)
		pv_hv_unshare(bf->hv, bf->buf, bf->buf_pages);
	free(bf->buf_refs);
	if (bf->be_watch)
		pv_xs_unwatch(bf->xs, bf->be_watch);
	pvfront_env_close(&bf->hv, &bf->xs, &bf->f);
	free(bf);
}

int blkfront_disconnect(struct blkfront *bf)
{
	if (!bf->f || bf->disconnected)
		return 0;
	bf->disconnected = true;
	/* The backend may have been Closing already (an unplug): it finishes
	 * the I/O in flight, answers it and unmaps before it reaches Closed. */
	return pvfront_disconnect(bf->f, bf->timeout_ms);
}

int blkfront_backend_state(struct blkfront *bf)
{
	return pvfront_backend_state(bf->f);
}

int blkfront_wait_resize(struct blkfront *bf, int timeout_ms)
{
	uint64_t deadline = pv_now_ns() + (uint64_t)timeout_ms * 1000000ull, now, sectors;
	int rc = 0, st, wait = 0;

	if (!bf->be_watch)
		return -ENOTCONN;
	for (;;) {
		/* Events queued since the last call count too: first look without waiting. */
		rc = pv_xs_dispatch(bf->xs, wait);
		if (rc < 0)
			return rc;
		if (bf->be_events != bf->be_events_seen) {
			bf->be_events_seen = bf->be_events;
			/* As blkfront_connect() on a Connected event while connected. */
			st = pvfront_backend_state(bf->f);
			if (st != XenbusStateConnected)
				return st < 0 ? st : -ECONNRESET;
			sectors = be_uint(bf, "sectors", 0, UINT64_MAX);
			if (sectors && sectors != bf->info.sectors) {
				bf->info.sectors = sectors;
				return 0;
			}
		}
		now = pv_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		wait = (int)((deadline - now + 999999) / 1000000);
	}
}

/* ------------------------------------------------------------ requests */

/* Make sure slot s has n persistent data pages; grants the missing ones. */
static int slot_grow(struct blkfront *bf, struct bf_slot *s, unsigned n)
{
	uint32_t refs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME];
	struct bf_chunk *chunks;
	unsigned need = n - s->npg, i;
	void *addr;
	int rc;

	if (n <= s->npg)
		return 0;
	if (!s->pg) {
		s->pg = calloc(bf->max_segs, sizeof(*s->pg));
		s->pref = calloc(bf->max_segs, sizeof(*s->pref));
		if (!s->pg || !s->pref)
			return -ENOMEM;
	}
	chunks = realloc(s->chunks, (s->nchunks + 1) * sizeof(*chunks));
	if (!chunks)
		return -ENOMEM;
	s->chunks = chunks;
	rc = pv_hv_share(bf->hv, bf->backend, need, true, refs, &addr);
	if (rc < 0)
		return rc;
	s->chunks[s->nchunks++] = (struct bf_chunk){ addr, need };
	for (i = 0; i < need; i++) {
		s->pg[s->npg] = (char *)addr + (size_t)i * PV_PAGE_SIZE;
		s->pref[s->npg++] = refs[i];
	}
	return 0;
}

static void write_slot(struct blkfront *bf, struct bf_queue *q, const struct blkif_request *rw,
		       const struct blkif_request_indirect *in)
{
	void *slot = pv_ring_front_req_slot(&q->r.front);

	if (!bf->x86_32) {
		if (in)
			memcpy(slot, in, sizeof(*in));
		else
			memcpy(slot, rw, sizeof(*rw));
		return;
	}
	if (in) {
		struct blkif_x86_32_request_indirect r = {
			.operation = in->operation, .indirect_op = in->indirect_op,
			.nr_segments = in->nr_segments, .id = in->id,
			.sector_number = in->sector_number, .handle = in->handle,
		};

		memcpy(r.indirect_grefs, in->indirect_grefs, sizeof(r.indirect_grefs));
		memcpy(slot, &r, sizeof(r));
	} else {
		struct blkif_x86_32_request r = {
			.operation = rw->operation, .nr_segments = rw->nr_segments,
			.handle = rw->handle, .id = rw->id, .sector_number = rw->sector_number,
		};

		memcpy(r.seg, rw->seg, sizeof(r.seg));
		memcpy(slot, &r, sizeof(r));
	}
}

static size_t iov_total(const struct iovec *iov, unsigned n)
{
	size_t t = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* Copy between the caller's iovec and npages bounce pages (len bytes). */
static void bounce(void *const *pages, const struct iovec *iov, unsigned n, size_t len,
		   bool to_pages)
{
	size_t off = 0;
	unsigned i;

	for (i = 0; i < n && off < len; i++) {
		size_t done = 0;

		while (done < iov[i].iov_len && off < len) {
			size_t in_page = off % PV_PAGE_SIZE, chunk = PV_PAGE_SIZE - in_page;
			char *p = (char *)pages[off / PV_PAGE_SIZE] + in_page;
			char *u = (char *)iov[i].iov_base + done;

			if (chunk > iov[i].iov_len - done)
				chunk = iov[i].iov_len - done;
			if (to_pages)
				memcpy(p, u, chunk);
			else
				memcpy(u, p, chunk);
			done += chunk;
			off += chunk;
		}
	}
}

int blkfront_buf_alloc(struct blkfront *bf, size_t len, void **addr)
{
	unsigned n = (unsigned)((len + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE);
	void *a;
	int rc;

	if (!bf->info.persistent)
		return -EOPNOTSUPP;
	if (bf->buf)
		return -EBUSY;
	if (!n || len > (size_t)UINT32_MAX * PV_PAGE_SIZE)
		return -EINVAL;
	bf->buf_refs = malloc(n * sizeof(*bf->buf_refs));
	if (!bf->buf_refs)
		return -ENOMEM;
	rc = pv_hv_share(bf->hv, bf->backend, n, true, bf->buf_refs, &a);
	if (rc < 0) {
		free(bf->buf_refs);
		bf->buf_refs = NULL;
		return rc;
	}
	bf->buf = a;
	bf->buf_pages = n;
	*addr = a;
	return 0;
}

/* The refs of a request's pages when its data lies page-aligned in the
 * zero-copy region, else NULL (bounce through the slot's pages). */
static uint32_t *buf_refs_of(struct blkfront *bf, const struct iovec *iov, unsigned iovcnt,
			     size_t len)
{
	uintptr_t base = (uintptr_t)(iovcnt == 1 ? iov[0].iov_base : NULL);
	uintptr_t start = (uintptr_t)bf->buf;

	if (!bf->buf || iovcnt != 1 || base < start || (base - start) % PV_PAGE_SIZE ||
	    len > (uintptr_t)bf->buf_pages * PV_PAGE_SIZE - (base - start))
		return NULL;
	return &bf->buf_refs[(base - start) / PV_PAGE_SIZE];
}

static struct bf_slot *slot_get(struct bf_queue *q, unsigned *idx)
{
	if (!q->nr_free)
		return NULL;
	*idx = q->free[--q->nr_free];
	return &q->slots[*idx];
}

static void slot_put(struct bf_queue *q, unsigned idx)
{
	q->slots[idx].used = false;
	q->free[q->nr_free++] = idx;
}

int blkfront_submit(struct blkfront *bf, unsigned qi, enum blkfront_op op, uint64_t sector,
		    const struct iovec *iov, unsigned iovcnt, uint64_t tag)
{
	static const uint8_t ops[] = {
		[BLKFRONT_READ] = BLKIF_OP_READ, [BLKFRONT_WRITE] = BLKIF_OP_WRITE,
		[BLKFRONT_FLUSH] = BLKIF_OP_FLUSH_DISKCACHE,
		[BLKFRONT_BARRIER] = BLKIF_OP_WRITE_BARRIER,
	};
	struct blkif_request rw = { 0 };
	struct blkif_request_indirect in = { 0 };
	void *pages_buf[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME];
	uint32_t refs_buf[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME];
	void **pages = pages_buf;
	uint32_t *refs = refs_buf, *zc = NULL;
	struct bf_queue *q;
	struct bf_slot *s;
	size_t len = iov_total(iov, iovcnt);
	unsigned idx, npages, i, nind = 0;
	bool indirect;
	int rc;

	if (qi >= bf->info.nr_queues || (unsigned)op > BLKFRONT_BARRIER)
		return -EINVAL;
	if (len % 512 || ((op == BLKFRONT_READ || op == BLKFRONT_WRITE) && !len))
		return -EINVAL;
	npages = (unsigned)((len + PV_PAGE_SIZE - 1) / PV_PAGE_SIZE);
	if (npages > bf->max_segs)
		return -E2BIG;
	indirect = npages > BLKIF_MAX_SEGMENTS_PER_REQUEST;
	if (indirect && op != BLKFRONT_READ && op != BLKFRONT_WRITE)
		return -E2BIG; /* indirect carries only READ/WRITE */
	q = &bf->q[qi];
	if (!pv_ring_front_free(&q->r.front) || !(s = slot_get(q, &idx)))
		return -EAGAIN;

	if (npages && (op == BLKFRONT_READ || op == BLKFRONT_WRITE))
		zc = buf_refs_of(bf, iov, iovcnt, len);
	if (zc) {
		refs = zc; /* granted in place: nothing to bounce either way */
	} else if (npages && bf->info.persistent) {
		rc = slot_grow(bf, s, npages);
		if (rc < 0)
			goto fail_slot;
		pages = s->pg;
		refs = s->pref;
	} else if (npages) {
		void *addr;

		/* Writes only need the backend to read: grant those readonly. */
		rc = pv_hv_share(bf->hv, bf->backend, npages, op == BLKFRONT_READ, refs_buf, &addr);
		if (rc < 0)
			goto fail_slot;
		s->tmp_data = addr;
		s->tmp_pages = npages;
		for (i = 0; i < npages; i++)
			pages_buf[i] = (char *)addr + (size_t)i * PV_PAGE_SIZE;
	}
	if (op != BLKFRONT_READ && npages && !zc)
		bounce(pages, iov, iovcnt, len, true);

	s->used = true;
	s->raw = false;
	s->tag = tag;
	s->read = op == BLKFRONT_READ;
	s->len = len;
	s->operation = ops[op]; /* an indirect request is answered with its indirect_op */
	s->uiovcnt = 0;
	if (s->read && !zc) {
		if (!s->uiov) {
			s->uiov = s->uiov_inline;
			s->uiov_cap = BF_INLINE_IOV;
		}
		if (iovcnt > s->uiov_cap) {
			struct iovec *v = malloc(iovcnt * sizeof(*iov));

			if (!v) {
				rc = -ENOMEM;
				goto fail_tmp;
			}
			if (s->uiov != s->uiov_inline)
				free(s->uiov);
			s->uiov = v;
			s->uiov_cap = iovcnt;
		}
		memcpy(s->uiov, iov, iovcnt * sizeof(*iov));
		s->uiovcnt = iovcnt;
	}

	if (indirect) {
		struct blkif_request_segment *segs;

		nind = BLKIF_INDIRECT_PAGES(npages);
		if (bf->info.persistent) {
			if (!s->nind) {
				void *addr;

				rc = pv_hv_share(bf->hv, bf->backend, BLKIF_INDIRECT_PAGES(bf->max_segs),
						 false, s->ind_ref, &addr);
				if (rc < 0)
					goto fail_tmp;
				s->nind = BLKIF_INDIRECT_PAGES(bf->max_segs);
				for (i = 0; i < s->nind; i++)
					s->ind[i] = (char *)addr + (size_t)i * PV_PAGE_SIZE;
				s->chunks = realloc(s->chunks, (s->nchunks + 1) * sizeof(*s->chunks));
				if (!s->chunks) {
					pv_hv_unshare(bf->hv, addr, s->nind);
					s->nind = 0;
					s->nchunks = 0;
					rc = -ENOMEM;
					goto fail_tmp;
				}
				s->chunks[s->nchunks++] = (struct bf_chunk){ addr, s->nind };
			}
			memcpy(in.indirect_grefs, s->ind_ref, sizeof(uint32_t) * nind);
		} else {
			void *addr;

			rc = pv_hv_share(bf->hv, bf->backend, nind, false, in.indirect_grefs, &addr);
			if (rc < 0)
				goto fail_tmp;
			s->tmp_ind = addr;
			s->tmp_ind_pages = nind;
			for (i = 0; i < nind; i++)
				s->ind[i] = (char *)addr + (size_t)i * PV_PAGE_SIZE;
		}
		for (i = 0; i < npages; i++) {
			size_t bytes = len - (size_t)i * PV_PAGE_SIZE;

			segs = s->ind[i / BLKIF_SEGS_PER_INDIRECT_FRAME];
			segs[i % BLKIF_SEGS_PER_INDIRECT_FRAME] = (struct blkif_request_segment){
				.gref = refs[i], .first_sect = 0,
				.last_sect = (uint8_t)((bytes >= PV_PAGE_SIZE ? PV_PAGE_SIZE : bytes) / 512 - 1),
			};
		}
		in.operation = BLKIF_OP_INDIRECT;
		in.indirect_op = ops[op];
		in.nr_segments = (uint16_t)npages;
		in.id = idx;
		in.sector_number = sector;
		in.handle = 0;
		write_slot(bf, q, NULL, &in);
	} else {
		rw.operation = ops[op];
		rw.nr_segments = (uint8_t)npages;
		rw.id = idx;
		rw.sector_number = sector;
		for (i = 0; i < npages; i++) {
			size_t bytes = len - (size_t)i * PV_PAGE_SIZE;

			rw.seg[i] = (struct blkif_request_segment){
				.gref = refs[i], .first_sect = 0,
				.last_sect = (uint8_t)((bytes >= PV_PAGE_SIZE ? PV_PAGE_SIZE : bytes) / 512 - 1),
			};
		}
		write_slot(bf, q, &rw, NULL);
	}
	q->inflight++;
	return 0;
fail_tmp:
	slot_release_tmp(bf, s);
fail_slot:
	slot_put(q, idx);
	return rc;
}

int blkfront_discard(struct blkfront *bf, unsigned qi, uint64_t sector, uint64_t nr_sectors,
		     bool secure, uint64_t tag)
{
	struct blkif_request_discard d = {
		.operation = BLKIF_OP_DISCARD, .flag = secure ? BLKIF_DISCARD_SECURE : 0,
		.sector_number = sector, .nr_sectors = nr_sectors,
	};
	struct bf_queue *q;
	struct bf_slot *s;
	unsigned idx;
	void *slot;

	if (qi >= bf->info.nr_queues)
		return -EINVAL;
	q = &bf->q[qi];
	if (!pv_ring_front_free(&q->r.front) || !(s = slot_get(q, &idx)))
		return -EAGAIN;
	s->used = true;
	s->raw = false;
	s->read = false;
	s->len = 0;
	s->tag = tag;
	s->operation = BLKIF_OP_DISCARD;
	d.id = idx;
	slot = pv_ring_front_req_slot(&q->r.front);
	if (bf->x86_32) {
		struct blkif_x86_32_request_discard r = {
			.operation = d.operation, .flag = d.flag, .id = d.id,
			.sector_number = d.sector_number, .nr_sectors = d.nr_sectors,
		};

		memcpy(slot, &r, sizeof(r));
	} else {
		memcpy(slot, &d, sizeof(d));
	}
	q->inflight++;
	return 0;
}

int blkfront_submit_raw(struct blkfront *bf, unsigned qi, const void *req, size_t len,
			uint64_t tag)
{
	struct bf_queue *q;
	struct bf_slot *s;
	unsigned idx;
	int rc;

	if (qi >= bf->info.nr_queues || len > ent_size(bf))
		return -EINVAL;
	q = &bf->q[qi];
	if (!q->nr_free)
		return -EAGAIN;
	rc = pvfront_ring_put_raw(&q->r, req, len);
	if (rc < 0)
		return rc;
	s = slot_get(q, &idx);
	s->used = true;
	s->raw = true;
	s->tag = tag;
	s->read = false;
	s->len = 0;
	q->inflight++;
	return 0;
}

int blkfront_kick(struct blkfront *bf, unsigned qi)
{
	struct bf_queue *q;

	if (qi >= bf->info.nr_queues)
		return -EINVAL;
	q = &bf->q[qi];
	if (pv_ring_front_push(&q->r.front))
		return pv_hv_evtchn_notify(bf->hv, (uint32_t)q->r.port);
	return 0;
}

/* The slot a response belongs to: normal requests by id; raw ones (whose id
 * is whatever the test wrote) fall back to the oldest raw slot in use. */
static struct bf_slot *slot_of(struct bf_queue *q, uint64_t id, unsigned *idx)
{
	unsigned i;

	if (id < q->r.front.nr_ents && q->slots[id].used && !q->slots[id].raw) {
		*idx = (unsigned)id;
		return &q->slots[id];
	}
	for (i = 0; i < q->r.front.nr_ents; i++) {
		if (q->slots[i].used && q->slots[i].raw) {
			*idx = i;
			return &q->slots[i];
		}
	}
	return NULL;
}

int blkfront_complete(struct blkfront *bf, unsigned qi, blkfront_done_fn *fn, void *opaque)
{
	struct bf_queue *q;
	int n, done = 0;

	if (qi >= bf->info.nr_queues)
		return -EINVAL;
	q = &bf->q[qi];
	do {
		n = pv_ring_front_avail(&q->r.front);
		if (n < 0)
			return n;
		while (n-- > 0) {
			union {
				struct blkif_response r64;
				struct blkif_x86_32_response r32;
			} raw;
			uint64_t id;
			int16_t status;
			struct bf_slot *s;
			unsigned idx;

			pv_ring_front_copy_rsp(&q->r.front, &raw, ent_size(bf) < sizeof(raw) ?
								     ent_size(bf) : sizeof(raw));
			id = bf->x86_32 ? raw.r32.id : raw.r64.id;
			status = bf->x86_32 ? raw.r32.status : raw.r64.status;
			s = slot_of(q, id, &idx);
			if (!s)
				return -EPROTO; /* a response to nothing we asked */
			/* As Linux blkfront since XSA-376: the operation must echo ours. */
			if (!s->raw && (bf->x86_32 ? raw.r32.operation : raw.r64.operation) !=
					       s->operation)
				return -EPROTO;
			if (s->read && status == BLKIF_RSP_OKAY) {
				void *tmp_pages[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST *
						BLKIF_SEGS_PER_INDIRECT_FRAME];
				void *const *pages = (void *const *)s->pg;
				unsigned i;

				if (s->tmp_data) {
					for (i = 0; i < s->tmp_pages; i++)
						tmp_pages[i] = (char *)s->tmp_data + (size_t)i * PV_PAGE_SIZE;
					pages = tmp_pages;
				}
				bounce(pages, s->uiov, s->uiovcnt, s->len, false);
			}
			slot_release_tmp(bf, s);
			q->inflight--;
			slot_put(q, idx);
			done++;
			if (fn)
				fn(opaque, s->tag, status);
		}
	} while (pv_ring_front_final_check(&q->r.front));
	return done;
}

int blkfront_complete_all(struct blkfront *bf, blkfront_done_fn *fn, void *opaque)
{
	unsigned q;
	int n, done = 0;

	for (q = 0; q < bf->info.nr_queues; q++) {
		n = blkfront_complete(bf, q, fn, opaque);
		if (n < 0)
			return n;
		done += n;
	}
	return done;
}

unsigned blkfront_inflight_total(const struct blkfront *bf)
{
	unsigned q, n = 0;

	for (q = 0; q < bf->info.nr_queues; q++)
		n += bf->q[q].inflight;
	return n;
}

int blkfront_wait(struct blkfront *bf, int timeout_ms)
{
	struct pollfd pfd = { .fd = pv_hv_evtchn_fd(bf->hv), .events = POLLIN };
	unsigned i;
	int port, rc;

	/* Push every queue's requests first: returning early would leave a
	 * later queue's requests invisible to the backend. */
	for (i = 0; i < bf->info.nr_queues; i++)
		blkfront_kick(bf, i);
	for (i = 0; i < bf->info.nr_queues; i++) {
		/* Responses already there: don't sleep. */
		if (bf->q[i].r.front.sring->rsp_prod != bf->q[i].r.front.rsp_cons)
			return 0;
	}
	rc = poll(&pfd, 1, timeout_ms);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	/* Our handle holds one port per queue and a fired port comes out once
	 * until unmasked: stop after nr_queues, without an -EAGAIN round. */
	for (i = 0; i < bf->info.nr_queues; i++) {
		port = pv_hv_evtchn_pending(bf->hv);
		if (port < 0)
			break;
		pv_hv_evtchn_unmask(bf->hv, (uint32_t)port);
	}
	return 0;
}
