// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pv_queue: the protocol-neutral half of a backend's data path (see
 * pvcommon.h "queue").  A queue owns a thread, its pv_loop and pv_hv handle,
 * up to PV_QUEUE_MAX_RINGS mapped shared rings and PV_QUEUE_MAX_PORTS bound
 * event channels; per ring a pool of request slots (one per ring entry),
 * the answered-but-not-pushed list, and the in-flight journal.  A protocol
 * (blkback/ring.c; netback, usbback) plugs in through pv_queue_ops and only
 * parses, validates and serves requests.
 *
 * The rules that live here, once:
 *  - a request is copied out of the shared ring once (pv_ring_back_copy_req)
 *    after the producer-overflow check, journalled, and handed over as a
 *    private copy; a predecessor's owed requests (journal) come first;
 *  - a slot is recycled only after its response was pushed: until then the
 *    journal keeps its record, so a successor knows what was not seen;
 *  - responses are pushed in one go, with at most one notify per port;
 *  - a stop answers what was pushed before it (drain_on_stop rings), waits
 *    for the protocol to go idle, and ends the thread;
 *  - a violation marks the queue dead (nothing more is consumed) and asks
 *    the xenbus thread to disconnect the device.
 *
 * Threads: start/stop on the xenbus thread; everything else on the queue
 * thread, except pv_queue_info (racy reads of aligned counters) and the
 * accessors of immutable fields.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pvcommon.h"
#include "pvring.h"

struct qring {
	struct pv_queue_ring_params p;
	void *addr;                /* the mapped ring pages, NULL until mapped */
	struct pv_ring_back ring;
	unsigned nr_slots;         /* = ring entries */
	uint8_t *slots;            /* nr_slots x p.slot_size */
	unsigned *free;            /* stack of free slot indexes */
	unsigned nr_free;
	unsigned *answered;        /* answered, not pushed: not reusable yet */
	unsigned nr_answered;
	struct pv_journal *journal;
	unsigned *reissue;         /* slots a killed predecessor owes, in ring order */
	unsigned nr_reissue, reissue_next;
	uint32_t stop_prod;        /* stopping: consume up to here */
	uint32_t event_prod;       /* req_prod at the last event: did it move? */
	uint64_t no_slot, events, notifies, spurious, delayed;
};

struct pv_queue {
	const struct pv_queue_ops *ops;
	char name[64];             /* log prefix: <device>/q<idx> */
	char dev_name[48];         /* <device>: journal file names */
	struct pv_xb_dev *dev;
	void (*violation)(void *opaque, const char *reason); /* without dev */
	void *violation_opaque;
	unsigned idx;
	uint16_t domid;
	void *priv;
	struct pv_hv *hv;
	struct pv_loop *loop;      /* its own, or its worker's */
	struct pv_worker *worker;  /* NULL: a thread of its own */
	pthread_t thread;
	bool thread_started, started, evtchn_in_loop;
	/* On a worker: attached (serving), detached (stop complete, fini
	 * done on the worker), and the stopper waiting for detached. */
	bool attached, detached;
	/* pv_queue_stop_begin: who hears that the stop is complete. */
	bool stop_begun;
	struct pv_loop *home;
	pv_loop_call_fn *done;
	void *done_opaque;
	pthread_mutex_t fin_lock;
	pthread_cond_t fin_cond;
	unsigned nr_rings, nr_ports;
	struct qring rings[PV_QUEUE_MAX_RINGS];
	uint32_t remote_port[PV_QUEUE_MAX_PORTS];
	int port[PV_QUEUE_MAX_PORTS]; /* local ports, -1 when unbound */
	bool stopping, dead;
	/* Event storms (XSA-391): events that bring no request, in a row, and
	 * the ports held masked until the timer unmasks them. */
	unsigned storm_streak, storm_delay_ms;
	uint32_t masked;           /* bit k: port[k] waits for the timer */
	int64_t unmask_timer;
	struct pv_ratelimit rl;    /* lines the guest causes */
	/* Our private copy of the request pv_queue_next() hands out. */
	union {
		uint8_t b[PV_QUEUE_MAX_ENT];
		uint64_t align;
	} raw;
};

void *pv_queue_priv(const struct pv_queue *q) { return q->priv; }
const char *pv_queue_name(const struct pv_queue *q) { return q->name; }
uint16_t pv_queue_domid(const struct pv_queue *q) { return q->domid; }
unsigned pv_queue_idx(const struct pv_queue *q) { return q->idx; }
struct pv_loop *pv_queue_loop(struct pv_queue *q) { return q->loop; }
struct pv_hv *pv_queue_hv(struct pv_queue *q) { return q->hv; }
bool pv_queue_stopping(const struct pv_queue *q) { return q->stopping; }
bool pv_queue_dead(const struct pv_queue *q) { return q->dead; }
bool pv_queue_polled(const struct pv_queue *q) { return q->worker != NULL; }

unsigned pv_queue_nr_slots(const struct pv_queue *q, unsigned ring)
{
	return q->rings[ring].nr_slots;
}

void *pv_queue_slot(struct pv_queue *q, unsigned ring, unsigned i)
{
	struct qring *r = &q->rings[ring];

	return r->slots + (size_t)i * r->p.slot_size;
}

unsigned pv_queue_slot_index(const struct pv_queue *q, unsigned ring, const void *slot)
{
	const struct qring *r = &q->rings[ring];

	return (unsigned)(((const uint8_t *)slot - r->slots) / r->p.slot_size);
}

/* ------------------------------------------------------------ logging */

void pv_queue_violation(struct pv_queue *q, const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	if (q->dead)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	__atomic_store_n(&q->dead, true, __ATOMIC_RELAXED);
	pv_err(q->name, "protocol violation: %s; disconnecting", reason);
	if (q->dev)
		pv_xb_dev_request_disconnect(q->dev, reason);
	else if (q->violation)
		q->violation(q->violation_opaque, reason);
}

void pv_queue_log(struct pv_queue *q, enum pv_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pv_vlog_rl(&q->rl, lvl, q->name, fmt, ap);
	va_end(ap);
}

uint64_t pv_queue_log_suppressed(const struct pv_queue *q)
{
	return __atomic_load_n(&q->rl.suppressed, __ATOMIC_RELAXED);
}

void pv_queue_bad_request(struct pv_queue *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pv_vlog_rl(&q->rl, PV_LOG_WARN, q->name, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------- data path */

/* "" for a queue's only ring, "tx " for one of several: log messages. */
static const char *label(const struct pv_queue *q, const struct qring *r, char *buf, size_t len)
{
	if (q->nr_rings == 1)
		return "";
	snprintf(buf, len, "%s ", r->p.name);
	return buf;
}

static uint32_t limit_of(struct qring *r, struct pv_queue *q)
{
	return q->stopping ? r->stop_prod : r->ring.sring->req_prod;
}

bool pv_queue_pending(struct pv_queue *q, unsigned ring)
{
	struct qring *r = &q->rings[ring];

	if (q->dead)
		return false;
	if (r->reissue_next < r->nr_reissue)
		return true;
	if (!r->nr_free || (q->stopping && !r->p.drain_on_stop))
		return false;
	return r->ring.req_cons != limit_of(r, q);
}

unsigned pv_queue_avail(struct pv_queue *q, unsigned ring)
{
	struct qring *r = &q->rings[ring];
	unsigned owed = r->nr_reissue - r->reissue_next;
	uint32_t n;

	if (q->dead)
		return 0;
	if (q->stopping && !r->p.drain_on_stop)
		return owed;
	n = limit_of(r, q) - r->ring.req_cons;
	return owed + (n < r->nr_free ? n : r->nr_free);
}

bool pv_queue_want(struct pv_queue *q, unsigned ring, unsigned n)
{
	struct qring *r = &q->rings[ring];
	uint32_t prod;

	if (pv_queue_avail(q, ring) >= n)
		return true;
	/* Polled: the worker arms the rings when it goes idle. */
	if (q->dead || q->stopping || q->worker)
		return false;
	do {
		prod = r->ring.sring->req_prod;
		r->ring.sring->req_event = prod + 1;
		pv_mb(); /* req_event is visible before we re-read req_prod. */
	} while (r->ring.sring->req_prod != prod);
	return pv_queue_avail(q, ring) >= n;
}

/* RING_REQUEST_PROD_OVERFLOW: the frontend loses the device. */
static int overflow(struct pv_queue *q, struct qring *r)
{
	char lb[16];

	pv_queue_violation(q, "%sring producer overflow (req_prod beyond the free slots)",
			   label(q, r, lb, sizeof(lb)));
	return -EPROTO;
}

int pv_queue_next(struct pv_queue *q, unsigned ring, void **slot, const void **req)
{
	struct qring *r = &q->rings[ring];
	uint32_t rp;
	unsigned i;

	if (q->dead)
		return 0;
	/* What a killed predecessor owed goes first, in ring order, from the
	 * journal's copies (those slots were kept off the free list). */
	if (r->reissue_next < r->nr_reissue) {
		i = r->reissue[r->reissue_next++];
		*slot = pv_queue_slot(q, ring, i);
		*req = pv_journal_entry(r->journal, i);
		return 1;
	}
	if (q->stopping) {
		/* Only what the frontend pushed before the stop; then no more. */
		if (!r->p.drain_on_stop || r->ring.req_cons == r->stop_prod)
			return 0;
		rp = r->stop_prod;
	} else if (r->ring.req_cons == r->ring.sring->req_prod) {
		/* Empty: ask for an event, then look once more (the race).
		 * Polled: no event while the worker polls (it arms us when
		 * it goes idle), so the frontend need not notify per batch. */
		if (q->worker || !pv_ring_back_final_check(&r->ring))
			return 0;
		if (pv_ring_back_avail(&r->ring, &rp) < 0)
			goto overflow;
	} else if (pv_ring_back_avail(&r->ring, &rp) < 0) {
		goto overflow;
	}
	if (r->ring.req_cons == rp)
		return 0;
	if (!r->nr_free) {
		__atomic_store_n(&r->no_slot, r->no_slot + 1, __ATOMIC_RELAXED);
		return -ENOBUFS;
	}
	i = r->free[--r->nr_free];
	pv_ring_back_copy_req(&r->ring, q->raw.b, r->p.ent_size);
	if (r->journal)
		pv_journal_consumed(r->journal, i, r->ring.req_cons - 1, q->raw.b, r->p.ent_size);
	*slot = pv_queue_slot(q, ring, i);
	*req = q->raw.b;
	return 1;
overflow:
	return overflow(q, r);
}

int pv_queue_check_prod(struct pv_queue *q, unsigned ring)
{
	struct qring *r = &q->rings[ring];
	uint32_t rp;

	if (q->dead || q->stopping || pv_ring_back_avail(&r->ring, &rp) >= 0)
		return 0;
	return overflow(q, r);
}

void *pv_queue_answer(struct pv_queue *q, unsigned ring, void *slot)
{
	struct qring *r = &q->rings[ring];
	unsigned i = pv_queue_slot_index(q, ring, slot);
	uint32_t rsp_idx = r->ring.rsp_prod_pvt;

	if (r->journal)
		pv_journal_answered(r->journal, i, rsp_idx);
	r->answered[r->nr_answered++] = i;
	return pv_ring_back_rsp_slot(&r->ring);
}

void pv_queue_flush(struct pv_queue *q)
{
	bool notify[PV_QUEUE_MAX_PORTS] = { false };
	unsigned k, i;

	for (k = 0; k < q->nr_rings; k++) {
		struct qring *r = &q->rings[k];

		if (!r->nr_answered)
			continue;
		if (pv_ring_back_push(&r->ring))
			notify[r->p.port] = true;
		/* Visible now: the slots may take new requests, the records go. */
		for (i = 0; i < r->nr_answered; i++) {
			if (r->journal)
				pv_journal_released(r->journal, r->answered[i]);
			r->free[r->nr_free++] = r->answered[i];
		}
		r->nr_answered = 0;
	}
	for (k = 0; k < q->nr_ports; k++) {
		if (!notify[k])
			continue;
		pv_hv_evtchn_notify(q->hv, (uint32_t)q->port[k]);
		for (i = 0; i < q->nr_rings; i++)
			if (q->rings[i].p.port == k)
				__atomic_store_n(&q->rings[i].notifies, q->rings[i].notifies + 1,
						 __ATOMIC_RELAXED);
	}
}

/* Everything pushed before the stop consumed, the protocol idle: end. */
static void detach(struct pv_queue *q);

static void maybe_finish(struct pv_queue *q)
{
	unsigned k;

	if (q->detached || !q->stopping || !q->ops->idle(q))
		return;
	for (k = 0; k < q->nr_rings && !q->dead; k++) {
		struct qring *r = &q->rings[k];

		if (r->p.drain_on_stop &&
		    (r->reissue_next < r->nr_reissue || r->ring.req_cons != r->stop_prod))
			return;
	}
	pv_queue_flush(q);
	q->ops->quiesce(q);
	if (q->worker)
		detach(q);
	else
		pv_loop_stop(q->loop);
}

static void run(struct pv_queue *q, unsigned events)
{
	if (q->detached)
		return; /* a kick queued before the stop completed */
	q->ops->run(q, events);
	maybe_finish(q);
}

void pv_queue_run(struct pv_queue *q)
{
	run(q, PV_QUEUE_KICK);
}

/* Unmask the ports an event storm held masked (the timer). */
static void on_unmask(struct pv_loop *loop, void *opaque)
{
	struct pv_queue *q = opaque;
	unsigned k;

	q->unmask_timer = -1;
	for (k = 0; k < q->nr_ports; k++)
		if (q->masked & (1u << k))
			pv_hv_evtchn_unmask(q->hv, (uint32_t)q->port[k]);
	q->masked = 0;
}

/*
 * An event that brings no new request on any ring of its ports is
 * spurious (a Linux frontend notifies only after pushing, as
 * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY says).  After PV_QUEUE_STORM_STREAK of
 * them in a row the ports stay masked for a while, 1 ms doubling up to
 * PV_QUEUE_STORM_MAX_MS, so a guest that only notifies cannot keep a core
 * busy (XSA-391; Linux's lateeoi).  A request resets it.  True: keep the
 * fired ports masked (the timer unmasks them).
 */
static bool storm(struct pv_queue *q, uint32_t fired)
{
	bool spurious = true;
	unsigned k;

	for (k = 0; k < q->nr_rings; k++) {
		struct qring *r = &q->rings[k];
		uint32_t prod;

		if (!(fired & (1u << r->p.port)))
			continue;
		prod = r->ring.sring->req_prod;
		if (prod != r->event_prod)
			spurious = false;
		r->event_prod = prod;
	}
	if (!spurious) {
		q->storm_streak = 0;
		q->storm_delay_ms = 0;
		return false;
	}
	for (k = 0; k < q->nr_rings; k++)
		if (fired & (1u << q->rings[k].p.port))
			__atomic_store_n(&q->rings[k].spurious, q->rings[k].spurious + 1,
					 __ATOMIC_RELAXED);
	if (++q->storm_streak < PV_QUEUE_STORM_STREAK || q->stopping)
		return false;
	if (q->unmask_timer < 0) {
		q->storm_delay_ms = q->storm_delay_ms ? q->storm_delay_ms * 2 : 1;
		if (q->storm_delay_ms > PV_QUEUE_STORM_MAX_MS)
			q->storm_delay_ms = PV_QUEUE_STORM_MAX_MS;
		q->unmask_timer = pv_loop_add_timer(q->loop, q->storm_delay_ms, on_unmask, q);
		if (q->unmask_timer < 0)
			return false;
		pv_queue_log(q, PV_LOG_WARN,
			     "event storm: %u events in a row brought no request; "
			     "events wait %u ms", q->storm_streak, q->storm_delay_ms);
	}
	for (k = 0; k < q->nr_rings; k++)
		if (fired & (1u << q->rings[k].p.port))
			__atomic_store_n(&q->rings[k].delayed, q->rings[k].delayed + 1,
					 __ATOMIC_RELAXED);
	return true;
}

static void on_evtchn(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct pv_queue *q = opaque;
	uint32_t fired = 0, held = 0;
	int port[PV_QUEUE_MAX_PORTS];
	unsigned i, k, n = 0;

	/* A fired port comes out once until unmasked: one pending() per port
	 * of the handle, no -EAGAIN round. */
	for (i = 0; i < q->nr_ports; i++) {
		port[n] = pv_hv_evtchn_pending(q->hv);
		if (port[n] < 0)
			break;
		for (k = 0; k < q->nr_ports; k++)
			if (q->port[k] == port[n])
				fired |= 1u << k;
		n++;
	}
	if (fired && storm(q, fired))
		held = fired;
	for (i = 0; i < n; i++) {
		for (k = 0; k < q->nr_ports; k++)
			if (q->port[k] == port[i] && (held & (1u << k)))
				break;
		if (k < q->nr_ports)
			q->masked |= 1u << k;
		else
			pv_hv_evtchn_unmask(q->hv, (uint32_t)port[i]);
	}
	for (k = 0; k < q->nr_rings; k++)
		if (fired & (1u << q->rings[k].p.port))
			__atomic_store_n(&q->rings[k].events, q->rings[k].events + 1,
					 __ATOMIC_RELAXED);
	run(q, fired ? fired : PV_QUEUE_KICK);
}

static bool on_poll(void *opaque)
{
	struct pv_queue *q = opaque;
	bool busy = q->ops->poll(q);

	maybe_finish(q);
	return busy;
}

/* The worker goes idle: events on every ring again, then a last look. */
static bool on_arm(void *opaque)
{
	struct pv_queue *q = opaque;
	unsigned k;

	if (q->dead)
		return false;
	for (k = 0; k < q->nr_rings; k++)
		q->rings[k].ring.sring->req_event = q->rings[k].ring.req_cons + 1;
	pv_mb(); /* req_event is visible before poll re-reads req_prod. */
	return on_poll(q);
}

/* ------------------------------------------------------------ worker */

static void on_kick(void *opaque);

/* On the worker's thread: the queue's fds into the worker's loop, the
 * protocol's start, the poller; undone here when something fails. */
static int attach(void *opaque)
{
	struct pv_queue *q = opaque;
	int rc;

	rc = pv_loop_add_fd(q->loop, pv_hv_evtchn_fd(q->hv), PV_LOOP_IN, on_evtchn, q);
	if (rc < 0)
		return rc;
	q->evtchn_in_loop = true;
	q->started = true;
	rc = q->ops->start(q);
	if (rc == 0)
		rc = pv_worker_add_poll(q->worker, on_poll, on_arm, q);
	if (rc == 0)
		rc = pv_loop_call(q->loop, on_kick, q);
	if (rc == 0) {
		q->attached = true;
		return 0;
	}
	pv_worker_del_poll(q->worker, q);
	q->ops->fini(q);
	q->started = false;
	pv_loop_del_fd(q->loop, pv_hv_evtchn_fd(q->hv));
	q->evtchn_in_loop = false;
	return rc;
}

/* The stop is complete: tell pv_queue_stop_begin's caller (once). */
static void stop_complete(struct pv_queue *q)
{
	if (q->done && pv_loop_call(q->home, q->done, q->done_opaque) < 0)
		pv_err(q->name, "cannot report the end of the stop: the device stays closing");
}

/* The stop is complete (worker's thread): out of the worker, the protocol
 * finished (fini belongs to the thread whose loop holds its fds and
 * timers), then the stopper may go on. */
static void detach(struct pv_queue *q)
{
	if (q->unmask_timer >= 0)
		pv_loop_del_timer(q->loop, q->unmask_timer);
	q->unmask_timer = -1;
	pv_worker_del_poll(q->worker, q);
	pv_loop_del_fd(q->loop, pv_hv_evtchn_fd(q->hv));
	q->evtchn_in_loop = false;
	q->ops->fini(q);
	q->started = false;
	pthread_mutex_lock(&q->fin_lock);
	q->detached = true;
	pthread_cond_signal(&q->fin_cond);
	pthread_mutex_unlock(&q->fin_lock);
	stop_complete(q);
}

static int barrier(void *opaque)
{
	(void)opaque; /* every call queued before this one has run */
	return 0;
}

static void on_kick(void *opaque)
{
	run(opaque, PV_QUEUE_KICK);
}

static void on_stop(void *opaque)
{
	struct pv_queue *q = opaque;
	unsigned k;
	uint32_t rp;

	/* Requests pushed before the frontend closed (or before SIGTERM) are
	 * still answered: consume up to the producer index seen now, no
	 * further (a frontend that keeps pushing cannot hold the stop up). */
	for (k = 0; k < q->nr_rings; k++) {
		struct qring *r = &q->rings[k];

		r->stop_prod = r->ring.req_cons;
		if (!q->dead && r->p.drain_on_stop && pv_ring_back_avail(&r->ring, &rp) >= 0)
			r->stop_prod = rp;
	}
	q->stopping = true;
	run(q, PV_QUEUE_KICK); /* ends with maybe_finish */
}

static void *queue_thread(void *opaque)
{
	struct pv_queue *q = opaque;
	char tname[32];

	/* Thread names are 15 bytes at most: "<proto><domid>q<idx>". */
	snprintf(tname, sizeof(tname), "%s%uq%u", q->ops->proto, q->domid, q->idx);
	tname[15] = 0;
	pthread_setname_np(pthread_self(), tname);
	pv_confine_thread(); /* before the first look at a guest's ring */
	pv_loop_run(q->loop);
	stop_complete(q); /* pv_loop_stop came from maybe_finish */
	return NULL;
}

/* ------------------------------------------------------------ journal */

/*
 * A ring's journal.  On a restart the predecessor's journal says what it
 * owed: those requests are re-issued first (their slots stay off the free
 * list) and consuming goes on where it stopped.  Without one (first start, a
 * predecessor stopped by SIGTERM answers everything and removes its journal,
 * or a journal that is not this ring's) a restart resumes at rsp_prod.
 * No journal at all (no journal_dir, or it cannot be written) only loses
 * the protection against a kill.
 */
static void journal_path(const struct pv_queue *q, const struct qring *r, const char *dir,
			 char *buf, size_t len)
{
	/* One ring keeps the name blkback always used: <device>-q<idx>. */
	if (q->nr_rings == 1)
		snprintf(buf, len, "%s/%s-q%u.journal", dir, q->dev_name, q->idx);
	else
		snprintf(buf, len, "%s/%s-q%u-%s.journal", dir, q->dev_name, q->idx, r->p.name);
}

/* Take over the predecessor's journal: 1 when it applies (what it owes is
 * in r->reissue, those slots off the free list), 0 when it does not. */
static int journal_resume(struct pv_queue *q, struct qring *r, const char *path)
{
	uint32_t cons;
	char lb[16];
	bool *owed;
	unsigned i;
	int rc;

	r->reissue = calloc(r->nr_slots, sizeof(*r->reissue));
	owed = calloc(r->nr_slots, sizeof(*owed));
	if (!r->reissue || !owed) {
		free(owed);
		return -ENOMEM; /* queue_free keeps the journal */
	}
	rc = pv_journal_recover(r->journal, r->ring.sring->rsp_prod, r->ring.sring->req_prod, &cons,
				r->reissue, &r->nr_reissue);
	if (rc < 0) {
		free(owed);
		r->nr_reissue = 0;
		pv_warn(q->name, "journal %s disagrees with the ring: resuming at rsp_prod", path);
		pv_journal_close(r->journal, false);
		r->journal = NULL;
		return 0;
	}
	r->ring.req_cons = cons;
	for (i = 0; i < r->nr_reissue; i++)
		owed[r->reissue[i]] = true;
	r->nr_free = 0;
	for (i = r->nr_slots; i-- > 0;)
		if (!owed[i])
			r->free[r->nr_free++] = i;
	free(owed);
	pv_info(q->name, "journal: re-issuing %u %srequest(s) the previous daemon left "
		"unanswered, consuming from ring index %u", r->nr_reissue, label(q, r, lb, sizeof(lb)),
		cons);
	return 1;
}

static int journal_start(struct pv_queue *q, struct qring *r, const struct pv_queue_params *p)
{
	struct pv_journal_id id = {
		.domid = p->domid,
		.evtchn = p->ports[r->p.port],
		.tag = r->p.journal_tag,
		.nr_refs = r->p.nr_refs,
		.nr_slots = r->nr_slots,
		.ent_size = (uint32_t)r->p.ent_size,
	};
	char path[PATH_MAX];
	int rc;

	if (p->resume)
		pv_ring_back_resume(&r->ring);
	if (!p->journal_dir || !r->p.journal)
		return 0;
	memcpy(id.refs, r->p.refs, r->p.nr_refs * sizeof(uint32_t));
	journal_path(q, r, p->journal_dir, path, sizeof(path));
	if (p->resume) {
		rc = pv_journal_reopen(path, &id, &r->journal);
		if (rc == 0)
			rc = journal_resume(q, r, path);
		else if (rc != -ENOENT)
			pv_warn(q->name, "journal %s: %s; resuming at rsp_prod", path, strerror(-rc));
		if (rc == 1 || rc == -ENOMEM)
			return rc < 0 ? rc : 0;
	}
	rc = pv_journal_create(path, &id, &r->journal);
	if (rc < 0) {
		r->journal = NULL;
		pv_warn(q->name, "cannot create journal %s: %s (in-flight requests would be lost if "
			"the daemon were killed)", path, strerror(-rc));
	}
	return 0;
}

/* ---------------------------------------------------------- lifecycle */

static int ring_start(struct pv_queue *q, struct qring *r, const struct pv_queue_params *p)
{
	unsigned i;
	int rc;

	rc = pv_hv_map(q->hv, p->domid, r->p.nr_refs, r->p.refs, true, &r->addr);
	if (rc < 0) {
		r->addr = NULL;
		pv_err(q->name, "cannot map the %s ring: %s", r->p.name, strerror(-rc));
		return rc;
	}
	rc = pv_ring_back_init(&r->ring, r->addr, (size_t)r->p.nr_refs * PV_PAGE_SIZE,
			       r->p.ent_size);
	if (rc < 0)
		return rc;
	r->nr_slots = r->ring.nr_ents;
	r->slots = calloc(r->nr_slots, r->p.slot_size);
	r->free = calloc(r->nr_slots, sizeof(*r->free));
	r->answered = calloc(r->nr_slots, sizeof(*r->answered));
	if (!r->slots || !r->free || !r->answered)
		return -ENOMEM;
	/* Lowest slot on top: a light load keeps to the first slots. */
	for (i = r->nr_slots; i-- > 0;)
		r->free[r->nr_free++] = i;
	return journal_start(q, r, p);
}

static bool nothing_owed(const struct pv_queue *q)
{
	unsigned k;

	for (k = 0; k < q->nr_rings; k++)
		if (q->rings[k].nr_free + q->rings[k].nr_answered != q->rings[k].nr_slots)
			return false;
	return true;
}

static void queue_free(struct pv_queue *q)
{
	/* Stopped with every slot free: nothing is owed, drop the files.
	 * Otherwise (a queue that never ran, buffers posted for us still
	 * held, a dead queue) a successor may need them. */
	bool remove = (q->thread_started || q->attached) && nothing_owed(q);
	unsigned k;

	if (q->started)
		q->ops->fini(q);
	if (q->unmask_timer >= 0 && q->loop)
		pv_loop_del_timer(q->loop, q->unmask_timer);
	if (q->evtchn_in_loop)
		pv_loop_del_fd(q->loop, pv_hv_evtchn_fd(q->hv));
	for (k = 0; k < q->nr_ports; k++)
		if (q->port[k] >= 0)
			pv_hv_evtchn_close(q->hv, (uint32_t)q->port[k]);
	for (k = 0; k < q->nr_rings; k++) {
		struct qring *r = &q->rings[k];

		if (r->addr)
			pv_hv_unmap(q->hv, r->addr, r->p.nr_refs);
		pv_journal_close(r->journal, remove);
		free(r->reissue);
		free(r->slots);
		free(r->free);
		free(r->answered);
	}
	if (q->loop && !q->worker)
		pv_loop_destroy(q->loop);
	pthread_cond_destroy(&q->fin_cond);
	pthread_mutex_destroy(&q->fin_lock);
	if (q->hv)
		pv_hv_close(q->hv);
	pv_ratelimit_flush(&q->rl, q->name);
	free(q);
}

static bool params_valid(const struct pv_queue_ops *ops, const struct pv_queue_params *p)
{
	unsigned k;

	if (!ops->proto || !ops->start || !ops->run || !ops->poll || !ops->idle || !ops->quiesce ||
	    !ops->fini)
		return false;
	if (!p->nr_rings || p->nr_rings > PV_QUEUE_MAX_RINGS || !p->nr_ports ||
	    p->nr_ports > PV_QUEUE_MAX_PORTS || !p->name)
		return false;
	for (k = 0; k < p->nr_rings; k++) {
		const struct pv_queue_ring_params *r = &p->rings[k];

		if (!r->name || !r->nr_refs || r->nr_refs > PV_RING_MAX_PAGES || !r->ent_size ||
		    r->ent_size > PV_QUEUE_MAX_ENT || !r->slot_size || r->port >= p->nr_ports)
			return false;
	}
	return true;
}

int pv_queue_start(const struct pv_queue_ops *ops, const struct pv_queue_params *p,
		   struct pv_queue **out)
{
	struct pv_queue *q;
	unsigned k;
	int rc;

	if (!params_valid(ops, p))
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->ops = ops;
	q->dev = p->dev;
	q->violation = p->violation;
	q->violation_opaque = p->violation_opaque;
	q->idx = p->idx;
	q->domid = p->domid;
	q->priv = p->priv;
	q->nr_rings = p->nr_rings;
	q->nr_ports = p->nr_ports;
	q->worker = p->worker;
	q->unmask_timer = -1;
	pthread_mutex_init(&q->fin_lock, NULL);
	pthread_cond_init(&q->fin_cond, NULL);
	snprintf(q->name, sizeof(q->name), "%s/q%u", p->name, p->idx);
	snprintf(q->dev_name, sizeof(q->dev_name), "%s", p->name);
	for (k = 0; k < q->nr_ports; k++) {
		q->port[k] = -1;
		q->remote_port[k] = p->ports[k];
	}
	for (k = 0; k < q->nr_rings; k++)
		q->rings[k].p = p->rings[k];

	rc = pv_hv_open(p->hv_kind, &q->hv);
	if (rc < 0) {
		q->hv = NULL;
		pv_err(q->name, "cannot open the hypervisor interface: %s", strerror(-rc));
		goto fail;
	}
	for (k = 0; k < q->nr_rings; k++) {
		rc = ring_start(q, &q->rings[k], p);
		if (rc < 0)
			goto fail;
	}
	for (k = 0; k < q->nr_ports; k++) {
		rc = pv_hv_evtchn_bind(q->hv, p->domid, p->ports[k]);
		if (rc < 0) {
			pv_err(q->name, "cannot bind event channel %u: %s", p->ports[k], strerror(-rc));
			goto fail;
		}
		q->port[k] = rc;
	}
	if (q->worker) {
		q->loop = pv_worker_loop(q->worker);
		rc = pv_worker_call(q->worker, attach, q);
		if (rc < 0)
			goto fail;
		pv_worker_attach(q->worker, 1);
		*out = q;
		return 0;
	}
	rc = pv_loop_create(&q->loop);
	if (rc < 0) {
		q->loop = NULL;
		goto fail;
	}
	rc = pv_loop_add_fd(q->loop, pv_hv_evtchn_fd(q->hv), PV_LOOP_IN, on_evtchn, q);
	if (rc < 0)
		goto fail;
	q->evtchn_in_loop = true;
	q->started = true;
	rc = ops->start(q);
	if (rc < 0)
		goto fail;
	if (p->poll_us)
		pv_loop_set_poll(q->loop, on_poll, q, p->poll_us);
	/* Requests may be waiting already: look once when the thread starts. */
	rc = pv_loop_call(q->loop, on_kick, q);
	if (rc < 0)
		goto fail;
	rc = -pthread_create(&q->thread, NULL, queue_thread, q);
	if (rc < 0)
		goto fail;
	q->thread_started = true;
	*out = q;
	return 0;
fail:
	queue_free(q);
	return rc;
}

int pv_queue_stop_begin(struct pv_queue *q, struct pv_loop *home, pv_loop_call_fn *done,
			void *opaque)
{
	int rc;

	if (q->stop_begun)
		return -EALREADY;
	q->home = home;
	q->done = done;
	q->done_opaque = opaque;
	/* Published to the queue's thread by pv_loop_call's lock. */
	if (q->attached || q->thread_started)
		rc = pv_loop_call(q->loop, on_stop, q);
	else
		rc = pv_loop_call(home, done, opaque); /* nothing runs: done now */
	if (rc < 0) {
		q->done = NULL;
		return rc;
	}
	q->stop_begun = true;
	return 0;
}

void pv_queue_stop(struct pv_queue *q)
{
	if (q->attached) {
		if (q->stop_begun || pv_loop_call(q->loop, on_stop, q) == 0) {
			pthread_mutex_lock(&q->fin_lock);
			while (!q->detached)
				pthread_cond_wait(&q->fin_cond, &q->fin_lock);
			pthread_mutex_unlock(&q->fin_lock);
			/* Kicks queued meanwhile have run (and found it detached). */
			pv_worker_call(q->worker, barrier, NULL);
		} else {
			pv_err(q->name, "cannot stop the queue on its worker");
		}
		pv_worker_attach(q->worker, -1);
	} else if (q->thread_started) {
		if (q->stop_begun || pv_loop_call(q->loop, on_stop, q) == 0)
			pthread_join(q->thread, NULL);
		else
			pv_err(q->name, "cannot stop the queue thread");
	}
	/* The thread is gone: this thread owns the loop, hv and rings now. */
	queue_free(q);
}

/* ------------------------------------------------ a device's queues */

struct stop_set {
	struct pv_xb_dev *dev;
	pv_xb_dev_fn *fn;
	void *opaque;
	unsigned left;
};

static void stop_set_one_done(void *opaque)
{
	struct stop_set *s = opaque;

	if (--s->left)
		return;
	s->fn(s->dev, s->opaque);
	pv_xb_dev_release(s->dev);
	free(s);
}

int pv_xb_dev_stop_queues(struct pv_xb_dev *dev, struct pv_queue *const *qs, unsigned n,
			  pv_xb_dev_fn *fn, void *opaque)
{
	struct stop_set *s;
	unsigned i;

	if (!n)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct stop_set){ .dev = dev, .fn = fn, .opaque = opaque, .left = n + 1 };
	pv_xb_dev_hold(dev);
	for (i = 0; i < n; i++)
		if (pv_queue_stop_begin(qs[i], pv_xb_dev_loop(dev), stop_set_one_done, s) < 0)
			s->left--; /* fn's pv_queue_stop stops that one synchronously */
	/* Our own count: every done may have run by now only if this held it. */
	stop_set_one_done(s);
	return 0;
}

void pv_queue_info(struct pv_queue *q, unsigned ring, struct pv_queue_ring_info *out)
{
	struct qring *r = &q->rings[ring];
	volatile struct pv_sring_hdr *s = r->ring.sring;

	*out = (struct pv_queue_ring_info){
		.req_prod = s->req_prod,
		.req_event = s->req_event,
		.rsp_prod = s->rsp_prod,
		.rsp_event = s->rsp_event,
		.req_cons = __atomic_load_n(&r->ring.req_cons, __ATOMIC_RELAXED),
		.rsp_prod_pvt = __atomic_load_n(&r->ring.rsp_prod_pvt, __ATOMIC_RELAXED),
		.entries = r->nr_slots,
		.slots_busy = r->nr_slots - __atomic_load_n(&r->nr_free, __ATOMIC_RELAXED),
		.no_slot = __atomic_load_n(&r->no_slot, __ATOMIC_RELAXED),
		.events = __atomic_load_n(&r->events, __ATOMIC_RELAXED),
		.notifies = __atomic_load_n(&r->notifies, __ATOMIC_RELAXED),
		.dead = __atomic_load_n(&q->dead, __ATOMIC_RELAXED),
		.spurious = __atomic_load_n(&r->spurious, __ATOMIC_RELAXED),
		.delayed = __atomic_load_n(&r->delayed, __ATOMIC_RELAXED),
	};
}

/* Metric names: ring_<member>; the help is Prometheus' # HELP line. */
static const struct pv_stats_field ring_fields[] = {
	{ "ring_req_prod", "Shared ring: the frontend's request producer index",
	  offsetof(struct pv_queue_ring_info, req_prod), PV_STATS_GAUGE },
	{ "ring_req_cons", "Requests consumed (our index)",
	  offsetof(struct pv_queue_ring_info, req_cons), PV_STATS_GAUGE },
	{ "ring_req_event", "Shared ring: request index at which we want an event",
	  offsetof(struct pv_queue_ring_info, req_event), PV_STATS_GAUGE },
	{ "ring_rsp_prod", "Shared ring: responses pushed",
	  offsetof(struct pv_queue_ring_info, rsp_prod), PV_STATS_GAUGE },
	{ "ring_rsp_prod_pvt", "Responses written (our index)",
	  offsetof(struct pv_queue_ring_info, rsp_prod_pvt), PV_STATS_GAUGE },
	{ "ring_rsp_event", "Shared ring: response index at which the frontend wants an event",
	  offsetof(struct pv_queue_ring_info, rsp_event), PV_STATS_GAUGE },
	{ "ring_entries", "Entries of the shared ring",
	  offsetof(struct pv_queue_ring_info, entries), PV_STATS_GAUGE },
	{ "ring_slots_busy", "Request slots consumed and not yet recycled",
	  offsetof(struct pv_queue_ring_info, slots_busy), PV_STATS_GAUGE },
	{ "ring_no_slot", "Times a request waited for a free slot",
	  offsetof(struct pv_queue_ring_info, no_slot), PV_STATS_COUNTER },
	{ "ring_events", "Event-channel events received",
	  offsetof(struct pv_queue_ring_info, events), PV_STATS_COUNTER },
	{ "ring_notifies", "Event-channel notifications sent",
	  offsetof(struct pv_queue_ring_info, notifies), PV_STATS_COUNTER },
	{ "ring_dead", "1 after a protocol violation stopped the queue",
	  offsetof(struct pv_queue_ring_info, dead), PV_STATS_GAUGE },
	{ "ring_events_spurious", "Events on this ring's port that brought no new request",
	  offsetof(struct pv_queue_ring_info, spurious), PV_STATS_COUNTER },
	{ "ring_events_delayed", "Events held masked as an event storm (XSA-391 rate limit)",
	  offsetof(struct pv_queue_ring_info, delayed), PV_STATS_COUNTER },
};

const struct pv_stats_table pv_queue_ring_table = {
	ring_fields, sizeof(ring_fields) / sizeof(ring_fields[0]), sizeof(struct pv_queue_ring_info),
};
