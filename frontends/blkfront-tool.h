/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkfront-tool's pieces: main and the well-behaved commands
 * (blkfront-tool.c), the hostile guest (blkfront-hostile.c: one malformed
 * request per rule, and the sustained attacks), and what they share: the
 * connection, the options, and draining every queue.  Private to the tool.
 */
#ifndef BLKFRONT_TOOL_H
#define BLKFRONT_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "blkfront.h"

struct run {
	struct blkfront *bf;
	bool zerocopy;          /* verify's buffer from blkfront_buf_alloc */
	unsigned done, errors;
	int last_status;
};

/* What the attacks take besides the connection's options. */
struct bft_attack {
	struct blkfront_opts bo;  /* the connection's (the attacks reconnect with them) */
	unsigned long count;      /* answers (or rounds, writes) to reach; 0: the mode's default */
	unsigned grants;          /* distinct data pages the requests name (default 4) */
	const char *close;        /* hold-full: the devids to close, "51728,51744" */
	bool until_stdin;         /* also stop at a line or EOF on stdin */
	uint64_t seed;
};

/* blkfront_done_fn counting into struct run. */
void bft_on_done(void *opaque, uint64_t tag, int status);
/* Complete everything outstanding on every queue, waiting timeout_ms per
 * event at most: 0, -ETIMEDOUT or -errno. */
int bft_drain(struct run *r, int timeout_ms);

/* One malformed request (or ring index) per rule; prints "status N" (or
 * "status sent-overflow" / "status no-response") and "backend STATE". */
int bft_hostile(struct run *r, const char *rule);
/* A sustained attack (mode: see the usage text); prints its counters. */
int bft_attack(struct run *r, const struct bft_attack *a, const char *mode);

#endif /* BLKFRONT_TOOL_H */
