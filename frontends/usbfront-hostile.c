// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbfront-tool attack: the sustained hostile guest against a vusb
 * controller (tests/sim/usb-hostile-attack.sh), against a gadget-zero
 * device (emu:zero) on a port, the urb ring written by hand (pvfront.h's
 * ring hooks and the flipper shared with blkfront-tool and netfront-tool),
 * each run for a count of answers or rounds, never for a time:
 *
 *  flip           the urb ring kept full of bulk OUT/IN and control
 *                 transfers while a second thread flips pipe,
 *                 buffer_length, nr_buffer_segs, transfer_flags, the iso
 *                 fields and the segments' grefs, offsets and lengths
 *                 (double fetch); a disconnect costs a reconnect
 *  never-consume  rounds of a full urb ring written over the unread
 *                 responses (rsp_cons never moves)
 *  revoke         bulk INs whose page's access is ended right after the
 *                 push, then loopback INs ended while the device holds
 *                 them (no data yet), completed by an OUT
 *
 * Checks: no more responses than requests, each response's id one that
 * was posted and not answered yet, no grant kept after its answer.  One
 * thread, besides flip's flipper.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/io/xenbus.h>
#include <xen/io/usbif.h>

#include "pvcommon.h"
#include "pvring.h"
#include "pvfront.h"
#include "usbfront.h"
#include "usbfront-tool.h"

#define BAD_GREF 0x7ffffff0u /* a ref no guest here has granted */
#define PAGE     4096u
#define NPAGES   4u
#define WAIT_MS  5000        /* longest wait for one answer */
#define MAX_IDS  64u

struct attack {
	struct uft *t;
	struct usbfront_opts o;
	unsigned port;
	unsigned long count;
	uint64_t seed;
};

static uint32_t pipe_of(unsigned type, const struct usbfront_dev *d, unsigned ep, bool in,
			unsigned port)
{
	return ((uint32_t)type << USBIF_PIPE_TYPE_SHIFT) | (in ? USBIF_PIPE_DIR : 0) |
	       ((uint32_t)d->addr << USBIF_PIPE_DEV_SHIFT) | ((uint32_t)ep << USBIF_PIPE_EP_SHIFT) |
	       port;
}

/* Request k of the mix: bulk OUT, bulk IN (a page each), GET_STATUS. */
static void mix_req(struct usbif_urb_request *q, unsigned k, const struct usbfront_dev *d,
		    unsigned port, const uint32_t *refs)
{
	memset(q, 0, sizeof(*q));
	q->nr_buffer_segs = 1;
	switch (k % 3) {
	case 0:
	case 1:
		q->pipe = pipe_of(USBIF_PIPE_TYPE_BULK, d, 1, k % 3 == 1, port);
		q->buffer_length = PAGE;
		q->seg[0] = (struct usbif_request_segment){ .gref = refs[k % NPAGES], .length = PAGE };
		break;
	default:
		q->pipe = pipe_of(USBIF_PIPE_TYPE_CTRL, d, 0, true, port);
		q->buffer_length = 2;
		q->u.ctrl[0] = 0x80; /* GET_STATUS(device) */
		q->u.ctrl[6] = 2;
		q->seg[0] = (struct usbif_request_segment){ .gref = refs[k % NPAGES], .length = 2 };
		break;
	}
}

/* The ids on the ring: each response must name one of them, once. */
struct ids {
	bool out[MAX_IDS];
	unsigned n;
	unsigned long answered, bad;
};

static int id_take(struct ids *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (!s->out[i]) {
			s->out[i] = true;
			return (int)i;
		}
	return -1;
}

/*
 * Take the responses published since *cons (at most up to prod): each id
 * checked against s.  -EPROTO: more responses than requests.
 */
static int take(struct pvfront_ring *r, uint32_t *cons, uint32_t prod, struct ids *s)
{
	volatile struct pv_sring_hdr *h = pvfront_ring_sring(r);
	uint32_t rp = h->rsp_prod;

	pv_rmb(); /* the responses up to rp */
	if (rp - *cons > prod - *cons) {
		fprintf(stderr, "attack: rsp_prod %u beyond the %u requests posted\n", rp, prod);
		return -EPROTO;
	}
	for (; *cons != rp; (*cons)++) {
		struct usbif_urb_response x;

		memcpy(&x, pvfront_ring_ent(r, *cons), sizeof(x));
		s->answered++;
		if (x.id >= s->n || !s->out[x.id]) {
			s->bad++;
			fprintf(stderr, "attack: a response for id %u, not on the ring\n", x.id);
		} else {
			s->out[x.id] = false;
		}
	}
	h->rsp_event = *cons + 1;
	pv_mb(); /* rsp_event out before the next look at rsp_prod */
	return 0;
}

/* Our view written back into usbfront's ring: everything up to prod consumed. */
static void ring_sync(struct pvfront_ring *r, uint32_t prod, uint32_t cons)
{
	r->front.req_prod_pvt = prod;
	r->front.rsp_cons = cons;
}

/* Enumerate the port's device (config: -1 the first) and share the pages. */
static int setup(struct attack *a, int config, struct usbfront_dev *d, uint32_t *refs,
		 void **pages)
{
	int rc = uft_open_dev(a->t, a->port, config, d);

	if (rc < 0)
		return rc;
	rc = usbfront_share(a->t->uf, NPAGES, true, refs, pages);
	if (rc < 0)
		usbfront_dev_free(d);
	return rc;
}

/* ------------------------------------------------------------------ flip */

/* What a flip writes: mostly a well-behaved frontend's values, now and
 * then a hostile one (pvfront_flip_weighted). */
struct flip_values {
	uint32_t segs[64], pipes[64], lens[64], flags[16], iso[16], grefs[16], offs[64],
		seglens[64];
};

static void flip_values(struct flip_values *v, const struct usbfront_dev *d, unsigned port,
			const uint32_t *refs)
{
	uint32_t bulk_out = pipe_of(USBIF_PIPE_TYPE_BULK, d, 1, false, port);
	const uint32_t pipes[] = { bulk_out, pipe_of(USBIF_PIPE_TYPE_BULK, d, 1, true, port),
				   pipe_of(USBIF_PIPE_TYPE_CTRL, d, 0, true, port) };
	const uint32_t bad_pipes[] = {
		pipe_of(USBIF_PIPE_TYPE_ISOC, d, 2, true, port),
		pipe_of(USBIF_PIPE_TYPE_ISOC, d, 2, false, port),
		pipe_of(USBIF_PIPE_TYPE_INT, d, 3, true, port),
		bulk_out | USBIF_PIPE_UNLINK,
		bulk_out & ~(uint32_t)USBIF_PIPE_PORT_MASK,                 /* port 0 */
		(bulk_out & ~(uint32_t)USBIF_PIPE_PORT_MASK) | 31,          /* beyond num-ports */
		(bulk_out & ~((uint32_t)USBIF_PIPE_DEV_MASK << USBIF_PIPE_DEV_SHIFT)) |
			(99u << USBIF_PIPE_DEV_SHIFT),                       /* no such device */
	};
	const uint32_t bad_grefs[] = { BAD_GREF };

	pvfront_flip_weighted(v->segs, 64, (const uint32_t[]){ 1 }, 1,
			      (const uint32_t[]){ 0, 2, 16, 17, 0xffff }, 5);
	pvfront_flip_weighted(v->pipes, 64, pipes, 3, bad_pipes, 7);
	/* Bulk transfers are a page: its control transfers alone mismatch. */
	pvfront_flip_weighted(v->lens, 64, (const uint32_t[]){ PAGE }, 1,
			      (const uint32_t[]){ 0, 1, 2, 8192, 65535 }, 5);
	pvfront_flip_weighted(v->flags, 16, (const uint32_t[]){ 0 }, 1,
			      (const uint32_t[]){ USBIF_SHORT_NOT_OK, 0xffff }, 2);
	pvfront_flip_weighted(v->iso, 16, (const uint32_t[]){ 0, 1, 8 }, 3,
			      (const uint32_t[]){ 1024, 65535 }, 2);
	pvfront_flip_weighted(v->grefs, 16, refs, NPAGES, bad_grefs, 1);
	pvfront_flip_weighted(v->offs, 64, (const uint32_t[]){ 0 }, 1,
			      (const uint32_t[]){ 1, 4000, 0xffff }, 3);
	pvfront_flip_weighted(v->seglens, 64, (const uint32_t[]){ PAGE }, 1,
			      (const uint32_t[]){ 0, 2, 200, 0xffff }, 4);
}

#define FIELD(member, vals) \
	{ offsetof(struct usbif_urb_request, member), \
	  sizeof(((struct usbif_urb_request *)0)->member), vals, sizeof(vals) / sizeof(vals[0]) }

/* One connection of flip: its ring full and flipped until count answers or
 * the controller went.  Ids and answers add up in s. */
static int flip_conn(struct attack *a, uint64_t *seed, struct ids *s, unsigned long *flips)
{
	struct usbfront *uf = a->t->uf;
	struct pvfront_ring *r = usbfront_urb_ring(uf);
	volatile struct pv_sring_hdr *h = pvfront_ring_sring(r);
	uint32_t prod = h->req_prod, cons = r->front.rsp_cons, refs[NPAGES];
	unsigned nr = r->front.nr_ents, k = 0;
	struct usbfront_dev d = { 0 };
	struct flip_values v;
	struct pvfront_flipper ft;
	uint64_t last = pvfront_now_ms();
	void *pages;
	int rc, st = XenbusStateConnected;

	rc = setup(a, -1, &d, refs, &pages);
	if (rc < 0)
		return rc;
	flip_values(&v, &d, a->port, refs);
	{
		const struct pvfront_flip_field f[] = {
			FIELD(nr_buffer_segs, v.segs), FIELD(pipe, v.pipes),
			FIELD(buffer_length, v.lens), FIELD(transfer_flags, v.flags),
			FIELD(u.isoc.interval, v.iso), FIELD(u.isoc.start_frame, v.iso),
			FIELD(u.isoc.number_of_packets, v.iso),
			FIELD(u.isoc.nr_frame_desc_segs, v.iso), FIELD(seg[0].gref, v.grefs),
			FIELD(seg[0].offset, v.offs), FIELD(seg[0].length, v.seglens),
			FIELD(seg[1].gref, v.grefs), FIELD(seg[1].offset, v.offs),
			FIELD(seg[1].length, v.seglens),
		};
		const struct pvfront_flip_ring fr1 = { r, f, sizeof(f) / sizeof(f[0]) };
		struct pvfront_flip_rings fr = { &fr1, 1 };
		unsigned long start = s->answered;

		rc = pvfront_flip_rings_start(&ft, &fr, pvfront_rnd(seed));
		if (rc < 0)
			goto out;
		while (s->answered < a->count && st == XenbusStateConnected) {
			struct usbif_urb_request q;
			int id;

			while (prod - cons < nr && (id = id_take(s)) >= 0) {
				mix_req(&q, k++, &d, a->port, refs);
				q.id = (uint16_t)id;
				memcpy(pvfront_ring_ent(r, prod++), &q, sizeof(q));
			}
			pvfront_ring_set_req_prod(r, prod);
			usbfront_notify(uf);
			poll(NULL, 0, 1); /* rsp_prod is looked at, bounded (no event here) */
			start = s->answered;
			rc = take(r, &cons, prod, s);
			if (rc < 0)
				break;
			if (s->answered != start)
				last = pvfront_now_ms();
			else if (pvfront_now_ms() - last > WAIT_MS)
				break; /* the rest hangs in the device: a new connection */
			if (!(k & 15) || s->answered == start)
				st = usbfront_backend_state(uf);
		}
		*flips += pvfront_flipper_stop(&ft);
	}
	/* Whatever is still answered on this connection. */
	for (uint64_t end = pvfront_now_ms() + 1000; rc == 0 && cons != prod &&
	     pvfront_now_ms() < end && usbfront_backend_state(uf) == XenbusStateConnected;) {
		poll(NULL, 0, 1);
		rc = take(r, &cons, prod, s);
	}
	ring_sync(r, prod, cons);
	memset(s->out, 0, sizeof(s->out)); /* the next connection starts afresh */
out:
	/* Pages of transfers still held end with the close. */
	if (cons == prod)
		usbfront_unshare(uf, pages, NPAGES);
	usbfront_dev_free(&d);
	return rc;
}

static int attack_flip(struct attack *a)
{
	struct ids s = { .n = usbfront_info(a->t->uf)->urb_slots };
	unsigned long flips = 0;
	unsigned conns = 0, ended = 0;
	uint64_t seed = a->seed;
	int rc = 0;

	if (s.n > MAX_IDS)
		s.n = MAX_IDS;
	while (s.answered < a->count) {
		for (int i = 0; !a->t->uf && i < 3; i++)
			rc = usbfront_open(&a->o, &a->t->uf);
		if (!a->t->uf) {
			fprintf(stderr, "flip: reconnect: %s\n", uft_err(rc));
			break;
		}
		conns++;
		rc = flip_conn(a, &seed, &s, &flips);
		if (rc == -EPROTO || s.bad)
			break;
		if (s.answered < a->count) {
			/* Gone, or transfers left hanging: a new connection. */
			ended++;
			usbfront_close(a->t->uf);
			a->t->uf = NULL;
		}
		rc = 0;
	}
	printf("flip: answered %lu bad-ids %lu flips %lu connections %u ended %u\n", s.answered,
	       s.bad, flips, conns, ended);
	return rc < 0 ? rc : s.bad ? -EPROTO : 0;
}

/* ---------------------------------------------------------- never-consume */

static void kick(void *uf)
{
	usbfront_notify(uf);
}

/*
 * count rounds of a full urb ring of the mix written straight into the
 * ring over the unread responses, each waited for by rsp_prod (no notify
 * may come: rsp_event plays games); then the controller must still serve.
 */
static int attack_never_consume(struct attack *a)
{
	struct usbfront *uf = a->t->uf;
	struct pvfront_ring *r = usbfront_urb_ring(uf);
	volatile struct pv_sring_hdr *h = pvfront_ring_sring(r);
	uint32_t prod = h->req_prod, refs[NPAGES];
	unsigned nr = r->front.nr_ents, i;
	struct usbfront_dev d = { 0 };
	unsigned long round;
	uint8_t st[2];
	void *pages;
	int rc;

	rc = setup(a, -1, &d, refs, &pages);
	if (rc < 0)
		return rc;
	for (round = 0; round < a->count; round++) {
		for (i = 0; i < nr; i++) {
			struct usbif_urb_request q;

			mix_req(&q, i, &d, a->port, refs);
			q.id = (uint16_t)i;
			memcpy(pvfront_ring_ent(r, prod + i), &q, sizeof(q));
		}
		rc = pvfront_sring_round(h, &prod, nr, round, kick, uf, WAIT_MS);
		if (rc < 0) {
			fprintf(stderr, "never-consume: round %lu not answered (%u of %u)\n", round,
				h->rsp_prod - (prod - nr), nr);
			break;
		}
	}
	printf("never-consume: rounds %lu requests %lu backend %s\n", round, round * nr,
	       pv_xb_state_name(usbfront_backend_state(uf)));
	ring_sync(r, prod, h->rsp_prod);
	h->rsp_event = h->rsp_prod + 1;
	if (rc == 0) {
		rc = usbfront_control(uf, a->port, d.addr, 0x80, 0x00, 0, 0, st, 2, a->t->xfer_ms);
		printf("then GET_STATUS: %s\n", rc < 0 ? uft_err(rc) : "OK");
		rc = rc < 0 ? rc : 0;
	}
	usbfront_unshare(uf, pages, NPAGES);
	usbfront_dev_free(&d);
	return rc;
}

/* ---------------------------------------------------------------- revoke */

/* Wait (dispatching) for n raw answers; their statuses in status[].
 * -ENOTCONN: the controller went instead. */
static int revoke_wait(struct usbfront *uf, unsigned n, int32_t *status)
{
	struct usbif_urb_response rsp[4];
	unsigned got = 0, k, i;

	for (uint64_t end = pvfront_now_ms() + WAIT_MS; got < n && pvfront_now_ms() < end;) {
		if (usbfront_poll(uf, 20) < 0)
			return -EIO;
		if (usbfront_backend_state(uf) != XenbusStateConnected)
			return -ENOTCONN;
		k = usbfront_raw_responses(uf, rsp, 4);
		for (i = 0; i < k && got < n; i++)
			status[got++] = rsp[i].status;
	}
	return got == n ? 0 : -ETIMEDOUT;
}

/* Does the controller leave Connected within WAIT_MS (dispatching)? */
static bool controller_goes(struct usbfront *uf)
{
	for (uint64_t end = pvfront_now_ms() + WAIT_MS; pvfront_now_ms() < end;) {
		if (usbfront_backend_state(uf) != XenbusStateConnected)
			return true;
		if (usbfront_poll(uf, 20) < 0)
			return true;
	}
	return false;
}

/* A connection of revoke: the device enumerated with config, NPAGES shared. */
struct conn {
	struct usbfront_dev d;
	uint32_t refs[NPAGES];
	void *pages;
	bool up;
};

static void conn_down(struct attack *a, struct conn *c)
{
	if (!c->up)
		return;
	usbfront_unshare(a->t->uf, c->pages, NPAGES); /* else it ends with the close */
	usbfront_dev_free(&c->d);
	c->up = false;
}

/* A new frontend (the controller went: a violation), the device enumerated
 * with config. */
static int conn_renew(struct attack *a, struct conn *c, int config)
{
	int rc = 0;

	conn_down(a, c);
	usbfront_close(a->t->uf);
	a->t->uf = NULL;
	for (int i = 0; !a->t->uf && i < 3; i++)
		rc = usbfront_open(&a->o, &a->t->uf);
	if (!a->t->uf)
		return rc;
	rc = setup(a, config, &c->d, c->refs, &c->pages);
	c->up = rc == 0;
	return rc;
}

/*
 * count bulk transfers of a page each on source/sink, OUT and IN in turn,
 * the page's access ended right after the push.  Then count / 10 loopback
 * rounds (configuration 2: an IN waits for OUT data): an IN pushed, its
 * page's access ended while the device holds it, then an OUT that
 * completes it.  Each is answered, or the controller goes (the backend
 * could not copy an IN's data into the page: a violation, logged), and a
 * new frontend goes on; on a live controller every page ends after its
 * answer (one the backend kept would be a leak).
 */
static int attack_revoke(struct attack *a)
{
	unsigned long i, early = 0, ok = 0, leaked = 0, held_early = 0, held_ok = 0, rounds = 0;
	unsigned long answered = 0;
	unsigned disconnects = 0;
	struct conn c = { .up = false };
	int rc;

	rc = conn_renew(a, &c, -1);
	for (i = 0; i < a->count && rc == 0; i++) {
		struct usbif_urb_request q;
		int32_t status = -1;
		uint32_t ref;
		void *pg;
		bool ended;

		rc = usbfront_share(a->t->uf, 1, true, &ref, &pg);
		if (rc < 0)
			break;
		mix_req(&q, i & 1, &c.d, a->port, c.refs); /* bulk OUT or IN of a page: ours */
		q.seg[0].gref = ref;
		q.id = 1;
		rc = usbfront_submit_raw(a->t->uf, &q);
		if (rc < 0)
			break;
		ended = usbfront_unshare(a->t->uf, pg, 1) == 0;
		early += ended;
		if (revoke_wait(a->t->uf, 1, &status) == 0) {
			answered++;
			ok += status == 0;
			if (!ended && usbfront_unshare(a->t->uf, pg, 1) < 0)
				leaked++;
		} else if (usbfront_backend_state(a->t->uf) != XenbusStateConnected) {
			disconnects++;
			rc = conn_renew(a, &c, -1);
		} else {
			rc = -ETIMEDOUT;
		}
	}
	/* Loopback: transfers the device holds while their pages end. */
	if (rc == 0)
		rc = conn_renew(a, &c, 2);
	if (rc < 0)
		fprintf(stderr, "revoke: %s\n", uft_err(rc));
	for (rounds = 0; rc == 0 && rounds < a->count / 10; rounds++) {
		struct usbif_urb_request in, out;
		int32_t status[2] = { -1, -1 };
		uint32_t ref;
		void *pg;
		bool ended;
		int k;

		rc = usbfront_share(a->t->uf, 1, true, &ref, &pg);
		if (rc < 0)
			break;
		mix_req(&in, 1, &c.d, a->port, c.refs);
		in.seg[0].gref = ref;
		in.id = 1;
		mix_req(&out, 0, &c.d, a->port, c.refs);
		out.id = 2;
		rc = usbfront_submit_raw(a->t->uf, &in);
		if (rc < 0)
			break;
		/* The IN waits in the device (no data yet): end its page now. */
		for (k = 0; k < 100 && !(ended = usbfront_unshare(a->t->uf, pg, 1) == 0); k++)
			usbfront_poll(a->t->uf, 0);
		held_early += ended;
		rc = usbfront_submit_raw(a->t->uf, &out);
		if (rc < 0)
			break;
		if (revoke_wait(a->t->uf, 2, status) == 0) {
			answered += 2;
			held_ok += status[0] == 0 && status[1] == 0;
			if (!ended && usbfront_unshare(a->t->uf, pg, 1) < 0)
				leaked++;
			/* The IN's page was gone when its data came: the backend
			 * answered it failed and closes the controller (a
			 * violation) right after; wait for that, then a new one. */
			if (ended && status[0] != 0 && controller_goes(a->t->uf)) {
				disconnects++;
				rc = conn_renew(a, &c, 2);
			}
		} else if (usbfront_backend_state(a->t->uf) != XenbusStateConnected) {
			disconnects++;
			rc = conn_renew(a, &c, 2);
		} else {
			rc = -ETIMEDOUT;
		}
	}
	/* The last round's violation (an IN's page ended while the device held
	 * it) may close the controller just after its answers: a new one. */
	if (rc >= 0 && a->t->uf && usbfront_backend_state(a->t->uf) != XenbusStateConnected) {
		disconnects++;
		rc = conn_renew(a, &c, 2);
	}
	printf("revoke: requests %lu answered %lu ok %lu ended-early %lu held %lu held-ok %lu "
	       "held-ended-early %lu disconnects %u leaked %lu backend %s\n", i, answered, ok,
	       early, rounds, held_ok, held_early, disconnects, leaked,
	       a->t->uf ? pv_xb_state_name(usbfront_backend_state(a->t->uf)) : "gone");
	if (a->t->uf)
		conn_down(a, &c);
	return rc < 0 ? rc : leaked ? -EBUSY : 0;
}

int uft_attack(struct uft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct attack a = { .t = t, .o = *t->opts, .count = 1000, .seed = 1 };
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n' && uft_uint(optarg, ULONG_MAX, &v) == 0)
			a.count = v;
		else if (c == 's' && uft_uint(optarg, ULONG_MAX, &v) == 0)
			a.seed = v;
		else
			return -EINVAL;
	}
	if (optind != argc - 2 || uft_port(t, argv[optind + 1], &a.port) < 0)
		return -EINVAL;
	if (!strcmp(argv[optind], "flip"))
		return attack_flip(&a);
	if (!strcmp(argv[optind], "never-consume"))
		return attack_never_consume(&a);
	if (!strcmp(argv[optind], "revoke"))
		return attack_revoke(&a);
	fprintf(stderr, "usbfront-tool: attack: unknown mode '%s'\n", argv[optind]);
	return -EINVAL;
}
