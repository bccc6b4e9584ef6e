// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A netif queue on a pv_queue (common/queue.c owns the thread, the two
 * rings, the one or two event channels, the slots, the stop protocol and
 * the restart journal): the tx ring is requests to serve (journalled,
 * answered on a stop), the rx ring buffers posted for us (a stop takes no
 * more of them).  A run serves guest TX (tx.c), then delivers what the port
 * received (rx.c); the port's own fds sit on the queue's loop and call back
 * into rx_ready and tx_done.  Never calls xenstore.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netback.h"

static void vifq_run(struct pv_queue *pq, unsigned events)
{
	struct net_queue *q = pv_queue_priv(pq);

	net_tx_run(q);
	net_rx_run(q);
}

/* Polling: a run finds what there is; busy while either ring moved. */
static bool vifq_poll(struct pv_queue *pq)
{
	struct net_queue *q = pv_queue_priv(pq);
	bool busy = q->port && q->po->poll(q->port);

	/* Frames waiting count only when they can go: a guest that posts no
	 * buffers must not keep a polling worker busy. */
	busy |= pv_queue_pending(pq, NET_RING_TX) ||
		(q->rx_n > q->rx_next &&
		 (!q->rx_paused || pv_queue_avail(pq, NET_RING_RX) >= q->rx_need));

	if (busy)
		pv_queue_run(pq);
	return busy;
}

static bool vifq_idle(struct pv_queue *pq)
{
	return net_tx_idle(pv_queue_priv(pq));
}

/* io_uring requests of the port belong to this thread: give them back now. */
static void vifq_quiesce(struct pv_queue *pq)
{
	struct net_queue *q = pv_queue_priv(pq);

	if (q->port && q->po->queue_quiesce(q->port) < 0)
		pv_warn(q->name, "%s queue %u: requests still in flight at the stop", q->po->name,
			q->idx);
	net_tx_quiesce(q); /* push what the port's last completions answered */
}

static int vifq_start(struct pv_queue *pq)
{
	static const struct net_port_queue_cbs cbs = { .rx_ready = net_rx_ready,
						       .tx_done = net_tx_done };
	struct net_queue *q = pv_queue_priv(pq);
	int rc;

	q->pq = pq;
	q->name = pv_queue_name(pq);
	q->hv = pv_queue_hv(pq);
	net_rx_init(q);
	rc = net_tx_init(q);
	if (rc < 0)
		return rc;
	rc = q->po->queue_open(q->vif->port, q->idx, pv_queue_loop(pq), &cbs, q, &q->port);
	if (rc < 0) {
		q->port = NULL;
		pv_err(q->name, "cannot open %s queue %u: %s", q->po->name, q->idx, strerror(-rc));
	}
	return rc;
}

static void vifq_fini(struct pv_queue *pq)
{
	struct net_queue *q = pv_queue_priv(pq);

	q->tx_closing = true; /* the loop is gone: tx_done may not kick it */
	if (q->port) {
		net_rx_fini(q);
		q->po->queue_close(q->port); /* gives every TX buffer back first */
	}
	net_tx_fini(q);
	/* Its counters live on in the vif's total. */
	pv_stats_sum(&net_stats_table, &q->vif->past, &q->st);
	pv_log_rl(pv_xb_dev_ratelimit(q->vif->dev), PV_LOG_INFO, q->name,
		  "stopped: tx %llu packets %llu bytes, rx %llu packets %llu bytes, "
		  "drops tx %llu rx %llu", (unsigned long long)q->st.tx_packets,
		  (unsigned long long)q->st.tx_bytes, (unsigned long long)q->st.rx_packets,
		  (unsigned long long)q->st.rx_bytes, (unsigned long long)q->st.tx_drops,
		  (unsigned long long)q->st.rx_drops);
}

static const struct pv_queue_ops net_queue_ops = {
	.proto = "net",
	.start = vifq_start,
	.run = vifq_run,
	.poll = vifq_poll,
	.idle = vifq_idle,
	.quiesce = vifq_quiesce,
	.fini = vifq_fini,
};

int net_queue_start(struct net_vif *vif, const struct net_queue_params *p,
		    struct net_queue **out)
{
	const struct net_config *cfg = vif->cfg;
	struct pv_queue_params qp = {
		.name = vif->name,
		.dev = vif->dev,
		.violation = vif->violation,
		.violation_opaque = vif->violation_opaque,
		.idx = p->idx,
		.domid = vif->domid,
		.hv_kind = cfg->pv.hv_kind,
		.poll_us = cfg->pv.poll_us,
		.worker = net_worker_pick(cfg),
		.journal_dir = cfg->pv.state_dir,
		.resume = p->resume,
		.nr_rings = 2,
		.rings = {
			[NET_RING_TX] = {
				.name = "tx",
				.nr_refs = 1,
				.refs = { p->tx_ref },
				.ent_size = sizeof(union netif_tx_sring_entry),
				.slot_size = sizeof(struct net_tx_slot),
				.port = 0,
				.journal = true,
				.drain_on_stop = true,
			},
			[NET_RING_RX] = {
				.name = "rx",
				.nr_refs = 1,
				.refs = { p->rx_ref },
				.ent_size = sizeof(union netif_rx_sring_entry),
				.slot_size = sizeof(struct net_rx_slot),
				.port = p->nr_ports == 2 ? 1 : 0,
				.journal = true,
				.drain_on_stop = false,
			},
		},
		.nr_ports = p->nr_ports,
		.ports = { p->ports[0], p->ports[1] },
	};
	struct net_queue *q;
	int rc;

	if ((cfg->port_ops->caps & NET_PORT_POLLED) && !qp.worker) {
		pv_err(vif->name, "the %s port needs polling workers: none started",
		       cfg->port_ops->name);
		return -EINVAL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->vif = vif;
	q->idx = p->idx;
	q->domid = qp.domid;
	q->po = cfg->port_ops;
	q->worker = qp.worker;
	qp.priv = q;
	rc = pv_queue_start(&net_queue_ops, &qp, &q->pq);
	if (rc < 0) {
		free(q);
		return rc;
	}
	pv_log_rl(pv_xb_dev_ratelimit(vif->dev), PV_LOG_INFO, q->name,
		  "%s rings, %s event channel%s %u%s%u, %s port queue %u%s%s",
		  p->resume ? "re-attached" : "tx and rx", p->nr_ports == 2 ? "split" : "one",
		  p->nr_ports == 2 ? "s" : "", p->ports[0], p->nr_ports == 2 ? "/" : "",
		  p->nr_ports == 2 ? p->ports[1] : p->ports[0], q->po->name, q->idx,
		  qp.worker ? ", polled by " : cfg->pv.poll_us ? ", polling" : "",
		  qp.worker ? pv_worker_name(qp.worker) : "");
	*out = q;
	return 0;
}

struct pv_queue *net_queue_pv(struct net_queue *q)
{
	return q->pq;
}

void net_queue_stop(struct net_queue *q)
{
	/* Answers the TX requests pushed before now, then ends (vifq_fini). */
	pv_queue_stop(q->pq);
	free(q);
}

void net_queue_stats(struct net_queue *q, struct net_stats *st, struct pv_queue_ring_info *tx,
		     struct pv_queue_ring_info *rx)
{
	*st = q->st;
	pv_queue_info(q->pq, NET_RING_TX, tx);
	pv_queue_info(q->pq, NET_RING_RX, rx);
}

/* ------------------------------------------------------------ workers */

struct pv_worker *net_worker_pick(const struct net_config *cfg)
{
	struct pv_worker *best = NULL;
	unsigned i;

	for (i = 0; i < cfg->nr_workers; i++)
		if (cfg->workers[i] &&
		    (!best || pv_worker_load(cfg->workers[i]) < pv_worker_load(best)))
			best = cfg->workers[i];
	return best;
}

int net_workers_start(struct net_config *cfg)
{
	unsigned i;
	int rc;

	for (i = 0; i < cfg->nr_workers; i++) {
		char name[32];
		struct pv_worker_params wp = {
			.name = name,
			.cpu = cfg->worker_cpu[i],
			.spin_us = cfg->pv.poll_us ? cfg->pv.poll_us : NET_POLL_SPIN_US,
			/* Only a polled port has frames no fd announces. */
			.max_sleep_us = cfg->port_ops->caps & NET_PORT_POLLED ?
					cfg->poll_sleep_max_us : 0,
		};

		if (wp.cpu >= 0)
			snprintf(name, sizeof(name), "netpoll-c%d", wp.cpu);
		else
			snprintf(name, sizeof(name), "netpoll%u", i);
		rc = pv_worker_start(&wp, &cfg->workers[i]);
		if (rc < 0) {
			pv_err(NULL, "cannot start polling worker %s: %s", name, strerror(-rc));
			return rc;
		}
	}
	if (cfg->nr_workers)
		pv_info(NULL, "%u polling worker%s (%s), spin %u us, then %s",
			cfg->nr_workers, cfg->nr_workers > 1 ? "s" : "",
			cfg->worker_cpu[0] >= 0 ? "pinned" : "not pinned",
			cfg->pv.poll_us ? cfg->pv.poll_us : NET_POLL_SPIN_US,
			cfg->port_ops->caps & NET_PORT_POLLED ? "idle back-off" : "event driven");
	return 0;
}
