// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NBD backing store (libnbd): a vbd whose params is an NBD URI
 * (nbd://HOST[:PORT]/EXPORT, nbd+unix:///EXPORT?socket=PATH) is served from
 * that export.  docs/shared-storage.md says what is mapped to what.
 *
 * blk_nbd_probe, on the xenbus thread, connects once to learn the size and
 * what the server can do (flush, FUA, trim, write zeroes, multi-conn, read
 * only), then lets go.  Each queue's engine is a connection of its own,
 * made when the queue starts (on the xenbus thread, or in the domain's
 * worker: the queue thread connects nothing), driven by the queue's loop
 * through libnbd's asynchronous calls: the socket is the engine's efd,
 * watched for what libnbd wants next (read, write), and completions arrive
 * as libnbd's callbacks inside nbd_aio_notify_*.  No thread of libnbd's, no
 * thread per request.
 *
 * A blkif request is one NBD command per run of memory-contiguous segments
 * (NBD has no vectored I/O).  A write the guest wants durable (FUA, the
 * data of a flush or barrier) carries NBD_CMD_FLAG_FUA when the server
 * offers it, else is followed by NBD_CMD_FLUSH once every part is written;
 * a flush is NBD_CMD_FLUSH; a discard NBD_CMD_TRIM, a secure discard
 * NBD_CMD_WRITE_ZEROES without holes (the data is gone, not just
 * unmapped).  A request completes when its last command did, with the
 * first error any part had.
 *
 * One instance per queue thread; not thread-safe.
 */
#include <errno.h>
#include <libnbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkback.h"

struct nbd_io {
	struct blk_io base;
	struct nbd_handle *h;
	struct blk_io_req *batch, **batch_tail;
	bool dead;               /* the connection failed: every request fails */
};

/* libnbd's error for a call that returned -1, as -errno. */
static int nbd_rc(void)
{
	int e = nbd_get_errno();

	return e > 0 ? -e : -EIO;
}

const char *blk_nbd_error(void)
{
	return nbd_get_error();
}

/* A handle connected to uri, for the probe or a queue. */
static int nbd_open(const char *uri, struct nbd_handle **out)
{
	struct nbd_handle *h = nbd_create();
	int rc;

	if (!h)
		return nbd_rc();
	if (nbd_connect_uri(h, uri) < 0) {
		rc = nbd_rc();
		nbd_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

int blk_nbd_probe(const char *uri, bool readonly, struct blk_backing *bs)
{
	struct nbd_handle *h;
	int64_t size, min, pref;
	int rc;

	*bs = (struct blk_backing){ .fd = -1, .fd_buffered = -1, .readonly = readonly,
				    .store = BLK_STORE_NBD };
	if (strlen(uri) >= sizeof(bs->uri))
		return -ENAMETOOLONG;
	snprintf(bs->uri, sizeof(bs->uri), "%s", uri);
	rc = nbd_open(uri, &h);
	if (rc < 0)
		return rc;
	size = nbd_get_size(h);
	if (size < 0) {
		rc = nbd_rc();
		goto out;
	}
	if (!readonly && nbd_is_read_only(h) == 1) {
		rc = -EROFS; /* the export is: attach it read-only */
		goto out;
	}
	min = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	pref = nbd_get_block_size(h, LIBNBD_SIZE_PREFERRED);
	bs->size = (uint64_t)size;
	bs->logical_block = min > BLK_SECTOR_SIZE && min <= 4096 ? (unsigned)min : BLK_SECTOR_SIZE;
	bs->physical_block = pref >= bs->logical_block && pref <= 65536 ? (unsigned)pref
									: bs->logical_block;
	bs->dio_align = 1;
	bs->can_flush = nbd_can_flush(h) == 1;
	bs->can_fua = nbd_can_fua(h) == 1;
	bs->can_discard = nbd_can_trim(h) == 1;
	bs->can_secure = nbd_can_zero(h) == 1;
	bs->multi_conn = nbd_can_multi_conn(h) == 1;
	bs->discard_granularity = bs->physical_block;
	bs->discard_alignment = 0;
	rc = 0;
out:
	nbd_shutdown(h, 0);
	nbd_close(h);
	return rc;
}

static unsigned want_events(struct nbd_io *n)
{
	unsigned dir = n->dead ? 0 : nbd_aio_get_direction(n->h);

	return (dir & LIBNBD_AIO_DIRECTION_READ ? PV_LOOP_IN : 0) |
	       (dir & LIBNBD_AIO_DIRECTION_WRITE ? PV_LOOP_OUT : 0);
}

static int nbd_io_create(struct blk_backing *bs, unsigned depth, struct blk_io **out)
{
	struct nbd_io *n = calloc(1, sizeof(*n));
	int rc;

	(void)depth;
	if (!n)
		return -ENOMEM;
	blk_io_base_init(&n->base, &blk_io_nbd_ops, bs);
	n->batch_tail = &n->batch;
	rc = nbd_open(bs->uri, &n->h);
	if (rc < 0) {
		free(n);
		return rc;
	}
	n->base.efd = nbd_aio_get_fd(n->h);
	n->base.efd_events = want_events(n);
	*out = &n->base;
	return 0;
}

static void nbd_io_destroy(struct blk_io *io)
{
	struct nbd_io *n = (struct nbd_io *)io;

	/* Every request was answered before (the queue drained). */
	nbd_close(n->h);
	free(n);
}

static int nbd_io_queue(struct blk_io *io, struct blk_io_req *r)
{
	struct nbd_io *n = (struct nbd_io *)io;

	r->next = NULL;
	*n->batch_tail = r;
	n->batch_tail = &r->next;
	return 0;
}

static void part_done(struct nbd_io *n, struct blk_io_req *r, int err);

struct nbd_part {
	struct nbd_io *n;
	struct blk_io_req *r;
};

/* libnbd's completion callback: a command of r finished. */
static int on_done(void *opaque, int *error)
{
	struct nbd_part *p = opaque;

	part_done(p->n, p->r, *error);
	free(p);
	return 1; /* retire the command */
}

/* Issue one command for r; r->parts counts it first.  A failure to issue
 * is that part's error. */
static void issue(struct nbd_io *n, struct blk_io_req *r, enum blk_io_op op, void *buf,
		  uint64_t len, uint64_t off, uint32_t flags)
{
	struct nbd_part *p = malloc(sizeof(*p));
	nbd_completion_callback cb;
	int64_t rc = -1;

	r->parts++;
	if (!p) {
		part_done(n, r, ENOMEM);
		return;
	}
	*p = (struct nbd_part){ n, r };
	cb = (nbd_completion_callback){ .callback = on_done, .user_data = p };
	if (!n->dead) {
		switch (op) {
		case BLK_IO_READ:
			rc = nbd_aio_pread(n->h, buf, len, off, cb, 0);
			break;
		case BLK_IO_WRITE:
			rc = nbd_aio_pwrite(n->h, buf, len, off, cb, flags);
			break;
		case BLK_IO_FLUSH:
			rc = nbd_aio_flush(n->h, cb, 0);
			break;
		case BLK_IO_DISCARD:
			rc = r->secure ? nbd_aio_zero(n->h, len, off, cb, LIBNBD_CMD_FLAG_NO_HOLE)
				       : nbd_aio_trim(n->h, len, off, cb, 0);
			break;
		}
	}
	if (rc < 0) {
		/* Not issued: libnbd does not call cb (nor free p). */
		free(p);
		part_done(n, r, n->dead ? EIO : -nbd_rc());
	}
}

/* Once every part is done: a write that must be durable and had no FUA
 * gets its flush; then the request completes. */
static void part_done(struct nbd_io *n, struct blk_io_req *r, int err)
{
	if (err && !r->res)
		r->res = -err;
	if (--r->parts)
		return;
	if (r->op == BLK_IO_WRITE && r->flush_after && !r->res && !n->base.bs->can_fua &&
	    n->base.bs->can_flush) {
		r->flush_after = false; /* once: the flush's completion ends it */
		issue(n, r, BLK_IO_FLUSH, NULL, 0, 0, 0);
		return;
	}
	blk_io_complete_later(&n->base, r, r->res);
}

static void start_req(struct nbd_io *n, struct blk_io_req *r)
{
	const struct blk_backing *bs = n->base.bs;
	uint32_t fua = r->flush_after && bs->can_fua ? LIBNBD_CMD_FLAG_FUA : 0;
	uint64_t off = r->offset;
	unsigned i = 0;

	r->res = 0;
	r->parts = 1; /* none completes the request before every part is issued */
	switch (r->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		while (i < r->iovcnt) {
			char *base = r->iov[i].iov_base;
			uint64_t len = r->iov[i].iov_len;

			/* A run of segments contiguous in memory: one command. */
			for (i++; i < r->iovcnt && (char *)r->iov[i].iov_base == base + len; i++)
				len += r->iov[i].iov_len;
			issue(n, r, r->op, base, len, off, fua);
			off += len;
		}
		break;
	case BLK_IO_FLUSH:
		if (bs->can_flush)
			issue(n, r, BLK_IO_FLUSH, NULL, 0, 0, 0);
		break;
	case BLK_IO_DISCARD:
		if (r->secure ? bs->can_secure : bs->can_discard)
			issue(n, r, BLK_IO_DISCARD, NULL, r->len, r->offset, 0);
		else
			r->res = -EOPNOTSUPP;
		break;
	}
	part_done(n, r, 0);
}

/* The connection failed: libnbd completes what was in flight with an
 * error (through on_done, which the queue logs); nothing new is issued. */
static void conn_failed(struct nbd_io *n)
{
	n->dead = true;
}

static int nbd_io_submit(struct blk_io *io)
{
	struct nbd_io *n = (struct nbd_io *)io;
	struct blk_io_req *r = n->batch;

	n->batch = NULL;
	n->batch_tail = &n->batch;
	while (r) {
		struct blk_io_req *next = r->next;

		start_req(n, r);
		r = next;
	}
	if (!n->dead && nbd_aio_is_dead(n->h))
		conn_failed(n);
	io->efd_events = want_events(n);
	return 0;
}

static void nbd_io_notify(struct blk_io *io, uint32_t events)
{
	struct nbd_io *n = (struct nbd_io *)io;

	if (!n->dead && (events & PV_LOOP_IN) && nbd_aio_notify_read(n->h) < 0)
		conn_failed(n);
	if (!n->dead && (events & PV_LOOP_OUT) && nbd_aio_notify_write(n->h) < 0)
		conn_failed(n);
	if (!n->dead && nbd_aio_is_dead(n->h))
		conn_failed(n);
	io->efd_events = want_events(n);
}

static int nbd_io_reap(struct blk_io *io)
{
	return blk_io_reap_ready(io);
}

const struct blk_io_ops blk_io_nbd_ops = {
	.name = "nbd",
	.create = nbd_io_create,
	.destroy = nbd_io_destroy,
	.queue = nbd_io_queue,
	.submit = nbd_io_submit,
	.reap = nbd_io_reap,
	.notify = nbd_io_notify,
};
