// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blkfront-tool: drive a vbd of our own domain through the userspace
 * blkfront, for integration tests and by hand (run inside `pvsim env`).
 *
 *   info                 negotiate and print what was agreed
 *   verify [MiB]         write a seeded pattern with mixed request sizes
 *                        (512 B .. the largest request) over all queues,
 *                        flush, read everything back and compare
 *   discard SECTOR NR    discard a range
 *   ordered              writes, a barrier with data, a pure barrier,
 *                        flushes with and without data, more writes, all
 *                        in flight together; all must succeed and read back
 *   hostile RULE         send one malformed request; print the response
 *                        status (or "disconnected"): bad-op, too-many-segs,
 *                        first-after-last, last-beyond-page, past-end,
 *                        overflow, indirect-too-many, bad-indirect-gref,
 *                        prod-overflow
 *
 * Exit status 0 on success, 1 on a failure (message on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "blkfront.h"
#include "pvring.h"
#include "../blkback/blkif_abi.h"

struct run {
	struct blkfront *bf;
	unsigned done, errors;
	int last_status;
};

static void on_done(void *opaque, uint64_t tag, int status)
{
	struct run *r = opaque;

	r->done++;
	r->last_status = status;
	if (status != BLKIF_RSP_OKAY)
		r->errors++;
}

/* Complete everything outstanding on every queue. */
static int drain_all(struct run *r, int timeout_ms)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	unsigned q, left;
	int rc;

	for (;;) {
		left = 0;
		for (q = 0; q < in->nr_queues; q++) {
			rc = blkfront_complete(r->bf, q, on_done, r);
			if (rc < 0)
				return rc;
			left += blkfront_inflight(r->bf, q);
		}
		if (!left)
			return 0;
		rc = blkfront_wait(r->bf, timeout_ms);
		if (rc < 0)
			return rc;
	}
}

static uint8_t pattern(uint64_t seed, uint64_t byte)
{
	uint64_t x = (byte >> 9) * 0x9e3779b97f4a7c15ull ^ seed;

	return (uint8_t)((x >> 29) ^ (byte & 511) ^ (x >> 11));
}

static int do_verify(struct run *r, uint64_t mib, uint64_t seed)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	unsigned max_pages = in->max_indirect ? in->max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;
	uint64_t total = mib << 11, sec = 0, i; /* in sectors */
	size_t maxlen = (size_t)max_pages * 4096;
	unsigned q = 0, n = 0;
	uint8_t *buf;
	int rc;

	if (total > in->sectors)
		total = in->sectors;
	buf = malloc(total << 9);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < total << 9; i++)
		buf[i] = pattern(seed, i);
	/* Writes of varying size: 1 sector, then growing, up to the largest request. */
	while (sec < total) {
		size_t len = ((size_t)1 << (n % 12)) * 512;
		struct iovec iov;

		if (len > maxlen)
			len = maxlen;
		if (len > (total - sec) << 9)
			len = (size_t)(total - sec) << 9;
		iov = (struct iovec){ buf + (sec << 9), len };
		rc = blkfront_submit(r->bf, q, BLKFRONT_WRITE, sec, &iov, 1, sec);
		if (rc == -EAGAIN) {
			rc = drain_all(r, 5000);
			if (rc < 0)
				goto out;
			continue;
		}
		if (rc < 0)
			goto out;
		sec += len >> 9;
		n++;
		q = (q + 1) % in->nr_queues;
	}
	rc = drain_all(r, 5000);
	if (rc < 0)
		goto out;
	if (in->flush) {
		rc = blkfront_submit(r->bf, 0, BLKFRONT_FLUSH, 0, NULL, 0, 0);
		if (rc == 0)
			rc = drain_all(r, 5000);
		if (rc < 0)
			goto out;
	}
	memset(buf, 0, total << 9);
	for (sec = 0, n = 7; sec < total; n++) {
		size_t len = ((size_t)1 << (n % 12)) * 512;
		struct iovec iov;

		if (len > maxlen)
			len = maxlen;
		if (len > (total - sec) << 9)
			len = (size_t)(total - sec) << 9;
		iov = (struct iovec){ buf + (sec << 9), len };
		rc = blkfront_submit(r->bf, q, BLKFRONT_READ, sec, &iov, 1, sec);
		if (rc == -EAGAIN) {
			rc = drain_all(r, 5000);
			if (rc < 0)
				goto out;
			continue;
		}
		if (rc < 0)
			goto out;
		sec += len >> 9;
		q = (q + 1) % in->nr_queues;
	}
	rc = drain_all(r, 5000);
	if (rc < 0)
		goto out;
	if (r->errors) {
		fprintf(stderr, "verify: %u requests failed\n", r->errors);
		rc = -EIO;
		goto out;
	}
	for (i = 0; i < total << 9; i++) {
		if (buf[i] != pattern(seed, i)) {
			fprintf(stderr, "verify: mismatch at byte %llu\n", (unsigned long long)i);
			rc = -EIO;
			goto out;
		}
	}
	printf("verified %llu sectors in %u requests\n", (unsigned long long)total, r->done);
	rc = 0;
out:
	free(buf);
	return rc;
}

static int do_ordered(struct run *r)
{
	static const enum blkfront_op ops[] = { BLKFRONT_WRITE, BLKFRONT_WRITE, BLKFRONT_BARRIER,
						BLKFRONT_WRITE, BLKFRONT_FLUSH, BLKFRONT_WRITE,
						BLKFRONT_BARRIER, BLKFRONT_FLUSH };
	static const bool with_data[] = { 1, 1, 1, 1, 1, 1, 0, 0 };
	enum { N = sizeof(ops) / sizeof(ops[0]) };
	static uint8_t data[N][8192], back[N][8192];
	unsigned i;
	int rc;

	for (i = 0; i < N; i++) {
		struct iovec iov = { data[i], sizeof(data[i]) };

		memset(data[i], 0xa0 + (int)i, sizeof(data[i]));
		rc = blkfront_submit(r->bf, 0, ops[i], (uint64_t)i * 16, &iov, with_data[i] ? 1 : 0, i);
		if (rc < 0)
			return rc;
	}
	rc = drain_all(r, 5000);
	if (rc < 0)
		return rc;
	if (r->errors) {
		fprintf(stderr, "ordered: %u requests failed\n", r->errors);
		return -EIO;
	}
	for (i = 0; i < N; i++) {
		struct iovec iov = { back[i], sizeof(back[i]) };

		if (!with_data[i])
			continue;
		rc = blkfront_submit(r->bf, 0, BLKFRONT_READ, (uint64_t)i * 16, &iov, 1, i);
		if (rc < 0)
			return rc;
	}
	rc = drain_all(r, 5000);
	if (rc < 0)
		return rc;
	for (i = 0; i < N; i++) {
		if (with_data[i] && memcmp(data[i], back[i], sizeof(data[i]))) {
			fprintf(stderr, "ordered: request %u did not read back\n", i);
			return -EIO;
		}
	}
	printf("ordered: %u requests ok\n", r->done);
	return 0;
}

static int do_hostile(struct run *r, const char *rule, bool x86_32)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	struct blkif_request rw = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = 1 };
	struct blkif_request_indirect ind = { .operation = BLKIF_OP_INDIRECT,
					      .indirect_op = BLKIF_OP_READ, .id = 1 };
	struct blkif_request_segment *segs;
	const void *req = &rw;
	size_t len = sizeof(rw);
	uint32_t refs[2];
	void *pages;
	int rc;

	if (x86_32) {
		fprintf(stderr, "hostile: native ABI only\n");
		return -EINVAL;
	}
	rc = blkfront_share(r->bf, 2, true, refs, &pages);
	if (rc < 0)
		return rc;
	rw.seg[0] = (struct blkif_request_segment){ .gref = refs[0], .first_sect = 0, .last_sect = 7 };
	segs = (struct blkif_request_segment *)((char *)pages + 4096);
	memset(segs, 0, 4096);
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
	} else if (!strcmp(rule, "indirect-too-many")) {
		ind.nr_segments = (uint16_t)(in->max_indirect + 1);
		ind.indirect_grefs[0] = refs[1];
		req = &ind;
		len = sizeof(ind);
	} else if (!strcmp(rule, "bad-indirect-gref")) {
		ind.nr_segments = 12;
		ind.indirect_grefs[0] = 0x7ffffff0; /* never granted */
		req = &ind;
		len = sizeof(ind);
	} else if (!strcmp(rule, "prod-overflow")) {
		volatile struct pv_sring_hdr *h = blkfront_sring(r->bf, 0);

		h->req_prod += in->nr_slots + 5;
		blkfront_notify(r->bf, 0);
		printf("status sent-overflow\n");
		blkfront_unshare(r->bf, pages, 2);
		return 0;
	} else {
		fprintf(stderr, "hostile: unknown rule %s\n", rule);
		blkfront_unshare(r->bf, pages, 2);
		return -EINVAL;
	}
	rc = blkfront_submit_raw(r->bf, 0, req, len, 1);
	if (rc == 0)
		rc = drain_all(r, 3000);
	if (rc == -ETIMEDOUT)
		printf("status no-response\n");
	else if (rc == 0)
		printf("status %d\n", r->last_status);
	blkfront_unshare(r->bf, pages, 2);
	return rc == -ETIMEDOUT ? 0 : rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "devid", required_argument, NULL, 'd' },
		{ "order", required_argument, NULL, 'o' },
		{ "queues", required_argument, NULL, 'q' },
		{ "indirect", required_argument, NULL, 'i' },
		{ "persistent", no_argument, NULL, 'p' },
		{ "x86-32", no_argument, NULL, '3' },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct blkfront_opts bo = { .devid = 51712, .nr_queues = 1 };
	struct run r = { 0 };
	const struct blkfront_info *in;
	uint64_t seed = 1;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bo.devid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': bo.ring_order = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': bo.nr_queues = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'i': bo.max_indirect = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': bo.persistent = true; break;
		case '3': bo.x86_32 = true; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: blkfront-tool [--devid N] [--order N] [--queues N] "
					"[--indirect N] [--persistent] [--x86-32] info|verify [MiB]|"
					"discard S N|hostile RULE\n");
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "blkfront-tool: no command\n");
		return 1;
	}
	rc = blkfront_open(&bo, &r.bf);
	if (rc < 0) {
		fprintf(stderr, "blkfront-tool: connect vbd %u: %s\n", bo.devid, strerror(-rc));
		return 1;
	}
	in = blkfront_info(r.bf);
	if (!strcmp(argv[optind], "info")) {
		printf("sectors %llu sector-size %u physical-sector-size %u info %u\n"
		       "ring-order %u queues %u slots %u indirect %u persistent %d\n"
		       "flush %d barrier %d discard %d granularity %u\n",
		       (unsigned long long)in->sectors, in->sector_size, in->physical_sector_size,
		       in->info, in->ring_order, in->nr_queues, in->nr_slots, in->max_indirect,
		       in->persistent, in->flush, in->barrier, in->discard, in->discard_granularity);
	} else if (!strcmp(argv[optind], "verify")) {
		rc = do_verify(&r, optind + 1 < argc ? strtoull(argv[optind + 1], NULL, 0) : 4, seed);
	} else if (!strcmp(argv[optind], "discard") && optind + 2 < argc) {
		rc = blkfront_discard(r.bf, 0, strtoull(argv[optind + 1], NULL, 0),
				      strtoull(argv[optind + 2], NULL, 0), false, 0);
		if (rc == 0)
			rc = drain_all(&r, 5000);
		if (rc == 0)
			printf("status %d\n", r.last_status);
	} else if (!strcmp(argv[optind], "ordered")) {
		rc = do_ordered(&r);
	} else if (!strcmp(argv[optind], "hostile") && optind + 1 < argc) {
		rc = do_hostile(&r, argv[optind + 1], bo.x86_32);
	} else {
		fprintf(stderr, "blkfront-tool: bad command\n");
		rc = -EINVAL;
	}
	if (rc < 0)
		fprintf(stderr, "blkfront-tool: %s\n", strerror(-rc));
	blkfront_close(r.bf);
	return rc < 0 ? 1 : 0;
}
