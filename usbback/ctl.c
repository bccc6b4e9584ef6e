// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-usb's part of `pvback-usb stats [--json|--prometheus] [DEVICE]`
 * (common/ctl.c and common/daemon.c serve it): per controller, each port's
 * device (spec, speed, the guest's address) with its transfer counters and
 * latency, and both rings' indexes (pv_queue_ring_table, ring "urb" and
 * "conn").  Runs on the xenbus thread; the queue's counters are read
 * racily (ring.c copies a port's under its lock), or asked of the
 * domain's worker (--isolate domain).
 */
#include <stdio.h>
#include <string.h>

#include "usbback.h"

enum { RING_URB = USB_RING_URB, RING_CONN = USB_RING_CONN };

static const char *const speeds[] = { "none", "low", "full", "high" };

static void write_text(struct pv_out *o, struct pv_xb_dev *dev, const struct usb_ctrl_snap *s)
{
	pv_out_printf(o, "%s state %s usb-ver %u ports %u\n", pv_xb_dev_name(dev),
		      pv_xb_state_name(pv_xb_dev_state(dev)), s->usb_ver, s->num_ports);
	for (unsigned p = 1; p <= s->num_ports; p++) {
		const struct usb_port_info *i = &s->port[p];

		if (!i->present)
			continue;
		pv_out_printf(o, "  port%-2u %s speed %s addr %u inflight %llu\n         ", p,
			      i->spec, speeds[i->speed & 3], i->addr,
			      (unsigned long long)i->inflight);
		pv_stats_emit(o, &usb_dev_stats_table, &i->stats, false);
		pv_out_printf(o, "\n");
	}
	if (!s->connected)
		return;
	pv_out_printf(o, "  urb  ");
	pv_stats_emit(o, &pv_queue_ring_table, &s->ring[RING_URB], false);
	pv_out_printf(o, "\n  conn ");
	pv_stats_emit(o, &pv_queue_ring_table, &s->ring[RING_CONN], false);
	pv_out_printf(o, "\n");
}

static void write_json(struct pv_out *o, struct pv_xb_dev *dev, const struct usb_ctrl_snap *s)
{
	bool first = true;

	pv_out_printf(o, "{\"name\":");
	pv_out_json_str(o, pv_xb_dev_name(dev));
	pv_out_printf(o, ",\"domid\":%u,\"devid\":%u,\"state\":\"%s\",\"connected\":%s,"
		      "\"usb_ver\":%u,\"num_ports\":%u,\"ports\":[", pv_xb_dev_domid(dev),
		      pv_xb_dev_devid(dev), pv_xb_state_name(pv_xb_dev_state(dev)),
		      s->connected ? "true" : "false", s->usb_ver, s->num_ports);
	for (unsigned p = 1; p <= s->num_ports; p++) {
		const struct usb_port_info *i = &s->port[p];

		if (!i->present)
			continue;
		pv_out_printf(o, "%s{\"port\":%u,\"spec\":", first ? "" : ",", p);
		pv_out_json_str(o, i->spec);
		pv_out_printf(o, ",\"speed\":\"%s\",\"addr\":%u,\"inflight\":%llu,",
			      speeds[i->speed & 3], i->addr, (unsigned long long)i->inflight);
		pv_stats_emit(o, &usb_dev_stats_table, &i->stats, true);
		pv_out_printf(o, "}");
		first = false;
	}
	pv_out_printf(o, "]");
	if (s->connected) {
		pv_out_printf(o, ",\"urb_ring\":{");
		pv_stats_emit(o, &pv_queue_ring_table, &s->ring[RING_URB], true);
		pv_out_printf(o, "},\"conn_ring\":{");
		pv_stats_emit(o, &pv_queue_ring_table, &s->ring[RING_CONN], true);
		pv_out_printf(o, "}");
	}
	pv_out_printf(o, "}");
}

bool usb_ctl_stats(struct pv_xb_dev *dev, struct pv_stats_dump *d)
{
	static struct usb_ctrl_snap s; /* xenbus thread only */
	char port[8];

	if (!usb_ctrl_snap(dev, &s))
		return false;
	if (d->fmt == PV_STATS_TEXT) {
		write_text(d->out, dev, &s);
		return true;
	}
	if (d->fmt == PV_STATS_JSON) {
		write_json(d->out, dev, &s);
		return true;
	}
	for (unsigned p = 1; p <= s.num_ports; p++) {
		if (!s.port[p].present)
			continue;
		snprintf(port, sizeof(port), "%u", p);
		pv_stats_dump_add(d, dev, &usb_dev_stats_table, &s.port[p].stats, "port", port);
	}
	if (s.connected) {
		pv_stats_dump_add(d, dev, &pv_queue_ring_table, &s.ring[RING_URB], "ring", "urb");
		pv_stats_dump_add(d, dev, &pv_queue_ring_table, &s.ring[RING_CONN], "ring", "conn");
	}
	return true;
}
