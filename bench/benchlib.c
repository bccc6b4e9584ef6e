// SPDX-License-Identifier: GPL-2.0-or-later
/* Shared helpers of pvback's micro-benchmarks (see benchlib.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "pvnet.h"
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

static int opt_store(const struct bench_opt *o, const char *arg)
{
	char *end = NULL;

	errno = 0;
	switch (o->type) {
	case BENCH_OPT_UINT: {
		unsigned long v = strtoul(arg, &end, 0);

		if (v > UINT32_MAX)
			return -EINVAL;
		*(unsigned *)o->val = (unsigned)v;
		break;
	}
	case BENCH_OPT_U64: *(uint64_t *)o->val = strtoull(arg, &end, 0); break;
	case BENCH_OPT_DOUBLE: *(double *)o->val = strtod(arg, &end); break;
	case BENCH_OPT_STR: *(const char **)o->val = arg; return 0;
	case BENCH_OPT_MAC: return pv_net_parse_mac(arg, o->val);
	}
	return errno || end == arg || *end ? -EINVAL : 0;
}

void bench_opts_parse(int argc, char **argv, const struct bench_opt *opts, unsigned n,
		      const char *usage)
{
	struct option *lo = calloc(n + 2, sizeof(*lo));
	int c, rc = 0;
	unsigned i;

	if (!lo)
		exit(1);
	for (i = 0; i < n; i++)
		lo[i] = (struct option){ opts[i].name, required_argument, NULL, (int)i };
	lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
	while (rc == 0 && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (c == 'h')
			bench_usage_exit(usage, 0);
		rc = c >= 0 && c < (int)n ? opt_store(&opts[c], optarg) : -EINVAL;
	}
	free(lo);
	if (rc < 0)
		bench_usage_exit(usage, 2);
}

void bench_usage_exit(const char *usage, int status)
{
	fputs(usage, status ? stderr : stdout);
	exit(status);
}

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	stop_flag = 1;
}

void bench_catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

bool bench_stopped(void)
{
	return stop_flag;
}
