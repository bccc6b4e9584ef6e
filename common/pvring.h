/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Type-generic shared-ring mechanics for every pvback protocol (blkif, netif,
 * usbif): the layout is Xen's xen/io/ring.h shared ring (four indexes, 48
 * bytes of padding, then a power-of-two array of request/response union
 * entries).  This file owns producer-overflow checks, copying a request out
 * exactly once, pushing responses and event suppression, for the backend
 * (pv_ring_back) and the frontend (pv_ring_front) side.  Protocol code copies
 * a request out, then validates only its private copy.
 *
 * Not thread-safe: one ring is driven by one thread.  Hot path: static inline.
 */
#ifndef PVRING_H
#define PVRING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <xen/io/ring.h>

#define PV_PAGE_SIZE 4096u
#define PV_RING_HDR  64u /* offsetof(struct *_sring, ring) in every Xen ring */

/* Full barriers are cheap enough here and never wrong across processes. */
#define pv_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define pv_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define pv_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

struct pv_sring_hdr {
	RING_IDX req_prod, req_event;
	RING_IDX rsp_prod, rsp_event;
};

/* Entries that fit in size bytes for entry_size-byte entries (power of two). */
static inline unsigned pv_ring_nr_ents(size_t size, size_t entry_size)
{
	size_t n = (size - PV_RING_HDR) / entry_size;
	unsigned p = 1;

	if (size <= PV_RING_HDR || n == 0)
		return 0;
	while ((size_t)p * 2 <= n)
		p *= 2;
	return p;
}

struct pv_ring_back {
	volatile struct pv_sring_hdr *sring;
	uint8_t *ents;      /* first entry */
	unsigned nr_ents;   /* power of two */
	size_t ent_size;    /* sizeof(union entry) of the protocol's ABI */
	RING_IDX req_cons;  /* private: next request to consume */
	RING_IDX rsp_prod_pvt; /* private: next response slot */
};

/* sring: the mapped shared page(s); size: their total bytes. */
static inline int pv_ring_back_init(struct pv_ring_back *r, void *sring, size_t size,
				    size_t ent_size)
{
	r->sring = sring;
	r->ents = (uint8_t *)sring + PV_RING_HDR;
	r->ent_size = ent_size;
	r->nr_ents = pv_ring_nr_ents(size, ent_size);
	r->req_cons = 0;
	r->rsp_prod_pvt = 0;
	return r->nr_ents ? 0 : -EINVAL;
}

/* Re-attach to a ring that was live (restart): resume at rsp_prod. */
static inline void pv_ring_back_resume(struct pv_ring_back *r)
{
	r->rsp_prod_pvt = r->sring->rsp_prod;
	r->req_cons = r->rsp_prod_pvt;
}

/*
 * Snapshot the producer index. Returns the number of requests available
 * (0..nr_ents), or -EPROTO when the frontend pushed more requests than there
 * are free slots (RING_REQUEST_PROD_OVERFLOW): a protocol violation.
 */
static inline int pv_ring_back_avail(struct pv_ring_back *r, RING_IDX *prod)
{
	RING_IDX rp = r->sring->req_prod;

	pv_rmb(); /* Ensure we see queued requests up to 'rp'. */
	if (rp - r->rsp_prod_pvt > r->nr_ents)
		return -EPROTO;
	*prod = rp;
	return (int)(rp - r->req_cons);
}

/* Copy request at req_cons out of the shared ring once, and advance. */
static inline void pv_ring_back_copy_req(struct pv_ring_back *r, void *dst, size_t len)
{
	const void *src = r->ents + (size_t)(r->req_cons & (r->nr_ents - 1)) * r->ent_size;

	memcpy(dst, src, len);
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the copy is done before we look at it */
	r->req_cons++;
}

/* Slot for the next response; fill it, then pv_ring_back_push(). */
static inline void *pv_ring_back_rsp_slot(struct pv_ring_back *r)
{
	return r->ents + (size_t)(r->rsp_prod_pvt++ & (r->nr_ents - 1)) * r->ent_size;
}

/* Publish responses; returns true when the frontend asked for an event. */
static inline bool pv_ring_back_push(struct pv_ring_back *r)
{
	RING_IDX old = r->sring->rsp_prod, new = r->rsp_prod_pvt;

	pv_wmb(); /* Responses are visible before the producer index. */
	r->sring->rsp_prod = new;
	pv_mb(); /* rsp_prod is visible before we read rsp_event. */
	return (RING_IDX)(new - r->sring->rsp_event) < (RING_IDX)(new - old);
}

/*
 * No request left: set req_event so the frontend notifies us for the next
 * one, then re-check to close the race. Returns true if more arrived.
 */
static inline bool pv_ring_back_final_check(struct pv_ring_back *r)
{
	if (r->sring->req_prod != r->req_cons)
		return true;
	r->sring->req_event = r->req_cons + 1;
	pv_mb(); /* req_event is visible before we re-read req_prod. */
	return r->sring->req_prod != r->req_cons;
}

struct pv_ring_front {
	volatile struct pv_sring_hdr *sring;
	uint8_t *ents;
	unsigned nr_ents;
	size_t ent_size;
	RING_IDX req_prod_pvt;
	RING_IDX rsp_cons;
};

/* Initialise a fresh shared ring (zeroes indexes, sets events to 1). */
static inline int pv_ring_front_init(struct pv_ring_front *r, void *sring, size_t size,
				     size_t ent_size)
{
	memset(sring, 0, PV_RING_HDR);
	r->sring = sring;
	r->sring->req_event = 1;
	r->sring->rsp_event = 1;
	r->ents = (uint8_t *)sring + PV_RING_HDR;
	r->ent_size = ent_size;
	r->nr_ents = pv_ring_nr_ents(size, ent_size);
	r->req_prod_pvt = 0;
	r->rsp_cons = 0;
	return r->nr_ents ? 0 : -EINVAL;
}

static inline unsigned pv_ring_front_free(const struct pv_ring_front *r)
{
	return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);
}

static inline void *pv_ring_front_req_slot(struct pv_ring_front *r)
{
	return r->ents + (size_t)(r->req_prod_pvt++ & (r->nr_ents - 1)) * r->ent_size;
}

/* Publish requests; returns true when the backend asked for an event. */
static inline bool pv_ring_front_push(struct pv_ring_front *r)
{
	RING_IDX old = r->sring->req_prod, new = r->req_prod_pvt;

	pv_wmb(); /* Requests are visible before the producer index. */
	r->sring->req_prod = new;
	pv_mb(); /* req_prod is visible before we read req_event. */
	return (RING_IDX)(new - r->sring->req_event) < (RING_IDX)(new - old);
}

/* Responses available; a backend that produces more than we posted is lying. */
static inline int pv_ring_front_avail(struct pv_ring_front *r)
{
	RING_IDX rp = r->sring->rsp_prod;

	pv_rmb(); /* Ensure we see responses up to 'rp'. */
	if (rp - r->rsp_cons > r->req_prod_pvt - r->rsp_cons)
		return -EPROTO;
	return (int)(rp - r->rsp_cons);
}

static inline void pv_ring_front_copy_rsp(struct pv_ring_front *r, void *dst, size_t len)
{
	const void *src = r->ents + (size_t)(r->rsp_cons & (r->nr_ents - 1)) * r->ent_size;

	memcpy(dst, src, len);
	r->rsp_cons++;
}

static inline bool pv_ring_front_final_check(struct pv_ring_front *r)
{
	if (r->sring->rsp_prod != r->rsp_cons)
		return true;
	r->sring->rsp_event = r->rsp_cons + 1;
	pv_mb(); /* rsp_event is visible before we re-read rsp_prod. */
	return r->sring->rsp_prod != r->rsp_cons;
}

#endif /* PVRING_H */
