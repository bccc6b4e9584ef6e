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

#include <stdbool.h>
#include <stdint.h>

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

#endif /* PVFRONT_H */
