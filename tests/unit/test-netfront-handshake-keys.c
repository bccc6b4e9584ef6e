/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the userspace netfront's handshake against the xenbus
 * framework on pvsim's xenstored, with a fake vif backend whose feature
 * keys the test writes as the toolstack would find them from Linux
 * netback.  netfront_open goes from Initialising straight to Connected
 * (the backend's connect sees the frontend Connected, never Initialised)
 * and writes Linux netfront's keys in one transaction: one queue flat
 * (tx-ring-ref, rx-ring-ref, event-channel-tx/-rx when split is offered,
 * event-channel otherwise), several under queue-N/ with
 * multi-queue-num-queues, clamped to multi-queue-max-queues;
 * request-rx-copy=1, feature-rx-notify, feature-sg, feature-gso-tcpv4/v6,
 * feature-ipv6-csum-offload as switched, feature-no-csum-offload=1 only
 * with checksum offload off; request-multicast-control and the ctrl ring
 * only when offered.  A backend without feature-rx-copy is refused; the
 * vif's mac is read from our directory.  netfront_reconfigure writes
 * xdp-headroom and goes Reconfiguring -> (Reconfigured) -> Connected
 * without waiting for the backend's Connected (Linux netback stays
 * Reconfigured: one backend here does too); a backend without
 * feature-xdp-headroom says -EOPNOTSUPP.  Close leaves both sides Closed.
 * Exits 77 (skip) when build/bin/pvsim is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xen/io/xenbus.h>

#include "pvcommon.h"
#include "netfront.h"
#include "sim-harness.h"

static struct t_pvsim sim;
static struct t_backend tb;
static struct t_fake fake;
static struct pv_xb_backend_ops vif_ops;
static char fepath[96], bepath[96];

/* What Linux 6.1 netback offers (its probe keys). */
static const char *const linux_features[][2] = {
	{ "feature-sg", "1" }, { "feature-gso-tcpv4", "1" }, { "feature-gso-tcpv6", "1" },
	{ "feature-ipv6-csum-offload", "1" }, { "feature-rx-copy", "1" },
	{ "feature-rx-flip", "0" }, { "feature-multicast-control", "1" },
	{ "feature-dynamic-multicast-control", "1" }, { "feature-split-event-channels", "1" },
	{ "multi-queue-max-queues", "4" }, { "feature-ctrl-ring", "1" },
	{ "feature-xdp-headroom", "1" }, { NULL, NULL },
};

static int setup(void **state)
{
	const struct pv_xb_backend_ops *ops[] = { &vif_ops };
	void *ctx[] = { &fake };

	vif_ops = t_fake_ops("vif", false);
	return t_backend_setup(&tb, &sim, "pvnfhs", 1, ops, ctx);
}

static int teardown(void **state)
{
	t_backend_teardown(&tb, &sim);
	return 0;
}

/* A new vif in InitWait with the given backend keys (value NULL: removed);
 * its devid. */
static uint32_t attach(const char *const (*keys)[2], const char *const (*more)[2])
{
	int probes = t_count_get(&fake.probe);
	long devid = t_pvsim_attach(&sim, "guest", "vif", "mac=00:16:3e:12:34:56");

	assert_true(devid >= 0);
	assert_int_equal(t_count_wait(&fake.probe, probes + 1), probes + 1);
	snprintf(fepath, sizeof(fepath), "/local/domain/%u/device/vif/%ld", sim.guest, devid);
	snprintf(bepath, sizeof(bepath), "/local/domain/0/backend/vif/%u/%ld", sim.guest, devid);
	for (; keys && (*keys)[0]; keys++)
		assert_int_equal(t_dom0_write(&sim, bepath, (*keys)[0], (*keys)[1]), 0);
	for (; more && (*more)[0]; more++)
		assert_int_equal(t_dom0_write(&sim, bepath, (*more)[0], (*more)[1]), 0);
	return (uint32_t)devid;
}

/* netfront_open as the guest (its xenstore socket, its hv). */
static int open_as_guest(const struct netfront_opts *o, struct netfront **nf)
{
	char path[128], id[16];
	int rc;

	snprintf(path, sizeof(path), "%s/xs/%u", sim.dir, sim.guest);
	snprintf(id, sizeof(id), "%u", sim.guest);
	setenv("XENSTORED_PATH", path, 1);
	setenv("PVSIM_DIR", sim.dir, 1);
	setenv("PVSIM_DOMID", id, 1);
	setenv("PVBACK_HV", "sim", 1);
	rc = netfront_open(o, nf);
	setenv("PVSIM_DOMID", "0", 1);
	return rc;
}

/* A frontend key as dom0 reads it, or NULL. */
static char *fe_key(const char *key)
{
	struct pv_xs *xs;
	char *v;

	assert_int_equal(t_pvsim_xs(&sim, 0, &xs), 0);
	v = pv_xs_read_at(xs, 0, fepath, key);
	pv_xs_close(xs);
	return v;
}

static void assert_key(const char *key, const char *want)
{
	char *v = fe_key(key);

	if (!want) {
		if (v)
			fail_msg("%s = %s, expected absent", key, v);
		return;
	}
	if (!v)
		fail_msg("%s absent, expected %s", key, want);
	assert_string_equal(v, want);
	free(v);
}

static void assert_key_present(const char *key)
{
	char *v = fe_key(key);

	if (!v)
		fail_msg("%s absent", key);
	free(v);
}

static void test_one_queue_writes_flat_keys_and_goes_straight_to_connected(void **state)
{
	struct netfront_opts o;
	struct netfront *nf;
	const struct netfront_info *in;

	netfront_opts_default(&o, attach(linux_features, NULL));
	assert_int_equal(open_as_guest(&o, &nf), 0);
	in = netfront_info(nf);
	/* Connect saw us Connected: netfront never says Initialised. */
	assert_int_equal(t_count_get(&fake.fe_state_at_connect), XenbusStateConnected);
	assert_int_equal(in->nr_queues, 1);
	assert_int_equal(in->max_queues, 4);
	assert_true(in->split);
	assert_int_equal(in->tx_slots, 256);
	assert_int_equal(in->rx_slots, 256);
	assert_memory_equal(in->mac, "\x00\x16\x3e\x12\x34\x56", 6);
	assert_true(in->tx_sg && in->tx_csum && in->tx_ipv6_csum && in->tx_gso_tcpv4 &&
		    in->tx_gso_tcpv6);
	assert_key("multi-queue-num-queues", "1");
	assert_key_present("tx-ring-ref");
	assert_key_present("rx-ring-ref");
	assert_key_present("event-channel-tx");
	assert_key_present("event-channel-rx");
	assert_key("event-channel", NULL);
	assert_key("queue-0/tx-ring-ref", NULL);
	assert_key("request-rx-copy", "1");
	assert_key("feature-rx-notify", "1");
	assert_key("feature-sg", "1");
	assert_key("feature-gso-tcpv4", "1");
	assert_key("feature-gso-tcpv6", "1");
	assert_key("feature-ipv6-csum-offload", "1");
	assert_key("feature-no-csum-offload", NULL);
	assert_key("request-multicast-control", NULL);
	assert_key("ctrl-ring-ref", NULL);
	assert_key("xdp-headroom", "0");
	assert_key("state", "4");
	netfront_close(nf);
	assert_key("state", "6");
}

static void test_queues_go_under_queue_dirs_clamped_to_the_backend(void **state)
{
	static const char *const two[][2] = { { "multi-queue-max-queues", "2" }, { NULL, NULL } };
	struct netfront_opts o;
	struct netfront *nf;

	netfront_opts_default(&o, attach(linux_features, two));
	o.nr_queues = 8;
	o.split = false;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_int_equal(netfront_info(nf)->nr_queues, 2);
	assert_false(netfront_info(nf)->split);
	assert_key("multi-queue-num-queues", "2");
	assert_key_present("queue-0/tx-ring-ref");
	assert_key_present("queue-0/rx-ring-ref");
	assert_key_present("queue-0/event-channel");
	assert_key_present("queue-1/event-channel");
	assert_key("queue-1/event-channel-tx", NULL);
	assert_key("tx-ring-ref", NULL);
	assert_key("event-channel", NULL);
	assert_key("queue-2/tx-ring-ref", NULL);
	netfront_close(nf);
}

static void test_a_backend_without_split_channels_gets_one(void **state)
{
	static const char *const nosplit[][2] = { { "feature-split-event-channels", NULL },
						  { NULL, NULL } };
	struct netfront_opts o;
	struct netfront *nf;

	netfront_opts_default(&o, attach(linux_features, nosplit));
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_false(netfront_info(nf)->split);
	assert_key_present("event-channel");
	assert_key("event-channel-tx", NULL);
	netfront_close(nf);
}

static void test_offloads_switched_off_are_written_so(void **state)
{
	struct netfront_opts o;
	struct netfront *nf;
	const struct netfront_info *in;

	netfront_opts_default(&o, attach(linux_features, NULL));
	o.sg = o.gso_tcpv4 = o.gso_tcpv6 = o.csum = o.ipv6_csum = o.rx_notify = false;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	in = netfront_info(nf);
	assert_false(in->tx_sg || in->tx_csum || in->tx_gso_tcpv4 || in->tx_gso_tcpv6);
	assert_key("feature-sg", "0");
	assert_key("feature-gso-tcpv4", "0");
	assert_key("feature-gso-tcpv6", "0");
	assert_key("feature-ipv6-csum-offload", "0");
	assert_key("feature-no-csum-offload", "1");
	assert_key("feature-rx-notify", "0");
	assert_key("request-rx-copy", "1");
	netfront_close(nf);
}

static void test_backend_features_limit_what_we_send(void **state)
{
	static const char *const lean[][2] = {
		{ "feature-sg", NULL }, { "feature-ipv6-csum-offload", NULL },
		{ "feature-gso-tcpv4", NULL }, { NULL, NULL },
	};
	struct netfront_opts o;
	struct netfront *nf;
	const struct netfront_info *in;

	netfront_opts_default(&o, attach(linux_features, lean));
	assert_int_equal(open_as_guest(&o, &nf), 0);
	in = netfront_info(nf);
	/* xennet_fix_features, and TSO needs SG and the checksum. */
	assert_false(in->tx_sg);
	assert_true(in->tx_csum);
	assert_false(in->tx_ipv6_csum);
	assert_false(in->tx_gso_tcpv4);
	assert_false(in->tx_gso_tcpv6);
	/* What we take is ours to say. */
	assert_key("feature-sg", "1");
	netfront_close(nf);
}

static void test_multicast_control_and_ctrl_ring_only_when_asked_and_offered(void **state)
{
	static const char *const none[][2] = { { "feature-multicast-control", NULL },
					       { "feature-ctrl-ring", NULL }, { NULL, NULL } };
	struct netfront_opts o;
	struct netfront *nf;

	netfront_opts_default(&o, attach(linux_features, NULL));
	o.mcast_control = o.ctrl_ring = true;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_key("request-multicast-control", "1");
	assert_key_present("ctrl-ring-ref");
	assert_key_present("event-channel-ctrl");
	netfront_close(nf);

	netfront_opts_default(&o, attach(linux_features, none));
	o.mcast_control = o.ctrl_ring = true;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_false(netfront_info(nf)->mcast_control);
	assert_int_equal(netfront_mcast(nf, true, (const uint8_t *)"\x01\x00\x5e\x00\x00\x01"),
			 -EOPNOTSUPP);
	assert_int_equal(netfront_ctrl(nf, 1, 0, 0, 0, NULL, 10), -ENOTCONN);
	assert_key("request-multicast-control", NULL);
	assert_key("ctrl-ring-ref", NULL);
	netfront_close(nf);
}

static void test_a_backend_without_rx_copy_is_refused(void **state)
{
	static const char *const norxcopy[][2] = { { "feature-rx-copy", NULL }, { NULL, NULL } };
	struct netfront_opts o;
	struct netfront *nf = NULL;

	netfront_opts_default(&o, attach(linux_features, norxcopy));
	o.timeout_ms = 3000;
	assert_int_equal(open_as_guest(&o, &nf), -ENODEV);
	assert_null(nf);
}

static void test_xdp_headroom_is_reconfigured_through_reconfiguring(void **state)
{
	static const char *const noxdp[][2] = { { "feature-xdp-headroom", NULL }, { NULL, NULL } };
	int before = t_count_get(&fake.reconfigure), st;
	struct netfront_opts o;
	struct netfront *nf;

	netfront_opts_default(&o, attach(linux_features, NULL));
	o.xdp_headroom = 128;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_key("xdp-headroom", "128");
	assert_int_equal(netfront_reconfigure(nf, 256), 0);
	/* At least once: a watch event of the connect's state write that
	 * arrives after Reconfiguring was written reads Reconfiguring too, and
	 * the framework re-reads a Reconfiguring seen while Reconfigured
	 * (the CI clone saw 2). */
	assert_true(t_count_get(&fake.reconfigure) >= before + 1);
	assert_int_equal(netfront_info(nf)->xdp_headroom, 256);
	assert_key("xdp-headroom", "256");
	assert_key("state", "4");
	/* Linux netback stays Reconfigured, ours comes back: either is live. */
	st = netfront_backend_state(nf);
	assert_true(st == XenbusStateReconfigured || st == XenbusStateConnected);
	netfront_close(nf);

	netfront_opts_default(&o, attach(linux_features, noxdp));
	o.xdp_headroom = 128;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_int_equal(netfront_info(nf)->xdp_headroom, 0);
	assert_key("xdp-headroom", NULL);
	assert_int_equal(netfront_reconfigure(nf, 256), -EOPNOTSUPP);
	netfront_close(nf);
}

/* Linux 6.1's netback on Reconfiguring: read xdp-headroom, write
 * Reconfigured with xenbus_switch_state, and keep be->state Connected, so
 * that the frontend's Connected changes nothing: it stays Reconfigured.
 * Here: the key written behind the framework's back (its own state stays
 * Connected), and "nothing to reconfigure" for the framework. */
static int linux_reconfigure(struct pv_xb_dev *dev)
{
	t_count_bump(&fake.reconfigure);
	if (pv_xs_printf_at(pv_xb_dev_xs(dev), 0, pv_xb_dev_bepath(dev), "state", "%d",
			    XenbusStateReconfigured) < 0)
		return -EIO;
	return -EOPNOTSUPP;
}

static void set_reconfigure(void *arg)
{
	vif_ops.reconfigure = arg;
}

/* Regression: netfront_reconfigure waited for a Connected that Linux's
 * netback never writes after Reconfigured, and timed out. */
static void test_reconfigure_returns_on_a_backend_that_stays_reconfigured(void **state)
{
	int before = t_count_get(&fake.reconfigure);
	struct netfront_opts o;
	struct netfront *nf;

	assert_int_equal(t_backend_run(&tb, set_reconfigure, linux_reconfigure), 0);
	netfront_opts_default(&o, attach(linux_features, NULL));
	o.timeout_ms = 3000;
	assert_int_equal(open_as_guest(&o, &nf), 0);
	assert_int_equal(netfront_reconfigure(nf, 256), 0);
	assert_int_equal(t_count_get(&fake.reconfigure), before + 1);
	assert_int_equal(netfront_info(nf)->xdp_headroom, 256);
	assert_key("state", "4");
	/* Everything the frontend's Connected raised, handled: still 8. */
	assert_int_equal(t_backend_fence(&sim, &fake, bepath), 0);
	assert_int_equal(netfront_backend_state(nf), XenbusStateReconfigured);
	netfront_close(nf);
	assert_int_equal(t_backend_run(&tb, set_reconfigure, t_fake_reconfigure), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_queue_writes_flat_keys_and_goes_straight_to_connected),
		cmocka_unit_test(test_queues_go_under_queue_dirs_clamped_to_the_backend),
		cmocka_unit_test(test_a_backend_without_split_channels_gets_one),
		cmocka_unit_test(test_offloads_switched_off_are_written_so),
		cmocka_unit_test(test_backend_features_limit_what_we_send),
		cmocka_unit_test(test_multicast_control_and_ctrl_ring_only_when_asked_and_offered),
		cmocka_unit_test(test_a_backend_without_rx_copy_is_refused),
		cmocka_unit_test(test_xdp_headroom_is_reconfigured_through_reconfiguring),
		cmocka_unit_test(test_reconfigure_returns_on_a_backend_that_stays_reconfigured),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
