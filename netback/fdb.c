// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dpdk-switch's MAC learning table (see netback.h, net_fdb): a
 * set-associative table of fixed size, so that a guest sending from
 * 100000 source addresses cannot grow memory, and cannot push out other
 * ports' entries: a port holds at most per_port_max learned entries, a
 * full bucket refuses rather than evicts a live entry of another port,
 * and the vifs' own addresses are pinned.  Frames from an address we
 * could not learn are still forwarded; frames to it are flooded.
 *
 * Pure: no locking (the switch holds its lock), time is the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netback.h"

static struct net_fdb_ent *bucket(const struct net_fdb *t, const uint8_t *mac)
{
	uint32_t h = t->seed ^ 2166136261u;
	unsigned i;

	for (i = 0; i < NET_ETH_ALEN; i++)
		h = (h ^ mac[i]) * 16777619u;
	h ^= h >> 15;
	return &t->ent[(size_t)(h & (t->nbuckets - 1)) * NET_FDB_WAYS];
}

static bool expired(const struct net_fdb *t, const struct net_fdb_ent *e, uint32_t now)
{
	return !e->pinned && now - e->seen >= t->age_s;
}

static void drop(struct net_fdb *t, struct net_fdb_ent *e)
{
	if (!e->pinned)
		t->count[e->port]--;
	e->used = false;
	t->used--;
}

int net_fdb_init(struct net_fdb *t, unsigned capacity, unsigned max_ports, unsigned per_port_max,
		 uint32_t age_s, uint32_t seed)
{
	unsigned nb = 1;

	memset(t, 0, sizeof(*t));
	if (!capacity || !max_ports || max_ports > 65536 || !age_s || capacity > (1u << 24))
		return -EINVAL;
	while (nb * NET_FDB_WAYS < capacity)
		nb <<= 1;
	t->ent = calloc((size_t)nb * NET_FDB_WAYS, sizeof(*t->ent));
	t->count = calloc(max_ports, sizeof(*t->count));
	if (!t->ent || !t->count) {
		net_fdb_fini(t);
		return -ENOMEM;
	}
	t->nbuckets = nb;
	t->max_ports = max_ports;
	t->per_port_max = per_port_max;
	t->age_s = age_s;
	t->seed = seed;
	return 0;
}

void net_fdb_fini(struct net_fdb *t)
{
	free(t->ent);
	free(t->count);
	t->ent = NULL;
	t->count = NULL;
}

void net_fdb_age(struct net_fdb *t, uint32_t now)
{
	size_t i, n = (size_t)t->nbuckets * NET_FDB_WAYS;

	for (i = 0; i < n; i++)
		if (t->ent[i].used && expired(t, &t->ent[i], now)) {
			drop(t, &t->ent[i]);
			t->st.aged++;
		}
	t->next_sweep = now + 1;
}

static void maybe_sweep(struct net_fdb *t, uint32_t now)
{
	if ((int32_t)(now - t->next_sweep) >= 0)
		net_fdb_age(t, now);
}

static struct net_fdb_ent *find(struct net_fdb *t, const uint8_t *mac)
{
	struct net_fdb_ent *b = bucket(t, mac);
	unsigned w;

	for (w = 0; w < NET_FDB_WAYS; w++)
		if (b[w].used && !memcmp(b[w].mac, mac, NET_ETH_ALEN))
			return &b[w];
	return NULL;
}

/* A free way in mac's bucket, or an expired one freed. */
static struct net_fdb_ent *free_way(struct net_fdb *t, const uint8_t *mac, uint32_t now,
				    bool any_age)
{
	struct net_fdb_ent *b = bucket(t, mac);
	unsigned w;

	for (w = 0; w < NET_FDB_WAYS; w++)
		if (!b[w].used)
			return &b[w];
	for (w = 0; w < NET_FDB_WAYS; w++)
		if (any_age ? !b[w].pinned : expired(t, &b[w], now)) {
			drop(t, &b[w]);
			return &b[w];
		}
	return NULL;
}

int net_fdb_learn(struct net_fdb *t, const uint8_t *mac, unsigned port, uint32_t now)
{
	struct net_fdb_ent *e;

	if ((mac[0] & 1) || port >= t->max_ports)
		return -EINVAL;
	maybe_sweep(t, now);
	e = find(t, mac);
	if (e && e->port == port) {
		e->seen = now;
		return 0;
	}
	if (e && e->pinned) {
		t->st.refused_pinned++;
		return -EPERM;
	}
	if (t->count[port] >= t->per_port_max) {
		t->st.refused_limit++;
		return -EDQUOT;
	}
	if (e) { /* the address moved (a guest migrated, a cable moved) */
		t->count[e->port]--;
		t->count[port]++;
		e->port = (uint16_t)port;
		e->seen = now;
		t->st.moved++;
		return 0;
	}
	e = free_way(t, mac, now, false);
	if (!e) {
		t->st.refused_full++;
		return -ENOSPC;
	}
	memcpy(e->mac, mac, NET_ETH_ALEN);
	e->port = (uint16_t)port;
	e->seen = now;
	e->pinned = false;
	e->used = true;
	t->used++;
	t->count[port]++;
	t->st.learned++;
	return 0;
}

int net_fdb_pin(struct net_fdb *t, const uint8_t *mac, unsigned port)
{
	struct net_fdb_ent *e;

	if ((mac[0] & 1) || port >= t->max_ports)
		return -EINVAL;
	e = find(t, mac);
	if (e)
		drop(t, e);
	else
		e = free_way(t, mac, 0, true); /* a pin outranks any learned entry */
	if (!e)
		return -ENOSPC;
	memcpy(e->mac, mac, NET_ETH_ALEN);
	e->port = (uint16_t)port;
	e->pinned = true;
	e->used = true;
	t->used++;
	return 0;
}

void net_fdb_forget_port(struct net_fdb *t, unsigned port)
{
	size_t i, n = (size_t)t->nbuckets * NET_FDB_WAYS;

	for (i = 0; i < n; i++)
		if (t->ent[i].used && t->ent[i].port == port)
			drop(t, &t->ent[i]);
}

int net_fdb_lookup(struct net_fdb *t, const uint8_t *mac, uint32_t now)
{
	struct net_fdb_ent *e;

	maybe_sweep(t, now);
	e = find(t, mac);
	if (!e || expired(t, e, now))
		return -ENOENT;
	return e->port;
}

int net_fdb_dest(struct net_fdb *t, const uint8_t *dst, unsigned in_port, uint32_t now)
{
	int port;

	if (dst[0] & 1)
		return NET_FDB_FLOOD;
	port = net_fdb_lookup(t, dst, now);
	if (port < 0)
		return NET_FDB_FLOOD;
	return (unsigned)port == in_port ? NET_FDB_DROP : port;
}
