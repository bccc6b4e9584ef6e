// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-blk: blkif's descriptor for the common daemon (common/daemon.c
 * owns the options every backend has, signals, the control socket and the
 * main loop) and the parsers of blk's own options.  Serves every device
 * under backend/vbd/ (and backend/<type>/ for each --type); each connected
 * ring runs on its own thread (ring.c).  SIGHUP and `pvback-blk resize`
 * re-check the backing stores' sizes (ctl.c).  Holds no protocol logic.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "blkback.h"

static const char *const auto_on_off[] = { "auto", "on", "off", NULL };      /* enum order */
static const char *const grant_modes[] = { "auto", "map", "copy", NULL };    /* enum order */

static const char *const nbd_restart[] = { "error", "trust", NULL }; /* false, true */

static int set_nbd_restart(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, nbd_restart);

	if (v >= 0)
		((struct blk_config *)cfg)->nbd_trust = v == 1;
	return v < 0 ? v : 0;
}

static int set_nbd_timeout(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 0, 86400, &((struct blk_config *)cfg)->nbd_timeout_s);
}

static int set_io(void *cfg, const char *arg)
{
	return blk_io_kind_parse(arg, &((struct blk_config *)cfg)->io_kind);
}

static int set_direct(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, auto_on_off);

	if (v >= 0)
		((struct blk_config *)cfg)->direct = (enum blk_direct)v;
	return v < 0 ? v : 0;
}

static int set_fixed_bufs(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, auto_on_off);

	if (v >= 0)
		((struct blk_config *)cfg)->fixed_bufs = (enum blk_fixed_bufs)v;
	return v < 0 ? v : 0;
}

static int set_grant_mode(void *cfg, const char *arg)
{
	int v = pv_opt_choice(arg, grant_modes);

	if (v >= 0)
		((struct blk_config *)cfg)->grant_mode = (enum blk_grant_mode)v;
	return v < 0 ? v : 0;
}

static int set_ring_order(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 0, BLK_MAX_RING_ORDER, &((struct blk_config *)cfg)->max_ring_order);
}

static int set_indirect(void *cfg, const char *arg)
{
	unsigned *v = &((struct blk_config *)cfg)->max_indirect;
	int rc = pv_opt_uint(arg, 0, BLK_MAX_INDIRECT_SEGS, v);

	/* Linux blkfront ignores values <= 11 */
	return rc == 0 && *v && *v <= BLKIF_MAX_SEGMENTS_PER_REQUEST ? -EINVAL : rc;
}

static int set_no_persistent(void *cfg, const char *arg)
{
	((struct blk_config *)cfg)->persistent = false;
	return 0;
}

static int set_pgrants(void *cfg, const char *arg)
{
	return pv_opt_uint(arg, 1, 1u << 20, &((struct blk_config *)cfg)->max_pgrants);
}

static const struct pv_backend_opt blk_opts[] = {
	{ "io", "uring|aio|sync|auto", "host I/O engine (default auto)", { 0 }, set_io },
	{ "direct", "auto|on|off", "O_DIRECT on the backing store (default auto)", { 0 }, set_direct },
	{ "max-ring-order", "N", "max-ring-page-order (default %u, max %u)",
	  { BLK_MAX_RING_ORDER, BLK_MAX_RING_ORDER }, set_ring_order },
	{ "max-indirect", "N", "feature-max-indirect-segments (default %u, 0 off)",
	  { BLK_DEF_INDIRECT_SEGS }, set_indirect },
	{ "no-persistent", NULL, "do not offer feature-persistent", { 0 }, set_no_persistent },
	{ "max-pgrants", "N", "persistent grants per queue (default %u)", { BLK_DEF_PGRANTS },
	  set_pgrants },
	{ "grant-mode", "auto|map|copy", "data of frontends without persistent grants:\n"
	  "map per request, or grant-copy through a bounce\npool (auto, the default: copy up to "
	  "%u segments\nwithin %u pool pages per queue, map above)",
	  { BLK_AUTO_COPY_SEGS, BLK_BOUNCE_MAX_PAGES }, set_grant_mode },
	{ "fixed-bufs", "auto|on|off", "persistent-grant pages as io_uring registered\n"
	  "buffers (auto: on for pvsim, off on xen)", { 0 }, set_fixed_bufs },
	{ "nbd-restart", "error|trust", "NBD: after a reconnect, the first flush fails\n"
	  "when writes were answered without FUA before the\nconnection went (error, the "
	  "default: the server\nmay have lost them), or trusts the server to keep\nwhat it "
	  "answered (trust)", { 0 }, set_nbd_restart },
	{ "nbd-timeout", "SECONDS", "NBD: I/O fails (EIO) once the server has been\n"
	  "unreachable this long, until it is back (0, the\ndefault: I/O waits for it)", { 0 },
	  set_nbd_timeout },
};

static int start(struct pv_backend *b)
{
	struct blk_config *cfg = pv_backend_config(b);
	const char *fault = getenv("PVBACK_BLK_FAULT");

	/* Fault injection for the restart tests (tests/sim/blk-restart-kill.sh). */
	if (fault && !strcmp(fault, "stall-io")) {
		cfg->fault_stall_io = true;
		pv_warn(NULL, "PVBACK_BLK_FAULT=stall-io: every other request is never submitted (testing)");
	}
	return 0;
}

static int serve(struct pv_backend *b)
{
	int rc = blk_iso_init(b);

	if (rc < 0)
		pv_err(NULL, "--isolate domain: %s", strerror(-rc));
	return rc;
}

/* Discards on block devices (BLKDISCARD: ioctl type 0x12) from the queue
 * threads; backing files and devices are opened by the main thread with
 * the common CAP_DAC_OVERRIDE. */
static const uint8_t blk_ioctl_types[] = { 0x12 };
static const struct pv_confine_rules blk_confine = {
	.ioctl_types = blk_ioctl_types,
	.nr_ioctl_types = sizeof(blk_ioctl_types),
};

int main(int argc, char **argv)
{
	struct blk_config cfg = {
		.pv = { .hv_kind = PV_HV_AUTO, .max_queues = BLK_DEF_MAX_QUEUES },
		.io_kind = BLK_IO_AUTO,
		.direct = BLK_DIRECT_AUTO,
		.max_ring_order = BLK_MAX_RING_ORDER,
		.max_indirect = BLK_DEF_INDIRECT_SEGS,
		.max_pgrants = BLK_DEF_PGRANTS,
		.persistent = true,
	};
	const struct pv_backend_desc desc = {
		.prog = "pvback-blk",
		.type = "vbd",
		.xb = &blk_vbd_ops,
		.max_queues = BLK_MAX_QUEUES,
		.opts = blk_opts,
		.nr_opts = sizeof(blk_opts) / sizeof(blk_opts[0]),
		.cmds = &blk_ctl_resize,
		.nr_cmds = 1,
		.stats = blk_ctl_stats,
		.sighup = blk_ctl_sighup,
		.start = start,
		.serve = serve,
		.worker = blk_iso_worker,
		.confine = &blk_confine,
		.cfg = &cfg,
		.common = &cfg.pv,
	};

	int ret = pv_backend_main(&desc, argc, argv);

	pv_isodev_table_destroy(cfg.iso);
	return ret;
}
