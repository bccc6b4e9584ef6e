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

/* A command the control FIFO hands to queue 0's thread (netfront_mcast
 * must run there): posted by the main thread, done by the queue's. */
enum { NFT_CMD_IDLE, NFT_CMD_POSTED, NFT_CMD_SENT };
struct nft_cmd {
	int state;                   /* NFT_CMD_*, atomic: the handover */
	unsigned seq;                /* the control command's number, in its reply */
	bool add;                    /* mcast add, else del */
	uint8_t mac[6];
};

/* A queue thread: it owns netfront queue q and runs until *stop (polling
 * stop_fd with its own fds), leaving 0 or -errno in rc. */
struct nft_thread {
	struct netfront *nf;
	unsigned q;
	int stop_fd;                 /* an eventfd, readable once stopping */
	volatile int *stop;
	void *arg;                   /* the command's */
	int rc;
	/* With a control FIFO, on queue 0: its command, and an eventfd
	 * readable when one was posted (else NULL and -1). */
	struct nft_cmd *cmd;
	int cmd_fd;
};

/* The control FIFO of a running command (tap --control): one command a
 * line, each answered by one line "control N: ..." on stdout (N counts
 * the commands from 1): mcast add|del MAC, mcast-control on|off,
 * reconfigure N, ctrl TYPE [D0 D1 D2], hash-key HEX, hash-mapping OFF Q...
 * Opened read-write so that writers come and go without an end of file. */
struct nft_control;
int nft_control_open(const char *path, struct nft_control **out);
void nft_control_close(struct nft_control *c);
typedef void nft_thread_fn(struct nft_thread *t);

/*
 * Start fn on one thread per queue (signals blocked there), then wait on
 * the main thread for SIGTERM/SIGINT, seconds (0: none), the backend
 * leaving Connected (Reconfigured counts as connected: Linux netback stays
 * there after an XDP change), or every thread returning; stop and join
 * them.  ctl (NULL: none): a control FIFO served meanwhile.
 * ready: printed ("ready") once the threads run (NULL: nothing).  Returns
 * the first thread error, -ECONNRESET when the backend left, or 0.
 */
int nft_run_queues(struct netfront *nf, nft_thread_fn *fn, void *arg, double seconds,
		   const char *ready, struct nft_thread *threads, struct nft_control *ctl);
/* Queue threads with a control FIFO: call after each netfront_tx_complete
 * (runs a posted command, answers it once its response came); and clear
 * cmd_fd when it fired. */
void nft_thread_cmd(struct nft_thread *t);
void nft_thread_cmd_ack(struct nft_thread *t);
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

/* attack MODE (netfront-hostile.c): a sustained hostile guest on queue 0;
 * flip reconnects after a disconnect with o (*nf changes, NULL when the
 * last reconnect failed).  Prints its counters; 0 or -errno. */
struct netfront_opts;
int nft_attack(struct netfront **nf, const struct netfront_opts *o, int argc, char **argv);

#endif /* NETFRONT_TOOL_H */
