// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vbd negotiation on the pv_xb framework (research/handshakes.md, Block):
 * probe opens `params` and advertises ring/queue/indirect/persistent limits
 * (the framework then writes hotplug-status and InitWait); connect reads the
 * frontend's rings, event channels, protocol and feature-persistent, starts
 * one queue thread per ring, and writes the connect-time keys in one
 * transaction (the framework then switches to Connected); disconnect stops
 * the queues after their in-flight I/O finished; changed re-reads the size.
 *
 * Runs on the main (xenbus) loop thread only.  Never touches a ring slot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "blkback.h"

/* `params` as xl writes it may carry a format prefix ("aio:", "raw:"). */
static const char *strip_prefix(const char *params)
{
	static const char *const prefixes[] = { "aio:", "raw:", "phy:", "file:" };
	unsigned i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(params, prefixes[i], strlen(prefixes[i])))
			return params + strlen(prefixes[i]);
	return params;
}

/* What a failed open of target has to say beyond its errno. */
static const char *open_detail(const char *target, int rc)
{
	if (blk_rbd_is_target(strip_prefix(target))) {
#ifdef HAVE_LIBRBD
		return blk_rbd_error();
#else
		return "pvback-blk was built without librbd (librbd-dev)";
#endif
	}
	if (!blk_nbd_is_uri(strip_prefix(target)))
		return NULL;
#ifdef HAVE_LIBNBD
	if (rc == -EROFS)
		return "the export is read-only: attach it read-only";
	return blk_nbd_error();
#else
	(void)rc;
	return "pvback-blk was built without libnbd (libnbd-dev)";
#endif
}

static int write_probe_keys(struct blk_vbd *vbd)
{
	const struct blk_config *cfg = vbd->cfg;
	struct pv_xb_keys *k = pv_xb_keys_begin(vbd->dev);

	if (cfg->max_indirect)
		pv_xb_keys_printf(k, "feature-max-indirect-segments", "%u", cfg->max_indirect);
	/* A server whose connections may not see each other's writes (no
	 * multi-conn): one connection, so one queue. */
	pv_xb_keys_printf(k, "multi-queue-max-queues", "%u",
			  vbd->bs.multi_conn ? cfg->pv.max_queues : 1);
	pv_xb_keys_printf(k, "max-ring-page-order", "%u", cfg->max_ring_order);
	pv_xb_keys_printf(k, "feature-persistent", "%u", cfg->persistent ? 1 : 0);
	return pv_xb_keys_end(k);
}

#ifdef HAVE_LIBRBD
static void rbd_resized(struct pv_xb_dev *dev, void *opaque)
{
	struct blk_vbd *vbd = dev ? pv_xb_dev_priv(dev) : NULL;

	(void)opaque;
	if (vbd)
		blk_vbd_resize(vbd);
}

/* A librados thread: the image's header changed (vbd_remove unwatches
 * before the vbd goes). */
static void rbd_changed(void *opaque)
{
	struct blk_vbd *vbd = opaque;

	if (pv_xb_dev_call(vbd->dev, rbd_resized, NULL) < 0)
		pv_err(vbd->name, "cannot queue a size check: out of memory");
}
#endif

/* An RBD image's resize is seen as it happens (`rbd resize` anywhere);
 * without the watch, `pvback-blk resize` or SIGHUP still sees it. */
static void watch_rbd(struct blk_vbd *vbd)
{
#ifdef HAVE_LIBRBD
	int rc = blk_rbd_watch(strip_prefix(vbd->params), rbd_changed, vbd, &vbd->bs.watch);

	if (rc < 0)
		pv_warn(vbd->name, "no online resize: %s", blk_rbd_error() ?: strerror(-rc));
#else
	(void)vbd;
#endif
}

static int vbd_probe(struct pv_xb_dev *dev)
{
	const struct blk_config *cfg = pv_xb_dev_ctx(dev);
	struct blk_vbd *vbd;
	char *mode = NULL;
	uint64_t v;
	int rc;

	vbd = calloc(1, sizeof(*vbd));
	if (!vbd)
		return -ENOMEM;
	vbd->dev = dev;
	vbd->cfg = cfg;
	vbd->name = pv_xb_dev_name(dev);
	vbd->bs.fd = vbd->bs.fd_buffered = -1;

	vbd->params = pv_xb_dev_read_be(dev, "params");
	if (!vbd->params || !*vbd->params) {
		rc = -ENOENT;
		pv_err(vbd->name, "no params: nothing to serve");
		goto fail;
	}
	mode = pv_xb_dev_read_be(dev, "mode");
	/* "r" is readonly; "w" (and "w!", shared writable) is read-write. */
	vbd->lim.readonly = mode && !strchr(mode, 'w');
	vbd->discard_enable = true;
	if (pv_xb_dev_read_be_uint(dev, "discard-enable", 0, 1, &v) == 0)
		vbd->discard_enable = v;

	rc = blk_backing_open(strip_prefix(vbd->params), vbd->lim.readonly, cfg->direct, &vbd->bs);
	if (rc < 0) {
		pv_err(vbd->name, "cannot open %s: %s%s%s", vbd->params, strerror(-rc),
		       open_detail(vbd->params, rc) ? ": " : "", open_detail(vbd->params, rc) ?: "");
		goto fail;
	}
	vbd->bs.trust_restart = cfg->nbd_trust;
	vbd->bs.timeout_s = cfg->nbd_timeout_s;
	vbd->lim.sectors = vbd->bs.size >> BLK_SECTOR_SHIFT;
	vbd->lim.discard = vbd->discard_enable && vbd->bs.can_discard && !vbd->lim.readonly;
	if (vbd->bs.store == BLK_STORE_NBD)
		pv_info(vbd->name, "%s: NBD export %s, %llu sectors%s%s%s%s", vbd->params,
			vbd->lim.readonly ? "readonly" : "read-write",
			(unsigned long long)vbd->lim.sectors, vbd->bs.can_flush ? ", flush" : "",
			vbd->bs.can_fua ? ", fua" : "", vbd->lim.discard ? ", trim" : "",
			vbd->bs.multi_conn ? ", multi-conn" : ", one connection");
	else if (vbd->bs.store == BLK_STORE_RBD) {
		pv_info(vbd->name, "%s: RBD image %s, %llu sectors, %s", vbd->params,
			vbd->lim.readonly ? "readonly" : "read-write",
			(unsigned long long)vbd->lim.sectors,
			vbd->bs.can_fua ? "writes through to the OSDs"
					: "librbd's writeback cache (FUA writes flushed)");
		watch_rbd(vbd);
	} else
		pv_info(vbd->name, "%s: %s %s, %llu sectors, %s I/O%s", vbd->params,
			vbd->bs.blkdev ? "block device" : "file",
			vbd->lim.readonly ? "readonly" : "read-write",
			(unsigned long long)vbd->lim.sectors,
			vbd->bs.direct ? "O_DIRECT" : "buffered", vbd->lim.discard ? ", discard" : "");

	rc = write_probe_keys(vbd);
	if (rc < 0) {
		pv_err(vbd->name, "cannot write features: %s", strerror(-rc));
		goto fail_close;
	}
	free(mode);
	pv_xb_dev_set_priv(dev, vbd);
	return 0;
fail_close:
	blk_backing_close(&vbd->bs);
fail:
	free(mode);
	free(vbd->params);
	free(vbd);
	return rc;
}

/* Every ring order we advertise can be read. */
_Static_assert(BLK_MAX_RING_ORDER <= PV_XB_RING_ORDER_MAX, "ring-ref keys beyond the reader");

static int write_connect_keys(struct blk_vbd *vbd)
{
	const struct blk_backing *bs = &vbd->bs;
	struct pv_xb_keys *k = pv_xb_keys_begin(vbd->dev);

	/* An NBD server without flush writes through (as QEMU takes it). */
	pv_xb_keys_printf(k, "feature-flush-cache", "%u", bs->can_flush ? 1 : 0);
	pv_xb_keys_printf(k, "feature-barrier", "%u", bs->can_flush ? 1 : 0);
	pv_xb_keys_printf(k, "feature-discard", "%u", vbd->lim.discard ? 1 : 0);
	if (vbd->lim.discard) {
		pv_xb_keys_printf(k, "discard-granularity", "%u", bs->discard_granularity);
		pv_xb_keys_printf(k, "discard-alignment", "%u", bs->discard_alignment);
		pv_xb_keys_printf(k, "discard-secure", "%u", bs->can_secure ? 1 : 0);
	}
	pv_xb_keys_printf(k, "sectors", "%llu", (unsigned long long)vbd->lim.sectors);
	pv_xb_keys_printf(k, "info", "%u", vbd->lim.readonly ? VDISK_READONLY : 0);
	pv_xb_keys_printf(k, "sector-size", "%u", bs->logical_block);
	pv_xb_keys_printf(k, "physical-sector-size", "%u", bs->physical_block);
	pv_xb_keys_printf(k, "feature-persistent", "%u", vbd->cfg->persistent ? 1 : 0);
	return pv_xb_keys_end(k);
}

static void stop_queues(struct blk_vbd *vbd)
{
	unsigned i;

	if (vbd->cfg->iso) {
		blk_iso_stop(vbd, true);
		return;
	}
	for (i = vbd->nr_queues; i-- > 0;) {
		blk_queue_stop(vbd->queues[i]);
		vbd->queues[i] = NULL;
	}
	vbd->nr_queues = 0;
}

static int vbd_connect(struct pv_xb_dev *dev)
{
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	const struct blk_config *cfg = vbd->cfg;
	struct blk_queue_params p = { .domid = pv_xb_dev_domid(dev) }, all[BLK_MAX_QUEUES];
	uint64_t order = 0, v;
	char *proto;
	unsigned i, nq;
	int rc;

	rc = pv_xb_dev_read_fe_uint(dev, "ring-page-order", 0, cfg->max_ring_order, &order);
	if (rc < 0 && rc != -ENOENT) {
		pv_xb_dev_fatal(dev, rc, "bad ring-page-order (max %u)", cfg->max_ring_order);
		return rc;
	}
	rc = pv_xb_dev_read_nr_queues(dev, vbd->bs.multi_conn ? cfg->pv.max_queues : 1, &nq);
	if (rc < 0) {
		pv_xb_dev_fatal(dev, rc, "bad multi-queue-num-queues (max %u)",
				vbd->bs.multi_conn ? cfg->pv.max_queues : 1);
		return rc;
	}
	proto = pv_xb_dev_read_fe(dev, "protocol");
	rc = blk_abi_parse(proto, &p.abi);
	if (rc < 0) {
		pv_xb_dev_fatal(dev, rc, "unknown protocol %s", proto);
		free(proto);
		return rc;
	}
	free(proto);
	p.resume = pv_xb_dev_resuming(dev);
	p.persistent = cfg->persistent &&
		       pv_xb_dev_read_fe_uint(dev, "feature-persistent", 0, 1, &v) == 0 && v;
	/* Re-read at connect: the frontend may have been resized while closed. */
	if (blk_backing_restat(&vbd->bs) == 0)
		__atomic_store_n(&vbd->lim.sectors, vbd->bs.size >> BLK_SECTOR_SHIFT,
				 __ATOMIC_RELAXED);
	vbd->lim.max_indirect = cfg->max_indirect;

	for (i = 0; i < nq; i++) {
		char dir[32] = "";

		if (nq > 1)
			snprintf(dir, sizeof(dir), "queue-%u/", i);
		p.nr_ring_pages = 1u << order;
		rc = pv_xb_dev_read_grefs(dev, dir, "ring-ref", (unsigned)order, p.ring_refs);
		if (rc == 0)
			rc = pv_xb_dev_read_evtchns(dev, dir, "event-channel", false, &p.evtchn);
		if (rc < 0) {
			pv_xb_dev_log(dev, PV_LOG_ERR, "frontend %s: %s", pv_xb_dev_failed_key(dev),
				      strerror(-rc));
			goto fail;
		}
		p.idx = i;
		all[i] = p;
		if (cfg->iso)
			continue; /* all at once below */
		rc = blk_queue_start(vbd, &p, &vbd->queues[i]);
		if (rc < 0) {
			pv_xb_dev_log(dev, PV_LOG_ERR, "queue %u: %s", i, strerror(-rc));
			goto fail;
		}
		vbd->nr_queues = i + 1;
	}
	if (cfg->iso) {
		rc = blk_iso_start(vbd, all, nq);
		if (rc < 0) {
			pv_xb_dev_log(dev, PV_LOG_ERR, "queues in the worker process: %s",
				      strerror(-rc));
			goto fail;
		}
	}
	rc = write_connect_keys(vbd);
	if (rc < 0) {
		pv_xb_dev_log(dev, PV_LOG_ERR, "cannot write connect keys: %s", strerror(-rc));
		goto fail;
	}
	vbd->connected = true;
	pv_xb_dev_log(dev, PV_LOG_INFO,
		      "connected: %u queue(s), ring order %u, %s ABI%s, indirect %u",
		      vbd->nr_queues, (unsigned)order, p.abi == BLK_ABI_X86_32 ? "x86_32" : "native",
		      p.persistent ? ", persistent grants" : "", vbd->lim.max_indirect);
	return 0;
fail:
	stop_queues(vbd);
	return rc;
}

static void queues_stopped(struct pv_xb_dev *dev, void *opaque)
{
	(void)dev;
	stop_queues(opaque); /* each one has ended: no wait */
}

/* Each queue answers its in-flight I/O first, which may take seconds with
 * rings full of large requests: the queues drain on their own threads while
 * the xenbus thread serves the other devices (the framework holds Closed
 * until queues_stopped).  A stopping daemon waits instead. */
static void vbd_disconnect(struct pv_xb_dev *dev)
{
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	struct pv_queue *pqs[BLK_MAX_QUEUES];
	unsigned i;

	if (!vbd)
		return;
	vbd->connected = false;
	if (vbd->cfg->iso) {
		blk_iso_stop(vbd, pv_xb_dev_daemon_stopping(dev));
		return;
	}
	for (i = 0; i < vbd->nr_queues; i++)
		pqs[i] = blk_queue_pq(vbd->queues[i]);
	if (pv_xb_dev_daemon_stopping(dev) ||
	    pv_xb_dev_stop_queues(dev, pqs, vbd->nr_queues, queues_stopped, vbd) < 0)
		queues_stopped(dev, vbd);
}

static void vbd_remove(struct pv_xb_dev *dev)
{
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);

	if (!vbd)
		return;
	stop_queues(vbd);
	blk_backing_close(&vbd->bs);
	free(vbd->params);
	free(vbd);
	pv_xb_dev_set_priv(dev, NULL);
}

int blk_vbd_resize(struct blk_vbd *vbd)
{
	struct pv_xb_dev *dev = vbd->dev;
	uint64_t sectors, old;
	int rc;

	rc = blk_backing_restat(&vbd->bs);
	if (rc < 0) {
		pv_err(vbd->name, "resize: cannot re-read the size of %s: %s", vbd->params,
		       strerror(-rc));
		return rc;
	}
	sectors = vbd->bs.size >> BLK_SECTOR_SHIFT;
	old = __atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED);
	if (sectors == old)
		return 0;
	/* Queue threads validate against the new size from their next request. */
	__atomic_store_n(&vbd->lim.sectors, sectors, __ATOMIC_RELAXED);
	blk_iso_resized(vbd);
	pv_info(vbd->name, "resized from %llu to %llu sectors", (unsigned long long)old,
		(unsigned long long)sectors);
	if (!vbd->connected)
		return 1; /* written at the next connect */
	rc = pv_xb_dev_printf_be(dev, 0, "sectors", "%llu", (unsigned long long)sectors);
	if (rc < 0) {
		pv_err(vbd->name, "resize: cannot write sectors: %s", strerror(-rc));
		return rc;
	}
	/* Linux blkfront re-reads `sectors` on a Connected event while connected. */
	rc = pv_xb_dev_switch_state(dev, XenbusStateConnected);
	return rc < 0 ? rc : 1;
}

/*
 * A write to `params` with the same path (what `xenstore-write` or a
 * toolstack does after growing an LV) triggers the resize check; a
 * different path would be a media change, not supported.  SIGHUP and
 * `pvback-blk resize` reach blk_vbd_resize() too (ctl.c).
 */
static void vbd_changed(struct pv_xb_dev *dev, const char *key)
{
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	char *params;

	if (!vbd || strcmp(key, "params"))
		return;
	params = pv_xb_dev_read_be(dev, "params");
	if (params && strcmp(params, vbd->params)) {
		pv_warn(vbd->name, "params changed to %s: media change is not supported", params);
		free(params);
		return;
	}
	free(params);
	blk_vbd_resize(vbd);
}

/* blkif has no reconfiguration: a frontend going Reconfiguring is ignored. */
static int vbd_reconfigure(struct pv_xb_dev *dev)
{
	return -EOPNOTSUPP;
}

const struct pv_xb_backend_ops blk_vbd_ops = {
	.type = "vbd",
	.connect_on_initialised = true,
	.hotplug = PV_XB_HOTPLUG_SELF, /* pvback-block only validates the target */
	.probe = vbd_probe,
	.connect = vbd_connect,
	.disconnect = vbd_disconnect,
	.remove = vbd_remove,
	.changed = vbd_changed,
	.reconfigure = vbd_reconfigure,
};
