/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libpvfront: frontend-side xenbus helpers (see pvfront.h).  One watch on the
 * backend's state key records each change; waits dispatch the pv_xs until the
 * recorded state matches, so there is no sleep and no polling.  Single thread.
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
