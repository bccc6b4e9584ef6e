// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The hostile guest of blkfront-tool (tests/sim/blk-hostile*.sh): requests,
 * grants and ring indexes a well-behaved blkfront never produces, built by
 * hand on libpvfront's raw hooks (blkfront.h) so the ring mechanics stay the
 * library's.  bft_hostile() sends one malformed request (or index) and
 * prints what came back; bft_attack() runs a sustained attack for a count of
 * answers, rounds or writes (never for a time): rings kept full of requests
 * mapping the same few grants, devices closed with full rings, responses
 * never consumed, request fields flipped by a second thread while the
 * backend works, grants ended while in flight, state keys flapped.
 *
 * Native ABI only.  Threads: one, except flip's flipper (libpvfront's
 * pvfront_flipper, as netfront-tool's and usbfront-tool's attacks use it),
 * which only writes the shared ring entries and the indirect page (both
 * shared with the backend anyway) and stops before the connection closes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xenbus.h>

#include "blkfront-tool.h"
#include "pvfront.h"
#include "pvring.h"
#include "abi/blkif.h"

#define BAD_GREF   0x7ffffff0u  /* a ref no guest here has granted */
#define PAGE       4096u
#define WAIT_MS    5000         /* longest wait for one event while attacking */

static const char *state_name(int st)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
		"Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (st < 0)
		return "gone";
	return st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : "?";
}

/* The backend's state, waiting (timeout_ms) for it to leave Connected. */
static int state_after(struct blkfront *bf, int timeout_ms)
{
	uint64_t end = pvfront_now_ms() + (uint64_t)timeout_ms;
	int st;

	while ((st = blkfront_backend_state(bf)) == XenbusStateConnected && pvfront_now_ms() < end)
		poll(NULL, 0, 10); /* the guest side of a bounded wait; no watch here */
	return st;
}

/* Fill one indirect page with n segments naming refs[i % nrefs], whole pages. */
static void fill_segs(void *page, const uint32_t *refs, unsigned nrefs, unsigned n, uint8_t last)
{
	struct blkif_request_segment *s = page;
	unsigned i;

	for (i = 0; i < n && i < PAGE / sizeof(*s); i++)
		s[i] = (struct blkif_request_segment){ .gref = refs[i % nrefs], .first_sect = 0,
							.last_sect = last };
}

/* ------------------------------------------------------------ one rule */

struct pages {
	void *addr;
	unsigned n;
	uint32_t refs[8];
};

static int pages_get(struct run *r, struct pages *p, unsigned n, bool writable, int domid)
{
	p->n = n;
	if (domid < 0)
		return blkfront_share(r->bf, n, writable, p->refs, &p->addr);
	return blkfront_share_with(r->bf, (uint16_t)domid, n, writable, p->refs, &p->addr);
}

static void pages_end(struct run *r, struct pages *p)
{
	if (p->addr)
		blkfront_unshare(r->bf, p->addr, p->n);
	p->addr = NULL;
}

/* Ring index abuse: the backend must disconnect us (or, for rsp-event, answer). */
static int index_rule(struct run *r, const char *rule, volatile struct pv_sring_hdr *h,
		      unsigned nr_slots)
{
	if (!strcmp(rule, "prod-overflow"))
		h->req_prod += nr_slots + 5;
	else if (!strcmp(rule, "prod-far-ahead"))
		h->req_prod += 0x80000000u;
	else if (!strcmp(rule, "prod-behind"))
		h->req_prod -= 1; /* behind the backend's consumer: wraps to 2^32 - 1 */
	else
		return -ENOENT;
	pv_mb();
	blkfront_notify(r->bf, 0);
	printf("status sent-overflow\n");
	return 0;
}

/*
 * Does the device still serve us?  A valid one-page read: answered (print
 * "then read: STATUS") or, when the rule cost us the device, never; then
 * wait (3 s at most) for the backend to leave Connected.  Its state in *st.
 */
static int probe(struct run *r, uint32_t ref, int *st)
{
	struct blkif_request rw = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = 99,
				    .seg = { { .gref = ref, .last_sect = 7 } } };
	unsigned want = r->done + 1;
	uint64_t end = pvfront_now_ms() + 3000;
	int rc;

	*st = XenbusStateConnected;
	rc = blkfront_submit_raw(r->bf, 0, &rw, sizeof(rw), 99);
	if (rc < 0)
		return rc;
	blkfront_kick(r->bf, 0);
	while (pvfront_now_ms() < end) {
		rc = blkfront_complete(r->bf, 0, bft_on_done, r);
		if (rc < 0)
			return rc;
		*st = blkfront_backend_state(r->bf);
		if (r->done >= want) {
			printf("then read: %d\n", r->last_status);
			return 0;
		}
		if (*st != XenbusStateConnected)
			return 0;
		blkfront_wait(r->bf, 20);
	}
	printf("then read: no-response\n");
	return 0;
}

int bft_hostile(struct run *r, const char *rule)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	struct blkif_request rw = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = 1 };
	struct blkif_request_indirect ind = { .operation = BLKIF_OP_INDIRECT,
					      .indirect_op = BLKIF_OP_READ, .id = 1 };
	struct blkif_request_discard ds = { .operation = BLKIF_OP_DISCARD, .id = 1 };
	volatile struct pv_sring_hdr *h = blkfront_sring(r->bf, 0);
	struct pages data = { 0 }, segp = { 0 }, ro = { 0 }, other = { 0 };
	unsigned nreq = 1, i;
	const void *req = &rw;
	size_t len = sizeof(rw);
	int rc, st;

	rc = pages_get(r, &data, 2, true, -1);
	if (rc == 0)
		rc = pages_get(r, &segp, 1, true, -1);
	if (rc == 0)
		rc = pages_get(r, &ro, 1, false, -1);
	/* Pages of ours granted to another domain (ours + 1): not our backend's. */
	if (rc == 0)
		rc = pages_get(r, &other, 1, true, blkfront_domid(r->bf) + 1);
	if (rc < 0)
		goto out;
	memset(segp.addr, 0, PAGE);
	rw.seg[0] = (struct blkif_request_segment){ .gref = data.refs[0], .last_sect = 7 };
	ind.indirect_grefs[0] = segp.refs[0];
	if (index_rule(r, rule, h, in->nr_slots) == 0) {
		printf("backend %s\n", state_name(state_after(r->bf, 3000)));
		goto out;
	}
	if (!strcmp(rule, "bad-op")) {
		rw.operation = 42;
	} else if (!strcmp(rule, "too-many-segs")) {
		rw.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	} else if (!strcmp(rule, "first-after-last")) {
		rw.seg[0].first_sect = 5;
		rw.seg[0].last_sect = 4;
	} else if (!strcmp(rule, "last-beyond-page")) {
		rw.seg[0].last_sect = 8;
	} else if (!strcmp(rule, "past-end")) {
		rw.sector_number = in->sectors - 7;
	} else if (!strcmp(rule, "overflow")) {
		rw.sector_number = UINT64_MAX - 3;
	} else if (!strcmp(rule, "bad-gref")) {
		rw.seg[0].gref = BAD_GREF;
	} else if (!strcmp(rule, "foreign-gref")) {
		rw.seg[0].gref = other.refs[0];
	} else if (!strcmp(rule, "ro-read")) {
		rw.seg[0].gref = ro.refs[0];
	} else if (!strcmp(rule, "ro-write")) {
		rw.operation = BLKIF_OP_WRITE; /* allowed: the backend only reads the page */
		rw.seg[0].gref = ro.refs[0];
	} else if (!strcmp(rule, "id-reuse")) {
		rw.id = 7;
		nreq = 2; /* two requests with one id in flight: both answered */
	} else if (!strcmp(rule, "flush-bad-gref")) {
		rw.operation = BLKIF_OP_FLUSH_DISKCACHE;
		rw.seg[0].gref = BAD_GREF;
	} else if (!strcmp(rule, "flush-too-many-segs")) {
		rw.operation = BLKIF_OP_FLUSH_DISKCACHE;
		rw.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	} else if (!strcmp(rule, "discard-past-end") || !strcmp(rule, "discard-overflow")) {
		ds.sector_number = rule[8] == 'p' ? in->sectors - 4 : UINT64_MAX - 3;
		ds.nr_sectors = 8;
		req = &ds;
		len = sizeof(ds);
	} else if (!strncmp(rule, "indirect-", 9) || !strcmp(rule, "bad-indirect-gref") ||
		   !strncmp(rule, "map-", 4)) {
		const char *k = rule + (rule[0] == 'm' ? 4 : 9);
		uint32_t ref = data.refs[0];

		/* map-*: 128 segments, beyond grant copy's 64: the backend maps them. */
		ind.nr_segments = 128;
		if (!strcmp(k, "too-many")) {
			ind.nr_segments = (uint16_t)(in->max_indirect + 1);
		} else if (!strcmp(rule, "bad-indirect-gref")) {
			ind.nr_segments = 12;
			ind.indirect_grefs[0] = BAD_GREF;
		} else if (!strcmp(k, "zero-segs")) {
			ind.nr_segments = 0;
		} else if (!strcmp(k, "bad-op")) {
			ind.indirect_op = 42;
		} else if (!strcmp(k, "short-page")) {
			/* 100 segments announced, 12 written: the rest is 0xff garbage. */
			ind.nr_segments = 12;
			memset(segp.addr, 0xff, PAGE);
		} else if (!strcmp(k, "extra-grefs")) {
			/* 12 segments need one page; the other refs must be ignored. */
			ind.nr_segments = 12;
			for (i = 1; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
				ind.indirect_grefs[i] = BAD_GREF;
		} else if (!strcmp(k, "bad-gref")) {
			ref = BAD_GREF;
		} else if (!strcmp(k, "foreign-gref")) {
			ref = other.refs[0];
		} else if (!strcmp(k, "ro-read")) {
			ref = ro.refs[0];
		} else {
			fprintf(stderr, "hostile: unknown rule %s\n", rule);
			rc = -EINVAL;
			goto out;
		}
		fill_segs(segp.addr, &ref, 1, ind.nr_segments < 512 ? ind.nr_segments : 512, 7);
		if (!strcmp(k, "short-page"))
			ind.nr_segments = 100;
		req = &ind;
		len = sizeof(ind);
	} else if (!strcmp(rule, "rsp-event")) {
		/* A valid read, but rsp_event far away: answered, maybe unannounced. */
		h->rsp_event = h->rsp_prod + 0x80000000u;
	} else {
		fprintf(stderr, "hostile: unknown rule %s\n", rule);
		rc = -EINVAL;
		goto out;
	}
	for (i = 0; i < nreq && rc == 0; i++)
		rc = blkfront_submit_raw(r->bf, 0, req, len, i);
	if (rc < 0)
		goto out;
	blkfront_kick(r->bf, 0);
	/* Responses are looked for whether or not we were notified. */
	for (uint64_t end = pvfront_now_ms() + 3000; r->done < nreq && pvfront_now_ms() < end;) {
		rc = blkfront_complete(r->bf, 0, bft_on_done, r);
		if (rc < 0)
			goto out;
		if (r->done < nreq && blkfront_wait(r->bf, 50) < 0)
			continue;
	}
	rc = 0;
	if (r->done < nreq)
		printf("status no-response\n");
	else
		printf("status %d\n", r->last_status);
	printf("answers %u\n", r->done);
	rc = probe(r, data.refs[1], &st);
	printf("backend %s\n", state_name(st));
out:
	/* Pages still mapped by a backend that went away end with the close. */
	pages_end(r, &data);
	pages_end(r, &segp);
	pages_end(r, &ro);
	pages_end(r, &other);
	return rc;
}

/* --------------------------------------------------------------- attacks */

/*
 * A load that keeps every ring of a connection full of one request
 * template (its sector moves on per request), answering what comes back
 * and submitting again.
 */
struct load {
	struct blkfront *bf;
	unsigned nr_queues;
	_Alignas(8) uint8_t req[BLKIF_NATIVE_ENT_SIZE]; /* read as the request structs */
	size_t len;
	size_t sector_off;       /* where the template's sector_number sits */
	uint64_t sector, step, span;
	bool refill;             /* submit again as answers come */
	unsigned long submitted, answered, ok, errors, eopnotsupp;
};

static void load_done(void *opaque, uint64_t tag, int status)
{
	struct load *l = opaque;

	l->answered++;
	if (status == BLKIF_RSP_OKAY)
		l->ok++;
	else if (status == BLKIF_RSP_EOPNOTSUPP)
		l->eopnotsupp++;
	else
		l->errors++;
}

static void load_fill(struct load *l)
{
	unsigned q;

	if (!l->refill)
		return;
	for (q = 0; q < l->nr_queues; q++) {
		for (;;) {
			uint64_t s = l->sector;

			memcpy(l->req + l->sector_off, &s, sizeof(s));
			if (blkfront_submit_raw(l->bf, q, l->req, l->len, l->submitted) < 0)
				break;
			l->submitted++;
			l->sector = (l->sector + l->step) % l->span;
		}
	}
}

/* Fill, wait for an event (kicks every queue), collect the answers. */
static int load_round(struct load *l, int timeout_ms)
{
	int rc;

	load_fill(l);
	rc = blkfront_wait(l->bf, timeout_ms);
	if (rc < 0 && rc != -ETIMEDOUT)
		return rc;
	rc = blkfront_complete_all(l->bf, load_done, l);
	return rc < 0 ? rc : 0;
}

static void load_init(struct load *l, struct blkfront *bf)
{
	memset(l, 0, sizeof(*l));
	l->bf = bf;
	l->nr_queues = blkfront_info(bf)->nr_queues;
	l->refill = true;
}

/* The template: an indirect request of nseg segments, each a whole page
 * (last 7) or one sector (last 0), naming refs round-robin; its segment
 * list written into the page at ind. */
static void tmpl_indirect(struct load *l, uint8_t op, unsigned nseg, uint32_t ind_ref, void *ind,
			  const uint32_t *refs, unsigned nrefs, uint8_t last)
{
	struct blkif_request_indirect *r = (void *)l->req;

	memset(l->req, 0, sizeof(l->req));
	r->operation = BLKIF_OP_INDIRECT;
	r->indirect_op = op;
	r->nr_segments = (uint16_t)nseg;
	r->indirect_grefs[0] = ind_ref;
	fill_segs(ind, refs, nrefs, nseg, last);
	l->len = sizeof(*r);
	l->sector_off = offsetof(struct blkif_request_indirect, sector_number);
	l->step = (uint64_t)nseg * (last + 1u);
}

/* The template: a direct request of nseg whole pages on refs round-robin. */
static void tmpl_direct(struct load *l, uint8_t op, unsigned nseg, const uint32_t *refs,
			unsigned nrefs)
{
	struct blkif_request *r = (void *)l->req;
	unsigned i;

	memset(l->req, 0, sizeof(l->req));
	r->operation = op;
	r->nr_segments = (uint8_t)nseg;
	for (i = 0; i < nseg; i++)
		r->seg[i] = (struct blkif_request_segment){ .gref = refs[i % nrefs], .last_sect = 7 };
	l->len = sizeof(*r);
	l->sector_off = offsetof(struct blkif_request, sector_number);
	l->step = (uint64_t)nseg * 8;
}

/* The template: a discard of 8 sectors. */
static void tmpl_discard(struct load *l)
{
	struct blkif_request_discard *d = (void *)l->req;

	memset(l->req, 0, sizeof(l->req));
	d->operation = BLKIF_OP_DISCARD;
	d->nr_sectors = 8;
	l->len = sizeof(*d);
	l->sector_off = offsetof(struct blkif_request_discard, sector_number);
	l->step = 8;
}

/* Sectors [0, span) are what the requests go round: the device less one request. */
static void load_span(struct load *l)
{
	l->span = blkfront_info(l->bf)->sectors - l->step;
	l->sector %= l->span;
}

static void load_print(const char *mode, const struct load *l)
{
	printf("%s: submitted %lu answered %lu ok %lu errors %lu eopnotsupp %lu\n", mode,
	       l->submitted, l->answered, l->ok, l->errors, l->eopnotsupp);
}

/* A line or EOF on stdin (with --until-stdin): the test says stop. */
static bool told_to_stop(const struct bft_attack *a)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return a->until_stdin && poll(&p, 1, 0) > 0;
}

static void announce(const char *what)
{
	printf("%s\n", what);
	fflush(stdout);
}

/*
 * flood-map / ro-read: rings kept full until count answers (or stdin says
 * stop).  flood-map: indirect reads of max_indirect segments, all naming the
 * same few grants (a frontend without persistent grants makes the backend
 * map every segment).  ro-read: one-page reads into a page granted readonly
 * (each one an error, each one a chance to log).
 */
static int attack_load(struct run *r, const struct bft_attack *a, const char *mode)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	unsigned long ring_ful = (unsigned long)in->nr_slots * in->nr_queues;
	struct pages data = { 0 }, ind = { 0 };
	bool flood = !strcmp(mode, "flood-map");
	struct load l;
	bool running = false;
	int rc;

	rc = pages_get(r, &data, a->grants, !!flood, -1);
	if (rc == 0)
		rc = pages_get(r, &ind, 1, false, -1);
	if (rc < 0)
		goto out;
	if (flood) {
		if (!in->max_indirect) {
			fprintf(stderr, "flood-map: the connection has no indirect segments\n");
			rc = -EINVAL;
			goto out;
		}
		load_init(&l, r->bf);
		tmpl_indirect(&l, BLKIF_OP_READ, in->max_indirect, ind.refs[0], ind.addr,
			      data.refs, data.n, 7);
	} else {
		load_init(&l, r->bf);
		tmpl_direct(&l, BLKIF_OP_READ, 1, data.refs, 1);
	}
	load_span(&l);
	while (l.answered < a->count && !told_to_stop(a)) {
		rc = load_round(&l, WAIT_MS);
		if (rc < 0)
			break;
		if (!running && l.answered >= ring_ful) {
			announce("running");
			running = true;
		}
	}
	l.refill = false;
	while (rc == 0 && blkfront_inflight_total(l.bf))
		rc = load_round(&l, WAIT_MS);
	load_print(mode, &l);
out:
	/* Unanswered pages stay granted until the close. */
	pages_end(r, &data);
	pages_end(r, &ind);
	return rc;
}

/* One connection of hold-full: its rings full of 1 MiB reads. */
struct held {
	struct blkfront *bf;
	struct load l;
	void *data, *ind;
	uint32_t refs[64], ind_ref;
};

static int held_setup(struct held *h, struct blkfront *bf, const struct bft_attack *a)
{
	unsigned n = a->grants < 64 ? a->grants : 64;
	int rc;

	h->bf = bf;
	if (!blkfront_info(bf)->max_indirect) {
		fprintf(stderr, "hold-full: the connection has no indirect segments\n");
		return -EINVAL;
	}
	rc = blkfront_share(bf, n, true, h->refs, &h->data);
	if (rc == 0)
		rc = blkfront_share(bf, 1, false, &h->ind_ref, &h->ind);
	if (rc < 0)
		return rc;
	load_init(&h->l, bf);
	tmpl_indirect(&h->l, BLKIF_OP_READ, blkfront_info(bf)->max_indirect, h->ind_ref, h->ind,
		      h->refs, n, 7);
	load_span(&h->l);
	return 0;
}

/*
 * hold-full: --devid's rings and those of every --close device full of
 * 1 MiB reads; once each answered a ring-ful, Closing on every --close
 * device at once (no waiting), while --devid's rings are kept full, until
 * the backend left Connected on all of them; then the orderly close of
 * everything.  Prints "closing" when the states are written and "closed
 * after N ms".
 */
static int attack_hold_full(struct run *r, const struct bft_attack *a)
{
	struct held h[16] = { { 0 } };
	unsigned n = 1, i, left;
	const char *p = a->close;
	uint64_t t0, end;
	int rc, st;

	if (!p || !*p) {
		fprintf(stderr, "hold-full: --close DEVID[,DEVID...] is required\n");
		return -EINVAL;
	}
	/* Slot 0 is the connection main() made (--devid): kept full throughout. */
	rc = held_setup(&h[0], r->bf, a);
	while (rc == 0 && *p && n < 16) {
		struct blkfront_opts bo = a->bo;
		struct blkfront *bf;

		bo.devid = (uint32_t)strtoul(p, (char **)&p, 0);
		p += *p == ',';
		rc = blkfront_open(&bo, &bf);
		if (rc < 0) {
			fprintf(stderr, "hold-full: connect vbd %u: %s\n", bo.devid, strerror(-rc));
			break;
		}
		rc = held_setup(&h[n++], bf, a);
	}
	/* Everyone full and answering. */
	for (left = n; rc == 0 && left;) {
		for (left = 0, i = 0; rc == 0 && i < n; i++) {
			rc = load_round(&h[i].l, 0);
			left += h[i].l.answered < blkfront_info(h[i].bf)->nr_slots;
		}
	}
	for (i = 0; rc == 0 && i < n; i++) {
		load_fill(&h[i].l);
		blkfront_wait(h[i].bf, 0); /* kicks every queue */
	}
	t0 = pvfront_now_ms();
	for (i = 1; rc == 0 && i < n; i++) {
		h[i].l.refill = false;
		rc = blkfront_write_state(h[i].bf, "5"); /* Closing */
	}
	if (rc < 0)
		goto out;
	announce("closing");
	end = t0 + 120000;
	for (left = n - 1; left && pvfront_now_ms() < end;) {
		/* The kept device stays full; the closing ones' answers are taken. */
		for (i = 0; i < n; i++) {
			rc = load_round(&h[i].l, i ? 0 : 20);
			if (rc < 0 && i == 0)
				goto out;
		}
		for (left = 0, i = 1; i < n; i++) {
			st = blkfront_backend_state(h[i].bf);
			left += st == XenbusStateConnected;
		}
	}
	printf("closed after %llu ms%s\n", (unsigned long long)(pvfront_now_ms() - t0),
	       left ? " (not all: gave up)" : "");
	for (i = 0; i < n; i++)
		load_print("hold-full", &h[i].l);
	rc = left ? -ETIMEDOUT : 0;
out:
	for (i = 1; i < n; i++)
		blkfront_close(h[i].bf); /* ends the pages with the rest */
	return rc;
}

static void kick_q0(void *bf)
{
	blkfront_notify(bf, 0);
}

/*
 * never-consume: rounds of a full ring of reads on queue 0 written straight
 * into the shared ring; each round waits until the backend answered them
 * all, then writes the next ring-ful over the unread responses.  rsp_cons
 * never moves and rsp_event plays games (far away, behind): the backend
 * must neither wait for us nor care.
 */
static int attack_never_consume(struct run *r, const struct bft_attack *a)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	volatile struct pv_sring_hdr *h = blkfront_sring(r->bf, 0);
	struct pages data = { 0 };
	unsigned long round, requests = 0;
	uint32_t prod = h->req_prod;
	unsigned i;
	int rc;

	rc = pages_get(r, &data, 1, true, -1);
	if (rc < 0)
		return rc;
	for (round = 0; round < a->count; round++) {
		for (i = 0; i < in->nr_slots; i++) {
			struct blkif_request q = {
				.operation = BLKIF_OP_READ, .nr_segments = 1, .id = i,
				.sector_number = (uint64_t)i * 8,
				.seg = { { .gref = data.refs[0], .last_sect = 7 } },
			};

			memcpy(blkfront_ring_ent(r->bf, 0, prod + i), &q, sizeof(q));
		}
		rc = pvfront_sring_round(h, &prod, in->nr_slots, round, kick_q0, r->bf, WAIT_MS);
		if (rc < 0) {
			fprintf(stderr, "never-consume: round %lu not answered (%u of %u)\n", round,
				h->rsp_prod - (prod - in->nr_slots), in->nr_slots);
			break;
		}
		requests += in->nr_slots;
	}
	printf("never-consume: rounds %lu requests %lu backend %s\n", round, requests,
	       state_name(blkfront_backend_state(r->bf)));
	/* The pages end with the close (blkfront_close), after the backend unmapped. */
	return rc;
}

/* ------------------------------------------------------------------ flip */

struct flipper {
	struct blkfront *bf;
	unsigned nr_slots;
	uint8_t *ind;              /* the shared indirect page */
	uint32_t refs[4];          /* values a flipped gref takes */
};

/*
 * One flip (pvfront_flip_fn) of a request field of a random ring entry or
 * of the indirect page: operation, nr_segments / indirect_op, the indirect
 * nr_segments, the sector, segment grefs and sectors.  Bytes 8..15 (a
 * response's operation and status) are left alone, so what the backend
 * answers stays readable.
 */
static void flip_one(void *opaque, uint64_t x)
{
	static const uint8_t ops[] = { BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE,
				       BLKIF_OP_WRITE_BARRIER, BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT,
				       42 };
	struct flipper *f = opaque;
	volatile uint8_t *e = blkfront_ring_ent(f->bf, 0, (uint32_t)(x >> 40) % f->nr_slots);
	unsigned k = (unsigned)(x >> 8) % 112;

	switch (x & 7) {
	case 0:
		e[0] = ops[(x >> 16) % sizeof(ops)];
		break;
	case 1:
		e[1] = (uint8_t)(x >> 16); /* nr_segments or indirect_op */
		break;
	case 2:
		e[2] = (uint8_t)(x >> 16); /* indirect nr_segments */
		e[3] = (uint8_t)(x >> 24) & 1;
		break;
	case 3:
		e[16 + (x >> 16) % 8] = (uint8_t)(x >> 24); /* sector */
		break;
	case 4: {
		/* A segment's gref: one of ours or none. */
		unsigned s = (unsigned)(x >> 16) % BLKIF_MAX_SEGMENTS_PER_REQUEST;
		uint32_t g = f->refs[(x >> 24) & 3];

		memcpy((uint8_t *)e + 24 + 8 * s, &g, sizeof(g));
		break;
	}
	case 5:
		if (k >= 16)
			e[k] = (uint8_t)(x >> 24); /* anything past the header */
		break;
	default: {
		/* The indirect page: a segment's gref or sectors. */
		unsigned s = (unsigned)(x >> 16) % (PAGE / 8);
		volatile uint8_t *seg = f->ind + 8 * s;

		if (x & 8) {
			uint32_t g = f->refs[(x >> 24) & 3];

			memcpy((uint8_t *)seg, &g, sizeof(g));
		} else {
			seg[4 + ((x >> 24) & 1)] = (uint8_t)(x >> 32);
		}
		break;
	}
	}
}

/*
 * flip: queue 0 kept full of a mix of requests (direct reads and writes,
 * indirect ones of max_indirect segments, discards, flushes) while a second
 * thread flips their fields in the ring and in the indirect page, until
 * count answers.  A violation the backend sees costs the connection: then
 * reconnect and go on.  Prints the answers by status, the flips and the
 * connections used.
 */
static int attack_flip(struct run *r, const struct bft_attack *a)
{
	static const uint8_t mix[] = { BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_INDIRECT,
				       BLKIF_OP_DISCARD, BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_INDIRECT };
	struct blkfront *bf = r->bf;
	unsigned long answered = 0, ok = 0, errors = 0, eopnotsupp = 0, flips = 0;
	unsigned conns = 0, disconnects = 0;
	uint64_t seed = a->seed;
	int rc = 0;

	while (answered < a->count) {
		const struct blkfront_info *in;
		struct pages data = { 0 }, ind = { 0 };
		struct flipper f;
		struct pvfront_flipper ft;
		struct load l;
		unsigned m = 0;
		int st = XenbusStateConnected;

		if (!bf) {
			rc = blkfront_open(&a->bo, &bf);
			if (rc < 0) {
				fprintf(stderr, "flip: reconnect: %s\n", strerror(-rc));
				break;
			}
		}
		conns++;
		in = blkfront_info(bf);
		r->bf = bf;
		rc = pages_get(r, &data, 4, true, -1);
		if (rc == 0)
			rc = pages_get(r, &ind, 1, true, -1);
		if (rc < 0)
			break;
		f = (struct flipper){ .bf = bf, .nr_slots = in->nr_slots, .ind = ind.addr };
		ft = (struct pvfront_flipper){ .fn = flip_one, .opaque = &f,
					       .seed = pvfront_rnd(&seed) };
		memcpy(f.refs, (uint32_t[]){ data.refs[0], data.refs[1], ind.refs[0], BAD_GREF },
		       sizeof(f.refs));
		fill_segs(ind.addr, data.refs, 4, PAGE / 8, 7);
		rc = pvfront_flipper_start(&ft);
		if (rc < 0)
			break;
		load_init(&l, bf);
		l.nr_queues = 1;
		while (answered + l.answered < a->count && st == XenbusStateConnected) {
			uint8_t op = mix[m++ % sizeof(mix)];

			/* Another template each round: the ring holds a mix. */
			if (op == BLKIF_OP_INDIRECT && in->max_indirect)
				tmpl_indirect(&l, m & 1 ? BLKIF_OP_READ : BLKIF_OP_WRITE,
					      in->max_indirect, ind.refs[0], ind.addr, data.refs, 4, 7);
			else if (op == BLKIF_OP_DISCARD)
				tmpl_discard(&l);
			else
				tmpl_direct(&l, op == BLKIF_OP_INDIRECT ? BLKIF_OP_READ : op,
					    BLKIF_MAX_SEGMENTS_PER_REQUEST, data.refs, 4);
			load_span(&l);
			rc = load_round(&l, 200);
			if (rc < 0)
				break;
			if (m % 16 == 0)
				st = blkfront_backend_state(bf);
		}
		flips += pvfront_flipper_stop(&ft);
		st = blkfront_backend_state(bf);
		/* Whatever the backend still answers on this connection. */
		l.refill = false;
		for (uint64_t end = pvfront_now_ms() + WAIT_MS;
		     st == XenbusStateConnected && blkfront_inflight_total(l.bf) && pvfront_now_ms() < end;)
			if (load_round(&l, 100) < 0)
				break;
		answered += l.answered;
		ok += l.ok;
		errors += l.errors;
		eopnotsupp += l.eopnotsupp;
		if (st != XenbusStateConnected)
			disconnects++;
		/* The pages end with the close, once the backend let go. */
		blkfront_close(bf);
		bf = r->bf = NULL;
		if (rc < 0 && rc != -ETIMEDOUT)
			break;
		rc = 0;
	}
	printf("flip: answered %lu ok %lu errors %lu eopnotsupp %lu flips %lu connections %u "
	       "disconnects %u\n", answered, ok, errors, eopnotsupp, flips, conns, disconnects);
	r->bf = bf;
	return rc;
}

/* ---------------------------------------------------------------- revoke */

/*
 * revoke: count reads, one at a time, alternately of 8 pages (grant-copied)
 * and of 128 (mapped, indirect); right after the kick the data grants are
 * ended.  Either the end succeeds (the backend has not touched them: it
 * must answer with an error, never reach the pages) or it is refused
 * (in use); then it must succeed once the answer is in (a grant the
 * backend kept would be a leak).
 */
static int attack_revoke(struct run *r, const struct bft_attack *a)
{
	struct pages ind = { 0 };
	unsigned long i, early = 0, busy = 0, leaked = 0;
	int rc;

	rc = pages_get(r, &ind, 1, false, -1);
	if (rc < 0)
		return rc;
	for (i = 0; i < a->count && rc == 0; i++) {
		unsigned n = i & 1 && blkfront_info(r->bf)->max_indirect >= 128 ? 128 : 8;
		uint32_t refs[128];
		void *addr;
		bool ended;

		rc = blkfront_share(r->bf, n, true, refs, &addr);
		if (rc < 0)
			break;
		if (n > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			struct blkif_request_indirect q = {
				.operation = BLKIF_OP_INDIRECT, .indirect_op = BLKIF_OP_READ,
				.nr_segments = (uint16_t)n, .sector_number = (i * 8) % 65536,
				.indirect_grefs = { ind.refs[0] },
			};

			for (unsigned k = 0; k < n; k++)
				((struct blkif_request_segment *)ind.addr)[k] =
					(struct blkif_request_segment){ .gref = refs[k], .last_sect = 7 };
			rc = blkfront_submit_raw(r->bf, 0, &q, sizeof(q), i);
		} else {
			struct blkif_request q = { .operation = BLKIF_OP_READ,
						   .nr_segments = (uint8_t)n,
						   .sector_number = (i * 8) % 65536 };

			for (unsigned k = 0; k < n; k++)
				q.seg[k] = (struct blkif_request_segment){ .gref = refs[k],
									    .last_sect = 7 };
			rc = blkfront_submit_raw(r->bf, 0, &q, sizeof(q), i);
		}
		if (rc < 0)
			break;
		blkfront_kick(r->bf, 0);
		ended = blkfront_unshare(r->bf, addr, n) == 0;
		if (ended)
			early++;
		else
			busy++;
		rc = bft_drain(r, WAIT_MS);
		if (rc < 0)
			break;
		if (!ended && blkfront_unshare(r->bf, addr, n) < 0)
			leaked++;
	}
	printf("revoke: requests %lu answered %u ok %u errors %u ended-early %lu in-use %lu "
	       "leaked %lu\n", i, r->done, r->done - r->errors, r->errors, early, busy, leaked);
	pages_end(r, &ind);
	return rc < 0 ? rc : leaked ? -EBUSY : 0;
}

/* ------------------------------------------------------------ the state key */

/* flap: count random states 0..8 (a write each, no waiting); bad-state:
 * count writes of "garbage" and "99" in turn.  The close follows. */
static int attack_state(struct run *r, const struct bft_attack *a, bool flap)
{
	uint64_t seed = a->seed;
	unsigned long i;
	char v[16];
	int rc = 0;

	for (i = 0; i < a->count && rc == 0; i++) {
		if (flap)
			snprintf(v, sizeof(v), "%u", (unsigned)(pvfront_rnd(&seed) % 9));
		else
			snprintf(v, sizeof(v), "%s", i & 1 ? "99" : "garbage");
		rc = blkfront_write_state(r->bf, v);
	}
	printf("%s: %lu writes\n", flap ? "flap" : "bad-state", i);
	return rc;
}

int bft_attack(struct run *r, const struct bft_attack *a, const char *mode)
{
	if (!strcmp(mode, "flood-map") || !strcmp(mode, "ro-read"))
		return attack_load(r, a, mode);
	if (!strcmp(mode, "hold-full"))
		return attack_hold_full(r, a);
	if (!strcmp(mode, "never-consume"))
		return attack_never_consume(r, a);
	if (!strcmp(mode, "flip"))
		return attack_flip(r, a);
	if (!strcmp(mode, "revoke"))
		return attack_revoke(r, a);
	if (!strcmp(mode, "flap") || !strcmp(mode, "bad-state"))
		return attack_state(r, a, mode[0] == 'f');
	fprintf(stderr, "attack: unknown mode %s\n", mode);
	return -EINVAL;
}
