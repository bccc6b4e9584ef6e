/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers of pvback's micro-benchmarks: latency samples -> one JSON line. */
#ifndef PVBENCH_LIB_H
#define PVBENCH_LIB_H

#include <stdint.h>

/* Sorts ns[0..n) and prints {"name", "unit": "us", n, p50, p99, mean}. */
void bench_report(const char *name, uint64_t *ns, unsigned n);

#endif
