// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netfront-tool gen and sink: netif benchmarks with no TAP in the way.
 *
 * gen keeps each queue's tx ring as full as Linux netfront lets it
 * (netfront_tx_ready), pushing every --batch frames, and counts completions;
 * its frames are IPv4/UDP to the discard port carrying a sequence number
 * per queue and a checksum of a fixed pattern (netfront-tool.h).  sink
 * drains each queue's rx ring, re-posting buffers every --batch frames, and
 * checks what gen wrote: the pattern's checksum, the IPv4 header checksum,
 * with --verify the UDP checksum (finishing a partial one first), and the
 * sequence per flow (lost, reordered).  Each prints one JSON line when it
 * ends (--count frames, --seconds, or SIGTERM; sink also --idle).
 *
 * One thread per queue, each waiting on its own event channel only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>

#include "pvnet.h"
#include "netfront.h"
#include "netfront-tool.h"

#define PAGE 4096u

enum csum_mode { CSUM_NONE, CSUM_SW, CSUM_OFFLOAD };

struct bench {
	/* options */
	uint32_t size, offset, batch;
	uint8_t dst[6];
	uint64_t count;              /* frames in all, 0: no limit */
	double seconds, idle;
	enum csum_mode csum;
	bool verify;
	/* shared between the queue threads */
	uint64_t total;              /* frames so far (atomic) */
	volatile int finished;       /* count reached */
};

struct qres {                        /* one queue thread's results */
	uint64_t sent, frames, bytes, foreign, bad, bad_csum, lost, reordered, dups, flows;
	double t0, t1;               /* first and last frame */
};

static struct qres res[NETFRONT_MAX_QUEUES];

static int common_opts(struct bench *b, int argc, char **argv, bool gen)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 'z' },
		{ "offset", required_argument, NULL, 'o' },
		{ "batch", required_argument, NULL, 'b' },
		{ "dst", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "idle", required_argument, NULL, 'i' },
		{ "csum", required_argument, NULL, 'c' },
		{ "verify", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*b = (struct bench){ .size = 64, .batch = 64, .dst = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'z': b->size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o': b->offset = (uint32_t)strtoul(optarg, NULL, 0) % PAGE; break;
		case 'b': b->batch = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'd':
			if (pv_net_parse_mac(optarg, b->dst) < 0)
				return -EINVAL;
			break;
		case 'n': b->count = strtoull(optarg, NULL, 0); break;
		case 's': b->seconds = strtod(optarg, NULL); break;
		case 'i': b->idle = strtod(optarg, NULL); break;
		case 'c':
			if (!strcmp(optarg, "none"))
				b->csum = CSUM_NONE;
			else if (!strcmp(optarg, "sw"))
				b->csum = CSUM_SW;
			else if (!strcmp(optarg, "offload"))
				b->csum = CSUM_OFFLOAD;
			else
				return -EINVAL;
			break;
		case 'v': b->verify = true; break;
		default: return -EINVAL;
		}
	}
	if (!b->batch)
		b->batch = 1;
	if (gen && (b->size < NFT_MIN_FRAME || b->size > NETFRONT_MAX_FRAME)) {
		fprintf(stderr, "netfront-tool: gen: --size %u outside %u..%u\n", b->size,
			NFT_MIN_FRAME, NETFRONT_MAX_FRAME);
		return -EINVAL;
	}
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ----------------------------------------------------------------- gen */

/* The frame of queue q, all but its sequence fields. */
static void gen_template(const struct bench *b, const uint8_t *src, unsigned q, uint8_t *f,
			 uint32_t *pattern_sum)
{
	uint32_t len = b->size, i;
	struct nft_payload *pl = (struct nft_payload *)(f + NFT_HDRS);
	uint8_t *pat = f + NFT_MIN_FRAME;

	memset(f, 0, NFT_MIN_FRAME);
	pv_net_udp4_hdrs(f, len, b->dst, src, (uint16_t)(9000 + q), 9);
	for (i = 0; i < len - NFT_MIN_FRAME; i++)
		pat[i] = nft_pattern_byte(i);
	*pattern_sum = nft_pattern_sum(pat, len - NFT_MIN_FRAME);
	pl->magic = NFT_MAGIC;
	pl->queue = (uint16_t)q;
}

/* The UDP checksum field for frame f (len) as the mode wants it. */
static void gen_udp_csum(const struct bench *b, uint8_t *f)
{
	struct pv_net_l4 l4 = { .l3 = 14, .l4 = 34, .proto = IPPROTO_UDP };
	uint16_t ps = pv_net_pseudo_sum(f, &l4, b->size - 34);

	put16(f + 40, 0);
	if (b->csum == CSUM_OFFLOAD) {
		put16(f + 40, ps); /* CHECKSUM_PARTIAL: the pseudo-header sum */
	} else if (b->csum == CSUM_SW) {
		put16(f + 40, ps);
		pv_net_csum_complete(f, b->size, 34, 6);
	}
}

static void gen_thread(struct nft_thread *t)
{
	struct bench *b = t->arg;
	struct qres *r = &res[t->q];
	const struct netfront_stats *st = netfront_stats(t->nf, t->q);
	unsigned nq = netfront_info(t->nf)->nr_queues;
	uint64_t quota = b->count ? b->count / nq + (t->q < b->count % nq) : 0, seq = 0;
	struct virtio_net_hdr vh = { 0 };
	uint8_t *mem, *f, *rxbuf;
	uint32_t psum, unpushed = 0;
	double drain_end = 0;
	int rc = 0;

	mem = aligned_alloc(PAGE, 2 * PAGE + 2 * 65536); /* frame at its offset, rx buffer */
	if (!mem) {
		t->rc = -ENOMEM;
		return;
	}
	f = mem + b->offset;
	rxbuf = mem + 2 * PAGE + 65536;
	gen_template(b, netfront_info(t->nf)->mac, t->q, f, &psum);
	if (b->csum == CSUM_OFFLOAD)
		vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
					      .csum_offset = 6 };
	r->t0 = nft_now();
	for (;;) {
		struct nft_payload *pl = (struct nft_payload *)(f + NFT_HDRS);
		bool more = !*t->stop && (!quota || seq < quota);

		while (more && netfront_tx_ready(t->nf, t->q)) {
			pl->seq = seq;
			pl->sum = psum ^ nft_seq_mix(seq);
			if (b->csum != CSUM_NONE)
				gen_udp_csum(b, f);
			rc = netfront_send(t->nf, t->q, f, b->size,
					   b->csum == CSUM_OFFLOAD ? &vh : NULL);
			if (rc == -ENOBUFS)
				break;
			if (rc < 0)
				goto out;
			seq++;
			if (++unpushed >= b->batch) {
				netfront_kick(t->nf, t->q);
				unpushed = 0;
			}
			more = !quota || seq < quota;
		}
		if (unpushed) {
			netfront_kick(t->nf, t->q);
			unpushed = 0;
		}
		rc = netfront_tx_complete(t->nf, t->q);
		if (rc < 0)
			goto out;
		/* Frames sent to us meanwhile: taken and dropped, so the
		 * backend never stalls on our rx ring. */
		while ((rc = netfront_recv(t->nf, t->q, rxbuf, NETFRONT_MAX_FRAME, NULL)) > 0)
			;
		if (rc < 0)
			goto out;
		if ((*t->stop || (quota && seq >= quota)) && !netfront_tx_inflight(t->nf, t->q))
			break;
		/* Stopping: wait a moment for what is in flight, not for ever. */
		if (*t->stop && !drain_end)
			drain_end = nft_now() + 1;
		if (drain_end && nft_now() > drain_end)
			break;
		if (!netfront_tx_ready(t->nf, t->q) || !more)
			nft_wait_queue(t, 100);
		netfront_kick(t->nf, t->q); /* re-post what recv gave back */
	}
	rc = 0;
out:
	r->t1 = nft_now();
	r->sent = seq;
	r->frames = st->tx_packets;
	r->bytes = st->tx_bytes;
	free(mem);
	t->rc = rc;
}

int nft_gen(struct netfront *nf, int argc, char **argv)
{
	struct nft_thread th[NETFRONT_MAX_QUEUES];
	unsigned q, nq = netfront_info(nf)->nr_queues;
	uint64_t sent = 0, frames = 0, bytes = 0;
	double t0 = 0, t1 = 0, secs;
	struct bench b;
	int rc;

	rc = common_opts(&b, argc, argv, true);
	if (rc < 0)
		return rc;
	memset(res, 0, sizeof(res));
	rc = nft_run_queues(nf, gen_thread, &b, b.seconds, NULL, th, NULL);
	for (q = 0; q < nq; q++) {
		sent += res[q].sent;
		frames += res[q].frames;
		bytes += res[q].bytes;
		if (!t0 || res[q].t0 < t0)
			t0 = res[q].t0;
		if (res[q].t1 > t1)
			t1 = res[q].t1;
	}
	secs = t1 > t0 ? t1 - t0 : 0;
	printf("{\"cmd\":\"gen\",\"queues\":%u,\"size\":%u,\"offset\":%u,\"batch\":%u,"
	       "\"csum\":\"%s\",\"sent\":%llu,\"frames\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
	       "\"pps\":%.0f,\"gbps\":%.3f",
	       nq, b.size, b.offset, b.batch,
	       b.csum == CSUM_SW ? "sw" : b.csum == CSUM_OFFLOAD ? "offload" : "none",
	       (unsigned long long)sent, (unsigned long long)frames, (unsigned long long)bytes,
	       secs, secs > 0 ? frames / secs : 0, secs > 0 ? bytes * 8 / secs / 1e9 : 0);
	nft_print_stats_tail(nf);
	return rc;
}

/* ---------------------------------------------------------------- sink */

struct flow {
	uint8_t src[6];
	uint16_t queue;
	uint64_t next;
};

#define MAX_FLOWS 64

struct sink_state {
	struct flow flows[MAX_FLOWS];
	unsigned nflows;
};

static void sink_seq(struct sink_state *s, struct qres *r, const uint8_t *src, uint16_t queue,
		     uint64_t seq)
{
	struct flow *fl = NULL;
	unsigned i;

	for (i = 0; i < s->nflows; i++)
		if (s->flows[i].queue == queue && !memcmp(s->flows[i].src, src, 6))
			fl = &s->flows[i];
	if (!fl) {
		if (s->nflows == MAX_FLOWS)
			return;
		fl = &s->flows[s->nflows++];
		memcpy(fl->src, src, 6);
		fl->queue = queue;
		fl->next = seq; /* a sink started late: from here on */
	}
	if (seq == fl->next) {
		fl->next++;
	} else if (seq > fl->next) {
		r->lost += seq - fl->next;
		fl->next = seq + 1;
	} else {
		r->reordered++;
	}
}

/* 1: gen's frame, checked; 0: someone else's. */
static int sink_check(const struct bench *b, struct sink_state *s, struct qres *r, uint8_t *f,
		      uint32_t len, const struct virtio_net_hdr *vh)
{
	struct nft_payload pl;
	uint32_t ip_len;

	if (len < NFT_MIN_FRAME || f[12] != 0x08 || f[13] != 0x00 || f[23] != IPPROTO_UDP ||
	    f[36] != 0 || f[37] != 9)
		return 0;
	memcpy(&pl, f + NFT_HDRS, sizeof(pl));
	if (pl.magic != NFT_MAGIC)
		return 0;
	/* The IPv4 total length says where gen's frame ends (padding after). */
	ip_len = (uint32_t)f[16] << 8 | f[17];
	if (ip_len + 14 < NFT_MIN_FRAME || ip_len + 14 > len ||
	    (nft_pattern_sum(f + NFT_MIN_FRAME, ip_len + 14 - NFT_MIN_FRAME) ^
	     nft_seq_mix(pl.seq)) != pl.sum) {
		r->bad++;
		return 1;
	}
	len = ip_len + 14;
	if (pv_net_csum_fold(pv_net_csum_add(0, f + 14, 20)) != 0xffff)
		r->bad_csum++;
	if (b->verify && !(vh->flags & VIRTIO_NET_HDR_F_DATA_VALID)) {
		struct pv_net_l4 l4 = { .l3 = 14, .l4 = 34, .proto = IPPROTO_UDP };
		uint32_t sum;

		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			pv_net_csum_complete(f, len, vh->csum_start, vh->csum_offset);
		if (f[40] || f[41]) {
			sum = pv_net_csum_add(0, f + 34, len - 34);
			sum += pv_net_pseudo_sum(f, &l4, len - 34);
			if (pv_net_csum_fold(sum) != 0xffff)
				r->bad_csum++;
		}
	}
	sink_seq(s, r, f + 6, pl.queue, pl.seq);
	return 1;
}

static void sink_thread(struct nft_thread *t)
{
	struct bench *b = t->arg;
	struct qres *r = &res[t->q];
	struct sink_state *s = calloc(1, sizeof(*s));
	struct virtio_net_hdr vh;
	uint8_t *buf = malloc(NETFRONT_MAX_FRAME);
	double start = nft_now(), last = start;
	uint32_t taken = 0;
	int n;

	if (!s || !buf) {
		t->rc = -ENOMEM;
		goto out;
	}
	while (!*t->stop && !b->finished) {
		n = netfront_recv(t->nf, t->q, buf, NETFRONT_MAX_FRAME, &vh);
		if (n < 0) {
			t->rc = n;
			break;
		}
		if (n > 0) {
			double now = nft_now();

			if (!r->frames && !r->foreign)
				r->t0 = now;
			r->t1 = last = now;
			if (sink_check(b, s, r, buf, (uint32_t)n, &vh)) {
				r->frames++;
				r->bytes += (uint32_t)n;
				if (b->count &&
				    __atomic_add_fetch(&b->total, 1, __ATOMIC_RELAXED) >= b->count)
					b->finished = 1;
			} else {
				r->foreign++;
			}
			if (++taken >= b->batch) {
				netfront_kick(t->nf, t->q); /* the buffers back to the backend */
				taken = 0;
			}
			continue;
		}
		netfront_kick(t->nf, t->q);
		taken = 0;
		if (b->idle > 0 && nft_now() - last > b->idle)
			break;
		nft_wait_queue(t, 100);
	}
	r->flows = s->nflows;
out:
	free(s);
	free(buf);
}

int nft_sink(struct netfront *nf, int argc, char **argv)
{
	struct nft_thread th[NETFRONT_MAX_QUEUES];
	unsigned q, nq = netfront_info(nf)->nr_queues;
	struct qres sum = { 0 };
	double t0 = 0, t1 = 0, secs;
	struct bench b;
	int rc;

	rc = common_opts(&b, argc, argv, false);
	if (rc < 0)
		return rc;
	memset(res, 0, sizeof(res));
	rc = nft_run_queues(nf, sink_thread, &b, b.seconds, "ready", th, NULL);
	for (q = 0; q < nq; q++) {
		struct qres *r = &res[q];

		sum.frames += r->frames;
		sum.bytes += r->bytes;
		sum.foreign += r->foreign;
		sum.bad += r->bad;
		sum.bad_csum += r->bad_csum;
		sum.lost += r->lost;
		sum.reordered += r->reordered;
		sum.flows += r->flows;
		if (r->t0 && (!t0 || r->t0 < t0))
			t0 = r->t0;
		if (r->t1 > t1)
			t1 = r->t1;
	}
	secs = t1 > t0 ? t1 - t0 : 0;
	printf("{\"cmd\":\"sink\",\"queues\":%u,\"frames\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
	       "\"pps\":%.0f,\"gbps\":%.3f,\"foreign\":%llu,\"bad\":%llu,\"bad_csum\":%llu,"
	       "\"lost\":%llu,\"reordered\":%llu,\"flows\":%llu",
	       nq, (unsigned long long)sum.frames, (unsigned long long)sum.bytes, secs,
	       secs > 0 ? sum.frames / secs : 0, secs > 0 ? sum.bytes * 8 / secs / 1e9 : 0,
	       (unsigned long long)sum.foreign, (unsigned long long)sum.bad,
	       (unsigned long long)sum.bad_csum, (unsigned long long)sum.lost,
	       (unsigned long long)sum.reordered, (unsigned long long)sum.flows);
	nft_print_stats_tail(nf);
	return rc;
}
