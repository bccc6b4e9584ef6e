// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netfront-tool attack: the sustained hostile guest against a vif
 * (tests/sim/net-hostile-*.sh), on queue 0's shared rings written by hand
 * (pvfront.h's ring hooks and the flipper shared with blkfront-tool), each
 * run for a count of answers or rounds, never for a time:
 *
 *  flip           TX requests (one slot each, ids 0..ring-1) kept
 *                 in flight and RX buffers kept posted while a second
 *                 thread flips TX gref/offset/size/flags/id and RX id/gref
 *                 (double fetch); a violation costs the vif: reconnect
 *  never-consume  the RX buffers posted at connect are never given back
 *                 and no response is read: once they are all answered
 *                 (the RX ring is full), rounds of a full TX ring are
 *                 written over the unread responses
 *  revoke         TX frames whose grants are ended right after the push
 *                 (while the backend maps or copies them)
 *
 * Each checks what comes back: no more responses than requests, a
 * response id only one that was posted, an RX ring never answered beyond
 * what was posted.  One thread, besides flip's flipper.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "pvring.h"
#include "pvfront.h"
#include "netfront.h"
#include "netfront-tool.h"

#define BAD_GREF 0x7ffffff0u /* a ref no guest here has granted */
#define PAGE     4096u
#define NPAGES   4u          /* data pages of each direction */
#define WAIT_MS  5000        /* longest wait for one answer */

struct attack {
	const struct netfront_opts *o;
	unsigned long count;
	uint64_t seed;
};

/* Our own pages, granted for the attack: TX frames (readonly), RX buffers. */
struct pool {
	uint8_t *tx, *rx;
	uint32_t tx_refs[NPAGES], rx_refs[NPAGES];
};

static int pool_get(struct netfront *nf, struct pool *p)
{
	unsigned i;
	int rc;

	rc = netfront_grant(nf, 0, NPAGES, false, p->tx_refs, (void **)&p->tx);
	if (rc < 0)
		return rc;
	rc = netfront_grant(nf, 0, NPAGES, true, p->rx_refs, (void **)&p->rx);
	if (rc < 0) {
		netfront_ungrant(nf, 0, p->tx, NPAGES);
		p->tx = NULL;
		return rc;
	}
	/* Each page a frame at every offset the requests name: to the
	 * link-local group 01:80:c2:00:00:0e (no bridge forwards it), ethertype
	 * 0x88b5; a flipped offset or size makes what it makes. */
	for (i = 0; i < NPAGES; i++) {
		uint8_t *f = p->tx + i * PAGE;

		memset(f, 0, PAGE);
		memcpy(f, "\x01\x80\xc2\x00\x00\x0e", 6);
		memcpy(f + 6, netfront_info(nf)->mac, 6);
		f[12] = 0x88;
		f[13] = 0xb5;
	}
	return 0;
}

/* Pages the backend still maps end with the close (netfront_close). */
static void pool_put(struct netfront *nf, struct pool *p)
{
	if (p->tx)
		netfront_ungrant(nf, 0, p->tx, NPAGES);
	if (p->rx)
		netfront_ungrant(nf, 0, p->rx, NPAGES);
	p->tx = p->rx = NULL;
}

/* An event on queue 0 or ms: whichever first (the queue's ports re-armed). */
static void wait_event(struct netfront *nf, int ms)
{
	struct pollfd p = { .fd = netfront_queue_fd(nf, 0), .events = POLLIN };

	if (poll(&p, 1, ms) > 0)
		netfront_queue_ack(nf, 0);
}

/* What the responses said, over every connection. */
struct tally {
	unsigned long tx_answered, tx_ok, tx_errors, tx_dropped, tx_null;
	unsigned long rx_answered, bad_ids, bad_status, overproduced;
};

/* A TX request of one slot: a 60-byte frame at offset 0 of page i. */
static void tx_write(struct pvfront_ring *r, uint32_t idx, const struct pool *p, unsigned i)
{
	struct netif_tx_request t = { .gref = p->tx_refs[i % NPAGES], .offset = 0, .flags = 0,
				      .id = (uint16_t)(idx & (r->front.nr_ents - 1)), .size = 60 };

	memcpy(pvfront_ring_ent(r, idx), &t, sizeof(t));
}

static void rx_write(struct pvfront_ring *r, uint32_t idx, const struct pool *p)
{
	struct netif_rx_request q = { .id = (uint16_t)(idx & (r->front.nr_ents - 1)),
				      .gref = p->rx_refs[idx % NPAGES] };

	memcpy(pvfront_ring_ent(r, idx), &q, sizeof(q));
}

/* Is v a value the flipper writes into a TX gref (so a response it
 * overwrote, not the backend's)? */
static bool flipped_gref(uint32_t v, const uint32_t *grefs, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (grefs[i] == v)
			return true;
	return false;
}

/*
 * Take the responses of ring r published since *cons (at most what was
 * posted up to prod): checked, counted, *cons moved.  tx: TX responses,
 * else RX.  -EPROTO: more responses than requests.
 */
static int take(struct pvfront_ring *r, uint32_t *cons, uint32_t prod, bool tx,
		const uint32_t *grefs, unsigned ngrefs, struct tally *t)
{
	volatile struct pv_sring_hdr *h = pvfront_ring_sring(r);
	uint32_t rp = h->rsp_prod, nr = r->front.nr_ents;

	pv_rmb(); /* the responses up to rp */
	if (rp - *cons > prod - *cons) {
		t->overproduced++;
		fprintf(stderr, "attack: %s rsp_prod %u beyond the %u requests posted\n",
			tx ? "tx" : "rx", rp, prod);
		return -EPROTO;
	}
	for (; *cons != rp; (*cons)++) {
		if (tx) {
			struct netif_tx_response x;
			uint32_t raw;

			memcpy(&x, pvfront_ring_ent(r, *cons), sizeof(x));
			memcpy(&raw, &x, sizeof(raw));
			t->tx_answered++;
			if (flipped_gref(raw, grefs, ngrefs))
				continue; /* the flipper wrote over it */
			if (x.id >= nr)
				t->bad_ids++;
			if (x.status == NETIF_RSP_OKAY)
				t->tx_ok++;
			else if (x.status == NETIF_RSP_ERROR)
				t->tx_errors++;
			else if (x.status == NETIF_RSP_DROPPED)
				t->tx_dropped++;
			else if (x.status == NETIF_RSP_NULL)
				t->tx_null++;
			else
				t->bad_status++;
		} else {
			struct netif_rx_response x;

			memcpy(&x, pvfront_ring_ent(r, *cons), sizeof(x));
			t->rx_answered++;
			/* The flipper writes only ids below nr there. */
			if (x.id >= nr)
				t->bad_ids++;
		}
	}
	h->rsp_event = *cons + 1;
	pv_mb(); /* rsp_event out before the next look at rsp_prod */
	return 0;
}

/* ------------------------------------------------------------------ flip */

/*
 * What a flip writes: mostly what a well-behaved frontend writes, now and
 * then something hostile (a page crossing, a runt, an announced follow-on
 * or extra that is not there: most of those cost the vif, so they stay
 * rare enough for a connection to answer a few hundred requests).
 */
struct flip_values {
	uint32_t ids_tx[256], ids_rx[256], offsets[64], sizes[64], flags[256];
	uint32_t grefs[NPAGES + 1], rx_grefs[NPAGES + 2];
};

static void flip_values(struct flip_values *v, const struct pool *p)
{
	unsigned i;

	for (i = 0; i < 256; i++)
		v->ids_tx[i] = v->ids_rx[i] = i;
	pvfront_flip_weighted(v->offsets, 64, (const uint32_t[]){ 0 }, 1,
			      (const uint32_t[]){ 14, 2048, 4000 }, 3);
	pvfront_flip_weighted(v->sizes, 64, (const uint32_t[]){ 60 }, 1,
			      (const uint32_t[]){ 0, 10, 1514, 4096 }, 4);
	pvfront_flip_weighted(v->flags, 256,
			      (const uint32_t[]){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  NETTXF_data_validated,
						  NETTXF_csum_blank | NETTXF_data_validated }, 16,
			      (const uint32_t[]){ NETTXF_more_data, NETTXF_extra_info }, 2);
	memcpy(v->grefs, p->tx_refs, sizeof(p->tx_refs));
	v->grefs[NPAGES] = BAD_GREF;
	memcpy(v->rx_grefs, p->rx_refs, sizeof(p->rx_refs));
	v->rx_grefs[NPAGES] = p->tx_refs[0]; /* readonly: the backend's copy must fail */
	v->rx_grefs[NPAGES + 1] = BAD_GREF;
}

static int flip_conn(struct netfront *nf, const struct attack *a, uint64_t *seed, struct tally *t,
		     unsigned long *flips)
{
	struct pvfront_ring *tr = netfront_tx_ring(nf, 0), *rr = netfront_rx_ring(nf, 0);
	volatile struct pv_sring_hdr *th = pvfront_ring_sring(tr), *rh = pvfront_ring_sring(rr);
	struct flip_values v;
	uint32_t tprod = th->req_prod, tcons = tr->front.rsp_cons;
	uint32_t rprod = rh->req_prod, rcons = rr->front.rsp_cons;
	unsigned ntx = tr->front.nr_ents, nrx = rr->front.nr_ents, k = 0;
	struct pvfront_flip_field tf[5], rf[2];
	struct pvfront_flip_ring rings[2];
	struct pvfront_flip_rings fr = { rings, 2 };
	struct pvfront_flipper ft;
	unsigned long start = t->tx_answered, seen = start;
	uint64_t last = pvfront_now_ms();
	struct pool p = { 0 };
	int rc, st = XenbusStateConnected;

	if (ntx > 256 || nrx > 256)
		return -EINVAL;
	rc = pool_get(nf, &p);
	if (rc < 0)
		return rc;
	flip_values(&v, &p);
	tf[0] = (struct pvfront_flip_field){ offsetof(struct netif_tx_request, gref), 4, v.grefs,
					     NPAGES + 1 };
	tf[1] = (struct pvfront_flip_field){ offsetof(struct netif_tx_request, offset), 2,
					     v.offsets, 64 };
	tf[2] = (struct pvfront_flip_field){ offsetof(struct netif_tx_request, flags), 2, v.flags,
					     256 };
	tf[3] = (struct pvfront_flip_field){ offsetof(struct netif_tx_request, id), 2, v.ids_tx,
					     ntx };
	tf[4] = (struct pvfront_flip_field){ offsetof(struct netif_tx_request, size), 2, v.sizes,
					     64 };
	rf[0] = (struct pvfront_flip_field){ offsetof(struct netif_rx_request, id), 2, v.ids_rx,
					     nrx };
	rf[1] = (struct pvfront_flip_field){ offsetof(struct netif_rx_request, gref), 4,
					     v.rx_grefs, NPAGES + 2 };
	rings[0] = (struct pvfront_flip_ring){ tr, tf, 5 };
	rings[1] = (struct pvfront_flip_ring){ rr, rf, 2 };
	rc = pvfront_flip_rings_start(&ft, &fr, pvfront_rnd(seed));
	if (rc < 0)
		goto out;
	while (t->tx_answered < a->count && st == XenbusStateConnected) {
		/* TX full of frames, RX given back what was answered. */
		while (tprod - tcons < ntx)
			tx_write(tr, tprod++, &p, k++);
		while (rprod - rcons < nrx)
			rx_write(rr, rprod++, &p);
		pvfront_ring_set_req_prod(tr, tprod);
		pvfront_ring_set_req_prod(rr, rprod);
		netfront_notify(nf, 0);
		if (rr->port >= 0)
			pvfront_ring_notify(netfront_queue_hv(nf, 0), rr);
		wait_event(nf, 20);
		rc = take(tr, &tcons, tprod, true, v.grefs, NPAGES + 1, t);
		if (rc == 0)
			rc = take(rr, &rcons, rprod, false, NULL, 0, t);
		if (rc < 0)
			break;
		if (t->tx_answered != seen) {
			seen = t->tx_answered;
			last = pvfront_now_ms();
		} else if (pvfront_now_ms() - last > WAIT_MS) {
			/* Every TX request is answered, sooner or later. */
			fprintf(stderr, "flip: no TX answer for %d ms on a connected vif\n", WAIT_MS);
			rc = -ETIMEDOUT;
			break;
		}
		if (!(++k & 15))
			st = netfront_backend_state(nf);
	}
	*flips += pvfront_flipper_stop(&ft);
	/* Whatever is still answered on this connection. */
	for (uint64_t end = pvfront_now_ms() + WAIT_MS;
	     rc == 0 && tcons != tprod && pvfront_now_ms() < end &&
	     (st = netfront_backend_state(nf)) == XenbusStateConnected;) {
		wait_event(nf, 20);
		rc = take(tr, &tcons, tprod, true, v.grefs, NPAGES + 1, t);
	}
	/* netfront's own view of the rings: everything answered was consumed. */
	tr->front.req_prod_pvt = tprod;
	tr->front.rsp_cons = tcons;
	rr->front.req_prod_pvt = rprod;
	rr->front.rsp_cons = rcons;
	if (rc == 0 && t->tx_answered == start && st == XenbusStateConnected)
		rc = -ETIMEDOUT;
out:
	/* Pages the backend may still hold (it went away) end with the close. */
	if (st == XenbusStateConnected)
		pool_put(nf, &p);
	return rc;
}

static int attack_flip(struct netfront **nfp, const struct attack *a)
{
	struct tally t = { 0 };
	unsigned long flips = 0;
	unsigned conns = 0, disconnects = 0;
	uint64_t seed = a->seed;
	int rc = 0, st;

	while (t.tx_answered < a->count) {
		/* The backend may still be on its way to Closed: a few tries. */
		for (int i = 0; !*nfp && i < 3; i++)
			rc = netfront_open(a->o, nfp);
		if (!*nfp) {
			if (rc < 0) {
				fprintf(stderr, "flip: reconnect: %s\n", strerror(-rc));
				break;
			}
		}
		conns++;
		rc = flip_conn(*nfp, a, &seed, &t, &flips);
		st = netfront_backend_state(*nfp);
		if (rc == -EPROTO || (rc < 0 && st == XenbusStateConnected))
			break;
		rc = 0;
		if (st != XenbusStateConnected) {
			/* A violation the backend saw: the vif went; a new one. */
			disconnects++;
			netfront_close(*nfp);
			*nfp = NULL;
		}
	}
	printf("flip: tx answered %lu ok %lu errors %lu dropped %lu null %lu rx answered %lu "
	       "bad-ids %lu bad-status %lu overproduced %lu flips %lu connections %u "
	       "disconnects %u\n", t.tx_answered, t.tx_ok, t.tx_errors, t.tx_dropped, t.tx_null,
	       t.rx_answered, t.bad_ids, t.bad_status, t.overproduced, flips, conns, disconnects);
	if (rc == 0 && (t.bad_ids || t.bad_status || t.overproduced))
		rc = -EPROTO;
	return rc;
}

/* ---------------------------------------------------------- never-consume */

static void kick_tx(void *nf)
{
	netfront_notify(nf, 0);
}

/*
 * The RX buffers posted at connect are all answered (frames sent to us by
 * the test) and never given back; then count rounds of a full TX ring
 * written over the unread responses, each waited for by rsp_prod (no
 * notify may come: rsp_event plays games).  The RX ring must stay
 * answered exactly to what was posted.
 */
static int attack_never_consume(struct netfront *nf, const struct attack *a)
{
	struct pvfront_ring *tr = netfront_tx_ring(nf, 0), *rr = netfront_rx_ring(nf, 0);
	volatile struct pv_sring_hdr *th = pvfront_ring_sring(tr), *rh = pvfront_ring_sring(rr);
	uint32_t prod = th->req_prod, rx_posted = rh->req_prod;
	unsigned ntx = tr->front.nr_ents, i;
	uint64_t end = pvfront_now_ms() + 30000;
	unsigned long round = 0;
	struct pool p = { 0 };
	int rc;

	rc = pool_get(nf, &p);
	if (rc < 0)
		return rc;
	rh->rsp_event = rx_posted + 0x80000000u; /* and no notify for RX, ever */
	while (rh->rsp_prod != rx_posted && pvfront_now_ms() < end)
		poll(NULL, 0, 5); /* the frames come from the test, at its pace */
	printf("never-consume: rx posted %u answered %u\n", rx_posted, (uint32_t)rh->rsp_prod);
	fflush(stdout);
	if (rh->rsp_prod != rx_posted) {
		fprintf(stderr, "never-consume: the rx ring was not filled within 30 s\n");
		return -ETIMEDOUT;
	}
	for (round = 0; round < a->count; round++) {
		for (i = 0; i < ntx; i++)
			tx_write(tr, prod + i, &p, i);
		rc = pvfront_sring_round(th, &prod, ntx, round, kick_tx, nf, WAIT_MS);
		if (rc < 0) {
			fprintf(stderr, "never-consume: round %lu not answered (%u of %u)\n", round,
				th->rsp_prod - (prod - ntx), ntx);
			break;
		}
	}
	printf("never-consume: rounds %lu tx requests %lu rx answered beyond posted %d "
	       "backend %s\n", round, round * ntx, (int)(rh->rsp_prod - rx_posted),
	       pv_xb_state_name(netfront_backend_state(nf)));
	if (rc == 0 && rh->rsp_prod != rx_posted)
		rc = -EPROTO;
	/* netfront's own view: the TX ring all consumed (the close reads nothing). */
	tr->front.req_prod_pvt = tr->front.rsp_cons = prod;
	return rc;
}

/* ---------------------------------------------------------------- revoke */

/*
 * count frames in rounds of 32, each on pages of its own (granted per
 * round): a 2000-byte single slot, or a 60-byte first slot and a 1400-byte
 * follow-on slot on a second page; right after the push every page's
 * access is ended where it can be (the backend has not mapped it yet).
 * Each frame is answered; afterwards every page's access must end (a page
 * the backend kept would be a leak).
 */
static int attack_revoke(struct netfront *nf, const struct attack *a)
{
	unsigned long sent = 0, answered = 0, ok = 0, early = 0, leaked = 0, slots = 0;
	int16_t st[64];
	int rc = 0;

	while (sent < a->count && rc == 0) {
		uint32_t refs[64];
		uint8_t *pg[64] = { NULL };
		unsigned n = 0, got = 0, i, k;

		for (i = 0; i < 32 && sent < a->count && rc == 0; i++, sent++) {
			bool two = sent & 1;
			struct netif_tx_request t = { .id = (uint16_t)n, .size = two ? 1460 : 2000 };

			for (k = 0; k < (two ? 2u : 1u) && rc == 0; k++) {
				rc = netfront_grant(nf, 0, 1, false, &refs[n], (void **)&pg[n]);
				if (rc < 0) {
					pg[n] = NULL;
					break;
				}
				memcpy(pg[n], "\x01\x80\xc2\x00\x00\x0e", 6);
				memcpy(pg[n] + 6, netfront_info(nf)->mac, 6);
				pg[n][12] = 0x88;
				pg[n][13] = 0xb5;
				t.gref = refs[n];
				t.flags = two && k == 0 ? NETTXF_more_data : 0;
				if (k == 1)
					t.size = 1400;
				t.id = (uint16_t)n++;
				rc = netfront_tx_raw(nf, 0, &t);
				slots++;
			}
		}
		if (rc < 0)
			break;
		netfront_kick(nf, 0);
		netfront_notify(nf, 0);
		/* Whoever comes first, the backend's map or our end of access. */
		for (i = 0; i < n; i++)
			if (netfront_ungrant(nf, 0, pg[i], 1) == 0) {
				pg[i] = NULL;
				early++;
			}
		for (uint64_t end = pvfront_now_ms() + WAIT_MS; got < n && pvfront_now_ms() < end;) {
			rc = netfront_tx_complete(nf, 0);
			if (rc < 0)
				break;
			k = netfront_tx_raw_status(nf, 0, st, 64);
			for (i = 0; i < k; i++)
				ok += st[i] == NETIF_RSP_OKAY;
			got += k;
			if (netfront_backend_state(nf) != XenbusStateConnected)
				break;
			if (got < n)
				wait_event(nf, 20);
		}
		answered += got;
		if (rc >= 0 && got < n) {
			fprintf(stderr, "revoke: %u of %u slots answered\n", got, n);
			rc = -ETIMEDOUT;
		}
		for (i = 0; i < n; i++)
			if (pg[i] && netfront_ungrant(nf, 0, pg[i], 1) < 0)
				leaked++;
		rc = rc < 0 ? rc : 0;
	}
	printf("revoke: frames %lu slots %lu answered %lu ok %lu ended-early %lu leaked %lu "
	       "backend %s\n", sent, slots, answered, ok, early, leaked,
	       pv_xb_state_name(netfront_backend_state(nf)));
	return rc < 0 ? rc : leaked ? -EBUSY : 0;
}

int nft_attack(struct netfront **nfp, const struct netfront_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct attack a = { .o = o, .count = 1000, .seed = 1 };
	const char *mode;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			a.count = strtoul(optarg, NULL, 0);
		else if (c == 's')
			a.seed = strtoull(optarg, NULL, 0);
		else
			return -EINVAL;
	}
	if (optind != argc - 1)
		return -EINVAL;
	mode = argv[optind];
	if (!strcmp(mode, "flip"))
		return attack_flip(nfp, &a);
	if (!strcmp(mode, "never-consume"))
		return attack_never_consume(*nfp, &a);
	if (!strcmp(mode, "revoke"))
		return attack_revoke(*nfp, &a);
	fprintf(stderr, "netfront-tool: attack: unknown mode '%s'\n", mode);
	return -EINVAL;
}
