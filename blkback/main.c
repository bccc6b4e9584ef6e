// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-blk: options, hv selection, signals and the main (xenbus) loop.
 * Serves every device under backend/vbd/ (and backend/<type>/ for each
 * --type) of this domain; each connected ring runs on its own thread
 * (ring.c).  SIGINT/SIGTERM stop every backend (drain in-flight I/O,
 * disconnect) and exit 0; SIGHUP re-checks every backing store's size
 * (online resize).  `pvback-blk stats|resize` are clients of the daemon's
 * control socket (ctl.c).  Holds no protocol logic.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkback.h"

#define MAX_TYPES 8
#define STATE_XEN_DIR "/run/pvback-blk/state"
#define STATE_SIM_NAME "pvback-blk.state"

struct daemon_state {
	struct pv_xb_backend **be;
	unsigned nr_be;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pvback-blk [options]\n"
		"  --hv xen|sim|auto         hypervisor interface (default auto)\n"
		"  --type NAME               serve backend/NAME/ (repeatable; default vbd)\n"
		"  --io uring|aio|sync|auto  host I/O engine (default auto)\n"
		"  --direct auto|on|off      O_DIRECT on the backing store (default auto)\n"
		"  --poll-us N               adaptive polling budget per queue (default 0)\n"
		"  --max-queues N            multi-queue-max-queues (default %u)\n"
		"  --max-ring-order N        max-ring-page-order (default %u, max %u)\n"
		"  --max-indirect N          feature-max-indirect-segments (default %u, 0 off)\n"
		"  --no-persistent           do not offer feature-persistent\n"
		"  --max-pgrants N           persistent grants per queue (default %u)\n"
		"  --grant-mode auto|map|copy  data of frontends without persistent grants:\n"
		"                            map per request, or grant-copy through a bounce\n"
		"                            pool (auto, the default: copy up to %u segments\n"
		"                            within %u pool pages per queue, map above)\n"
		"  --fixed-bufs auto|on|off  persistent-grant pages as io_uring registered\n"
		"                            buffers (auto: on for pvsim, off on xen)\n"
		"  --log-level err|warn|info|debug\n"
		"  --syslog                  log to syslog\n"
		"  --foreground              do not daemonize\n"
		"  --ctl PATH|none           control socket (default %s on xen,\n"
		"                            $PVSIM_DIR/pvback-blk.sock on pvsim)\n"
		"  --state-dir DIR|none      in-flight journals, so a restart after a kill\n"
		"                            re-issues what was unanswered (default\n"
		"                            %s on xen, $PVSIM_DIR/pvback-blk.state on pvsim)\n"
		"pvback-blk stats [--json] [--ctl PATH] [DEVICE]   counters of the running daemon\n"
		"pvback-blk resize [--ctl PATH] [DEVICE]           re-check backing sizes\n",
		BLK_DEF_MAX_QUEUES, BLK_MAX_RING_ORDER, BLK_MAX_RING_ORDER, BLK_DEF_INDIRECT_SEGS,
		BLK_DEF_PGRANTS, BLK_AUTO_COPY_SEGS, BLK_BOUNCE_MAX_PAGES,
		"/run/pvback-blk/control.sock", STATE_XEN_DIR);
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* mkdir -p, owner only for the last component.  0 or -errno. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void on_signal(struct pv_loop *loop, int fd, uint32_t events, void *opaque)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
		pv_info(NULL, "signal %u: stopping", si.ssi_signo);
		pv_loop_stop(loop);
	} else if (si.ssi_signo == SIGHUP) {
		struct daemon_state *ds = opaque;
		int rc = blk_ctl_resize_all(ds->be, ds->nr_be, NULL);

		pv_info(NULL, "SIGHUP: size re-checked, %d device(s) resized", rc < 0 ? 0 : rc);
	}
}

int main(int argc, char **argv)
{
	enum { O_HV = 256, O_TYPE, O_IO, O_DIRECT, O_POLL, O_MAXQ, O_ORDER, O_IND, O_NOPERS,
	       O_PGR, O_LOG, O_SYSLOG, O_FG, O_HELP, O_CTL, O_GMODE, O_STATE, O_FIXED };
	static const struct option opts[] = {
		{ "hv", required_argument, NULL, O_HV },
		{ "type", required_argument, NULL, O_TYPE },
		{ "io", required_argument, NULL, O_IO },
		{ "direct", required_argument, NULL, O_DIRECT },
		{ "poll-us", required_argument, NULL, O_POLL },
		{ "max-queues", required_argument, NULL, O_MAXQ },
		{ "max-ring-order", required_argument, NULL, O_ORDER },
		{ "max-indirect", required_argument, NULL, O_IND },
		{ "no-persistent", no_argument, NULL, O_NOPERS },
		{ "max-pgrants", required_argument, NULL, O_PGR },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "syslog", no_argument, NULL, O_SYSLOG },
		{ "foreground", no_argument, NULL, O_FG },
		{ "help", no_argument, NULL, O_HELP },
		{ "ctl", required_argument, NULL, O_CTL },
		{ "grant-mode", required_argument, NULL, O_GMODE },
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "fixed-bufs", required_argument, NULL, O_FIXED },
		{ NULL, 0, NULL, 0 },
	};
	struct blk_config cfg = {
		.hv_kind = PV_HV_AUTO,
		.io_kind = BLK_IO_AUTO,
		.direct = BLK_DIRECT_AUTO,
		.max_queues = BLK_DEF_MAX_QUEUES,
		.max_ring_order = BLK_MAX_RING_ORDER,
		.max_indirect = BLK_DEF_INDIRECT_SEGS,
		.max_pgrants = BLK_DEF_PGRANTS,
		.persistent = true,
	};
	const char *types[MAX_TYPES];
	struct pv_xb_backend_ops ops[MAX_TYPES];
	struct pv_xb_backend *be[MAX_TYPES] = { NULL };
	enum pv_log_level level = PV_LOG_INFO;
	bool use_syslog = false, foreground = false;
	unsigned nr_types = 0, i;
	struct pv_loop *loop = NULL;
	struct pv_xs *xs = NULL;
	struct pv_hv *hv = NULL;
	struct blk_ctl *ctl = NULL;
	const char *ctl_path = NULL, *state_dir = NULL, *fault;
	char ctl_def[256], state_def[PATH_MAX];
	struct daemon_state ds = { .be = be };
	sigset_t mask;
	int c, rc, sfd = -1, ret = 1;

	if (argc > 1 && (!strcmp(argv[1], "stats") || !strcmp(argv[1], "resize")))
		return blk_ctl_client_main(argc - 1, argv + 1);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case O_HV:
			rc = pv_hv_kind_parse(optarg, &cfg.hv_kind);
			break;
		case O_TYPE:
			if (nr_types == MAX_TYPES)
				rc = -E2BIG;
			else
				types[nr_types++] = optarg;
			break;
		case O_IO:
			rc = blk_io_kind_parse(optarg, &cfg.io_kind);
			break;
		case O_DIRECT:
			if (!strcmp(optarg, "auto"))
				cfg.direct = BLK_DIRECT_AUTO;
			else if (!strcmp(optarg, "on"))
				cfg.direct = BLK_DIRECT_ON;
			else if (!strcmp(optarg, "off"))
				cfg.direct = BLK_DIRECT_OFF;
			else
				rc = -EINVAL;
			break;
		case O_POLL:
			rc = parse_uint(optarg, 0, 1000000, &cfg.poll_us);
			break;
		case O_MAXQ:
			rc = parse_uint(optarg, 1, BLK_MAX_QUEUES, &cfg.max_queues);
			break;
		case O_ORDER:
			rc = parse_uint(optarg, 0, BLK_MAX_RING_ORDER, &cfg.max_ring_order);
			break;
		case O_IND:
			rc = parse_uint(optarg, 0, BLK_MAX_INDIRECT_SEGS, &cfg.max_indirect);
			if (rc == 0 && cfg.max_indirect && cfg.max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
				rc = -EINVAL; /* Linux blkfront ignores values <= 11 */
			break;
		case O_NOPERS:
			cfg.persistent = false;
			break;
		case O_PGR:
			rc = parse_uint(optarg, 1, 1u << 20, &cfg.max_pgrants);
			break;
		case O_LOG:
			rc = pv_log_level_parse(optarg, &level);
			break;
		case O_SYSLOG:
			use_syslog = true;
			break;
		case O_FG:
			foreground = true;
			break;
		case O_CTL:
			ctl_path = optarg;
			break;
		case O_STATE:
			state_dir = optarg;
			break;
		case O_FIXED:
			if (!strcmp(optarg, "auto"))
				cfg.fixed_bufs = BLK_FIXED_AUTO;
			else if (!strcmp(optarg, "on"))
				cfg.fixed_bufs = BLK_FIXED_ON;
			else if (!strcmp(optarg, "off"))
				cfg.fixed_bufs = BLK_FIXED_OFF;
			else
				rc = -EINVAL;
			break;
		case O_GMODE:
			if (!strcmp(optarg, "auto"))
				cfg.grant_mode = BLK_GRANT_AUTO;
			else if (!strcmp(optarg, "map"))
				cfg.grant_mode = BLK_GRANT_MAP;
			else if (!strcmp(optarg, "copy"))
				cfg.grant_mode = BLK_GRANT_COPY;
			else
				rc = -EINVAL;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
		if (rc < 0) {
			fprintf(stderr, "pvback-blk: bad value for --%s: %s\n", opts[c - O_HV].name,
				optarg ? optarg : "");
			return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	if (!nr_types)
		types[nr_types++] = "vbd";
	/* Fault injection for the restart tests (tests/sim/blk-restart-kill.sh). */
	fault = getenv("PVBACK_BLK_FAULT");
	if (fault && !strcmp(fault, "stall-io"))
		cfg.fault_stall_io = true;

	pv_log_init("pvback-blk", use_syslog, level);
	if (!foreground && daemon(0, 0) < 0) {
		pv_err(NULL, "daemon: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	/* Resolve the hv kind once so every queue thread opens the same kind. */
	rc = pv_hv_open(cfg.hv_kind, &hv);
	if (rc < 0) {
		pv_err(NULL, "cannot open the hypervisor interface: %s", strerror(-rc));
		return 1;
	}
	cfg.hv_kind = pv_hv_kind(hv);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	/* Block before any thread starts so every thread inherits the mask. */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		pv_err(NULL, "signalfd: %s", strerror(errno));
		goto out;
	}
	rc = pv_loop_create(&loop);
	if (rc < 0) {
		loop = NULL;
		pv_err(NULL, "loop: %s", strerror(-rc));
		goto out;
	}
	rc = pv_loop_add_fd(loop, sfd, PV_LOOP_IN, on_signal, &ds);
	if (rc < 0)
		goto out;
	rc = pv_xs_open(loop, &xs);
	if (rc < 0) {
		xs = NULL;
		pv_err(NULL, "cannot open xenstore: %s", strerror(-rc));
		goto out;
	}
	/* Before any device is touched: a second daemon must not disturb them. */
	ds.nr_be = nr_types;
	if (!ctl_path) {
		blk_ctl_default_path(cfg.hv_kind, ctl_def, sizeof(ctl_def));
		ctl_path = ctl_def;
	}
	if (strcmp(ctl_path, "none")) {
		rc = blk_ctl_start(loop, ctl_path, be, nr_types, &ctl);
		if (rc < 0) {
			ctl = NULL;
			pv_err(NULL, "control socket %s: %s%s", ctl_path, strerror(-rc),
			       rc == -EADDRINUSE ? " (another pvback-blk runs: give it --ctl)" : "");
			goto out;
		}
	}
	if (!state_dir) {
		blk_default_path(cfg.hv_kind, STATE_SIM_NAME, STATE_XEN_DIR, state_def, sizeof(state_def));
		state_dir = state_def;
	}
	if (strcmp(state_dir, "none")) {
		rc = make_dirs(state_dir);
		if (rc < 0)
			pv_warn(NULL, "state directory %s: %s: running without in-flight journals",
				state_dir, strerror(-rc));
		else
			cfg.state_dir = state_dir;
	}
	if (cfg.fault_stall_io)
		pv_warn(NULL, "PVBACK_BLK_FAULT=stall-io: every other request is never submitted (testing)");
	for (i = 0; i < nr_types; i++) {
		ops[i] = blk_vbd_ops;
		ops[i].type = types[i];
		rc = pv_xb_backend_start(loop, xs, &ops[i], &cfg, &be[i]);
		if (rc < 0) {
			be[i] = NULL;
			pv_err(NULL, "cannot watch backend/%s: %s", types[i], strerror(-rc));
			goto out;
		}
	}
	pv_info(NULL, "serving %s%s on %s, io %s", types[0], nr_types > 1 ? " and more" : "",
		pv_hv_name(hv),
		cfg.io_kind == BLK_IO_AUTO ? "auto" : cfg.io_kind == BLK_IO_URING ? "uring" :
		cfg.io_kind == BLK_IO_AIO ? "aio" : "sync");
	rc = pv_loop_run(loop);
	ret = rc < 0 ? 1 : 0;
out:
	blk_ctl_stop(ctl);
	for (i = nr_types; i-- > 0;)
		if (be[i])
			pv_xb_backend_stop(be[i]); /* drains and disconnects every device */
	if (xs)
		pv_xs_close(xs);
	if (loop)
		pv_loop_destroy(loop);
	if (sfd >= 0)
		close(sfd);
	pv_hv_close(hv);
	return ret;
}
