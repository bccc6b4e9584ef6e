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
 *   stream NBLOCKS FILE  write 4 KiB blocks (block b of generation g holds
 *                        256 x {u64 b, u64 g}) round-robin over NBLOCKS
 *                        blocks with the ring kept full, until the backend
 *                        leaves Connected (unplug) or the domain dies; then
 *                        close with the I/O still in flight, collect what the
 *                        backend answered while draining and write "B G"
 *                        (the last acknowledged generation of each block) to
 *                        FILE.  stdout: "running" once I/O flows, then
 *                        "inflight-at-close N" and "acked N"
 *   shell                stay connected and run commands from stdin, one
 *                        reply line each: write SEED MiB | check SEED MiB |
 *                        sectors | wait-resize MS | quit
 *   hostile RULE         send one malformed request (or ring index), print
 *                        "status N" (or sent-overflow / no-response),
 *                        "answers N" and "backend STATE" (blkfront-hostile.c
 *                        lists the rules)
 *   attack MODE          a sustained hostile guest (blkfront-hostile.c):
 *                        flood-map, ro-read, hold-full, never-consume, flip,
 *                        revoke, flap, bad-state; see the usage text
 *
 * --zerocopy (with --persistent): verify's buffer comes from
 * blkfront_buf_alloc(), so its page-aligned requests are granted in place
 * and the others bounce (one verify per connection).
 *
 * Exit status 0 on success, 1 on a failure (message on stderr).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "blkfront-tool.h"
#include "pvring.h"
#include "abi/blkif.h"

void bft_on_done(void *opaque, uint64_t tag, int status)
{
	struct run *r = opaque;

	r->done++;
	r->last_status = status;
	if (status != BLKIF_RSP_OKAY)
		r->errors++;
}

/* Complete everything outstanding on every queue. */
/* Longest wait for one response: a backend may be restarted meanwhile
 * (Linux's blkfront waits for ever; a test tool must end). */
#define DRAIN_MS 30000

int bft_drain(struct run *r, int timeout_ms)
{
	int rc;

	for (;;) {
		rc = blkfront_complete_all(r->bf, bft_on_done, r);
		if (rc < 0)
			return rc;
		if (!blkfront_inflight_total(r->bf))
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

#define PHASE_WRITE 1u
#define PHASE_READ  2u

/*
 * Submit op over sectors [0, total) of buf in requests of varying size (1
 * sector, growing by powers of two from size step n, up to maxlen), spread
 * round-robin over the queues from *q, then wait for all of them.
 */
static int sweep(struct run *r, int op, uint8_t *buf, uint64_t total, size_t maxlen, unsigned n,
		 unsigned *q)
{
	unsigned nr_queues = blkfront_info(r->bf)->nr_queues;
	uint64_t sec = 0;
	int rc;

	while (sec < total) {
		size_t len = ((size_t)1 << (n % 12)) * 512;
		struct iovec iov;

		if (len > maxlen)
			len = maxlen;
		if (len > (total - sec) << 9)
			len = (size_t)(total - sec) << 9;
		iov = (struct iovec){ buf + (sec << 9), len };
		rc = blkfront_submit(r->bf, *q, op, sec, &iov, 1, sec);
		if (rc == -EAGAIN) {
			rc = bft_drain(r, DRAIN_MS);
			if (rc < 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		sec += len >> 9;
		n++;
		*q = (*q + 1) % nr_queues;
	}
	return bft_drain(r, DRAIN_MS);
}

static int do_verify(struct run *r, uint64_t mib, uint64_t seed, unsigned phases)
{
	const struct blkfront_info *in = blkfront_info(r->bf);
	unsigned max_pages = in->max_indirect ? in->max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST;
	uint64_t total = mib << 11, i; /* in sectors */
	size_t maxlen = (size_t)max_pages * 4096;
	unsigned q = 0;
	uint8_t *buf;
	int rc;

	if (total > in->sectors)
		total = in->sectors;
	if (r->zerocopy) {
		/* Page-aligned requests are granted in place, the others bounce. */
		rc = blkfront_buf_alloc(r->bf, total << 9, (void **)&buf);
		if (rc < 0)
			return rc;
	} else {
		buf = malloc(total << 9);
		if (!buf)
			return -ENOMEM;
	}
	for (i = 0; i < total << 9; i++)
		buf[i] = pattern(seed, i);
	/* Writes of varying size: 1 sector, then growing, up to the largest request. */
	if (phases & PHASE_WRITE) {
		rc = sweep(r, BLKFRONT_WRITE, buf, total, maxlen, 0, &q);
		if (rc < 0)
			goto out;
	}
	if (!(phases & PHASE_READ)) {
		rc = r->errors ? -EIO : 0;
		goto out;
	}
	if (in->flush) {
		rc = blkfront_submit(r->bf, 0, BLKFRONT_FLUSH, 0, NULL, 0, 0);
		if (rc == 0)
			rc = bft_drain(r, DRAIN_MS);
		if (rc < 0)
			goto out;
	}
	memset(buf, 0, total << 9);
	rc = sweep(r, BLKFRONT_READ, buf, total, maxlen, 7, &q); /* other request boundaries */
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
	if (phases & PHASE_WRITE)
		printf("verified %llu sectors in %u requests\n", (unsigned long long)total, r->done);
	rc = 0;
out:
	if (!r->zerocopy)
		free(buf); /* the zero-copy region goes with blkfront_close() */
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
	rc = bft_drain(r, DRAIN_MS);
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
	rc = bft_drain(r, DRAIN_MS);
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

struct stream {
	struct blkfront *bf;
	uint64_t nblocks;
	uint8_t *busy;          /* a write of this block is in flight */
	uint64_t *acked;        /* last acknowledged generation + 1, 0: none */
	uint64_t *gen_of_tag;   /* tag = block: the generation in flight */
	uint8_t (*buf)[4096];   /* per block: the data of the write in flight */
	uint64_t nacked;
	unsigned errors;
};

static void stream_done(void *opaque, uint64_t tag, int status)
{
	struct stream *st = opaque;

	st->busy[tag] = 0;
	if (status != BLKIF_RSP_OKAY) {
		st->errors++;
		return;
	}
	st->acked[tag] = st->gen_of_tag[tag] + 1;
	st->nacked++;
}

static int stream_complete(struct stream *st)
{
	int rc = blkfront_complete_all(st->bf, stream_done, st);

	return rc < 0 ? rc : 0;
}

static int do_stream(struct blkfront *bf, uint64_t nblocks, const char *file)
{
	const struct blkfront_info *in = blkfront_info(bf);
	struct stream st = { .bf = bf, .nblocks = nblocks };
	uint64_t next = 0, gen = 0, b, k, loops = 0;
	bool announced = false;
	unsigned q = 0, inflight;
	const char *why = "backend left Connected";
	FILE *f;
	int rc = 0, bst, dc;

	if (nblocks > in->sectors / 8)
		st.nblocks = nblocks = in->sectors / 8;
	st.busy = calloc(nblocks, 1);
	st.acked = calloc(nblocks, sizeof(*st.acked));
	st.gen_of_tag = calloc(nblocks, sizeof(*st.gen_of_tag));
	st.buf = malloc(nblocks * sizeof(*st.buf));
	if (!nblocks || !st.busy || !st.acked || !st.gen_of_tag || !st.buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		/* Keep every ring full: the backend always has work in flight. */
		for (k = 0; k < nblocks; k++) {
			struct iovec iov;
			uint64_t *w;

			b = next;
			if (st.busy[b]) {
				next = (next + 1) % nblocks;
				continue;
			}
			w = (uint64_t *)st.buf[b];
			for (unsigned i = 0; i < 4096 / 16; i++) {
				w[2 * i] = b;
				w[2 * i + 1] = gen;
			}
			iov = (struct iovec){ st.buf[b], 4096 };
			rc = blkfront_submit(bf, q, BLKFRONT_WRITE, b * 8, &iov, 1, b);
			if (rc == -EAGAIN)
				break;
			if (rc < 0)
				goto out;
			st.busy[b] = 1;
			st.gen_of_tag[b] = gen;
			q = (q + 1) % in->nr_queues;
			next = (next + 1) % nblocks;
			if (!next)
				gen++;
		}
		/* One xenstore read per round, as cheap as a guest's watch; before
		 * the wait, so what was just submitted is in flight at the close. */
		if (++loops % 4 == 0 || !announced) {
			bst = blkfront_backend_state(bf);
			if (bst != XenbusStateConnected) {
				if (bst < 0)
					why = "xenstore gone";
				for (q = 0; q < in->nr_queues; q++)
					blkfront_kick(bf, q);
				break;
			}
		}
		rc = blkfront_wait(bf, 1000);
		if (rc < 0 && rc != -ETIMEDOUT) {
			why = "event channel gone";
			break;
		}
		rc = stream_complete(&st);
		if (rc < 0) {
			why = "bad response";
			break;
		}
		if (!announced && st.nacked >= 256) {
			printf("running\n");
			fflush(stdout);
			announced = true;
		}
	}
	/* Close now, with the I/O in flight: the backend must finish and answer
	 * it before it unmaps (it pushes those responses before Closed). */
	inflight = blkfront_inflight_total(bf);
	printf("stopping: %s\ninflight-at-close %u\n", why, inflight);
	fflush(stdout);
	dc = blkfront_disconnect(bf);
	rc = stream_complete(&st);
	printf("acked %llu unanswered %u errors %u (disconnect: %s, last responses: %s)\n",
	       (unsigned long long)st.nacked, blkfront_inflight_total(bf), st.errors,
	       dc < 0 ? strerror(-dc) : "ok", rc < 0 ? strerror(-rc) : "ok");
	f = fopen(file, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	for (b = 0; b < nblocks; b++)
		if (st.acked[b])
			fprintf(f, "%llu %llu\n", (unsigned long long)b,
				(unsigned long long)(st.acked[b] - 1));
	if (fclose(f))
		rc = -EIO;
	else
		rc = 0;
out:
	free(st.busy);
	free(st.acked);
	free(st.gen_of_tag);
	free(st.buf);
	return rc;
}

/* Line commands on stdin, one reply line each (see the header). */
static int do_shell(struct run *r)
{
	char line[256], cmd[32];
	unsigned long long a, b;
	int rc, n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready sectors %llu\n", (unsigned long long)blkfront_info(r->bf)->sectors);
	while (fgets(line, sizeof(line), stdin)) {
		n = sscanf(line, "%31s %llu %llu", cmd, &a, &b);
		if (n < 1)
			continue;
		r->errors = 0;
		if (!strcmp(cmd, "quit"))
			break;
		if (!strcmp(cmd, "sectors")) {
			printf("sectors %llu\n", (unsigned long long)blkfront_info(r->bf)->sectors);
			continue;
		}
		if (!strcmp(cmd, "wait-resize") && n >= 2) {
			rc = blkfront_wait_resize(r->bf, (int)a);
			if (rc < 0)
				printf("err %s\n", strerror(-rc));
			else
				printf("sectors %llu\n",
				       (unsigned long long)blkfront_info(r->bf)->sectors);
			continue;
		}
		if ((!strcmp(cmd, "write") || !strcmp(cmd, "check")) && n == 3) {
			/* do_verify prints its own line on success: keep one reply line. */
			fflush(stdout);
			rc = do_verify(r, b, a, !strcmp(cmd, "write") ? PHASE_WRITE : PHASE_READ);
			printf(rc < 0 ? "err %s\n" : "ok\n", strerror(-rc));
			continue;
		}
		printf("err bad command\n");
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: blkfront-tool [OPTIONS] COMMAND\n"
		"connection: --devid N (51712) --order N --queues N --indirect N --persistent\n"
		"            --x86-32 --timeout MS (handshake waits, 10000)\n"
		"commands:   info | verify [MiB] [--seed N] [--zerocopy] | discard SECTOR NR |\n"
		"            ordered | stream NBLOCKS FILE | shell | hostile RULE | attack MODE\n"
		"hostile RULE (native ABI), one request or index; prints status, answers, backend:\n"
		"  bad-op too-many-segs first-after-last last-beyond-page past-end overflow\n"
		"  bad-gref foreign-gref ro-read ro-write id-reuse flush-bad-gref\n"
		"  flush-too-many-segs discard-past-end discard-overflow rsp-event\n"
		"  indirect-too-many indirect-zero-segs indirect-bad-op indirect-short-page\n"
		"  indirect-extra-grefs bad-indirect-gref map-bad-gref map-foreign-gref map-ro-read\n"
		"  prod-overflow prod-far-ahead prod-behind\n"
		"attack MODE [--count N] [--grants N] [--until-stdin] [--seed N]:\n"
		"  flood-map       every ring kept full of max-indirect-segment reads all naming\n"
		"                  --grants pages (4), until N answers (or stdin: --until-stdin);\n"
		"                  \"running\" after a ring-ful was answered\n"
		"  ro-read         the same with one-page reads into a readonly grant\n"
		"  hold-full --close DEVID[,DEVID...]  --devid's rings and those of the --close\n"
		"                  devices full of max-indirect reads; then Closing on the --close\n"
		"                  devices at once while --devid stays full: \"closing\", then\n"
		"                  \"closed after N ms\" once the backend left Connected on all\n"
		"  never-consume   N rounds of a full ring written over unread responses, rsp_cons\n"
		"                  never moved, rsp_event far away or behind\n"
		"  flip            N answers of a mixed full ring while a second thread flips the\n"
		"                  requests' fields and the indirect page; reconnects after a\n"
		"                  disconnect\n"
		"  revoke          N reads (8 pages copied, 128 mapped) whose grants are ended\n"
		"                  right after the kick; fails when a grant stays in use\n"
		"  flap            N random frontend states (0..8) written without waiting\n"
		"  bad-state       N frontend states \"garbage\" and \"99\"\n");
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
		{ "zerocopy", no_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "grants", required_argument, NULL, 'g' },
		{ "close", required_argument, NULL, 'c' },
		{ "until-stdin", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct bft_attack at = { .bo = { .devid = 51712, .nr_queues = 1 }, .grants = 4 };
	struct blkfront_opts *bo = &at.bo;
	struct run r = { 0 };
	const struct blkfront_info *in;
	uint64_t seed = 1;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': bo->devid = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': bo->ring_order = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': bo->nr_queues = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'i': bo->max_indirect = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': bo->persistent = true; break;
		case '3': bo->x86_32 = true; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'z': r.zerocopy = true; break;
		case 't': bo->timeout_ms = (int)strtol(optarg, NULL, 0); break;
		case 'n': at.count = strtoul(optarg, NULL, 0); break;
		case 'g': at.grants = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'c': at.close = optarg; break;
		case 'u': at.until_stdin = true; break;
		default:
			usage();
			return 1;
		}
	}
	if (optind >= argc) {
		usage();
		return 1;
	}
	if (!at.grants || at.grants > 8) {
		fprintf(stderr, "blkfront-tool: --grants is 1..8\n");
		return 1;
	}
	at.seed = seed;
	if (!at.count)
		at.count = 1000;
	if (bo->x86_32 && (!strcmp(argv[optind], "hostile") || !strcmp(argv[optind], "attack"))) {
		fprintf(stderr, "blkfront-tool: %s: native ABI only\n", argv[optind]);
		return 1;
	}
	rc = blkfront_open(bo, &r.bf);
	if (rc < 0) {
		fprintf(stderr, "blkfront-tool: connect vbd %u: %s\n", bo->devid, strerror(-rc));
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
		rc = do_verify(&r, optind + 1 < argc ? strtoull(argv[optind + 1], NULL, 0) : 4, seed,
			       PHASE_WRITE | PHASE_READ);
	} else if (!strcmp(argv[optind], "discard") && optind + 2 < argc) {
		rc = blkfront_discard(r.bf, 0, strtoull(argv[optind + 1], NULL, 0),
				      strtoull(argv[optind + 2], NULL, 0), false, 0);
		if (rc == 0)
			rc = bft_drain(&r, 5000);
		if (rc == 0)
			printf("status %d\n", r.last_status);
	} else if (!strcmp(argv[optind], "stream") && optind + 2 < argc) {
		rc = do_stream(r.bf, strtoull(argv[optind + 1], NULL, 0), argv[optind + 2]);
	} else if (!strcmp(argv[optind], "shell")) {
		rc = do_shell(&r);
	} else if (!strcmp(argv[optind], "ordered")) {
		rc = do_ordered(&r);
	} else if (!strcmp(argv[optind], "hostile") && optind + 1 < argc) {
		rc = bft_hostile(&r, argv[optind + 1]);
	} else if (!strcmp(argv[optind], "attack") && optind + 1 < argc) {
		rc = bft_attack(&r, &at, argv[optind + 1]);
	} else {
		fprintf(stderr, "blkfront-tool: bad command\n");
		rc = -EINVAL;
	}
	if (rc < 0)
		fprintf(stderr, "blkfront-tool: %s\n", strerror(-rc));
	blkfront_close(r.bf);
	return rc < 0 ? 1 : 0;
}
