// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Ceph RBD backing store (librbd): a vbd whose params is
 * rbd:POOL/[NAMESPACE/]IMAGE[@SNAP][:conf=PATH][:id=USER][:OPTION=VALUE]...
 * (QEMU's syntax; "\:" is a colon inside a value) is served from that
 * image.  docs/shared-storage.md says what is mapped to what.
 *
 * blk_rbd_probe, on the xenbus thread, opens the image once for its size,
 * then lets go; blk_rbd_watch keeps it open there to see resizes.  Each
 * queue's engine opens the image again when the queue starts (on the
 * xenbus thread or in the domain's worker, never on the queue thread), so
 * librados's threads are made there.  The queue thread only
 * submits (rbd_aio_*: a lock and a wake-up of librbd's own threads) and
 * reaps: librbd signals completions on the engine's eventfd
 * (rbd_set_image_notification) and rbd_poll_io_events hands them over in
 * the queue's loop.  No thread of ours, none per request.
 *
 * Durability: librbd's cache is off unless the target says rbd_cache=true.
 * Without it a write completes once the OSDs committed it (every replica):
 * durable, so a FUA write needs nothing more and a flush only orders.  With
 * it, a write may sit in this process's memory, which a crash of the
 * daemon loses although the guest runs on: a FUA write is followed by
 * rbd_aio_flush, and docs/shared-storage.md says what that costs.
 *
 * An image with exclusive-lock (the default) has one writer at a time: two
 * handles in one process would pass the lock back and forth, so a vbd on
 * RBD has one queue (one handle), as an NBD export without multi-conn.
 *
 * One instance per queue thread; not thread-safe.
 */
#include <errno.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkback.h"

struct rbd_conn {
	rados_t cluster;
	rados_ioctx_t ioctx;
	rbd_image_t image;
};

struct rbd_io {
	struct blk_io base;
	struct rbd_conn c;
};

static __thread char rbd_err[160];

const char *blk_rbd_error(void)
{
	return rbd_err[0] ? rbd_err : NULL;
}

static int parse_target(const char *target, struct blk_rbd_target *t)
{
	int rc = blk_rbd_parse(target, t);

	if (rc == -EINVAL)
		snprintf(rbd_err, sizeof(rbd_err), "not rbd:POOL/[NAMESPACE/]IMAGE[@SNAP]"
			 "[:conf=PATH][:id=USER][:OPTION=VALUE]");
	return rc;
}

static void conn_close(struct rbd_conn *c)
{
	if (c->image)
		rbd_close(c->image);
	if (c->ioctx)
		rados_ioctx_destroy(c->ioctx);
	if (c->cluster)
		rados_shutdown(c->cluster);
	*c = (struct rbd_conn){ 0 };
}

/* librbd's cache: what the target (or ceph.conf) made of it. */
static bool cache_on(rados_t cluster)
{
	char v[16] = "";

	return rados_conf_get(cluster, "rbd_cache", v, sizeof(v)) == 0 && !strcmp(v, "true");
}

static int fail(int rc, const char *what, const char *arg)
{
	snprintf(rbd_err, sizeof(rbd_err), "%s%s%s: %s", what, arg ? " " : "", arg ?: "",
		 strerror(-rc));
	return rc;
}

/* Connect to the cluster and open the image: the probe's and each queue's. */
static int conn_open(const struct blk_rbd_target *t, bool readonly, struct rbd_conn *c)
{
	unsigned i;
	int rc;

	rbd_err[0] = '\0';
	*c = (struct rbd_conn){ 0 };
	rc = rados_create(&c->cluster, t->id); /* NULL: client.admin */
	if (rc < 0)
		return fail(rc, "rados_create", t->id);
	/* The cluster's ceph.conf (t->conf, else $CEPH_CONF or /etc/ceph). */
	rc = rados_conf_read_file(c->cluster, t->conf);
	if (rc < 0) {
		fail(rc, "cannot read", t->conf ?: "the default ceph.conf");
		goto out;
	}
	/* Our defaults, before the target's own options: writes through to
	 * the OSDs (the header comment), a bounded wait for an absent cluster
	 * (the xenbus thread waits), and librados's messages in our log only
	 * when they are errors. */
	rados_conf_set(c->cluster, "rbd_cache", "false");
	rados_conf_set(c->cluster, "client_mount_timeout", "10");
	rados_conf_set(c->cluster, "log_to_stderr", "false");
	for (i = 0; i < t->nopt; i++) {
		rc = rados_conf_set(c->cluster, t->opt[i][0], t->opt[i][1]);
		if (rc < 0) {
			fail(rc, "bad option", t->opt[i][0]);
			goto out;
		}
	}
	rc = rados_connect(c->cluster);
	if (rc < 0) {
		fail(rc, "cannot connect to the cluster", NULL);
		goto out;
	}
	rc = rados_ioctx_create(c->cluster, t->pool, &c->ioctx);
	if (rc < 0) {
		fail(rc, "no pool", t->pool);
		goto out;
	}
	if (t->ns)
		rados_ioctx_set_namespace(c->ioctx, t->ns);
	rc = readonly || t->snap ? rbd_open_read_only(c->ioctx, t->image, &c->image, t->snap)
				 : rbd_open(c->ioctx, t->image, &c->image, NULL);
	if (rc < 0) {
		c->image = NULL;
		fail(rc, "cannot open image", t->snap ? "or its snapshot" : t->image);
		goto out;
	}
	return 0;
out:
	conn_close(c);
	return rc;
}

int blk_rbd_probe(const char *target, bool readonly, struct blk_backing *bs)
{
	struct blk_rbd_target t;
	struct rbd_conn c;
	uint64_t size;
	int rc;

	*bs = (struct blk_backing){ .fd = -1, .fd_buffered = -1, .readonly = readonly,
				    .store = BLK_STORE_RBD };
	rc = parse_target(target, &t);
	if (rc < 0)
		return rc;
	if (t.snap && !readonly) {
		snprintf(rbd_err, sizeof(rbd_err), "a snapshot is read-only: attach it read-only");
		return -EROFS;
	}
	snprintf(bs->uri, sizeof(bs->uri), "%s", target);
	rc = conn_open(&t, readonly, &c);
	if (rc < 0)
		return rc;
	rc = rbd_get_size(c.image, &size);
	if (rc < 0) {
		fail(rc, "cannot read the size of", t.image);
		goto out;
	}
	bs->size = size;
	bs->logical_block = BLK_SECTOR_SIZE;
	bs->physical_block = 4096;
	bs->dio_align = 1;
	bs->can_flush = true;
	/* Without librbd's cache an answered write is on the OSDs. */
	bs->can_fua = !cache_on(c.cluster);
	bs->can_discard = true;
	bs->can_secure = true; /* rbd_aio_write_zeroes */
	bs->multi_conn = false; /* one handle: the header comment */
	bs->discard_granularity = 4096;
	bs->discard_alignment = 0;
out:
	conn_close(&c);
	return rc;
}

/* ------------------------------------------------------------- watch */

/*
 * Online resize: the xenbus process keeps the image open (read-write, never
 * written, so it never takes the exclusive lock from the queue's handle)
 * with librbd's update watch.  `rbd resize` from any client notifies the
 * image's header object; librbd refreshes the handle and calls fn on one of
 * its threads.  The size is then read from the handle, with no new
 * connection.  Snapshots never change size: no watch for them.
 */
struct blk_rbd_watch {
	struct rbd_conn c;
	uint64_t handle;
};

int blk_rbd_watch(const char *target, blk_rbd_watch_fn *fn, void *opaque,
		  struct blk_rbd_watch **out)
{
	struct blk_rbd_watch *w;
	struct blk_rbd_target t;
	int rc;

	*out = NULL;
	rc = parse_target(target, &t);
	if (rc < 0)
		return rc;
	if (t.snap)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	rc = conn_open(&t, false, &w->c);
	if (rc == 0) {
		/* blk_rbd_watch_fn is librbd's rbd_update_callback_t. */
		rc = rbd_update_watch(w->c.image, &w->handle, fn, opaque);
		if (rc < 0)
			fail(rc, "rbd_update_watch", t.image);
	}
	if (rc < 0) {
		conn_close(&w->c);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int blk_rbd_watch_size(struct blk_rbd_watch *w, uint64_t *size)
{
	return rbd_get_size(w->c.image, size);
}

void blk_rbd_unwatch(struct blk_rbd_watch *w)
{
	if (!w)
		return;
	/* Waits for a callback under way: none runs after this. */
	rbd_update_unwatch(w->c.image, w->handle);
	conn_close(&w->c);
	free(w);
}

/* ------------------------------------------------------------ engine */

static int rbd_io_create(struct blk_backing *bs, unsigned depth, struct blk_io **out)
{
	struct rbd_io *n = calloc(1, sizeof(*n));
	struct blk_rbd_target t;
	int rc;

	(void)depth;
	if (!n)
		return -ENOMEM;
	blk_io_base_init(&n->base, &blk_io_rbd_ops, bs);
	rc = parse_target(bs->uri, &t);
	if (rc == 0)
		rc = conn_open(&t, bs->readonly, &n->c);
	if (rc < 0)
		goto fail;
	n->base.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->base.efd < 0) {
		rc = -errno;
		goto fail_conn;
	}
	n->base.efd_counter = true;
	rc = rbd_set_image_notification(n->c.image, n->base.efd, EVENT_TYPE_EVENTFD);
	if (rc < 0) {
		fail(rc, "rbd_set_image_notification", NULL);
		close(n->base.efd);
		goto fail_conn;
	}
	*out = &n->base;
	return 0;
fail_conn:
	conn_close(&n->c);
fail:
	free(n);
	return rc;
}

static void rbd_io_destroy(struct blk_io *io)
{
	struct rbd_io *n = (struct rbd_io *)io;

	/* Every request was answered before (the queue drained); rbd_close
	 * waits for librbd's own work. */
	conn_close(&n->c);
	close(n->base.efd);
	free(n);
}

/* Issue r's next command: its data, or the flush after its data. */
static int issue(struct rbd_io *n, struct blk_io_req *r, enum blk_io_op op)
{
	rbd_image_t img = n->c.image;
	rbd_completion_t c;
	int rc;

	rc = rbd_aio_create_completion(r, NULL, &c);
	if (rc < 0)
		return rc;
	switch (op) {
	case BLK_IO_READ:
		rc = rbd_aio_readv(img, r->iov, (int)r->iovcnt, r->offset, c);
		break;
	case BLK_IO_WRITE:
		rc = rbd_aio_writev(img, r->iov, (int)r->iovcnt, r->offset, c);
		break;
	case BLK_IO_FLUSH:
		rc = rbd_aio_flush(img, c);
		break;
	case BLK_IO_DISCARD:
		rc = r->secure ? rbd_aio_write_zeroes(img, r->offset, r->len, c, 0, 0)
			       : rbd_aio_discard(img, r->offset, r->len, c);
		break;
	}
	if (rc < 0)
		rbd_aio_release(c); /* not issued: it never completes */
	return rc;
}

static void start_req(struct rbd_io *n, struct blk_io_req *r)
{
	int rc;

	r->res = 0;
	/* The write's flush (librbd's cache on) comes after it, in reap. */
	r->again = r->op == BLK_IO_WRITE && r->flush_after && !n->base.bs->can_fua;
	rc = issue(n, r, r->op);
	if (rc < 0)
		blk_io_complete_later(&n->base, r, rc);
}

static int rbd_io_submit(struct blk_io *io)
{
	struct rbd_io *n = (struct rbd_io *)io;
	struct blk_io_req *r, *next;

	for (r = blk_io_batch_take(io); r; r = next) {
		next = r->next;
		start_req(n, r);
	}
	return 0;
}

static int rbd_io_reap(struct blk_io *io)
{
	struct rbd_io *n = (struct rbd_io *)io;
	rbd_completion_t comps[32];
	int got, i, done = 0;

	while ((got = rbd_poll_io_events(n->c.image, comps, 32)) > 0) {
		for (i = 0; i < got; i++) {
			struct blk_io_req *r = rbd_aio_get_arg(comps[i]);
			ssize_t ret = rbd_aio_get_return_value(comps[i]);

			rbd_aio_release(comps[i]);
			if (ret >= 0 && r->again) {
				/* Its data is written: now the flush. */
				r->again = false;
				ret = issue(n, r, BLK_IO_FLUSH);
				if (ret == 0)
					continue;
			}
			r->again = false;
			blk_io_complete_later(io, r, ret < 0 ? (int)ret : 0);
		}
		if (got < 32)
			break;
	}
	done += blk_io_reap_ready(io);
	return done;
}

const struct blk_io_ops blk_io_rbd_ops = {
	.name = "rbd",
	.create = rbd_io_create,
	.destroy = rbd_io_destroy,
	.queue = blk_io_queue_batch,
	.submit = rbd_io_submit,
	.reap = rbd_io_reap,
};
