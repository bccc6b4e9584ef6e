// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for the netif ctrl ring (feature-ctrl-ring,
 * netback/hash.c), which a Windows PV guest drives: the input is the vif's
 * queue count (1 + byte % 16), then a stream of 16-byte xen_netif_ctrl
 * requests handled one after another against one hash state, as ctrl.c
 * does; the key and mapping pages a request names are the next input bytes
 * (a grant ref of ~0 fails to copy, as an ungranted one would).  A request
 * of type INVALID (0) hashes a frame instead: 2 bytes of length, then the
 * frame, in its own allocation of exactly that length.  Invariants: only
 * SUCCESS, NOT_SUPPORTED or INVALID_PARAMETER; the algorithm is NONE or
 * TOEPLITZ, the flags within what we offer, the table at most 128 entries,
 * every entry a queue of this vif; no copy longer than a page; a frame
 * hashes only under Toeplitz with the flag of the type it reports.
 * Build: make fuzz-net-ctrl (clang); make fuzz runs every harness for a
 * while, make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>

#include "netback.h"
#include "fuzz-common.h"

static int copy_in(void *opaque, uint32_t gref, void *buf, uint32_t len)
{
	FUZZ_CHECK(len && len <= NET_PAGE_SIZE);
	if (gref == ~0u)
		return -EFAULT;
	fuzz_take(opaque, buf, len);
	return 0;
}

static void check_hash(const struct net_hash *h, unsigned nq)
{
	unsigned i;

	FUZZ_CHECK(h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE ||
		   h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
	FUZZ_CHECK(!(h->flags & ~NET_HASH_FLAGS_SUPPORTED));
	FUZZ_CHECK(h->size <= NET_HASH_MAP_MAX);
	for (i = 0; i < NET_HASH_MAP_MAX; i++)
		FUZZ_CHECK(h->mapping[i] < nq);
}

static void hash_frame(const struct net_hash *h, struct fuzz_in *in)
{
	uint32_t len = (uint32_t)fuzz_uint(in, 2), value;
	uint8_t *f = malloc(len ? len : 1), type = 0xff;

	FUZZ_CHECK(f);
	fuzz_take(in, f, len);
	if (net_hash_frame(h, f, len, &value, &type)) {
		FUZZ_CHECK(h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ);
		FUZZ_CHECK(type < 32 && (h->flags & (1u << type)));
	}
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned nq = 1 + (unsigned)fuzz_uint(&in, 1) % 16;
	struct xen_netif_ctrl_request req;
	static struct net_hash h;
	uint32_t status, out;

	memset(&h, 0, sizeof(h));
	while (in.n) {
		fuzz_take(&in, &req, sizeof(req));
		if (req.type == XEN_NETIF_CTRL_TYPE_INVALID) {
			hash_frame(&h, &in);
			continue;
		}
		status = net_ctrl_handle(&h, nq, &req, copy_in, &in, &out);
		FUZZ_CHECK(status == XEN_NETIF_CTRL_STATUS_SUCCESS ||
			   status == XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED ||
			   status == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
		if (req.type == XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE)
			FUZZ_CHECK(out == NET_HASH_MAP_MAX);
		check_hash(&h, nq);
	}
	return 0;
}
