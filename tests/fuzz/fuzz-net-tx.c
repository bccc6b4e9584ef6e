// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for netif guest-TX parsing, what a hostile
 * guest reaches first in pvback-net: the input is a stream of 12-byte tx
 * ring entries (requests and extras in any order).  Each packet is fed to
 * the slot assembler (netback/request.c) and, when it comes out valid, its
 * offloads are set up (netback/offload.c) on a frame built from the rest of
 * the input, the checksum completed.  Invariants: a packet never holds more
 * slots, frags or bytes than netif allows, a valid one stays inside its
 * pages, and an offload points inside its frame.
 * Build: make fuzz-net (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENT 12u

static void check_valid(const struct net_tx_pkt *p, const uint8_t *rest, size_t rest_len)
{
	static uint8_t frame[NET_MAX_PKT];
	struct virtio_net_hdr vh;
	uint32_t len = net_tx_pkt_len(p);
	unsigned i;

	if ((uint32_t)p->first.offset + p->first_len > NET_PAGE_SIZE || len > 0xffff ||
	    p->nr_frags > NET_TX_MAX_FRAGS)
		abort();
	for (i = 0; i < p->nr_frags; i++)
		if ((uint32_t)p->frag[i].offset + p->frag[i].size > NET_PAGE_SIZE)
			abort();
	/* The frame the guest's pages would have held. */
	memset(frame, 0, len);
	memcpy(frame, rest, rest_len < len ? rest_len : len);
	if (net_offload_from_tx(p->first.flags, &p->extra[XEN_NETIF_EXTRA_TYPE_GSO - 1], frame, len,
				len, &vh) < 0)
		return;
	if ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    ((uint32_t)vh.csum_start + vh.csum_offset + 2 > len || vh.hdr_len > len))
		abort();
	if (net_csum_complete(frame, len, &vh) < 0 && (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_tx_pkt p;
	const char *why;
	size_t off = 0;
	int rc;

	while (off + ENT <= size) {
		net_tx_pkt_init(&p);
		rc = NET_TX_NEED;
		while (rc == NET_TX_NEED && off + ENT <= size) {
			rc = net_tx_feed(&p, data + off, &why);
			off += ENT;
			if (p.nr_slots > 1 + (PV_NETIF_EXTRA_TYPE_MAX - 1) + NET_TX_FATAL_SLOTS)
				abort();
		}
		if (rc < 0)
			return 0; /* the vif is gone: nothing more is read */
		if (rc == NET_TX_READY && !p.drop && !net_tx_pkt_is_dummy(&p))
			check_valid(&p, data + off, size - off);
	}
	return 0;
}
