// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io_uring engine (liburing): readv/writev straight into mapped guest pages,
 * the backing fds registered (IOSQE_FIXED_FILE), completions reaped when the
 * ring fd polls readable.  Page-cache I/O is submitted with one
 * io_uring_submit() per ring drain (its completions come inline, so one
 * syscall serves the batch); O_DIRECT reads and writes are submitted as
 * soon as they are queued, as Linux blkback and fio do: on the virtio disk
 * measured (bench/README.md) a drain's burst in one submit made the device
 * slower per request: batching saved 1.8 us of CPU per I/O but cost 14% of
 * the IOPS.  IORING_SETUP_COOP_TASKRUN, SINGLE_ISSUER and DEFER_TASKRUN
 * were measured too and gained nothing.
 * FLUSH is IORING_OP_FSYNC with IORING_FSYNC_DATASYNC; a write that must be
 * durable is linked (IOSQE_IO_LINK) to such an fsync.  Discard on a file is
 * IORING_OP_FALLOCATE (punch hole); on a block device it is the synchronous
 * BLKDISCARD ioctl.  The queue's loop polls the ring fd itself (readable
 * while CQEs wait), not a registered eventfd: completions posted inline by
 * io_uring_submit (page-cache hits) are reaped right after it and leave the
 * fd unreadable, so they cost no eventfd signal, wake-up or read().
 *
 * Registered buffers: a sparse table (ring.c fills one slot per persistent
 * grant page it maps, and empties it before the unmap); a read or write
 * whose one iovec lies inside a filled slot is IORING_OP_READ_FIXED /
 * WRITE_FIXED, so the kernel does no get_user_pages and page refcounting
 * per I/O.  The table mirrors what the kernel holds: a slot is used only
 * after its registration succeeded and is forgotten before it is emptied,
 * so a refused registration only costs the fast path.
 *
 * One instance per queue thread; not thread-safe.  Not yet: SQPOLL.
 */
#include <errno.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "blkback.h"
#include "uring.h"

struct uring_io {
	struct blk_io base;
	struct io_uring ring;
	unsigned queued; /* SQEs prepared since the last submit */
	struct iovec *bufs; /* registered buffers by slot, iov_base NULL: empty */
	unsigned nr_bufs;
};

enum { FILE_MAIN = 0, FILE_BUFFERED = 1 };
/* The kernel's limit on registered buffers (IORING_MAX_REG_BUFFERS). */
#define MAX_REG_BUFS (1u << 14)

/* What the ring may do (common/uring.h): the requests below on the two
 * registered backing fds only, and registered-buffer updates. */
static const uint8_t uring_ops[] = {
	IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED,
	IORING_OP_FSYNC, IORING_OP_FALLOCATE,
};
static const uint8_t uring_reg_ops[] = {
	IORING_REGISTER_BUFFERS2, IORING_REGISTER_BUFFERS_UPDATE, IORING_UNREGISTER_BUFFERS,
};
static const struct pv_uring_rules uring_rules = {
	.ops = uring_ops,
	.nr_ops = sizeof(uring_ops),
	.reg_ops = uring_reg_ops,
	.nr_reg_ops = sizeof(uring_reg_ops),
	.flags_allowed = IOSQE_IO_LINK,
	.flags_required = IOSQE_FIXED_FILE,
};

static int uring_create(struct blk_backing *bs, unsigned depth, struct blk_io **out)
{
	struct uring_io *u = calloc(1, sizeof(*u));
	int files[2] = { bs->fd, bs->fd_buffered };
	int rc;

	if (!u)
		return -ENOMEM;
	blk_io_base_init(&u->base, &blk_io_uring_ops, bs);
	/* Two SQEs per request at most (write + linked fsync). */
	rc = pv_uring_init(&u->ring, depth * 2 < 8 ? 8 : depth * 2, files, 2, &uring_rules);
	if (rc < 0) {
		free(u);
		return rc;
	}
	u->base.efd = u->ring.ring_fd;
	*out = &u->base;
	return 0;
}

static void uring_destroy(struct blk_io *io)
{
	struct uring_io *u = (struct uring_io *)io;

	io_uring_queue_exit(&u->ring); /* closes efd: it is the ring fd */
	free(u->bufs);
	free(u);
}

static int uring_reg_bufs(struct blk_io *io, unsigned nr)
{
	struct uring_io *u = (struct uring_io *)io;
	int rc;

	if (u->nr_bufs) {
		/* Waits for nothing: no request is in flight when the table goes. */
		io_uring_unregister_buffers(&u->ring);
		free(u->bufs);
		u->bufs = NULL;
		u->nr_bufs = 0;
	}
	if (!nr)
		return 0;
	if (nr > MAX_REG_BUFS)
		nr = MAX_REG_BUFS; /* slots beyond it stay unregistered */
	u->bufs = calloc(nr, sizeof(*u->bufs));
	if (!u->bufs)
		return -ENOMEM;
	rc = io_uring_register_buffers_sparse(&u->ring, nr);
	if (rc < 0) {
		free(u->bufs);
		u->bufs = NULL;
		return rc;
	}
	u->nr_bufs = nr;
	return 0;
}

static int uring_reg_buf(struct blk_io *io, unsigned slot, void *addr, size_t len)
{
	struct uring_io *u = (struct uring_io *)io;
	struct iovec iov = { .iov_base = addr, .iov_len = addr ? len : 0 };
	__u64 tag = 0;
	int rc;

	if (slot >= u->nr_bufs)
		return -ENOSPC;
	/* Forget the old range first: if the update fails, the kernel may
	 * still hold it, and its pages must never serve a request again. */
	u->bufs[slot] = (struct iovec){ 0 };
	rc = io_uring_register_buffers_update_tag(&u->ring, slot, &iov, &tag, 1);
	if (rc < 0)
		return rc;
	u->bufs[slot] = iov;
	return 0;
}

/* r's data is one range inside the filled slot its buf_index names. */
static bool use_fixed(const struct uring_io *u, const struct blk_io_req *r)
{
	const struct iovec *b;
	uintptr_t p;

	if (r->buf_index < 0 || (unsigned)r->buf_index >= u->nr_bufs || r->iovcnt != 1)
		return false;
	b = &u->bufs[r->buf_index];
	p = (uintptr_t)r->iov[0].iov_base;
	return b->iov_base && p >= (uintptr_t)b->iov_base &&
	       p - (uintptr_t)b->iov_base <= b->iov_len &&
	       r->iov[0].iov_len <= b->iov_len - (p - (uintptr_t)b->iov_base);
}

/* Whatever the kernel did not take stays queued for the next submit. */
static void submit_now(struct uring_io *u)
{
	io_uring_submit(&u->ring);
	u->queued = io_uring_sq_ready(&u->ring);
}

/* Low bit of user_data marks the linked fsync of a durable write. */
#define LINKED_FSYNC 1ull

static int uring_queue(struct blk_io *io, struct blk_io_req *r)
{
	struct uring_io *u = (struct uring_io *)io;
	int file = r->buffered ? FILE_BUFFERED : FILE_MAIN;
	bool linked = r->op == BLK_IO_WRITE && r->flush_after;
	struct io_uring_sqe *sqe;

	if (r->op == BLK_IO_DISCARD && io->bs->blkdev) {
		blk_io_complete_later(io, r, blk_backing_discard(io->bs, r->offset, r->len, r->secure));
		return 0;
	}
	if (io_uring_sq_space_left(&u->ring) < (linked ? 2u : 1u))
		submit_now(u); /* SQ full: submit what we have, keep batching after it */
	r->res = 0;
	r->parts = linked ? 2 : 1;
	r->fixed = (r->op == BLK_IO_READ || r->op == BLK_IO_WRITE) && use_fixed(u, r);
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	switch (r->op) {
	case BLK_IO_READ:
		if (r->fixed)
			io_uring_prep_read_fixed(sqe, file, r->iov[0].iov_base,
						 (unsigned)r->iov[0].iov_len, r->offset, r->buf_index);
		else
			io_uring_prep_readv(sqe, file, r->iov, r->iovcnt, r->offset);
		break;
	case BLK_IO_WRITE:
		if (r->fixed)
			io_uring_prep_write_fixed(sqe, file, r->iov[0].iov_base,
						  (unsigned)r->iov[0].iov_len, r->offset, r->buf_index);
		else
			io_uring_prep_writev(sqe, file, r->iov, r->iovcnt, r->offset);
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, file, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_DISCARD:
		io_uring_prep_fallocate(sqe, file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					r->offset, r->len);
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)r);
	u->queued++;
	if (linked) {
		sqe->flags |= IOSQE_IO_LINK; /* the fsync starts only after the write completed */
		sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_fsync(sqe, file, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)r | LINKED_FSYNC);
		u->queued++;
	}
	/* O_DIRECT data goes to the device now (the file header says why). */
	if (file == FILE_MAIN && io->bs->direct && (r->op == BLK_IO_READ || r->op == BLK_IO_WRITE))
		submit_now(u);
	return 0;
}

static int uring_submit(struct blk_io *io)
{
	struct uring_io *u = (struct uring_io *)io;
	int rc;

	if (!u->queued)
		return 0;
	rc = io_uring_submit(&u->ring);
	u->queued = io_uring_sq_ready(&u->ring);
	return rc < 0 ? rc : 0;
}

static int uring_reap(struct blk_io *io)
{
	struct uring_io *u = (struct uring_io *)io;
	struct io_uring_cqe *cqe;
	unsigned head, seen = 0;
	int n = blk_io_reap_ready(io);

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		struct blk_io_req *r = (struct blk_io_req *)(uintptr_t)(data & ~LINKED_FSYNC);
		bool data_part = !(data & LINKED_FSYNC) &&
				 (r->op == BLK_IO_READ || r->op == BLK_IO_WRITE);
		int res = cqe->res;

		seen++;
		if (res >= 0 && data_part && (uint64_t)res != r->len)
			res = -EIO; /* short transfer: the backing shrank under us */
		/* The write's error wins over the -ECANCELED of its linked fsync. */
		if (res < 0 && r->res == 0)
			r->res = res;
		if (--r->parts)
			continue;
		blk_io_complete_later(io, r, r->res);
	}
	io_uring_cq_advance(&u->ring, seen);
	return n + blk_io_reap_ready(io);
}

const struct blk_io_ops blk_io_uring_ops = {
	.name = "uring",
	.create = uring_create,
	.destroy = uring_destroy,
	.queue = uring_queue,
	.submit = uring_submit,
	.reap = uring_reap,
	.reg_bufs = uring_reg_bufs,
	.reg_buf = uring_reg_buf,
};
