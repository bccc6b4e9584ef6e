/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpvfront: frontend-side xenbus helpers (see pvfront.h).  One watch on the
 * backend's state key records each change; waits dispatch the pv_xs until the
 * recorded state matches, so there is no sleep and no polling.  Shared rings
 * are granted, initialised and described in xenstore here for every
 * protocol's frontend, with the hooks hostile-frontend tests need.  Single
 * thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>
#include <xen/xen.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvfront.h"

struct pvfront {
	struct pv_xs *xs;
	char *fepath;
	char *bepath;
	uint16_t backend_id;
	struct pv_xs_watch *be_watch;  /* <bepath>/state */
	int be_state;                  /* as of the last watch event; -errno */
};

struct pvfront_txn {
	struct pvfront *f;
	pvfront_txn_fn *fn;
	void *opaque;
};

const char *pvfront_fepath(const struct pvfront *f) { return f->fepath; }
const char *pvfront_bepath(const struct pvfront *f) { return f->bepath; }
uint16_t pvfront_backend_id(const struct pvfront *f) { return f->backend_id; }
struct pv_xs *pvfront_xs(const struct pvfront *f) { return f->xs; }

int pvfront_backend_state(struct pvfront *f)
{
	uint64_t v;
	int ret;

	ret = pv_xs_read_uint_at(f->xs, XBT_NULL, f->bepath, "state", 0, XenbusStateReconfigured, &v);
	if (ret == -ENOENT)
		return XenbusStateUnknown;
	return ret < 0 ? ret : (int)v;
}

static void be_state_cb(struct pv_xs *xs, const char *path, void *opaque)
{
	struct pvfront *f = opaque;

	f->be_state = pvfront_backend_state(f);
}

int pvfront_open(struct pv_xs *xs, uint16_t self, const char *type, uint32_t devid,
		 struct pvfront **out)
{
	char prefix[64], watch[80]; /* bepath equals prefix: watch has room for "/state" */
	struct pvfront *f;
	uint64_t bid;
	int ret;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->xs = xs;
	if (asprintf(&f->fepath, "/local/domain/%u/device/%s/%u", self, type, devid) < 0) {
		f->fepath = NULL;
		ret = -ENOMEM;
		goto err;
	}
	ret = pv_xs_read_uint_at(xs, XBT_NULL, f->fepath, "backend-id", 0, DOMID_FIRST_RESERVED - 1,
				 &bid);
	if (ret < 0)
		goto err;
	f->backend_id = (uint16_t)bid;
	f->bepath = pv_xs_read_at(xs, XBT_NULL, f->fepath, "backend");
	if (!f->bepath) {
		ret = errno ? -errno : -EIO;
		goto err;
	}

	/* The backend must be the one backend-id names, and for this device. */
	snprintf(prefix, sizeof(prefix), "/local/domain/%u/backend/%s/%u/%u", f->backend_id, type,
		 self, devid);
	if (strcmp(f->bepath, prefix)) {
		ret = -EINVAL;
		goto err;
	}
	snprintf(watch, sizeof(watch), "%s/state", f->bepath);
	ret = pv_xs_watch(xs, watch, be_state_cb, f, &f->be_watch);
	if (ret < 0)
		goto err;
	f->be_state = pvfront_backend_state(f);
	*out = f;
	return 0;

err:
	free(f->bepath);
	free(f->fepath);
	free(f);
	return ret;
}

void pvfront_close(struct pvfront *f)
{
	if (!f)
		return;
	pv_xs_unwatch(f->xs, f->be_watch);
	free(f->bepath);
	free(f->fepath);
	free(f);
}

int pvfront_wait_backend(struct pvfront *f, uint32_t mask, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : pv_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int ret, wait;

	/* Read once: an event may have been missed while nobody dispatched. */
	f->be_state = pvfront_backend_state(f);
	for (;;) {
		if (f->be_state >= 0 && (mask & PVFRONT_STATE(f->be_state)))
			return f->be_state;
		if (timeout_ms < 0) {
			wait = -1;
		} else {
			uint64_t now = pv_now_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			wait = (int)((deadline - now + 999999) / 1000000);
		}
		ret = pv_xs_dispatch(f->xs, wait);
		if (ret < 0)
			return ret;
	}
}

int pvfront_switch_state(struct pvfront *f, int state)
{
	return pvfront_printf(f, XBT_NULL, "state", "%d", state);
}

int pvfront_switch_wait(struct pvfront *f, int state, int want, int timeout_ms)
{
	int ret = pvfront_switch_state(f, state);

	if (ret < 0)
		return ret;
	ret = pvfront_wait_backend(f, PVFRONT_STATE(want) | PVFRONT_STATE(XenbusStateClosing) |
				      PVFRONT_STATE(XenbusStateClosed), timeout_ms);
	if (ret < 0)
		return ret;
	return ret == want ? 0 : -ECONNREFUSED;
}

char *pvfront_read_be(struct pvfront *f, const char *key)
{
	return pv_xs_read_at(f->xs, XBT_NULL, f->bepath, key);
}

int pvfront_read_be_uint(struct pvfront *f, const char *key, uint64_t min, uint64_t max,
			 uint64_t *out)
{
	return pv_xs_read_uint_at(f->xs, XBT_NULL, f->bepath, key, min, max, out);
}

char *pvfront_read_fe(struct pvfront *f, const char *key)
{
	return pv_xs_read_at(f->xs, XBT_NULL, f->fepath, key);
}

int pvfront_printf(struct pvfront *f, uint32_t t, const char *key, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = pv_xs_vprintf_at(f->xs, t, f->fepath, key, fmt, ap);
	va_end(ap);
	return ret;
}

int pvfront_rm(struct pvfront *f, uint32_t t, const char *key)
{
	return pv_xs_rm_at(f->xs, t, f->fepath, key);
}

static int txn_tramp(struct pv_xs *xs, pv_xs_txn t, void *opaque)
{
	struct pvfront_txn *tx = opaque;

	return tx->fn(tx->f, t, tx->opaque);
}

int pvfront_transaction(struct pvfront *f, pvfront_txn_fn *fn, void *opaque)
{
	struct pvfront_txn tx = { f, fn, opaque };

	return pv_xs_transaction(f->xs, txn_tramp, &tx);
}

int pvfront_close_device(struct pvfront *f, int timeout_ms)
{
	int ret, ret2;

	ret = pvfront_switch_state(f, XenbusStateClosing);
	if (ret < 0)
		return ret;
	ret = pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosing) |
				      PVFRONT_STATE(XenbusStateClosed) |
				      PVFRONT_STATE(XenbusStateUnknown), timeout_ms);
	ret2 = pvfront_switch_state(f, XenbusStateClosed);
	if (ret < 0)
		return ret;
	return ret2 < 0 ? ret2 : 0;
}

int pvfront_disconnect(struct pvfront *f, int timeout_ms)
{
	int ret;

	ret = pvfront_close_device(f, timeout_ms);
	if (ret == 0)
		ret = pvfront_wait_backend(f, PVFRONT_STATE(XenbusStateClosed) |
					      PVFRONT_STATE(XenbusStateUnknown), timeout_ms);
	return ret < 0 ? ret : 0;
}

int pvfront_env_open(const char *type, uint32_t devid, struct pv_hv **hv, struct pv_xs **xs,
		     struct pvfront **f)
{
	int ret;

	*hv = NULL;
	*xs = NULL;
	*f = NULL;
	ret = pv_hv_open(PV_HV_AUTO, hv);
	if (ret == 0)
		ret = pv_xs_open(NULL, xs);
	if (ret == 0)
		ret = pvfront_open(*xs, pv_hv_domid(*hv), type, devid, f);
	if (ret < 0) /* a failing open leaves its out-pointer as it was: NULL */
		pvfront_env_close(hv, xs, f);
	return ret;
}

void pvfront_env_close(struct pv_hv **hv, struct pv_xs **xs, struct pvfront **f)
{
	if (*f)
		pvfront_close(*f);
	if (*xs)
		pv_xs_close(*xs);
	if (*hv)
		pv_hv_close(*hv);
	*f = NULL;
	*xs = NULL;
	*hv = NULL;
}

/* ---------------------------------------------------------- shared rings */

int pvfront_ring_setup(struct pvfront *f, struct pv_hv *hv, unsigned order, size_t ent_size,
		       bool with_port, struct pvfront_ring *r)
{
	unsigned pages = 1u << order;
	int ret;

	memset(r, 0, sizeof(*r));
	r->port = -1;
	if (order > PVFRONT_RING_MAX_ORDER)
		return -EINVAL;
	ret = pv_hv_share(hv, f->backend_id, pages, true, r->refs, &r->sring);
	if (ret < 0) {
		r->sring = NULL;
		return ret;
	}
	r->order = order;
	ret = pv_ring_front_init(&r->front, r->sring, (size_t)pages * PV_PAGE_SIZE, ent_size);
	if (ret == 0 && with_port) {
		r->port = pv_hv_evtchn_alloc(hv, f->backend_id);
		ret = r->port < 0 ? r->port : 0;
	}
	if (ret < 0)
		pvfront_ring_teardown(hv, r);
	return ret;
}

int pvfront_ring_write_keys(struct pvfront *f, uint32_t t, const struct pvfront_ring *r,
			    const char *dir, const char *name, const char *evtchn)
{
	char key[128];
	int ret;

	for (unsigned i = 0; i < 1u << r->order; i++) {
		ret = pv_xb_ring_key(key, sizeof(key), dir, name, r->order, i);
		if (ret == 0)
			ret = pvfront_printf(f, t, key, "%u", r->refs[i]);
		if (ret < 0)
			return ret;
	}
	if (r->port < 0)
		return 0;
	if (!evtchn)
		return -EINVAL;
	ret = pv_xb_ring_key(key, sizeof(key), dir, evtchn, 0, 0);
	return ret ?: pvfront_printf(f, t, key, "%d", r->port);
}

void pvfront_ring_teardown(struct pv_hv *hv, struct pvfront_ring *r)
{
	if (r->port >= 0)
		pv_hv_evtchn_close(hv, (uint32_t)r->port);
	if (r->sring)
		pv_hv_unshare(hv, r->sring, 1u << r->order);
	memset(r, 0, sizeof(*r));
	r->port = -1;
}

int pvfront_ring_put_raw(struct pvfront_ring *r, const void *req, size_t len)
{
	void *slot;

	if (len > r->front.ent_size)
		return -EINVAL;
	if (!pv_ring_front_free(&r->front))
		return -EAGAIN;
	slot = pv_ring_front_req_slot(&r->front);
	memset(slot, 0, r->front.ent_size);
	memcpy(slot, req, len);
	return 0;
}

void pvfront_ring_set_req_prod(struct pvfront_ring *r, uint32_t prod)
{
	pv_wmb(); /* The slots written so far are visible before the producer index. */
	r->front.sring->req_prod = prod;
	pv_mb(); /* As a push: req_prod is out before anything that follows. */
}

void *pvfront_ring_sring(const struct pvfront_ring *r)
{
	return r->sring;
}

int pvfront_ring_notify(struct pv_hv *hv, const struct pvfront_ring *r)
{
	if (r->port < 0)
		return -ENOTCONN;
	return pv_hv_evtchn_notify(hv, (uint32_t)r->port);
}
