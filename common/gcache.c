// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Grant cache: grants a frontend keeps granted for the life of the ring
 * (blkif feature-persistent, long-lived netif/usbif buffers) stay mapped
 * here, keyed by grant ref, so the hot path does no map/unmap.  Bounded
 * (Linux blkback keeps 1056 per ring): when full, the least recently used
 * idle mapping is unmapped; idle entries are purged after a while (the
 * owner runs pv_gcache_purge from a timer).
 *
 * Entries live in one array of `max`, so each mapping has a slot number
 * (its index, taken from a free-slot stack on map, returned after unmap)
 * that the callbacks pass on: blkback registers the page under that slot as
 * an io_uring fixed buffer and clears it before the unmap.
 *
 * One cache per queue, used only by that queue's thread.  The map/unmap
 * callbacks keep this file free of hv and io_uring calls (unit-tested with
 * fakes).
 */
#include <errno.h>
#include <stdlib.h>

#include "pvcommon.h"

static unsigned hash_ref(const struct pv_gcache *c, uint32_t ref)
{
	return (ref * 2654435761u) & (c->hash_size - 1);
}

int pv_gcache_init(struct pv_gcache *c, unsigned max, const struct pv_gcache_ops *ops,
		    void *opaque)
{
	unsigned hs = 16, i;

	while (hs < max * 2)
		hs *= 2;
	*c = (struct pv_gcache){ .ops = ops, .opaque = opaque, .max = max, .hash_size = hs };
	c->hash = calloc(hs, sizeof(*c->hash));
	c->ents = calloc(max, sizeof(*c->ents));
	c->free_slots = calloc(max, sizeof(*c->free_slots));
	if (!c->hash || !c->ents || !c->free_slots) {
		pv_gcache_fini(c);
		return -ENOMEM;
	}
	/* Lowest slot on top: a small working set uses the first slots. */
	for (i = 0; i < max; i++)
		c->free_slots[i] = max - 1 - i;
	c->nr_free = max;
	return 0;
}

static void lru_unlink(struct pv_gcache *c, struct pv_gcache_ent *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		c->head = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	else
		c->tail = pg->prev;
	pg->prev = pg->next = NULL;
}

static void lru_push_head(struct pv_gcache *c, struct pv_gcache_ent *pg)
{
	pg->prev = NULL;
	pg->next = c->head;
	if (c->head)
		c->head->prev = pg;
	else
		c->tail = pg;
	c->head = pg;
}

static void hash_unlink(struct pv_gcache *c, struct pv_gcache_ent *pg)
{
	struct pv_gcache_ent **pp = &c->hash[hash_ref(c, pg->ref)];

	while (*pp != pg)
		pp = &(*pp)->hnext;
	*pp = pg->hnext;
}

static void drop(struct pv_gcache *c, struct pv_gcache_ent *pg)
{
	hash_unlink(c, pg);
	lru_unlink(c, pg);
	c->ops->unmap(c->opaque, pg->slot, pg->addr);
	c->count--;
	c->free_slots[c->nr_free++] = pg->slot;
}

void pv_gcache_fini(struct pv_gcache *c)
{
	while (c->head)
		drop(c, c->head);
	free(c->hash);
	free(c->ents);
	free(c->free_slots);
	c->hash = NULL;
	c->ents = NULL;
	c->free_slots = NULL;
	c->nr_free = 0;
}

int pv_gcache_get(struct pv_gcache *c, uint32_t ref, uint64_t now_ns,
		   struct pv_gcache_ent **out)
{
	struct pv_gcache_ent *pg, *victim;
	unsigned slot;
	int rc;

	for (pg = c->hash[hash_ref(c, ref)]; pg; pg = pg->hnext) {
		if (pg->ref != ref)
			continue;
		c->hits++;
		pg->users++;
		pg->last_use_ns = now_ns;
		lru_unlink(c, pg);
		lru_push_head(c, pg);
		*out = pg;
		return 0;
	}
	c->misses++;
	if (c->count >= c->max) {
		/* O(n) over busy entries at the tail; they are few (in flight). */
		for (victim = c->tail; victim && victim->users; victim = victim->prev)
			;
		if (!victim)
			return -ENOSPC;
		drop(c, victim);
		c->evictions++;
	}
	/* count < max here, and every slot not in use is on the stack. */
	slot = c->free_slots[--c->nr_free];
	pg = &c->ents[slot];
	*pg = (struct pv_gcache_ent){ .ref = ref, .slot = slot, .users = 1, .last_use_ns = now_ns };
	rc = c->ops->map(c->opaque, ref, slot, &pg->addr);
	if (rc < 0) {
		c->nr_free++; /* slot is still on top of the stack */
		return rc;
	}
	pg->hnext = c->hash[hash_ref(c, ref)];
	c->hash[hash_ref(c, ref)] = pg;
	lru_push_head(c, pg);
	c->count++;
	*out = pg;
	return 0;
}

void pv_gcache_put(struct pv_gcache *c, struct pv_gcache_ent *pg, uint64_t now_ns)
{
	pg->users--;
	pg->last_use_ns = now_ns;
}

unsigned pv_gcache_purge(struct pv_gcache *c, uint64_t now_ns, uint64_t idle_ns)
{
	struct pv_gcache_ent *pg = c->tail, *prev;
	unsigned n = 0;

	for (; pg; pg = prev) {
		prev = pg->prev;
		if (pg->users || now_ns - pg->last_use_ns < idle_ns)
			continue;
		drop(c, pg);
		n++;
	}
	c->purged += n;
	return n;
}
