// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libaio engine, the fallback when io_uring is unavailable (old kernel,
 * io_uring disabled by sysctl or seccomp): preadv/pwritev iocbs submitted
 * in one io_submit() per ring drain, completions signalled on an eventfd
 * (io_set_eventfd).  Linux AIO is only asynchronous with O_DIRECT; buffered
 * I/O completes inside io_submit, which is still correct.  Flush and
 * discard run synchronously (IOCB_CMD_FDSYNC is unsupported by most
 * filesystems), as does the fdatasync after a durable write.
 *
 * One instance per queue thread; not thread-safe.
 */
#include <errno.h>
#include <libaio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blkback.h"

struct aio_io {
	struct blk_io base;
	io_context_t ctx;
	unsigned depth;
	struct iocb *cbs;     /* depth iocbs */
	struct iocb **free;   /* stack of free iocbs */
	unsigned nr_free;
	struct iocb **batch;  /* prepared, not yet submitted */
	unsigned nr_batch;
	struct io_event *events;
};

static int aio_create(struct blk_backing *bs, unsigned depth, struct blk_io **out)
{
	struct aio_io *a = calloc(1, sizeof(*a));
	unsigned i;
	int rc;

	if (!a)
		return -ENOMEM;
	blk_io_base_init(&a->base, &blk_io_aio_ops, bs);
	a->depth = depth;
	a->cbs = calloc(depth, sizeof(*a->cbs));
	a->free = calloc(depth, sizeof(*a->free));
	a->batch = calloc(depth, sizeof(*a->batch));
	a->events = calloc(depth, sizeof(*a->events));
	if (!a->cbs || !a->free || !a->batch || !a->events) {
		rc = -ENOMEM;
		goto fail_free;
	}
	for (i = 0; i < depth; i++)
		a->free[a->nr_free++] = &a->cbs[i];
	rc = io_setup((int)depth, &a->ctx);
	if (rc < 0)
		goto fail_free;
	a->base.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->base.efd_counter = true;
	if (a->base.efd < 0) {
		rc = -errno;
		goto fail_ctx;
	}
	*out = &a->base;
	return 0;
fail_ctx:
	io_destroy(a->ctx);
fail_free:
	free(a->cbs);
	free(a->free);
	free(a->batch);
	free(a->events);
	free(a);
	return rc;
}

static void aio_destroy(struct blk_io *io)
{
	struct aio_io *a = (struct aio_io *)io;

	io_destroy(a->ctx);
	close(io->efd);
	free(a->cbs);
	free(a->free);
	free(a->batch);
	free(a->events);
	free(a);
}

static int aio_queue(struct blk_io *io, struct blk_io_req *r)
{
	struct aio_io *a = (struct aio_io *)io;
	int fd = r->buffered ? io->bs->fd_buffered : io->bs->fd;
	struct iocb *cb;

	if (r->op == BLK_IO_FLUSH || r->op == BLK_IO_DISCARD || !a->nr_free) {
		blk_io_complete_later(io, r, blk_io_exec_sync(io->bs, r));
		return 0;
	}
	cb = a->free[--a->nr_free];
	if (r->op == BLK_IO_READ)
		io_prep_preadv(cb, fd, r->iov, (int)r->iovcnt, (long long)r->offset);
	else
		io_prep_pwritev(cb, fd, r->iov, (int)r->iovcnt, (long long)r->offset);
	io_set_eventfd(cb, io->efd);
	cb->data = r;
	a->batch[a->nr_batch++] = cb;
	return 0;
}

static int aio_submit(struct blk_io *io)
{
	struct aio_io *a = (struct aio_io *)io;
	unsigned done = 0;
	int rc = 0;

	while (done < a->nr_batch) {
		rc = io_submit(a->ctx, (long)(a->nr_batch - done), a->batch + done);
		if (rc == -EAGAIN || rc == -EINTR)
			continue;
		if (rc <= 0) {
			/* The first iocb was refused: fail it, try the rest. */
			struct iocb *cb = a->batch[done++];

			blk_io_complete_later(io, cb->data, rc < 0 ? rc : -EIO);
			a->free[a->nr_free++] = cb;
			continue;
		}
		done += (unsigned)rc;
	}
	a->nr_batch = 0;
	return rc < 0 ? rc : 0;
}

static int aio_reap(struct blk_io *io)
{
	struct aio_io *a = (struct aio_io *)io;
	struct timespec zero = { 0, 0 };
	int n, i;

	do {
		n = io_getevents(a->ctx, 0, (long)a->depth, a->events, &zero);
		for (i = 0; i < n; i++) {
			struct iocb *cb = a->events[i].obj;
			struct blk_io_req *r = cb->data;
			long res = (long)a->events[i].res;
			int err = 0;

			a->free[a->nr_free++] = cb;
			if (res < 0)
				err = (int)res;
			else if ((uint64_t)res != r->len)
				err = -EIO; /* short transfer: the backing shrank under us */
			else if (r->op == BLK_IO_WRITE && r->flush_after && fdatasync(cb->aio_fildes) < 0)
				err = -errno;
			blk_io_complete_later(io, r, err);
		}
	} while (n == (int)a->depth);
	return blk_io_reap_ready(io);
}

const struct blk_io_ops blk_io_aio_ops = {
	.name = "aio",
	.create = aio_create,
	.destroy = aio_destroy,
	.queue = aio_queue,
	.submit = aio_submit,
	.reap = aio_reap,
};
