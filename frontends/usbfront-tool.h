/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbfront-tool's pieces shared between its files: the connection and the
 * options every command sees, argument helpers, and the commands that live
 * in their own files (usbfront-zero.c: the gadget-zero cases;
 * usbfront-storage.c: BOT/SCSI storage and the benchmarks).
 */
#ifndef USBFRONT_TOOL_H
#define USBFRONT_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "usbfront.h"

struct uft {
	struct usbfront *uf;     /* NULL after a failed reconnect (attack flip) */
	const struct usbfront_opts *opts; /* the connection's (attacks reconnect) */
	bool json;
	int xfer_ms;     /* per transfer (--xfer-timeout), default 5000 */
	int wait_ms;     /* waiting for ports, typing (--timeout S), default 10 s */
};

/* "1", "0x81": 0 or -EINVAL. */
int uft_uint(const char *s, unsigned long max, unsigned long *out);
/* The port argument, checked against num-ports; -EINVAL with a message. */
int uft_port(struct uft *t, const char *s, unsigned *port);
/* Wait (t->wait_ms) for the port's device, then enumerate it with config
 * (-1: its first); a message on failure. */
int uft_open_dev(struct uft *t, unsigned port, int config, struct usbfront_dev *d);
/* errno name ("EPIPE") or the number. */
const char *uft_err(int err);
double uft_now(void);

/* A bulk/interrupt transfer of len bytes on endpoint ep_addr (0x81 ...)
 * of d: the actual length or a negative errno. */
int uft_xfer(struct uft *t, const struct usbfront_dev *d, uint8_t type, uint8_t ep_addr,
	     void *buf, uint32_t len, uint16_t flags);

int uft_zero(struct uft *t, int argc, char **argv);
int uft_storage(struct uft *t, int argc, char **argv);
int uft_bench(struct uft *t, int argc, char **argv);
/* attack [--count N] [--seed S] MODE PORT (usbfront-hostile.c): a sustained
 * hostile guest against the gadget-zero device on PORT; prints its counters. */
int uft_attack(struct uft *t, int argc, char **argv);

#endif /* USBFRONT_TOOL_H */
