// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the slot numbers of the grant cache (common/gcache.c),
 * which blkback uses as io_uring registered-buffer
 * indexes: every live mapping has its own slot below the cache bound, the
 * map and unmap callbacks get the entry's slot, a slot is handed out again
 * only after its unmap (so the registration is cleared before the page
 * goes and before the slot names another page), eviction, purge, a refused
 * map and fini all give slots back, and random churn never leaks or shares
 * one.  Map/unmap are fakes that keep a table indexed by slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <cmocka.h>

#include "pvcommon.h"

#define MAX_SLOTS 64

struct fake {
	unsigned max;
	void *live[MAX_SLOTS];   /* the page mapped at each slot, NULL: free */
	unsigned nr_live, maps, unmaps;
	uint32_t refuse_ref;
	int last_event_slot;     /* slot of the last map (+) or unmap (-) */
	char last_event;
};

static void *page_of(uint32_t ref)
{
	return (void *)(uintptr_t)(0x100000u + ref * 4096u);
}

static int fake_map(void *opaque, uint32_t ref, unsigned slot, void **addr)
{
	struct fake *f = opaque;

	assert_true(slot < f->max);
	assert_null(f->live[slot]); /* a slot is never handed out twice */
	if (ref == f->refuse_ref)
		return -EACCES;
	f->live[slot] = page_of(ref);
	f->nr_live++;
	f->maps++;
	f->last_event = '+';
	f->last_event_slot = (int)slot;
	*addr = page_of(ref);
	return 0;
}

static void fake_unmap(void *opaque, unsigned slot, void *addr)
{
	struct fake *f = opaque;

	assert_true(slot < f->max);
	assert_ptr_equal(f->live[slot], addr); /* the slot it was mapped at */
	f->live[slot] = NULL;
	f->nr_live--;
	f->unmaps++;
	f->last_event = '-';
	f->last_event_slot = (int)slot;
}

static const struct pv_gcache_ops ops = { .map = fake_map, .unmap = fake_unmap };

static void init(struct pv_gcache *c, struct fake *f, unsigned max)
{
	*f = (struct fake){ .max = max, .refuse_ref = ~0u, .last_event_slot = -1 };
	assert_int_equal(pv_gcache_init(c, max, &ops, f), 0);
}

static void test_each_mapping_gets_its_own_slot_below_the_bound(void **state)
{
	struct pv_gcache c;
	struct pv_gcache_ent *pg[8];
	bool seen[8] = { false };
	struct fake f;
	unsigned i;

	init(&c, &f, 8);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pv_gcache_get(&c, 100 + i, i, &pg[i]), 0);
		assert_true(pg[i]->slot < 8);
		assert_false(seen[pg[i]->slot]);
		seen[pg[i]->slot] = true;
		assert_int_equal(f.last_event_slot, (int)pg[i]->slot);
		assert_ptr_equal(f.live[pg[i]->slot], pg[i]->addr);
	}
	/* A hit keeps the entry, and so its slot. */
	for (i = 0; i < 8; i++) {
		struct pv_gcache_ent *again;

		assert_int_equal(pv_gcache_get(&c, 100 + i, 20 + i, &again), 0);
		assert_ptr_equal(again, pg[i]);
		pv_gcache_put(&c, again, 20 + i);
		pv_gcache_put(&c, pg[i], 20 + i);
	}
	assert_int_equal(f.maps, 8);
	pv_gcache_fini(&c);
	assert_int_equal(f.nr_live, 0);
}

static void test_an_evicted_grant_is_unmapped_before_its_slot_is_reused(void **state)
{
	struct pv_gcache c;
	struct pv_gcache_ent *pg;
	unsigned victim_slot = 0;
	struct fake f;
	uint32_t ref;

	init(&c, &f, 4);
	for (ref = 1; ref <= 4; ref++) {
		assert_int_equal(pv_gcache_get(&c, ref, ref, &pg), 0);
		if (ref == 1)
			victim_slot = pg->slot; /* least recently used below */
		pv_gcache_put(&c, pg, ref);
	}
	assert_int_equal(pv_gcache_get(&c, 5, 10, &pg), 0);
	/* fake_map asserted the slot was free: ref 1 went first. */
	assert_int_equal(pg->slot, victim_slot);
	assert_int_equal(f.unmaps, 1);
	assert_ptr_equal(f.live[victim_slot], page_of(5));
	pv_gcache_put(&c, pg, 10);
	pv_gcache_fini(&c);
	assert_int_equal(f.nr_live, 0);
}

static void test_a_purged_grant_gives_its_slot_back(void **state)
{
	struct pv_gcache c;
	struct pv_gcache_ent *old, *busy, *pg;
	unsigned old_slot;
	struct fake f;

	init(&c, &f, 2);
	assert_int_equal(pv_gcache_get(&c, 1, 100, &old), 0);
	old_slot = old->slot;
	pv_gcache_put(&c, old, 100);
	assert_int_equal(pv_gcache_get(&c, 2, 100, &busy), 0);
	assert_int_equal(pv_gcache_purge(&c, 1000, 500), 1);
	assert_null(f.live[old_slot]);
	assert_int_equal(c.nr_free, 1);
	assert_int_equal(pv_gcache_get(&c, 3, 1000, &pg), 0);
	assert_int_equal(pg->slot, old_slot);
	assert_int_equal(c.evictions, 0); /* a free slot, not an eviction */
	pv_gcache_put(&c, pg, 1000);
	pv_gcache_put(&c, busy, 1000);
	pv_gcache_fini(&c);
	assert_int_equal(f.nr_live, 0);
}

static void test_a_refused_map_gives_its_slot_back(void **state)
{
	struct pv_gcache c;
	struct pv_gcache_ent *pg;
	struct fake f;
	uint32_t ref;
	int i;

	init(&c, &f, 3);
	f.refuse_ref = 9;
	for (i = 0; i < 10; i++)
		assert_int_equal(pv_gcache_get(&c, 9, (uint64_t)i, &pg), -EACCES);
	assert_int_equal(c.nr_free, 3);
	/* Every slot is still there to be filled. */
	for (ref = 1; ref <= 3; ref++) {
		assert_int_equal(pv_gcache_get(&c, ref, 20, &pg), 0);
		pv_gcache_put(&c, pg, 20);
	}
	assert_int_equal(c.nr_free, 0);
	assert_int_equal(f.nr_live, 3);
	pv_gcache_fini(&c);
	assert_int_equal(f.nr_live, 0);
	assert_int_equal(f.unmaps, 3);
}

static void test_a_full_cache_of_busy_grants_takes_no_slot(void **state)
{
	struct pv_gcache c;
	struct pv_gcache_ent *held[2], *pg;
	struct fake f;

	init(&c, &f, 2);
	assert_int_equal(pv_gcache_get(&c, 1, 1, &held[0]), 0);
	assert_int_equal(pv_gcache_get(&c, 2, 1, &held[1]), 0);
	assert_int_equal(pv_gcache_get(&c, 3, 2, &pg), -ENOSPC);
	assert_int_equal(f.maps, 2);
	assert_int_equal(c.nr_free, 0);
	pv_gcache_put(&c, held[0], 3);
	pv_gcache_put(&c, held[1], 3);
	pv_gcache_fini(&c);
	assert_int_equal(f.nr_live, 0);
}

/* Random gets, puts, purges and refusals against a shadow model. */
static void test_slots_never_leak_or_get_shared_under_churn(void **state)
{
	enum { MAX = 16, HOLD = 6, REFS = 64, ROUNDS = 20000 };
	struct pv_gcache c;
	struct pv_gcache_ent *held[HOLD] = { NULL }, *pg;
	struct fake f;
	unsigned i, n, slot, count;
	uint64_t now = 0;
	int rc;

	init(&c, &f, MAX);
	srandom(3);
	for (n = 0; n < ROUNDS; n++) {
		now += 10;
		i = (unsigned)random() % HOLD;
		if (held[i]) {
			pv_gcache_put(&c, held[i], now);
			held[i] = NULL;
		} else {
			f.refuse_ref = (random() % 8) ? ~0u : (uint32_t)(random() % REFS);
			rc = pv_gcache_get(&c, (uint32_t)(random() % REFS), now, &pg);
			assert_true(rc == 0 || rc == -EACCES);
			if (rc == 0) {
				assert_ptr_equal(f.live[pg->slot], pg->addr);
				held[i] = pg;
			}
		}
		if (n % 1000 == 999)
			pv_gcache_purge(&c, now, 500);
		/* Live slots are exactly the cached entries; the rest are free. */
		for (slot = 0, count = 0; slot < MAX; slot++)
			count += f.live[slot] != NULL;
		assert_int_equal(count, c.count);
		assert_int_equal(c.count + c.nr_free, MAX);
	}
	for (i = 0; i < HOLD; i++)
		if (held[i])
			pv_gcache_put(&c, held[i], now);
	pv_gcache_fini(&c);
	assert_int_equal(f.nr_live, 0);
	assert_int_equal(f.maps, f.unmaps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_mapping_gets_its_own_slot_below_the_bound),
		cmocka_unit_test(test_an_evicted_grant_is_unmapped_before_its_slot_is_reused),
		cmocka_unit_test(test_a_purged_grant_gives_its_slot_back),
		cmocka_unit_test(test_a_refused_map_gives_its_slot_back),
		cmocka_unit_test(test_a_full_cache_of_busy_grants_takes_no_slot),
		cmocka_unit_test(test_slots_never_leak_or_get_shared_under_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
