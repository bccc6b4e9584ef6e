// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * usbfront-tool storage and bench: a USB mass-storage device (bulk-only
 * transport, SCSI transparent command set) from the host side: CBW, data
 * phase, CSW; INQUIRY, TEST UNIT READY, READ CAPACITY(10), READ(10),
 * WRITE(10), SYNCHRONIZE CACHE(10), REQUEST SENSE after a failed command.
 * Data is a seeded pattern of the absolute byte offset, so any range can
 * be verified on its own; checksums are FNV-1a 64 of the bytes in order
 * (what tests compute over the image file).  bench: one large READ(10) or
 * WRITE(10) at a time with its data phase as qd URBs in flight, or control
 * round trips for latency; one JSON line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvcommon.h"
#include "usbfront.h"
#include "usbfront-tool.h"

#define BOT_CBW_SIG 0x43425355u
#define BOT_CSW_SIG 0x53425355u
#define ST_CHUNK    (128u * 1024u)  /* data of one READ/WRITE command */
/* data of one bulk URB: usb-storage's largest, 128 sectors (buffer_length 0) */
#define ST_URB      (64u * 1024u)
#define ST_MAX_QD   64u

struct st {
	struct uft *t;
	struct usbfront_dev d;
	unsigned port;
	uint8_t ifnum;
	const uint8_t *in, *out;
	uint32_t tag;
	uint64_t blocks;
	uint32_t bsize;
	char vendor[9], product[17];
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Clear a halted bulk endpoint (after a stalled data phase). */
static void clear_halt(struct st *s, const uint8_t *ep)
{
	usbfront_control(s->t->uf, s->port, s->d.addr, 0x02, 0x01, 0, ep[2], NULL, 0,
			 s->t->xfer_ms);
}

static void urb_init(struct st *s, struct usbfront_urb *u, const uint8_t *ep, void *buf,
		     uint32_t len)
{
	*u = (struct usbfront_urb){ .port = (uint8_t)s->port, .devnum = s->d.addr,
		.ep = ep[2] & 0x0f, .type = USBFRONT_BULK, .in = (ep[2] & 0x80) != 0, .buf = buf,
		.length = len };
}

/*
 * One BOT command: CBW, the data phase as URBs of urb_len (qd of them in
 * flight), CSW.  Returns the CSW status (0 passed, 1 failed, 2 phase
 * error) or a negative errno of the transport.
 */
static int bot(struct st *s, const uint8_t *cb, unsigned cblen, bool in, uint8_t *buf,
	       uint32_t len, uint32_t urb_len, unsigned qd)
{
	static struct usbfront_urb urbs[ST_MAX_QD];
	uint8_t cbw[31] = { 0 }, csw[13];
	uint32_t off = 0, next = 0;
	unsigned i, pending = 0;
	int rc, err = 0;

	put_le32(cbw, BOT_CBW_SIG);
	put_le32(cbw + 4, ++s->tag);
	put_le32(cbw + 8, len);
	cbw[12] = in ? 0x80 : 0;
	cbw[14] = (uint8_t)cblen;
	memcpy(cbw + 15, cb, cblen);
	rc = uft_xfer(s->t, &s->d, USBFRONT_BULK, s->out[2], cbw, 31, 0);
	if (rc != 31)
		return rc < 0 ? rc : -EPROTO;
	if (qd > ST_MAX_QD)
		qd = ST_MAX_QD;
	/* The data phase: keep qd URBs queued until len is covered. */
	while ((off < len || pending) && !err) {
		for (i = 0; i < qd && next < len; i++) {
			struct usbfront_urb *u = &urbs[i];

			if (u->buf)
				continue; /* in flight, or harvested below */
			urb_init(s, u, in ? s->in : s->out, buf + next,
				 len - next < urb_len ? len - next : urb_len);
			rc = usbfront_submit(s->t->uf, u);
			if (rc < 0) {
				err = rc;
				break;
			}
			next += u->length;
			pending++;
		}
		if (err)
			break;
		rc = usbfront_poll(s->t->uf, s->t->xfer_ms);
		if (rc < 0) {
			err = rc;
			break;
		}
		if (rc == 0) {
			err = -ETIMEDOUT;
			break;
		}
		for (i = 0; i < qd; i++) {
			struct usbfront_urb *u = &urbs[i];

			if (!u->buf || !u->completed)
				continue;
			pending--;
			if (u->status && !err)
				err = u->status;
			else if (u->actual != u->length && !err)
				err = -EREMOTEIO; /* a short data phase: the CSW tells */
			off += u->actual;
			u->buf = NULL;
		}
	}
	/* Unlink whatever is left after an error, collect it. */
	for (i = 0; i < qd; i++) {
		if (urbs[i].buf && !urbs[i].completed)
			usbfront_unlink(s->t->uf, &urbs[i]);
		while (urbs[i].buf && !urbs[i].completed &&
		       usbfront_poll(s->t->uf, s->t->xfer_ms) > 0)
			;
		urbs[i].buf = NULL;
	}
	if (err == -EPIPE)
		clear_halt(s, in ? s->in : s->out);
	else if (err && err != -EREMOTEIO)
		return err;
	rc = uft_xfer(s->t, &s->d, USBFRONT_BULK, s->in[2], csw, 13, 0);
	if (rc == -EPIPE) {
		clear_halt(s, s->in);
		rc = uft_xfer(s->t, &s->d, USBFRONT_BULK, s->in[2], csw, 13, 0);
	}
	if (rc != 13)
		return rc < 0 ? rc : -EPROTO;
	if (get_le32(csw) != BOT_CSW_SIG || get_le32(csw + 4) != s->tag)
		return -EPROTO;
	return csw[12];
}

static int scsi(struct st *s, const uint8_t *cb, unsigned cblen, bool in, uint8_t *buf,
		uint32_t len)
{
	uint8_t sense[18], rs[6] = { 0x03, 0, 0, 0, 18, 0 };
	int rc = bot(s, cb, cblen, in, buf, len, ST_URB, 2);

	if (rc == 1) {
		/* Take the sense data, as a host does after a failed command. */
		if (bot(s, rs, 6, true, sense, 18, 18, 1) == 0)
			fprintf(stderr, "usbfront-tool: SCSI %02x failed: sense %x/%02x/%02x\n",
				cb[0], sense[2] & 0xf, sense[12], sense[13]);
		return -EIO;
	}
	return rc > 1 ? -EPROTO : rc;
}

static int st_open(struct uft *t, unsigned port, struct st *s)
{
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 }, tur[6] = { 0 }, rc10[10] = { 0x25 };
	uint8_t b[36];
	unsigned c, o;
	int rc;

	memset(s, 0, sizeof(*s));
	s->t = t;
	s->port = port;
	rc = uft_open_dev(t, port, -1, &s->d);
	if (rc < 0)
		return rc;
	/* The mass-storage interface (class 8, subclass 6, BOT 0x50). */
	for (c = 0; c < s->d.nr_configs && !s->in; c++) {
		const uint8_t *p = s->d.config[c];

		if (p[5] != s->d.cur_config)
			continue;
		for (o = 0; o + 2 <= s->d.config_len[c] && p[o] >= 2; o += p[o])
			if (p[o + 1] == 4 && p[o + 5] == 8 && p[o + 7] == 0x50) {
				s->ifnum = p[o + 2];
				s->in = usbfront_first_ep(&s->d, p[5], s->ifnum, p[o + 3],
							  USBFRONT_BULK, true);
				s->out = usbfront_first_ep(&s->d, p[5], s->ifnum, p[o + 3],
							   USBFRONT_BULK, false);
				break;
			}
	}
	if (!s->in || !s->out) {
		fprintf(stderr, "usbfront-tool: port %u: no bulk-only mass-storage interface\n",
			port);
		return -ENODEV;
	}
	rc = scsi(s, inq, 6, true, b, 36);
	if (rc < 0)
		goto fail;
	memcpy(s->vendor, b + 8, 8);
	memcpy(s->product, b + 16, 16);
	/* A fresh device reports a unit attention first: ask again. */
	for (int i = 0; i < 3 && (rc = scsi(s, tur, 6, false, NULL, 0)) == -EIO; i++)
		;
	if (rc < 0)
		goto fail;
	rc = scsi(s, rc10, 10, true, b, 8);
	if (rc < 0)
		goto fail;
	s->blocks = (uint64_t)get_be32(b) + 1;
	s->bsize = get_be32(b + 4);
	if (!s->bsize || s->bsize > ST_CHUNK || ST_CHUNK % s->bsize) {
		rc = -EPROTO;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "usbfront-tool: port %u: storage setup: %s\n", port, uft_err(rc));
	return rc;
}

/* The pattern: splitmix64 of the seed and the 8-byte word's index. */
static void pattern(uint64_t seed, uint64_t off, uint8_t *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint64_t w = (off + i) / 8, z = seed + 0x9e3779b97f4a7c15ull * (w + 1);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		b[i] = (uint8_t)(z >> (8 * ((off + i) % 8)));
	}
}

static uint64_t fnv(uint64_t h, const uint8_t *b, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void rw10(uint8_t *cb, bool write, uint32_t lba, uint16_t nblocks)
{
	memset(cb, 0, 10);
	cb[0] = write ? 0x2a : 0x28;
	put_be32(cb + 2, lba);
	cb[7] = (uint8_t)(nblocks >> 8);
	cb[8] = (uint8_t)nblocks;
}

int uft_storage(struct uft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long off = 0, len = 0, seed = 1;
	uint8_t *buf = NULL, *want = NULL, cb[10];
	uint64_t h = 0xcbf29ce484222325ull;
	const char *op;
	unsigned port;
	struct st s;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o' && uft_uint(optarg, (1ul << 40), &off) == 0)
			;
		else if (c == 'l' && uft_uint(optarg, (1ul << 40), &len) == 0)
			;
		else if (c == 's' && uft_uint(optarg, UINT32_MAX, &seed) == 0)
			;
		else
			return -EINVAL;
	}
	if (optind != argc - 2 || uft_port(t, argv[optind], &port) < 0)
		return -EINVAL;
	op = argv[optind + 1];
	if (strcmp(op, "info") && strcmp(op, "write") && strcmp(op, "read") && strcmp(op, "verify"))
		return -EINVAL;
	rc = st_open(t, port, &s);
	if (rc < 0)
		goto out;
	if (!strcmp(op, "info")) {
		printf("storage port %u: \"%.8s\" \"%.16s\" %llu blocks of %u bytes (%llu MiB)\n",
		       port, s.vendor, s.product, (unsigned long long)s.blocks, s.bsize,
		       (unsigned long long)(s.blocks * s.bsize >> 20));
		goto out;
	}
	if (!len || off % s.bsize || len % s.bsize || off + len > s.blocks * s.bsize) {
		fprintf(stderr, "usbfront-tool: storage: offset/length must be multiples of %u "
			"within %llu bytes\n", s.bsize, (unsigned long long)(s.blocks * s.bsize));
		rc = -EINVAL;
		goto out;
	}
	buf = aligned_alloc(4096, ST_CHUNK); /* whole pages, as usb-storage's sg */
	want = aligned_alloc(4096, ST_CHUNK);
	if (!buf || !want) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint64_t at = off; at < off + len;) {
		uint32_t n = off + len - at < ST_CHUNK ? (uint32_t)(off + len - at) : ST_CHUNK;
		bool wr = !strcmp(op, "write");

		rw10(cb, wr, (uint32_t)(at / s.bsize), (uint16_t)(n / s.bsize));
		if (wr)
			pattern(seed, at, buf, n);
		rc = scsi(&s, cb, 10, !wr, buf, n);
		if (rc < 0) {
			fprintf(stderr, "usbfront-tool: storage: %s at %llu: %s\n", wr ? "WRITE(10)" :
				"READ(10)", (unsigned long long)at, uft_err(rc));
			goto out;
		}
		if (!strcmp(op, "verify")) {
			pattern(seed, at, want, n);
			for (uint32_t i = 0; i < n; i++)
				if (buf[i] != want[i]) {
					fprintf(stderr, "usbfront-tool: storage: byte %llu is 0x%02x, "
						"not 0x%02x\n", (unsigned long long)(at + i), buf[i],
						want[i]);
					rc = -EBADMSG;
					goto out;
				}
		}
		h = fnv(h, buf, n);
		at += n;
	}
	if (!strcmp(op, "write")) {
		uint8_t sync[10] = { 0x35 };

		rc = scsi(&s, sync, 10, false, NULL, 0);
		if (rc < 0) {
			fprintf(stderr, "usbfront-tool: storage: SYNCHRONIZE CACHE: %s\n", uft_err(rc));
			goto out;
		}
	}
	printf("%s %lu bytes at %lu: ok checksum %016llx\n", op, len, off, (unsigned long long)h);
out:
	free(buf);
	free(want);
	usbfront_dev_free(&s.d);
	return rc;
}

/* ---------------------------------------------------------------- bench */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int uft_bench(struct uft *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "qd", required_argument, NULL, 'q' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long qd = 8, size = 32768, secs = 3;
	const char *mode = NULL;
	unsigned port;
	struct st s;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm')
			mode = optarg;
		else if (c == 'q' && uft_uint(optarg, ST_MAX_QD, &qd) == 0 && qd)
			;
		else if (c == 's' && uft_uint(optarg, USBFRONT_MAX_LEN, &size) == 0 && size)
			;
		else if (c == 't' && uft_uint(optarg, 3600, &secs) == 0 && secs)
			;
		else
			return -EINVAL;
	}
	if (!mode || optind != argc - 1 || uft_port(t, argv[optind], &port) < 0 ||
	    (strcmp(mode, "bulk-read") && strcmp(mode, "bulk-write") && strcmp(mode, "latency")))
		return -EINVAL;
	if (!strcmp(mode, "latency")) {
		struct usbfront_dev d;
		size_t n = 0, cap = 1 << 16;
		uint64_t *lat = malloc(cap * sizeof(*lat));
		uint8_t st[2];
		double end;

		if (!lat)
			return -ENOMEM;
		rc = uft_open_dev(t, port, -1, &d);
		if (rc < 0) {
			free(lat);
			return rc;
		}
		for (end = uft_now() + (double)secs; uft_now() < end;) {
			uint64_t t0 = pv_now_ns();

			rc = usbfront_control(t->uf, port, d.addr, 0x80, 0x00, 0, 0, st, 2, t->xfer_ms);
			if (rc < 0)
				break;
			if (n == cap) {
				uint64_t *nl = realloc(lat, 2 * cap * sizeof(*lat));

				if (!nl) {
					rc = -ENOMEM;
					break;
				}
				lat = nl;
				cap *= 2;
			}
			lat[n++] = pv_now_ns() - t0;
			rc = 0;
		}
		usbfront_dev_free(&d);
		if (rc == 0 && n) {
			qsort(lat, n, sizeof(*lat), cmp_u64);
			printf("{\"mode\":\"latency\",\"request\":\"GET_STATUS\",\"n\":%zu,"
			       "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n", n,
			       (double)lat[n / 2] / 1e3, (double)lat[n * 99 / 100] / 1e3,
			       (double)lat[n - 1] / 1e3);
		} else if (rc < 0) {
			fprintf(stderr, "usbfront-tool: bench: GET_STATUS: %s\n", uft_err(rc));
		}
		free(lat);
		return rc;
	}
	rc = st_open(t, port, &s);
	if (rc < 0)
		goto out;
	{
		bool wr = !strcmp(mode, "bulk-write");
		uint32_t chunk = (uint32_t)(qd * size);
		uint64_t bytes = 0, cmds = 0, span = s.blocks * s.bsize, at = 0;
		uint8_t *buf, cb[10];
		double t0, el;

		if (size % s.bsize || chunk > 0xffff * s.bsize || chunk > span) {
			fprintf(stderr, "usbfront-tool: bench: size must be a multiple of %u, "
				"qd * size within the device\n", s.bsize);
			rc = -EINVAL;
			goto out;
		}
		buf = aligned_alloc(4096, (chunk + 4095) & ~4095u); /* whole pages */
		if (!buf) {
			rc = -ENOMEM;
			goto out;
		}
		pattern(1, 0, buf, chunk);
		t0 = uft_now();
		while ((el = uft_now() - t0) < (double)secs) {
			if (at + chunk > span)
				at = 0;
			rw10(cb, wr, (uint32_t)(at / s.bsize), (uint16_t)(chunk / s.bsize));
			rc = bot(&s, cb, 10, !wr, buf, chunk, (uint32_t)size, (unsigned)qd);
			if (rc != 0) {
				fprintf(stderr, "usbfront-tool: bench: %s: %s\n", wr ? "WRITE(10)" :
					"READ(10)", rc > 0 ? "command failed" : uft_err(rc));
				rc = rc > 0 ? -EIO : rc;
				break;
			}
			bytes += chunk;
			cmds++;
			at += chunk;
		}
		el = uft_now() - t0;
		free(buf);
		if (rc == 0)
			printf("{\"mode\":\"%s\",\"qd\":%lu,\"size\":%lu,\"seconds\":%.2f,"
			       "\"bytes\":%llu,\"commands\":%llu,\"urbs\":%llu,\"MBps\":%.1f}\n",
			       mode, qd, size, el, (unsigned long long)bytes, (unsigned long long)cmds,
			       (unsigned long long)(cmds * (qd + 2)), (double)bytes / el / 1e6);
	}
out:
	usbfront_dev_free(&s.d);
	return rc;
}
