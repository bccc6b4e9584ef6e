// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkif data path on a pv_queue (common/queue.c owns the thread, the ring,
 * the event channel, the slots, the stop protocol and the restart
 * journal).  Per request, in its slot's struct blk_ctx: parse and validate
 * the private copy (request.c), map the data pages (persistent grant cache
 * or one batched map per request) or, for frontends without persistent
 * grants, grant-copy them through the queue's bounce pool (--grant-mode),
 * queue the I/O, and submit the whole batch once; completions are answered
 * in bulk (pv_queue_flush: one push, at most one notify).  Barriers drain
 * the queue before and block it until done.  A protocol violation makes
 * the pv_queue disconnect the device; a bad request only gets
 * BLKIF_RSP_ERROR.  Never calls xenstore.
 */
#include <errno.h>
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
	struct pv_gcache_ent **pgs; /* persistent mappings held, nr_pgs of them */
	unsigned nr_pgs;
	void *bounce;            /* this slot's bounce pages when copying, else NULL */
	bool copy_back;          /* a read through bounce: copy to the guest when done */
	uint32_t *refs;
	struct iovec *iov;
};

struct blk_queue {
	struct pv_queue *pq;
	struct blk_vbd *vbd;
	const char *name;        /* log prefix: vbd-D-N/qI (the pv_queue's) */
	uint16_t domid;
	enum blk_abi abi;
	bool persistent;
	struct pv_hv *hv;        /* the queue thread's (pv_queue_hv) */
	struct blk_io *io;
	unsigned nr_ctxs, max_segs;
	unsigned fault_seq;      /* PVBACK_BLK_FAULT=stall-io */
	void *ctx_mem;
	unsigned inflight;       /* requests handed to the I/O engine */
	unsigned unsubmitted;    /* queued to the engine since its last submit */
	struct blk_ctx *barrier; /* a barrier blocks the ring until it completes */
	bool barrier_submitted;
	/* The mapping budget (common/budget.c): a request it cannot map yet
	 * waits here, and the ring with it, until completions give back. */
	struct pv_budget_user budget;
	bool budget_ready;
	struct blk_ctx *parked;
	uint64_t completed;      /* I/O completions, to see whether any came */
	bool pgc_ready;
	bool fixed_bufs;         /* persistent pages are the engine's registered buffers */
	bool fixed_refused;      /* a registration failed (logged once) */
	bool io_in_loop;         /* io->efd is in the queue's loop */
	int io_fd;               /* as io_fd (an engine may change efd: NBD reconnects) */
	uint32_t io_events;      /* for what */
	struct pv_gcache pgc;
	unsigned copy_max_segs;  /* grant-copy requests up to this many segments */
	void *bounce_mem;        /* nr_ctxs x copy_max_segs pages, NULL if none */
	size_t bounce_size;
	struct pv_copy_batch copy; /* data and indirect pages */
	int64_t purge_timer;
	struct blk_stats st;
};

static struct blk_ctx *ctx_at(struct blk_queue *q, unsigned i)
{
	return pv_queue_slot(q->pq, 0, i);
}

static void respond(struct blk_queue *q, struct blk_ctx *ctx, int16_t status)
{
	/* Linux blkfront (and blkback) answer an indirect request with its
	 * indirect_op, not BLKIF_OP_INDIRECT: req.op is that effective op. */
	blk_rsp_write(q->abi, pv_queue_answer(q->pq, 0, ctx), ctx->req.id, ctx->req.op, status);
	if (status == BLKIF_RSP_ERROR)
		q->st.errors++;
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		q->st.eopnotsupp++;
}

/* Grant-copy the request's segments, packed back to back in ctx->bounce,
 * in one batch.  0 or the first failing segment's -errno. */
static int copy_data(struct blk_queue *q, struct blk_ctx *ctx, bool to_guest)
{
	const struct blk_req *req = &ctx->req;
	char *b = ctx->bounce;
	unsigned i;

	for (i = 0; i < req->nr_segs; i++) {
		struct pv_hv_copy_seg seg = {
			.ref = req->seg[i].gref,
			.domid = q->domid,
			.offset = (uint16_t)(req->seg[i].first_sect * BLK_SECTOR_SIZE),
			.local = b,
			.len = (uint16_t)((req->seg[i].last_sect - req->seg[i].first_sect + 1) *
					  BLK_SECTOR_SIZE),
			.to_guest = to_guest,
		};

		pv_copy_batch_add(&q->copy, &seg, ctx);
		b += seg.len;
	}
	return pv_copy_batch_flush(&q->copy);
}

static void unmap_data(struct blk_queue *q, struct blk_ctx *ctx)
{
	uint64_t now = 0;
	unsigned i;

	if (ctx->nr_pgs)
		now = pv_now_ns();
	for (i = 0; i < ctx->nr_pgs; i++)
		pv_gcache_put(&q->pgc, ctx->pgs[i], now);
	ctx->nr_pgs = 0;
	if (ctx->map_addr) {
		pv_hv_unmap(q->hv, ctx->map_addr, ctx->map_count);
		pv_budget_give(&q->budget, ctx->map_count);
		ctx->map_addr = NULL;
	}
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

static const char *op_name(uint8_t op)
{
	switch (op) {
	case BLKIF_OP_READ:
		return "read";
	case BLKIF_OP_WRITE:
		return "write";
	case BLKIF_OP_FLUSH_DISKCACHE:
		return "flush";
	case BLKIF_OP_WRITE_BARRIER:
		return "barrier";
	case BLKIF_OP_DISCARD:
		return "discard";
	}
	return "?";
}

static void io_done(struct blk_io_req *r, void *opaque)
{
	struct blk_queue *q = opaque;
	struct blk_ctx *ctx = (struct blk_ctx *)((char *)r - offsetof(struct blk_ctx, io));
	int16_t status = BLKIF_RSP_OKAY;

	if (ctx->bounce) {
		/* A failed read copies nothing: the guest's pages stay as they were. */
		if (ctx->copy_back && r->res >= 0 && copy_data(q, ctx, true) < 0)
			r->res = -EFAULT;
		ctx->bounce = NULL;
	}
	unmap_data(q, ctx);
	if (r->res == -EOPNOTSUPP)
		status = BLKIF_RSP_EOPNOTSUPP;
	else if (r->res < 0)
		status = BLKIF_RSP_ERROR;
	if (r->res < 0 && r->res != -EOPNOTSUPP)
		pv_queue_log(q->pq, PV_LOG_WARN, "I/O error on request id %llu (%s): %s",
			     (unsigned long long)ctx->req.id, op_name(ctx->req.op),
			     strerror(-r->res));
	pv_stats_hist_add(&q->st.lat, pv_now_ns() - ctx->start_ns);
	q->inflight--;
	q->completed++;
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
	unsigned i, left = req->nr_segs;

	for (i = 0; i < req->nr_indirect; i++) {
		unsigned n = left < BLKIF_SEGS_PER_INDIRECT_FRAME ? left : BLKIF_SEGS_PER_INDIRECT_FRAME;
		struct pv_hv_copy_seg seg = {
			.ref = req->indirect_grefs[i],
			.domid = q->domid,
			.offset = 0,
			.local = &req->seg[i * BLKIF_SEGS_PER_INDIRECT_FRAME],
			.len = (uint16_t)(n * sizeof(req->seg[0])),
			.to_guest = false,
		};

		pv_copy_batch_add(&q->copy, &seg, req);
		left -= n;
	}
	return pv_copy_batch_flush(&q->copy);
}

/* Grant copy instead of mapping: writes are copied in now, reads copied out
 * in io_done.  One iovec over the packed (page-aligned) bounce pages. */
static int copy_in_data(struct blk_queue *q, struct blk_ctx *ctx)
{
	struct blk_req *req = &ctx->req;
	struct blk_backing *bs = &q->vbd->bs;
	int rc;

	ctx->bounce = (char *)q->bounce_mem +
		      (size_t)pv_queue_slot_index(q->pq, 0, ctx) * q->copy_max_segs * PV_PAGE_SIZE;
	ctx->copy_back = req->op == BLKIF_OP_READ;
	if (!ctx->copy_back) {
		rc = copy_data(q, ctx, false);
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
			rc = pv_gcache_get(&q->pgc, req->seg[i].gref, now, &ctx->pgs[i]);
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
		if (!pv_budget_take(&q->budget, n))
			return -EAGAIN; /* the caller parks it until completions give back */
		/* A read writes guest memory: only then do we need a writable map. */
		rc = pv_hv_map(q->hv, q->domid, n, ctx->refs, req->op == BLKIF_OP_READ,
			       &ctx->map_addr);
		if (rc < 0) {
			pv_budget_give(&q->budget, n);
			return rc;
		}
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

static void start_io(struct blk_queue *q, struct blk_ctx *ctx);

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
		pv_queue_bad_request(q->pq, "bad request id %llu op %u: %s",
				     (unsigned long long)req->id, req->operation, why);
		respond(q, ctx, BLKIF_RSP_ERROR);
		return;
	}
	if (req->indirect && load_indirect(q, req) < 0) {
		pv_queue_violation(q->pq, "bad indirect page grant");
		respond(q, ctx, BLKIF_RSP_ERROR);
		return;
	}
	rc = blk_req_validate_segs(&q->vbd->lim, req, &why);
	if (rc < 0) {
		pv_queue_bad_request(q->pq, "bad request id %llu op %u: %s",
				     (unsigned long long)req->id, req->operation, why);
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
	start_io(q, ctx);
}

/* Map the data (or wait for the budget: parked), then submit. */
static void start_io(struct blk_queue *q, struct blk_ctx *ctx)
{
	struct blk_req *req = &ctx->req;
	int rc;

	if (req->nr_segs && req->op != BLKIF_OP_DISCARD) {
		rc = map_data(q, ctx);
		if (rc == -EAGAIN) {
			if (q->parked != ctx) {
				struct pv_budget_info bi;

				q->st.map_waits++;
				pv_budget_info(&q->budget, &bi);
				pv_queue_log(q->pq, PV_LOG_INFO,
					     "mapping budget used up (domain %u/%u, all %u/%u pages): "
					     "requests wait for completions", bi.guest_used,
					     bi.guest_limit, bi.total_used, bi.total_limit);
			}
			q->parked = ctx;
			return;
		}
		q->parked = NULL;
		if (rc < 0) {
			pv_queue_bad_request(q->pq, "bad request id %llu op %u: data grant refused",
					     (unsigned long long)req->id, req->operation);
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

static void on_io(struct pv_loop *loop, int fd, uint32_t events, void *opaque);

/* The loop watches the engine's fd for what it wants: a socket engine (NBD)
 * waits for writable while requests are unsent, and watches another fd
 * while it reconnects. */
static void io_watch(struct blk_queue *q)
{
	struct pv_loop *loop = pv_queue_loop(q->pq);
	struct blk_io *io = q->io;

	if (!q->io_in_loop || (io->efd == q->io_fd && io->efd_events == q->io_events))
		return;
	if (io->efd == q->io_fd) {
		if (pv_loop_mod_fd(loop, io->efd, io->efd_events) == 0)
			q->io_events = io->efd_events;
		return;
	}
	pv_loop_del_fd(loop, q->io_fd);
	q->io_in_loop = pv_loop_add_fd(loop, io->efd, io->efd_events, on_io, q) == 0;
	q->io_fd = io->efd;
	q->io_events = io->efd_events;
	if (!q->io_in_loop)
		pv_queue_log(q->pq, PV_LOG_ERR, "cannot watch the I/O engine's fd: its requests hang");
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
	pv_queue_flush(q->pq);
	io_watch(q);
}

/* Drain the ring (a restart's owed requests come first, from the journal),
 * submit once, answer what finished; again while completions freed slots
 * or ended a barrier and requests wait. */
static void queue_run(struct pv_queue *pq, unsigned events)
{
	struct blk_queue *q = pv_queue_priv(pq);
	uint64_t completed;
	const void *raw;
	void *slot;

	do {
		if (q->parked)
			start_io(q, q->parked); /* the ring waits behind it */
		while (!q->barrier && !q->parked && pv_queue_next(pq, 0, &slot, &raw) > 0) {
			struct blk_ctx *ctx = slot;

			blk_req_parse(q->abi, raw, &ctx->req);
			dispatch(q, ctx);
		}
		completed = q->completed;
		pump(q);
	} while (!q->barrier &&
		 (q->parked ? q->completed != completed : pv_queue_pending(pq, 0)));
}

static void on_io(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct blk_queue *q = opaque;
	uint64_t cnt;

	/* EAGAIN: spurious wake-up; reap anyway. */
	if (q->io->efd_counter && read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		pv_debug(q->name, "completion eventfd: %s", strerror(errno));
	if (q->io->ops->notify)
		q->io->ops->notify(q->io, events);
	pump(q);
	/* Completions free slots and may end a barrier: the ring may move again. */
	pv_queue_run(q->pq);
}

/* Adaptive polling: true while there was work, so the loop keeps spinning. */
static bool queue_poll(struct pv_queue *pq)
{
	struct blk_queue *q = pv_queue_priv(pq);
	bool busy = false;

	if (blk_io_reap(q->io) > 0) {
		pump(q);
		busy = true;
	}
	/* Stopping too: what was pushed before the stop is still to consume
	 * (pv_queue_pending stops at that limit), and once a completion
	 * reaped here ended a barrier nothing else runs the ring: the
	 * completion queue is empty, so the loop never calls on_io (issue 13:
	 * such a stop never ended, found by tests/fuzz/fuzz-blk-queue.c). */
	if (q->parked && busy) {
		pv_queue_run(pq); /* completions gave back: its turn */
	} else if (!q->barrier && !q->parked && pv_queue_pending(pq, 0)) {
		pv_queue_run(pq);
		busy = true;
	}
	return busy;
}

static bool queue_idle(struct pv_queue *pq)
{
	struct blk_queue *q = pv_queue_priv(pq);

	return !q->inflight && !q->barrier && !q->parked;
}

static void on_purge(struct pv_loop *loop, void *opaque)
{
	struct blk_queue *q = opaque;

	pv_gcache_purge(&q->pgc, pv_now_ns(), BLK_PGRANT_IDLE_NS);
	q->purge_timer = pv_loop_add_timer(loop, BLK_PGRANT_PURGE_MS, on_purge, q);
}

/* A persistent page also becomes the engine's registered buffer `slot`
 * (io_uring fixed buffer); when the kernel refuses, that page's I/O keeps
 * using readv/writev. */
static int pg_map(void *opaque, uint32_t ref, unsigned slot, void **addr)
{
	struct blk_queue *q = opaque;
	int rc;

	/* Kept beyond the request: from the pools, never the reserve.  When
	 * they are used up the request maps per request instead. */
	if (!pv_budget_take_shared(&q->budget, 1))
		return -EAGAIN;
	rc = pv_hv_map(q->hv, q->domid, 1, &ref, true, addr);
	if (rc < 0)
		pv_budget_give_shared(&q->budget, 1);
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
	pv_budget_give_shared(&q->budget, 1);
}

static const struct pv_gcache_ops pg_ops = { .map = pg_map, .unmap = pg_unmap };

/* --fixed-bufs: auto is on for pvsim (guest RAM is a memfd, shmem, which
 * io_uring pins on every kernel) and off on Xen, where the pages are gntdev
 * mappings (docs/blkback.md says why).  One sparse table of max_pgrants
 * slots, filled by pg_map. */
static void fixed_bufs_start(struct blk_queue *q)
{
	const struct blk_config *cfg = q->vbd->cfg;
	int rc;

	if (cfg->fixed_bufs == BLK_FIXED_OFF ||
	    (cfg->fixed_bufs == BLK_FIXED_AUTO && cfg->pv.hv_kind != PV_HV_SIM))
		return;
	rc = blk_io_reg_bufs(q->io, cfg->max_pgrants);
	if (rc < 0) {
		pv_debug(q->name, "no registered buffers (%s): persistent pages use readv/writev",
			 strerror(-rc));
		return;
	}
	q->fixed_bufs = true;
}

/* Each slot's arrays, in order of alignment (iovecs and pointers, 8-byte
 * segments, 4-byte refs), its share rounded up so that the next slot
 * starts aligned too: with an odd max_segs (11, indirect off) every other
 * slot's iovecs were 4 bytes off (undefined behaviour; UBSan aborts the
 * sanitizer build), found by tests/fuzz/fuzz-blk-queue.c. */
static int alloc_ctxs(struct blk_queue *q)
{
	const size_t align = _Alignof(struct iovec);
	unsigned i, n = q->nr_ctxs, s = q->max_segs;
	size_t per = s * (sizeof(struct blkif_request_segment) + sizeof(struct pv_gcache_ent *) +
			  sizeof(uint32_t) + sizeof(struct iovec));

	_Static_assert(_Alignof(struct iovec) >= _Alignof(struct pv_gcache_ent *) &&
		       _Alignof(struct pv_gcache_ent *) >= _Alignof(struct blkif_request_segment) &&
		       _Alignof(struct blkif_request_segment) >= _Alignof(uint32_t),
		       "a slot's arrays in order of alignment");
	per = (per + align - 1) & ~(align - 1);
	q->ctx_mem = calloc(n, per);
	if (!q->ctx_mem)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct blk_ctx *c = ctx_at(q, i);
		char *p = (char *)q->ctx_mem + i * per;

		c->q = q;
		c->iov = (struct iovec *)p;
		p += s * sizeof(struct iovec);
		c->pgs = (struct pv_gcache_ent **)p;
		p += s * sizeof(struct pv_gcache_ent *);
		c->req.seg = (struct blkif_request_segment *)p;
		p += s * sizeof(struct blkif_request_segment);
		c->refs = (uint32_t *)p;
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
	q->bounce_size = (size_t)q->nr_ctxs * q->copy_max_segs * PV_PAGE_SIZE;
	m = mmap(NULL, q->bounce_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	q->bounce_mem = m;
	return 0;
}

/* pv_queue ops->start: the ring is mapped, the port bound, the slots
 * (struct blk_ctx) allocated; set up the host side. */
static int queue_start(struct pv_queue *pq)
{
	struct blk_queue *q = pv_queue_priv(pq);
	const struct blk_config *cfg = q->vbd->cfg;
	int rc;

	q->pq = pq;
	q->name = pv_queue_name(pq);
	q->hv = pv_queue_hv(pq);
	q->nr_ctxs = pv_queue_nr_slots(pq, 0);
	pv_copy_batch_init(&q->copy, q->hv, NULL, NULL);
	/* The reserve: one largest request can always be mapped. */
	rc = pv_budget_user_init(&q->budget, q->domid, q->max_segs);
	if (rc < 0)
		return rc;
	q->budget_ready = true;
	rc = alloc_ctxs(q);
	if (rc < 0)
		return rc;
	rc = alloc_bounce(q, cfg->grant_mode);
	if (rc < 0)
		return rc;
	rc = blk_io_create(cfg->io_kind, &q->vbd->bs, q->nr_ctxs, io_done, q, &q->io);
	if (rc < 0) {
		q->io = NULL;
		pv_err(q->name, "cannot create the I/O engine: %s", strerror(-rc));
		return rc;
	}
	q->io->name = q->name;
	if (q->io->efd >= 0) {
		rc = pv_loop_add_fd(pv_queue_loop(pq), q->io->efd, q->io->efd_events, on_io, q);
		if (rc < 0)
			return rc;
		q->io_in_loop = true;
		q->io_fd = q->io->efd;
		q->io_events = q->io->efd_events;
	}
	if (q->persistent) {
		rc = pv_gcache_init(&q->pgc, cfg->max_pgrants, &pg_ops, q);
		if (rc < 0)
			return rc;
		q->pgc_ready = true;
		fixed_bufs_start(q);
		q->purge_timer = pv_loop_add_timer(pv_queue_loop(pq), BLK_PGRANT_PURGE_MS, on_purge, q);
	}
	return 0;
}

/* pv_queue ops->fini: the thread is gone (or never ran). */
static void queue_fini(struct pv_queue *pq)
{
	struct blk_queue *q = pv_queue_priv(pq);
	struct pv_queue_ring_info ri;

	if (q->pgc_ready) {
		/* One unregistration of every page before the unmaps, not one each. */
		if (q->fixed_bufs)
			blk_io_reg_bufs(q->io, 0);
		q->fixed_bufs = false;
		pv_gcache_fini(&q->pgc);
	}
	if (q->io_in_loop)
		pv_loop_del_fd(pv_queue_loop(pq), q->io_fd);
	blk_io_destroy(q->io);
	if (q->bounce_mem)
		munmap(q->bounce_mem, q->bounce_size);
	free(q->ctx_mem);
	if (q->budget_ready)
		pv_budget_user_fini(&q->budget);
	pv_queue_info(pq, 0, &ri);
	q->st.oo_req = ri.no_slot;
	q->st.log_suppressed = pv_queue_log_suppressed(pq);
	/* Its counters live on in the device's total. */
	pv_stats_sum(&blk_stats_table, &q->vbd->past, &q->st);
	pv_log_rl(pv_xb_dev_ratelimit(q->vbd->dev), PV_LOG_INFO, q->name,
		  "stopped: rd %llu wr %llu flush %llu discard %llu errors %llu",
		  (unsigned long long)q->st.rd_req, (unsigned long long)q->st.wr_req,
		  (unsigned long long)q->st.f_req, (unsigned long long)q->st.ds_req,
		  (unsigned long long)q->st.errors);
}

/* Every I/O completed (idle): nothing of the engine is left in flight. */
static void queue_quiesce(struct pv_queue *pq)
{
}

static const struct pv_queue_ops blk_queue_ops = {
	.proto = "blk",
	.start = queue_start,
	.run = queue_run,
	.poll = queue_poll,
	.idle = queue_idle,
	.quiesce = queue_quiesce,
	.fini = queue_fini,
};

int blk_queue_start(struct blk_vbd *vbd, const struct blk_queue_params *p, struct blk_queue **out)
{
	const struct blk_config *cfg = vbd->cfg;
	struct pv_queue_params qp = {
		.name = vbd->name,
		.dev = vbd->dev,
		.violation = vbd->violation,
		.violation_opaque = vbd->violation_opaque,
		.idx = p->idx,
		.domid = p->domid,
		.hv_kind = cfg->pv.hv_kind,
		.poll_us = cfg->pv.poll_us,
		.journal_dir = cfg->pv.state_dir,
		.resume = p->resume,
		.nr_rings = 1,
		.rings = { {
			.name = "ring",
			.nr_refs = p->nr_ring_pages,
			.ent_size = blk_abi_ent_size(p->abi),
			.slot_size = sizeof(struct blk_ctx),
			.port = 0,
			.journal = true,
			.drain_on_stop = true,
			.journal_tag = p->abi,
		} },
		.nr_ports = 1,
		.ports = { p->evtchn },
	};
	struct blk_queue *q = calloc(1, sizeof(*q));
	int rc;

	if (!q)
		return -ENOMEM;
	q->vbd = vbd;
	q->domid = p->domid;
	q->abi = p->abi;
	q->persistent = p->persistent;
	q->purge_timer = -1;
	q->max_segs = vbd->lim.max_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST ?
			      vbd->lim.max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;
	memcpy(qp.rings[0].refs, p->ring_refs, p->nr_ring_pages * sizeof(uint32_t));
	qp.priv = q;
	rc = pv_queue_start(&blk_queue_ops, &qp, &q->pq);
	if (rc < 0) {
		free(q);
		return rc;
	}
	pv_log_rl(pv_xb_dev_ratelimit(vbd->dev), PV_LOG_INFO, q->name,
		  "%s %u page(s), %u slots, %s ABI, event channel %u, io %s%s%s%s",
		  p->resume ? "re-attached ring" : "ring", p->nr_ring_pages, q->nr_ctxs,
		  p->abi == BLK_ABI_X86_32 ? "x86_32" : "native", p->evtchn, q->io->ops->name,
		  q->persistent ? ", persistent grants" : "",
		  q->copy_max_segs ? ", grant copy" : "", cfg->pv.poll_us ? ", polling" : "");
	if (q->copy_max_segs)
		pv_debug(q->name, "grant copy up to %u segments, bounce pool %zu KiB",
			 q->copy_max_segs, q->bounce_size >> 10);
	*out = q;
	return 0;
}

void blk_queue_stop(struct blk_queue *q)
{
	/* Answers everything pushed before now, then ends (queue_fini). */
	pv_queue_stop(q->pq);
	free(q);
}

struct pv_queue *blk_queue_pq(struct blk_queue *q)
{
	return q->pq;
}

void blk_queue_stats(struct blk_queue *q, struct blk_queue_info *out)
{
	struct pv_queue_ring_info ri;

	pv_queue_info(q->pq, 0, &ri);
	*out = (struct blk_queue_info){
		.st = q->st,
		.pgrants = __atomic_load_n(&q->pgc.count, __ATOMIC_RELAXED),
		.pgrants_max = q->persistent ? q->pgc.max : 0,
		.pgrant_hits = __atomic_load_n(&q->pgc.hits, __ATOMIC_RELAXED),
		.pgrant_misses = __atomic_load_n(&q->pgc.misses, __ATOMIC_RELAXED),
		.inflight = __atomic_load_n(&q->inflight, __ATOMIC_RELAXED),
		.ring_slots = (unsigned)ri.entries,
		.mapped = __atomic_load_n(&q->budget.used, __ATOMIC_RELAXED) +
			  __atomic_load_n(&q->budget.shared, __ATOMIC_RELAXED),
		.persistent = q->persistent,
		.ring = ri,
	};
	pv_budget_info(&q->budget, &out->budget);
	out->st.oo_req = ri.no_slot;
	out->st.log_suppressed = pv_queue_log_suppressed(q->pq);
}
