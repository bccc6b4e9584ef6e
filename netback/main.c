// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-net: netif's descriptor for the common daemon (common/daemon.c
 * owns the options every backend has, signals, the control socket and the
 * main loop) and the parsers of net's own options.  Serves every device
 * under backend/vif/ (and backend/<type>/ for each --type); each connected
 * queue runs on its own thread (ring.c).  Holds no protocol logic.
 */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/syscall.h>
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

/* A CPU list ("2", "0-3", "1,3,5-6"): one polling worker pinned to each. */
static int set_lcores(void *cfg, const char *arg)
{
	struct net_config *c = cfg;
	const char *s = arg;
	unsigned n = 0;

	while (*s) {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s || hi < lo)
				return -EINVAL;
		}
		if (hi >= CPU_SETSIZE)
			return -EINVAL;
		for (; lo <= hi; lo++) {
			if (n == NET_MAX_WORKERS)
				return -E2BIG;
			c->worker_cpu[n++] = (int)lo;
		}
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	c->nr_workers = n;
	return n ? 0 : -EINVAL;
}

static int set_sleep_max(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 0, 1000000, &((struct net_config *)cfg)->poll_sleep_max_us);
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
	{ "dpdk-lcores", "CPUS", "polling workers, one pinned to each CPU of the list\n"
	  "(e.g. 2 or 2-3), each serving the queues of many vifs; a dpdk\n"
	  "port has one (not pinned) by default, a tap port a thread per queue", { 0 },
	  set_lcores },
	{ "poll-sleep-max-us", "N", "an idle polling worker sleeps up to N us between\n"
	  "looks at its ports (default %u; 0: until an event channel fires)", { 1000 },
	  set_sleep_max },
	{ "tx-map-min", "BYTES", "guest TX zero copy: map packets of BYTES or more\n"
	  "beyond their first %u bytes instead of copying them,\n"
	  "on ports that take segments (default %u: never)", { NET_TX_COPY_HEAD, 0 },
	  set_tx_map_min },
};

static void sighup(struct pv_backend *b)
{
	pv_info(NULL, "SIGHUP: nothing to re-read");
}

/* After daemon() (the EAL's threads would not survive the fork), as root
 * (the EAL's hugepages and devices); no polling worker yet: they start
 * confined (serve). */
static int start(struct pv_backend *b)
{
	struct net_config *cfg = pv_backend_config(b);

	/* A polling worker or a DPDK port serves many guests' queues in one
	 * thread of one process: no process per domain can hold them. */
	if (cfg->pv.isolate && cfg->port != NET_PORT_TAP) {
		pv_err(NULL, "--isolate domain with --port %s: its polling workers serve many "
		       "guests in one thread; isolation needs --port tap", ports[cfg->port]);
		return -EINVAL;
	}
	if (cfg->pv.isolate && cfg->nr_workers) {
		pv_err(NULL, "--isolate domain with --dpdk-lcores: a polling worker serves many "
		       "guests in one thread; isolation needs a thread per queue");
		return -EINVAL;
	}
	switch (cfg->port) {
	case NET_PORT_TAP:
		cfg->port_ops = &net_port_tap_ops;
		break;
	case NET_PORT_DPDK:
	case NET_PORT_DPDK_SWITCH:
#ifdef HAVE_DPDK
		if (net_dpdk_init(cfg) < 0)
			return -EIO;
		if (cfg->port == NET_PORT_DPDK) {
			cfg->port_ops = &net_port_dpdk_ops;
		} else {
			cfg->port_ops = &net_port_switch_ops;
			if (net_switch_init(cfg) < 0)
				return -EIO;
		}
		break;
#else
		pv_err(NULL, "--port %s: pvback-net was built without DPDK (libdpdk-dev)",
		       ports[cfg->port]);
		return -ENOTSUP;
#endif
	default:
		return -EINVAL;
	}
	/* A polled port needs workers; any port may have them (many vifs
	 * served by a few polling threads instead of a thread per queue). */
	if (!cfg->nr_workers && !(cfg->port_ops->caps & NET_PORT_POLLED))
		return 0;
	if (!cfg->nr_workers) {
		cfg->nr_workers = 1;
		cfg->worker_cpu[0] = -1;
	}
	/* A device's frames are found only by polling (--port dpdk, or the
	 * switch's uplink): a worker that sleeps until an fd fires would leave
	 * them unread until the guest does something. */
	if ((cfg->port_ops->caps & NET_PORT_POLLED) && !cfg->poll_sleep_max_us &&
	    (cfg->port == NET_PORT_DPDK || cfg->port_args)) {
		pv_err(NULL, "--poll-sleep-max-us 0 with --port %s%s: the device's frames are "
		       "found only by polling; give the sleep a bound", ports[cfg->port],
		       cfg->port == NET_PORT_DPDK ? "" : " and an uplink");
		return -EINVAL;
	}
	return 0;
}

/* The polling workers are data-path threads: started confined.  Or the
 * worker processes' table (--isolate domain, which has no polling worker). */
static int serve(struct pv_backend *b)
{
	struct net_config *cfg = pv_backend_config(b);
	int rc = net_workers_start(cfg);

	if (rc == 0 && cfg->pv.isolate) {
		rc = pv_isodev_table_create(b, &net_iso_desc, &cfg->iso);
		if (rc < 0)
			pv_err(NULL, "--isolate domain: %s", strerror(-rc));
	}
	return rc;
}

/*
 * The main thread creates each vif's TAP (CAP_NET_ADMIN: TUNSETIFF of a new
 * interface, TUNSETPERSIST, its address and MTU) and DPDK's packet sockets
 * (CAP_NET_RAW).  The data path: TUNSETCARRIER ('T') on a receive stall,
 * and on a polling worker the queue's start (pv_queue_start runs it there):
 * the queue's own TAP fd (open /dev/net/tun, TUNSETIFF to attach to the
 * existing interface, which needs no capability), its io_uring, and the
 * DPDK queue set-up (access, sched_getaffinity: seen with --seccomp log).
 * A worker process of --isolate domain opens no TAP and creates no
 * interface: its main thread keeps neither capability.
 */
static const int net_syscalls[] = { SYS_openat, SYS_io_uring_setup, SYS_access,
				    SYS_sched_getaffinity };
static const uint8_t net_ioctl_types[] = { 'T' };
static const struct pv_confine_rules net_confine = {
	.main_caps = PV_CAP(CAP_NET_ADMIN) | PV_CAP(CAP_NET_RAW),
	/* A worker process (--isolate domain) is handed its TAP queues' fds. */
	.worker_drop_caps = PV_CAP(CAP_NET_ADMIN) | PV_CAP(CAP_NET_RAW),
	.syscalls = net_syscalls,
	.nr_syscalls = sizeof(net_syscalls) / sizeof(net_syscalls[0]),
	.ioctl_types = net_ioctl_types,
	.nr_ioctl_types = sizeof(net_ioctl_types),
};

int main(int argc, char **argv)
{
	struct net_config cfg = {
		.pv = { .hv_kind = PV_HV_AUTO, .max_queues = NET_DEF_MAX_QUEUES },
		.port = NET_PORT_TAP,
		.split_evtchn = true,
		.ctrl_ring = true,
		.rx_stall_ms = 60000,
		.poll_sleep_max_us = 1000,
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
		.serve = serve,
		.worker = net_iso_worker,
		.confine = &net_confine,
		.cfg = &cfg,
		.common = &cfg.pv,
	};

	int rc = pv_backend_main(&desc, argc, argv);

	pv_isodev_table_destroy(cfg.iso);
#ifdef HAVE_DPDK
	/* Every vif is gone (pv_backend_main stopped them): the switch, then
	 * the EAL (both nothing when they never started: a client command). */
	net_switch_fini();
	net_dpdk_fini();
#endif
	return rc;
}
