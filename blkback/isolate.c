// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --isolate domain: each guest domain's queues in a worker process of their
 * own (docs/security.md).  The xenbus process keeps xenstore, the control
 * socket and the backing files; at connect it hands a vbd's queue
 * parameters and backing fds (SCM_RIGHTS) to the domain's worker, which
 * maps the rings and runs the queues exactly as a single process does
 * (ring.c).  A memory-safety bug one guest reaches through its ring is
 * then in a process that holds only that guest's rings and files.
 *
 * The protocol, the workers' lives and the drains are common/isodev.c's;
 * this file says what blk's messages hold: START the vbd's limits, backing
 * and queue parameters (+ the backing fds: 1 shared, or direct and
 * buffered), STATS each queue's counters, STOPPED the stopped queues'
 * counters, and one request of its own, SECTORS (an online resize).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkback.h"

#define ISO_NAME_MAX 64

enum { ISO_SECTORS }; /* blk's own request */

struct iso_start {
	char name[ISO_NAME_MAX];
	struct blk_limits lim;
	struct blk_backing bs; /* its fds are the message's */
	uint32_t nq;
	struct blk_queue_params p[BLK_MAX_QUEUES];
};

struct iso_stats {
	uint32_t nq;
	struct blk_queue_info qi[BLK_MAX_QUEUES];
};

static const struct pv_isodev_desc iso_desc;

/* ============================================================ xenbus side */

static struct blk_vbd *vbd_of(struct pv_isodev *d)
{
	return (struct blk_vbd *)((char *)d - offsetof(struct blk_vbd, iso));
}

int blk_iso_init(struct pv_backend *b)
{
	struct blk_config *cfg = pv_backend_config(b);

	if (!cfg->pv.isolate)
		return 0;
	return pv_isodev_table_create(b, &iso_desc, &cfg->iso);
}

int blk_iso_start(struct blk_vbd *vbd, const struct blk_queue_params *p, unsigned nq)
{
	struct iso_start *s = calloc(1, sizeof(*s));
	int fds[2] = { vbd->bs.fd, vbd->bs.fd_buffered };
	int rc;

	if (!s)
		return -ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", vbd->name);
	s->lim = vbd->lim;
	s->bs = vbd->bs;
	s->bs.watch = NULL; /* this process's */
	s->nq = nq;
	memcpy(s->p, p, nq * sizeof(*p));
	vbd->nr_queues = nq;
	/* A network store has no fd: the worker connects itself. */
	rc = pv_isodev_start(vbd->cfg->iso, &vbd->iso, vbd->dev, s, fds,
			     vbd->bs.store != BLK_STORE_FILE ? 0 : fds[1] == fds[0] ? 1 : 2);
	if (rc < 0)
		vbd->nr_queues = 0;
	free(s);
	return rc;
}

static void iso_done(struct pv_isodev *d, const void *past)
{
	struct blk_vbd *vbd = vbd_of(d);

	if (past)
		pv_stats_sum(&blk_stats_table, &vbd->past, past);
	vbd->nr_queues = 0;
}

void blk_iso_stop(struct blk_vbd *vbd, bool wait)
{
	pv_isodev_stop(&vbd->iso, wait, iso_done);
}

void blk_iso_stats(struct blk_vbd *vbd, struct blk_queue_info *qi)
{
	struct iso_stats *r = calloc(1, sizeof(*r));
	unsigned nq = vbd->nr_queues;

	memset(qi, 0, nq * sizeof(*qi));
	if (r && pv_isodev_stats(&vbd->iso, r) == 0 && r->nq == nq)
		memcpy(qi, r->qi, nq * sizeof(*qi));
	free(r);
}

void blk_iso_resized(struct blk_vbd *vbd)
{
	uint64_t sectors = __atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED);

	if (pv_isodev_running(&vbd->iso))
		pv_isodev_call(&vbd->iso, ISO_SECTORS, &sectors, NULL, 0, NULL);
}

/* ============================================================ worker side */

struct wvbd {
	struct blk_vbd vbd;
	char name[ISO_NAME_MAX];
};

static int w_start(struct pv_isodev_w *d, void *start, int *fds, unsigned nfds)
{
	struct pv_queue *pq[BLK_MAX_QUEUES];
	struct iso_start *s = start;
	struct wvbd *v;
	unsigned i;
	int rc;

	s->name[ISO_NAME_MAX - 1] = '\0';
	s->bs.uri[BLK_URI_MAX - 1] = '\0';
	/* A file comes as its fd (direct and buffered: two); a network store as its URI. */
	if (s->nq < 1 || s->nq > BLK_MAX_QUEUES ||
	    (s->bs.store == BLK_STORE_FILE ? nfds < 1 || nfds > 2
					   : (s->bs.store != BLK_STORE_NBD &&
					      s->bs.store != BLK_STORE_RBD) || nfds))
		return pv_isolate_refuse(fds, nfds, -EINVAL);
	v = calloc(1, sizeof(*v));
	if (!v)
		return pv_isolate_refuse(fds, nfds, -ENOMEM);
	snprintf(v->name, sizeof(v->name), "%s", s->name);
	v->vbd.cfg = pv_backend_config(pv_isodev_w_backend(d));
	v->vbd.name = v->name;
	v->vbd.lim = s->lim;
	v->vbd.bs = s->bs;
	v->vbd.bs.watch = NULL; /* a pointer of the xenbus process's, if any */
	v->vbd.bs.fd = nfds ? fds[0] : -1;
	v->vbd.bs.fd_buffered = nfds ? fds[nfds - 1] : -1;
	v->vbd.violation = pv_isodev_w_violation;
	v->vbd.violation_opaque = d;
	for (i = 0; i < s->nq; i++) {
		rc = blk_queue_start(&v->vbd, &s->p[i], &v->vbd.queues[i]);
		if (rc < 0) {
			pv_err(v->name, "queue %u: %s", i, strerror(-rc));
			goto fail;
		}
		pq[i] = blk_queue_pq(v->vbd.queues[i]);
		v->vbd.nr_queues = i + 1;
	}
	rc = pv_isodev_w_set(d, v, pq, s->nq);
	if (rc < 0)
		goto fail;
	v->vbd.connected = true;
	return 0;
fail:
	for (i = v->vbd.nr_queues; i-- > 0;)
		blk_queue_stop(v->vbd.queues[i]);
	blk_backing_close(&v->vbd.bs);
	free(v);
	return rc;
}

static void w_stats(struct pv_isodev_w *d, void *stats)
{
	struct wvbd *v = pv_isodev_w_priv(d);
	struct iso_stats *r = stats;

	for (unsigned i = 0; i < v->vbd.nr_queues; i++)
		blk_queue_stats(v->vbd.queues[i], &r->qi[i]);
	r->nq = v->vbd.nr_queues;
}

static void w_stopped(struct pv_isodev_w *d, void *past)
{
	struct wvbd *v = pv_isodev_w_priv(d);

	for (unsigned i = v->vbd.nr_queues; i-- > 0;)
		blk_queue_stop(v->vbd.queues[i]); /* each one has ended: no wait */
	memcpy(past, &v->vbd.past, sizeof(v->vbd.past));
	blk_backing_close(&v->vbd.bs);
	free(v);
}

static void w_message(struct pv_isodev_w *d, unsigned n, void *req, int *fds, unsigned nfds,
		      void *reply)
{
	struct wvbd *v = pv_isodev_w_priv(d);
	uint64_t sectors;

	(void)reply;
	pv_isolate_close_fds(fds, nfds);
	if (n == ISO_SECTORS) {
		memcpy(&sectors, req, sizeof(sectors));
		__atomic_store_n(&v->vbd.lim.sectors, sectors, __ATOMIC_RELAXED);
	}
}

int blk_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd)
{
	return pv_isodev_worker(b, loop, fd, &iso_desc);
}

static const struct pv_isodev_desc iso_desc = {
	.start_size = sizeof(struct iso_start),
	.stats_size = sizeof(struct iso_stats),
	.past_size = sizeof(struct blk_stats),
	.user = { [ISO_SECTORS] = { .size = sizeof(uint64_t) } },
	.w_start = w_start,
	.w_stats = w_stats,
	.w_stopped = w_stopped,
	.w_message = w_message,
};
