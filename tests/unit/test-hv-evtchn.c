/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: event channels in sim mode follow Xen and Linux's
 * /dev/xen/evtchn: alloc unbound + bind interdomain across two processes,
 * notify wakes the peer's pollable fd, a fired port stays masked until
 * unmask, notifies coalesce, bind sets a pending event on the new port,
 * close returns the peer to unbound (its notifies are dropped silently) and
 * operations on a closed port fail with -EINVAL; many ports fired together
 * each come out of one pending loop once (sim fetches them in batches), and
 * a port closed after its event was fetched is not returned.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hv-harness.h"

/* Wait for one event on hv; returns the port (unmasked again) or -errno. */
static int wait_event(struct pv_hv *hv, int ms)
{
	int port;

	if (t_wait_readable(pv_hv_evtchn_fd(hv), ms) != 1)
		return -ETIMEDOUT;
	port = pv_hv_evtchn_pending(hv);
	if (port >= 0)
		pv_hv_evtchn_unmask(hv, (uint32_t)port);
	return port;
}

/* Bind the backend to a fresh guest port; consume the bind-time event. */
static void connect_pair(struct t_hv_fixture *f, int *gport, int *bport)
{
	*gport = pv_hv_evtchn_alloc(f->guest, 0);
	assert_true(*gport > 0);
	*bport = pv_hv_evtchn_bind(f->be, 1, (uint32_t)*gport);
	assert_true(*bport > 0);
	assert_int_equal(wait_event(f->be, 1000), *bport);
}

struct xproc {
	int to_child[2], to_parent[2];
};

/* The guest side, in its own process. */
static int guest_child(void *arg)
{
	struct xproc *x = arg;
	struct pv_hv *hv = t_hv_open(1);
	int port, got;

	if (!hv)
		return 10;
	port = pv_hv_evtchn_alloc(hv, 0);
	if (port <= 0)
		return 11;
	if (write(x->to_parent[1], &port, sizeof(port)) != sizeof(port))
		return 12;
	got = wait_event(hv, 5000); /* the backend's notify */
	if (got != port)
		return 13;
	if (pv_hv_evtchn_notify(hv, (uint32_t)port) < 0)
		return 14;
	if (read(x->to_child[0], &got, sizeof(got)) != sizeof(got)) /* parent done */
		return 15;
	pv_hv_close(hv);
	return 0;
}

static void test_notify_wakes_the_peer_across_processes(void **state)
{
	struct t_hv_fixture *f = *state;
	struct xproc x;
	int gport, bport, st, done = 1;
	pid_t pid;

	assert_int_equal(pipe(x.to_child), 0);
	assert_int_equal(pipe(x.to_parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(guest_child(&x));
	assert_int_equal(read(x.to_parent[0], &gport, sizeof(gport)), sizeof(gport));
	bport = pv_hv_evtchn_bind(f->be, 1, (uint32_t)gport);
	assert_true(bport > 0);
	assert_int_equal(wait_event(f->be, 1000), bport); /* Xen's bind-time event */
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)bport), 0);
	assert_int_equal(wait_event(f->be, 5000), bport); /* the guest's answer */
	assert_int_equal(write(x.to_child[1], &done, sizeof(done)), sizeof(done));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* the guest's process exited: its port closed, ours is unbound */
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)bport), 0);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)bport), 0);
	close(x.to_child[0]);
	close(x.to_child[1]);
	close(x.to_parent[0]);
	close(x.to_parent[1]);
}

static void test_bind_sets_a_pending_event_on_the_new_port(void **state)
{
	struct t_hv_fixture *f = *state;
	int g = pv_hv_evtchn_alloc(f->guest, 0), b;

	assert_true(g > 0);
	b = pv_hv_evtchn_bind(f->be, 1, (uint32_t)g);
	assert_true(b > 0);
	assert_int_equal(pv_hv_evtchn_pending(f->be), b);
	assert_int_equal(pv_hv_evtchn_pending(f->be), -EAGAIN);
	assert_int_equal(pv_hv_evtchn_unmask(f->be, (uint32_t)b), 0);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b), 0);
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g), 0);
}

static void test_a_fired_port_stays_masked_and_notifies_coalesce(void **state)
{
	struct t_hv_fixture *f = *state;
	int g, b;

	connect_pair(f, &g, &b);
	assert_int_equal(pv_hv_evtchn_pending(f->be), -EAGAIN);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g), 0);
	assert_int_equal(t_wait_readable(pv_hv_evtchn_fd(f->be), 1000), 1);
	assert_int_equal(pv_hv_evtchn_pending(f->be), b);
	assert_int_equal(pv_hv_evtchn_pending(f->be), -EAGAIN); /* three were one */
	/* masked: a notify now is held until unmask */
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g), 0);
	assert_int_equal(t_wait_readable(pv_hv_evtchn_fd(f->be), 50), 0);
	assert_int_equal(pv_hv_evtchn_unmask(f->be, (uint32_t)b), 0);
	assert_int_equal(wait_event(f->be, 1000), b);
	assert_int_equal(t_wait_readable(pv_hv_evtchn_fd(f->be), 50), 0);
	/* and the other way */
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)b), 0);
	assert_int_equal(wait_event(f->guest, 1000), g);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b), 0);
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g), 0);
}

static void test_close_returns_the_peer_to_unbound(void **state)
{
	struct t_hv_fixture *f = *state;
	int g, b, b2;

	connect_pair(f, &g, &b);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b), 0);
	/* the peer closed: the guest's notify is dropped silently */
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g), 0);
	/* our closed port: -EINVAL for everything */
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)b), -EINVAL);
	assert_int_equal(pv_hv_evtchn_unmask(f->be, (uint32_t)b), -EINVAL);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b), -EINVAL);
	/* the guest's port is unbound for us again: a new bind reaches it, and
	 * the guest's notify finds the new peer */
	b2 = pv_hv_evtchn_bind(f->be, 1, (uint32_t)g);
	assert_true(b2 > 0);
	assert_int_equal(wait_event(f->be, 1000), b2);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g), 0);
	assert_int_equal(wait_event(f->be, 1000), b2);
	/* the guest closes: our port is unbound, notify silently dropped */
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g), 0);
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)b2), 0);
	assert_int_equal(t_wait_readable(pv_hv_evtchn_fd(f->guest), 50), 0);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b2), 0);
}

static void test_notify_on_a_never_bound_port_fails(void **state)
{
	struct t_hv_fixture *f = *state;

	assert_int_equal(pv_hv_evtchn_notify(f->be, 77), -EINVAL);
	assert_int_equal(pv_hv_evtchn_notify(f->be, 1u << 30), -EINVAL);
	assert_int_equal(pv_hv_evtchn_unmask(f->be, 77), -EINVAL);
	assert_int_equal(pv_hv_evtchn_pending(f->be), -EAGAIN);
}

static void test_bind_needs_a_port_left_unbound_for_us(void **state)
{
	struct t_hv_fixture *f = *state;
	int g = pv_hv_evtchn_alloc(f->guest, 2); /* for domain 2, not us */

	assert_true(g > 0);
	assert_int_equal(pv_hv_evtchn_bind(f->be, 1, (uint32_t)g), -EINVAL);
	assert_int_equal(pv_hv_evtchn_bind(f->be, 1, 999), -EINVAL);
	assert_int_equal(pv_hv_evtchn_bind(f->be, 9, 1), -ESRCH);
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g), 0);
}

static void test_another_handle_of_the_same_domain_cannot_use_our_port(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *be2 = t_hv_open(0);
	int g, b;

	assert_non_null(be2);
	connect_pair(f, &g, &b);
	assert_int_equal(pv_hv_evtchn_notify(be2, (uint32_t)b), -EINVAL);
	assert_int_equal(pv_hv_evtchn_close(be2, (uint32_t)b), -EINVAL);
	pv_hv_close(be2);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b), 0);
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g), 0);
}

static void test_closing_a_handle_closes_its_ports(void **state)
{
	struct t_hv_fixture *f = *state;
	struct pv_hv *g2 = t_hv_open(1);
	int g, b;

	assert_non_null(g2);
	g = pv_hv_evtchn_alloc(g2, 0);
	assert_true(g > 0);
	b = pv_hv_evtchn_bind(f->be, 1, (uint32_t)g);
	assert_true(b > 0);
	assert_int_equal(wait_event(f->be, 1000), b);
	pv_hv_close(g2);
	t_sim_sync(f->ts);
	/* our end went back to unbound; binding to the dead port fails */
	assert_int_equal(pv_hv_evtchn_notify(f->be, (uint32_t)b), 0);
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b), 0);
	assert_int_equal(pv_hv_evtchn_bind(f->be, 1, (uint32_t)g), -EINVAL);
}

#define NR_BURST 20 /* more than one sim fetch batch */

static void test_ports_fired_together_each_come_out_once(void **state)
{
	struct t_hv_fixture *f = *state;
	int g[NR_BURST], b[NR_BURST], seen[NR_BURST] = { 0 };
	int i, port, total = 0;

	for (i = 0; i < NR_BURST; i++)
		connect_pair(f, &g[i], &b[i]);
	assert_int_equal(pv_hv_evtchn_pending(f->be), -EAGAIN);
	for (i = 0; i < NR_BURST; i++)
		assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g[i]), 0);
	/* poll, then pending until -EAGAIN, as the event loops do */
	while (t_wait_readable(pv_hv_evtchn_fd(f->be), 200) == 1) {
		while ((port = pv_hv_evtchn_pending(f->be)) >= 0) {
			for (i = 0; i < NR_BURST; i++)
				if (b[i] == port)
					seen[i]++;
			total++;
		}
	}
	assert_int_equal(total, NR_BURST);
	for (i = 0; i < NR_BURST; i++) {
		assert_int_equal(seen[i], 1);
		assert_int_equal(pv_hv_evtchn_unmask(f->be, (uint32_t)b[i]), 0);
	}
	/* two fire; the second is closed after the fetch: only the first comes */
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g[0]), 0);
	assert_int_equal(pv_hv_evtchn_notify(f->guest, (uint32_t)g[1]), 0);
	assert_int_equal(t_wait_readable(pv_hv_evtchn_fd(f->be), 1000), 1);
	usleep(20000); /* let both eventfd writes land before the fetch */
	port = pv_hv_evtchn_pending(f->be);
	assert_true(port == b[0] || port == b[1]);
	i = port == b[0] ? 1 : 0;
	assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b[i]), 0);
	assert_int_equal(pv_hv_evtchn_pending(f->be), -EAGAIN);
	assert_int_equal(pv_hv_evtchn_unmask(f->be, (uint32_t)port), 0);
	assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g[i]), 0);
	b[i] = g[i] = -1;
	for (i = 0; i < NR_BURST; i++) {
		if (b[i] < 0)
			continue;
		assert_int_equal(pv_hv_evtchn_close(f->be, (uint32_t)b[i]), 0);
		assert_int_equal(pv_hv_evtchn_close(f->guest, (uint32_t)g[i]), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_wakes_the_peer_across_processes),
		cmocka_unit_test(test_bind_sets_a_pending_event_on_the_new_port),
		cmocka_unit_test(test_a_fired_port_stays_masked_and_notifies_coalesce),
		cmocka_unit_test(test_close_returns_the_peer_to_unbound),
		cmocka_unit_test(test_notify_on_a_never_bound_port_fails),
		cmocka_unit_test(test_bind_needs_a_port_left_unbound_for_us),
		cmocka_unit_test(test_another_handle_of_the_same_domain_cannot_use_our_port),
		cmocka_unit_test(test_closing_a_handle_closes_its_ports),
		cmocka_unit_test(test_ports_fired_together_each_come_out_once),
	};

	return cmocka_run_group_tests(tests, t_hv_fixture_setup, t_hv_fixture_teardown);
}
