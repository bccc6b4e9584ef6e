// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbfront-tool zero: the cases of Linux's usbtest (drivers/usb/misc/
 * usbtest.c) against a gadget-zero compatible device (0525:a4a0): its
 * source/sink configuration (bulk, and iso/interrupt endpoints when it has
 * them, in any altsetting) and its loopback configuration.  The data
 * pattern is gadget zero's: all zeroes, or mod63 ((i % maxpacket) % 63),
 * found out with one read first.  Each case prints one line,
 * "case N name: ok" or "case N name: FAIL reason".
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "usbfront.h"
#include "usbfront-tool.h"

#define ZC_MAX_SGLEN 16u
#define ZC_BUF       (64u * 1024u + 8192u)

struct zc {
	struct uft *t;
	unsigned port;
	struct usbfront_dev d;
	uint8_t ss_cfg, lb_cfg;        /* configuration values, 0: none */
	const uint8_t *in, *out;       /* source/sink bulk endpoints (alt 0) */
	unsigned iterations, length, sglen, vary;
	int pattern;                   /* 0 zeroes, 1 mod63 */
	char why[160];
	uint8_t *buf[ZC_MAX_SGLEN];    /* page-aligned buffers of ZC_BUF */
};

static unsigned maxp(const uint8_t *ep)
{
	unsigned w = ep[4] | ep[5] << 8;

	return (w & 0x7ff) * (((w >> 11) & 3) + 1);
}

static int fail(struct zc *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct zc *z, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(z->why, sizeof(z->why), fmt, ap);
	va_end(ap);
	return -1;
}

static uint8_t pat(const struct zc *z, unsigned i, unsigned mp)
{
	return z->pattern ? (uint8_t)((i % mp) % 63) : 0;
}

static void fill(const struct zc *z, uint8_t *b, unsigned len, unsigned mp)
{
	for (unsigned i = 0; i < len; i++)
		b[i] = pat(z, i, mp);
}

/* The first byte off the pattern, or -1. */
static long check(const struct zc *z, const uint8_t *b, unsigned len, unsigned mp)
{
	for (unsigned i = 0; i < len; i++)
		if (b[i] != pat(z, i, mp))
			return (long)i;
	return -1;
}

static int xfer(struct zc *z, uint8_t type, const uint8_t *ep, void *b, unsigned len)
{
	return uft_xfer(z->t, &z->d, type, ep[2], b, len, 0);
}

/* After a failure: unlink what is still out and collect it, so no URB
 * completes into a dead stack frame.  Unsubmitted URBs are marked
 * completed beforehand by their callers. */
static void drain(struct zc *z, struct usbfront_urb *u, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!u[i].completed)
			usbfront_unlink(z->t->uf, &u[i]);
	for (i = 0; i < n; i++)
		while (!u[i].completed && usbfront_poll(z->t->uf, z->t->xfer_ms) > 0)
			;
}

static void mark_done(struct usbfront_urb *u, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		u[i].completed = true;
}

static int ctrl(struct zc *z, uint8_t rt, uint8_t req, uint16_t val, uint16_t idx, void *b,
		uint16_t len)
{
	return usbfront_control(z->t->uf, z->port, z->d.addr, rt, req, val, idx, b, len,
				z->t->xfer_ms);
}

/* Configuration value cfg (SET_CONFIGURATION), its bulk endpoints found. */
static int use_config(struct zc *z, uint8_t cfg)
{
	int rc;

	if (z->d.cur_config != cfg) {
		rc = ctrl(z, 0x00, 0x09, cfg, 0, NULL, 0);
		if (rc < 0)
			return rc;
		z->d.cur_config = cfg;
	}
	z->in = usbfront_first_ep(&z->d, cfg, -1, 0, USBFRONT_BULK, true);
	z->out = usbfront_first_ep(&z->d, cfg, -1, 0, USBFRONT_BULK, false);
	return z->in && z->out ? 0 : -ENODEV;
}

/* Which configuration is which: the loopback one says so in its name,
 * else gadget zero's values (2 loopback, 3 source/sink). */
static void find_configs(struct zc *z)
{
	char name[USBFRONT_STR_MAX];
	unsigned c;

	for (c = 0; c < z->d.nr_configs; c++) {
		uint8_t v = z->d.config[c][5];
		bool lb;

		name[0] = 0;
		if (z->d.langid)
			usbfront_get_string(z->t->uf, &z->d, z->d.config[c][6], name, sizeof(name),
					    z->t->xfer_ms);
		lb = name[0] ? strcasestr(name, "loop") != NULL : v == 2;
		if (lb && !z->lb_cfg)
			z->lb_cfg = v;
		else if (!lb && !z->ss_cfg)
			z->ss_cfg = v;
	}
}

/* --------------------------------------------------------- async pools */

struct pool {
	struct zc *z;
	struct usbfront_urb urb[ZC_MAX_SGLEN];
	unsigned todo;          /* submissions left */
	unsigned pending;
	unsigned done, errors;
	bool check_in;
	unsigned mp;
	int first_err;
	long bad_at;
};

static void pool_done(struct usbfront *uf, struct usbfront_urb *u)
{
	struct pool *p = u->opaque;

	p->pending--;
	p->done++;
	if (u->status != 0 || u->actual != u->length) {
		if (!p->errors++)
			p->first_err = u->status ? u->status : -EBADMSG;
	} else if (p->check_in && check(p->z, u->buf, u->actual, p->mp) >= 0) {
		if (!p->errors++)
			p->first_err = -EBADMSG;
	}
	if (p->todo && !u->status) {
		p->todo--;
		if (usbfront_submit(uf, u) == 0)
			p->pending++;
	}
}

/* sglen URBs of len on ep, kept queued for iterations * sglen transfers. */
static int queued(struct zc *z, uint8_t type, const uint8_t *ep, unsigned len)
{
	struct pool p = { .z = z, .check_in = (ep[2] & 0x80) != 0, .mp = maxp(ep) };
	unsigned i;
	int rc;

	p.todo = z->iterations * z->sglen;
	mark_done(p.urb, ZC_MAX_SGLEN);
	for (i = 0; i < z->sglen && p.todo; i++) {
		struct usbfront_urb *u = &p.urb[i];

		*u = (struct usbfront_urb){ .port = (uint8_t)z->port, .devnum = z->d.addr,
			.ep = ep[2] & 0x0f, .type = type, .in = p.check_in, .buf = z->buf[i],
			.length = len, .interval = ep[6], .done = pool_done, .opaque = &p };
		if (!p.check_in)
			fill(z, z->buf[i], len, p.mp);
		p.todo--;
		rc = usbfront_submit(z->t->uf, u);
		if (rc < 0) {
			u->completed = true;
			p.todo = 0;
			drain(z, p.urb, ZC_MAX_SGLEN);
			return fail(z, "submit: %s", uft_err(rc));
		}
		p.pending++;
	}
	while (p.pending) {
		rc = usbfront_poll(z->t->uf, z->t->xfer_ms);
		if (rc <= 0) {
			p.todo = 0;
			drain(z, p.urb, ZC_MAX_SGLEN);
			return fail(z, "%u URB(s) not answered in %d ms (%s)", p.pending,
				    z->t->xfer_ms, uft_err(rc));
		}
	}
	if (p.errors)
		return fail(z, "%u of %u transfers failed, first %s", p.errors, p.done,
			    uft_err(p.first_err));
	return 0;
}

/* ------------------------------------------------------------- cases */

static int c_write(struct zc *z, unsigned len_start, unsigned step, unsigned offset)
{
	unsigned i, len = len_start, mp = maxp(z->out);
	uint8_t *b = z->buf[0] + offset;
	int rc;

	for (i = 0; i < z->iterations; i++) {
		fill(z, b, len, mp);
		rc = xfer(z, USBFRONT_BULK, z->out, b, len);
		if (rc != (int)len)
			return fail(z, "write %u of %u bytes: %s", i, len, rc < 0 ? uft_err(rc) :
				    "short");
		if (step) {
			len += step;
			if (len > z->length)
				len = 1;
		}
	}
	return 0;
}

static int c_read(struct zc *z, const uint8_t *ep, uint8_t type, unsigned len_start,
		  unsigned step, unsigned offset)
{
	unsigned i, len = len_start, mp = maxp(ep);
	uint8_t *b = z->buf[0] + offset;
	long bad;
	int rc;

	for (i = 0; i < z->iterations; i++) {
		memset(b, 0xa5, len);
		rc = xfer(z, type, ep, b, len);
		if (rc < 0)
			return fail(z, "read %u of %u bytes: %s", i, len, uft_err(rc));
		if (type == USBFRONT_BULK && rc != (int)len)
			return fail(z, "read %u: %d of %u bytes", i, rc, len);
		bad = check(z, b, (unsigned)rc, mp);
		if (bad >= 0)
			return fail(z, "read %u: byte %ld is 0x%02x, not 0x%02x", i, bad, b[bad],
				    pat(z, (unsigned)bad, mp));
		if (step) {
			len += step;
			if (len > z->length)
				len = step;
		}
	}
	return 0;
}

static int c_ch9(struct zc *z)
{
	uint8_t b[512];
	int rc;

	rc = ctrl(z, 0x80, 0x00, 0, 0, b, 2);
	if (rc != 2)
		return fail(z, "GET_STATUS(device): %s", rc < 0 ? uft_err(rc) : "short");
	rc = ctrl(z, 0x80, 0x08, 0, 0, b, 1);
	if (rc != 1 || b[0] != z->d.cur_config)
		return fail(z, "GET_CONFIGURATION: %s %u, expected %u", rc < 0 ? uft_err(rc) : "",
			    b[0], z->d.cur_config);
	rc = ctrl(z, 0x81, 0x0a, 0, 0, b, 1);
	if (rc != -EPIPE && (rc != 1 || b[0] != 0))
		return fail(z, "GET_INTERFACE(0): %s, alt %u", uft_err(rc < 0 ? rc : 0), b[0]);
	rc = ctrl(z, 0x81, 0x00, 0, 0, b, 2);
	if (rc != 2)
		return fail(z, "GET_STATUS(interface 0): %s", rc < 0 ? uft_err(rc) : "short");
	rc = ctrl(z, 0x82, 0x00, 0, z->in[2], b, 2);
	if (rc != 2 || b[0] || b[1])
		return fail(z, "GET_STATUS(ep 0x%02x): %s %02x%02x", z->in[2],
			    rc < 0 ? uft_err(rc) : "", b[1], b[0]);
	rc = ctrl(z, 0x80, 0x06, 0x0100, 0, b, 18);
	if (rc != 18 || memcmp(b, z->d.desc, 18))
		return fail(z, "device descriptor differs from enumeration's");
	rc = ctrl(z, 0x80, 0x06, 0x0200, 0, b, sizeof(b));
	if (rc != (int)z->d.config_len[0] || memcmp(b, z->d.config[0], (size_t)rc))
		return fail(z, "configuration 0 differs from enumeration's (%d bytes)", rc);
	rc = ctrl(z, 0x82, 0x00, 0, 0x0f | 0x80, b, 2);
	if (rc != -EPIPE)
		return fail(z, "GET_STATUS(absent ep 0x8f): %s, expected a stall", uft_err(rc));
	return 0;
}

/* usbtest's test 10 subcases: setup, length, and what may come back. */
struct subcase {
	uint8_t rt, req;
	uint16_t val, idx, len;
	int must;        /* a status it must return (0 or -EPIPE) */
	bool may_stall;  /* a stall is fine too */
	int actual;      /* the exact length expected, -1: any */
};

struct cq {
	struct zc *z;
	struct subcase sc[ZC_MAX_SGLEN];
	struct usbfront_urb urb[ZC_MAX_SGLEN];
	unsigned todo, pending, done;
	int last;
	char err[160];
};

static void cq_done(struct usbfront *uf, struct usbfront_urb *u)
{
	struct cq *q = u->opaque;
	unsigned n = (unsigned)(u - q->urb);
	const struct subcase *s = &q->sc[n];
	bool ok;

	q->pending--;
	q->done++;
	if (n > 0 && (int)n - q->last != 1 && !q->err[0])
		snprintf(q->err, sizeof(q->err), "subcase %u completed out of order, last %d", n,
			 q->last);
	q->last = (int)n;
	ok = u->status == s->must || (s->may_stall && u->status == -EPIPE);
	if (ok && u->status == 0 && s->actual >= 0 && (int)u->actual != s->actual)
		ok = false;
	if (!ok && !q->err[0])
		snprintf(q->err, sizeof(q->err),
			 "subcase %u (%02x.%02x len %u): %s actual %u, expected %s%s actual %d", n,
			 s->rt, s->req, s->len, uft_err(u->status), u->actual, uft_err(s->must),
			 s->may_stall ? " or EPIPE" : "", s->actual);
	if (q->todo && !q->err[0]) {
		q->todo--;
		if (usbfront_submit(uf, u) == 0)
			q->pending++;
	}
}

static int c_ctrl_queue(struct zc *z)
{
	static uint8_t bufs[ZC_MAX_SGLEN][1024];
	const uint8_t *dd = z->d.desc;
	unsigned total = z->d.config_len[0], mp0 = dd[7], i;
	struct cq *q = calloc(1, sizeof(*q));
	int rc = 0;

	if (!q)
		return fail(z, "no memory");
	q->z = z;
	q->last = -1;
	for (i = 0; i < z->sglen; i++) {
		struct subcase *s = &q->sc[i];

		*s = (struct subcase){ .rt = 0x80, .req = 0x06, .actual = -1 };
		switch (i % 16) {
		case 0: s->val = 0x0100; s->len = 18; s->actual = 18; break;
		case 1: s->val = 0x0200; s->len = 9; s->actual = 9; break;
		case 2: s->rt = 0x81; s->req = 0x0a; s->len = 1; s->may_stall = true; break;
		case 3: s->rt = 0x81; s->req = 0x00; s->len = 2; s->actual = 2; break;
		case 4: s->req = 0x00; s->len = 2; s->actual = 2; break;
		case 5: /* device qualifier: a high-speed device only */
			s->val = 0x0600; s->len = 10;
			if (z->d.speed != 3)
				s->must = -EPIPE;
			break;
		case 6: s->val = 0x0200; s->len = 18; s->actual = 18; break;
		case 7: s->val = 0x0400; s->len = 9; s->must = -EPIPE; break;
		case 8: s->rt = 0x02; s->req = 0x01; s->len = 0; s->may_stall = true; break;
		case 9: s->rt = 0x82; s->req = 0x00; s->len = 2; s->actual = 2; break;
		/* Short reads: without SHORT_NOT_OK they complete with the
		 * descriptor's own length (usbif has no -EREMOTEIO). */
		case 10: s->val = 0x0200; s->len = 1024; s->actual = total < 1024 ? (int)total : 1024;
			break;
		case 11: s->val = 0x0500; s->len = 9; s->may_stall = true; break;
		case 12: s->val = 0x0300; s->len = 9; s->may_stall = true; break;
		case 13: s->val = 0x0200; s->len = (uint16_t)(1024 - mp0);
			s->actual = total < s->len ? (int)total : s->len; break;
		case 14: s->val = 0x0100; s->len = (uint16_t)(mp0 == 8 ? 24 : mp0 == 16 ? 32 : mp0);
			s->actual = 18; break;
		case 15: s->val = 0x0f00; s->len = 5;
			if ((dd[2] | dd[3] << 8) < 0x0201)
				s->must = -EPIPE;
			break;
		}
		q->urb[i] = (struct usbfront_urb){ .port = (uint8_t)z->port, .devnum = z->d.addr,
			.type = USBFRONT_CTRL, .in = (s->rt & 0x80) != 0, .buf = bufs[i],
			.length = s->len, .done = cq_done, .opaque = q };
		q->urb[i].setup[0] = s->rt;
		q->urb[i].setup[1] = s->req;
		q->urb[i].setup[2] = (uint8_t)s->val;
		q->urb[i].setup[3] = (uint8_t)(s->val >> 8);
		q->urb[i].setup[4] = (uint8_t)s->idx;
		q->urb[i].setup[6] = (uint8_t)s->len;
		q->urb[i].setup[7] = (uint8_t)(s->len >> 8);
	}
	q->todo = z->iterations * z->sglen;
	mark_done(q->urb, ZC_MAX_SGLEN);
	for (i = 0; i < z->sglen; i++) {
		q->todo--;
		q->urb[i].completed = false;
		rc = usbfront_submit(z->t->uf, &q->urb[i]);
		if (rc < 0) {
			q->urb[i].completed = true;
			fail(z, "submit: %s", uft_err(rc));
			break;
		}
		q->pending++;
	}
	while (q->pending && rc >= 0) {
		rc = usbfront_poll(z->t->uf, z->t->xfer_ms);
		if (rc == 0) {
			rc = fail(z, "%u request(s) not answered", q->pending);
			break;
		}
		if (rc < 0)
			fail(z, "poll: %s", uft_err(rc));
	}
	if (rc >= 0 && q->err[0])
		rc = fail(z, "%s", q->err);
	q->todo = 0;
	drain(z, q->urb, ZC_MAX_SGLEN);
	free(q);
	return rc < 0 ? -1 : 0;
}

/* Unlink every other URB of each batch as soon as it is on the ring: the
 * unlinked ones complete -ECONNRESET, answered by the backend; the others
 * complete normally; nothing is answered twice (the frontend breaks then). */
static int c_unlink_check(struct zc *z, struct usbfront_urb *u, unsigned n, unsigned len);

static int c_unlink(struct zc *z, const uint8_t *ep, unsigned len)
{
	struct usbfront_urb u[ZC_MAX_SGLEN];
	bool in = (ep[2] & 0x80) != 0;
	unsigned it, i, n = z->sglen < 2 ? 2 : z->sglen;
	int rc;

	if (n > ZC_MAX_SGLEN)
		n = ZC_MAX_SGLEN;
	for (it = 0; it < z->iterations; it++) {
		mark_done(u, n);
		rc = 0;
		for (i = 0; i < n && rc == 0; i++) {
			u[i] = (struct usbfront_urb){ .port = (uint8_t)z->port, .devnum = z->d.addr,
				.ep = ep[2] & 0x0f, .type = USBFRONT_BULK, .in = in, .buf = z->buf[i],
				.length = len };
			if (!in)
				fill(z, z->buf[i], len, maxp(ep));
			rc = usbfront_submit(z->t->uf, &u[i]);
			if (rc < 0) {
				u[i].completed = true;
				fail(z, "submit: %s", uft_err(rc));
			} else if ((i & 1) && (rc = usbfront_unlink(z->t->uf, &u[i])) < 0) {
				fail(z, "unlink: %s", uft_err(rc));
			}
		}
		rc = rc ? -1 : c_unlink_check(z, u, n, len);
		drain(z, u, n);
		if (rc < 0)
			return -1;
	}
	/* The endpoint still works, and its data is intact. */
	if (in)
		return c_read(z, ep, USBFRONT_BULK, len, 0, 0);
	return c_write(z, len, 0, 0);
}

static int c_unlink_check(struct zc *z, struct usbfront_urb *u, unsigned n, unsigned len)
{
	unsigned i;
	int rc;

	{
		for (i = 0; i < n; i++) {
			while (!u[i].completed) {
				rc = usbfront_poll(z->t->uf, z->t->xfer_ms);
				if (rc < 0)
					return fail(z, "poll: %s", uft_err(rc));
				if (rc == 0)
					return fail(z, "URB %u not answered", i);
			}
			if (!u[i].answered)
				return fail(z, "URB %u completed without a response", i);
			if ((i & 1) && u[i].status != -ECONNRESET)
				return fail(z, "unlinked URB %u: %s", i, uft_err(u[i].status));
			if (!(i & 1) && (u[i].status || u[i].actual != len))
				return fail(z, "URB %u: %s actual %u", i, uft_err(u[i].status),
					    u[i].actual);
		}
	}
	return 0;
}

/* usbtest's test 24: num URBs queued, num-4 and num-2 unlinked. */
static int c_unlink_queued(struct zc *z)
{
	struct usbfront_urb u[ZC_MAX_SGLEN];
	unsigned n = z->sglen < 4 ? 4 : z->sglen, i;
	int rc;

	mark_done(u, ZC_MAX_SGLEN);
	for (i = 0; i < n; i++) {
		u[i] = (struct usbfront_urb){ .port = (uint8_t)z->port, .devnum = z->d.addr,
			.ep = z->out[2] & 0x0f, .type = USBFRONT_BULK, .buf = z->buf[i],
			.length = z->length };
		fill(z, z->buf[i], z->length, maxp(z->out));
		rc = usbfront_submit(z->t->uf, &u[i]);
		if (rc < 0) {
			u[i].completed = true;
			drain(z, u, n);
			return fail(z, "submit: %s", uft_err(rc));
		}
	}
	usbfront_unlink(z->t->uf, &u[n - 4]);
	usbfront_unlink(z->t->uf, &u[n - 2]);
	for (i = 0; i < n; i++) {
		while (!u[i].completed) {
			rc = usbfront_poll(z->t->uf, z->t->xfer_ms);
			if (rc <= 0) {
				drain(z, u, n);
				return fail(z, "URB %u: %s", i, rc ? uft_err(rc) : "no answer");
			}
		}
		if ((i == n - 4 || i == n - 2) ? u[i].status != -ECONNRESET : u[i].status != 0) {
			drain(z, u, n);
			return fail(z, "%sURB %u: %s", i == n - 4 || i == n - 2 ? "unlinked " : "", i,
				    uft_err(u[i].status));
		}
	}
	return 0;
}

static int halt_status(struct zc *z, uint8_t ep, unsigned want)
{
	uint8_t b[2] = { 0xff, 0xff };
	int rc = ctrl(z, 0x82, 0x00, 0, ep, b, 2);

	if (rc != 2)
		return fail(z, "GET_STATUS(ep 0x%02x): %s", ep, rc < 0 ? uft_err(rc) : "short");
	if ((unsigned)(b[0] | b[1] << 8) != want)
		return fail(z, "ep 0x%02x status %04x, expected %04x", ep, b[0] | b[1] << 8, want);
	return 0;
}

static int halt_io(struct zc *z, const uint8_t *ep, int want)
{
	unsigned len = maxp(ep);
	int rc;

	if (!(ep[2] & 0x80))
		fill(z, z->buf[0], len, len);
	rc = xfer(z, USBFRONT_BULK, ep, z->buf[0], len);
	if ((want == 0 && rc != (int)len) || (want < 0 && rc != want))
		return fail(z, "ep 0x%02x: I/O %s, expected %s", ep[2], uft_err(rc < 0 ? rc : 0),
			    uft_err(want));
	return 0;
}

/* usbtest's test 13 on each bulk endpoint. */
static int c_halt(struct zc *z)
{
	const uint8_t *eps[2] = { z->in, z->out };
	int rc;

	for (unsigned i = 0; i < 2; i++) {
		uint8_t a = eps[i][2];

		if (halt_status(z, a, 0) < 0 || halt_io(z, eps[i], 0) < 0)
			return -1;
		rc = ctrl(z, 0x02, 0x03, 0, a, NULL, 0);
		if (rc < 0)
			return fail(z, "SET_FEATURE(halt, 0x%02x): %s", a, uft_err(rc));
		if (halt_status(z, a, 1) < 0 || halt_io(z, eps[i], -EPIPE) < 0 ||
		    halt_io(z, eps[i], -EPIPE) < 0) {
			ctrl(z, 0x02, 0x01, 0, a, NULL, 0);
			return -1;
		}
		rc = ctrl(z, 0x02, 0x01, 0, a, NULL, 0);
		if (rc < 0)
			return fail(z, "CLEAR_FEATURE(halt, 0x%02x): %s", a, uft_err(rc));
		if (halt_status(z, a, 0) < 0 || halt_io(z, eps[i], 0) < 0)
			return -1;
	}
	return 0;
}

/* usbtest's test 14: vendor write 0x5b, read back 0x5c, compare. */
static int c_ctrl_out(struct zc *z)
{
	unsigned i, j, max = z->length < 1024 ? z->length : 1024, len = max;
	uint8_t *b = z->buf[0];
	int rc;

	for (i = 0; i < z->iterations; i++) {
		for (j = 0; j < len; j++)
			b[j] = (uint8_t)(i + j);
		rc = ctrl(z, 0x40, 0x5b, 0, 0, b, (uint16_t)len);
		if (rc != (int)len)
			return fail(z, "write %u bytes: %s", len, rc < 0 ? uft_err(rc) : "short");
		memset(b, 0, len);
		rc = ctrl(z, 0xc0, 0x5c, 0, 0, b, (uint16_t)len);
		if (rc != (int)len)
			return fail(z, "read %u bytes: %s", len, rc < 0 ? uft_err(rc) : "short");
		for (j = 0; j < len; j++)
			if (b[j] != (uint8_t)(i + j))
				return fail(z, "byte %u of %u is %u, not %u", j, len, b[j],
					    (uint8_t)(i + j));
		len = len + (z->vary ? z->vary : 1) > max ? 1 : len + (z->vary ? z->vary : 1);
	}
	return 0;
}

/* An endpoint of type and direction in the source/sink configuration, any
 * altsetting: selected with SET_INTERFACE when not alt 0. */
static const uint8_t *alt_ep(struct zc *z, uint8_t type, bool in, int *ifnum, int *alt)
{
	for (int a = 0; a < 4; a++) {
		const uint8_t *ep = usbfront_first_ep(&z->d, z->ss_cfg, -1, a, type, in);

		if (ep) {
			*ifnum = 0;
			*alt = a;
			return ep;
		}
	}
	return NULL;
}

static int c_iso(struct zc *z, bool in)
{
	struct usbfront_urb u[ZC_MAX_SGLEN];
	static struct usbfront_iso_desc desc[ZC_MAX_SGLEN][256];
	int ifnum, alt, rc = 0;
	const uint8_t *ep = alt_ep(z, USBFRONT_ISO, in, &ifnum, &alt);
	unsigned mp, npk, i, k, it, n = z->sglen, ns;

	if (!ep)
		return fail(z, "no iso %s endpoint", in ? "IN" : "OUT");
	mp = maxp(ep);
	npk = (z->length + mp - 1) / mp;
	if (npk > 256 || !npk)
		return fail(z, "length %u: %u packets", z->length, npk);
	if (alt && (rc = ctrl(z, 0x01, 0x0b, (uint16_t)alt, (uint16_t)ifnum, NULL, 0)) < 0)
		return fail(z, "SET_INTERFACE(%d, %d): %s", ifnum, alt, uft_err(rc));
	for (it = 0; it < z->iterations && rc >= 0; it++) {
		for (i = ns = 0; i < n; i++) {
			u[i] = (struct usbfront_urb){ .port = (uint8_t)z->port, .devnum = z->d.addr,
				.ep = ep[2] & 0x0f, .type = USBFRONT_ISO, .in = in, .buf = z->buf[i],
				.length = z->length, .iso = desc[i], .nr_packets = (uint16_t)npk,
				.interval = (uint16_t)(1u << (ep[6] ? ep[6] - 1 : 0)) };
			for (k = 0; k < npk; k++) {
				desc[i][k] = (struct usbfront_iso_desc){ .offset = k * mp,
					.length = k + 1 < npk ? mp : z->length - k * mp,
					.actual_length = 0xdead, .status = -999 };
				if (!in)
					fill(z, z->buf[i] + k * mp, desc[i][k].length, mp);
			}
			if (in)
				memset(z->buf[i], 0xa5, z->length);
			rc = usbfront_submit(z->t->uf, &u[i]);
			if (rc < 0) {
				fail(z, "submit: %s", uft_err(rc));
				break;
			}
			ns++;
		}
		for (i = 0; i < ns && rc >= 0; i++) {
			while (!u[i].completed && rc >= 0) {
				rc = usbfront_poll(z->t->uf, z->t->xfer_ms);
				if (rc <= 0)
					rc = fail(z, "URB %u: %s", i, rc ? uft_err(rc) : "no answer");
			}
			if (rc < 0)
				break;
			if (u[i].status || u[i].error_count || u[i].actual != z->length) {
				rc = fail(z, "URB %u: %s, %u errors, actual %u of %u", i,
					  uft_err(u[i].status), u[i].error_count, u[i].actual,
					  z->length);
				break;
			}
			for (k = 0; k < npk; k++) {
				struct usbfront_iso_desc *p = &desc[i][k];
				long bad;

				if (p->status || p->actual_length != p->length) {
					rc = fail(z, "URB %u packet %u: status %d actual %u of %u", i,
						  k, p->status, p->actual_length, p->length);
					break;
				}
				bad = in ? check(z, z->buf[i] + p->offset, p->actual_length, mp) : -1;
				if (bad >= 0) {
					rc = fail(z, "URB %u packet %u: byte %ld off the pattern", i,
						  k, bad);
					break;
				}
			}
		}
		/* Whatever failed, collect the rest before the buffers go. */
		for (i = 0; i < ns; i++)
			while (!u[i].completed &&
			       usbfront_poll(z->t->uf, z->t->xfer_ms) > 0)
				;
	}
	if (alt)
		ctrl(z, 0x01, 0x0b, 0, (uint16_t)ifnum, NULL, 0);
	return rc < 0 ? -1 : 0;
}

static int c_int(struct zc *z, bool in)
{
	int ifnum, alt, rc;
	const uint8_t *ep = alt_ep(z, USBFRONT_INT, in, &ifnum, &alt);
	unsigned len;

	if (!ep)
		return fail(z, "no interrupt %s endpoint", in ? "IN" : "OUT");
	if (alt && (rc = ctrl(z, 0x01, 0x0b, (uint16_t)alt, (uint16_t)ifnum, NULL, 0)) < 0)
		return fail(z, "SET_INTERFACE(%d, %d): %s", ifnum, alt, uft_err(rc));
	len = maxp(ep);
	if (in) {
		rc = c_read(z, ep, USBFRONT_INT, len, 0, 0);
	} else {
		rc = 0;
		for (unsigned i = 0; i < z->iterations && rc == 0; i++) {
			int r;

			fill(z, z->buf[0], len, len);
			r = xfer(z, USBFRONT_INT, ep, z->buf[0], len);
			if (r != (int)len)
				rc = fail(z, "write %u: %s", i, r < 0 ? uft_err(r) : "short");
		}
	}
	if (alt)
		ctrl(z, 0x01, 0x0b, 0, (uint16_t)ifnum, NULL, 0);
	return rc;
}

/* Round trips through the loopback configuration, data verified. */
static int c_loopback(struct zc *z)
{
	unsigned i, j, len = z->length;
	uint32_t x = 0x9e3779b9u;
	int rc;

	if (!z->lb_cfg)
		return fail(z, "no loopback configuration");
	rc = use_config(z, z->lb_cfg);
	if (rc < 0)
		return fail(z, "loopback configuration %u: %s", z->lb_cfg, uft_err(rc));
	for (i = 0; i < z->iterations; i++) {
		for (j = 0; j < len; j++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			z->buf[0][j] = (uint8_t)x;
		}
		rc = xfer(z, USBFRONT_BULK, z->out, z->buf[0], len);
		if (rc != (int)len)
			return fail(z, "write %u: %s", i, rc < 0 ? uft_err(rc) : "short");
		memset(z->buf[1], 0, len);
		rc = xfer(z, USBFRONT_BULK, z->in, z->buf[1], len);
		if (rc != (int)len)
			return fail(z, "read %u: %s (%d of %u)", i, rc < 0 ? uft_err(rc) : "short",
				    rc, len);
		if (memcmp(z->buf[0], z->buf[1], len))
			return fail(z, "round trip %u: data differs", i);
	}
	return 0;
}

/* A bulk IN the loopback device cannot answer (nothing written) is held
 * by the backend until unlinked; then a round trip still verifies. */
static int c_unlink_pending(struct zc *z)
{
	struct usbfront_urb u;
	int rc;

	if (!z->lb_cfg)
		return fail(z, "no loopback configuration");
	rc = use_config(z, z->lb_cfg);
	if (rc < 0)
		return fail(z, "loopback configuration: %s", uft_err(rc));
	u = (struct usbfront_urb){ .port = (uint8_t)z->port, .devnum = z->d.addr,
		.ep = z->in[2] & 0x0f, .type = USBFRONT_BULK, .in = true, .buf = z->buf[0],
		.length = 512 };
	rc = usbfront_submit(z->t->uf, &u);
	if (rc < 0)
		return fail(z, "submit: %s", uft_err(rc));
	/* It must stay pending: no answer within 200 ms. */
	rc = usbfront_poll(z->t->uf, 200);
	if (u.completed)
		return fail(z, "answered with nothing to read: %s", uft_err(u.status));
	rc = usbfront_unlink(z->t->uf, &u);
	if (rc < 0)
		return fail(z, "unlink: %s", uft_err(rc));
	while (!u.completed) {
		rc = usbfront_poll(z->t->uf, z->t->xfer_ms);
		if (rc <= 0)
			return fail(z, "unlinked URB: %s", rc ? uft_err(rc) : "not answered");
	}
	if (u.status != -ECONNRESET || !u.answered || u.actual)
		return fail(z, "unlinked URB: %s answered %d actual %u", uft_err(u.status),
			    u.answered, u.actual);
	z->iterations = 1;
	return c_loopback(z);
}

static const struct {
	unsigned n;
	const char *name;
} cases[] = {
	{ 1, "bulk-write" }, { 2, "bulk-read" }, { 3, "bulk-write-vary" },
	{ 4, "bulk-read-vary" }, { 5, "bulk-write-queued" }, { 6, "bulk-read-queued" },
	{ 9, "ch9" }, { 10, "ctrl-queue" }, { 11, "unlink-read" }, { 12, "unlink-write" },
	{ 13, "halt" }, { 14, "ctrl-out" }, { 15, "iso-write" }, { 16, "iso-read" },
	{ 17, "bulk-write-unaligned" }, { 18, "bulk-read-unaligned" }, { 24, "unlink-queued" },
	{ 25, "int-write" }, { 26, "int-read" }, { 30, "loopback" }, { 31, "unlink-pending" },
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

/* Does the device have what case n needs (for the default list)? */
static bool applicable(struct zc *z, unsigned n)
{
	int i, a;

	switch (n) {
	case 15: case 16: return alt_ep(z, USBFRONT_ISO, n == 16, &i, &a) != NULL;
	case 25: case 26: return alt_ep(z, USBFRONT_INT, n == 26, &i, &a) != NULL;
	case 30: case 31: return z->lb_cfg != 0;
	default: return true;
	}
}

static int run_case(struct zc *z, unsigned n)
{
	unsigned step;

	/* Every case starts from the source/sink configuration. */
	if (use_config(z, z->ss_cfg) < 0)
		return fail(z, "source/sink configuration %u unusable", z->ss_cfg);
	step = z->vary ? z->vary : maxp(z->in);
	switch (n) {
	case 1: return c_write(z, z->length, 0, 0);
	case 2: return c_read(z, z->in, USBFRONT_BULK, z->length, 0, 0);
	case 3: return c_write(z, 1, z->vary ? z->vary : 97, 0);
	case 4: return c_read(z, z->in, USBFRONT_BULK, step - step % maxp(z->in) ?: maxp(z->in),
			      step - step % maxp(z->in) ?: maxp(z->in), 0);
	case 5: return queued(z, USBFRONT_BULK, z->out, z->length);
	case 6: return queued(z, USBFRONT_BULK, z->in, z->length);
	case 9: return c_ch9(z);
	case 10: return c_ctrl_queue(z);
	case 11: return c_unlink(z, z->in, z->length);
	case 12: return c_unlink(z, z->out, z->length);
	case 13: return c_halt(z);
	case 14: return c_ctrl_out(z);
	case 15: return c_iso(z, false);
	case 16: return c_iso(z, true);
	/* A buffer 96 bytes before a page end: its segments cross pages. */
	case 17: return c_write(z, z->length, 0, 4000);
	case 18: return c_read(z, z->in, USBFRONT_BULK, z->length, 0, 4000);
	case 24: return c_unlink_queued(z);
	case 25: return c_int(z, false);
	case 26: return c_int(z, true);
	case 30: return c_loopback(z);
	case 31: return c_unlink_pending(z);
	}
	return fail(z, "no such case");
}

int uft_zero(struct uft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "length", required_argument, NULL, 'l' },
		{ "sglen", required_argument, NULL, 's' },
		{ "vary", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct zc *z = calloc(1, sizeof(*z));
	unsigned want[64], nwant = 0, i, k, failed = 0;
	unsigned long v;
	char *list = NULL, *tok, *save;
	int c, rc = 0;

	if (!z)
		return -ENOMEM;
	z->t = t;
	z->iterations = 10;
	z->length = 4096;
	z->sglen = 8;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': list = optarg; break;
		case 'i': if (uft_uint(optarg, 1000000, &v) < 0 || !v) goto usage;
			z->iterations = (unsigned)v; break;
		case 'l': if (uft_uint(optarg, 65535 - 4096, &v) < 0 || !v) goto usage;
			z->length = (unsigned)v; break;
		case 's': if (uft_uint(optarg, ZC_MAX_SGLEN, &v) < 0 || !v) goto usage;
			z->sglen = (unsigned)v; break;
		case 'v': if (uft_uint(optarg, 65535, &v) < 0) goto usage;
			z->vary = (unsigned)v; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || uft_port(t, argv[optind], &z->port) < 0)
		goto usage;
	for (tok = list ? strtok_r(list, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		if (uft_uint(tok, 1000, &v) < 0 || nwant == 64)
			goto usage;
		for (k = 0; k < NR_CASES && cases[k].n != v; k++)
			;
		if (k == NR_CASES) {
			fprintf(stderr, "usbfront-tool: zero: no case %lu\n", v);
			goto usage;
		}
		want[nwant++] = (unsigned)v;
	}
	for (i = 0; i < ZC_MAX_SGLEN; i++) {
		if (posix_memalign((void **)&z->buf[i], 4096, ZC_BUF)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = uft_open_dev(t, z->port, 0, &z->d);
	if (rc < 0)
		goto out;
	find_configs(z);
	if (!z->ss_cfg || use_config(z, z->ss_cfg) < 0) {
		fprintf(stderr, "usbfront-tool: zero: no source/sink configuration with bulk "
			"endpoints on port %u\n", z->port);
		rc = -ENODEV;
		goto out;
	}
	/* Gadget zero's pattern: its first read says which. */
	z->pattern = 1;
	rc = xfer(z, USBFRONT_BULK, z->in, z->buf[0], maxp(z->in));
	if (rc > 0)
		z->pattern = check(z, z->buf[0], (unsigned)rc, maxp(z->in)) >= 0 ? 0 : 1;
	if (rc < 0) {
		fprintf(stderr, "usbfront-tool: zero: first read: %s\n", uft_err(rc));
		goto out;
	}
	printf("zero: port %u addr %u source/sink config %u loopback config %u pattern %s\n",
	       z->port, z->d.addr, z->ss_cfg, z->lb_cfg, z->pattern ? "mod63" : "zeroes");
	if (!nwant)
		for (k = 0; k < NR_CASES; k++)
			if (applicable(z, cases[k].n))
				want[nwant++] = cases[k].n;
	rc = 0;
	for (i = 0; i < nwant; i++) {
		unsigned it = z->iterations;

		for (k = 0; cases[k].n != want[i]; k++)
			;
		z->why[0] = 0;
		if (run_case(z, want[i]) < 0) {
			printf("case %u %s: FAIL %s\n", want[i], cases[k].name, z->why);
			failed++;
		} else {
			printf("case %u %s: ok\n", want[i], cases[k].name);
		}
		fflush(stdout);
		z->iterations = it;
		if (usbfront_broken(t->uf))
			break;
	}
	rc = failed ? -EIO : 0;
out:
	usbfront_dev_free(&z->d);
	for (i = 0; i < ZC_MAX_SGLEN; i++)
		free(z->buf[i]);
	free(z);
	return rc;
usage:
	free(z);
	return -EINVAL;
}
