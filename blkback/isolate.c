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
 * START and STATS wait for their reply (bounded: a worker that does not
 * answer is killed); STOP does not: the device is held until STOPPED, so
 * the xenbus thread serves the other devices meanwhile, as a local stop
 * does.  VIOLATION and STOPPED may arrive at any time; read while waiting
 * for a reply they are kept and handled from the loop afterwards.  The
 * xenbus process trusts nothing a worker says beyond its own domain:
 * an unknown vbd id or a malformed message kills the worker, and a worker
 * that dies fails its domain's devices only.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

/* A message that arrived while a reply was awaited. */
struct iso_kept {
	struct iso_kept *next;
	union iso_msg m;
};

struct blk_iso {
	struct blk_iso_table *t;
	struct blk_iso *next;
	uint16_t domid;
	pid_t pid;
	int fd;
	bool dead;
	unsigned refs;          /* vbds started there and not yet stopped */
	struct blk_vbd *vbds;   /* those vbds (iso_next) */
	struct iso_kept *kept, **kept_tail;
	int64_t later;          /* the timer that handles kept messages or the death */
};

struct blk_iso_table {
	struct pv_backend *daemon;
	struct pv_loop *loop;
	struct blk_iso *workers;
	uint32_t next_id;
};

static void iso_handle(struct blk_iso *w, union iso_msg *m);

static void iso_later_fn(struct pv_loop *loop, void *opaque);

static void iso_schedule(struct blk_iso *w)
{
	if (w->later <= 0)
		w->later = pv_loop_add_timer(w->t->loop, 0, iso_later_fn, w);
}

/* Unusable from now on: kill it.  Its vbds are failed from the loop
 * (iso_later_fn), never from inside the caller's own device callback. */
static void iso_fail(struct blk_iso *w, const char *why)
{
	if (w->dead)
		return;
	w->dead = true;
	pv_err(NULL, "domain %u: worker process %d: %s: its devices fail", w->domid, (int)w->pid,
	       why);
	kill(w->pid, SIGKILL);
	pv_loop_del_fd(w->t->loop, w->fd);
	iso_schedule(w);
}

static struct blk_vbd *iso_vbd(struct blk_iso *w, uint32_t id)
{
	struct blk_vbd *v;

	for (v = w->vbds; v && v->iso_id != id; v = v->iso_next)
		;
	return v;
}

static void iso_detach(struct blk_vbd *vbd)
{
	struct blk_iso *w = vbd->iso;
	struct blk_vbd **p = &w->vbds;

	while (*p != vbd)
		p = &(*p)->iso_next;
	*p = vbd->iso_next;
	vbd->iso = NULL;
	vbd->iso_next = NULL;
	vbd->nr_queues = 0;
	w->refs--;
}

/* No vbd left there: the worker goes (killed, nothing of its runs). */
static void iso_retire(struct blk_iso *w)
{
	struct blk_iso **p = &w->t->workers;
	struct iso_kept *k;

	if (w->refs)
		return;
	while (*p != w)
		p = &(*p)->next;
	*p = w->next;
	if (w->later > 0)
		pv_loop_del_timer(w->t->loop, w->later);
	if (!w->dead)
		pv_loop_del_fd(w->t->loop, w->fd);
	kill(w->pid, SIGKILL);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(w->fd);
	while ((k = w->kept)) {
		w->kept = k->next;
		free(k);
	}
	pv_debug(NULL, "domain %u: worker process %d ended", w->domid, (int)w->pid);
	free(w);
}

/* A stop is over (STOPPED, or the worker is gone): the device goes on. */
static void iso_stopped(struct blk_vbd *vbd, const struct blk_stats *past)
{
	struct blk_iso *w = vbd->iso;
	void (*done)(struct blk_vbd *) = NULL;
	struct pv_xb_dev *dev = vbd->dev;
	bool held = vbd->iso_stopping;

	if (past)
		pv_stats_sum(&blk_stats_table, &vbd->past, past);
	vbd->iso_stopping = false;
	done = vbd->iso_done;
	vbd->iso_done = NULL;
	iso_detach(vbd);
	iso_retire(w);
	if (done)
		done(vbd);
	if (held)
		pv_xb_dev_release(dev); /* may free vbd */
}

static void iso_later_fn(struct pv_loop *loop, void *opaque)
{
	struct blk_iso *w = opaque;
	struct iso_kept *k;

	(void)loop;
	w->later = 0;
	w->refs++; /* not retired under our feet */
	while (!w->dead && (k = w->kept)) {
		w->kept = k->next;
		if (!w->kept)
			w->kept_tail = &w->kept;
		iso_handle(w, &k->m);
		free(k);
	}
	/* Dead: every vbd there fails; the held ones are released. */
	while (w->dead && w->vbds) {
		struct blk_vbd *v = w->vbds;

		if (v->iso_stopping) {
			iso_stopped(v, NULL);
		} else {
			pv_xb_dev_request_disconnect(v->dev, "worker process died");
			iso_detach(v);
		}
	}
	w->refs--;
	iso_retire(w);
}

/* A message from the worker, on the loop. */
static void iso_handle(struct blk_iso *w, union iso_msg *m)
{
	struct blk_vbd *vbd = iso_vbd(w, m->h.vbd);

	if (!vbd) {
		iso_fail(w, "message about a device it does not serve");
		return;
	}
	switch (m->h.type) {
	case ISO_STOPPED:
		if (!vbd->iso_stopping) {
			iso_fail(w, "stopped a device nobody stopped");
			return;
		}
		iso_stopped(vbd, &m->stopped.past);
		return;
	case ISO_VIOLATION:
		m->violation.reason[ISO_REASON_MAX - 1] = '\0';
		for (char *c = m->violation.reason; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		pv_xb_dev_request_disconnect(vbd->dev, m->violation.reason);
		return;
	}
	iso_fail(w, "unexpected message");
}

static void iso_on_msg(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct blk_iso *w = opaque;
	union iso_msg m;
	ssize_t n;

	(void)loop;
	(void)events;
	n = pv_isolate_recv(fd, &m, sizeof(m), NULL, 0, NULL);
	if (n == -EAGAIN)
		return;
	if (n == 0 || n < 0 || !well_formed(&m, n)) {
		iso_fail(w, n == 0 ? "exited" : n < 0 ? strerror((int)-n) : "malformed message");
		return;
	}
	iso_handle(w, &m);
}

/* Send req and wait for the reply of type want about the same vbd. */
static int iso_call(struct blk_iso *w, const union iso_msg *req, const int *fds, unsigned nfds,
		    uint32_t want, union iso_msg *reply, int timeout_ms)
{
	uint64_t end = pv_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	ssize_t n;
	int rc;

	if (w->dead)
		return -EPIPE;
	rc = pv_isolate_send(w->fd, req, msg_size(req->h.type), fds, nfds);
	if (rc < 0) {
		iso_fail(w, strerror(-rc));
		return rc;
	}
	for (;;) {
		uint64_t now = pv_now_ns();

		if (now >= end) {
			iso_fail(w, "no answer");
			return -ETIMEDOUT;
		}
		rc = poll(&pfd, 1, (int)((end - now) / 1000000u) + 1);
		if (rc < 0 && errno != EINTR) {
			iso_fail(w, strerror(errno));
			return -EIO;
		}
		if (rc <= 0)
			continue;
		n = pv_isolate_recv(w->fd, reply, sizeof(*reply), NULL, 0, NULL);
		if (n == -EAGAIN)
			continue;
		if (n <= 0 || !well_formed(reply, n)) {
			iso_fail(w, n == 0 ? "exited" : "malformed message");
			return -EPIPE;
		}
		if (reply->h.type == want && reply->h.vbd == req->h.vbd)
			return 0;
		if (reply->h.type != ISO_STOPPED && reply->h.type != ISO_VIOLATION) {
			iso_fail(w, "unexpected message");
			return -EPROTO;
		}
		struct iso_kept *k = malloc(sizeof(*k));

		if (!k) {
			iso_fail(w, "out of memory");
			return -ENOMEM;
		}
		k->next = NULL;
		k->m = *reply;
		*w->kept_tail = k;
		w->kept_tail = &k->next;
		iso_schedule(w);
	}
}

int blk_iso_init(struct blk_config *cfg)
{
	struct blk_iso_table *t;

	if (!cfg->pv.isolate)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->daemon = cfg->pv.daemon;
	t->next_id = 1;
	cfg->iso = t;
	return 0;
}

void blk_iso_fini(struct blk_iso_table *t)
{
	free(t);
}

static int iso_get(struct blk_iso_table *t, struct pv_loop *loop, uint16_t domid,
		   struct blk_iso **out)
{
	struct blk_iso *w;
	int rc;

	for (w = t->workers; w; w = w->next)
		if (w->domid == domid && !w->dead) {
			*out = w;
			return 0;
		}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct blk_iso){ .t = t, .domid = domid, .fd = -1 };
	w->kept_tail = &w->kept;
	t->loop = loop;
	rc = pv_backend_spawn_worker(t->daemon, domid, &w->pid, &w->fd);
	if (rc == 0) {
		rc = pv_loop_add_fd(loop, w->fd, PV_LOOP_IN, iso_on_msg, w);
		if (rc < 0) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
			close(w->fd);
		}
	}
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->next = t->workers;
	t->workers = w;
	*out = w;
	return 0;
}

int blk_iso_start(struct blk_vbd *vbd, const struct blk_queue_params *p, unsigned nq)
{
	struct blk_iso_table *t = vbd->cfg->iso;
	union iso_msg *m = calloc(2, sizeof(*m)), *reply = m + 1;
	struct blk_iso *w;
	int fds[2] = { vbd->bs.fd, vbd->bs.fd_buffered };
	int rc;

	if (!m)
		return -ENOMEM;
	rc = iso_get(t, pv_xb_dev_loop(vbd->dev), pv_xb_dev_domid(vbd->dev), &w);
	if (rc < 0) {
		pv_xb_dev_log(vbd->dev, PV_LOG_ERR, "cannot start a worker process: %s",
			      strerror(-rc));
		free(m);
		return rc;
	}
	vbd->iso_id = t->next_id++;
	m->start.h = (struct iso_hdr){ ISO_START, vbd->iso_id };
	snprintf(m->start.name, sizeof(m->start.name), "%s", vbd->name);
	m->start.lim = vbd->lim;
	m->start.bs = vbd->bs;
	m->start.nq = nq;
	memcpy(m->start.p, p, nq * sizeof(*p));
	/* The worker's vbd joins the list before any message about it can come. */
	vbd->iso = w;
	vbd->iso_next = w->vbds;
	w->vbds = vbd;
	w->refs++;
	vbd->nr_queues = nq;
	rc = iso_call(w, m, fds, fds[1] == fds[0] ? 1 : 2, ISO_STARTED, reply, ISO_REPLY_MS);
	if (rc == 0)
		rc = reply->rc.rc;
	if (rc > 0 || rc < -4095)
		rc = -EPROTO; /* a worker's nonsense */
	free(m);
	if (rc < 0) {
		iso_detach(vbd);
		if (!w->dead)
			iso_retire(w);
	}
	return rc;
}

void blk_iso_stop(struct blk_vbd *vbd, bool wait, void (*done)(struct blk_vbd *vbd))
{
	struct blk_iso *w = vbd->iso;
	union iso_msg m = { .h = { ISO_STOP, vbd->iso_id } }, reply;
	int rc;

	if (!w) {
		done(vbd);
		return;
	}
	if (vbd->iso_stopping) /* a stop is under way: it finishes on its own */
		return;
	vbd->iso_stopping = true;
	vbd->iso_done = done;
	if (w->dead) {
		vbd->iso_stopping = false; /* nothing held */
		iso_stopped(vbd, NULL);
		return;
	}
	if (wait) {
		vbd->iso_stopping = false;
		rc = iso_call(w, &m, NULL, 0, ISO_STOPPED, &reply, ISO_DRAIN_MS);
		if (rc < 0)
			pv_err(vbd->name, "worker process did not stop its queues: %s",
			       strerror(-rc));
		iso_stopped(vbd, rc == 0 ? &reply.stopped.past : NULL);
		return;
	}
	pv_xb_dev_hold(vbd->dev);
	rc = pv_isolate_send(w->fd, &m, sizeof(m.h), NULL, 0);
	if (rc < 0)
		iso_fail(w, strerror(-rc)); /* iso_later_fn releases it */
}

void blk_iso_stats(struct blk_vbd *vbd, struct blk_queue_info *qi)
{
	struct blk_iso *w = vbd->iso;
	union iso_msg m = { .h = { ISO_STATS, vbd->iso_id } }, *reply;
	unsigned nq = vbd->nr_queues;

	memset(qi, 0, nq * sizeof(*qi));
	if (!w || vbd->iso_stopping || !(reply = malloc(sizeof(*reply))))
		return;
	if (iso_call(w, &m, NULL, 0, ISO_STATS_REPLY, reply, ISO_REPLY_MS) == 0 &&
	    reply->stats.nq == nq)
		memcpy(qi, reply->stats.qi, nq * sizeof(*qi));
	free(reply);
}

void blk_iso_resized(struct blk_vbd *vbd)
{
	struct iso_sectors m = {
		.h = { ISO_SECTORS, vbd->iso_id },
		.sectors = __atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED),
	};
	int rc;

	if (!vbd->iso || vbd->iso->dead || vbd->iso_stopping)
		return;
	rc = pv_isolate_send(vbd->iso->fd, &m, sizeof(m), NULL, 0);
	if (rc < 0)
		iso_fail(vbd->iso, strerror(-rc));
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
