// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Batched grant copy (pvcommon.h "grant-copy batch"): segments are gathered
 * and copied by one pv_hv_copy, which Xen runs as one GNTTABOP_copy
 * hypercall and pvsim as one pass, instead of one call per segment or per
 * request.  A full batch copies on its own; the first failure is kept until
 * flush() reports it, and done() hears each segment's own status.
 * One batch belongs to one thread; nothing here logs.
 */
#include <errno.h>

#include "pvcommon.h"

void pv_copy_batch_init(struct pv_copy_batch *b, struct pv_hv *hv, pv_copy_done_fn *done,
			void *opaque)
{
	b->hv = hv;
	b->done = done;
	b->opaque = opaque;
	b->n = 0;
	b->err = 0;
}

static void run(struct pv_copy_batch *b)
{
	unsigned i, n = b->n;

	if (!n)
		return;
	b->n = 0;
	pv_hv_copy(b->hv, n, b->seg);
	for (i = 0; i < n; i++) {
		if (b->seg[i].status && !b->err)
			b->err = b->seg[i].status;
		if (b->done)
			b->done(b->opaque, b->owner[i], &b->seg[i]);
	}
}

void pv_copy_batch_add(struct pv_copy_batch *b, const struct pv_hv_copy_seg *seg, void *owner)
{
	if (b->n == PV_COPY_BATCH_MAX)
		run(b);
	b->seg[b->n] = *seg;
	b->seg[b->n].status = 0;
	b->owner[b->n++] = owner;
}

int pv_copy_batch_flush(struct pv_copy_batch *b)
{
	int err;

	run(b);
	err = b->err;
	b->err = 0;
	return err;
}
