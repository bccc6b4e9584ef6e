// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for pvsim's control protocol text
 * (sim/ctl.c): the input is one request line as a client of ctl.sock sends
 * it (read into a SIM_CTL_MAX buffer, as pvsim.c's ctl_accept does), each
 * of its words as a domain name, memory size and domain number, and the
 * whole input as a reply the CLI parses.  Invariants: at most 4 words, each
 * non-empty, blank-free and inside the line, the request's arity as its
 * op demands; an accepted name is 1..63 allowed characters not starting
 * with a digit; an accepted size is the number times its unit without
 * wrapping, nonzero, 4 KiB aligned, at most 64 GiB; a domain number is
 * below SIM_CTL_MAX_DOMS; a reply's status line is one line at its end.
 * Build: make fuzz-sim-ctl (clang); make fuzz runs every harness for a
 * while, make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>

#include "ctl.h"
#include "fuzz-common.h"

static void check_req(const char *line, size_t len, const struct sim_ctl_req *req)
{
	static const unsigned arity[] = { [SIM_CTL_CREATE] = 3, [SIM_CTL_DESTROY] = 2,
					  [SIM_CTL_LOOKUP] = 2 };
	unsigned i;

	FUZZ_CHECK(req->argc <= 4);
	FUZZ_CHECK((req->op == SIM_CTL_EMPTY) == (req->argc == 0));
	if (req->op < sizeof(arity) / sizeof(arity[0]) && arity[req->op])
		FUZZ_CHECK(req->argc == arity[req->op]);
	for (i = 0; i < req->argc; i++) {
		const char *w = req->argv[i];

		FUZZ_CHECK(w >= line && w < line + len && *w);
		FUZZ_CHECK(!strpbrk(w, " \t\n") && w + strlen(w) <= line + len);
	}
}

static void check_name(const char *w)
{
	size_t n = strlen(w);

	if (!sim_ctl_valid_name(w))
		return;
	FUZZ_CHECK(n >= 1 && n < SIM_CTL_NAME_MAX && !(w[0] >= '0' && w[0] <= '9'));
	FUZZ_CHECK(strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n);
}

static void check_size(const char *w)
{
	unsigned long long num, unit = 1, bytes;
	uint64_t v;
	char *end;

	if (sim_ctl_parse_size(w, &v) < 0)
		return;
	FUZZ_CHECK(v && v % 4096 == 0 && v <= 64ull << 30);
	/* What the words say, computed without wrapping. */
	num = strtoull(w, &end, 10);
	if (*end == 'k' || *end == 'K')
		unit = 1ull << 10;
	else if (*end == 'm' || *end == 'M')
		unit = 1ull << 20;
	else if (*end == 'g' || *end == 'G')
		unit = 1ull << 30;
	FUZZ_CHECK(!__builtin_mul_overflow(num, unit, &bytes) && bytes == v);
}

static void check_domid(const char *w)
{
	int id = sim_ctl_parse_domid(w);

	FUZZ_CHECK(id == -EINVAL || id == -ENOENT || (id >= 0 && id < SIM_CTL_MAX_DOMS));
}

static void check_reply(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const char *last;
	size_t body;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	buf[size] = '\0';
	last = sim_ctl_reply_status(buf, size, &body);
	FUZZ_CHECK(last >= buf && last == buf + body && body <= size);
	FUZZ_CHECK(!memchr(last, '\n', size - body)); /* one line, at the end */
	FUZZ_CHECK(!body || buf[body - 1] == '\n');
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[SIM_CTL_MAX], copy[SIM_CTL_MAX];
	size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	struct sim_ctl_req req;
	unsigned i;

	memcpy(line, data, n);
	line[n] = '\0';
	sim_ctl_parse(line, &req);
	check_req(line, n, &req);
	for (i = 0; i < req.argc; i++) {
		snprintf(copy, sizeof(copy), "%s", req.argv[i]);
		check_name(copy);
		check_size(copy);
		check_domid(copy);
	}
	check_reply(data, size);
	return 0;
}
