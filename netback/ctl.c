// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-net's part of `pvback-net stats [--json|--prometheus] [DEVICE]`
 * (common/ctl.c and common/daemon.c serve it): per vif and queue, packets,
 * bytes, drops, errors, slot-rule violations and offloads both ways, and
 * each ring's indexes (pv_queue_ring_table, ring="tx"|"rx").  Runs on the
 * xenbus thread; queue counters are read racily from the queue threads,
 * or asked of the vif's worker process (--isolate domain).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "netback.h"

/* Every netif counter only grows. */
#define COUNTER(m, help) { #m, help, offsetof(struct net_stats, m), PV_STATS_COUNTER }

static const struct pv_stats_field stats_fields[] = {
	COUNTER(tx_packets, "Packets the guest sent (guest TX)"),
	COUNTER(tx_bytes, "Bytes the guest sent"),
	COUNTER(tx_drops, "Guest-TX packets dropped (slot rules, offloads, port full)"),
	COUNTER(tx_errors, "Guest-TX packets whose grant copy or map failed"),
	COUNTER(tx_slot_violations, "Guest-TX protocol violations (the vif was disconnected)"),
	COUNTER(tx_gso, "Guest-TX GSO super-frames"),
	COUNTER(tx_csum_blank, "Guest-TX frames with a partial checksum"),
	COUNTER(tx_mcast, "Multicast list changes (dummy requests)"),
	COUNTER(rx_packets, "Packets delivered to the guest (guest RX)"),
	COUNTER(rx_bytes, "Bytes delivered to the guest"),
	COUNTER(rx_drops, "Guest-RX frames dropped (filter, offload, size)"),
	COUNTER(rx_errors, "Guest-RX slots whose grant copy failed"),
	COUNTER(rx_gso, "Guest-RX GSO super-frames"),
	COUNTER(rx_csum_blank, "Guest-RX frames with a partial checksum"),
	COUNTER(rx_no_buffers, "Times guest RX waited for the guest's buffers"),
	COUNTER(credit_waits, "Times the rate limit held guest TX back"),
	COUNTER(carrier_offs, "Times a stalled queue turned the carrier off"),
	COUNTER(tx_mapped, "Guest-TX packets sent zero copy (mapped guest pages)"),
	COUNTER(tx_map_errors, "Guest-TX packets whose grant map failed (answered ERROR)"),
	{ "tx_maps_inflight", "Guest pages mapped for guest TX now",
	  offsetof(struct net_stats, tx_maps_inflight), PV_STATS_GAUGE },
};

const struct pv_stats_table net_stats_table = {
	stats_fields, sizeof(stats_fields) / sizeof(stats_fields[0]), sizeof(struct net_stats),
};

struct vif_snap {
	struct net_stats st[NET_MAX_QUEUES], total;
	struct pv_queue_ring_info tx[NET_MAX_QUEUES], rx[NET_MAX_QUEUES];
	const struct pv_stats_table *port_table; /* the port's own counters, or NULL */
	uint64_t port[NET_PORT_STATS_MAX / sizeof(uint64_t)];
};

static void snap(struct net_vif *vif, struct vif_snap *s)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->total = vif->past;
	if (vif->cfg->iso)
		net_iso_stats(vif, s->st, s->tx, s->rx);
	else
		for (i = 0; i < vif->nr_queues; i++)
			net_queue_stats(vif->queues[i], &s->st[i], &s->tx[i], &s->rx[i]);
	for (i = 0; i < vif->nr_queues; i++)
		pv_stats_sum(&net_stats_table, &s->total, &s->st[i]);
	s->port_table = vif->cfg->port_ops->stats(vif->port, s->port, sizeof(s->port));
}

static void write_text(struct pv_out *o, struct pv_xb_dev *dev, struct net_vif *vif,
		       const struct vif_snap *s)
{
	unsigned i;

	pv_out_printf(o, "%s %s state %s queues %u\n", pv_xb_dev_name(dev),
		      vif->cfg->port_ops->ifname(vif->port), pv_xb_state_name(pv_xb_dev_state(dev)),
		      vif->nr_queues);
	for (i = 0; i < vif->nr_queues; i++) {
		pv_out_printf(o, "  q%-5u ", i);
		pv_stats_emit(o, &net_stats_table, &s->st[i], false);
		pv_out_printf(o, "\n         tx ");
		pv_stats_emit(o, &pv_queue_ring_table, &s->tx[i], false);
		pv_out_printf(o, "\n         rx ");
		pv_stats_emit(o, &pv_queue_ring_table, &s->rx[i], false);
		pv_out_printf(o, "\n");
	}
	pv_out_printf(o, "  total  ");
	pv_stats_emit(o, &net_stats_table, &s->total, false);
	pv_out_printf(o, "\n");
	if (s->port_table) {
		pv_out_printf(o, "  port   ");
		pv_stats_emit(o, s->port_table, s->port, false);
		pv_out_printf(o, "\n");
	}
}

static void write_json(struct pv_out *o, struct pv_xb_dev *dev, struct net_vif *vif,
		       const struct vif_snap *s)
{
	unsigned i;

	pv_out_printf(o, "{\"name\":");
	pv_out_json_str(o, pv_xb_dev_name(dev));
	pv_out_printf(o, ",\"domid\":%u,\"devid\":%u,\"ifname\":", pv_xb_dev_domid(dev),
		      pv_xb_dev_devid(dev));
	pv_out_json_str(o, vif->cfg->port_ops->ifname(vif->port));
	pv_out_printf(o, ",\"state\":\"%s\",\"connected\":%s,\"queues\":[",
		      pv_xb_state_name(pv_xb_dev_state(dev)), vif->connected ? "true" : "false");
	for (i = 0; i < vif->nr_queues; i++) {
		pv_out_printf(o, "%s{\"index\":%u,\"worker\":", i ? "," : "", i);
		if (vif->queues[i] && vif->queues[i]->worker) /* none in a worker process */
			pv_out_json_str(o, pv_worker_name(vif->queues[i]->worker));
		else
			pv_out_printf(o, "null");
		pv_out_printf(o, ",");
		pv_stats_emit(o, &net_stats_table, &s->st[i], true);
		pv_out_printf(o, ",\"tx_ring\":{");
		pv_stats_emit(o, &pv_queue_ring_table, &s->tx[i], true);
		pv_out_printf(o, "},\"rx_ring\":{");
		pv_stats_emit(o, &pv_queue_ring_table, &s->rx[i], true);
		pv_out_printf(o, "}}");
	}
	pv_out_printf(o, "],\"total\":{");
	pv_stats_emit(o, &net_stats_table, &s->total, true);
	pv_out_printf(o, "}");
	if (s->port_table) {
		pv_out_printf(o, ",\"port\":{\"kind\":");
		pv_out_json_str(o, vif->cfg->port_ops->name);
		pv_out_printf(o, ",");
		pv_stats_emit(o, s->port_table, s->port, true);
		pv_out_printf(o, "}");
	}
	pv_out_printf(o, "}");
}

bool net_ctl_stats(struct pv_xb_dev *dev, struct pv_stats_dump *d)
{
	struct net_vif *vif = pv_xb_dev_priv(dev);
	static struct vif_snap s; /* xenbus thread only */
	char q[16], rq[24];
	unsigned i;

	if (!vif)
		return false;
	snap(vif, &s);
	if (d->fmt == PV_STATS_TEXT) {
		write_text(d->out, dev, vif, &s);
		return true;
	}
	if (d->fmt == PV_STATS_JSON) {
		write_json(d->out, dev, vif, &s);
		return true;
	}
	for (i = 0; i < vif->nr_queues; i++) {
		snprintf(q, sizeof(q), "%u", i);
		pv_stats_dump_add(d, dev, &net_stats_table, &s.st[i], "queue", q);
		snprintf(rq, sizeof(rq), "%u-tx", i);
		pv_stats_dump_add(d, dev, &pv_queue_ring_table, &s.tx[i], "queue", rq);
		snprintf(rq, sizeof(rq), "%u-rx", i);
		pv_stats_dump_add(d, dev, &pv_queue_ring_table, &s.rx[i], "queue", rq);
	}
	pv_stats_dump_add(d, dev, &net_stats_table, &vif->past, "queue", "past");
	if (s.port_table)
		pv_stats_dump_add(d, dev, s.port_table, s.port, "port", vif->cfg->port_ops->name);
	return true;
}
