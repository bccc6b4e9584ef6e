/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpvfront: the guest (frontend) half of xenbus for userspace frontends
 * (blkfront, netfront, usbfront) on pvsim and Xen.  A pvfront names one
 * device /local/domain/<self>/device/<type>/<devid>; it reads and checks the
 * backend link, watches the backend's state, writes frontend keys (in a
 * transaction, retried on EAGAIN) and switches the frontend state.
 *
 * Waiting is watch-driven through pv_xs_dispatch() on the caller's pv_xs, so
 * a pvfront is used by one thread, the one that owns that pv_xs, and never
 * sleeps or polls.  Nothing here logs; functions return 0 or -errno.
 */
#ifndef PVFRONT_H
#define PVFRONT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvring.h" /* struct pv_ring_front, embedded in struct pvfront_ring */

struct pv_hv;
struct pv_xs;
struct pvfront;

/* A bit per XenbusState, for pvfront_wait_backend()'s mask. */
#define PVFRONT_STATE(s) (1u << (s))

/*
 * Open device devid of type ("vbd", "vif", "vusb") of domain self (our own
 * domain, e.g. pv_hv_domid()).  Reads "backend" and "backend-id" from the
 * frontend directory and checks that the backend path is
 * /local/domain/<backend-id>/backend/<type>/<self>/<devid>.  -ENOENT when
 * the device does not exist, -EINVAL for a bad link.  xs stays the caller's.
 */
int pvfront_open(struct pv_xs *xs, uint16_t self, const char *type, uint32_t devid,
		 struct pvfront **out);
/* Drops the watch and frees; writes nothing (see pvfront_close_device()). */
void pvfront_close(struct pvfront *f);

const char *pvfront_fepath(const struct pvfront *f); /* our directory */
const char *pvfront_bepath(const struct pvfront *f); /* the backend's */
uint16_t pvfront_backend_id(const struct pvfront *f);
struct pv_xs *pvfront_xs(const struct pvfront *f);

/* The backend's current state (read now), 0 (Unknown) when missing, or -errno. */
int pvfront_backend_state(struct pvfront *f);
/*
 * Wait until the backend's state is one of mask (PVFRONT_STATE() bits),
 * dispatching watch events on the pv_xs meanwhile.  timeout_ms < 0 waits
 * forever.  Returns the state reached, or -ETIMEDOUT.
 */
int pvfront_wait_backend(struct pvfront *f, uint32_t mask, int timeout_ms);

/* Write our state key. */
int pvfront_switch_state(struct pvfront *f, int state);
/* Switch to state, then wait (timeout_ms) for the backend to reach want:
 * 0, -ECONNREFUSED when it went Closing or Closed instead, or -errno. */
int pvfront_switch_wait(struct pvfront *f, int state, int want, int timeout_ms);
/* Read a key of the backend's directory / ours (relative name; malloc'd, NULL + errno). */
char *pvfront_read_be(struct pvfront *f, const char *key);
int pvfront_read_be_uint(struct pvfront *f, const char *key, uint64_t min, uint64_t max,
			 uint64_t *out);
char *pvfront_read_fe(struct pvfront *f, const char *key);
/* Write a key of our directory; t is a transaction from pvfront_transaction() or 0. */
int pvfront_printf(struct pvfront *f, uint32_t t, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int pvfront_rm(struct pvfront *f, uint32_t t, const char *key);
/*
 * Run fn in a xenstore transaction, retried on EAGAIN (bounded); typically
 * writes the ring refs, event channels and features with pvfront_printf(f, t, ...).
 */
typedef int pvfront_txn_fn(struct pvfront *f, uint32_t t, void *opaque);
int pvfront_transaction(struct pvfront *f, pvfront_txn_fn *fn, void *opaque);

/*
 * Orderly teardown as Linux frontends do: Closing, wait for the backend to
 * reach Closing or Closed, then Closed; waits up to timeout_ms for each step.
 * Returns 0 or -ETIMEDOUT (our state is Closed either way).
 */
int pvfront_close_device(struct pvfront *f, int timeout_ms);
/* pvfront_close_device, then wait (timeout_ms) for the backend's Closed (or
 * its directory gone): it has unmapped our rings, their grants can end.
 * 0 or -errno. */
int pvfront_disconnect(struct pvfront *f, int timeout_ms);

/*
 * What every userspace frontend starts from, in its own domain (the
 * environment: PVSIM_DIR/PVSIM_DOMID/XENSTORED_PATH on pvsim): an hv handle
 * (pv_hv_open(PV_HV_AUTO)), a xenstore connection and the pvfront of device
 * type/devid.  On failure nothing stays open and all three are NULL.
 * pvfront_env_close closes what is not NULL and sets it so.
 */
int pvfront_env_open(const char *type, uint32_t devid, struct pv_hv **hv, struct pv_xs **xs,
		     struct pvfront **f);
void pvfront_env_close(struct pv_hv **hv, struct pv_xs **xs, struct pvfront **f);

/*
 * Shared rings, the same for every userspace frontend: blkfront's ring per
 * queue, netfront's tx and rx rings, usbfront's urb and conn rings.  Setup
 * grants the pages to the backend and inits the producer side; the keys are
 * written separately, inside the caller's transaction (which may run more
 * than once), with the layout the backend's readers expect (pvcommon.h
 * pv_xb_ring_key): <dir><name> for one page, <dir><name>0..N-1 for more.
 * hv is the caller's handle (a pvfront has none).  One thread.
 */
#define PVFRONT_RING_MAX_ORDER 4u /* 16 pages: PV_XB_RING_ORDER_MAX */

struct pvfront_ring {
	void *sring;                 /* the granted pages (sring header first), or NULL */
	unsigned order;              /* 1 << order pages */
	uint32_t refs[1u << PVFRONT_RING_MAX_ORDER]; /* their grant refs */
	struct pv_ring_front front;  /* our producer side (pvring.h) */
	int port;                    /* our end of the ring's event channel, or -1 */
};

/*
 * Grant 1 << order pages to f's backend (writable), init r->front for
 * ent_size-byte entries and, with with_port, allocate an unbound event
 * channel for the backend.  A ring without its own port kicks through
 * another's (netfront's rx ring without split channels, usbfront's conn
 * ring).  Every field of r is set first, so r is fit for
 * pvfront_ring_teardown() even when this fails; on failure nothing stays
 * allocated.  0 or -errno (-EINVAL: order above PVFRONT_RING_MAX_ORDER or
 * an entry larger than the ring).
 */
int pvfront_ring_setup(struct pvfront *f, struct pv_hv *hv, unsigned order, size_t ent_size,
		       bool with_port, struct pvfront_ring *r);
/* In transaction t: r's grant refs as <dir><name>[N] and, when r has its
 * own port, <dir><evtchn> = port ("event-channel", "event-channel-tx").
 * dir is "" or "queue-N/".  0 or -errno. */
int pvfront_ring_write_keys(struct pvfront *f, uint32_t t, const struct pvfront_ring *r,
			    const char *dir, const char *name, const char *evtchn);
/* Close the port and end the grants (call once the backend unmapped, i.e.
 * after it reached Closed: pvsim refuses, -EBUSY, while the pages are
 * mapped, and they then stay allocated).  r is left torn down. */
void pvfront_ring_teardown(struct pv_hv *hv, struct pvfront_ring *r);

/* ---- hostile-frontend hooks (tests), for any protocol ---- */

/* Copy len bytes into the next request slot exactly as given, no
 * validation (the rest of the entry is zeroed), consuming it; the backend
 * sees it after pv_ring_front_push() or pvfront_ring_set_req_prod().
 * -EINVAL: len above the entry size; -EAGAIN: the ring is full. */
int pvfront_ring_put_raw(struct pvfront_ring *r, const void *req, size_t len);
/* Publish prod as the shared req_prod, whatever it is (beyond the ring,
 * backwards); the slots written so far are visible before it. */
void pvfront_ring_set_req_prod(struct pvfront_ring *r, uint32_t prod);
/* The shared ring (struct pv_sring_hdr / xen/io/ring.h layout at its start). */
void *pvfront_ring_sring(const struct pvfront_ring *r);
/* Notify the backend on r's port, whether it asked or not.  -ENOTCONN when
 * r has no port of its own. */
int pvfront_ring_notify(struct pv_hv *hv, const struct pvfront_ring *r);

/* ---- hostile attacks (tests): what every protocol's hostile guest shares ---- */

/* xorshift64*: the next value of state *s (never 0 once seeded non-zero). */
uint64_t pvfront_rnd(uint64_t *s);
/* CLOCK_MONOTONIC in ms: bounded waits of the attacks. */
uint64_t pvfront_now_ms(void);
/* The entry of index idx (masked) in r's shared ring. */
void *pvfront_ring_ent(const struct pvfront_ring *r, uint32_t idx);

/*
 * One round of a guest that never consumes its responses: the n requests
 * written at [*prod, *prod + n) of the ring whose header is h are
 * published (*prod moves on) with rsp_event far ahead (odd rounds) or
 * behind (even ones), kick(opaque) notifies, then rsp_prod is looked at
 * (no event may come) until it reaches *prod, timeout_ms at most.  0, or
 * -ETIMEDOUT (h->rsp_prod says how far the backend got).
 */
typedef void pvfront_kick_fn(void *opaque);
int pvfront_sring_round(volatile struct pv_sring_hdr *h, uint32_t *prod, unsigned n,
			unsigned long round, pvfront_kick_fn *kick, void *opaque, int timeout_ms);

/* A field of a ring entry a flipper rewrites: size bytes (1, 2 or 4) at
 * off, set to one of values[] (nr_values > 0) or to random bits. */
struct pvfront_flip_field {
	uint16_t off;
	uint8_t size;
	const uint32_t *values;
	unsigned nr_values;
};
/* Rewrite field f of entry ent with a value chosen by x. */
void pvfront_flip_field(volatile void *ent, const struct pvfront_flip_field *f, uint64_t x);
/* A field's values, mostly benign: out[0..n) cycles through common[],
 * but its last nrare entries are rare[] (each then taken 1 time in n).
 * Hostile values that cost the connection stay rare enough for one to
 * answer a few hundred requests. */
void pvfront_flip_weighted(uint32_t *out, unsigned n, const uint32_t *common, unsigned ncommon,
			   const uint32_t *rare, unsigned nrare);

/* Rings whose entries a flipper rewrites: any entry of any ring, whether
 * it holds a request or a response at the time. */
struct pvfront_flip_ring {
	const struct pvfront_ring *ring;
	const struct pvfront_flip_field *fields;
	unsigned nr_fields;
};
struct pvfront_flip_rings {
	const struct pvfront_flip_ring *rings;
	unsigned nr_rings;
};
/* A pvfront_flip_fn: opaque is a struct pvfront_flip_rings. */
void pvfront_flip_rings(void *opaque, uint64_t x);

/*
 * The flipper: a thread calling fn(opaque, random) as fast as it can,
 * yielding now and then, until pvfront_flipper_stop or max calls (0: no
 * bound).  fn must only write memory shared with the backend.  Set fn,
 * opaque, seed and max, then start: 0 or -errno.  Stop joins the thread
 * and returns the flips done.  Both from the connection's owner thread.
 */
typedef void pvfront_flip_fn(void *opaque, uint64_t x);
struct pvfront_flipper {
	pvfront_flip_fn *fn;
	void *opaque;
	uint64_t seed;
	unsigned long max;
	unsigned long flips;     /* done so far (read after stop) */
	int stop;                /* atomic */
	pthread_t thread;
};
int pvfront_flipper_start(struct pvfront_flipper *f);
unsigned long pvfront_flipper_stop(struct pvfront_flipper *f);
/* A flipper of pvfront_flip_rings over fr (kept by the caller until stop),
 * seeded with seed, started: 0 or -errno. */
int pvfront_flip_rings_start(struct pvfront_flipper *f, struct pvfront_flip_rings *fr,
			     uint64_t seed);

#endif /* PVFRONT_H */
