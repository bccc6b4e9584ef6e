// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libpvfront's generic pieces of a hostile guest (pvfront.h, "hostile
 * attacks"), shared by blkfront-tool, netfront-tool and usbfront-tool: a
 * reproducible random source, a monotonic clock in ms, ring entries by
 * index, and the flipper: a second thread that rewrites fields of shared
 * ring entries while the backend works on them (double fetch), for a
 * bounded count of flips or until stopped.
 *
 * The flipper only writes memory shared with the backend anyway (ring
 * pages, pages granted to it); it never touches the frontend's private
 * state, so the thread that owns the connection needs no lock.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "pvfront.h"

uint64_t pvfront_rnd(uint64_t *s)
{
	/* xorshift64*: reproducible from a seed, cheap enough for the flipper. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

uint64_t pvfront_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *pvfront_ring_ent(const struct pvfront_ring *r, uint32_t idx)
{
	return r->front.ents + (size_t)(idx & (r->front.nr_ents - 1)) * r->front.ent_size;
}

int pvfront_sring_round(volatile struct pv_sring_hdr *h, uint32_t *prod, unsigned n,
			unsigned long round, pvfront_kick_fn *kick, void *opaque, int timeout_ms)
{
	uint64_t end = pvfront_now_ms() + (uint64_t)timeout_ms;

	h->rsp_event = round & 1 ? h->rsp_prod + 0x80000000u : h->rsp_prod - 1;
	pv_wmb(); /* the requests before the index */
	*prod += n;
	h->req_prod = *prod;
	pv_mb(); /* req_prod out before the kick */
	kick(opaque);
	/* No notify may come (rsp_event): look at rsp_prod, bounded. */
	while (h->rsp_prod != *prod && pvfront_now_ms() < end)
		poll(NULL, 0, 1);
	return h->rsp_prod == *prod ? 0 : -ETIMEDOUT;
}

void pvfront_flip_field(volatile void *ent, const struct pvfront_flip_field *f, uint64_t x)
{
	volatile uint8_t *p = (volatile uint8_t *)ent + f->off;
	uint32_t v = f->nr_values ? f->values[(x >> 8) % f->nr_values] : (uint32_t)(x >> 16);

	/* One store per field (the ring ABIs align them): a reader sees the
	 * old value or the new one, so a response the flipper wrote over is
	 * recognisable by the value. */
	if (f->size == 4)
		*(volatile uint32_t *)p = v;
	else if (f->size == 2)
		*(volatile uint16_t *)p = (uint16_t)v;
	else
		*p = (uint8_t)v;
}

void pvfront_flip_weighted(uint32_t *out, unsigned n, const uint32_t *common, unsigned ncommon,
			   const uint32_t *rare, unsigned nrare)
{
	unsigned i;

	for (i = 0; i < n; i++)
		out[i] = i < n - nrare ? common[i % ncommon] : rare[i - (n - nrare)];
}

void pvfront_flip_rings(void *opaque, uint64_t x)
{
	const struct pvfront_flip_rings *fr = opaque;
	const struct pvfront_flip_ring *r;
	uint32_t idx;

	if (!fr->nr_rings)
		return;
	r = &fr->rings[(x >> 56) % fr->nr_rings];
	if (!r->nr_fields)
		return;
	idx = (uint32_t)(x >> 40);
	pvfront_flip_field(pvfront_ring_ent(r->ring, idx), &r->fields[(x >> 4) % r->nr_fields],
			   x * 0x9e3779b97f4a7c15ull);
}

static void *flipper_main(void *opaque)
{
	struct pvfront_flipper *f = opaque;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED) && (!f->max || f->flips < f->max)) {
		f->fn(f->opaque, pvfront_rnd(&f->seed));
		/* The CPUs are shared with the backend: let it run too. */
		if (!(++f->flips & 0xfff))
			sched_yield();
	}
	return NULL;
}

int pvfront_flipper_start(struct pvfront_flipper *f)
{
	int rc;

	f->flips = 0;
	f->stop = 0;
	f->seed |= 1; /* xorshift never leaves 0 */
	rc = pthread_create(&f->thread, NULL, flipper_main, f);
	return rc ? -rc : 0;
}

unsigned long pvfront_flipper_stop(struct pvfront_flipper *f)
{
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	pthread_join(f->thread, NULL);
	return f->flips;
}

int pvfront_flip_rings_start(struct pvfront_flipper *f, struct pvfront_flip_rings *fr,
			     uint64_t seed)
{
	*f = (struct pvfront_flipper){ .fn = pvfront_flip_rings, .opaque = fr, .seed = seed };
	return pvfront_flipper_start(f);
}
