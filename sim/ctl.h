/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim's control protocol text (sim/ctl.c): one request line per
 * connection ("create NAME SIZE", "destroy D", "lookup D", "list", "ping",
 * "stop"), answered by lines ending with "ok [value]" or "err message".
 * Only the parsing: pvsim.c owns the socket and the domains.  Pure
 * functions, no I/O, no global state (tests/fuzz/fuzz-sim-ctl.c).
 */
#ifndef PVSIM_CTL_H
#define PVSIM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_CTL_MAX       512  /* a request line, with its newline */
#define SIM_CTL_NAME_MAX  64   /* a domain name, with its NUL */
#define SIM_CTL_MAX_DOMS  1024 /* domain ids are below this */

enum sim_ctl_op {
	SIM_CTL_EMPTY,   /* no word at all */
	SIM_CTL_UNKNOWN, /* argv[0] is no request (or a known one with other arguments) */
	SIM_CTL_PING,
	SIM_CTL_CREATE,  /* argv[1] name, argv[2] memory size */
	SIM_CTL_DESTROY, /* argv[1] domain */
	SIM_CTL_LOOKUP,  /* argv[1] domain */
	SIM_CTL_LIST,
	SIM_CTL_STOP,
};

struct sim_ctl_req {
	enum sim_ctl_op op;
	unsigned argc;
	const char *argv[4]; /* words of the line (pointing into it), argc of them */
};

/* Split line (modified in place: blanks become NULs) into at most 4 words
 * and name the request; extra words are ignored. */
void sim_ctl_parse(char *line, struct sim_ctl_req *req);
/* A domain name: 1..63 of [A-Za-z0-9._-], not starting with a digit. */
bool sim_ctl_valid_name(const char *s);
/* A memory size: decimal with an optional k/m/g (KiB, MiB, GiB), which may
 * be followed by i, B or iB; nonzero, a multiple of 4 KiB, at most 64 GiB.
 * 0 or -EINVAL. */
int sim_ctl_parse_size(const char *s, uint64_t *out);
/* A domain named by number: its id (0..SIM_CTL_MAX_DOMS - 1), -ENOENT for
 * a number out of that range, -EINVAL when key is not a number (a name). */
int sim_ctl_parse_domid(const char *key);
/* The status line of a reply: the last line of the len bytes in buf
 * (buf[len] is a NUL; a final newline is replaced by one), a pointer into
 * buf.  *body_len: the bytes before it. */
const char *sim_ctl_reply_status(char *buf, size_t len, size_t *body_len);

#endif /* PVSIM_CTL_H */
