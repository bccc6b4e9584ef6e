/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper (fq_ prefix): a fake protocol on pv_queue, and its frontend,
 * on the in-process pvsim of hv-harness (domain 1 is the guest, 0 the
 * backend).  A request is { id, op }: op FQ_ANSWER is answered at once,
 * FQ_HOLD is kept in flight until fq_release().  The response echoes the id
 * and names the ring.  Every run of the queue thread bumps an eventfd, so
 * tests wait on conditions, never on time.
 */
#ifndef T_QUEUE_FAKE_H
#define T_QUEUE_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pvcommon.h"
#include "pvring.h"

enum { FQ_ANSWER = 0, FQ_HOLD = 1 };

struct fq_req { uint64_t id; uint32_t op, pad; };
struct fq_rsp { uint64_t id; int32_t status; uint32_t ring; };
union fq_ent { struct fq_req req; struct fq_rsp rsp; };

#define FQ_MAX_HELD 64

/* The guest's side of one ring. */
struct fq_front {
	struct pv_hv *hv;        /* the guest's handle */
	void *sring;
	uint32_t ref;
	struct pv_ring_front ring;
	int port;                /* unbound port for the backend, -1 when shared */
};

/* The fake protocol's state: pv_queue_params.priv. */
struct fq_backend {
	struct pv_queue *q;
	int efd;                   /* +1 after every run of the queue thread */
	unsigned events;           /* OR of every ops->run events mask */
	void *held[PV_QUEUE_MAX_RINGS][FQ_MAX_HELD];
	unsigned nr_held[PV_QUEUE_MAX_RINGS];
	unsigned answered;         /* responses written, all rings */
	bool idle_while_holding;   /* ops->idle says yes even with requests held */
	bool hold_none;            /* answer FQ_HOLD requests at once too */
	unsigned stopping_runs;    /* runs that saw the queue stopping */
	/* Pushed onto late->ring (without a notify) by the first run that
	 * sees the queue stopping: requests that come after the stop. */
	struct fq_front *late;
	unsigned late_n;
};

extern const struct pv_queue_ops fq_ops;

/* Share one ring page with domain 0 and init it; port: allocate an
 * unbound port (true) or not (a ring sharing another ring's port). */
int fq_front_open(struct fq_front *f, struct pv_hv *guest, bool port);
void fq_front_close(struct fq_front *f);
/* Write n requests id0, id0+1, ... with op and push them (no notify). */
void fq_push(struct fq_front *f, uint64_t id0, unsigned n, uint32_t op);
/* Copy out the responses available now (at most max ids), checking each
 * names ring.  Returns how many, or -1 on a wrong ring or status. */
int fq_take(struct fq_front *f, unsigned ring, uint64_t *ids, unsigned max);

/* Initialise b (its eventfd) and params for a one-ring or two-ring queue
 * of domain 1 on the given frontend ports. */
int fq_backend_init(struct fq_backend *b);
void fq_backend_fini(struct fq_backend *b);
void fq_params(struct pv_queue_params *p, struct fq_backend *b, unsigned nr_rings,
	       struct fq_front *fronts, unsigned nr_ports);
/* Wait (bounded: 5 s without progress fails) until cond(q, arg) holds,
 * re-checking after each run of the queue thread.  0 or -ETIMEDOUT. */
int fq_wait(struct fq_backend *b, bool (*cond)(struct fq_backend *b, void *arg), void *arg);
/* fq_wait condition: the queue consumed up to index n of ring. */
struct fq_cons { unsigned ring; uint32_t n; };
bool fq_consumed(struct fq_backend *b, void *arg);
/* Answer every held request on the queue thread (then pv_queue_run). */
int fq_release(struct fq_backend *b);

/* A cmocka fixture: the in-process pvsim (group), the guest's rings, the
 * fake backend, its params (journal in a fresh directory) and queue. */
struct fq_fixture {
	void *hv_fixture;          /* hv-harness's t_hv_fixture (the group's) */
	struct pv_hv *guest;       /* domain 1; pv_queue's handles act as 0 */
	struct fq_front front[PV_QUEUE_MAX_RINGS];
	unsigned nr_rings;
	struct fq_backend be;
	struct pv_queue_params p;  /* filled by fq_fixture_open; start it yourself */
	struct pv_queue *q;
	char jdir[64];
	pthread_t stopper;
};

int fq_group_setup(void **state);
int fq_group_teardown(void **state);
/* Per-test setup of one ring on one port with its queue started, and the
 * teardown (fq_fixture_close) for any fixture a test opened. */
int fq_setup_one_ring(void **state);
int fq_teardown(void **state);
/* Rings (each with its own port, or all on the first ring's port when
 * nr_ports is 1), the backend and the params.  0 or -errno. */
int fq_fixture_open(struct fq_fixture *f, unsigned nr_rings, unsigned nr_ports);
/* Frees what open made and removes the journal directory. */
void fq_fixture_close(struct fq_fixture *f);
/* "<jdir>/<file>" exists. */
bool fq_journal_exists(struct fq_fixture *f, const char *file);
/* pv_queue_stop(f->q) on a thread of its own, returning once the queue
 * thread has run with the queue stopping; fq_stop_end joins it. */
int fq_stop_begin(struct fq_fixture *f);
int fq_stop_end(struct fq_fixture *f);

#endif
