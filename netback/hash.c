// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netif hashing (feature-ctrl-ring): the ctrl-ring messages that set the
 * frontend's Toeplitz hash (algorithm, flags, key, mapping table), as
 * Linux 6.1's xen-netback hash.c answers them, and the hash of a frame's
 * IPv4/IPv6 (+TCP) headers that guest RX hands the frontend in a HASH
 * extra.  The Toeplitz function is netif.h's own.  Pure, but for the copy
 * callback that fetches the key and the table from guest pages.
 */
#include <errno.h>
#include <string.h>

#define XEN_NETIF_DEFINE_TOEPLITZ
#include "netback.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool net_hash_frame(const struct net_hash *h, const uint8_t *f, uint32_t len, uint32_t *value,
		    uint8_t *type)
{
	uint8_t buf[36];
	uint32_t off = NET_ETH_HLEN, n;
	uint16_t proto;
	bool tcp;

	if (h->alg != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ || !h->flags || len < off)
		return false;
	proto = be16(f + 12);
	if (proto == 0x0800) {
		unsigned ihl;

		if (off + 20 > len || !(h->flags & (XEN_NETIF_CTRL_HASH_TYPE_IPV4 |
						    XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP)))
			return false;
		ihl = (f[off] & 0xfu) * 4u;
		memcpy(buf, f + off + 12, 8);
		n = 8;
		tcp = f[off + 9] == 6 && !(be16(f + off + 6) & 0x3fff) && ihl >= 20 &&
		      off + ihl + 4 <= len && (h->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
		if (tcp) {
			memcpy(buf + n, f + off + ihl, 4);
			n += 4;
		} else if (!(h->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV4)) {
			return false;
		}
		*type = tcp ? _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP : _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
	} else if (proto == 0x86dd) {
		if (off + 40 > len || !(h->flags & (XEN_NETIF_CTRL_HASH_TYPE_IPV6 |
						    XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)))
			return false;
		memcpy(buf, f + off + 8, 32);
		n = 32;
		tcp = f[off + 6] == 6 && off + 44 <= len &&
		      (h->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP);
		if (tcp) {
			memcpy(buf + n, f + off + 40, 4);
			n += 4;
		} else if (!(h->flags & XEN_NETIF_CTRL_HASH_TYPE_IPV6)) {
			return false;
		}
		*type = tcp ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP : _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
	} else {
		return false;
	}
	*value = xen_netif_toeplitz_hash(h->key, sizeof(h->key), buf, n);
	return true;
}

uint32_t net_ctrl_handle(struct net_hash *h, unsigned num_queues,
			 const struct xen_netif_ctrl_request *req, net_ctrl_copy_fn *copy,
			 void *opaque, uint32_t *data)
{
	uint32_t map[NET_HASH_MAP_MAX], i;
	uint8_t key[NET_HASH_KEY_MAX];

	*data = 0;
	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		if (req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
		    req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		h->alg = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
			return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		*data = NET_HASH_FLAGS_SUPPORTED;
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		/* Without an algorithm GET is NOT_SUPPORTED but SET is
		 * INVALID_PARAMETER: Linux's xenvif_set_hash_flags. */
		if (req->data[0] & ~NET_HASH_FLAGS_SUPPORTED)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		if (h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		h->flags = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
		/* Linux answers every bad key INVALID_PARAMETER (netif.h's
		 * BUFFER_OVERFLOW is never sent). */
		if (req->data[1] > NET_HASH_KEY_MAX)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		memset(key, 0, sizeof(key));
		if (req->data[1] && copy(opaque, req->data[0], key, req->data[1]) < 0)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		memcpy(h->key, key, sizeof(key));
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
		*data = NET_HASH_MAP_MAX;
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
		if (req->data[0] > NET_HASH_MAP_MAX)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		h->size = req->data[0];
		memset(h->mapping, 0, sizeof(h->mapping));
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
		/* data[1] entries at offset data[2], within the table's size
		 * (and so the page): Linux's checks, overflow-safe.  The table
		 * changes only when every entry names a queue. */
		if (req->data[1] > h->size || req->data[2] > h->size - req->data[1])
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		if (req->data[1] &&
		    copy(opaque, req->data[0], map, req->data[1] * (uint32_t)sizeof(uint32_t)) < 0)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		for (i = 0; i < req->data[1]; i++)
			if (map[i] >= num_queues)
				return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		memcpy(h->mapping + req->data[2], map, req->data[1] * sizeof(uint32_t));
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	default:
		return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
	}
}
