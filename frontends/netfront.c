// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Userspace netif frontend (see netfront.h for the contract).  The xenbus
 * side goes through libpvfront on the owner's pv_hv and pv_xs; each queue
 * has its own pv_hv handle (its rings, ports and pools live there), so its
 * thread polls only its own ports.  The slot rules are netfront-slots.c's.
 *
 * TX: a request id is a data slot, and in pool mode the id's page of the
 * queue's read-only pool (regrant: a page granted for that slot and
 * ungranted on its response).  Ids are FREE, QUEUED (written, not pushed:
 * a response for it is a lie) or PENDING; a packet's first id stays held
 * (DONE) until every slot of the packet is answered, and carries the
 * packet's count.  RX: ring slot i always holds the buffer of page i (pool
 * mode) with id i, as Linux's rx_skbs[] does; a response is copied out of
 * the ring once, into a private copy, before anything reads it.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include <xenstore.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvring.h"
#include "pvnet.h"
#include "pvfront.h"
#include "netfront.h"
#include "internal.h"

#define NF_TX_ENT sizeof(union netif_tx_sring_entry)
#define NF_RX_ENT sizeof(union netif_rx_sring_entry)
#define NF_CTRL_ENT sizeof(union xen_netif_ctrl_sring_entry)
#define NF_RAW_STATUS 64u
#define NF_KEYS_MAX 4096

_Static_assert(sizeof(struct netif_rx_response) == 8 && sizeof(struct netif_extra_info) == 8 &&
		       NF_RX_ENT == 8,
	       "nf_rx_assemble takes 8-byte rx ring entries");

enum { ID_FREE, ID_QUEUED, ID_PENDING, ID_DONE };

struct nf_txid {
	uint8_t state;
	uint16_t head;       /* the packet's first id */
	/* on a packet's first id: */
	uint16_t left;       /* its data slots not yet answered */
	int16_t status;      /* the first non-OKAY status, or OKAY */
	uint32_t bytes;
	bool mcast;          /* a multicast control dummy request */
	/* regrant: this slot's own page */
	void *page;
	uint32_t gref;
};

struct nf_queue {
	struct netfront *nf;
	unsigned idx;
	struct pv_hv *hv;
	struct pvfront_ring tx, rx;
	int tx_port, rx_port;        /* equal with one channel */
	/* TX */
	unsigned nr_ids;
	struct nf_txid *ids;
	uint16_t *free_ids;
	unsigned nr_free;
	uint16_t *queued;            /* ids written since the last push */
	unsigned nr_queued;
	void *tx_pool;
	uint32_t *tx_refs;
	unsigned inflight;           /* packets */
	unsigned raw_out;            /* raw entries not yet answered */
	int16_t raw_status[NF_RAW_STATUS];
	unsigned nr_raw_status;
	uint8_t *bounce;             /* a frame whose checksum we finish */
	int mcast_status;            /* the last dummy request's NETIF_RSP_*, or -EINPROGRESS */
	/* RX */
	void *rx_pool;
	uint32_t *rx_refs;
	void **rx_page;              /* regrant: per ring slot */
	uint32_t *rx_gref;
	bool *rx_posted;             /* per ring slot */
	uint8_t *rxc;                /* private copies of responses, per ring slot */
	RING_IDX rx_copied;          /* responses copied up to here */
	RING_IDX rx_unconsumed;      /* as Linux's rx_rsp_unconsumed */
	struct netfront_rx_meta rx_meta; /* of the frame netfront_recv returned last */
	struct netfront_stats st;
};

struct netfront {
	struct pv_hv *hv;            /* the owner's: ctrl ring */
	struct pv_xs *xs;
	struct pvfront *f;
	uint16_t self, backend;
	int timeout_ms;
	bool disconnected;
	const char *broken;
	struct netfront_opts opts;
	struct netfront_info info;
	struct nf_tx_caps caps;
	struct nf_queue q[NETFRONT_MAX_QUEUES];
	struct pvfront_ring ctrl;
	uint16_t ctrl_id;
	char keys[NF_KEYS_MAX];
};

void netfront_opts_default(struct netfront_opts *o, uint32_t devid)
{
	*o = (struct netfront_opts){
		.devid = devid, .nr_queues = 1, .split = true, .sg = true, .gso_tcpv4 = true,
		.gso_tcpv6 = true, .csum = true, .ipv6_csum = true, .rx_notify = true,
	};
}

const struct netfront_info *netfront_info(const struct netfront *nf) { return &nf->info; }
const char *netfront_keys(const struct netfront *nf) { return nf->keys; }
const char *netfront_broken(const struct netfront *nf)
{
	return __atomic_load_n(&nf->broken, __ATOMIC_ACQUIRE);
}

static struct nf_queue *queue_of(struct netfront *nf, unsigned q)
{
	return q < nf->info.nr_queues ? &nf->q[q] : NULL;
}

const struct netfront_stats *netfront_stats(const struct netfront *nf, unsigned q)
{
	return q < nf->info.nr_queues ? &nf->q[q].st : NULL;
}

/* "Disabled for further use": the first reason sticks (any queue thread
 * may set it, every thread reads it). */
static int set_broken(struct netfront *nf, const char *why)
{
	const char *none = NULL;

	__atomic_compare_exchange_n(&nf->broken, &none, why, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
	return -EIO;
}

static bool is_broken(const struct netfront *nf)
{
	return __atomic_load_n(&nf->broken, __ATOMIC_ACQUIRE) != NULL;
}

/* --------------------------------------------------------------- pools */

static void *tx_page(struct nf_queue *q, unsigned id)
{
	return q->nf->opts.regrant ? q->ids[id].page : (char *)q->tx_pool + (size_t)id * PV_PAGE_SIZE;
}

static uint32_t tx_gref(struct nf_queue *q, unsigned id)
{
	return q->nf->opts.regrant ? q->ids[id].gref : q->tx_refs[id];
}

static void *rx_page(struct nf_queue *q, unsigned slot)
{
	return q->nf->opts.regrant ? q->rx_page[slot] : (char *)q->rx_pool + (size_t)slot * PV_PAGE_SIZE;
}

static int queue_alloc(struct netfront *nf, struct nf_queue *q)
{
	unsigned n, i;
	int rc;

	n = q->tx.front.nr_ents;
	q->nr_ids = n;
	q->ids = calloc(n, sizeof(*q->ids));
	q->free_ids = calloc(n, sizeof(*q->free_ids));
	q->queued = calloc(n, sizeof(*q->queued));
	q->bounce = malloc(NF_MAX_FRAME);
	n = q->rx.front.nr_ents;
	q->rx_page = calloc(n, sizeof(*q->rx_page));
	q->rx_gref = calloc(n, sizeof(*q->rx_gref));
	q->rx_posted = calloc(n, sizeof(*q->rx_posted));
	q->rxc = calloc(n, NF_RX_ENT);
	q->tx_refs = calloc(q->nr_ids, sizeof(uint32_t));
	q->rx_refs = calloc(n, sizeof(uint32_t));
	if (!q->ids || !q->free_ids || !q->queued || !q->bounce || !q->rx_page || !q->rx_gref ||
	    !q->rx_posted || !q->rxc || !q->tx_refs || !q->rx_refs)
		return -ENOMEM;
	for (i = q->nr_ids; i-- > 0;)
		q->free_ids[q->nr_free++] = (uint16_t)i;
	if (nf->opts.regrant)
		return 0;
	/* The pools: granted once, read-only for TX, writable for RX. */
	rc = pv_hv_share(q->hv, nf->backend, q->nr_ids, false, q->tx_refs, &q->tx_pool);
	if (rc < 0) {
		q->tx_pool = NULL;
		return rc;
	}
	rc = pv_hv_share(q->hv, nf->backend, n, true, q->rx_refs, &q->rx_pool);
	if (rc < 0)
		q->rx_pool = NULL;
	return rc;
}

static void queue_free(struct netfront *nf, struct nf_queue *q)
{
	unsigned i;

	if (!q->hv)
		return;
	for (i = 0; q->ids && i < q->nr_ids; i++)
		if (q->ids[i].page)
			pv_hv_unshare(q->hv, q->ids[i].page, 1);
	for (i = 0; q->rx_page && i < q->rx.front.nr_ents; i++)
		if (q->rx_page[i])
			pv_hv_unshare(q->hv, q->rx_page[i], 1);
	if (q->tx_pool)
		pv_hv_unshare(q->hv, q->tx_pool, q->nr_ids);
	if (q->rx_pool)
		pv_hv_unshare(q->hv, q->rx_pool, q->rx.front.nr_ents);
	pvfront_ring_teardown(q->hv, &q->tx);
	pvfront_ring_teardown(q->hv, &q->rx);
	free(q->ids);
	free(q->free_ids);
	free(q->queued);
	free(q->bounce);
	free(q->rx_page);
	free(q->rx_gref);
	free(q->rx_posted);
	free(q->rxc);
	free(q->tx_refs);
	free(q->rx_refs);
	pv_hv_close(q->hv);
	memset(q, 0, sizeof(*q));
}

static int queue_setup(struct netfront *nf, struct nf_queue *q, unsigned idx)
{
	int rc;

	q->nf = nf;
	q->idx = idx;
	q->tx.port = q->rx.port = -1;
	rc = pv_hv_open(PV_HV_AUTO, &q->hv);
	if (rc < 0) {
		q->hv = NULL;
		return rc;
	}
	/* netif rings are one page (no ring-page-order); the tx ring's port
	 * serves both rings unless the channels are split. */
	rc = pvfront_ring_setup(nf->f, q->hv, 0, NF_TX_ENT, true, &q->tx);
	if (rc == 0)
		rc = pvfront_ring_setup(nf->f, q->hv, 0, NF_RX_ENT, nf->info.split, &q->rx);
	if (rc < 0)
		return rc;
	q->tx_port = q->tx.port;
	q->rx_port = nf->info.split ? q->rx.port : q->tx.port;
	return queue_alloc(nf, q);
}

/* --------------------------------------------------------------- RX ring */

/* xennet_alloc_rx_buffers: every free ring slot gets its buffer back. */
static int rx_refill(struct netfront *nf, struct nf_queue *q)
{
	struct pv_ring_front *r = &q->rx.front;
	unsigned mask = r->nr_ents - 1;
	int rc;

	while (r->req_prod_pvt - r->rsp_cons < r->nr_ents) {
		unsigned slot = r->req_prod_pvt & mask;
		struct netif_rx_request *req;
		uint32_t ref;

		if (nf->opts.regrant) {
			rc = pv_hv_share(q->hv, nf->backend, 1, true, &ref, &q->rx_page[slot]);
			if (rc < 0) {
				q->rx_page[slot] = NULL;
				return rc; /* Linux retries from a timer; we at the next kick */
			}
			q->rx_gref[slot] = ref;
		} else {
			ref = q->rx_refs[slot];
		}
		req = pv_ring_front_req_slot(r);
		req->id = (uint16_t)slot;
		req->gref = ref;
		q->rx_posted[slot] = true;
	}
	return 0;
}

/* ------------------------------------------------------------ handshake */

static bool be_flag(struct netfront *nf, const char *key)
{
	uint64_t v;

	return pvfront_read_be_uint(nf->f, key, 0, 1, &v) == 0 && v;
}

/* xen_net_read_mac: six hex fields separated by colons. */
static int read_mac(struct netfront *nf)
{
	char *s = pvfront_read_fe(nf->f, "mac"), *p, *end;
	unsigned i;
	int rc = 0;

	if (!s)
		return -ENOENT;
	p = s;
	for (i = 0; i < NETFRONT_ETH_ALEN; i++) {
		unsigned long v = strtoul(p, &end, 16);

		if (end == p || end - p > 2 || v > 0xff ||
		    *end != (i == NETFRONT_ETH_ALEN - 1 ? '\0' : ':')) {
			rc = -ENOENT;
			break;
		}
		nf->info.mac[i] = (uint8_t)v;
		p = end + 1;
	}
	free(s);
	return rc;
}

static int fe_uint(struct netfront *nf, const char *key, uint64_t def, uint64_t max)
{
	char *s = pvfront_read_fe(nf->f, key);
	uint64_t v;
	int rc;

	if (!s)
		return (int)def;
	rc = pv_parse_uint(s, 0, max, &v);
	free(s);
	return rc < 0 ? (int)def : (int)v;
}

/* What a previous connection may have left that this one does not write. */
static const char *const stale_keys[] = {
	"tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx", "event-channel-rx",
	"multi-queue-num-queues", "ctrl-ring-ref", "event-channel-ctrl",
	"feature-no-csum-offload", "request-multicast-control",
};

static int write_keys(struct pvfront *f, uint32_t t, void *opaque)
{
	struct netfront *nf = opaque;
	const struct netfront_info *in = &nf->info;
	unsigned i, n = in->nr_queues;
	char key[32];
	int rc = 0;

	for (i = 0; i < sizeof(stale_keys) / sizeof(stale_keys[0]); i++)
		pvfront_rm(f, t, stale_keys[i]);
	for (i = 0; i < NETFRONT_MAX_QUEUES; i++) {
		snprintf(key, sizeof(key), "queue-%u", i);
		pvfront_rm(f, t, key);
	}
	/* Only when the backend said how many it takes (Linux: xenbus_exists). */
	if (in->max_queues)
		rc = pvfront_printf(f, t, "multi-queue-num-queues", "%u", n);
	for (i = 0; rc == 0 && i < n; i++) {
		struct nf_queue *q = &nf->q[i];
		char dir[32] = "";

		if (n > 1)
			snprintf(dir, sizeof(dir), "queue-%u/", i);
		rc = pvfront_ring_write_keys(f, t, &q->tx, dir, "tx-ring-ref",
					     in->split ? "event-channel-tx" : "event-channel");
		if (rc == 0)
			rc = pvfront_ring_write_keys(f, t, &q->rx, dir, "rx-ring-ref",
						     "event-channel-rx");
	}
	if (rc == 0)
		rc = pvfront_printf(f, t, "request-rx-copy", "%u", 1);
	if (rc == 0)
		rc = pvfront_printf(f, t, "feature-rx-notify", "%d", in->rx_notify);
	if (rc == 0)
		rc = pvfront_printf(f, t, "feature-sg", "%d", in->rx_sg);
	if (rc == 0)
		rc = pvfront_printf(f, t, "feature-gso-tcpv4", "%d", in->rx_gso_tcpv4);
	if (rc == 0)
		rc = pvfront_printf(f, t, "feature-gso-tcpv6", "%d", in->rx_gso_tcpv6);
	if (rc == 0)
		rc = pvfront_printf(f, t, "feature-ipv6-csum-offload", "%d", in->rx_ipv6_csum);
	if (rc == 0 && !in->rx_csum)
		rc = pvfront_printf(f, t, "feature-no-csum-offload", "%d", 1);
	if (rc == 0 && in->mcast_control)
		rc = pvfront_printf(f, t, "request-multicast-control", "%d", 1);
	if (rc == 0 && in->ctrl_ring)
		rc = pvfront_ring_write_keys(f, t, &nf->ctrl, "", "ctrl-ring-ref",
					     "event-channel-ctrl");
	return rc;
}

/* Read back what we wrote, for netfront_keys(). */
static void record_keys(struct netfront *nf)
{
	static const char *const names[] = {
		"multi-queue-num-queues", "tx-ring-ref", "rx-ring-ref", "event-channel",
		"event-channel-tx", "event-channel-rx", "request-rx-copy", "feature-rx-notify",
		"feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
		"feature-ipv6-csum-offload", "feature-no-csum-offload",
		"request-multicast-control", "ctrl-ring-ref", "event-channel-ctrl", "xdp-headroom",
	};
	size_t len = 0;
	unsigned i, d;

	nf->keys[0] = '\0';
	for (d = 0; d <= nf->info.nr_queues; d++) {
		char dir[32] = "";

		if (d > 0 && nf->info.nr_queues == 1)
			break;
		if (d > 0)
			snprintf(dir, sizeof(dir), "queue-%u/", d - 1);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char key[64], *v;

			snprintf(key, sizeof(key), "%s%s", dir, names[i]);
			v = pvfront_read_fe(nf->f, key);
			if (!v)
				continue;
			len += (size_t)snprintf(nf->keys + len, len < NF_KEYS_MAX ? NF_KEYS_MAX - len : 0,
						"%s=%s\n", key, v);
			free(v);
			if (len >= NF_KEYS_MAX)
				len = NF_KEYS_MAX - 1;
		}
	}
}

/* What the backend offers, down to what we asked for (Linux's
 * talk_to_netback and xennet_fix_features). */
static int negotiate(struct netfront *nf, const struct netfront_opts *o)
{
	struct netfront_info *in = &nf->info;
	uint64_t v;

	if (!be_flag(nf, "feature-rx-copy"))
		return -ENODEV; /* "backend does not support copying receive path" */
	in->trusted = fe_uint(nf, "trusted", 1, 1);
	in->mtu = (unsigned)fe_uint(nf, "mtu", 1500, 65535);
	if (pvfront_read_be_uint(nf->f, "multi-queue-max-queues", 1, UINT32_MAX, &v) == 0)
		in->max_queues = (unsigned)v;
	in->nr_queues = o->nr_queues ? o->nr_queues : 1;
	if (in->nr_queues > (in->max_queues ? in->max_queues : 1))
		in->nr_queues = in->max_queues ? in->max_queues : 1;
	if (in->nr_queues > NETFRONT_MAX_QUEUES)
		in->nr_queues = NETFRONT_MAX_QUEUES;
	in->split = o->split && be_flag(nf, "feature-split-event-channels");

	/* TX: the device features Linux keeps after xennet_fix_features and the
	 * stack's dependencies (TSO needs SG and the protocol's checksum). */
	in->tx_sg = o->sg && be_flag(nf, "feature-sg");
	in->tx_csum = o->csum;
	in->tx_ipv6_csum = o->ipv6_csum && be_flag(nf, "feature-ipv6-csum-offload");
	in->tx_gso_tcpv4 = o->gso_tcpv4 && in->tx_sg && in->tx_csum &&
			   be_flag(nf, "feature-gso-tcpv4");
	in->tx_gso_tcpv6 = o->gso_tcpv6 && in->tx_sg && in->tx_ipv6_csum &&
			   be_flag(nf, "feature-gso-tcpv6");
	nf->caps = (struct nf_tx_caps){ in->tx_sg, in->tx_csum, in->tx_ipv6_csum, in->tx_gso_tcpv4,
					in->tx_gso_tcpv6 };
	/* RX: what our keys say we take. */
	in->rx_sg = o->sg;
	in->rx_csum = o->csum;
	in->rx_ipv6_csum = o->ipv6_csum;
	in->rx_gso_tcpv4 = o->gso_tcpv4;
	in->rx_gso_tcpv6 = o->gso_tcpv6;
	in->rx_notify = o->rx_notify;
	in->mcast_offered = be_flag(nf, "feature-multicast-control");
	in->mcast_dynamic = in->mcast_offered && be_flag(nf, "feature-dynamic-multicast-control");
	in->mcast_control = o->mcast_control && in->mcast_offered;
	in->ctrl_ring = o->ctrl_ring && be_flag(nf, "feature-ctrl-ring");
	in->regrant = o->regrant;
	in->xdp = be_flag(nf, "feature-xdp-headroom");
	in->xdp_headroom = in->xdp ? o->xdp_headroom : 0;
	return 0;
}

/* A stale connection (a previous user died Connected): close it first,
 * so that the backend reads the new rings. */
static int reset_stale(struct netfront *nf)
{
	int st = pvfront_backend_state(nf->f);

	if (st != XenbusStateConnected && st != XenbusStateClosing &&
	    st != XenbusStateReconfiguring && st != XenbusStateReconfigured)
		return 0;
	return pvfront_disconnect(nf->f, nf->timeout_ms);
}

void netfront_close(struct netfront *nf)
{
	unsigned i;

	if (!nf)
		return;
	/* Grants end once the backend is Closed: it has unmapped the rings. */
	if (nf->f && !nf->disconnected)
		pvfront_disconnect(nf->f, nf->timeout_ms);
	nf->disconnected = true;
	for (i = 0; i < NETFRONT_MAX_QUEUES; i++)
		queue_free(nf, &nf->q[i]);
	if (nf->hv)
		pvfront_ring_teardown(nf->hv, &nf->ctrl);
	pvfront_env_close(&nf->hv, &nf->xs, &nf->f);
	free(nf);
}

int netfront_open(const struct netfront_opts *opts, struct netfront **out)
{
	struct netfront *nf = calloc(1, sizeof(*nf));
	unsigned i;
	int rc;

	if (!nf)
		return -ENOMEM;
	nf->opts = *opts;
	nf->ctrl.port = -1;
	nf->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
	rc = pvfront_env_open("vif", opts->devid, &nf->hv, &nf->xs, &nf->f);
	if (rc < 0)
		goto fail;
	nf->self = pv_hv_domid(nf->hv);
	nf->backend = pvfront_backend_id(nf->f);
	rc = reset_stale(nf);
	if (rc < 0)
		goto fail;
	/* xennet_create_dev: Initialising; netback_changed connects on InitWait. */
	rc = pvfront_switch_state(nf->f, XenbusStateInitialising);
	if (rc < 0)
		goto fail;
	rc = pvfront_wait_backend(nf->f, PVFRONT_STATE(XenbusStateInitWait), nf->timeout_ms);
	if (rc < 0)
		goto fail;
	rc = negotiate(nf, opts);
	if (rc == 0)
		rc = read_mac(nf);
	if (rc < 0)
		goto fail;
	/* talk_to_netback: the current XDP state, outside the transaction. */
	if (nf->info.xdp) {
		rc = pvfront_printf(nf->f, XBT_NULL, "xdp-headroom", "%u", nf->info.xdp_headroom);
		if (rc < 0)
			goto fail;
	}
	for (i = 0; i < nf->info.nr_queues; i++) {
		rc = queue_setup(nf, &nf->q[i], i);
		if (rc < 0)
			goto fail;
	}
	nf->info.tx_slots = nf->q[0].tx.front.nr_ents;
	nf->info.rx_slots = nf->q[0].rx.front.nr_ents;
	if (nf->info.ctrl_ring) {
		rc = pvfront_ring_setup(nf->f, nf->hv, 0, NF_CTRL_ENT, true, &nf->ctrl);
		if (rc < 0)
			goto fail;
	}
	rc = pvfront_transaction(nf->f, write_keys, nf);
	if (rc < 0)
		goto fail;
	/* xennet_connect: buffers posted before we say Connected. */
	for (i = 0; i < nf->info.nr_queues; i++) {
		rc = rx_refill(nf, &nf->q[i]);
		if (rc < 0)
			goto fail;
		pv_ring_front_push(&nf->q[i].rx.front);
	}
	rc = pvfront_switch_wait(nf->f, XenbusStateConnected, XenbusStateConnected, nf->timeout_ms);
	if (rc < 0)
		goto fail;
	record_keys(nf);
	for (i = 0; i < nf->info.nr_queues; i++)
		netfront_kick(nf, i);
	*out = nf;
	return 0;
fail:
	netfront_close(nf);
	return rc;
}

int netfront_xs_fd(struct netfront *nf)
{
	int fd = xs_fileno(pv_xs_handle(nf->xs));

	return fd < 0 ? -errno : fd;
}

int netfront_backend_state(struct netfront *nf)
{
	int rc = pv_xs_dispatch(nf->xs, 0);

	return rc < 0 ? rc : pvfront_backend_state(nf->f);
}

int netfront_reconfigure(struct netfront *nf, unsigned xdp_headroom)
{
	int rc;

	if (!nf->info.xdp)
		return -EOPNOTSUPP;
	rc = pvfront_printf(nf->f, XBT_NULL, "xdp-headroom", "%u", xdp_headroom);
	if (rc == 0)
		rc = pvfront_switch_wait(nf->f, XenbusStateReconfiguring, XenbusStateReconfigured,
					 nf->timeout_ms);
	/* xennet_xdp_set: back to Connected without waiting for the backend,
	 * which may stay Reconfigured (Linux netback does). */
	if (rc == 0) {
		__atomic_store_n(&nf->info.xdp_headroom, xdp_headroom, __ATOMIC_RELAXED);
		rc = pvfront_switch_state(nf->f, XenbusStateConnected);
	}
	return rc == -ECONNREFUSED ? -ECONNRESET : rc;
}

/* -------------------------------------------------------------- events */

int netfront_queue_fd(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? pv_hv_evtchn_fd(q->hv) : -EINVAL;
}

int netfront_queue_ack(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);
	unsigned i, nports;
	int port, ev = 0;

	if (!q)
		return -EINVAL;
	/* A fired port comes out once until unmasked: one pending() per port. */
	nports = q->tx_port == q->rx_port ? 1 : 2;
	for (i = 0; i < nports; i++) {
		port = pv_hv_evtchn_pending(q->hv);
		if (port < 0)
			break;
		pv_hv_evtchn_unmask(q->hv, (uint32_t)port);
		if (port == q->tx_port)
			ev |= NETFRONT_EV_TX;
		if (port == q->rx_port)
			ev |= NETFRONT_EV_RX;
	}
	if (ev)
		q->st.events++;
	return ev;
}

int netfront_kick(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);
	bool tx_notify, rx_notify;
	unsigned i;

	if (!q)
		return -EINVAL;
	if (is_broken(nf))
		return -EIO;
	/* xennet_mark_tx_pending: what is pushed now may be answered. */
	for (i = 0; i < q->nr_queued; i++)
		if (q->ids[q->queued[i]].state == ID_QUEUED)
			q->ids[q->queued[i]].state = ID_PENDING;
	q->nr_queued = 0;
	tx_notify = pv_ring_front_push(&q->tx.front);
	/* A buffer that could not be granted (regrant) is tried again at the
	 * next kick, as Linux's refill timer does; what was posted goes. */
	rx_refill(nf, q);
	rx_notify = pv_ring_front_push(&q->rx.front);
	q->st.tx_kicks++;
	if (tx_notify) {
		q->st.tx_notifies++;
		pv_hv_evtchn_notify(q->hv, (uint32_t)q->tx_port);
	}
	if (rx_notify && (q->rx_port != q->tx_port || !tx_notify)) {
		q->st.rx_notifies++;
		pv_hv_evtchn_notify(q->hv, (uint32_t)q->rx_port);
	}
	return 0;
}

/* ------------------------------------------------------------------ TX */

bool netfront_tx_ready(const struct netfront *nf, unsigned qi)
{
	const struct nf_queue *q = qi < nf->info.nr_queues ? &nf->q[qi] : NULL;

	/* netfront_tx_slot_available: room for XEN_NETIF_NR_SLOTS_MIN + 1. */
	return q && !is_broken(nf) &&
	       q->tx.front.req_prod_pvt - q->tx.front.rsp_cons <
		       q->tx.front.nr_ents - XEN_NETIF_NR_SLOTS_MIN - 1 &&
	       q->nr_free >= NF_TX_MAX_SLOTS;
}

unsigned netfront_tx_inflight(const struct netfront *nf, unsigned qi)
{
	return qi < nf->info.nr_queues ? nf->q[qi].inflight : 0;
}

static uint16_t id_get(struct nf_queue *q)
{
	return q->free_ids[--q->nr_free];
}

static void id_put(struct nf_queue *q, uint16_t id)
{
	if (q->nf->opts.regrant && q->ids[id].page) {
		/* Never answered (a rollback): the backend never saw it. */
		if (pv_hv_unshare(q->hv, q->ids[id].page, 1) == 0)
			q->ids[id].page = NULL;
	}
	q->ids[id].state = ID_FREE;
	q->free_ids[q->nr_free++] = id;
}

int netfront_sendv(struct netfront *nf, unsigned qi, const struct iovec *iov, unsigned iovcnt,
		   const struct virtio_net_hdr *vh)
{
	struct nf_queue *q = queue_of(nf, qi);
	struct nf_tx_plan p;
	struct iovec one;
	uint16_t ids[NF_TX_MAX_SLOTS], head = 0;
	unsigned k, need;
	RING_IDX start;
	int rc;

	if (!q)
		return -EINVAL;
	if (is_broken(nf))
		return -EIO;
	rc = nf_tx_plan(iov, iovcnt, vh, &nf->caps, &p);
	if (rc < 0)
		return rc;
	need = p.nr_segs + (p.gso.type ? 1 : 0);
	if (pv_ring_front_free(&q->tx.front) < need || q->nr_free < p.nr_segs)
		return -ENOBUFS;
	if (p.csum_sw) {
		/* skb_checksum_help: the stack finishes what the device cannot. */
		nf_iov_read(iov, iovcnt, 0, q->bounce, p.len);
		if (pv_net_csum_complete(q->bounce, p.len, p.csum_start, p.csum_offset) < 0)
			return -EINVAL;
		one = (struct iovec){ q->bounce, p.len };
		iov = &one;
		iovcnt = 1;
		q->st.tx_csum_sw++;
	}
	start = q->tx.front.req_prod_pvt;
	for (k = 0; k < p.nr_segs; k++) {
		const struct nf_tx_seg *s = &p.seg[k];
		struct netif_tx_request req;
		uint16_t id = id_get(q);

		ids[k] = id;
		if (nf->opts.regrant) {
			rc = pv_hv_share(q->hv, nf->backend, 1, false, &q->ids[id].gref,
					 &q->ids[id].page);
			if (rc < 0) {
				q->ids[id].page = NULL;
				goto rollback;
			}
		}
		nf_iov_read(iov, iovcnt, s->src, (uint8_t *)tx_page(q, id) + s->offset, s->size);
		req = (struct netif_tx_request){
			.gref = tx_gref(q, id), .offset = s->offset, .id = id,
			.size = k == 0 ? (uint16_t)p.len : s->size,
			.flags = (uint16_t)((k + 1 < p.nr_segs ? NETTXF_more_data : 0) |
					    (k == 0 ? p.flags : 0) |
					    (k == 0 && p.gso.type ? NETTXF_extra_info : 0)),
		};
		memcpy(pv_ring_front_req_slot(&q->tx.front), &req, sizeof(req));
		/* The optional extra info right after the first request. */
		if (k == 0 && p.gso.type)
			memcpy(pv_ring_front_req_slot(&q->tx.front), &p.gso, sizeof(p.gso));
		if (k == 0)
			head = id;
		q->ids[id].state = ID_QUEUED;
		q->ids[id].head = head;
		q->queued[q->nr_queued++] = id;
	}
	q->ids[head].left = (uint16_t)p.nr_segs;
	q->ids[head].status = NETIF_RSP_OKAY;
	q->ids[head].bytes = p.len;
	q->inflight++;
	q->st.tx_slots += need;
	q->st.tx_linearised += p.linearised;
	q->st.tx_bounced += p.bounced;
	return 0;
rollback:
	/* ids[0..k] are taken, slots before k written: as if never sent. */
	for (unsigned j = 0; j <= k; j++)
		id_put(q, ids[j]);
	q->nr_queued -= k;
	q->tx.front.req_prod_pvt = start;
	return rc;
}

int netfront_send(struct netfront *nf, unsigned q, const void *frame, size_t len,
		  const struct virtio_net_hdr *vh)
{
	struct iovec iov = { (void *)frame, len };

	return netfront_sendv(nf, q, &iov, 1, vh);
}

/* One response that belongs to a raw entry; true if so. */
static bool raw_response(struct nf_queue *q, const struct netif_tx_response *r)
{
	if (!q->raw_out)
		return false;
	if (r->status != NETIF_RSP_NULL && r->id < q->nr_ids && q->ids[r->id].state == ID_PENDING)
		return false;
	q->raw_out--;
	if (q->nr_raw_status < NF_RAW_STATUS)
		q->raw_status[q->nr_raw_status++] = r->status;
	return true;
}

/* xennet_tx_buf_gc for one response; 1 when it completed a packet. */
static int tx_response(struct netfront *nf, struct nf_queue *q, const struct netif_tx_response *r)
{
	struct nf_txid *t, *h;

	if (raw_response(q, r) || r->status == NETIF_RSP_NULL)
		return 0;
	if (r->id >= q->nr_ids)
		return set_broken(nf, "tx response has an incorrect id");
	t = &q->ids[r->id];
	if (t->state != ID_PENDING)
		return set_broken(nf, "tx response for an inactive request");
	/* Linux ends access here (gnttab_end_foreign_access_ref) and breaks
	 * the device when the backend still maps the page; the pool keeps its
	 * pages granted, so it only asks what ending access would say. */
	if (nf->opts.regrant) {
		if (pv_hv_unshare(q->hv, t->page, 1) < 0)
			return set_broken(nf, "tx grant still in use by backend domain");
		t->page = NULL;
	} else if (pv_hv_share_in_use(q->hv, q->tx_refs[r->id]) > 0) {
		return set_broken(nf, "tx grant still in use by backend domain");
	}
	h = &q->ids[t->head];
	if (r->status != NETIF_RSP_OKAY && h->status == NETIF_RSP_OKAY)
		h->status = r->status;
	if (t != h) {
		t->state = ID_FREE;
		q->free_ids[q->nr_free++] = r->id;
	} else {
		t->state = ID_DONE; /* held: it carries the packet until its end */
	}
	if (--h->left)
		return 0;
	if (h->mcast)
		q->mcast_status = h->status;
	if (h->status == NETIF_RSP_OKAY) {
		q->st.tx_packets++;
		q->st.tx_bytes += h->bytes;
	} else {
		q->st.tx_errors++;
	}
	h->state = ID_FREE;
	q->free_ids[q->nr_free++] = t->head;
	q->inflight--;
	return 1;
}

int netfront_tx_complete(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);
	int n, done = 0, rc;

	if (!q)
		return -EINVAL;
	if (is_broken(nf))
		return -EIO;
	do {
		n = pv_ring_front_avail(&q->tx.front);
		if (n < 0)
			return set_broken(nf, "illegal number of tx responses");
		while (n-- > 0) {
			union netif_tx_sring_entry e;

			pv_ring_front_copy_rsp(&q->tx.front, &e, sizeof(e));
			rc = tx_response(nf, q, &e.rsp);
			if (rc < 0)
				return rc;
			done += rc;
		}
	} while (pv_ring_front_final_check(&q->tx.front));
	return done;
}

/* ------------------------------------------------------------------ RX */

static void count_drop(struct netfront_stats *st, enum nf_rx_drop why)
{
	uint64_t *const by[] = {
		[NF_RX_MISSING_EXTRA] = &st->rx_missing_extra, [NF_RX_BAD_EXTRA] = &st->rx_bad_extra,
		[NF_RX_BAD_ID] = &st->rx_bad_id, [NF_RX_BAD_SLOT] = &st->rx_bad_slot,
		[NF_RX_NEED_MORE] = &st->rx_need_more_slots,
		[NF_RX_TOO_MANY_SLOTS] = &st->rx_too_many_slots,
		[NF_RX_TOO_MANY_FRAGS] = &st->rx_too_many_frags, [NF_RX_BAD_GSO] = &st->rx_bad_gso,
	};

	if (why > NF_RX_OK && why <= NF_RX_BAD_GSO)
		(*by[why])++;
	st->rx_errors++;
}

/* Give consumed slots back (their buffers are reposted at the next kick);
 * regrant: end access first, as Linux does for a data slot. */
static int rx_consume(struct netfront *nf, struct nf_queue *q, unsigned n)
{
	struct pv_ring_front *r = &q->rx.front;
	unsigned mask = r->nr_ents - 1, i;

	for (i = 0; i < n; i++) {
		unsigned slot = (r->rsp_cons + i) & mask;

		q->rx_posted[slot] = false;
		if (nf->opts.regrant && q->rx_page[slot]) {
			if (pv_hv_unshare(q->hv, q->rx_page[slot], 1) < 0) {
				r->rsp_cons += i;
				return set_broken(nf, "rx grant still in use by backend domain");
			}
			q->rx_page[slot] = NULL;
		} else if (!nf->opts.regrant && pv_hv_share_in_use(q->hv, q->rx_refs[slot]) > 0) {
			r->rsp_cons += i;
			return set_broken(nf, "rx grant still in use by backend domain");
		}
	}
	r->rsp_cons += n;
	return 0;
}

/* Copy the responses up to rp out of the ring, each once, into q->rxc
 * (indexed as the ring): everything after reads only the copies. */
static void rx_copy_out(struct nf_queue *q, RING_IDX rp)
{
	struct pv_ring_front *r = &q->rx.front;
	unsigned mask = r->nr_ents - 1;

	if ((RING_IDX)(q->rx_copied - r->rsp_cons) > r->nr_ents)
		q->rx_copied = r->rsp_cons; /* first call, or consumed past the copies */
	while (q->rx_copied != rp) {
		memcpy(q->rxc + (size_t)(q->rx_copied & mask) * NF_RX_ENT,
		       r->ents + (size_t)(q->rx_copied & mask) * NF_RX_ENT, NF_RX_ENT);
		q->rx_copied++;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* copies done before we read them */
}

/* What netfront_rx_meta says of an assembled frame (its extras by type). */
static void rx_meta_fill(struct netfront_rx_meta *m, const struct nf_rx_frame *f,
			 const struct netif_rx_response *first)
{
	const struct netif_extra_info *x;
	unsigned t;

	*m = (struct netfront_rx_meta){
		.flags = f->flags,
		.slots = f->consumed,
		.nr_frags = f->nr_frags,
		.rsp_offset = first->offset,
		.offset = f->nr_frags ? f->frag[0].offset : 0,
	};
	for (t = 1; t <= NF_NR_EXTRAS; t++)
		if (f->extras[t - 1].type)
			m->extras |= 1u << t;
	x = &f->extras[XEN_NETIF_EXTRA_TYPE_GSO - 1];
	if (x->type) {
		m->gso_type = x->u.gso.type;
		m->gso_size = x->u.gso.size;
	}
	x = &f->extras[XEN_NETIF_EXTRA_TYPE_HASH - 1];
	if (x->type) {
		m->hash_type = x->u.hash.type;
		m->hash_alg = x->u.hash.algorithm;
		memcpy(&m->hash, x->u.hash.value, sizeof(m->hash));
	}
	x = &f->extras[PV_NETIF_EXTRA_TYPE_XDP - 1];
	if (x->type)
		m->xdp_headroom = pv_netif_extra_xdp_headroom(x);
}

const struct netfront_rx_meta *netfront_rx_meta(const struct netfront *nf, unsigned qi)
{
	return qi < nf->info.nr_queues ? &nf->q[qi].rx_meta : NULL;
}

int netfront_recv(struct netfront *nf, unsigned qi, void *buf, size_t max,
		  struct virtio_net_hdr *vh)
{
	struct nf_queue *q = queue_of(nf, qi);
	struct virtio_net_hdr vtmp;
	struct pv_ring_front *r;
	struct nf_rx_frame f;
	unsigned mask, i, k;
	int avail, rc;
	bool fixup;

	if (!q)
		return -EINVAL;
	if (is_broken(nf))
		return -EIO;
	r = &q->rx.front;
	mask = r->nr_ents - 1;
	if (!vh)
		vh = &vtmp;
	for (;;) {
		avail = pv_ring_front_avail(r);
		if (avail < 0)
			return set_broken(nf, "illegal number of rx responses");
		/* xennet_handle_rx: the unconsumed count may only grow. */
		if ((unsigned)avail < q->rx_unconsumed)
			return set_broken(nf, "rx producer index going backwards");
		q->rx_unconsumed = (unsigned)avail;
		if (!avail) {
			if (pv_ring_front_final_check(r))
				continue;
			return 0;
		}
		rx_copy_out(q, r->rsp_cons + (unsigned)avail);
		k = nf_rx_assemble(q->rxc, mask, r->rsp_cons, (unsigned)avail, q->rx_posted, &f);
		if (f.drop == NF_RX_OK) {
			struct netif_rx_response first;

			memcpy(&first, q->rxc + (size_t)(r->rsp_cons & mask) * NF_RX_ENT,
			       sizeof(first));
			if (first.id != (uint16_t)(r->rsp_cons & mask))
				q->st.rx_id_mismatch++;
			if (__atomic_load_n(&nf->info.xdp_headroom, __ATOMIC_RELAXED) && !f.xdp_extra)
				q->st.rx_no_xdp_extra++;
			rx_meta_fill(&q->rx_meta, &f, &first);
			if (f.len > max) {
				q->st.rx_too_big++;
				q->st.rx_errors++;
				f.drop = NF_RX_BAD_SLOT; /* consumed below, not counted again */
			} else if (f.len < NF_ETH_HLEN) {
				q->st.rx_runt++; /* eth_type_trans needs a header */
				q->st.rx_errors++;
				f.drop = NF_RX_BAD_SLOT;
			}
		} else {
			count_drop(&q->st, f.drop);
		}
		if (f.drop == NF_RX_OK) {
			/* The frame's data out of its pages (xennet_fill_frags). */
			uint8_t *o = buf;

			for (i = 0; i < f.nr_frags; i++) {
				unsigned slot = (r->rsp_cons + f.frag[i].idx) & mask;

				memcpy(o, (const uint8_t *)rx_page(q, slot) + f.frag[i].offset,
				       f.frag[i].len);
				o += f.frag[i].len;
			}
		}
		rc = rx_consume(nf, q, k);
		if (rc < 0)
			return rc;
		q->rx_unconsumed -= k;
		if (f.drop != NF_RX_OK)
			continue;
		if (nf_rx_csum_setup(buf, f.len, &f, vh, &fixup) < 0) {
			q->st.rx_bad_csum++; /* checksum_setup failed: rx_errors */
			q->st.rx_errors++;
			continue;
		}
		q->st.rx_gso_checksum_fixup += fixup;
		q->st.rx_packets++;
		q->st.rx_bytes += f.len;
		return (int)f.len;
	}
}

/* ------------------------------------------------------------ multicast */

int netfront_mcast(struct netfront *nf, bool add, const uint8_t *mac)
{
	struct nf_queue *q = queue_of(nf, 0);
	struct netif_extra_info x = { .type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD :
						    XEN_NETIF_EXTRA_TYPE_MCAST_DEL };
	struct netif_tx_request req = { .flags = NETTXF_extra_info };
	uint16_t id;

	if (!q)
		return -EINVAL;
	if (is_broken(nf))
		return -EIO;
	if (!nf->info.mcast_offered)
		return -EOPNOTSUPP;
	if (pv_ring_front_free(&q->tx.front) < 2 || !q->nr_free)
		return -ENOBUFS;
	/* A dummy request: an id for the response, no data. */
	id = id_get(q);
	req.id = id;
	memcpy(x.u.mcast.addr, mac, NETFRONT_ETH_ALEN);
	memcpy(pv_ring_front_req_slot(&q->tx.front), &req, sizeof(req));
	memcpy(pv_ring_front_req_slot(&q->tx.front), &x, sizeof(x));
	q->ids[id] = (struct nf_txid){ .state = ID_QUEUED, .head = id, .left = 1,
				       .status = NETIF_RSP_OKAY, .mcast = true };
	q->queued[q->nr_queued++] = id;
	q->inflight++;
	q->mcast_status = -EINPROGRESS;
	return netfront_kick(nf, 0);
}

int netfront_mcast_status(const struct netfront *nf)
{
	return nf->q[0].mcast_status;
}

int netfront_set_mcast_control(struct netfront *nf, bool on)
{
	int rc;

	if (!nf->info.mcast_offered || !nf->info.mcast_dynamic)
		return -EOPNOTSUPP;
	rc = pvfront_printf(nf->f, XBT_NULL, "request-multicast-control", "%d", on);
	if (rc == 0)
		nf->info.mcast_control = on;
	return rc;
}

/* ------------------------------------------------------------ ctrl ring */

int netfront_ctrl(struct netfront *nf, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		  uint32_t *data, int timeout_ms)
{
	struct xen_netif_ctrl_request req = { .type = type, .data = { d0, d1, d2 } };
	uint64_t deadline = pv_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	struct pv_ring_front *r = &nf->ctrl.front;
	int n, port;

	if (!nf->info.ctrl_ring || !nf->ctrl.sring)
		return -ENOTCONN;
	if (!pv_ring_front_free(r))
		return -EBUSY;
	req.id = ++nf->ctrl_id;
	memcpy(pv_ring_front_req_slot(r), &req, sizeof(req));
	if (pv_ring_front_push(r))
		pv_hv_evtchn_notify(nf->hv, (uint32_t)nf->ctrl.port);
	for (;;) {
		struct pollfd pfd = { .fd = pv_hv_evtchn_fd(nf->hv), .events = POLLIN };
		uint64_t now;

		n = pv_ring_front_avail(r);
		if (n < 0)
			return -EPROTO;
		if (n > 0) {
			union xen_netif_ctrl_sring_entry e;

			pv_ring_front_copy_rsp(r, &e, sizeof(e));
			if (e.rsp.id != req.id || e.rsp.type != type)
				return -EPROTO;
			if (data)
				*data = e.rsp.data;
			return (int)(e.rsp.status > INT32_MAX ? INT32_MAX : e.rsp.status);
		}
		if (pv_ring_front_final_check(r))
			continue;
		now = pv_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)((deadline - now + 999999) / 1000000)) < 0 && errno != EINTR)
			return -errno;
		port = pv_hv_evtchn_pending(nf->hv);
		if (port >= 0)
			pv_hv_evtchn_unmask(nf->hv, (uint32_t)port);
	}
}

/* A ctrl request whose data[0] is a grant of len bytes of buf (read-only,
 * on the owner's handle), ended once answered. */
static int ctrl_with_buf(struct netfront *nf, uint16_t type, const void *buf, uint32_t len,
			 uint32_t d2, int timeout_ms)
{
	uint32_t ref;
	void *page;
	int rc, urc;

	if (!nf->info.ctrl_ring || !nf->ctrl.sring)
		return -ENOTCONN;
	if (len > NF_PAGE_SIZE)
		return -EINVAL;
	rc = pv_hv_share(nf->hv, nf->backend, 1, false, &ref, &page);
	if (rc < 0)
		return rc;
	memcpy(page, buf, len);
	rc = netfront_ctrl(nf, type, ref, type == XEN_NETIF_CTRL_TYPE_SET_HASH_KEY ? len :
					  len / (uint32_t)sizeof(uint32_t), d2, NULL, timeout_ms);
	/* A backend that copies has let go; one that timed out may not have. */
	urc = pv_hv_unshare(nf->hv, page, 1);
	return rc < 0 ? rc : urc < 0 ? urc : rc;
}

int netfront_ctrl_set_hash_key(struct netfront *nf, const uint8_t *key, uint32_t len,
			       int timeout_ms)
{
	return ctrl_with_buf(nf, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, key, len, 0, timeout_ms);
}

int netfront_ctrl_set_hash_mapping(struct netfront *nf, const uint32_t *map, uint32_t n,
				   uint32_t off, int timeout_ms)
{
	if (n > NF_PAGE_SIZE / sizeof(uint32_t))
		return -EINVAL;
	return ctrl_with_buf(nf, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, map,
			     n * (uint32_t)sizeof(uint32_t), off, timeout_ms);
}

/* ----------------------------------------------------------- raw hooks */

int netfront_tx_raw(struct netfront *nf, unsigned qi, const void *ent)
{
	struct nf_queue *q = queue_of(nf, qi);
	int rc;

	if (!q)
		return -EINVAL;
	rc = pvfront_ring_put_raw(&q->tx, ent, sizeof(struct netif_tx_request));
	if (rc == 0)
		q->raw_out++;
	return rc;
}

unsigned netfront_tx_raw_status(struct netfront *nf, unsigned qi, int16_t *status, unsigned max)
{
	struct nf_queue *q = queue_of(nf, qi);
	unsigned n;

	if (!q)
		return 0;
	n = q->nr_raw_status < max ? q->nr_raw_status : max;
	memcpy(status, q->raw_status, n * sizeof(*status));
	q->nr_raw_status = 0;
	return n;
}

struct pvfront_ring *netfront_tx_ring(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? &q->tx : NULL;
}

struct pvfront_ring *netfront_rx_ring(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? &q->rx : NULL;
}

struct pv_hv *netfront_queue_hv(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? q->hv : NULL;
}

int netfront_grant(struct netfront *nf, unsigned qi, unsigned count, bool writable,
		   uint32_t *refs, void **addr)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? pv_hv_share(q->hv, nf->backend, count, writable, refs, addr) : -EINVAL;
}

int netfront_ungrant(struct netfront *nf, unsigned qi, void *addr, unsigned count)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? pv_hv_unshare(q->hv, addr, count) : -EINVAL;
}

int netfront_notify(struct netfront *nf, unsigned qi)
{
	struct nf_queue *q = queue_of(nf, qi);

	return q ? pv_hv_evtchn_notify(q->hv, (uint32_t)q->tx_port) : -EINVAL;
}
