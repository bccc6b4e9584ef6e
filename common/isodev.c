// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --isolate domain for a backend's devices: a device's queues run in its
 * domain's worker process (isolate.c's pv_iso table), and this file is the
 * protocol every backend shares for that, so that a backend only says what
 * its START, STATS and STOPPED bodies hold and how its worker starts the
 * queues from them (docs/security.md, docs/backend-skeleton.md).
 *
 * One message per datagram: a header, then the body the type has, whose
 * size the backend's pv_isodev_desc fixes (anything else is malformed):
 *
 *   xenbus -> worker    START (+ fds)  STOP  STATS  USER+n (+ fds)
 *   worker -> xenbus    STARTED  STOPPED  STATS_REPLY  VIOLATION  USER_REPLY+n
 *
 * START, STATS and a USER request with a reply wait for it (a worker that
 * does not answer within 10 s is killed); STOP does not: the device is held
 * (pv_xb_dev_hold) until STOPPED, so the xenbus thread serves the other
 * devices while the queues drain, as a local stop does.  The xenbus process
 * trusts nothing a worker says beyond its own domain: a message of the
 * wrong size, about a device it does not serve, or not asked for kills the
 * worker, and a worker that dies fails its domain's devices only.
 *
 * The worker side is the --worker process's whole life (pv_isodev_worker):
 * it starts each device's queues (desc->w_start), drains them on STOP on
 * their own threads, relays their protocol violations, and once the xenbus
 * process is gone answers what it owes and ends.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvcommon.h"

#define ISO_REPLY_MS   10000  /* START, STATS, USER: a worker that takes longer is killed */
#define ISO_DRAIN_MS   120000 /* a stopping daemon's wait for a drain */
#define ISO_REASON_MAX 160

enum {
	ISO_START = 1, ISO_STOP, ISO_STATS, ISO_USER = 8,                /* to the worker */
	ISO_STARTED = 16, ISO_STOPPED, ISO_STATS_REPLY, ISO_VIOLATION, ISO_REPLY = 24, /* from it */
};

struct iso_hdr {
	uint32_t type;
	uint32_t id; /* the device's: its devid, unique in its domain, so in its worker */
};

/* The exact body size of each type: anything else is malformed (0 + 1: none). */
static size_t body_size(const struct pv_isodev_desc *d, uint32_t type)
{
	switch (type) {
	case ISO_START:
		return d->start_size + 1;
	case ISO_STOP:
	case ISO_STATS:
		return 1;
	case ISO_STARTED:
		return sizeof(int32_t) + 1;
	case ISO_STOPPED:
		return d->past_size + 1;
	case ISO_STATS_REPLY:
		return d->stats_size + 1;
	case ISO_VIOLATION:
		return ISO_REASON_MAX + 1;
	}
	if (type >= ISO_USER && type < ISO_USER + PV_ISODEV_USER_TYPES && d->user[type - ISO_USER].size)
		return d->user[type - ISO_USER].size + 1;
	if (type >= ISO_REPLY && type < ISO_REPLY + PV_ISODEV_USER_TYPES &&
	    d->user[type - ISO_REPLY].reply_size)
		return d->user[type - ISO_REPLY].reply_size + 1;
	return 0;
}

static size_t max_msg(const struct pv_isodev_desc *d)
{
	size_t m = 0;

	for (uint32_t t = 1; t < ISO_REPLY + PV_ISODEV_USER_TYPES; t++)
		if (body_size(d, t) > m)
			m = body_size(d, t);
	return sizeof(struct iso_hdr) + m - 1;
}

static bool well_formed(const struct pv_isodev_desc *d, const void *msg, ssize_t n)
{
	const struct iso_hdr *h = msg;

	return n >= (ssize_t)sizeof(*h) && (size_t)n + 1 == sizeof(*h) + body_size(d, h->type);
}

/* A message: its header and body in one allocation (max_msg bytes). */
static void *msg_new(const struct pv_isodev_desc *d, uint32_t type, uint32_t id)
{
	struct iso_hdr *h = calloc(1, max_msg(d));

	if (h)
		*h = (struct iso_hdr){ type, id };
	return h;
}

static void *body(void *msg)
{
	return (struct iso_hdr *)msg + 1;
}

static size_t msg_len(const struct pv_isodev_desc *d, const void *msg)
{
	return sizeof(struct iso_hdr) + body_size(d, ((const struct iso_hdr *)msg)->type) - 1;
}

/* ============================================================ xenbus side */

struct pv_isodev_table {
	struct pv_iso_table *iso;
	const struct pv_isodev_desc *desc;
	struct pv_iso_ops ops;
};

/* The devices a worker runs: *pv_iso_priv(w) heads the list. */
static struct pv_isodev **devs_of(struct pv_iso *w)
{
	return (struct pv_isodev **)pv_iso_priv(w);
}

static struct pv_isodev *find_dev(struct pv_iso *w, uint32_t id)
{
	struct pv_isodev *d;

	for (d = *devs_of(w); d && d->id != id; d = d->next)
		;
	return d;
}

/* The device leaves its worker (whose last device takes the worker along). */
static void detach(struct pv_isodev *d)
{
	struct pv_iso *w = d->w;
	struct pv_isodev **p = devs_of(w);

	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	d->w = NULL;
	d->next = NULL;
	pv_iso_put(w);
}

/* A stop is over (STOPPED, or the worker is gone: past NULL): the device goes on. */
static void stopped(struct pv_isodev *d, const void *past)
{
	pv_isodev_done_fn *done = d->done;
	struct pv_xb_dev *dev = d->dev;
	bool held = d->stopping;

	d->stopping = false;
	d->done = NULL;
	detach(d);
	if (done)
		done(d, past);
	if (held)
		pv_xb_dev_release(dev); /* may free d */
}

/* What a worker says unasked: STOPPED, VIOLATION. */
static bool on_message(struct pv_iso *w, void *msg, size_t len)
{
	struct pv_isodev_table *t = *pv_iso_table_priv(pv_iso_table_of(w));
	struct iso_hdr *h = msg;
	struct pv_isodev *d;
	char *reason;

	if (!well_formed(t->desc, msg, (ssize_t)len))
		return false;
	d = find_dev(w, h->id);
	if (!d) /* a violation may come after the device's stop: stale, not mad */
		return h->type == ISO_VIOLATION;
	switch (h->type) {
	case ISO_STOPPED:
		if (!d->stopping)
			return false; /* nobody stopped it */
		stopped(d, body(msg));
		return true;
	case ISO_VIOLATION:
		reason = body(msg);
		reason[ISO_REASON_MAX - 1] = '\0';
		for (char *c = reason; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		pv_xb_dev_request_disconnect(d->dev, reason);
		return true;
	}
	return false;
}

/* Every device there fails; the ones being stopped are released. */
static void on_died(struct pv_iso *w)
{
	struct pv_isodev *d;

	while ((d = *devs_of(w))) {
		if (d->stopping) {
			stopped(d, NULL);
		} else {
			/* d's queues are gone: its disconnect's stop finds no
			 * worker and finishes at once. */
			detach(d);
			pv_xb_dev_request_disconnect(d->dev, "worker process died");
		}
	}
}

int pv_isodev_table_create(struct pv_backend *b, const struct pv_isodev_desc *desc,
			   struct pv_isodev_table **out)
{
	struct pv_isodev_table *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -ENOMEM;
	t->desc = desc;
	t->ops = (struct pv_iso_ops){
		.max_msg = max_msg(desc),
		.message = on_message,
		.died = on_died,
	};
	rc = pv_iso_table_create(b, pv_backend_loop(b), &t->ops, &t->iso);
	if (rc < 0) {
		free(t);
		return rc;
	}
	*pv_iso_table_priv(t->iso) = t;
	*out = t;
	return 0;
}

void pv_isodev_table_destroy(struct pv_isodev_table *t)
{
	if (!t)
		return;
	pv_iso_table_destroy(t->iso);
	free(t);
}

/* The reply to req: the type it wants, about the same device. */
static bool is_reply(const void *msg, size_t len, const void *req)
{
	const struct iso_hdr *h = msg, *q = req;
	uint32_t want = q->type == ISO_START  ? ISO_STARTED
		      : q->type == ISO_STOP   ? ISO_STOPPED
		      : q->type == ISO_STATS  ? ISO_STATS_REPLY
					      : q->type - ISO_USER + ISO_REPLY;

	return len >= sizeof(*h) && h->type == want && h->id == q->id;
}

/* Send req (its reply's type is want) and wait for the reply's body. */
static int call(struct pv_isodev *d, void *req, const int *fds, unsigned nfds, uint32_t want,
		void *reply_body, int timeout_ms)
{
	const struct pv_isodev_desc *desc = d->t->desc;
	void *reply = msg_new(desc, want, d->id);
	int rc;

	if (!reply)
		return -ENOMEM;
	rc = pv_iso_call(d->w, req, msg_len(desc, req), fds, nfds, is_reply, reply,
			 msg_len(desc, reply), timeout_ms);
	if (rc == 0 && reply_body)
		memcpy(reply_body, body(reply), body_size(desc, want) - 1);
	free(reply);
	return rc;
}

int pv_isodev_start(struct pv_isodev_table *t, struct pv_isodev *d, struct pv_xb_dev *dev,
		    const void *start, const int *fds, unsigned nfds)
{
	void *m = msg_new(t->desc, ISO_START, pv_xb_dev_devid(dev));
	int32_t res = 0;
	struct pv_iso *w;
	int rc;

	if (!m)
		return -ENOMEM;
	rc = pv_iso_get(t->iso, pv_xb_dev_domid(dev), &w);
	if (rc < 0) {
		pv_xb_dev_log(dev, PV_LOG_ERR, "cannot start a worker process: %s", strerror(-rc));
		free(m);
		return rc;
	}
	memcpy(body(m), start, t->desc->start_size);
	*d = (struct pv_isodev){ .t = t, .dev = dev, .id = pv_xb_dev_devid(dev), .w = w };
	/* On the worker's list before any message about it can come. */
	d->next = *devs_of(w);
	*devs_of(w) = d;
	rc = call(d, m, fds, nfds, ISO_STARTED, &res, ISO_REPLY_MS);
	if (rc == 0)
		rc = res;
	if (rc > 0 || rc < -4095)
		rc = -EPROTO; /* a worker's nonsense */
	free(m);
	if (rc < 0 && d->w)
		detach(d);
	return rc;
}

void pv_isodev_stop(struct pv_isodev *d, bool wait, pv_isodev_done_fn *done)
{
	void *m, *past;
	int rc;

	if (!d->w) {
		if (done)
			done(d, NULL);
		return;
	}
	if (d->stopping) /* a stop is under way: it finishes on its own */
		return;
	d->done = done;
	if (pv_iso_dead(d->w)) {
		stopped(d, NULL);
		return;
	}
	m = msg_new(d->t->desc, ISO_STOP, d->id);
	past = wait ? calloc(1, d->t->desc->past_size + 1) : NULL;
	if (!m || !past) { /* no wait (or no memory for one): held until STOPPED */
		free(past);
		d->stopping = true;
		pv_xb_dev_hold(d->dev);
		/* Failed (or no memory): the worker is killed, on_died releases it. */
		if (!m || pv_iso_send(d->w, m, sizeof(struct iso_hdr), NULL, 0) < 0)
			pv_iso_kill(d->w, "cannot send a stop");
		free(m);
		return;
	}
	rc = call(d, m, NULL, 0, ISO_STOPPED, past, ISO_DRAIN_MS);
	if (rc < 0)
		pv_xb_dev_log(d->dev, PV_LOG_ERR, "worker process did not stop the queues: %s",
			      strerror(-rc));
	free(m);
	stopped(d, rc == 0 ? past : NULL); /* still attached: a failed call only killed it */
	free(past);
}

bool pv_isodev_running(const struct pv_isodev *d)
{
	return d->w && !d->stopping && !pv_iso_dead(d->w);
}

int pv_isodev_stats(struct pv_isodev *d, void *reply)
{
	void *m;
	int rc;

	if (!pv_isodev_running(d))
		return -ENOTCONN; /* d->t is not even set before a start */
	memset(reply, 0, d->t->desc->stats_size);
	m = msg_new(d->t->desc, ISO_STATS, d->id);
	if (!m)
		return -ENOMEM;
	rc = call(d, m, NULL, 0, ISO_STATS_REPLY, reply, ISO_REPLY_MS);
	free(m);
	return rc;
}

int pv_isodev_call(struct pv_isodev *d, unsigned user, const void *req, const int *fds,
		   unsigned nfds, void *reply)
{
	const struct pv_isodev_desc *desc;
	void *m;
	int rc;

	if (!d->t) /* never started */
		return -ENOTCONN;
	desc = d->t->desc;
	if (user >= PV_ISODEV_USER_TYPES || !desc->user[user].size)
		return -EINVAL;
	if (!pv_isodev_running(d))
		return -ENOTCONN;
	m = msg_new(desc, ISO_USER + user, d->id);
	if (!m)
		return -ENOMEM;
	memcpy(body(m), req, desc->user[user].size);
	if (desc->user[user].reply_size)
		rc = call(d, m, fds, nfds, ISO_REPLY + user, reply, ISO_REPLY_MS);
	else
		rc = pv_iso_send(d->w, m, msg_len(desc, m), fds, nfds);
	free(m);
	return rc;
}

/* ============================================================ worker side */

struct wctx {
	struct pv_backend *b;
	struct pv_loop *loop;
	int fd;
	const struct pv_isodev_desc *desc;
	size_t max;              /* max_msg(desc) */
	struct pv_isodev_w *devs;
	bool closing;            /* the xenbus process went: end once drained */
};

struct pv_isodev_w {
	struct wctx *w;
	struct pv_isodev_w *next;
	uint32_t id;
	unsigned stopping;       /* queues still draining */
	unsigned nq;
	struct pv_queue **q;     /* what a stop drains */
	void *priv;
	void *stopped;           /* the STOPPED message, ready: a stop cannot fail */
};

static void w_send(struct wctx *w, const void *m)
{
	int rc = pv_isolate_send(w->fd, m, msg_len(w->desc, m), NULL, 0);

	if (rc < 0 && !w->closing)
		pv_err(NULL, "worker: cannot tell the xenbus process: %s", strerror(-rc));
}

struct pv_backend *pv_isodev_w_backend(const struct pv_isodev_w *d)
{
	return d->w->b;
}

void *pv_isodev_w_priv(const struct pv_isodev_w *d)
{
	return d->priv;
}

int pv_isodev_w_set(struct pv_isodev_w *d, void *priv, struct pv_queue *const *q, unsigned nq)
{
	struct pv_queue **copy = nq ? calloc(nq, sizeof(*copy)) : NULL;

	if (nq && !copy)
		return -ENOMEM;
	if (nq)
		memcpy(copy, q, nq * sizeof(*copy));
	free(d->q);
	d->q = copy;
	d->nq = nq;
	d->priv = priv;
	return 0;
}

struct w_violation {
	struct wctx *w;
	struct iso_hdr h;
	char reason[ISO_REASON_MAX];
};

static void w_violation_send(void *opaque)
{
	struct w_violation *v = opaque;

	w_send(v->w, &v->h);
	free(v);
}

void pv_isodev_w_violation(void *opaque, const char *reason)
{
	struct pv_isodev_w *d = opaque;
	struct w_violation *v = calloc(1, sizeof(*v));

	if (!v)
		return;
	v->w = d->w;
	v->h = (struct iso_hdr){ ISO_VIOLATION, d->id };
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	if (pv_loop_call(d->w->loop, w_violation_send, v) < 0)
		free(v);
}

static struct pv_isodev_w *w_find(struct wctx *w, uint32_t id)
{
	struct pv_isodev_w *d;

	for (d = w->devs; d && d->id != id; d = d->next)
		;
	return d;
}

static void w_unlink(struct wctx *w, struct pv_isodev_w *d)
{
	struct pv_isodev_w **p = &w->devs;

	while (*p != d)
		p = &(*p)->next;
	*p = d->next;
	free(d->q);
	free(d->stopped);
	free(d);
}

static int w_start(struct wctx *w, uint32_t id, void *start, int *fds, unsigned nfds)
{
	struct pv_isodev_w *d;
	int rc;

	if (w_find(w, id)) {
		pv_isolate_close_fds(fds, nfds);
		return -EEXIST;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		pv_isolate_close_fds(fds, nfds);
		return -ENOMEM;
	}
	*d = (struct pv_isodev_w){ .w = w, .id = id, .next = w->devs };
	d->stopped = msg_new(w->desc, ISO_STOPPED, id);
	if (!d->stopped) {
		pv_isolate_close_fds(fds, nfds);
		free(d);
		return -ENOMEM;
	}
	w->devs = d;
	rc = w->desc->w_start(d, start, fds, nfds);
	if (rc < 0)
		w_unlink(w, d);
	return rc;
}

static void w_stopped(struct wctx *w, struct pv_isodev_w *d)
{
	/* Each queue has ended: the backend's stops are immediate. */
	w->desc->w_stopped(d, body(d->stopped));
	w_send(w, d->stopped);
	w_unlink(w, d);
	if (w->closing && !w->devs)
		pv_loop_stop(w->loop);
}

static void w_queue_done(void *opaque)
{
	struct pv_isodev_w *d = opaque;

	if (--d->stopping == 0)
		w_stopped(d->w, d);
}

/* Drain on the queues' own threads; STOPPED once the last one ended. */
static void w_stop(struct wctx *w, struct pv_isodev_w *d)
{
	if (d->stopping)
		return;
	d->stopping = d->nq + 1; /* + 1: none finishes before every stop began */
	for (unsigned i = 0; i < d->nq; i++)
		if (pv_queue_stop_begin(d->q[i], w->loop, w_queue_done, d) < 0)
			d->stopping--; /* stops in w_stopped, synchronously */
	w_queue_done(d);
}

/* The xenbus process is gone (or mad): answer what is owed, then end. */
static void w_closing(struct wctx *w)
{
	struct pv_isodev_w *d, *next;

	pv_loop_del_fd(w->loop, w->fd);
	w->closing = true;
	for (d = w->devs; d; d = next) {
		next = d->next; /* w_stop may free d */
		w_stop(w, d);
	}
	if (!w->devs)
		pv_loop_stop(w->loop);
}

static void w_request(struct wctx *w, void *m, int *fds, unsigned nfds)
{
	struct iso_hdr *h = m;
	struct pv_isodev_w *d = w_find(w, h->id);
	uint32_t user = h->type - ISO_USER;
	void *r;

	if (h->type != ISO_START && (h->type < ISO_USER || !d || d->stopping)) {
		pv_isolate_close_fds(fds, nfds); /* only START and USER carry fds */
		fds = NULL;
		nfds = 0;
	}
	switch (h->type) {
	case ISO_START:
		r = msg_new(w->desc, ISO_STARTED, h->id);
		if (r)
			*(int32_t *)body(r) = w_start(w, h->id, body(m), fds, nfds);
		else
			pv_isolate_close_fds(fds, nfds);
		break;
	case ISO_STOP:
		if (d)
			w_stop(w, d);
		return;
	case ISO_STATS:
		/* Zeros for a device that is not running (any more). */
		r = msg_new(w->desc, ISO_STATS_REPLY, h->id);
		if (r && d && !d->stopping)
			w->desc->w_stats(d, body(r));
		break;
	default: /* USER + n */
		r = w->desc->user[user].reply_size ? msg_new(w->desc, ISO_REPLY + user, h->id)
						   : NULL;
		if (d && !d->stopping)
			w->desc->w_message(d, user, body(m), fds, nfds, r ? body(r) : NULL);
		if (!w->desc->user[user].reply_size)
			return;
		break;
	}
	if (r)
		w_send(w, r);
	free(r);
}

static void w_on_msg(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct wctx *w = opaque;
	void *m = malloc(w->max);
	int fds[PV_ISOLATE_MAX_FDS];
	unsigned nfds = 0;
	ssize_t n;

	(void)loop;
	(void)events;
	if (!m)
		return;
	n = pv_isolate_recv(fd, m, w->max, fds, PV_ISOLATE_MAX_FDS, &nfds);
	if (n == -EAGAIN) {
		free(m);
		return;
	}
	/* Only what the xenbus process sends: a worker's type is madness. */
	if (n <= 0 || !well_formed(w->desc, m, n) || ((struct iso_hdr *)m)->type >= ISO_STARTED) {
		pv_isolate_close_fds(fds, nfds);
		free(m);
		w_closing(w);
		return;
	}
	w_request(w, m, fds, nfds);
	free(m);
}

int pv_isodev_worker(struct pv_backend *b, struct pv_loop *loop, int fd,
		     const struct pv_isodev_desc *desc)
{
	struct wctx w = { .b = b, .loop = loop, .fd = fd, .desc = desc, .max = max_msg(desc) };
	int rc;

	rc = pv_loop_add_fd(loop, fd, PV_LOOP_IN, w_on_msg, &w);
	if (rc < 0) {
		pv_err(NULL, "worker: loop: %s", strerror(-rc));
		return 1;
	}
	rc = pv_loop_run(loop);
	/* Only after every device drained (w_stopped) or on a loop failure. */
	while (w.devs)
		w_stopped(&w, w.devs); /* the backend's stops wait here */
	close(fd);
	return rc < 0 ? 1 : 0;
}
