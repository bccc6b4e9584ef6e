// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvbench-xs: xenstore round-trip cost through libxenstore against whatever
 * XENSTORED_PATH points at (pvsim, or a real xenstored).  Prints one JSON
 * object per metric: xs_read and xs_write, p50/p99/mean in microseconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "pvcommon.h"
#include "benchlib.h"

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 20000;
	const char *path = "/local/domain/0/data/pvbench";
	struct xs_handle *xs;
	uint64_t *ns;

	if (n < 100)
		n = 100;
	xs = xs_open(0);
	if (!xs) {
		fprintf(stderr, "pvbench-xs: cannot connect to xenstored: %s\n", strerror(errno));
		return 1;
	}
	ns = calloc(n, sizeof(*ns));
	if (!ns)
		return 1;
	if (!xs_write(xs, XBT_NULL, path, "0123456789abcdef", 16)) {
		fprintf(stderr, "pvbench-xs: write %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = pv_now_ns();

		if (!xs_write(xs, XBT_NULL, path, "0123456789abcdef", 16))
			return 1;
		ns[i] = pv_now_ns() - t0;
	}
	bench_report("xs_write", ns, n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = pv_now_ns();
		unsigned len;
		char *v = xs_read(xs, XBT_NULL, path, &len);

		if (!v)
			return 1;
		free(v);
		ns[i] = pv_now_ns() - t0;
	}
	bench_report("xs_read", ns, n);
	xs_rm(xs, XBT_NULL, path);
	xs_close(xs);
	free(ns);
	return 0;
}
