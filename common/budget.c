// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Budgets of what a guest can make the daemon hold (pvcommon.h "budget"):
 * today pages of guest memory mapped for data.  Three levels, so that no
 * guest can use up what another one needs:
 *
 *  - each user (a queue) has a reserve nobody else can take, as large as
 *    its largest request: with nothing in flight it can always map one, so
 *    it never fails and never waits on another guest;
 *  - beyond its reserve it draws from its guest's pool (--guest-map-pages,
 *    shared by every queue of every device of that domain)
 *  - and from the process pool (half of vm.max_map_count: on pvsim every
 *    page of a scattered map is a mapping of its own).
 *
 * What a user cannot get it waits for: its own completions give back.
 * Found by an outside review (issue 13, fault 1): a guest filling every
 * slot with 256-segment requests drove the mapping count to
 * vm.max_map_count, and then every map failed, other guests' too.
 *
 * Pools are atomic counters; a user's own counts belong to its thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "pvcommon.h"

struct pv_budget {
	unsigned limit;
	unsigned used;             /* atomic */
	uint64_t refused;          /* atomic */
};

struct guest_pool {
	struct guest_pool *next;
	uint16_t domid;
	unsigned refs;             /* under pools_lock */
	struct pv_budget b;
};

static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;
static struct guest_pool *pools;
static unsigned guest_limit = PV_BUDGET_GUEST_PAGES;
static struct pv_budget total = { .limit = 0 }; /* 0 until first use: from max_map_count */

static unsigned default_total(void)
{
	unsigned long v = 65530; /* the kernel's default */
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v / 2 > UINT32_MAX ? UINT32_MAX : (unsigned)(v / 2);
}

void pv_budget_set_limits(unsigned guest_pages, unsigned total_pages)
{
	guest_limit = guest_pages;
	__atomic_store_n(&total.limit, total_pages ? total_pages : default_total(),
			 __ATOMIC_RELAXED);
}

static bool pool_take(struct pv_budget *b, unsigned n)
{
	unsigned used = __atomic_load_n(&b->used, __ATOMIC_RELAXED);

	do {
		if (n > b->limit || used > b->limit - n) {
			__atomic_fetch_add(&b->refused, 1, __ATOMIC_RELAXED);
			return false;
		}
	} while (!__atomic_compare_exchange_n(&b->used, &used, used + n, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static void pool_give(struct pv_budget *b, unsigned n)
{
	__atomic_fetch_sub(&b->used, n, __ATOMIC_RELAXED);
}

int pv_budget_user_init(struct pv_budget_user *u, uint16_t domid, unsigned reserve)
{
	struct guest_pool *p;

	pthread_mutex_lock(&pools_lock);
	if (!__atomic_load_n(&total.limit, __ATOMIC_RELAXED))
		total.limit = default_total();
	for (p = pools; p && p->domid != domid; p = p->next)
		;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p) {
			pthread_mutex_unlock(&pools_lock);
			return -ENOMEM;
		}
		p->domid = domid;
		p->b.limit = guest_limit;
		p->next = pools;
		pools = p;
	}
	p->refs++;
	pthread_mutex_unlock(&pools_lock);
	*u = (struct pv_budget_user){ .guest = &p->b, .reserve = reserve };
	return 0;
}

/* What of used lies beyond the reserve: drawn from the pools. */
static unsigned excess(const struct pv_budget_user *u, unsigned used)
{
	return used > u->reserve ? used - u->reserve : 0;
}

static bool pools_take(struct pv_budget_user *u, unsigned n)
{
	if (!n)
		return true;
	if (!pool_take(u->guest, n))
		return false;
	if (!pool_take(&total, n)) {
		pool_give(u->guest, n);
		return false;
	}
	return true;
}

static void pools_give(struct pv_budget_user *u, unsigned n)
{
	if (n) {
		pool_give(u->guest, n);
		pool_give(&total, n);
	}
}

bool pv_budget_take(struct pv_budget_user *u, unsigned n)
{
	if (!pools_take(u, excess(u, u->used + n) - excess(u, u->used))) {
		u->waits++;
		return false;
	}
	u->used += n;
	return true;
}

void pv_budget_give(struct pv_budget_user *u, unsigned n)
{
	pools_give(u, excess(u, u->used) - excess(u, u->used - n));
	u->used -= n;
}

bool pv_budget_take_shared(struct pv_budget_user *u, unsigned n)
{
	if (!pools_take(u, n)) {
		u->waits++;
		return false;
	}
	u->shared += n;
	return true;
}

void pv_budget_give_shared(struct pv_budget_user *u, unsigned n)
{
	pools_give(u, n);
	u->shared -= n;
}

void pv_budget_user_fini(struct pv_budget_user *u)
{
	struct guest_pool **pp, *p;

	if (!u->guest)
		return;
	/* Whatever it still counts goes back (its mappings are gone). */
	pv_budget_give(u, u->used);
	pv_budget_give_shared(u, u->shared);
	pthread_mutex_lock(&pools_lock);
	for (pp = &pools; (p = *pp); pp = &p->next) {
		if (&p->b != u->guest)
			continue;
		if (!--p->refs) {
			*pp = p->next;
			free(p);
		}
		break;
	}
	pthread_mutex_unlock(&pools_lock);
	u->guest = NULL;
}

void pv_budget_info(const struct pv_budget_user *u, struct pv_budget_info *out)
{
	*out = (struct pv_budget_info){
		.guest_used = u->guest ? __atomic_load_n(&u->guest->used, __ATOMIC_RELAXED) : 0,
		.guest_limit = u->guest ? u->guest->limit : 0,
		.total_used = __atomic_load_n(&total.used, __ATOMIC_RELAXED),
		.total_limit = __atomic_load_n(&total.limit, __ATOMIC_RELAXED),
	};
}
