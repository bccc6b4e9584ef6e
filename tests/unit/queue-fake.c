// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test helper: a fake protocol on pv_queue and its frontend (queue-fake.h).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hv-harness.h"
#include "queue-fake.h"

static void answer(struct fq_backend *b, unsigned ring, void *slot)
{
	struct fq_rsp *rsp = pv_queue_answer(b->q, ring, slot);

	rsp->id = *(uint64_t *)slot;
	rsp->status = 0;
	rsp->ring = ring;
	b->answered++;
}

static void fq_run(struct pv_queue *q, unsigned events)
{
	struct fq_backend *b = pv_queue_priv(q);
	unsigned k, nr_rings = 2;
	const void *raw;
	uint64_t one = 1;
	void *slot;

	b->q = q;
	b->events |= events;
	if (pv_queue_stopping(q))
		b->stopping_runs++;
	if (pv_queue_stopping(q) && b->late && b->late_n) {
		fq_push(b->late, 1000, b->late_n, FQ_ANSWER);
		b->late_n = 0;
	}
	for (k = 0; k < nr_rings && k < PV_QUEUE_MAX_RINGS; k++) {
		if (!pv_queue_nr_slots(q, k))
			continue;
		while (pv_queue_next(q, k, &slot, &raw) > 0) {
			struct fq_req req;

			memcpy(&req, raw, sizeof(req));
			*(uint64_t *)slot = req.id;
			if (req.op == FQ_HOLD && !b->hold_none && b->nr_held[k] < FQ_MAX_HELD)
				b->held[k][b->nr_held[k]++] = slot;
			else
				answer(b, k, slot);
		}
	}
	pv_queue_flush(q);
	if (write(b->efd, &one, sizeof(one)) < 0)
		abort();
}

static int fq_start(struct pv_queue *q)
{
	struct fq_backend *b = pv_queue_priv(q);

	b->q = q;
	return 0;
}

/* Polling (a pv_worker): run when a ring has requests. */
static bool fq_poll(struct pv_queue *q)
{
	bool busy = false;
	unsigned k;

	for (k = 0; k < PV_QUEUE_MAX_RINGS; k++)
		if (pv_queue_nr_slots(q, k) && pv_queue_pending(q, k))
			busy = true;
	if (busy)
		pv_queue_run(q);
	return busy;
}

static bool fq_idle(struct pv_queue *q)
{
	struct fq_backend *b = pv_queue_priv(q);

	return b->idle_while_holding || (!b->nr_held[0] && !b->nr_held[1]);
}

static void fq_quiesce(struct pv_queue *q)
{
}

static void fq_fini(struct pv_queue *q)
{
}

const struct pv_queue_ops fq_ops = {
	.proto = "fq",
	.start = fq_start,
	.run = fq_run,
	.poll = fq_poll,
	.idle = fq_idle,
	.quiesce = fq_quiesce,
	.fini = fq_fini,
};

int fq_front_open(struct fq_front *f, struct pv_hv *guest, bool port)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->hv = guest;
	f->port = -1;
	rc = pv_hv_share(guest, 0, 1, true, &f->ref, &f->sring);
	if (rc < 0)
		return rc;
	rc = pv_ring_front_init(&f->ring, f->sring, PV_PAGE_SIZE, sizeof(union fq_ent));
	if (rc < 0)
		return rc;
	if (port) {
		f->port = pv_hv_evtchn_alloc(guest, 0);
		if (f->port < 0)
			return f->port;
	}
	return 0;
}

void fq_front_close(struct fq_front *f)
{
	if (f->port >= 0)
		pv_hv_evtchn_close(f->hv, (uint32_t)f->port);
	if (f->sring)
		pv_hv_unshare(f->hv, f->sring, 1);
	memset(f, 0, sizeof(*f));
}

void fq_push(struct fq_front *f, uint64_t id0, unsigned n, uint32_t op)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct fq_req *req = pv_ring_front_req_slot(&f->ring);

		req->id = id0 + i;
		req->op = op;
	}
	pv_ring_front_push(&f->ring);
}

int fq_take(struct fq_front *f, unsigned ring, uint64_t *ids, unsigned max)
{
	int n = pv_ring_front_avail(&f->ring), i;

	if (n < 0)
		return -1;
	for (i = 0; i < n && (unsigned)i < max; i++) {
		struct fq_rsp rsp;

		pv_ring_front_copy_rsp(&f->ring, &rsp, sizeof(rsp));
		if (rsp.ring != ring || rsp.status)
			return -1;
		ids[i] = rsp.id;
	}
	return i;
}

int fq_backend_init(struct fq_backend *b)
{
	memset(b, 0, sizeof(*b));
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return b->efd < 0 ? -errno : 0;
}

void fq_backend_fini(struct fq_backend *b)
{
	close(b->efd);
}

void fq_params(struct pv_queue_params *p, struct fq_backend *b, unsigned nr_rings,
	       struct fq_front *fronts, unsigned nr_ports)
{
	static const char *const names[] = { "tx", "rx" };
	unsigned k, port = 0;

	*p = (struct pv_queue_params){
		.name = "fake-1-0",
		.domid = 1,
		.hv_kind = PV_HV_SIM,
		.nr_rings = nr_rings,
		.priv = b,
	};
	for (k = 0; k < nr_rings; k++) {
		p->rings[k] = (struct pv_queue_ring_params){
			.name = nr_rings == 1 ? "ring" : names[k],
			.nr_refs = 1,
			.refs = { fronts[k].ref },
			.ent_size = sizeof(union fq_ent),
			.slot_size = sizeof(uint64_t),
			.port = nr_ports == 1 ? 0 : k,
			.journal = true,
			.drain_on_stop = true,
		};
		if (fronts[k].port >= 0 && port < nr_ports)
			p->ports[port++] = (uint32_t)fronts[k].port;
	}
	p->nr_ports = nr_ports;
}

int fq_wait(struct fq_backend *b, bool (*cond)(struct fq_backend *b, void *arg), void *arg)
{
	struct pollfd pfd = { .fd = b->efd, .events = POLLIN };
	uint64_t v;

	while (!cond(b, arg)) {
		if (poll(&pfd, 1, 5000) <= 0)
			return -ETIMEDOUT;
		if (read(b->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

bool fq_consumed(struct fq_backend *b, void *arg)
{
	const struct fq_cons *c = arg;
	struct pv_queue_ring_info ri;

	if (!b->q)
		return false;
	pv_queue_info(b->q, c->ring, &ri);
	return ri.req_cons == c->n;
}

static void release_fn(void *opaque)
{
	struct fq_backend *b = opaque;
	unsigned k, i;

	for (k = 0; k < PV_QUEUE_MAX_RINGS; k++) {
		for (i = 0; i < b->nr_held[k]; i++)
			answer(b, k, b->held[k][i]);
		b->nr_held[k] = 0;
	}
	pv_queue_flush(b->q);
	pv_queue_run(b->q);
}

int fq_release(struct fq_backend *b)
{
	return pv_loop_call(pv_queue_loop(b->q), release_fn, b);
}

int fq_group_setup(void **state)
{
	static struct fq_fixture f;
	struct t_hv_fixture *hf;

	/* Its last handle acts as dom0, so pv_queue's handles do too. */
	if (t_hv_fixture_setup(state))
		return -1;
	hf = *state;
	f.hv_fixture = hf;
	f.guest = hf->guest;
	*state = &f;
	return 0;
}

int fq_group_teardown(void **state)
{
	struct fq_fixture *f = *state;

	*state = f->hv_fixture;
	return t_hv_fixture_teardown(state);
}

int fq_fixture_open(struct fq_fixture *f, unsigned nr_rings, unsigned nr_ports)
{
	unsigned k;
	int rc;

	f->nr_rings = nr_rings;
	for (k = 0; k < nr_rings; k++) {
		rc = fq_front_open(&f->front[k], f->guest, k == 0 || nr_ports > 1);
		if (rc < 0)
			return rc;
	}
	rc = fq_backend_init(&f->be);
	if (rc < 0)
		return rc;
	fq_params(&f->p, &f->be, nr_rings, f->front, nr_ports);
	strcpy(f->jdir, "/tmp/pvback-queue.XXXXXX");
	if (!mkdtemp(f->jdir))
		return -errno;
	f->p.journal_dir = f->jdir;
	f->q = NULL;
	return 0;
}

void fq_fixture_close(struct fq_fixture *f)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(f->jdir);
	unsigned k;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->jdir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(f->jdir);
	fq_backend_fini(&f->be);
	for (k = 0; k < f->nr_rings; k++)
		fq_front_close(&f->front[k]);
}

int fq_setup_one_ring(void **state)
{
	struct fq_fixture *f = *state;

	if (fq_fixture_open(f, 1, 1) < 0 || pv_queue_start(&fq_ops, &f->p, &f->q) < 0)
		return -1;
	return 0;
}

int fq_teardown(void **state)
{
	fq_fixture_close(*state);
	return 0;
}

bool fq_journal_exists(struct fq_fixture *f, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->jdir, file);
	return access(path, F_OK) == 0;
}

static void *stop_thread(void *arg)
{
	pv_queue_stop(arg);
	return NULL;
}

static bool saw_stopping(struct fq_backend *b, void *arg)
{
	return __atomic_load_n(&b->stopping_runs, __ATOMIC_SEQ_CST) > 0;
}

int fq_stop_begin(struct fq_fixture *f)
{
	int rc = -pthread_create(&f->stopper, NULL, stop_thread, f->q);

	return rc < 0 ? rc : fq_wait(&f->be, saw_stopping, NULL);
}

int fq_stop_end(struct fq_fixture *f)
{
	return -pthread_join(f->stopper, NULL);
}
