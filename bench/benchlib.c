// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared helpers of pvback's micro-benchmarks (see benchlib.h). */
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bench_report(const char *name, uint64_t *ns, unsigned n)
{
	double sum = 0;

	if (n == 0)
		return;
	qsort(ns, n, sizeof(*ns), cmp_u64);
	for (unsigned i = 0; i < n; i++)
		sum += (double)ns[i];
	printf("{\"name\": \"%s\", \"unit\": \"us\", \"n\": %u, \"p50\": %.2f, \"p99\": %.2f, "
	       "\"mean\": %.2f}\n",
	       name, n, ns[n / 2] / 1e3, ns[(n * 99) / 100] / 1e3, sum / n / 1e3);
	fflush(stdout);
}
