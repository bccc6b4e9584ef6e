/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers of pvback's micro-benchmarks: latency samples -> one JSON
 * line, long options from a table of typed values, and a stop flag that
 * SIGTERM / SIGINT raise (single-threaded tools). */
#ifndef PVBENCH_LIB_H
#define PVBENCH_LIB_H

#include <stdbool.h>
#include <stdint.h>

/* Sorts ns[0..n) and prints {"name", "unit": "us", n, p50, p99, mean}. */
void bench_report(const char *name, uint64_t *ns, unsigned n);

/* --NAME VALUE options, each stored through val as its type says. */
enum bench_opt_type { BENCH_OPT_UINT, BENCH_OPT_U64, BENCH_OPT_DOUBLE, BENCH_OPT_STR,
		      BENCH_OPT_MAC };
struct bench_opt {
	const char *name;
	enum bench_opt_type type;
	void *val;  /* unsigned, uint64_t, double, const char *, uint8_t[6] */
};

/* getopt_long over opts[0..n) and --help, for a tool's main(): --help
 * prints usage to stdout and exits 0; an unknown option or a value that
 * is not entirely a number (a MAC) prints it to stderr and exits 2.
 * optind is left at the first operand. */
void bench_opts_parse(int argc, char **argv, const struct bench_opt *opts, unsigned n,
		      const char *usage);
/* Print usage (stdout for status 0, else stderr) and exit with status. */
void bench_usage_exit(const char *usage, int status) __attribute__((noreturn));

/* SIGTERM and SIGINT set the stop flag (no SA_RESTART: a blocked call
 * returns EINTR); bench_stopped() reads it. */
void bench_catch_stop(void);
bool bench_stopped(void);

#endif
