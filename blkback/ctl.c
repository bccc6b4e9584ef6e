// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-blk's part of the control socket, which common/ctl.c and
 * common/daemon.c serve: the stats tables and the per-device writer behind
 * `pvback-blk stats [--json|--prometheus] [DEVICE]`, and `resize [DEVICE]`
 * (also on SIGHUP).  Runs on the xenbus thread, so the device list cannot
 * change under it; queue counters are read racily from the running queue
 * threads (blk_queue_stats).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "blkback.h"

#define STAT(m, kind, help) { #m, help, offsetof(struct blk_stats, m), PV_STATS_##kind }

/* Text and JSON keep this order (tests and scripts read them). */
static const struct pv_stats_field stats_fields[] = {
	STAT(oo_req, COUNTER, "Requests that waited for a free request slot"),
	STAT(rd_req, COUNTER, "Read requests"),
	STAT(wr_req, COUNTER, "Write requests"),
	STAT(f_req, COUNTER, "Flush and barrier requests"),
	STAT(ds_req, COUNTER, "Discard requests"),
	STAT(rd_sect, COUNTER, "512-byte sectors read"),
	STAT(wr_sect, COUNTER, "512-byte sectors written"),
	STAT(errors, COUNTER, "Requests answered with an error"),
	STAT(eopnotsupp, COUNTER, "Requests answered as not supported"),
	STAT(map_waits, COUNTER, "Requests that waited for the mapping budget (--guest-map-pages)"),
	STAT(log_suppressed, COUNTER, "Log lines of the queue the rate limit dropped"),
	STAT(lat, HIST, "Latency from request to response"),
	STAT(io_fixed, COUNTER, "Reads and writes on io_uring registered buffers"),
	STAT(io_vec, COUNTER, "Reads and writes on iovecs"),
};

const struct pv_stats_table blk_stats_table = {
	stats_fields, sizeof(stats_fields) / sizeof(stats_fields[0]), sizeof(struct blk_stats),
};

/* A queue's grant cache and ring (struct blk_queue_info) as counters. */
struct queue_nums {
	uint64_t pgrants, pgrants_max, pgrant_hits, pgrant_misses, inflight, ring_slots;
	uint64_t mapped;
};

#define QNUM(m, kind, help) { #m, help, offsetof(struct queue_nums, m), PV_STATS_##kind }

static const struct pv_stats_field queue_fields[] = {
	QNUM(pgrants, GAUGE, "Persistent grants mapped"),
	QNUM(pgrants_max, GAUGE, "Persistent grants the queue keeps at most"),
	QNUM(pgrant_hits, COUNTER, "Persistent-grant cache hits"),
	QNUM(pgrant_misses, COUNTER, "Persistent-grant cache misses"),
	QNUM(inflight, GAUGE, "Requests in flight"),
	QNUM(ring_slots, GAUGE, "Request slots of the ring"),
	QNUM(mapped, GAUGE, "Guest pages this queue has mapped for data now"),
};

static const struct pv_stats_table queue_table = {
	queue_fields, sizeof(queue_fields) / sizeof(queue_fields[0]), sizeof(struct queue_nums),
};

struct vbd_nums {
	uint64_t sectors, queues, guest_mapped, guest_map_limit, log_suppressed;
};

static const struct pv_stats_field vbd_fields[] = {
	{ "sectors", "Device size in 512-byte sectors", offsetof(struct vbd_nums, sectors),
	  PV_STATS_GAUGE },
	{ "queues", "Queues (rings) connected", offsetof(struct vbd_nums, queues), PV_STATS_GAUGE },
	{ "guest_mapped", "Pages the domain has mapped beyond its queues' reserves",
	  offsetof(struct vbd_nums, guest_mapped), PV_STATS_GAUGE },
	{ "guest_map_limit", "The domain's mapping budget beyond the reserves (--guest-map-pages)",
	  offsetof(struct vbd_nums, guest_map_limit), PV_STATS_GAUGE },
	{ "dev_log_suppressed", "Log lines of the device (not its queues) the rate limit dropped",
	  offsetof(struct vbd_nums, log_suppressed), PV_STATS_COUNTER },
};

static const struct pv_stats_table vbd_table = {
	vbd_fields, sizeof(vbd_fields) / sizeof(vbd_fields[0]), sizeof(struct vbd_nums),
};

/* One device, read once. */
struct vbd_snap {
	struct blk_queue_info qi[BLK_MAX_QUEUES];
	struct queue_nums qn[BLK_MAX_QUEUES], qtotal;
	struct blk_stats total;   /* past + every queue */
	struct vbd_nums vn;
};

static void snap(struct blk_vbd *vbd, struct vbd_snap *s)
{
	*s = (struct vbd_snap){ .total = vbd->past };
	s->vn.sectors = __atomic_load_n(&vbd->lim.sectors, __ATOMIC_RELAXED);
	s->vn.queues = vbd->nr_queues;
	s->vn.log_suppressed = __atomic_load_n(&pv_xb_dev_ratelimit(vbd->dev)->suppressed,
					       __ATOMIC_RELAXED);
	if (vbd->cfg->iso)
		blk_iso_stats(vbd, s->qi);
	else
		for (unsigned i = 0; i < vbd->nr_queues; i++)
			blk_queue_stats(vbd->queues[i], &s->qi[i]);
	for (unsigned i = 0; i < vbd->nr_queues; i++) {
		struct blk_queue_info *q = &s->qi[i];

		s->qn[i] = (struct queue_nums){ q->pgrants, q->pgrants_max, q->pgrant_hits,
						q->pgrant_misses, q->inflight, q->ring_slots,
						q->mapped };
		s->vn.guest_mapped = q->budget.guest_used;
		s->vn.guest_map_limit = q->budget.guest_limit;
		pv_stats_sum(&blk_stats_table, &s->total, &q->st);
		pv_stats_sum(&queue_table, &s->qtotal, &s->qn[i]);
	}
}

static void write_text(struct pv_out *o, struct pv_xb_dev *dev, struct blk_vbd *vbd,
		       const struct vbd_snap *s)
{
	pv_out_printf(o, "%s %s state %s sectors %llu queues %u pgrants %llu\n", pv_xb_dev_name(dev),
		      vbd->params, pv_xb_state_name(pv_xb_dev_state(dev)),
		      (unsigned long long)s->vn.sectors, vbd->nr_queues,
		      (unsigned long long)s->qtotal.pgrants);
	for (unsigned i = 0; i < vbd->nr_queues; i++) {
		const struct blk_queue_info *q = &s->qi[i];
		char label[16];

		snprintf(label, sizeof(label), "q%u", i);
		pv_out_printf(o, "  %-6s ", label);
		pv_stats_emit(o, &blk_stats_table, &q->st, false);
		pv_out_printf(o, "\n         pgrants %u/%u hits %llu misses %llu inflight %u slots %u\n",
			      q->pgrants, q->pgrants_max, (unsigned long long)q->pgrant_hits,
			      (unsigned long long)q->pgrant_misses, q->inflight, q->ring_slots);
		pv_out_printf(o, "         ");
		pv_stats_emit(o, &pv_queue_ring_table, &q->ring, false);
		pv_out_printf(o, "\n");
	}
	pv_out_printf(o, "  total  ");
	pv_stats_emit(o, &blk_stats_table, &s->total, false);
	pv_out_printf(o, "\n");
}

static void write_json(struct pv_out *o, struct pv_xb_dev *dev, struct blk_vbd *vbd,
		       const struct vbd_snap *s)
{
	pv_out_printf(o, "{\"name\":");
	pv_out_json_str(o, pv_xb_dev_name(dev));
	pv_out_printf(o, ",\"domid\":%u,\"devid\":%u,\"params\":", pv_xb_dev_domid(dev),
		      pv_xb_dev_devid(dev));
	pv_out_json_str(o, vbd->params);
	pv_out_printf(o, ",\"store\":\"%s\"", blk_store_name(vbd->bs.store));
	pv_out_printf(o, ",\"state\":\"%s\",\"connected\":%s,\"sectors\":%llu,\"readonly\":%s,"
		      "\"pgrants\":%llu,\"queues\":[", pv_xb_state_name(pv_xb_dev_state(dev)),
		      vbd->connected ? "true" : "false", (unsigned long long)s->vn.sectors,
		      vbd->lim.readonly ? "true" : "false", (unsigned long long)s->qtotal.pgrants);
	for (unsigned i = 0; i < vbd->nr_queues; i++) {
		pv_out_printf(o, "%s{\"index\":%u,", i ? "," : "", i);
		pv_stats_emit(o, &blk_stats_table, &s->qi[i].st, true);
		pv_out_printf(o, ",\"persistent\":%s,", s->qi[i].persistent ? "true" : "false");
		pv_stats_emit(o, &queue_table, &s->qn[i], true);
		pv_out_printf(o, ",");
		pv_stats_emit(o, &pv_queue_ring_table, &s->qi[i].ring, true);
		pv_out_printf(o, "}");
	}
	pv_out_printf(o, "],\"total\":{");
	pv_stats_emit(o, &blk_stats_table, &s->total, true);
	pv_out_printf(o, "}}");
}

/* Live queues by index, stopped ones as queue="past": their sum is the total. */
static void add_series(struct pv_stats_dump *d, struct pv_xb_dev *dev, struct blk_vbd *vbd,
		       const struct vbd_snap *s)
{
	char q[16];

	for (unsigned i = 0; i < vbd->nr_queues; i++) {
		snprintf(q, sizeof(q), "%u", i);
		pv_stats_dump_add(d, dev, &blk_stats_table, &s->qi[i].st, "queue", q);
		pv_stats_dump_add(d, dev, &queue_table, &s->qn[i], "queue", q);
		pv_stats_dump_add(d, dev, &pv_queue_ring_table, &s->qi[i].ring, "queue", q);
	}
	pv_stats_dump_add(d, dev, &blk_stats_table, &vbd->past, "queue", "past");
	pv_stats_dump_add(d, dev, &vbd_table, &s->vn, NULL, NULL);
}

bool blk_ctl_stats(struct pv_xb_dev *dev, struct pv_stats_dump *d)
{
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	struct vbd_snap s;

	if (!vbd)
		return false;
	snap(vbd, &s);
	if (d->fmt == PV_STATS_TEXT)
		write_text(d->out, dev, vbd, &s);
	else if (d->fmt == PV_STATS_JSON)
		write_json(d->out, dev, vbd, &s);
	else
		add_series(d, dev, vbd, &s);
	return true;
}

/* ------------------------------------------------------------- resize */

struct resize_walk {
	const char *only;
	int resized, matched, err;
};

static void resize_dev(struct pv_xb_dev *dev, void *opaque)
{
	struct resize_walk *w = opaque;
	struct blk_vbd *vbd = pv_xb_dev_priv(dev);
	int rc;

	if (!vbd || (w->only && strcmp(w->only, pv_xb_dev_name(dev))))
		return;
	w->matched++;
	rc = blk_vbd_resize(vbd);
	if (rc > 0)
		w->resized++;
	else if (rc < 0)
		w->err = rc;
}

/* Every device, or the one named: how many were resized, -ENOENT when
 * name matched nothing. */
static int resize_all(struct pv_backend *b, const char *name)
{
	struct resize_walk w = { .only = name };

	pv_backend_foreach_dev(b, resize_dev, &w);
	if (name && !w.matched)
		return -ENOENT;
	return w.err && !w.resized ? w.err : w.resized;
}

static int resize_run(void *opaque, const char *arg, struct pv_out *o)
{
	int rc = resize_all(opaque, arg);

	if (rc == -ENOENT)
		pv_out_printf(o, "no such device");
	if (rc < 0)
		return rc;
	pv_out_printf(o, "resized %d device(s)\n", rc);
	return 0;
}

const struct pv_ctl_cmd blk_ctl_resize = {
	.name = "resize", .args = "[DEVICE]", .help = "re-check backing sizes", .run = resize_run,
};

void blk_ctl_sighup(struct pv_backend *b)
{
	int rc = resize_all(b, NULL);

	pv_info(NULL, "SIGHUP: size re-checked, %d device(s) resized", rc < 0 ? 0 : rc);
}
