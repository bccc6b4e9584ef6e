/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Latency histograms with log2 buckets of nanoseconds: bucket i counts
 * samples in [2^i, 2^(i+1)) ns (bucket 0 also takes 0 ns, the last one
 * everything above).  Adding is O(1) and allocation-free so data paths can
 * record every request.  No locking: each thread keeps its own histogram and
 * a reader merges copies (pv_stats_hist_merge).
 */
#include "pvcommon.h"

static unsigned bucket_of(uint64_t ns)
{
	unsigned b;

	if (ns < 2)
		return 0;
	b = 63u - (unsigned)__builtin_clzll(ns);
	return b < PV_STATS_HIST_BUCKETS ? b : PV_STATS_HIST_BUCKETS - 1;
}

void pv_stats_hist_add(struct pv_stats_hist *h, uint64_t ns)
{
	h->bucket[bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
}

void pv_stats_hist_merge(struct pv_stats_hist *dst, const struct pv_stats_hist *src)
{
	for (unsigned i = 0; i < PV_STATS_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
}

uint64_t pv_stats_hist_percentile(const struct pv_stats_hist *h, double pct)
{
	uint64_t total = 0, rank, seen = 0;
	unsigned i;

	for (i = 0; i < PV_STATS_HIST_BUCKETS; i++)
		total += h->bucket[i];
	if (!total)
		return 0;
	if (!(pct > 0.0)) /* also catches NaN */
		pct = 0.0;
	if (pct > 100.0)
		pct = 100.0;
	/* The smallest rank r (1-based) with r >= pct% of the samples. */
	rank = (uint64_t)((pct / 100.0) * (double)total + 0.999999999);
	if (rank == 0)
		rank = 1;
	if (rank > total)
		rank = total;
	for (i = 0; i < PV_STATS_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	if (i == 0)
		return 1; /* midpoint of [0, 2) */
	/* Midpoint of [2^i, 2^(i+1)) */
	return (1ull << i) + (1ull << (i - 1));
}
