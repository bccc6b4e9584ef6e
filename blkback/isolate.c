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
 * The socket is SOCK_SEQPACKET, one message per datagram, a header then a
 * fixed body per type:
 *
 *   xenbus -> worker    START (+ fds)  STOP  STATS  SECTORS
 *   worker -> xenbus    STARTED  STOPPED  STATS_REPLY  VIOLATION
 *
 * The workers themselves (one per domain, started, counted, killed,
 * reaped; replies waited for with a bound, other messages delivered from
 * the loop) are common/isolate.c's pv_iso table; this file says what the
 * messages mean.  START and STATS wait for their reply (a worker that does
 * not answer within 10 s is killed); STOP does not: the device is held
 * until STOPPED, so the xenbus thread serves the other devices meanwhile,
 * as a local stop does.  The xenbus process trusts nothing a worker says
 * beyond its own domain: a message of the wrong size, about a vbd it does
 * not serve, or not asked for kills the worker, and a worker that dies
 * fails its domain's devices only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blkback.h"

#define ISO_REPLY_MS   10000  /* START, STATS: a worker that takes longer is killed */
#define ISO_DRAIN_MS   120000 /* a stopping daemon's wait for a drain */
#define ISO_NAME_MAX   64
#define ISO_REASON_MAX 160

enum iso_type {
	ISO_START = 1, ISO_STOP, ISO_STATS, ISO_SECTORS,             /* to the worker */
	ISO_STARTED = 16, ISO_STOPPED, ISO_STATS_REPLY, ISO_VIOLATION, /* from it */
};

struct iso_hdr {
	uint32_t type;
	uint32_t vbd; /* the xenbus process's id of the vbd */
};

struct iso_start {
	struct iso_hdr h;
	char name[ISO_NAME_MAX];
	struct blk_limits lim;
	struct blk_backing bs; /* fds: the message's (1: shared, 2: direct + buffered) */
	uint32_t nq;
	struct blk_queue_params p[BLK_MAX_QUEUES];
};

struct iso_rc {
	struct iso_hdr h;
	int32_t rc;
};

struct iso_stopped {
	struct iso_hdr h;
	struct blk_stats past;
};

struct iso_stats {
	struct iso_hdr h;
	uint32_t nq;
	struct blk_queue_info qi[BLK_MAX_QUEUES];
};

struct iso_sectors {
	struct iso_hdr h;
	uint64_t sectors;
};

struct iso_violation {
	struct iso_hdr h;
	char reason[ISO_REASON_MAX];
};

union iso_msg {
	struct iso_hdr h;
	struct iso_start start;
	struct iso_rc rc;
	struct iso_stopped stopped;
	struct iso_stats stats;
	struct iso_sectors sectors;
	struct iso_violation violation;
};

/* The exact size of each type: anything else is malformed. */
static size_t msg_size(uint32_t type)
{
	switch (type) {
	case ISO_START:
		return sizeof(struct iso_start);
	case ISO_STOP:
	case ISO_STATS:
		return sizeof(struct iso_hdr);
	case ISO_SECTORS:
		return sizeof(struct iso_sectors);
	case ISO_STARTED:
		return sizeof(struct iso_rc);
	case ISO_STOPPED:
		return sizeof(struct iso_stopped);
	case ISO_STATS_REPLY:
		return sizeof(struct iso_stats);
	case ISO_VIOLATION:
		return sizeof(struct iso_violation);
	}
	return 0;
}

static bool well_formed(const union iso_msg *m, ssize_t n)
{
	return n >= (ssize_t)sizeof(struct iso_hdr) && (size_t)n == msg_size(m->h.type);
}

/* ============================================================ xenbus side */

/* The vbds a worker runs: *pv_iso_priv(w) heads the list (iso_next). */
static struct blk_vbd **vbds_of(struct pv_iso *w)
{
	return (struct blk_vbd **)pv_iso_priv(w);
}

static struct blk_vbd *iso_vbd(struct pv_iso *w, uint32_t id)
{
	struct blk_vbd *v;

	for (v = *vbds_of(w); v && v->iso_id != id; v = v->iso_next)
		;
	return v;
}

/* The vbd leaves its worker (whose last vbd takes the worker along). */
static void iso_detach(struct blk_vbd *vbd)
{
	struct pv_iso *w = vbd->iso;
	struct blk_vbd **p = vbds_of(w);

	while (*p != vbd)
		p = &(*p)->iso_next;
	*p = vbd->iso_next;
	vbd->iso = NULL;
	vbd->iso_next = NULL;
	vbd->nr_queues = 0;
	pv_iso_put(w);
}

/* A stop is over (STOPPED, or the worker is gone): the device goes on. */
static void iso_stopped(struct blk_vbd *vbd, const struct blk_stats *past)
{
	void (*done)(struct blk_vbd *) = vbd->iso_done;
	struct pv_xb_dev *dev = vbd->dev;
	bool held = vbd->iso_stopping;

	if (past)
		pv_stats_sum(&blk_stats_table, &vbd->past, past);
	vbd->iso_stopping = false;
	vbd->iso_done = NULL;
	iso_detach(vbd);
	if (done)
		done(vbd);
	if (held)
		pv_xb_dev_release(dev); /* may free vbd */
}

/* What a worker says unasked: STOPPED, VIOLATION. */
static bool iso_message(struct pv_iso *w, void *msg, size_t len)
{
	union iso_msg *m = msg;
	struct blk_vbd *vbd;

	if (!well_formed(m, (ssize_t)len))
		return false;
	vbd = iso_vbd(w, m->h.vbd);
	if (!vbd) /* a violation may come after the vbd's stop: stale, not mad */
		return m->h.type == ISO_VIOLATION;
	switch (m->h.type) {
	case ISO_STOPPED:
		if (!vbd->iso_stopping)
			return false; /* nobody stopped it */
		iso_stopped(vbd, &m->stopped.past);
		return true;
	case ISO_VIOLATION:
		m->violation.reason[ISO_REASON_MAX - 1] = '\0';
		for (char *c = m->violation.reason; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		pv_xb_dev_request_disconnect(vbd->dev, m->violation.reason);
		return true;
	}
	return false;
}

/* Every vbd there fails; the ones being stopped are released. */
static void iso_died(struct pv_iso *w)
{
	struct blk_vbd *v;

	while ((v = *vbds_of(w))) {
		if (v->iso_stopping) {
			iso_stopped(v, NULL);
		} else {
			pv_xb_dev_request_disconnect(v->dev, "worker process died");
			iso_detach(v);
		}
	}
}

static const struct pv_iso_ops iso_ops = {
	.max_msg = sizeof(union iso_msg),
	.message = iso_message,
	.died = iso_died,
};

/* The reply to req: the type its request wants, about the same vbd. */
static bool iso_is_reply(const void *msg, size_t len, const void *req)
{
	const struct iso_hdr *h = msg, *q = req;
	uint32_t want = q->type == ISO_START ? ISO_STARTED
		      : q->type == ISO_STOP  ? ISO_STOPPED
					     : ISO_STATS_REPLY;

	return len >= sizeof(*h) && h->type == want && h->vbd == q->vbd;
}

static int iso_call(struct blk_vbd *vbd, const union iso_msg *req, const int *fds, unsigned nfds,
		    union iso_msg *reply, int timeout_ms)
{
	uint32_t want = req->h.type == ISO_START ? ISO_STARTED
		      : req->h.type == ISO_STOP  ? ISO_STOPPED
						 : ISO_STATS_REPLY;

	return pv_iso_call(vbd->iso, req, msg_size(req->h.type), fds, nfds, iso_is_reply, reply,
			   msg_size(want), timeout_ms);
}

int blk_iso_init(struct pv_backend *b)
{
	struct blk_config *cfg = pv_backend_config(b);

	if (!cfg->pv.isolate)
		return 0;
	return pv_iso_table_create(b, pv_backend_loop(b), &iso_ops, &cfg->iso);
}

int blk_iso_start(struct blk_vbd *vbd, const struct blk_queue_params *p, unsigned nq)
{
	union iso_msg *m = calloc(2, sizeof(*m)), *reply = m + 1;
	int fds[2] = { vbd->bs.fd, vbd->bs.fd_buffered };
	struct pv_iso *w;
	int rc;

	if (!m)
		return -ENOMEM;
	rc = pv_iso_get(vbd->cfg->iso, pv_xb_dev_domid(vbd->dev), &w);
	if (rc < 0) {
		pv_xb_dev_log(vbd->dev, PV_LOG_ERR, "cannot start a worker process: %s",
			      strerror(-rc));
		free(m);
		return rc;
	}
	vbd->iso_id = pv_xb_dev_devid(vbd->dev);
	m->start.h = (struct iso_hdr){ ISO_START, vbd->iso_id };
	snprintf(m->start.name, sizeof(m->start.name), "%s", vbd->name);
	m->start.lim = vbd->lim;
	m->start.bs = vbd->bs;
	m->start.nq = nq;
	memcpy(m->start.p, p, nq * sizeof(*p));
	/* On the worker's list before any message about it can come. */
	vbd->iso = w;
	vbd->iso_next = *vbds_of(w);
	*vbds_of(w) = vbd;
	vbd->nr_queues = nq;
	rc = iso_call(vbd, m, fds, fds[1] == fds[0] ? 1 : 2, reply, ISO_REPLY_MS);
	if (rc == 0)
		rc = reply->rc.rc;
	if (rc > 0 || rc < -4095)
		rc = -EPROTO; /* a worker's nonsense */
	free(m);
	if (rc < 0)
		iso_detach(vbd);
	return rc;
}

void blk_iso_stop(struct blk_vbd *vbd, bool wait, void (*done)(struct blk_vbd *vbd))
{
	union iso_msg m = { .h = { ISO_STOP, vbd->iso_id } }, reply;
	int rc;

	if (!vbd->iso) {
		if (done)
			done(vbd);
		return;
	}
	if (vbd->iso_stopping) /* a stop is under way: it finishes on its own */
		return;
	vbd->iso_done = done;
	if (pv_iso_dead(vbd->iso)) {
		iso_stopped(vbd, NULL);
		return;
	}
	if (wait) {
		rc = iso_call(vbd, &m, NULL, 0, &reply, ISO_DRAIN_MS);
		if (rc < 0)
			pv_err(vbd->name, "worker process did not stop its queues: %s",
			       strerror(-rc));
		iso_stopped(vbd, rc == 0 ? &reply.stopped.past : NULL);
		return;
	}
	vbd->iso_stopping = true;
	pv_xb_dev_hold(vbd->dev);
	pv_iso_send(vbd->iso, &m, sizeof(m.h), NULL, 0); /* failed: iso_died releases it */
}

void blk_iso_stats(struct blk_vbd *vbd, struct blk_queue_info *qi)
{
	union iso_msg m = { .h = { ISO_STATS, vbd->iso_id } }, *reply;
	unsigned nq = vbd->nr_queues;

	memset(qi, 0, nq * sizeof(*qi));
	if (!vbd->iso || vbd->iso_stopping || !(reply = malloc(sizeof(*reply))))
		return;
	if (iso_call(vbd, &m, NULL, 0, reply, ISO_REPLY_MS) == 0 && reply->stats.nq == nq)
		memcpy(qi, reply->stats.qi, nq * sizeof(*qi));
	free(reply);
}

void blk_iso_resized(struct blk_vbd *vbd)
{
	struct iso_sectors m = {
		.h = { ISO_SECTORS, vbd->iso_id },
		.sectors = __atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED),
	};

	if (vbd->iso && !vbd->iso_stopping)
		pv_iso_send(vbd->iso, &m, sizeof(m), NULL, 0);
}

/* ============================================================ worker side */

struct wvbd {
	struct blk_vbd vbd;
	struct wctx *w;
	struct wvbd *next;
	uint32_t id;
	char name[ISO_NAME_MAX];
	unsigned stopping;       /* queues still draining */
};

struct wctx {
	struct pv_loop *loop;
	int fd;
	const struct blk_config *cfg;
	struct wvbd *vbds;
	bool closing;            /* the xenbus process went: end once drained */
};

static void w_send(struct wctx *w, const void *m, size_t len)
{
	int rc = pv_isolate_send(w->fd, m, len, NULL, 0);

	if (rc < 0 && !w->closing)
		pv_err(NULL, "worker: cannot tell the xenbus process: %s", strerror(-rc));
}

struct w_violation {
	struct wctx *w;
	struct iso_violation m;
};

static void w_violation_send(void *opaque)
{
	struct w_violation *v = opaque;

	w_send(v->w, &v->m, sizeof(v->m));
	free(v);
}

/* A queue's thread: the xenbus process disconnects the device. */
static void w_violation(void *opaque, const char *reason)
{
	struct wvbd *wv = opaque;
	struct w_violation *v = calloc(1, sizeof(*v));

	if (!v)
		return;
	v->w = wv->w;
	v->m.h = (struct iso_hdr){ ISO_VIOLATION, wv->id };
	snprintf(v->m.reason, sizeof(v->m.reason), "%s", reason);
	if (pv_loop_call(wv->w->loop, w_violation_send, v) < 0)
		free(v);
}

static struct wvbd *w_find(struct wctx *w, uint32_t id)
{
	struct wvbd *v;

	for (v = w->vbds; v && v->id != id; v = v->next)
		;
	return v;
}

static void w_free(struct wctx *w, struct wvbd *v)
{
	struct wvbd **p = &w->vbds;

	while (*p != v)
		p = &(*p)->next;
	*p = v->next;
	blk_backing_close(&v->vbd.bs);
	free(v);
}

static void close_fds(int *fds, unsigned n)
{
	while (n)
		close(fds[--n]);
}

static int w_start(struct wctx *w, struct iso_start *s, int *fds, unsigned nfds)
{
	struct wvbd *v;
	unsigned i;
	int rc;

	s->name[ISO_NAME_MAX - 1] = '\0';
	if (w_find(w, s->h.vbd) || s->nq < 1 || s->nq > BLK_MAX_QUEUES || nfds < 1 || nfds > 2) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		close_fds(fds, nfds);
		return -ENOMEM;
	}
	v->w = w;
	v->id = s->h.vbd;
	snprintf(v->name, sizeof(v->name), "%s", s->name);
	v->vbd.cfg = w->cfg;
	v->vbd.name = v->name;
	v->vbd.lim = s->lim;
	v->vbd.bs = s->bs;
	v->vbd.bs.fd = fds[0];
	v->vbd.bs.fd_buffered = fds[nfds - 1];
	v->vbd.violation = w_violation;
	v->vbd.violation_opaque = v;
	v->next = w->vbds;
	w->vbds = v;
	for (i = 0; i < s->nq; i++) {
		rc = blk_queue_start(&v->vbd, &s->p[i], &v->vbd.queues[i]);
		if (rc < 0) {
			pv_err(v->name, "queue %u: %s", i, strerror(-rc));
			while (i-- > 0)
				blk_queue_stop(v->vbd.queues[i]);
			w_free(w, v);
			return rc;
		}
		v->vbd.nr_queues = i + 1;
	}
	v->vbd.connected = true;
	return 0;
}

static void w_stopped(struct wctx *w, struct wvbd *v)
{
	struct iso_stopped m = { .h = { ISO_STOPPED, v->id } };

	for (unsigned i = v->vbd.nr_queues; i-- > 0;)
		blk_queue_stop(v->vbd.queues[i]); /* each one has ended: no wait */
	m.past = v->vbd.past;
	w_send(w, &m, sizeof(m));
	w_free(w, v);
	if (w->closing && !w->vbds)
		pv_loop_stop(w->loop);
}

static void w_queue_done(void *opaque)
{
	struct wvbd *v = opaque;

	if (--v->stopping == 0)
		w_stopped(v->w, v);
}

/* Drain on the queues' own threads; STOPPED once the last one ended. */
static void w_stop(struct wctx *w, struct wvbd *v)
{
	unsigned i, n = v->vbd.nr_queues;

	if (v->stopping)
		return;
	v->stopping = n + 1; /* + 1: none finishes before every stop began */
	for (i = 0; i < n; i++)
		if (pv_queue_stop_begin(blk_queue_pq(v->vbd.queues[i]), w->loop, w_queue_done, v) < 0)
			v->stopping--; /* stops in w_stopped, synchronously */
	w_queue_done(v);
}

static void w_on_msg(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct wctx *w = opaque;
	union iso_msg *m = malloc(sizeof(*m));
	int fds[PV_ISOLATE_MAX_FDS];
	unsigned nfds = 0;
	struct wvbd *v, *next;
	ssize_t n;

	(void)events;
	if (!m)
		return;
	n = pv_isolate_recv(fd, m, sizeof(*m), fds, PV_ISOLATE_MAX_FDS, &nfds);
	if (n == -EAGAIN) {
		free(m);
		return;
	}
	if (n <= 0 || !well_formed(m, n)) {
		/* The xenbus process is gone (or mad): answer what is owed, end. */
		close_fds(fds, nfds);
		free(m);
		pv_loop_del_fd(loop, fd);
		w->closing = true;
		for (v = w->vbds; v; v = next) {
			next = v->next; /* w_stop may free v */
			w_stop(w, v);
		}
		if (!w->vbds)
			pv_loop_stop(loop);
		return;
	}
	if (m->h.type != ISO_START)
		close_fds(fds, nfds);
	v = w_find(w, m->h.vbd);
	switch (m->h.type) {
	case ISO_START: {
		struct iso_rc r = { .h = { ISO_STARTED, m->h.vbd } };

		r.rc = w_start(w, &m->start, fds, nfds);
		w_send(w, &r, sizeof(r));
		break;
	}
	case ISO_STOP:
		if (v)
			w_stop(w, v);
		break;
	case ISO_STATS: {
		struct iso_stats *r = calloc(1, sizeof(*r));

		if (!r)
			break;
		r->h = (struct iso_hdr){ ISO_STATS_REPLY, m->h.vbd };
		for (unsigned i = 0; v && !v->stopping && i < v->vbd.nr_queues; i++)
			blk_queue_stats(v->vbd.queues[i], &r->qi[i]);
		r->nq = v && !v->stopping ? v->vbd.nr_queues : 0;
		w_send(w, r, sizeof(*r));
		free(r);
		break;
	}
	case ISO_SECTORS:
		if (v)
			__atomic_store_n(&v->vbd.lim.sectors, m->sectors.sectors, __ATOMIC_RELAXED);
		break;
	}
	free(m);
}

int blk_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd)
{
	struct wctx w = { .loop = loop, .fd = fd, .cfg = pv_backend_config(b) };
	int rc;

	rc = pv_loop_add_fd(loop, fd, PV_LOOP_IN, w_on_msg, &w);
	if (rc < 0) {
		pv_err(NULL, "worker: loop: %s", strerror(-rc));
		return 1;
	}
	rc = pv_loop_run(loop);
	/* Only after every vbd drained (w_stopped) or on a loop failure. */
	while (w.vbds)
		w_stopped(&w, w.vbds);
	close(fd);
	return rc < 0 ? 1 : 0;
}
