// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: the grant cache (common/gcache.c; blkback's persistent grants): a hit
 * maps nothing, the cache stays within its bound by unmapping the least
 * recently used idle grant, in-use grants are never evicted (-ENOSPC lets
 * the caller map without the cache), idle grants are purged after their
 * timeout, a failed map leaves nothing behind and fini unmaps everything.
 * Map/unmap are fakes that count calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <cmocka.h>

#include "pvcommon.h"

#define LINUX_MAX_PGRANTS 1056 /* Linux blkback's max_pgrants per ring, blkback's default */

struct fake {
	unsigned maps, unmaps, live;
	uint32_t refuse_ref;
	uint32_t last_unmapped;
};

static int fake_map(void *opaque, uint32_t ref, unsigned slot, void **addr)
{
	struct fake *f = opaque;

	if (ref == f->refuse_ref)
		return -EACCES;
	f->maps++;
	f->live++;
	*addr = (void *)(uintptr_t)(0x100000u + ref * 4096u);
	return 0;
}

static void fake_unmap(void *opaque, unsigned slot, void *addr)
{
	struct fake *f = opaque;

	f->unmaps++;
	f->live--;
	f->last_unmapped = (uint32_t)(((uintptr_t)addr - 0x100000u) / 4096u);
}

static const struct pv_gcache_ops ops = { .map = fake_map, .unmap = fake_unmap };

static void test_a_second_use_of_a_grant_is_a_hit_without_a_map(void **state)
{
	struct fake f = { .refuse_ref = ~0u };
	struct pv_gcache c;
	struct pv_gcache_ent *a, *b;

	assert_int_equal(pv_gcache_init(&c, 4, &ops, &f), 0);
	assert_int_equal(pv_gcache_get(&c, 7, 1, &a), 0);
	pv_gcache_put(&c, a, 2);
	assert_int_equal(pv_gcache_get(&c, 7, 3, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(f.maps, 1);
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.misses, 1);
	pv_gcache_put(&c, b, 4);
	pv_gcache_fini(&c);
	assert_int_equal(f.live, 0);
}

static void test_a_full_cache_evicts_the_least_recently_used_idle_grant(void **state)
{
	struct fake f = { .refuse_ref = ~0u };
	struct pv_gcache c;
	struct pv_gcache_ent *pg;
	uint32_t ref;

	assert_int_equal(pv_gcache_init(&c, 3, &ops, &f), 0);
	for (ref = 1; ref <= 3; ref++) {
		assert_int_equal(pv_gcache_get(&c, ref, ref, &pg), 0);
		pv_gcache_put(&c, pg, ref);
	}
	/* Touch 1 again: 2 is now the least recently used. */
	assert_int_equal(pv_gcache_get(&c, 1, 10, &pg), 0);
	pv_gcache_put(&c, pg, 10);
	assert_int_equal(pv_gcache_get(&c, 4, 11, &pg), 0);
	pv_gcache_put(&c, pg, 11);
	assert_int_equal(f.last_unmapped, 2);
	assert_int_equal(c.count, 3);
	assert_int_equal(c.evictions, 1);
	assert_int_equal(f.live, 3);
	pv_gcache_fini(&c);
	assert_int_equal(f.live, 0);
}

static void test_grants_in_use_are_never_evicted(void **state)
{
	struct fake f = { .refuse_ref = ~0u };
	struct pv_gcache c;
	struct pv_gcache_ent *held[2], *pg;

	assert_int_equal(pv_gcache_init(&c, 2, &ops, &f), 0);
	assert_int_equal(pv_gcache_get(&c, 1, 1, &held[0]), 0);
	assert_int_equal(pv_gcache_get(&c, 2, 1, &held[1]), 0);
	assert_int_equal(pv_gcache_get(&c, 3, 2, &pg), -ENOSPC);
	assert_int_equal(f.unmaps, 0);
	pv_gcache_put(&c, held[0], 3);
	assert_int_equal(pv_gcache_get(&c, 3, 4, &pg), 0);
	assert_int_equal(f.last_unmapped, 1);
	pv_gcache_put(&c, pg, 5);
	pv_gcache_put(&c, held[1], 5);
	pv_gcache_fini(&c);
	assert_int_equal(f.live, 0);
}

static void test_idle_grants_are_purged_after_the_timeout(void **state)
{
	struct fake f = { .refuse_ref = ~0u };
	struct pv_gcache c;
	struct pv_gcache_ent *old, *fresh, *busy;

	assert_int_equal(pv_gcache_init(&c, 8, &ops, &f), 0);
	assert_int_equal(pv_gcache_get(&c, 1, 100, &old), 0);
	pv_gcache_put(&c, old, 100);
	assert_int_equal(pv_gcache_get(&c, 2, 100, &busy), 0); /* held: never purged */
	assert_int_equal(pv_gcache_get(&c, 3, 900, &fresh), 0);
	pv_gcache_put(&c, fresh, 900);
	assert_int_equal(pv_gcache_purge(&c, 1000, 500), 1);
	assert_int_equal(f.last_unmapped, 1);
	assert_int_equal(c.count, 2);
	pv_gcache_put(&c, busy, 1000);
	assert_int_equal(pv_gcache_purge(&c, 1000000, 500), 2);
	assert_int_equal(f.live, 0);
	pv_gcache_fini(&c);
}

static void test_a_refused_map_leaves_nothing_cached(void **state)
{
	struct fake f = { .refuse_ref = 5 };
	struct pv_gcache c;
	struct pv_gcache_ent *pg;

	assert_int_equal(pv_gcache_init(&c, 4, &ops, &f), 0);
	assert_int_equal(pv_gcache_get(&c, 5, 1, &pg), -EACCES);
	assert_int_equal(c.count, 0);
	f.refuse_ref = ~0u;
	assert_int_equal(pv_gcache_get(&c, 5, 2, &pg), 0); /* retried, not a stale hit */
	assert_int_equal(f.maps, 1);
	pv_gcache_put(&c, pg, 3);
	pv_gcache_fini(&c);
	assert_int_equal(f.live, 0);
}

static void test_many_grants_hash_and_stay_bounded(void **state)
{
	struct fake f = { .refuse_ref = ~0u };
	struct pv_gcache c;
	struct pv_gcache_ent *pg;
	uint32_t ref;

	assert_int_equal(pv_gcache_init(&c, LINUX_MAX_PGRANTS, &ops, &f), 0);
	for (ref = 0; ref < 5000; ref++) {
		assert_int_equal(pv_gcache_get(&c, ref * 3, ref, &pg), 0);
		assert_int_equal(pg->ref, ref * 3);
		pv_gcache_put(&c, pg, ref);
	}
	assert_int_equal(c.count, LINUX_MAX_PGRANTS);
	assert_int_equal(f.live, LINUX_MAX_PGRANTS);
	/* The most recent ones are hits. */
	assert_int_equal(pv_gcache_get(&c, 4999 * 3, 6000, &pg), 0);
	pv_gcache_put(&c, pg, 6000);
	assert_int_equal(f.maps, 5000);
	pv_gcache_fini(&c);
	assert_int_equal(f.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_second_use_of_a_grant_is_a_hit_without_a_map),
		cmocka_unit_test(test_a_full_cache_evicts_the_least_recently_used_idle_grant),
		cmocka_unit_test(test_grants_in_use_are_never_evicted),
		cmocka_unit_test(test_idle_grants_are_purged_after_the_timeout),
		cmocka_unit_test(test_a_refused_map_leaves_nothing_cached),
		cmocka_unit_test(test_many_grants_hash_and_stay_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
