/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netfront-tool's pieces: main and the one-shot commands (netfront-tool.c),
 * the TAP bridge (netfront-tap.c), the packet generator and sink
 * (netfront-bench.c), and what they share: one thread per netfront queue
 * run until a stop (SIGTERM/SIGINT, a duration, the backend leaving
 * Connected, or every thread done), and the frame format gen writes and
 * sink checks.  Private to the tool.
 */
#ifndef NETFRONT_TOOL_H
#define NETFRONT_TOOL_H

#include <stdbool.h>
#include <stdint.h>

struct netfront;

/* A queue thread: it owns netfront queue q and runs until *stop (polling
 * stop_fd with its own fds), leaving 0 or -errno in rc. */
struct nft_thread {
	struct netfront *nf;
	unsigned q;
	int stop_fd;                 /* an eventfd, readable once stopping */
	volatile int *stop;
	void *arg;                   /* the command's */
	int rc;
};
typedef void nft_thread_fn(struct nft_thread *t);

/*
 * Start fn on one thread per queue (signals blocked there), then wait on
 * the main thread for SIGTERM/SIGINT, seconds (0: none), the backend
 * leaving Connected, or every thread returning; stop and join them.
 * ready: printed ("ready") once the threads run (NULL: nothing).  Returns
 * the first thread error, -ECONNRESET when the backend left, or 0.
 */
int nft_run_queues(struct netfront *nf, nft_thread_fn *fn, void *arg, double seconds,
		   const char *ready, struct nft_thread *threads);
/* Wait up to ms for queue q's event channel (or t->stop_fd); acks it.
 * 0 on an event or timeout, -errno. */
int nft_wait_queue(struct nft_thread *t, int ms);
double nft_now(void);
/* The end of a command's JSON line: netfront's counters summed over the
 * queues, the broken reason if any, "}\n". */
void nft_print_stats_tail(struct netfront *nf);

/* netfront-tap.c / netfront-bench.c: argv starts at the command's name. */
int nft_tap(struct netfront *nf, int argc, char **argv);
int nft_gen(struct netfront *nf, int argc, char **argv);
int nft_sink(struct netfront *nf, int argc, char **argv);

/* gen's frames: Ethernet, IPv4 192.0.2.1 -> 192.0.2.2 (TEST-NET-1), UDP
 * 9000 + queue -> 9 (discard), then this header and a fixed pattern. */
#define NFT_MAGIC 0x4e46474eu /* "NFGN" */
#define NFT_HDRS  (14u + 20u + 8u)
struct nft_payload {
	uint32_t magic;
	uint16_t queue;              /* the generator's queue: one flow each */
	uint64_t seq;                /* per flow, from 0 */
	uint32_t sum;                /* nft_pattern_sum(pattern) ^ nft_seq_mix(seq) */
} __attribute__((packed));       /* then the pattern, to the IPv4 total length */
#define NFT_MIN_FRAME (NFT_HDRS + (unsigned)sizeof(struct nft_payload)) /* 60 */

uint32_t nft_pattern_sum(const uint8_t *p, uint32_t len);
static inline uint32_t nft_seq_mix(uint64_t seq)
{
	return (uint32_t)(seq * 0x9e3779b97f4a7c15ull >> 32);
}
static inline uint8_t nft_pattern_byte(uint32_t i)
{
	return (uint8_t)(i * 7u + 13u);
}

#endif /* NETFRONT_TOOL_H */
