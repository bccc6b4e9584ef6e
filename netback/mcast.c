// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The frontend's multicast list (feature-multicast-control): netfront adds
 * and removes addresses with dummy TX requests carrying an MCAST_ADD/DEL
 * extra; with request-multicast-control (watched while connected: it may
 * change at any time, feature-dynamic-multicast-control), guest RX delivers
 * only multicast frames to listed addresses (broadcast always).  The list
 * is Linux 6.1's xenvif_mcast_add/del: an add appends (a duplicate is a
 * second entry, as is a unicast address: nothing is checked), a del removes
 * one entry (an absent address is fine), and at XEN_NETBK_MCAST_MAX (64)
 * entries an add is refused while the filter stays on.  Shared by the vif's
 * queue threads: one mutex, held for a lookup.
 */
#include <errno.h>
#include <string.h>

#include "netback.h"

void net_mcast_init(struct net_mcast *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

void net_mcast_fini(struct net_mcast *m)
{
	pthread_mutex_destroy(&m->lock);
}

static int find(const struct net_mcast *m, const uint8_t *addr)
{
	unsigned i;

	for (i = 0; i < m->n; i++)
		if (!memcmp(m->addr[i], addr, NET_ETH_ALEN))
			return (int)i;
	return -1;
}

int net_mcast_update(struct net_vif *vif, const struct net_tx_pkt *p)
{
	const struct netif_extra_info *add = &p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1];
	const struct netif_extra_info *del = &p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1];
	struct net_mcast *m = &vif->mcast;
	int rc = 0, i;

	pthread_mutex_lock(&m->lock);
	/* A request with both extras is an add (Linux looks no further). */
	if (add->type) {
		if (m->n == NET_MCAST_MAX)
			rc = -ENOSPC;
		else
			memcpy(m->addr[m->n++], add->u.mcast.addr, NET_ETH_ALEN);
	} else if (del->type) {
		/* The first match goes; the order of the rest does not matter. */
		i = find(m, del->u.mcast.addr);
		if (i >= 0)
			memcpy(m->addr[i], m->addr[--m->n], NET_ETH_ALEN);
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

bool net_mcast_pass(struct net_vif *vif, const uint8_t *dst)
{
	static const uint8_t bcast[NET_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct net_mcast *m = &vif->mcast;
	bool pass;

	if (!(dst[0] & 1) || !__atomic_load_n(&vif->feat.mcast_control, __ATOMIC_RELAXED) ||
	    !memcmp(dst, bcast, NET_ETH_ALEN))
		return true;
	pthread_mutex_lock(&m->lock);
	pass = find(m, dst) >= 0;
	pthread_mutex_unlock(&m->lock);
	return pass;
}
