// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkif data path: one struct blk_queue per ring, each on its own thread
 * with its own pv_loop, pv_hv handle and I/O engine.  A drain copies every
 * request out of the shared ring once (pv_ring_back_copy_req), parses and
 * validates the private copy (request.c), maps the data pages (persistent
 * grant cache or one batched map per request) or, for frontends without
 * persistent grants, grant-copies them through the queue's bounce pool
 * (--grant-mode), queues the I/O, and
 * submits the whole batch once; completions are answered in bulk with one
 * push and at most one notify.  Barriers drain the queue before and block
 * it until done.  A protocol violation marks the queue dead and asks the
 * xenbus thread to disconnect the device; a bad request only gets
 * BLKIF_RSP_ERROR.  Never calls xenstore.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blkback.h"

struct blk_ctx {
	struct blk_queue *q;
	struct blk_req req;
	struct blk_io_req io;
	uint64_t start_ns;
	void *map_addr;          /* batched mapping of all data pages, or NULL */
	unsigned map_count;
	struct blk_pgrant **pgs; /* persistent mappings held, nr_pgs of them */
	unsigned nr_pgs;
	void *bounce;            /* this slot's bounce pages when copying, else NULL */
	bool copy_back;          /* a read through bounce: copy to the guest when done */
	uint32_t *refs;
	struct iovec *iov;
	struct blk_ctx *next_free; /* free list, or answered-not-pushed list */
};

struct blk_queue {
	struct blk_vbd *vbd;
	char name[64];           /* log prefix: vbd-D-N/qI */
	unsigned idx;
	uint16_t domid;
	enum blk_abi abi;
	bool persistent;
	struct pv_hv *hv;
	struct pv_loop *loop;
	pthread_t thread;
	bool thread_started;
	void *ring_addr;
	unsigned nr_ring_pages;
	struct pv_ring_back ring;
	int port;                /* local event channel port, -1 when unbound */
	struct blk_io *io;
	struct blk_ctx *ctxs;
	unsigned nr_ctxs, max_segs;
	struct blk_ctx *free_ctx;
	struct blk_ctx *answered; /* responses written, not pushed: not reusable yet */
	struct blk_journal *journal; /* in-flight records (journal.c), or NULL */
	unsigned *reissue;       /* slots a restart owes (journal), dispatched first */
	unsigned nr_reissue, reissue_next;
	unsigned fault_seq;      /* PVBACK_BLK_FAULT=stall-io */
	void *ctx_mem;
	unsigned inflight;       /* requests handed to the I/O engine */
	unsigned unsubmitted;    /* queued to the engine since its last submit */
	struct blk_ctx *barrier; /* a barrier blocks the ring until it completes */
	bool barrier_submitted;
	bool stopping, dead;
	RING_IDX stop_prod;      /* stopping: consume up to here (pushed before the stop) */
	bool need_push;
	bool pgc_ready;
	bool fixed_bufs;         /* persistent pages are the engine's registered buffers */
	bool fixed_refused;      /* a registration failed (logged once) */
	struct blk_pgrant_cache pgc;
	unsigned copy_max_segs;  /* grant-copy requests up to this many segments */
	void *bounce_mem;        /* nr_ctxs x copy_max_segs pages, NULL if none */
	size_t bounce_size;
	struct pv_hv_copy_seg *copy_segs; /* scratch, max_segs entries */
	int64_t purge_timer;
	unsigned bad_logged;     /* rate limit for bad-request warnings */
	struct blk_stats st;
};

static void queue_run(struct blk_queue *q);

static void violation(struct blk_queue *q, const char *reason)
{
	if (q->dead)
		return;
	q->dead = true;
	pv_err(q->name, "protocol violation: %s; disconnecting", reason);
	pv_xb_dev_request_disconnect(q->vbd->dev, reason);
}

static void bad_request(struct blk_queue *q, const struct blk_req *req, const char *why)
{
	if (q->bad_logged < 16) {
		q->bad_logged++;
		pv_warn(q->name, "bad request id %llu op %u: %s", (unsigned long long)req->id,
			req->operation, why);
	} else {
		pv_debug(q->name, "bad request id %llu op %u: %s", (unsigned long long)req->id,
			 req->operation, why);
	}
}

static void ctx_put(struct blk_queue *q, struct blk_ctx *ctx)
{
	ctx->next_free = q->free_ctx;
	q->free_ctx = ctx;
}

/* A context is reused only once its response is visible: until then the
 * journal must keep its record (a restart re-issues what was not pushed). */
static void flush_responses(struct blk_queue *q)
{
	struct blk_ctx *ctx, *next;

	if (!q->need_push)
		return;
	q->need_push = false;
	if (pv_ring_back_push(&q->ring))
		pv_hv_evtchn_notify(q->hv, (uint32_t)q->port);
	for (ctx = q->answered; ctx; ctx = next) {
		next = ctx->next_free;
		if (q->journal)
			blk_journal_released(q->journal, (unsigned)(ctx - q->ctxs));
		ctx_put(q, ctx);
	}
	q->answered = NULL;
}

static void respond(struct blk_queue *q, struct blk_ctx *ctx, int16_t status)
{
	/* Linux blkfront (and blkback) answer an indirect request with its
	 * indirect_op, not BLKIF_OP_INDIRECT: req.op is that effective op. */
	RING_IDX rsp_idx = q->ring.rsp_prod_pvt;

	blk_rsp_write(q->abi, pv_ring_back_rsp_slot(&q->ring), ctx->req.id, ctx->req.op, status);
	if (q->journal)
		blk_journal_answered(q->journal, (unsigned)(ctx - q->ctxs), rsp_idx);
	q->need_push = true;
	if (status == BLKIF_RSP_ERROR)
		q->st.errors++;
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		q->st.eopnotsupp++;
	ctx->next_free = q->answered;
	q->answered = ctx;
}

/* The request's segments packed back to back in ctx->bounce, as copy segments. */
static unsigned copy_segs(struct blk_queue *q, struct blk_ctx *ctx, bool to_guest)
{
	const struct blk_req *req = &ctx->req;
	char *b = ctx->bounce;
	unsigned i;

	for (i = 0; i < req->nr_segs; i++) {
		uint16_t len = (uint16_t)((req->seg[i].last_sect - req->seg[i].first_sect + 1) *
					  BLK_SECTOR_SIZE);

		q->copy_segs[i] = (struct pv_hv_copy_seg){
			.ref = req->seg[i].gref,
			.domid = q->domid,
			.offset = (uint16_t)(req->seg[i].first_sect * BLK_SECTOR_SIZE),
			.local = b,
			.len = len,
			.to_guest = to_guest,
		};
		b += len;
	}
	return req->nr_segs;
}

static void unmap_data(struct blk_queue *q, struct blk_ctx *ctx)
{
	uint64_t now = 0;
	unsigned i;

	if (ctx->nr_pgs)
		now = pv_now_ns();
	for (i = 0; i < ctx->nr_pgs; i++)
		blk_pgrant_put(&q->pgc, ctx->pgs[i], now);
	ctx->nr_pgs = 0;
	if (ctx->map_addr) {
		pv_hv_unmap(q->hv, ctx->map_addr, ctx->map_count);
		ctx->map_addr = NULL;
	}
}

static void maybe_finish(struct blk_queue *q)
{
	if (q->stopping && !q->inflight && !q->barrier &&
	    (q->dead || q->ring.req_cons == q->stop_prod))
		pv_loop_stop(q->loop);
}

static void submit_ctx(struct blk_queue *q, struct blk_ctx *ctx)
{
	int rc;

	q->inflight++;
	/* Testing a restart after a kill: every other request stays in flight
	 * for ever, the others complete (out of order, as real I/O does). */
	if (q->vbd->cfg->fault_stall_io && !(q->fault_seq++ & 1))
		return;
	q->unsubmitted++;
	rc = blk_io_queue(q->io, &ctx->io);
	if (rc < 0)
		blk_io_complete_later(q->io, &ctx->io, rc);
	else if (ctx->io.fixed)
		q->st.io_fixed++;
	else if (ctx->io.op == BLK_IO_READ || ctx->io.op == BLK_IO_WRITE)
		q->st.io_vec++;
}

static void io_done(struct blk_io_req *r, void *opaque)
{
	struct blk_queue *q = opaque;
	struct blk_ctx *ctx = (struct blk_ctx *)((char *)r - offsetof(struct blk_ctx, io));
	int16_t status = BLKIF_RSP_OKAY;

	if (ctx->bounce) {
		/* A failed read copies nothing: the guest's pages stay as they were. */
		if (ctx->copy_back && r->res >= 0 &&
		    pv_hv_copy(q->hv, copy_segs(q, ctx, true), q->copy_segs) < 0)
			r->res = -EFAULT;
		ctx->bounce = NULL;
	}
	unmap_data(q, ctx);
	if (r->res == -EOPNOTSUPP)
		status = BLKIF_RSP_EOPNOTSUPP;
	else if (r->res < 0)
		status = BLKIF_RSP_ERROR;
	if (r->res < 0 && r->res != -EOPNOTSUPP)
		pv_warn(q->name, "I/O error on request id %llu: %s", (unsigned long long)ctx->req.id,
			strerror(-r->res));
	pv_stats_hist_add(&q->st.lat, pv_now_ns() - ctx->start_ns);
	q->inflight--;
	if (ctx == q->barrier) {
		q->barrier = NULL;
		q->barrier_submitted = false;
	}
	respond(q, ctx, status);
	if (q->barrier && !q->barrier_submitted && !q->inflight) {
		/* Everything before the barrier is done: now the barrier itself. */
		q->barrier_submitted = true;
		submit_ctx(q, q->barrier);
	}
}

/* Copy the segment list out of the indirect pages once, by grant copy. */
static int load_indirect(struct blk_queue *q, struct blk_req *req)
{
	struct pv_hv_copy_seg segs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned i, left = req->nr_segs;

	for (i = 0; i < req->nr_indirect; i++) {
		unsigned n = left < BLKIF_SEGS_PER_INDIRECT_FRAME ? left : BLKIF_SEGS_PER_INDIRECT_FRAME;

		segs[i] = (struct pv_hv_copy_seg){
			.ref = req->indirect_grefs[i],
			.domid = q->domid,
			.offset = 0,
			.local = &req->seg[i * BLKIF_SEGS_PER_INDIRECT_FRAME],
			.len = (uint16_t)(n * sizeof(req->seg[0])),
			.to_guest = false,
		};
		left -= n;
	}
	return pv_hv_copy(q->hv, req->nr_indirect, segs);
}

/* Grant copy instead of mapping: writes are copied in now, reads copied out
 * in io_done.  One iovec over the packed (page-aligned) bounce pages. */
static int copy_in_data(struct blk_queue *q, struct blk_ctx *ctx)
{
	struct blk_req *req = &ctx->req;
	struct blk_backing *bs = &q->vbd->bs;
	int rc;

	ctx->bounce = (char *)q->bounce_mem +
		      (size_t)(ctx - q->ctxs) * q->copy_max_segs * PV_PAGE_SIZE;
	ctx->copy_back = req->op == BLKIF_OP_READ;
	if (!ctx->copy_back) {
		rc = pv_hv_copy(q->hv, copy_segs(q, ctx, false), q->copy_segs);
		if (rc < 0) {
			ctx->bounce = NULL;
			return rc;
		}
	}
	ctx->iov[0].iov_base = ctx->bounce;
	ctx->iov[0].iov_len = ctx->io.len;
	ctx->io.iov = ctx->iov;
	ctx->io.iovcnt = 1;
	ctx->io.buffered = bs->direct && ((ctx->io.len | ctx->io.offset) & (bs->dio_align - 1));
	return 0;
}

static int map_data(struct blk_queue *q, struct blk_ctx *ctx)
{
	struct blk_req *req = &ctx->req;
	struct blk_backing *bs = &q->vbd->bs;
	unsigned i, n = req->nr_segs, cnt = 0;
	bool misaligned = false;
	uint64_t now;
	int rc;

	ctx->io.buf_index = -1;
	if (n <= q->copy_max_segs)
		return copy_in_data(q, ctx);
	if (q->persistent) {
		now = pv_now_ns();
		for (i = 0; i < n; i++) {
			rc = blk_pgrant_get(&q->pgc, req->seg[i].gref, now, &ctx->pgs[i]);
			if (rc < 0)
				break;
			ctx->nr_pgs++;
		}
		if (i < n)
			unmap_data(q, ctx); /* full or unmappable: map this one in a batch */
	}
	if (!ctx->nr_pgs) {
		for (i = 0; i < n; i++)
			ctx->refs[i] = req->seg[i].gref;
		/* A read writes guest memory: only then do we need a writable map. */
		rc = pv_hv_map(q->hv, q->domid, n, ctx->refs, req->op == BLKIF_OP_READ,
			       &ctx->map_addr);
		if (rc < 0)
			return rc;
		ctx->map_count = n;
	}
	for (i = 0; i < n; i++) {
		char *page = ctx->nr_pgs ? ctx->pgs[i]->addr :
					   (char *)ctx->map_addr + (size_t)i * PV_PAGE_SIZE;
		char *base = page + req->seg[i].first_sect * BLK_SECTOR_SIZE;
		size_t len = (size_t)(req->seg[i].last_sect - req->seg[i].first_sect + 1) *
			     BLK_SECTOR_SIZE;

		if (cnt && (char *)ctx->iov[cnt - 1].iov_base + ctx->iov[cnt - 1].iov_len == base) {
			ctx->iov[cnt - 1].iov_len += len;
			continue;
		}
		ctx->iov[cnt].iov_base = base;
		ctx->iov[cnt].iov_len = len;
		cnt++;
	}
	if (bs->direct) {
		for (i = 0; i < cnt; i++)
			if (((uintptr_t)ctx->iov[i].iov_base | ctx->iov[i].iov_len) & (bs->dio_align - 1))
				misaligned = true;
		if (ctx->io.offset & (bs->dio_align - 1))
			misaligned = true;
	}
	/* All of it in one persistent page (one segment, or adjacent ones of
	 * the same grant): the engine can use that page's registered buffer. */
	if (q->fixed_bufs && cnt == 1 && ctx->nr_pgs) {
		for (i = 1; i < ctx->nr_pgs && ctx->pgs[i] == ctx->pgs[0]; i++)
			;
		if (i == ctx->nr_pgs)
			ctx->io.buf_index = (int)ctx->pgs[0]->slot;
	}
	ctx->io.iov = ctx->iov;
	ctx->io.iovcnt = cnt;
	ctx->io.buffered = misaligned;
	return 0;
}

static void dispatch(struct blk_queue *q, struct blk_ctx *ctx)
{
	struct blk_req *req = &ctx->req;
	const char *why = NULL;
	int rc;

	ctx->start_ns = pv_now_ns();
	rc = blk_req_validate(&q->vbd->lim, req, &why);
	if (rc == -EOPNOTSUPP) {
		pv_debug(q->name, "request id %llu: %s", (unsigned long long)req->id, why);
		respond(q, ctx, BLKIF_RSP_EOPNOTSUPP);
		return;
	}
	if (rc < 0) {
		bad_request(q, req, why);
		respond(q, ctx, BLKIF_RSP_ERROR);
		return;
	}
	if (req->indirect && load_indirect(q, req) < 0) {
		violation(q, "bad indirect page grant");
		respond(q, ctx, BLKIF_RSP_ERROR);
		return;
	}
	rc = blk_req_validate_segs(&q->vbd->lim, req, &why);
	if (rc < 0) {
		bad_request(q, req, why);
		respond(q, ctx, BLKIF_RSP_ERROR);
		return;
	}

	ctx->io = (struct blk_io_req){
		.offset = req->sector << BLK_SECTOR_SHIFT,
		.len = req->nr_sectors << BLK_SECTOR_SHIFT,
	};
	switch (req->op) {
	case BLKIF_OP_READ:
		ctx->io.op = BLK_IO_READ;
		q->st.rd_req++;
		q->st.rd_sect += req->nr_sectors;
		break;
	case BLKIF_OP_WRITE:
		ctx->io.op = BLK_IO_WRITE;
		q->st.wr_req++;
		q->st.wr_sect += req->nr_sectors;
		break;
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		q->st.f_req++;
		if (req->nr_segs) {
			/* Data with a flush: written, then made durable, then answered. */
			ctx->io.op = BLK_IO_WRITE;
			ctx->io.flush_after = true;
			q->st.wr_sect += req->nr_sectors;
		} else {
			ctx->io.op = BLK_IO_FLUSH;
		}
		break;
	case BLKIF_OP_DISCARD:
		ctx->io.op = BLK_IO_DISCARD;
		ctx->io.secure = req->secure && q->vbd->bs.can_secure;
		q->st.ds_req++;
		break;
	}
	if (req->nr_segs && req->op != BLKIF_OP_DISCARD) {
		rc = map_data(q, ctx);
		if (rc < 0) {
			bad_request(q, req, "data grant refused");
			respond(q, ctx, BLKIF_RSP_ERROR);
			return;
		}
	}
	if (req->op == BLKIF_OP_WRITE_BARRIER) {
		/* Drain: everything before the barrier completes first. */
		q->barrier = ctx;
		q->barrier_submitted = !q->inflight;
		if (q->barrier_submitted)
			submit_ctx(q, ctx);
		return;
	}
	submit_ctx(q, ctx);
}

/* A restart after a kill: what the predecessor owed goes first, in ring
 * order, from the journal's copies (their contexts were kept off the free
 * list).  Stops at a barrier like drain.  True when none is left. */
static bool reissue(struct blk_queue *q)
{
	while (q->reissue_next < q->nr_reissue) {
		unsigned slot = q->reissue[q->reissue_next];
		struct blk_ctx *ctx = &q->ctxs[slot];

		if (q->dead || q->barrier)
			return false;
		q->reissue_next++;
		blk_req_parse(q->abi, blk_journal_entry(q->journal, slot), &ctx->req);
		dispatch(q, ctx);
	}
	return true;
}

/* Returns true when the ring was emptied (so final_check applies). */
static bool drain(struct blk_queue *q)
{
	union {
		uint8_t b[BLKIF_MAX_ENT_SIZE];
		uint64_t align;
	} raw;
	size_t ent_size = q->ring.ent_size;
	RING_IDX rp;
	int n;

	if (q->dead || q->barrier || !reissue(q))
		return false;
	if (q->stopping) {
		/* Only what the frontend pushed before the stop; then no more. */
		if (q->ring.req_cons == q->stop_prod)
			return false;
		rp = q->stop_prod;
	} else {
		n = pv_ring_back_avail(&q->ring, &rp);
		if (n < 0) {
			violation(q, "ring producer overflow (req_prod beyond the free slots)");
			return false;
		}
	}
	while (q->ring.req_cons != rp) {
		struct blk_ctx *ctx = q->free_ctx;

		if (q->dead || q->barrier)
			return false;
		if (!ctx) {
			q->st.oo_req++;
			return false;
		}
		q->free_ctx = ctx->next_free;
		pv_ring_back_copy_req(&q->ring, &raw, ent_size);
		if (q->journal)
			blk_journal_consumed(q->journal, (unsigned)(ctx - q->ctxs), q->ring.req_cons - 1,
					     &raw, ent_size);
		blk_req_parse(q->abi, &raw, &ctx->req);
		dispatch(q, ctx);
	}
	return true;
}

/* Submit the batch and collect what finished; completions may release a
 * barrier, which queues more, so go round until nothing new was queued. */
static void pump(struct blk_queue *q)
{
	do {
		if (q->unsubmitted) {
			q->unsubmitted = 0;
			blk_io_submit(q->io);
		}
		blk_io_reap(q->io); /* page-cache hits and the sync engine finish inline */
	} while (q->unsubmitted);
	flush_responses(q);
}

static void queue_run(struct blk_queue *q)
{
	bool emptied;

	for (;;) {
		emptied = drain(q);
		pump(q);
		if (emptied) {
			if (!pv_ring_back_final_check(&q->ring))
				break;
			continue;
		}
		/* drain stopped early: go on only if what stopped it is gone. */
		if (q->dead || q->stopping || q->barrier || !q->free_ctx)
			break;
	}
	maybe_finish(q);
}

static void on_evtchn(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct blk_queue *q = opaque;
	int port;

	/* The handle holds this queue's port only, and a fired port comes out
	 * once until unmasked: one pending() per wake-up, no -EAGAIN round. */
	port = pv_hv_evtchn_pending(q->hv);
	if (port >= 0)
		pv_hv_evtchn_unmask(q->hv, (uint32_t)port);
	queue_run(q);
}

static void on_io(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct blk_queue *q = opaque;
	uint64_t cnt;

	/* EAGAIN: spurious wake-up; reap anyway. */
	if (q->io->efd_counter && read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		pv_debug(q->name, "completion eventfd: %s", strerror(errno));
	pump(q);
	/* Completions free slots and may end a barrier: the ring may move again. */
	queue_run(q);
}

/* Adaptive polling: true while there was work, so the loop keeps spinning. */
static bool queue_poll(void *opaque)
{
	struct blk_queue *q = opaque;
	bool busy = false;

	if (blk_io_reap(q->io) > 0) {
		pump(q);
		busy = true;
	}
	if (!q->dead && !q->stopping && !q->barrier && q->ring.sring->req_prod != q->ring.req_cons) {
		queue_run(q);
		busy = true;
	}
	return busy;
}

static void on_purge(struct pv_loop *loop, void *opaque)
{
	struct blk_queue *q = opaque;

	blk_pgrant_purge(&q->pgc, pv_now_ns(), BLK_PGRANT_IDLE_NS);
	q->purge_timer = pv_loop_add_timer(loop, BLK_PGRANT_PURGE_MS, on_purge, q);
}

static void on_kick(void *opaque)
{
	queue_run(opaque);
}

static void on_stop(void *opaque)
{
	struct blk_queue *q = opaque;
	RING_IDX rp;

	/* Requests pushed before the frontend closed (or before SIGTERM) are
	 * still answered: consume up to the producer index seen now, no further
	 * (a frontend that keeps pushing cannot hold the stop up). */
	q->stop_prod = q->ring.req_cons;
	if (!q->dead && pv_ring_back_avail(&q->ring, &rp) >= 0)
		q->stop_prod = rp;
	q->stopping = true;
	queue_run(q); /* ends with maybe_finish */
}

static void *queue_thread(void *opaque)
{
	struct blk_queue *q = opaque;
	char tname[32];

	/* Thread names are 15 bytes at most: "blk<domid>q<idx>". */
	snprintf(tname, sizeof(tname), "blk%uq%u", q->domid, q->idx);
	tname[15] = 0;
	pthread_setname_np(pthread_self(), tname);
	pv_loop_run(q->loop);
	return NULL;
}

/* A persistent page also becomes the engine's registered buffer `slot`
 * (io_uring fixed buffer); when the kernel refuses, that page's I/O keeps
 * using readv/writev. */
static int pg_map(void *opaque, uint32_t ref, unsigned slot, void **addr)
{
	struct blk_queue *q = opaque;
	int rc = pv_hv_map(q->hv, q->domid, 1, &ref, true, addr);

	if (rc == 0 && q->fixed_bufs) {
		int reg = blk_io_reg_buf(q->io, slot, *addr, PV_PAGE_SIZE);

		if (reg < 0 && !q->fixed_refused) {
			q->fixed_refused = true;
			pv_debug(q->name, "registered buffer refused (%s): such pages use readv/writev",
				 strerror(-reg));
		}
	}
	return rc;
}

static void pg_unmap(void *opaque, unsigned slot, void *addr)
{
	struct blk_queue *q = opaque;

	/* The kernel must let go of the page before the grant goes. */
	if (q->fixed_bufs)
		blk_io_reg_buf(q->io, slot, NULL, 0);
	pv_hv_unmap(q->hv, addr, 1);
}

static const struct blk_pgrant_ops pg_ops = { .map = pg_map, .unmap = pg_unmap };

/* --fixed-bufs: auto is on for pvsim (guest RAM is a memfd, shmem, which
 * io_uring pins on every kernel) and off on Xen, where the pages are gntdev
 * mappings (docs/blkback.md says why).  One sparse table of max_pgrants
 * slots, filled by pg_map. */
static void fixed_bufs_start(struct blk_queue *q)
{
	const struct blk_config *cfg = q->vbd->cfg;
	int rc;

	if (cfg->fixed_bufs == BLK_FIXED_OFF ||
	    (cfg->fixed_bufs == BLK_FIXED_AUTO && cfg->hv_kind != PV_HV_SIM))
		return;
	rc = blk_io_reg_bufs(q->io, cfg->max_pgrants);
	if (rc < 0) {
		pv_debug(q->name, "no registered buffers (%s): persistent pages use readv/writev",
			 strerror(-rc));
		return;
	}
	q->fixed_bufs = true;
}

static int alloc_ctxs(struct blk_queue *q)
{
	unsigned i, n = q->nr_ctxs, s = q->max_segs;
	size_t per = s * (sizeof(struct blkif_request_segment) + sizeof(struct blk_pgrant *) +
			  sizeof(uint32_t) + sizeof(struct iovec));
	char *p;

	q->ctxs = calloc(n, sizeof(*q->ctxs));
	q->ctx_mem = calloc(n, per);
	if (!q->ctxs || !q->ctx_mem)
		return -ENOMEM;
	p = q->ctx_mem;
	for (i = 0; i < n; i++) {
		struct blk_ctx *c = &q->ctxs[i];

		c->q = q;
		c->iov = (struct iovec *)p;
		p += s * sizeof(struct iovec);
		c->pgs = (struct blk_pgrant **)p;
		p += s * sizeof(struct blk_pgrant *);
		c->req.seg = (struct blkif_request_segment *)p;
		p += s * sizeof(struct blkif_request_segment);
		c->refs = (uint32_t *)p;
		p += s * sizeof(uint32_t);
		ctx_put(q, c);
	}
	return 0;
}

/* Frontends with persistent grants keep mapping (their pages stay mapped);
 * the others copy requests up to copy_max_segs through per-slot bounce pages
 * reserved here and touched only when used. */
static int alloc_bounce(struct blk_queue *q, enum blk_grant_mode mode)
{
	void *m;

	if (q->persistent || mode == BLK_GRANT_MAP)
		return 0;
	q->copy_max_segs = q->max_segs;
	if (mode == BLK_GRANT_AUTO) {
		unsigned budget = BLK_BOUNCE_MAX_PAGES / q->nr_ctxs;

		if (budget < BLKIF_MAX_SEGMENTS_PER_REQUEST)
			budget = BLKIF_MAX_SEGMENTS_PER_REQUEST;
		if (q->copy_max_segs > BLK_AUTO_COPY_SEGS)
			q->copy_max_segs = BLK_AUTO_COPY_SEGS;
		if (q->copy_max_segs > budget)
			q->copy_max_segs = budget;
	}
	q->copy_segs = calloc(q->max_segs, sizeof(*q->copy_segs));
	if (!q->copy_segs)
		return -ENOMEM;
	q->bounce_size = (size_t)q->nr_ctxs * q->copy_max_segs * PV_PAGE_SIZE;
	m = mmap(NULL, q->bounce_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	q->bounce_mem = m;
	return 0;
}

/*
 * The queue's journal.  On a restart the predecessor's journal says what it
 * owed: those requests are re-issued first (their contexts stay off the free
 * list) and consuming goes on where it stopped.  Without one (first start, a
 * predecessor stopped by SIGTERM answers everything and removes its journal,
 * or a journal that is not this ring's) a restart resumes at rsp_prod.
 * No journal at all (no --state-dir, or it cannot be written) only loses
 * the protection against a kill.
 */
/* Take over the predecessor's journal: 1 when it applies (what it owes is
 * in q->reissue, those contexts off the free list), 0 when it does not. */
static int journal_resume(struct blk_queue *q, const char *path)
{
	RING_IDX cons;
	bool *owed;
	unsigned i;
	int rc;

	q->reissue = calloc(q->nr_ctxs, sizeof(*q->reissue));
	owed = calloc(q->nr_ctxs, sizeof(*owed));
	if (!q->reissue || !owed) {
		free(owed);
		return -ENOMEM; /* queue_free keeps the journal */
	}
	rc = blk_journal_recover(q->journal, q->ring.sring->rsp_prod, q->ring.sring->req_prod,
				 &cons, q->reissue, &q->nr_reissue);
	if (rc < 0) {
		free(owed);
		q->nr_reissue = 0;
		pv_warn(q->name, "journal %s disagrees with the ring: resuming at rsp_prod", path);
		blk_journal_close(q->journal, false);
		q->journal = NULL;
		return 0;
	}
	q->ring.req_cons = cons;
	for (i = 0; i < q->nr_reissue; i++)
		owed[q->reissue[i]] = true;
	q->free_ctx = NULL;
	for (i = 0; i < q->nr_ctxs; i++)
		if (!owed[i])
			ctx_put(q, &q->ctxs[i]);
	free(owed);
	pv_info(q->name, "journal: re-issuing %u request(s) the previous daemon left unanswered, "
		"consuming from ring index %u", q->nr_reissue, cons);
	return 1;
}

static int journal_start(struct blk_queue *q, const struct blk_queue_params *p)
{
	const char *dir = q->vbd->cfg->state_dir;
	struct blk_journal_id id = {
		.domid = p->domid,
		.evtchn = p->evtchn,
		.abi = p->abi,
		.nr_ring_pages = p->nr_ring_pages,
		.nr_slots = q->nr_ctxs,
		.ent_size = (uint32_t)q->ring.ent_size,
	};
	char path[PATH_MAX];
	int rc;

	if (p->resume)
		pv_ring_back_resume(&q->ring);
	if (!dir)
		return 0;
	memcpy(id.ring_refs, p->ring_refs, p->nr_ring_pages * sizeof(uint32_t));
	snprintf(path, sizeof(path), "%s/%s-q%u.journal", dir, q->vbd->name, q->idx);
	if (p->resume) {
		rc = blk_journal_reopen(path, &id, &q->journal);
		if (rc == 0)
			rc = journal_resume(q, path);
		else if (rc != -ENOENT)
			pv_warn(q->name, "journal %s: %s; resuming at rsp_prod", path, strerror(-rc));
		if (rc == 1 || rc == -ENOMEM)
			return rc < 0 ? rc : 0;
	}
	rc = blk_journal_create(path, &id, &q->journal);
	if (rc < 0) {
		q->journal = NULL;
		pv_warn(q->name, "cannot create journal %s: %s (in-flight requests would be lost if "
			"the daemon were killed)", path, strerror(-rc));
	}
	return 0;
}

static void queue_free(struct blk_queue *q)
{
	if (q->pgc_ready) {
		/* One unregistration of every page before the unmaps, not one each. */
		if (q->fixed_bufs)
			blk_io_reg_bufs(q->io, 0);
		q->fixed_bufs = false;
		blk_pgrant_fini(&q->pgc);
	}
	if (q->io && q->io->efd >= 0 && q->loop)
		pv_loop_del_fd(q->loop, q->io->efd);
	blk_io_destroy(q->io);
	if (q->loop && q->hv)
		pv_loop_del_fd(q->loop, pv_hv_evtchn_fd(q->hv));
	if (q->port >= 0)
		pv_hv_evtchn_close(q->hv, (uint32_t)q->port);
	if (q->ring_addr)
		pv_hv_unmap(q->hv, q->ring_addr, q->nr_ring_pages);
	if (q->loop)
		pv_loop_destroy(q->loop);
	if (q->hv)
		pv_hv_close(q->hv);
	if (q->bounce_mem)
		munmap(q->bounce_mem, q->bounce_size);
	/* Stopped after answering everything: nothing is owed, drop the file. */
	blk_journal_close(q->journal, q->thread_started && q->reissue_next == q->nr_reissue);
	free(q->reissue);
	free(q->copy_segs);
	free(q->ctxs);
	free(q->ctx_mem);
	free(q);
}

int blk_queue_start(struct blk_vbd *vbd, const struct blk_queue_params *p, struct blk_queue **out)
{
	struct blk_queue *q = calloc(1, sizeof(*q));
	const struct blk_config *cfg = vbd->cfg;
	int rc;

	if (!q)
		return -ENOMEM;
	q->vbd = vbd;
	q->idx = p->idx;
	q->domid = p->domid;
	q->abi = p->abi;
	q->persistent = p->persistent;
	q->port = -1;
	q->purge_timer = -1;
	q->nr_ring_pages = p->nr_ring_pages;
	snprintf(q->name, sizeof(q->name), "%s/q%u", vbd->name, p->idx);
	q->max_segs = vbd->lim.max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST ?
			      vbd->lim.max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;

	rc = pv_hv_open(cfg->hv_kind, &q->hv);
	if (rc < 0) {
		q->hv = NULL;
		goto fail;
	}
	rc = pv_hv_map(q->hv, p->domid, p->nr_ring_pages, p->ring_refs, true, &q->ring_addr);
	if (rc < 0) {
		q->ring_addr = NULL;
		pv_err(q->name, "cannot map the ring: %s", strerror(-rc));
		goto fail;
	}
	rc = pv_ring_back_init(&q->ring, q->ring_addr, (size_t)p->nr_ring_pages * PV_PAGE_SIZE,
			       blk_abi_ent_size(p->abi));
	if (rc < 0)
		goto fail;
	q->nr_ctxs = q->ring.nr_ents;
	rc = alloc_ctxs(q);
	if (rc < 0)
		goto fail;
	rc = journal_start(q, p);
	if (rc < 0)
		goto fail;
	rc = alloc_bounce(q, cfg->grant_mode);
	if (rc < 0)
		goto fail;
	rc = pv_hv_evtchn_bind(q->hv, p->domid, p->evtchn);
	if (rc < 0) {
		pv_err(q->name, "cannot bind event channel %u: %s", p->evtchn, strerror(-rc));
		goto fail;
	}
	q->port = rc;
	rc = pv_loop_create(&q->loop);
	if (rc < 0) {
		q->loop = NULL;
		goto fail;
	}
	rc = pv_loop_add_fd(q->loop, pv_hv_evtchn_fd(q->hv), PV_LOOP_IN, on_evtchn, q);
	if (rc < 0)
		goto fail;
	rc = blk_io_create(cfg->io_kind, &vbd->bs, q->nr_ctxs, io_done, q, &q->io);
	if (rc < 0) {
		q->io = NULL;
		pv_err(q->name, "cannot create the I/O engine: %s", strerror(-rc));
		goto fail;
	}
	if (q->io->efd >= 0) {
		rc = pv_loop_add_fd(q->loop, q->io->efd, PV_LOOP_IN, on_io, q);
		if (rc < 0)
			goto fail;
	}
	if (q->persistent) {
		rc = blk_pgrant_init(&q->pgc, cfg->max_pgrants, &pg_ops, q);
		if (rc < 0)
			goto fail;
		q->pgc_ready = true;
		fixed_bufs_start(q);
		q->purge_timer = pv_loop_add_timer(q->loop, BLK_PGRANT_PURGE_MS, on_purge, q);
	}
	if (cfg->poll_us)
		pv_loop_set_poll(q->loop, queue_poll, q, cfg->poll_us);
	/* Requests may be waiting already: look once when the thread starts. */
	rc = pv_loop_call(q->loop, on_kick, q);
	if (rc < 0)
		goto fail;
	rc = -pthread_create(&q->thread, NULL, queue_thread, q);
	if (rc < 0)
		goto fail;
	q->thread_started = true;
	pv_info(q->name, "%s %u page(s), %u slots, %s ABI, event channel %u, io %s%s%s%s",
		p->resume ? "re-attached ring" : "ring",
		p->nr_ring_pages, q->ring.nr_ents, p->abi == BLK_ABI_X86_32 ? "x86_32" : "native",
		p->evtchn, q->io->ops->name, q->persistent ? ", persistent grants" : "",
		q->copy_max_segs ? ", grant copy" : "", cfg->poll_us ? ", polling" : "");
	if (q->copy_max_segs)
		pv_debug(q->name, "grant copy up to %u segments, bounce pool %zu KiB",
			 q->copy_max_segs, q->bounce_size >> 10);
	*out = q;
	return 0;
fail:
	queue_free(q);
	return rc;
}

void blk_queue_stop(struct blk_queue *q)
{
	if (q->thread_started) {
		if (pv_loop_call(q->loop, on_stop, q) == 0)
			pthread_join(q->thread, NULL);
		else
			pv_err(q->name, "cannot stop the queue thread");
	}
	/* The thread is gone: this thread owns the loop, hv and engine now. */
	blk_stats_add(&q->vbd->past, &q->st);
	pv_info(q->name, "stopped: rd %llu wr %llu flush %llu discard %llu errors %llu",
		(unsigned long long)q->st.rd_req, (unsigned long long)q->st.wr_req,
		(unsigned long long)q->st.f_req, (unsigned long long)q->st.ds_req,
		(unsigned long long)q->st.errors);
	queue_free(q);
}

void blk_queue_stats(struct blk_queue *q, struct blk_queue_info *out)
{
	*out = (struct blk_queue_info){
		.st = q->st,
		.pgrants = __atomic_load_n(&q->pgc.count, __ATOMIC_RELAXED),
		.pgrants_max = q->persistent ? q->pgc.max : 0,
		.pgrant_hits = __atomic_load_n(&q->pgc.hits, __ATOMIC_RELAXED),
		.pgrant_misses = __atomic_load_n(&q->pgc.misses, __ATOMIC_RELAXED),
		.inflight = __atomic_load_n(&q->inflight, __ATOMIC_RELAXED),
		.ring_slots = q->ring.nr_ents,
		.persistent = q->persistent,
	};
}

void blk_stats_add(struct blk_stats *dst, const struct blk_stats *src)
{
	dst->oo_req += src->oo_req;
	dst->rd_req += src->rd_req;
	dst->wr_req += src->wr_req;
	dst->f_req += src->f_req;
	dst->ds_req += src->ds_req;
	dst->rd_sect += src->rd_sect;
	dst->wr_sect += src->wr_sect;
	dst->errors += src->errors;
	dst->eopnotsupp += src->eopnotsupp;
	dst->io_fixed += src->io_fixed;
	dst->io_vec += src->io_vec;
	pv_stats_hist_merge(&dst->lat, &src->lat);
}
