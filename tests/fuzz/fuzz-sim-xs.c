// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for pvsim's whole xenstored (sim/
 * xs_server.c over xs_store.c and xs_wire.c), where fuzz-xs-wire stops at
 * the wire layer and the store: watches and their events, transactions,
 * INTRODUCE / RELEASE / SET_TARGET / IS_DOMAIN_INTRODUCED with their
 * number arguments, DIRECTORY_PART offsets, CONTROL, quotas and oversized
 * headers, as a guest (domain 1) and dom0 send them on their sockets.  A
 * fresh daemon per input, on a pv_loop in this thread, listening in a tmpfs
 * directory; the input is a stream of messages: a byte (bit 0: dom0 or the
 * guest; bit 7: send the header as given, else its length is that of the
 * payload that follows, at most 4096 bytes), the 16-byte header, the
 * payload.  Each is sent and the daemon runs until idle; the replies are
 * read.  Invariants: every reply is a well-formed message within
 * XENSTORE_PAYLOAD_MAX; the guest never gets a success of a dom0-only
 * request, nor the value of dom0's node /local/domain/0/secret (n0)
 * unless it sent those bytes itself (a watch on such a path echoes them).
 * Build: make fuzz-xs (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pvcommon.h"
#include "xs.h"
#include "xs_wire.h"
#include "fuzz-common.h"

#define SECRET "s3cret-of-dom0"

static struct pv_loop *loop;
static char sock[2][64];
static uint8_t rbuf[2][1 << 16];
static size_t rlen[2];
static bool guest_knows; /* the guest itself sent the secret's bytes (a path, a value) */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir("fuzz-sim-xs");

	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < 2; i++)
		snprintf(sock[i], sizeof(sock[i]), "%s/%u", dir, i);
	FUZZ_CHECK(pv_loop_create(&loop) == 0);
	return 0;
}

/* The replies of client who: whole messages are checked and dropped. */
static void check_replies(unsigned who)
{
	struct xsd_sockmsg hdr;
	size_t off = 0;

	while (rlen[who] - off >= SIM_XS_HDR_LEN) {
		memcpy(&hdr, rbuf[who] + off, sizeof(hdr));
		FUZZ_CHECK(hdr.len <= XENSTORE_PAYLOAD_MAX);
		if (rlen[who] - off - SIM_XS_HDR_LEN < hdr.len)
			break;
		if (who == 1)
			FUZZ_CHECK(hdr.type != XS_CONTROL && hdr.type != XS_INTRODUCE &&
				   hdr.type != XS_RELEASE && hdr.type != XS_IS_DOMAIN_INTRODUCED &&
				   hdr.type != XS_RESUME && hdr.type != XS_SET_TARGET);
		if (who == 1 && !guest_knows && hdr.len >= sizeof(SECRET) - 1)
			FUZZ_CHECK(!memmem(rbuf[who] + off + SIM_XS_HDR_LEN, hdr.len, SECRET,
					   sizeof(SECRET) - 1));
		off += SIM_XS_HDR_LEN + hdr.len;
	}
	memmove(rbuf[who], rbuf[who] + off, rlen[who] - off);
	rlen[who] -= off;
}

/* Run the daemon until it has nothing left to do, reading what it says. */
static void pump(const int *fd)
{
	for (unsigned round = 0; round < 64; round++) {
		int busy = pv_loop_run_once(loop, 0) > 0;

		for (unsigned i = 0; i < 2; i++) {
			ssize_t n;

			while (fd[i] >= 0 &&
			       (n = read(fd[i], rbuf[i] + rlen[i], sizeof(rbuf[i]) - rlen[i])) > 0) {
				rlen[i] += (size_t)n;
				busy = 1;
				check_replies(i);
				if (rlen[i] == sizeof(rbuf[i]))
					rlen[i] = 0; /* one reply cannot be this long: caught above */
			}
		}
		if (!busy)
			return;
	}
}

static void send_msg(int *fd, struct fuzz_in *in)
{
	uint8_t how = (uint8_t)fuzz_uint(in, 1), msg[SIM_XS_HDR_LEN + XENSTORE_PAYLOAD_MAX];
	unsigned who = how & 1;
	struct xsd_sockmsg hdr;
	size_t plen;

	fuzz_take(in, &hdr, sizeof(hdr));
	plen = (how & 0x80) ? hdr.len : hdr.len % (XENSTORE_PAYLOAD_MAX + 1);
	if (plen > in->n)
		plen = in->n;
	if (plen > XENSTORE_PAYLOAD_MAX)
		plen = XENSTORE_PAYLOAD_MAX;
	if (!(how & 0x80))
		hdr.len = (uint32_t)plen;
	memcpy(msg, &hdr, sizeof(hdr));
	fuzz_take(in, msg + SIM_XS_HDR_LEN, plen);
	if (who == 1 && memmem(msg, SIM_XS_HDR_LEN + plen, SECRET, sizeof(SECRET) - 1))
		guest_knows = true; /* an echo of its own bytes is no leak */
	/* No SIGPIPE (it would end the run without a report): EPIPE. */
	if (fd[who] >= 0 && send(fd[who], msg, SIM_XS_HDR_LEN + plen, MSG_NOSIGNAL) < 0) {
		close(fd[who]); /* the daemon closed it (a bad header) */
		fd[who] = -1;
	}
	pump(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct sim_xs *xs;
	int fd[2];
	unsigned i;

	FUZZ_CHECK(sim_xs_create(loop, &xs) == 0);
	FUZZ_CHECK(sim_xs_introduce(xs, 1) == 0);
	FUZZ_CHECK(sim_xs_write(xs, "/local/domain/1/name", "guest") == 0);
	FUZZ_CHECK(sim_xs_write(xs, "/local/domain/0/secret", SECRET) == 0);
	FUZZ_CHECK(sim_xs_set_perms(xs, "/local/domain/0/secret", "n0") == 0);
	FUZZ_CHECK(sim_xs_set_perms(xs, "/local/domain/1", "n0 b1") == 0);
	for (i = 0; i < 2; i++) {
		FUZZ_CHECK(sim_xs_listen(xs, (uint16_t)i, sock[i]) == 0);
		fd[i] = pv_unix_connect(sock[i], SOCK_STREAM);
		FUZZ_CHECK(fd[i] >= 0);
		FUZZ_CHECK(fcntl(fd[i], F_SETFL, O_NONBLOCK) == 0);
		rlen[i] = 0;
	}
	guest_knows = false;
	pump(fd);
	while (in.n)
		send_msg(fd, &in);
	for (i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	fd[0] = fd[1] = -1;
	pump(fd);
	sim_xs_destroy(xs);
	return 0;
}
