// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Synchronous engine: every request runs with preadv/pwritev/fdatasync/
 * fallocate inside submit() on the queue's thread, and completes at the
 * next reap (ring.c reaps right after submitting).  The last-resort
 * fallback and the reference the other engines are tested against.
 *
 * One instance per queue thread; not thread-safe.
 */
#include <errno.h>
#include <stdlib.h>

#include "blkback.h"

static int sync_create(struct blk_backing *bs, unsigned depth, struct blk_io **out)
{
	struct blk_io *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	blk_io_base_init(s, &blk_io_sync_ops, bs);
	*out = s;
	return 0;
}

static void sync_destroy(struct blk_io *io)
{
	free(io);
}

static int sync_submit(struct blk_io *io)
{
	struct blk_io_req *r, *next;

	for (r = blk_io_batch_take(io); r; r = next) {
		next = r->next;
		blk_io_complete_later(io, r, blk_io_exec_sync(io->bs, r));
	}
	return 0;
}

static int sync_reap(struct blk_io *io)
{
	return blk_io_reap_ready(io);
}

const struct blk_io_ops blk_io_sync_ops = {
	.name = "sync",
	.create = sync_create,
	.destroy = sync_destroy,
	.queue = blk_io_queue_batch,
	.submit = sync_submit,
	.reap = sync_reap,
};
