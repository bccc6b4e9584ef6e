// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for what pvback-net's dpdk ports do with
 * a guest's frames besides parsing its ring (fuzz-net-tx): the switch's MAC
 * table (netback/fdb.c) learns each frame's source on the guest's port and
 * picks its destination, and a TCP GSO super-frame is segmented in software
 * (netback/gso.c) for host ports without TSO.  Input: a stream of records,
 * each a byte of port (guest ports 0..7, the uplink 8) and clock step, a
 * virtio_net_hdr (10 bytes), 2 bytes of frame length, then the frame.
 * Invariants: a port never holds more learned entries than its limit, nor
 * the table more than its capacity; a destination is a port, FLOOD or
 * DROP, never the port the frame came in on; every segment is a parseable
 * TCP frame of at most the headers plus gso_size payload, the payloads add
 * up to the super-frame's, and there are at most 256 of them.
 * Build: make fuzz-net (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>
#include <netinet/in.h>

#include "netback.h"
#include "pvnet.h"
#include "fuzz-common.h"

#define PORTS    9u
#define PER_PORT 6u
#define CAPACITY 32u

struct gso_check {
	uint32_t hdr, mss, payload;
	unsigned nsegs;
};

static int emit(void *opaque, const uint8_t *f, uint32_t len)
{
	struct gso_check *g = opaque;
	struct pv_net_l4 l4;

	FUZZ_CHECK(len <= NET_MAX_PKT && len >= g->hdr && len - g->hdr <= g->mss);
	FUZZ_CHECK(pv_net_l4_find(f, len, PV_NET_F_VLAN, &l4) == 0 && l4.proto == IPPROTO_TCP);
	g->payload += len - g->hdr;
	g->nsegs++;
	return 0;
}

static void segment(const uint8_t *f, uint32_t len, const struct virtio_net_hdr *vh)
{
	struct gso_check g = { .mss = vh->gso_size };
	struct pv_net_l4 l4;
	int rc;

	if (pv_net_l4_find(f, len, PV_NET_F_VLAN, &l4) == 0 && l4.proto == IPPROTO_TCP &&
	    l4.l4 + 13 < len)
		g.hdr = l4.l4 + (f[l4.l4 + 12] >> 4) * 4u;
	rc = net_gso_segment(f, len, vh, emit, &g);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL && !g.nsegs);
		return;
	}
	FUZZ_CHECK((unsigned)rc == g.nsegs && g.nsegs && g.nsegs <= 256);
	FUZZ_CHECK(g.payload == len - g.hdr);
}

static void check_table(const struct net_fdb *t)
{
	unsigned p;

	FUZZ_CHECK(t->used <= t->nbuckets * NET_FDB_WAYS);
	for (p = 0; p < PORTS; p++)
		FUZZ_CHECK(t->count[p] <= PER_PORT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct net_fdb t;
	uint32_t now = 0;

	FUZZ_CHECK(net_fdb_init(&t, CAPACITY, PORTS, PER_PORT, 300, 0x5eed) == 0);
	FUZZ_CHECK(net_fdb_pin(&t, (const uint8_t[NET_ETH_ALEN]){ 0, 0x16, 0x3e, 0, 0, 1 }, 0) == 0);
	while (in.n) {
		uint8_t b = (uint8_t)fuzz_uint(&in, 1);
		unsigned port = (b & 0xf) % PORTS;
		struct virtio_net_hdr vh;
		uint32_t len;
		uint8_t *f;
		int dest;

		now += (b >> 4) * 40u; /* up to 10 minutes: entries age out */
		fuzz_take(&in, &vh, sizeof(vh));
		len = (uint32_t)fuzz_uint(&in, 2);
		f = malloc(len ? len : 1);
		FUZZ_CHECK(f);
		fuzz_take(&in, f, len);
		if (len >= NET_ETH_HLEN) {
			int rc = net_fdb_learn(&t, f + NET_ETH_ALEN, port, now);

			FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EPERM || rc == -EDQUOT ||
				   rc == -ENOSPC);
			dest = net_fdb_dest(&t, f, port, now);
			FUZZ_CHECK(dest == NET_FDB_FLOOD || dest == NET_FDB_DROP ||
				   (dest >= 0 && dest < (int)PORTS && dest != (int)port));
			check_table(&t);
		}
		if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			segment(f, len, &vh);
		free(f);
	}
	net_fdb_forget_port(&t, 0);
	check_table(&t);
	net_fdb_fini(&t);
	return 0;
}
