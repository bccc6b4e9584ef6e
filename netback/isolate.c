// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --isolate domain: each guest domain's vif queues in a worker process of
 * their own (docs/security.md).  The xenbus process keeps xenstore, the
 * control socket and each vif's TAP (it creates it at probe, with
 * CAP_NET_ADMIN, and sets its offloads and carrier); at connect it opens
 * every TAP queue's fd and hands them (SCM_RIGHTS) with the queues'
 * parameters to the domain's worker, which maps the rings and runs the
 * queues and the ctrl ring exactly as a single process does (ring.c,
 * ctrl.c) on a port made of those fds: it never opens /dev/net/tun.
 *
 * The protocol, the workers' lives and the drains are common/isodev.c's;
 * this file says what net's messages hold: START the vif's negotiated
 * features, rate, queue parameters and ctrl ring (+ one TAP fd per queue),
 * STATS each queue's counters and ring indexes, STOPPED the stopped queues'
 * counters, and one request of its own, SETTINGS: the run-time changes the
 * xenbus process hears of (the toolstack's rate, the frontend's
 * request-multicast-control and xdp-headroom).  What the queues change on
 * their own stays in the worker: the carrier of a stalled receive queue
 * (TUNSETCARRIER through its queue 0 fd), the multicast list, the ctrl
 * ring's hash settings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netback.h"

#define ISO_NAME_MAX 64
#define ISO_IFNAME   16 /* IFNAMSIZ */

enum { ISO_SETTINGS }; /* net's own request */

struct iso_settings {
	uint64_t credit_bytes, credit_usec;
	uint32_t mcast_control, xdp_headroom;
};

struct iso_start {
	char name[ISO_NAME_MAX];
	char ifname[ISO_IFNAME];
	uint32_t domid;
	struct net_features feat;
	struct iso_settings set;
	struct net_ctrl_params ctrl;
	uint32_t nq;
	struct net_queue_params p[NET_MAX_QUEUES];
};

struct iso_stats {
	uint32_t nq;
	struct net_stats st[NET_MAX_QUEUES];
	struct pv_queue_ring_info tx[NET_MAX_QUEUES], rx[NET_MAX_QUEUES];
};

/* ============================================================ xenbus side */

static void settings_of(const struct net_vif *vif, struct iso_settings *s)
{
	s->credit_bytes = __atomic_load_n(&vif->credit_bytes, __ATOMIC_ACQUIRE);
	s->credit_usec = __atomic_load_n(&vif->credit_usec, __ATOMIC_RELAXED);
	s->mcast_control = __atomic_load_n(&vif->feat.mcast_control, __ATOMIC_RELAXED);
	s->xdp_headroom = __atomic_load_n(&vif->feat.xdp_headroom, __ATOMIC_RELAXED);
}

int net_iso_start(struct net_vif *vif, const struct net_queue_params *p, unsigned nq,
		  const struct net_ctrl_params *ctrl)
{
	const struct net_port_ops *po = vif->cfg->port_ops;
	struct iso_start *s = calloc(1, sizeof(*s));
	int fds[NET_MAX_QUEUES];
	int rc;

	if (!s)
		return -ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", vif->name);
	snprintf(s->ifname, sizeof(s->ifname), "%s", po->ifname(vif->port));
	s->domid = vif->domid;
	s->feat = vif->feat;
	settings_of(vif, &s->set);
	s->ctrl = *ctrl;
	s->nq = nq;
	memcpy(s->p, p, nq * sizeof(*p));
	rc = net_tap_queue_fds(vif->port, nq, fds);
	if (rc < 0) {
		pv_xb_dev_log(vif->dev, PV_LOG_ERR, "cannot open the %s queues of %s: %s", po->name,
			      po->ifname(vif->port), strerror(-rc));
		free(s);
		return rc;
	}
	vif->nr_queues = nq;
	rc = pv_isodev_start(vif->cfg->iso, &vif->iso, vif->dev, s, fds, nq);
	if (rc < 0)
		vif->nr_queues = 0;
	for (unsigned i = 0; i < nq; i++)
		close(fds[i]); /* the worker's now (or nobody's) */
	free(s);
	return rc;
}

/* The stop is over: the stopped queues' counters (none when the worker
 * died) join the vif's past. */
static void stopped(struct pv_isodev *d, const void *past)
{
	struct net_vif *vif = (struct net_vif *)((char *)d - offsetof(struct net_vif, iso));

	vif->nr_queues = 0;
	if (past)
		pv_stats_sum(&net_stats_table, &vif->past, past);
}

void net_iso_stop(struct net_vif *vif, bool wait)
{
	pv_isodev_stop(&vif->iso, wait, stopped);
}

void net_iso_stats(struct net_vif *vif, struct net_stats *st, struct pv_queue_ring_info *tx,
		   struct pv_queue_ring_info *rx)
{
	struct iso_stats *r = calloc(1, sizeof(*r));
	bool ok = r && pv_isodev_stats(&vif->iso, r) == 0 && r->nq == vif->nr_queues;

	/* Zeros for what the worker could not say. */
	for (unsigned i = 0; i < vif->nr_queues; i++) {
		st[i] = ok ? r->st[i] : (struct net_stats){ 0 };
		tx[i] = ok ? r->tx[i] : (struct pv_queue_ring_info){ 0 };
		rx[i] = ok ? r->rx[i] : (struct pv_queue_ring_info){ 0 };
	}
	free(r);
}

void net_iso_settings(struct net_vif *vif)
{
	struct iso_settings s;

	if (!vif->cfg->iso || !pv_isodev_running(&vif->iso))
		return;
	settings_of(vif, &s);
	pv_isodev_call(&vif->iso, ISO_SETTINGS, &s, NULL, 0, NULL);
}

/* ============================================================ worker side */

struct wvif {
	struct net_vif vif;
	char name[ISO_NAME_MAX];
};

static void settings_set(struct net_vif *vif, const struct iso_settings *s)
{
	__atomic_store_n(&vif->credit_usec, s->credit_usec, __ATOMIC_RELAXED);
	__atomic_store_n(&vif->credit_bytes, s->credit_bytes, __ATOMIC_RELEASE);
	__atomic_store_n(&vif->feat.mcast_control, s->mcast_control != 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vif->feat.xdp_headroom,
			 s->xdp_headroom <= NET_PAGE_SIZE / 2 ? s->xdp_headroom : 0,
			 __ATOMIC_RELAXED);
}

/* Stop what started, in reverse (each stop drains; nothing ran long). */
static void w_vif_free(struct wvif *v)
{
	struct net_vif *vif = &v->vif;

	net_ctrl_stop(vif->ctrl);
	for (unsigned i = vif->nr_queues; i-- > 0;)
		net_queue_stop(vif->queues[i]);
	vif->cfg->port_ops->close(vif->port, true);
	net_mcast_fini(&vif->mcast);
	pthread_mutex_destroy(&vif->hash_lock);
	free(v);
}

static bool start_valid(const struct iso_start *s, unsigned nfds)
{
	if (s->nq < 1 || s->nq > NET_MAX_QUEUES || nfds != s->nq || s->domid > UINT16_MAX)
		return false;
	for (unsigned i = 0; i < s->nq; i++)
		if (s->p[i].idx != i || s->p[i].nr_ports < 1 || s->p[i].nr_ports > 2)
			return false;
	return true;
}

static int w_start(struct pv_isodev_w *d, void *start, int *fds, unsigned nfds)
{
	struct pv_queue *pq[NET_MAX_QUEUES + 1];
	struct iso_start *s = start;
	struct net_vif *vif;
	struct wvif *v;
	unsigned i, n = 0;
	int rc;

	s->name[ISO_NAME_MAX - 1] = '\0';
	s->ifname[ISO_IFNAME - 1] = '\0';
	if (!start_valid(s, nfds))
		return pv_isolate_refuse(fds, nfds, -EINVAL);
	v = calloc(1, sizeof(*v));
	if (!v)
		return pv_isolate_refuse(fds, nfds, -ENOMEM);
	vif = &v->vif;
	vif->cfg = pv_backend_config(pv_isodev_w_backend(d));
	rc = vif->cfg->port_ops != &net_port_tap_ops ? -EOPNOTSUPP
		: net_tap_port_adopt(s->ifname, fds, nfds, &vif->port);
	if (rc < 0) {
		pv_isolate_close_fds(fds, nfds);
		free(v);
		return rc;
	}
	snprintf(v->name, sizeof(v->name), "%s", s->name);
	vif->name = v->name;
	vif->domid = (uint16_t)s->domid;
	vif->violation = pv_isodev_w_violation;
	vif->violation_opaque = d;
	vif->feat = s->feat;
	settings_set(vif, &s->set);
	net_mcast_init(&vif->mcast);
	pthread_mutex_init(&vif->hash_lock, NULL);
	for (i = 0; i < s->nq; i++) {
		rc = net_queue_start(vif, &s->p[i], &vif->queues[i]);
		if (rc < 0) {
			pv_err(v->name, "queue %u: %s", i, strerror(-rc));
			goto fail;
		}
		pq[n++] = net_queue_pv(vif->queues[i]);
		vif->nr_queues = i + 1;
	}
	if (s->ctrl.on) {
		rc = net_ctrl_start(vif, &s->ctrl, &vif->ctrl);
		if (rc < 0) {
			pv_err(v->name, "ctrl ring: %s", strerror(-rc));
			goto fail;
		}
		pq[n++] = net_ctrl_pv(vif->ctrl);
	}
	rc = pv_isodev_w_set(d, v, pq, n);
	if (rc < 0)
		goto fail;
	vif->connected = true;
	return 0;
fail:
	w_vif_free(v);
	return rc;
}

static void w_stats(struct pv_isodev_w *d, void *stats)
{
	struct net_vif *vif = &((struct wvif *)pv_isodev_w_priv(d))->vif;
	struct iso_stats *r = stats;

	r->nq = vif->nr_queues;
	for (unsigned i = 0; i < r->nq; i++)
		net_queue_stats(vif->queues[i], &r->st[i], &r->tx[i], &r->rx[i]);
}

static void w_stopped(struct pv_isodev_w *d, void *past)
{
	struct wvif *v = pv_isodev_w_priv(d);

	/* Each queue has ended (their counters are in past now): no wait. */
	net_ctrl_stop(v->vif.ctrl);
	v->vif.ctrl = NULL;
	for (unsigned i = v->vif.nr_queues; i-- > 0;)
		net_queue_stop(v->vif.queues[i]);
	v->vif.nr_queues = 0;
	memcpy(past, &v->vif.past, sizeof(v->vif.past));
	w_vif_free(v);
}

/* SETTINGS (no fds, no reply): the body is 8-byte aligned, after the header. */
static void w_message(struct pv_isodev_w *d, unsigned n, void *req, int *fds, unsigned nfds,
		      void *reply)
{
	(void)reply;
	pv_isolate_close_fds(fds, nfds);
	if (n == ISO_SETTINGS)
		settings_set(&((struct wvif *)pv_isodev_w_priv(d))->vif, req);
}

int net_iso_worker(struct pv_backend *b, struct pv_loop *loop, int fd)
{
	return pv_isodev_worker(b, loop, fd, &net_iso_desc);
}

const struct pv_isodev_desc net_iso_desc = {
	.start_size = sizeof(struct iso_start),
	.stats_size = sizeof(struct iso_stats),
	.past_size = sizeof(struct net_stats),
	.user = { [ISO_SETTINGS] = { .size = sizeof(struct iso_settings) } },
	.w_start = w_start,
	.w_stats = w_stats,
	.w_stopped = w_stopped,
	.w_message = w_message,
};
