/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netif ABI that Debian's <xen/io/netif.h> (Xen 4.17) does not provide but
 * Linux's own copy (include/xen/interface/io/netif.h, since 5.9) does: the
 * XDP headroom extra.  A Linux 6.1 netback sends it on guest RX, after the
 * first data slot, once the frontend wrote xdp-headroom (and every data
 * slot then starts that far into its page); Linux netfront takes extra
 * types up to it, so the valid range is 1 .. PV_NETIF_EXTRA_TYPE_MAX - 1
 * where Xen's header says 1 .. XEN_NETIF_EXTRA_TYPE_MAX - 1.
 *
 * Everything else of netif comes from <xen/io/netif.h>, never retyped.
 * Shared protocol ABI (common/abi/): netback/ and frontends/ both include it.
 */
#ifndef PV_ABI_NETIF_H
#define PV_ABI_NETIF_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>

/* Linux's XEN_NETIF_EXTRA_TYPE_XDP: u.xdp.headroom, a uint16_t where
 * u.gso.size is (Linux: struct { uint16_t headroom; uint16_t pad[2]; } xdp). */
#define PV_NETIF_EXTRA_TYPE_XDP   5
/* Linux's XEN_NETIF_EXTRA_TYPE_MAX (Xen 4.17's is 5). */
#define PV_NETIF_EXTRA_TYPE_MAX   6
/* Linux's XEN_NETIF_MAX_XDP_HEADROOM: netback clamps xdp-headroom to it. */
#define PV_NETIF_MAX_XDP_HEADROOM 0x7fff

_Static_assert(XEN_NETIF_EXTRA_TYPE_MAX == PV_NETIF_EXTRA_TYPE_XDP,
	       "<xen/io/netif.h> gained extra types: check PV_NETIF_EXTRA_TYPE_*");
_Static_assert(offsetof(struct netif_extra_info, u.pad) == 2 &&
		       offsetof(struct netif_extra_info, u.gso.size) == 2,
	       "the XDP extra's headroom is the union's first 16 bits");

static inline uint16_t pv_netif_extra_xdp_headroom(const struct netif_extra_info *e)
{
	return e->u.pad[0];
}

static inline void pv_netif_extra_set_xdp_headroom(struct netif_extra_info *e, uint16_t headroom)
{
	e->u.pad[0] = headroom;
}

#endif /* PV_ABI_NETIF_H */
