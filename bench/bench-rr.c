// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvbench-rr: TCP request-response latency, the netperf TCP_RR of
 * `make bench-net` (bench/bench-net), which Debian does not package.
 *
 *   server [--port P] [--size N]        listen on every address; for each
 *                                       connection in turn, answer every
 *                                       N-byte request with N bytes; prints
 *                                       "ready", runs until SIGTERM
 *   client HOST [--port P] [--size N] [--seconds S] [--count K] [--name NAME]
 *                                       one connection (TCP_NODELAY), one
 *                                       request in flight: after 100 to warm
 *                                       up, K transactions or S seconds, each
 *                                       timed from send to the last byte of
 *                                       the answer; one JSON line (benchlib:
 *                                       p50, p99, mean in µs)
 *
 * Single-threaded, blocking sockets: the time measured is two trips
 * through whatever lies between the two ends, plus four system calls.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "pvcommon.h"
#include "benchlib.h"

#define WARMUP 100u

struct opts {
	const char *port, *name;
	unsigned size;
	double seconds;
	uint64_t count;
};

/* Move exactly len bytes: 0, or -errno (-ECONNRESET at EOF). */
static int xfer(int fd, uint8_t *buf, size_t len, bool out)
{
	while (len) {
		ssize_t n = out ? send(fd, buf, len, MSG_NOSIGNAL) : recv(fd, buf, len, 0);

		if (n < 0 && errno == EINTR && !bench_stopped())
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int run_server(const struct opts *o, uint8_t *buf)
{
	struct addrinfo hints = { .ai_family = AF_INET6, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *ai;
	int one = 1, zero = 0, ls, rc;

	rc = getaddrinfo(NULL, o->port, &hints, &ai);
	if (rc)
		return -EINVAL;
	ls = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
	    bind(ls, ai->ai_addr, ai->ai_addrlen) < 0 || listen(ls, 4) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	printf("ready\n");
	fflush(stdout);
	while (!bench_stopped()) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue; /* EINTR: the loop checks the stop flag */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		while (xfer(fd, buf, o->size, false) == 0 && xfer(fd, buf, o->size, true) == 0)
			;
		close(fd);
	}
	close(ls);
	return 0;
}

static int run_client(const struct opts *o, const char *host, uint8_t *buf)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	uint64_t *ns = NULL, n = 0, cap = 0, end, i;
	struct addrinfo *ai;
	int one = 1, fd, rc;

	rc = getaddrinfo(host, o->port, &hints, &ai);
	if (rc)
		return -EHOSTUNREACH;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(buf, 0x5a, o->size);
	for (i = 0; i < WARMUP && rc == 0; i++) {
		rc = xfer(fd, buf, o->size, true);
		if (rc == 0)
			rc = xfer(fd, buf, o->size, false);
	}
	end = pv_now_ns() + (uint64_t)(o->seconds * 1e9);
	while (rc == 0 && !bench_stopped() && (!o->count || n < o->count) &&
	       (o->seconds <= 0 || pv_now_ns() < end)) {
		uint64_t t0 = pv_now_ns();

		rc = xfer(fd, buf, o->size, true);
		if (rc == 0)
			rc = xfer(fd, buf, o->size, false);
		if (rc < 0)
			break;
		if (n == cap) {
			uint64_t *p = realloc(ns, (cap = cap ? 2 * cap : 65536) * sizeof(*ns));

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			ns = p;
		}
		ns[n++] = pv_now_ns() - t0;
	}
	close(fd);
	if (n)
		bench_report(o->name, ns, (unsigned)n);
	free(ns);
	return rc == -EINTR ? 0 : rc;
}

static const char usage[] =
	"usage: pvbench-rr server [--port P] [--size N]\n"
	"       pvbench-rr client HOST [--port P] [--size N] [--seconds S] [--count K]"
	" [--name NAME]\n"
	"  defaults: --port 5301 --size 1 --seconds 5 --name tcp_rr\n";

int main(int argc, char **argv)
{
	struct opts o = { .port = "5301", .name = "tcp_rr", .size = 1, .seconds = 5 };
	const struct bench_opt opts[] = {
		{ "port", BENCH_OPT_STR, &o.port }, { "size", BENCH_OPT_UINT, &o.size },
		{ "seconds", BENCH_OPT_DOUBLE, &o.seconds }, { "count", BENCH_OPT_U64, &o.count },
		{ "name", BENCH_OPT_STR, &o.name },
	};
	uint8_t *buf;
	bool server;
	int rc;

	bench_opts_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage);
	server = optind < argc && !strcmp(argv[optind], "server");
	if (optind >= argc || !o.size || o.size > (1u << 20) ||
	    (server ? argc - optind != 1 : strcmp(argv[optind], "client") || argc - optind != 2))
		bench_usage_exit(usage, 2);
	buf = malloc(o.size);
	if (!buf)
		return 1;
	bench_catch_stop();
	rc = server ? run_server(&o, buf) : run_client(&o, argv[optind + 1], buf);
	if (rc < 0)
		fprintf(stderr, "pvbench-rr: %s: %s\n", argv[optind], strerror(-rc));
	free(buf);
	return rc < 0 ? 1 : 0;
}
