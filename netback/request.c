// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netif guest-TX requests: one packet assembled from its ring slots, fed one
 * private copy at a time, with the slot rules of Linux 6.1's xen-netback
 * (netback.c xenvif_tx_build_gops, xenvif_get_extras, xenvif_count_requests,
 * xenvif_set_skb_gso), so a frontend cannot tell us apart:
 *
 *  - extras (NETTXF_extra_info) follow the first slot while FLAG_MORE; a
 *    type of 0 or above Linux's XDP (5) is fatal, and so (unlike Linux,
 *    which bounds them only by the ring) is a sixth extra;
 *  - follow-on data slots (NETTXF_more_data): the 19th and 20th drop the
 *    packet (answered with errors), reaching a 21st is fatal ("malicious");
 *    a slot larger than what is left of the packet drops it; offset + size
 *    beyond the page is fatal, for the first slot too;
 *  - a first slot shorter than an Ethernet header drops the packet;
 *  - a GSO extra with size 0 or a type other than TCPv4/TCPv6 is fatal;
 *  - a packet with a multicast add/del extra is a dummy request (no data).
 *
 * Pure: no hv, no ring, no allocation (unit-tested and fuzzed).  Fatal means
 * the frontend loses its vif; a drop answers every slot with an error.
 */
#include <errno.h>
#include <string.h>

#include "netback.h"

/* Per packet on the TX hot path: reset what the next packet's slots are
 * read against, not the ~300 bytes of frags and extra bodies, which are
 * written before they are read (frag[] below nr_frags, an extra once its
 * type is set). */
void net_tx_pkt_init(struct net_tx_pkt *p)
{
	unsigned i;

	p->state = NET_TX_FIRST;
	p->first_len = 0;
	p->nr_extras = p->nr_frags = p->nr_frags_seen = p->nr_slots = 0;
	p->drop = 0;
	for (i = 0; i < PV_NETIF_EXTRA_TYPE_MAX - 1; i++)
		p->extra[i].type = XEN_NETIF_EXTRA_TYPE_NONE;
}

static int fatal(const char **why, const char *reason)
{
	*why = reason;
	return -EPROTO;
}

/* The first slot, its extras and its follow-on slots are all in: the
 * whole-packet rules. */
static int finish(struct net_tx_pkt *p, const char **why)
{
	const struct netif_extra_info *gso = &p->extra[XEN_NETIF_EXTRA_TYPE_GSO - 1];

	p->state = NET_TX_DONE;
	if (p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].type ||
	    p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].type)
		return NET_TX_READY; /* a dummy request: its slots carry no packet */
	if (p->drop)
		return NET_TX_READY;
	if (p->first_len < NET_ETH_HLEN) {
		p->drop = -EINVAL;
		*why = "first slot shorter than an Ethernet header";
		return NET_TX_READY;
	}
	if ((uint32_t)p->first.offset + p->first_len > NET_PAGE_SIZE)
		return fatal(why, "first slot crosses its page boundary");
	if (gso->type) {
		if (!gso->u.gso.size)
			return fatal(why, "GSO size must not be zero");
		if (gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
		    gso->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
			return fatal(why, "bad GSO type");
	}
	return NET_TX_READY;
}

/* Data follows the first slot or the extras: more slots, or the end. */
static int after_header(struct net_tx_pkt *p, const char **why)
{
	if (p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].type ||
	    p->extra[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].type || !(p->first.flags & NETTXF_more_data))
		return finish(p, why);
	p->state = NET_TX_FRAG;
	return NET_TX_NEED;
}

int net_tx_feed(struct net_tx_pkt *p, const void *ent, const char **why)
{
	struct netif_tx_request txp;
	struct netif_extra_info extra;

	*why = NULL;
	switch (p->state) {
	case NET_TX_FIRST:
		memcpy(&p->first, ent, sizeof(p->first));
		p->nr_slots = 1;
		p->first_len = p->first.size;
		if (p->first.flags & NETTXF_extra_info) {
			p->state = NET_TX_EXTRA;
			return NET_TX_NEED;
		}
		return after_header(p, why);
	case NET_TX_EXTRA:
		memcpy(&extra, ent, sizeof(extra));
		/* Linux takes any number (a later one of a type wins); netfront
		 * sends at most one of each: more is a frontend flooding slots. */
		if (p->nr_extras == PV_NETIF_EXTRA_TYPE_MAX - 1)
			return fatal(why, "more extras than extra types");
		p->nr_slots++;
		p->nr_extras++;
		/* Linux 6.1 knows type 5 (XDP: ignored on TX); Xen 4.17's
		 * header stops before it. */
		if (extra.type == XEN_NETIF_EXTRA_TYPE_NONE || extra.type >= PV_NETIF_EXTRA_TYPE_MAX)
			return fatal(why, "invalid extra type");
		p->extra[extra.type - 1] = extra;
		if (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE)
			return NET_TX_NEED;
		return after_header(p, why);
	case NET_TX_FRAG:
		memcpy(&txp, ent, sizeof(txp));
		/* Slots counted before this one, as Linux's `slots`. */
		if (p->nr_frags_seen >= NET_TX_FATAL_SLOTS)
			return fatal(why, "malicious frontend: too many slots in one packet");
		if (!p->drop && p->nr_frags_seen >= NET_TX_MAX_FRAGS) {
			p->drop = -E2BIG;
			*why = "too many slots, packet dropped";
		}
		if (!p->drop && txp.size > p->first_len) {
			/* A frame of 64 KiB or more overflowed the first size. */
			p->drop = -EIO;
			*why = "slot size larger than the rest of the packet";
		}
		p->first_len -= txp.size; /* only meaningful while not dropped */
		p->nr_frags_seen++;
		p->nr_slots++;
		if ((uint32_t)txp.offset + txp.size > NET_PAGE_SIZE)
			return fatal(why, "slot crosses its page boundary");
		if (!p->drop)
			p->frag[p->nr_frags++] = txp;
		if (txp.flags & NETTXF_more_data)
			return NET_TX_NEED;
		return finish(p, why);
	case NET_TX_DONE:
	default:
		return fatal(why, "slot fed to a finished packet");
	}
}

uint32_t net_tx_pkt_len(const struct net_tx_pkt *p)
{
	uint32_t len = p->first_len;
	unsigned i;

	for (i = 0; i < p->nr_frags; i++)
		len += p->frag[i].size;
	return len;
}

/*
 * Guest-TX zero copy: the packet's data (the first slot, then its frags,
 * as gather order) split at head bytes into what is grant-copied into our
 * buffer, back to back, and what stays in the guest's pages (one segment
 * per slot, or per slot remainder when the head ends inside a slot).
 * Empty slots make no piece.  head >= the packet's length: all copied.
 */
void net_tx_layout(const struct net_tx_pkt *p, uint32_t head, struct net_tx_layout *out)
{
	unsigned i;

	out->head_len = 0;
	out->nr_head = out->nr_segs = 0;
	for (i = 0; i <= p->nr_frags; i++) {
		const struct netif_tx_request *t = i ? &p->frag[i - 1] : &p->first;
		uint32_t size = i ? t->size : p->first_len, take = 0;

		if (!size)
			continue;
		if (out->head_len < head) {
			take = head - out->head_len < size ? head - out->head_len : size;
			out->head[out->nr_head++] = (struct net_tx_piece){
				.ref = t->gref, .offset = t->offset, .len = (uint16_t)take,
			};
			out->head_len += take;
		}
		if (take < size)
			out->segs[out->nr_segs++] = (struct net_tx_piece){
				.ref = t->gref, .offset = (uint16_t)(t->offset + take),
				.len = (uint16_t)(size - take),
			};
	}
}
