// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-net: netif's descriptor for the common daemon (common/daemon.c
 * owns the options every backend has, signals, the control socket and the
 * main loop) and the parsers of net's own options.  Serves every device
 * under backend/vif/ (and backend/<type>/ for each --type); each connected
 * queue runs on its own thread (ring.c).  Holds no protocol logic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netback.h"

/* enum net_port_kind order */
static const char *const ports[] = { "tap", "dpdk", "dpdk-switch", NULL };
static const char *const on_off[] = { "on", "off", NULL };

static int set_port(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, ports);

	if (v >= 0)
		((struct net_config *)cfg)->port = (enum net_port_kind)v;
	return v < 0 ? v : 0;
}

static int set_port_args(void *cfg, const char *arg)
{
	((struct net_config *)cfg)->port_args = arg;
	return 0;
}

static int set_dpdk_args(void *cfg, const char *arg)
{
	((struct net_config *)cfg)->dpdk_args = arg;
	return 0;
}

static int set_dpdk_mbufs(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 1023, 4194303, &((struct net_config *)cfg)->dpdk_mbufs);
}

static int set_split(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, on_off);

	if (v >= 0)
		((struct net_config *)cfg)->split_evtchn = v == 0;
	return v < 0 ? v : 0;
}

static int set_ctrl(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, on_off);

	if (v >= 0)
		((struct net_config *)cfg)->ctrl_ring = v == 0;
	return v < 0 ? v : 0;
}

static int set_stall(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 0, 3600000, &((struct net_config *)cfg)->rx_stall_ms);
}

static int set_tx_map_min(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 0, NET_MAX_PKT, &((struct net_config *)cfg)->tx_map_min);
}

static const struct pv_backend_opt net_opts[] = {
	{ "port", "tap|dpdk|dpdk-switch", "host side of each vif (default tap: a TAP device\n"
	  "vif<domid>.<devid> for the toolstack's bridge script; dpdk: a DPDK\n"
	  "ethdev per vif; dpdk-switch: a built-in L2 switch of all vifs)", { 0 }, set_port },
	{ "port-args", "ARGS", "dpdk: the devargs template of each vif's device\n"
	  "({vif} {domid} {devid} replaced); dpdk-switch: the uplink's devargs", { 0 },
	  set_port_args },
	{ "dpdk-args", "'EAL ARGS'", "DPDK EAL arguments, replacing the defaults\n"
	  "(-l <cpu> --no-pci --no-telemetry, and hugepage or --no-huge memory)", { 0 },
	  set_dpdk_args },
	{ "dpdk-mbufs", "N", "mbufs in the DPDK pool (default %u)", { 16383 }, set_dpdk_mbufs },
	{ "split-event-channels", "on|off", "offer feature-split-event-channels (default on)",
	  { 0 }, set_split },
	{ "ctrl-ring", "on|off", "offer feature-ctrl-ring (default on)", { 0 }, set_ctrl },
	{ "rx-stall-ms", "N", "carrier off when a queue gets no receive buffers\n"
	  "for N ms while frames wait (default %u, 0 never)", { 60000 }, set_stall },
	{ "tx-map-min", "BYTES", "guest TX zero copy: map packets of BYTES or more\n"
	  "beyond their first %u bytes instead of copying them,\n"
	  "on ports that take segments (default %u: never)", { NET_TX_COPY_HEAD, 0 },
	  set_tx_map_min },
};

static void sighup(struct pv_backend *b)
{
	pv_info(NULL, "SIGHUP: nothing to re-read");
}

/* After daemon(): the EAL's threads would not survive the fork. */
static int start(struct pv_backend *b)
{
	struct net_config *cfg = pv_backend_config(b);

	switch (cfg->port) {
	case NET_PORT_TAP:
		cfg->port_ops = &net_port_tap_ops;
		return 0;
	case NET_PORT_DPDK:
	case NET_PORT_DPDK_SWITCH:
#ifdef HAVE_DPDK
		if (net_dpdk_init(cfg) < 0)
			return -EIO;
		if (cfg->port == NET_PORT_DPDK) {
			cfg->port_ops = &net_port_dpdk_ops;
			return 0;
		}
		cfg->port_ops = &net_port_switch_ops;
		return net_switch_init(cfg) < 0 ? -EIO : 0;
#else
		pv_err(NULL, "--port %s: pvback-net was built without DPDK (libdpdk-dev)",
		       ports[cfg->port]);
		return -ENOTSUP;
#endif
	}
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct net_config cfg = {
		.pv = { .hv_kind = PV_HV_AUTO, .max_queues = NET_DEF_MAX_QUEUES },
		.port = NET_PORT_TAP,
		.split_evtchn = true,
		.ctrl_ring = true,
		.rx_stall_ms = 60000,
		.dpdk_mbufs = 16383,
	};
	const struct pv_backend_desc desc = {
		.prog = "pvback-net",
		.type = "vif",
		.xb = &net_vif_ops,
		.max_queues = NET_MAX_QUEUES,
		.opts = net_opts,
		.nr_opts = sizeof(net_opts) / sizeof(net_opts[0]),
		.cmds = NULL,
		.nr_cmds = 0,
		.stats = net_ctl_stats,
		.sighup = sighup,
		.start = start,
		.cfg = &cfg,
		.common = &cfg.pv,
	};

	int rc = pv_backend_main(&desc, argc, argv);

#ifdef HAVE_DPDK
	/* Every vif is gone (pv_backend_main stopped them): the switch, then
	 * the EAL (both nothing when they never started: a client command). */
	net_switch_fini();
	net_dpdk_fini();
#endif
	return rc;
}
