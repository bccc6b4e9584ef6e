/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: a mapping process that is SIGKILLed loses its grant pins in
 * sim mode, as Linux's gntdev unmaps a dying process's grants on Xen: the
 * guest can end access to everything it had mapped (single and batched
 * maps, writable and read-only), while pins of mappers still alive stay
 * (-EBUSY until they unmap), and only the incarnation of the granting domain
 * it pinned is touched.  A mapper killed at arbitrary points of a map / copy
 * loop leaves no pin and no entry locked, while another mapper keeps copying
 * from the same entries, and a process that scribbles over its pin journal
 * before dying cannot crash the daemon.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv-harness.h"
#include "hv_sim_abi.h"

/* An entry left locked would make a map spin for ever: fail instead. */
static int group_setup(void **state)
{
	alarm(120);
	return t_hv_fixture_setup(state);
}

static int group_teardown(void **state)
{
	t_hv_fixture_teardown(state);
	alarm(0);
	return 0;
}

/* ------------------------------------------------------------ mappers */

static int ready_fd = -1; /* in a mapper: where it reports */

/* In a mapper: tell the test where we are (0: in position). */
static void mapper_ready(int rc)
{
	char c = (char)rc;

	if (write(ready_fd, &c, 1) != 1)
		_exit(2);
}

/*
 * Fork a mapper running fn(arg): fn returns 0 once it holds what the test
 * wants (then the mapper waits to be killed), or reports itself through
 * mapper_ready() and never returns.  Returns the pid once it reported 0,
 * or -1.
 */
static pid_t mapper_start(int (*fn)(void *arg), void *arg)
{
	pid_t pid, parent = getpid();
	int p[2];
	char c = 1;

	fflush(NULL);
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* A failed assertion skips the kill: go with the test. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(3);
		close(p[0]);
		ready_fd = p[1];
		mapper_ready(fn(arg));
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1 || c != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* SIGKILL it, reap it, and let the daemon handle its death. */
static void mapper_kill(struct t_hv_fixture *f, pid_t pid)
{
	int status;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	t_sim_sync(f->ts);
}

/* ----------------------------------------- every kind of map released */

struct shared_set {
	uint32_t w[4], r[2]; /* writable and read-only grants to dom0 */
};

static int map_every_kind(void *arg)
{
	const struct shared_set *g = arg;
	struct pv_hv *hv = t_hv_open(0);
	struct pv_hv_copy_seg seg;
	char buf[16] = "copied";
	void *a;

	if (!hv)
		return 10;
	if (pv_hv_map(hv, 1, 1, &g->w[0], true, &a))        /* single, writable */
		return 11;
	if (pv_hv_map(hv, 1, 3, &g->w[1], true, &a))        /* batched, writable */
		return 12;
	if (pv_hv_map(hv, 1, 2, g->r, false, &a))           /* batched, read-only */
		return 13;
	if (pv_hv_map(hv, 1, 1, &g->w[0], false, &a))       /* both kinds on one entry */
		return 14;
	if (pv_hv_map(hv, 1, 2, &g->w[2], false, &a))       /* batched, read-only again */
		return 15;
	seg = (struct pv_hv_copy_seg){ .ref = g->w[3], .domid = 1, .local = buf,
				       .len = sizeof(buf), .to_guest = true };
	if (pv_hv_copy(hv, 1, &seg))                         /* a finished copy holds nothing */
		return 16;
	return 0;
}

static void test_grants_a_killed_mapper_held_can_be_ended(void **state)
{
	struct t_hv_fixture *f = *state;
	struct shared_set g;
	void *w, *r;
	pid_t pid;

	assert_int_equal(pv_hv_share(f->guest, 0, 4, true, g.w, &w), 0);
	assert_int_equal(pv_hv_share(f->guest, 0, 2, false, g.r, &r), 0);
	pid = mapper_start(map_every_kind, &g);
	assert_true(pid > 0);
	assert_string_equal((char *)w + 3 * 4096, "copied");
	assert_int_equal(pv_hv_unshare(f->guest, w, 4), -EBUSY);
	assert_int_equal(pv_hv_unshare(f->guest, r, 2), -EBUSY);

	mapper_kill(f, pid);

	assert_int_equal(pv_hv_unshare(f->guest, w, 4), 0);
	assert_int_equal(pv_hv_unshare(f->guest, r, 2), 0);
}

/* ------------------------------------------- live mappers keep theirs */

struct one_set {
	uint32_t x[3];
};

static int map_x0_rw_x1_ro(void *arg)
{
	const struct one_set *g = arg;
	struct pv_hv *hv = t_hv_open(0);
	void *a;

	if (!hv || pv_hv_map(hv, 1, 1, &g->x[0], true, &a) ||
	    pv_hv_map(hv, 1, 1, &g->x[1], false, &a))
		return 20;
	return 0;
}

static int map_all_of_x(void *arg)
{
	const struct one_set *g = arg;
	struct pv_hv *hv = t_hv_open(0);
	void *a;

	if (!hv || pv_hv_map(hv, 1, 1, &g->x[0], true, &a) ||
	    pv_hv_map(hv, 1, 1, &g->x[1], false, &a) ||
	    pv_hv_map(hv, 1, 1, &g->x[2], true, &a) ||
	    pv_hv_map(hv, 1, 2, &g->x[0], false, &a))
		return 21;
	return 0;
}

static void test_only_the_killed_mappers_pins_are_dropped(void **state)
{
	struct t_hv_fixture *f = *state;
	struct one_set g;
	void *x[3], *b0, *b1;
	pid_t live, dead;
	unsigned i;

	for (i = 0; i < 3; i++)
		assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &g.x[i], &x[i]), 0);
	/* Two other mappers hold x0 and x1: this process and a live one. */
	assert_int_equal(pv_hv_map(f->be, 1, 1, &g.x[0], true, &b0), 0);
	assert_int_equal(pv_hv_map(f->be, 1, 1, &g.x[1], false, &b1), 0);
	live = mapper_start(map_x0_rw_x1_ro, &g);
	assert_true(live > 0);
	dead = mapper_start(map_all_of_x, &g);
	assert_true(dead > 0);

	mapper_kill(f, dead);

	assert_int_equal(pv_hv_unshare(f->guest, x[2], 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, x[0], 1), -EBUSY);
	assert_int_equal(pv_hv_unshare(f->guest, x[1], 1), -EBUSY);
	assert_int_equal(pv_hv_unmap(f->be, b0, 1), 0);
	assert_int_equal(pv_hv_unmap(f->be, b1, 1), 0);
	/* Still the live mapper's. */
	assert_int_equal(pv_hv_unshare(f->guest, x[0], 1), -EBUSY);
	assert_int_equal(pv_hv_unshare(f->guest, x[1], 1), -EBUSY);

	mapper_kill(f, live);

	assert_int_equal(pv_hv_unshare(f->guest, x[0], 1), 0);
	assert_int_equal(pv_hv_unshare(f->guest, x[1], 1), 0);
}

/* ----------------------------------- a re-created domain is not touched */

static int map_from_dom3(void *arg)
{
	const uint32_t *ref = arg;
	struct pv_hv *hv = t_hv_open(0);
	void *a;

	return !hv || pv_hv_map(hv, 3, 1, ref, true, &a) ? 30 : 0;
}

static void test_pins_in_a_destroyed_domain_spare_its_successor(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *old, *now;
	uint32_t ref, ref2;
	void *g, *g2, *b;
	pid_t pid;

	assert_int_equal(t_sim_domain_create(f->ts, 3, 8 << 20), 0);
	old = t_hv_open(3);
	assert_non_null(old);
	assert_int_equal(pv_hv_share(old, 0, 1, true, &ref, &g), 0);
	pid = mapper_start(map_from_dom3, &ref);
	assert_true(pid > 0);

	pv_hv_close(old);
	assert_int_equal(t_sim_domain_destroy(f->ts, 3), 0);
	assert_int_equal(t_sim_domain_create(f->ts, 3, 8 << 20), 0);
	now = t_hv_open(3);
	assert_non_null(now);
	assert_int_equal(pv_hv_share(now, 0, 1, true, &ref2, &g2), 0);
	assert_int_equal(ref2, ref); /* same entry, new incarnation */
	assert_int_equal(pv_hv_map(f->be, 3, 1, &ref2, true, &b), 0);

	mapper_kill(f, pid);

	assert_int_equal(pv_hv_unshare(now, g2, 1), -EBUSY);
	assert_int_equal(pv_hv_unmap(f->be, b, 1), 0);
	assert_int_equal(pv_hv_unshare(now, g2, 1), 0);
	pv_hv_close(now);
	assert_int_equal(t_sim_domain_destroy(f->ts, 3), 0);
}

/* --------------------------------------------- killed at any point */

struct busy_refs {
	uint32_t ref[2];          /* [0] the dying mapper's only, [1] shared with a live one */
	unsigned long *progress;  /* the live mapper's copies so far (shared memory) */
};

/* Maps both refs and copies to and from them in a loop until killed. */
static int map_and_copy_forever(void *arg)
{
	const struct busy_refs *g = arg;
	struct pv_hv *hv = t_hv_open(0);
	char buf[256] = "x";
	bool first = true;

	if (!hv)
		return 40;
	for (;;) {
		struct pv_hv_copy_seg seg[2] = {
			{ .ref = g->ref[1], .domid = 1, .local = buf, .len = sizeof(buf),
			  .to_guest = true },
			{ .ref = g->ref[0], .domid = 1, .local = buf, .len = sizeof(buf) },
		};
		void *a;

		if (pv_hv_map(hv, 1, 2, g->ref, true, &a))
			return 41;
		/* Mostly copies: much of a copy runs under an entry lock. */
		for (int k = 0; k < 100; k++)
			if (pv_hv_copy(hv, 2, seg))
				return 42;
		if (pv_hv_unmap(hv, a, 2))
			return 43;
		if (first)
			mapper_ready(0);
		first = false;
	}
}

/* Copies to and from ref[1] until killed, counting. */
static int copy_forever(void *arg)
{
	const struct busy_refs *g = arg;
	struct pv_hv *hv = t_hv_open(0);
	char buf[64];

	if (!hv)
		return 44;
	for (;;) {
		struct pv_hv_copy_seg seg = { .ref = g->ref[1], .domid = 1, .local = buf,
					      .len = sizeof(buf), .to_guest = true };

		if (pv_hv_copy(hv, 1, &seg))
			return 45;
		seg.to_guest = false;
		if (pv_hv_copy(hv, 1, &seg))
			return 46;
		if (__atomic_add_fetch(g->progress, 1, __ATOMIC_RELEASE) == 1)
			mapper_ready(0);
	}
}

static void test_a_mapper_killed_anywhere_leaves_nothing_pinned_or_locked(void **state)
{
	struct t_hv_fixture *f = *state;
	struct busy_refs g;
	pid_t live;
	void *pb;
	unsigned i;

	g.progress = mmap(NULL, sizeof(*g.progress), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(g.progress != MAP_FAILED);
	*g.progress = 0;
	assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &g.ref[1], &pb), 0);
	live = mapper_start(copy_forever, &g);
	assert_true(live > 0);

	for (i = 0; i < 200; i++) {
		volatile unsigned spin;
		unsigned long seen;
		void *pa, *b;
		pid_t pid;

		assert_int_equal(pv_hv_share(f->guest, 0, 1, true, &g.ref[0], &pa), 0);
		pid = mapper_start(map_and_copy_forever, &g);
		assert_true(pid > 0);
		/* Kill it at a different point of its loop each time. */
		for (spin = 0; spin < (i * 7919u) % 100000u; spin++)
			;
		mapper_kill(f, pid);
		/* No entry stays locked: the live mapper goes on, and so does
		 * a map here (either would spin for ever). */
		seen = __atomic_load_n(g.progress, __ATOMIC_ACQUIRE);
		while (__atomic_load_n(g.progress, __ATOMIC_ACQUIRE) == seen)
			sched_yield();
		assert_int_equal(pv_hv_map(f->be, 1, 2, g.ref, true, &b), 0);
		assert_int_equal(pv_hv_unmap(f->be, b, 2), 0);
		/* Nothing of the dead one stays pinned. */
		assert_int_equal(pv_hv_unshare(f->guest, pa, 1), 0);
	}
	mapper_kill(f, live);
	assert_int_equal(pv_hv_unshare(f->guest, pb, 1), 0);
	munmap(g.progress, sizeof(*g.progress));
}

/* ------------------------------------------------- a garbled journal */

/* In a mapper: our pin journal, found by its memfd's name. */
static struct sim_pin_journal *own_journal(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	void *found = NULL;
	char line[512];

	if (!maps)
		return NULL;
	while (!found && fgets(line, sizeof(line), maps))
		if (strstr(line, "memfd:pvsim-pins"))
			found = (void *)(uintptr_t)strtoull(line, NULL, 16);
	fclose(maps);
	return found;
}

static int map_then_garble(void *arg)
{
	const uint32_t *refs = arg; /* [0] to map, [1] granted, unmapped */
	struct pv_hv *hv = t_hv_open(0);
	struct sim_pin_journal *j;
	struct sim_pin_rec real = { 0 }, *r;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t i, n;
	void *a;

	if (!hv || pv_hv_map(hv, 1, 1, &refs[0], true, &a))
		return 50;
	j = own_journal();
	if (!j)
		return 51;
	for (i = 0; i < j->nr_used; i++)
		if (j->rec[i].state == SIM_PIN_HELD)
			real = j->rec[i];
	if (real.state != SIM_PIN_HELD || real.ref != refs[0])
		return 52;
	/* Noise after the real record, then hostile records that pass the
	 * domain check, then a length past the end. */
	n = j->nr_used;
	for (i = n; i < n + 4096; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(&j->rec[i], &x, sizeof(x));
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy((char *)&j->rec[i] + 8, &x, sizeof(x));
	}
	r = &j->rec[n + 4096];
	r[0] = real, r[0].ref = SIM_GNT_ENTRIES;
	r[1] = real, r[1].ref = UINT32_MAX, r[1].state = SIM_PIN_UNPINNING;
	r[2] = real, r[2].domid = DOMID_FIRST_RESERVED;
	r[3] = real, r[3].domid = UINT16_MAX;
	r[4] = real, r[4].domid = 0;               /* our own domain */
	r[5] = real, r[5].domid = 2;               /* a domain with another gen */
	r[6] = real, r[6].ref = refs[1];           /* granted, never pinned */
	r[7] = real, r[7].writable = 9;
	r[8] = real, r[8].state = 0xee;
	r[9] = real, r[9].state = SIM_PIN_PINNING; /* not inside a lock */
	r[10] = real;                              /* the real pin, twice */
	r[11] = real, r[11].writable = 0;          /* no read-only pin to drop */
	j->nr_used = UINT32_MAX;
	return 0;
}

static void test_a_garbled_journal_does_not_crash_the_daemon(void **state)
{
	struct t_hv_fixture *f = *state;
	uint32_t refs[2];
	struct pv_hv *hv;
	void *g, *b;
	pid_t pid;

	assert_int_equal(pv_hv_share(f->guest, 0, 2, true, refs, &g), 0);
	pid = mapper_start(map_then_garble, refs);
	assert_true(pid > 0);

	mapper_kill(f, pid);

	/* The daemon still serves, the real pin went and nothing underflowed. */
	hv = t_hv_open(0);
	assert_non_null(hv);
	assert_int_equal(pv_hv_map(hv, 1, 2, refs, true, &b), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 2), -EBUSY);
	assert_int_equal(pv_hv_unmap(hv, b, 2), 0);
	assert_int_equal(pv_hv_unshare(f->guest, g, 2), 0);
	pv_hv_close(hv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grants_a_killed_mapper_held_can_be_ended),
		cmocka_unit_test(test_only_the_killed_mappers_pins_are_dropped),
		cmocka_unit_test(test_pins_in_a_destroyed_domain_spare_its_successor),
		cmocka_unit_test(test_a_mapper_killed_anywhere_leaves_nothing_pinned_or_locked),
		cmocka_unit_test(test_a_garbled_journal_does_not_crash_the_daemon),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
