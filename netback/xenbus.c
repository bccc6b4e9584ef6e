// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vif negotiation on the pv_xb framework, as Linux 6.1's xen-netback does it
 * (research/handshakes.md, Net): probe creates the host interface
 * (vif<domid>.<handle>, or the toolstack's vifname) so that the hotplug
 * script the toolstack runs after InitWait can put it into a bridge, and
 * writes netback's feature keys; the framework waits for that script's
 * hotplug-status before Connected (PV_XB_HOTPLUG_SCRIPT).  Connect, on the
 * frontend's Connected (netfront skips Initialised), reads the frontend's
 * features, queues, rings and event channels (one, or split tx/rx), starts
 * one queue thread each, and sets the port's offloads and carrier; the
 * toolstack's `rate` is watched, and so is the frontend's
 * request-multicast-control while connected (we offer
 * feature-dynamic-multicast-control, as Linux); Reconfiguring re-reads
 * xdp-headroom.  Under --isolate domain the queues and the ctrl ring run
 * in the domain's worker process (isolate.c): connect hands it what they
 * start from, and every run-time change (rate, multicast control, XDP
 * headroom) follows there.
 *
 * Runs on the main (xenbus) loop thread only.  Never touches a ring slot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "netback.h"

/* What Linux netback gives its vif: an address no bridge would pick. */
static const uint8_t host_mac[NET_ETH_ALEN] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned v[NET_ETH_ALEN], i;
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &tail) != NET_ETH_ALEN)
		return -EINVAL;
	for (i = 0; i < NET_ETH_ALEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* `rate` is "bytes,usec" (libxl writes it from vif rate=10Mb/s@20ms);
 * absent means unlimited.  -EINVAL for anything else. */
static int read_rate(struct net_vif *vif)
{
	char *s = pv_xb_dev_read_be(vif->dev, "rate"), *comma, *end;
	unsigned long long bytes, usec;
	int rc = 0;

	if (!s) {
		__atomic_store_n(&vif->credit_bytes, 0, __ATOMIC_RELAXED);
		net_iso_settings(vif);
		return 0;
	}
	comma = strchr(s, ',');
	errno = 0;
	bytes = strtoull(s, &end, 10);
	if (!comma || end != comma || errno || s[0] < '0' || s[0] > '9') {
		rc = -EINVAL;
		goto out;
	}
	usec = strtoull(comma + 1, &end, 10);
	if (*end || errno || comma[1] < '0' || comma[1] > '9' || !usec || usec > 1000000000ull) {
		rc = -EINVAL;
		goto out;
	}
	__atomic_store_n(&vif->credit_usec, usec, __ATOMIC_RELAXED);
	__atomic_store_n(&vif->credit_bytes, bytes, __ATOMIC_RELEASE);
	pv_info(vif->name, "rate limit %llu bytes per %llu us", bytes, usec);
	net_iso_settings(vif);
out:
	if (rc < 0)
		pv_warn(vif->name, "ignoring rate '%s' (expected BYTES,USEC)", s);
	free(s);
	return rc;
}

static int vif_probe(struct pv_xb_dev *dev)
{
	const struct net_config *cfg = pv_xb_dev_ctx(dev);
	struct net_port_params pp = { .mac = host_mac, .mtu = 1500 };
	struct pv_xb_keys *k;
	struct net_vif *vif;
	char ifname[16], *s;
	uint64_t handle, mtu;
	int rc;

	vif = calloc(1, sizeof(*vif));
	if (!vif)
		return -ENOMEM;
	vif->dev = dev;
	vif->cfg = cfg;
	vif->name = pv_xb_dev_name(dev);
	vif->domid = pv_xb_dev_domid(dev);
	net_mcast_init(&vif->mcast);
	pthread_mutex_init(&vif->hash_lock, NULL);

	rc = pv_xb_dev_read_be_uint(dev, "handle", 0, UINT32_MAX, &handle);
	if (rc < 0) {
		pv_err(vif->name, "cannot read handle: %s", strerror(-rc));
		goto fail;
	}
	s = pv_xb_dev_read_be(dev, "mac");
	if (s && parse_mac(s, vif->mac) < 0)
		pv_warn(vif->name, "ignoring mac '%s'", s);
	else if (s)
		pp.guest_mac = vif->mac;
	free(s);
	if (pv_xb_dev_read_be_uint(dev, "mtu", 68, 65535, &mtu) == 0)
		pp.mtu = (unsigned)mtu;
	s = pv_xb_dev_read_be(dev, "vifname");
	if (s && *s && strlen(s) < sizeof(ifname))
		snprintf(ifname, sizeof(ifname), "%s", s);
	else
		snprintf(ifname, sizeof(ifname), "vif%u.%u", pv_xb_dev_domid(dev), (unsigned)handle);
	free(s);
	pp.ifname = ifname;
	pp.max_queues = cfg->pv.max_queues;
	pp.args = cfg->port_args;
	pp.domid = pv_xb_dev_domid(dev);
	pp.devid = (unsigned)handle;
	pp.attach_admin_only = cfg->pv.isolate;
	rc = cfg->port_ops->open(&pp, &vif->port);
	if (rc < 0) {
		pv_err(vif->name, "cannot create the %s interface %s: %s", cfg->port_ops->name,
		       ifname, strerror(-rc));
		goto fail;
	}
	read_rate(vif);

	/* Linux netback's probe keys, in its order. */
	k = pv_xb_keys_begin(dev);
	pv_xb_keys_printf(k, "feature-sg", "%d", 1);
	pv_xb_keys_printf(k, "feature-gso-tcpv4", "%d", 1);
	pv_xb_keys_printf(k, "feature-gso-tcpv6", "%d", 1);
	pv_xb_keys_printf(k, "feature-ipv6-csum-offload", "%d", 1);
	pv_xb_keys_printf(k, "feature-rx-copy", "%d", 1);
	pv_xb_keys_printf(k, "feature-rx-flip", "%d", 0);
	pv_xb_keys_printf(k, "feature-multicast-control", "%d", 1);
	pv_xb_keys_printf(k, "feature-dynamic-multicast-control", "%d", 1);
	pv_xb_keys_printf(k, "feature-split-event-channels", "%u", cfg->split_evtchn ? 1 : 0);
	pv_xb_keys_printf(k, "multi-queue-max-queues", "%u", cfg->pv.max_queues);
	pv_xb_keys_printf(k, "feature-ctrl-ring", "%u", cfg->ctrl_ring ? 1 : 0);
	pv_xb_keys_printf(k, "feature-xdp-headroom", "%u", 1);
	rc = pv_xb_keys_end(k);
	if (rc < 0) {
		pv_err(vif->name, "cannot write features: %s", strerror(-rc));
		goto fail_port;
	}
	pv_info(vif->name, "%s interface %s created (mtu %u)", cfg->port_ops->name,
		cfg->port_ops->ifname(vif->port), pp.mtu);
	pv_xb_dev_set_priv(dev, vif);
	return 0;
fail_port:
	cfg->port_ops->close(vif->port, false);
fail:
	net_mcast_fini(&vif->mcast);
	pthread_mutex_destroy(&vif->hash_lock);
	free(vif);
	return rc;
}

/* A frontend flag as Linux's xenbus_read_unsigned reads it: any number but
 * 0 is on; absent or not a number is the default. */
static bool fe_flag(struct pv_xb_dev *dev, const char *key, bool def)
{
	uint64_t v;

	if (pv_xb_dev_read_fe_uint(dev, key, 0, UINT64_MAX, &v) < 0)
		return def;
	return v != 0;
}

/* The frontend's features (Linux read_xenbus_vif_flags). */
static int read_features(struct net_vif *vif)
{
	struct pv_xb_dev *dev = vif->dev;
	struct net_features *f = &vif->feat;
	uint64_t v;

	if (!fe_flag(dev, "request-rx-copy", false)) {
		pv_xb_dev_fatal(dev, -EOPNOTSUPP, "the frontend does not request rx-copy "
				"(rx-flip is not supported)");
		return -EOPNOTSUPP;
	}
	*f = (struct net_features){
		.rx_notify = fe_flag(dev, "feature-rx-notify", false),
		.sg = fe_flag(dev, "feature-sg", false),
		.gso_tcpv4 = fe_flag(dev, "feature-gso-tcpv4", false),
		.gso_tcpv6 = fe_flag(dev, "feature-gso-tcpv6", false),
		.csum = !fe_flag(dev, "feature-no-csum-offload", false),
		.ipv6_csum = fe_flag(dev, "feature-ipv6-csum-offload", false),
		.mcast_control = fe_flag(dev, "request-multicast-control", false),
	};
	if (pv_xb_dev_read_fe_uint(dev, "xdp-headroom", 0, NET_PAGE_SIZE / 2, &v) == 0)
		f->xdp_headroom = (unsigned)v;
	return 0;
}

/* What guest RX may hand the frontend: partial checksums only when it takes
 * them for both IP versions, GSO only with sg and a partial checksum. */
static unsigned rx_offloads(const struct net_features *f)
{
	unsigned off = 0;

	if (f->csum && f->ipv6_csum) {
		off |= NET_OFF_CSUM;
		if (f->sg && f->gso_tcpv4)
			off |= NET_OFF_TSO4;
		if (f->sg && f->gso_tcpv6)
			off |= NET_OFF_TSO6;
	}
	return off;
}

/* request-multicast-control changed (or the watch was just set): the
 * filter follows at once, as Linux's xen_mcast_ctrl_changed. */
static void mcast_ctrl_changed(struct pv_xs *xs, const char *path, void *opaque)
{
	struct net_vif *vif = opaque;
	bool on = fe_flag(vif->dev, "request-multicast-control", false);

	if (on != __atomic_load_n(&vif->feat.mcast_control, __ATOMIC_RELAXED))
		pv_info(vif->name, "multicast control %s", on ? "on" : "off");
	__atomic_store_n(&vif->feat.mcast_control, on, __ATOMIC_RELAXED);
	net_iso_settings(vif);
}

static int watch_mcast_ctrl(struct net_vif *vif)
{
	char path[256];
	int rc;

	snprintf(path, sizeof(path), "%s/request-multicast-control", pv_xb_dev_fepath(vif->dev));
	rc = pv_xs_watch(pv_xb_dev_xs(vif->dev), path, mcast_ctrl_changed, vif,
			 &vif->mcast_watch);
	if (rc < 0)
		pv_err(vif->name, "cannot watch %s: %s", path, strerror(-rc));
	return rc;
}

static void unwatch_mcast_ctrl(struct net_vif *vif)
{
	if (vif->mcast_watch) {
		pv_xs_unwatch(pv_xb_dev_xs(vif->dev), vif->mcast_watch);
		vif->mcast_watch = NULL;
	}
}

static void stop_queues(struct net_vif *vif)
{
	unsigned i;

	unwatch_mcast_ctrl(vif);
	if (vif->cfg->iso) {
		net_iso_stop(vif, true);
		return;
	}
	net_ctrl_stop(vif->ctrl);
	vif->ctrl = NULL;
	for (i = vif->nr_queues; i-- > 0;) {
		net_queue_stop(vif->queues[i]);
		vif->queues[i] = NULL;
	}
	vif->nr_queues = 0;
}

static int read_queue(struct net_vif *vif, const char *dir, struct net_queue_params *p)
{
	struct pv_xb_dev *dev = vif->dev;
	int rc;

	rc = pv_xb_dev_read_grefs(dev, dir, "tx-ring-ref", 0, &p->tx_ref);
	if (rc == 0)
		rc = pv_xb_dev_read_grefs(dev, dir, "rx-ring-ref", 0, &p->rx_ref);
	if (rc == 0) {
		rc = pv_xb_dev_read_evtchns(dev, dir, "event-channel", vif->cfg->split_evtchn,
					    p->ports);
		if (rc > 0) {
			p->nr_ports = (unsigned)rc;
			rc = 0;
		}
	}
	if (rc < 0)
		pv_xb_dev_log(dev, PV_LOG_ERR, "frontend %s: %s", pv_xb_dev_failed_key(dev),
			      strerror(-rc));
	return rc;
}

/* The optional ctrl ring (Windows PV drivers use it, Linux netfront not). */
static int read_ctrl(struct net_vif *vif, struct net_ctrl_params *c)
{
	struct pv_xb_dev *dev = vif->dev;
	char *s;
	int rc;

	*c = (struct net_ctrl_params){ 0 };
	s = pv_xb_dev_read_fe(dev, "ctrl-ring-ref");
	free(s);
	if (!s || !vif->cfg->ctrl_ring)
		return 0;
	rc = pv_xb_dev_read_grefs(dev, "", "ctrl-ring-ref", 0, &c->ref);
	if (rc == 0)
		rc = pv_xb_dev_read_evtchns(dev, "", "event-channel-ctrl", false, &c->port);
	if (rc < 0) {
		pv_xb_dev_fatal(dev, rc, "frontend %s", pv_xb_dev_failed_key(dev));
		return rc;
	}
	c->on = true;
	return 0;
}

static int start_ctrl(struct net_vif *vif)
{
	struct net_ctrl_params c;
	int rc;

	rc = read_ctrl(vif, &c);
	if (rc < 0 || !c.on)
		return rc;
	rc = net_ctrl_start(vif, &c, &vif->ctrl);
	if (rc < 0)
		pv_xb_dev_log(vif->dev, PV_LOG_ERR, "ctrl ring: %s", strerror(-rc));
	return rc < 0 ? rc : 0;
}

/* Every queue and the ctrl ring in the domain's worker process. */
static int start_iso(struct net_vif *vif, const struct net_queue_params *all, unsigned nq)
{
	struct net_ctrl_params c;
	int rc;

	rc = read_ctrl(vif, &c);
	if (rc < 0)
		return rc;
	rc = net_iso_start(vif, all, nq, &c);
	if (rc < 0)
		pv_xb_dev_log(vif->dev, PV_LOG_ERR, "queues in the worker process: %s",
			      strerror(-rc));
	return rc;
}

static int vif_connect(struct pv_xb_dev *dev)
{
	struct net_vif *vif = pv_xb_dev_priv(dev);
	const struct net_config *cfg = vif->cfg;
	const struct net_port_ops *po = cfg->port_ops;
	struct net_queue_params p = { .resume = pv_xb_dev_resuming(dev) }, all[NET_MAX_QUEUES];
	unsigned nq, i;
	int rc;

	rc = read_features(vif);
	if (rc < 0)
		return rc;
	vif->mcast.n = 0; /* a new connection starts with an empty list */
	pthread_mutex_lock(&vif->hash_lock);
	memset(&vif->hash, 0, sizeof(vif->hash)); /* and no hashing */
	__atomic_add_fetch(&vif->hash_gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vif->hash_lock);
	rc = pv_xb_dev_read_nr_queues(dev, cfg->pv.max_queues, &nq);
	if (rc < 0) {
		pv_xb_dev_fatal(dev, rc, "bad multi-queue-num-queues (max %u)", cfg->pv.max_queues);
		return rc;
	}
	rc = po->set_offloads(vif->port, rx_offloads(&vif->feat));
	if (rc < 0)
		pv_xb_dev_log(dev, PV_LOG_WARN, "cannot set the interface's offloads: %s",
			      strerror(-rc));
	for (i = 0; i < nq; i++) {
		char dir[32] = "";

		if (nq > 1)
			snprintf(dir, sizeof(dir), "queue-%u/", i);
		rc = read_queue(vif, dir, &p);
		if (rc < 0)
			goto fail;
		p.idx = i;
		all[i] = p;
		if (cfg->iso)
			continue; /* all at once below */
		rc = net_queue_start(vif, &p, &vif->queues[i]);
		if (rc < 0) {
			pv_xb_dev_log(dev, PV_LOG_ERR, "queue %u: %s", i, strerror(-rc));
			goto fail;
		}
		vif->nr_queues = i + 1;
	}
	rc = cfg->iso ? start_iso(vif, all, nq) : start_ctrl(vif);
	if (rc == 0)
		rc = watch_mcast_ctrl(vif);
	if (rc < 0)
		goto fail;
	rc = po->set_carrier(vif->port, true);
	if (rc < 0)
		pv_xb_dev_log(dev, PV_LOG_WARN, "cannot set the carrier on: %s", strerror(-rc));
	vif->connected = true;
	pv_xb_dev_log(dev, PV_LOG_INFO, "connected: %u queue(s), %s event channel(s)%s%s%s%s",
		      vif->nr_queues, p.nr_ports == 2 ? "split" : "one", vif->feat.sg ? ", sg" : "",
		      vif->feat.gso_tcpv4 ? ", gso-tcpv4" : "",
		      vif->feat.gso_tcpv6 ? ", gso-tcpv6" : "", vif->feat.csum ? ", csum" : "");
	return 0;
fail:
	stop_queues(vif);
	return rc;
}

static void queues_stopped(struct pv_xb_dev *dev, void *opaque)
{
	(void)dev;
	stop_queues(opaque); /* each one has ended: no wait */
}

/* Each queue answers the TX requests pushed before, which waits for the
 * port to give mapped packets back: off the xenbus thread (the framework
 * holds the vif meanwhile), unless the daemon stops. */
static void vif_disconnect(struct pv_xb_dev *dev)
{
	struct net_vif *vif = pv_xb_dev_priv(dev);
	struct pv_queue *pqs[NET_MAX_QUEUES + 1];
	unsigned i, n = 0;

	if (!vif)
		return;
	vif->cfg->port_ops->set_carrier(vif->port, false);
	vif->connected = false;
	if (vif->cfg->iso) {
		unwatch_mcast_ctrl(vif);
		net_iso_stop(vif, pv_xb_dev_daemon_stopping(dev));
		return;
	}
	if (vif->ctrl)
		pqs[n++] = net_ctrl_pv(vif->ctrl);
	for (i = 0; i < vif->nr_queues; i++)
		pqs[n++] = net_queue_pv(vif->queues[i]);
	if (pv_xb_dev_daemon_stopping(dev) ||
	    pv_xb_dev_stop_queues(dev, pqs, n, queues_stopped, vif) < 0)
		queues_stopped(dev, vif);
}

/* The device is gone (the toolstack removed it, or the guest died), or
 * only this daemon stops and the vif lives on (online=1 and its directory
 * still there): then its interface stays for the next daemon, in its
 * bridge, as the guest's connection does. */
static void vif_remove(struct pv_xb_dev *dev)
{
	struct net_vif *vif = pv_xb_dev_priv(dev);
	uint64_t online = 0;
	bool keep;

	if (!vif)
		return;
	stop_queues(vif);
	keep = pv_xb_dev_read_be_uint(dev, "online", 0, 1, &online) == 0 && online &&
	       pv_xs_domain_exists(pv_xb_dev_xs(dev), pv_xb_dev_domid(dev));
	if (keep)
		pv_info(vif->name, "leaving %s to the next daemon",
			vif->cfg->port_ops->ifname(vif->port));
	vif->cfg->port_ops->close(vif->port, keep);
	net_mcast_fini(&vif->mcast);
	pthread_mutex_destroy(&vif->hash_lock);
	free(vif);
	pv_xb_dev_set_priv(dev, NULL);
}

/* The toolstack changes `rate` at run time (xl network-attach rate=...). */
static void vif_changed(struct pv_xb_dev *dev, const char *key)
{
	struct net_vif *vif = pv_xb_dev_priv(dev);

	if (vif && !strcmp(key, "rate"))
		read_rate(vif);
}

/* Netfront's XDP headroom change: Reconfiguring, then xdp-headroom. */
static int vif_reconfigure(struct pv_xb_dev *dev)
{
	struct net_vif *vif = pv_xb_dev_priv(dev);
	uint64_t v;

	if (pv_xb_dev_read_fe_uint(dev, "xdp-headroom", 0, NET_PAGE_SIZE / 2, &v) < 0)
		v = 0;
	__atomic_store_n(&vif->feat.xdp_headroom, (unsigned)v, __ATOMIC_RELAXED);
	net_iso_settings(vif);
	pv_xb_dev_log(dev, PV_LOG_INFO, "reconfigured: xdp-headroom %u", (unsigned)v);
	return 0;
}

const struct pv_xb_backend_ops net_vif_ops = {
	.type = "vif",
	.connect_on_initialised = false, /* netfront goes straight to Connected */
	.hotplug = PV_XB_HOTPLUG_SCRIPT, /* vif-bridge puts the interface into a bridge */
	.probe = vif_probe,
	.connect = vif_connect,
	.disconnect = vif_disconnect,
	.remove = vif_remove,
	.changed = vif_changed,
	.reconfigure = vif_reconfigure,
};
