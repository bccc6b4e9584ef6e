// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-usb: usbif's descriptor for the common daemon (common/daemon.c
 * owns the options every backend has, signals, the control socket and the
 * main loop).  Serves every controller under backend/vusb/ (and
 * backend/<type>/ for each --type, e.g. qusb); each connected controller
 * runs on its own queue thread (ring.c), in the domain's worker process
 * with --isolate domain (isolate.c).  Holds no protocol logic.
 */
#include <string.h>
#include <sys/syscall.h>

#include "usbback.h"

static void sighup(struct pv_backend *b)
{
	pv_info(NULL, "SIGHUP: nothing to re-read");
}

static int start(struct pv_backend *b)
{
	return 0;
}

static int serve(struct pv_backend *b)
{
	int rc = usb_iso_init(b);

	if (rc < 0)
		pv_err(NULL, "--isolate domain: %s", strerror(-rc));
	return rc;
}

/* Passthrough: libusb's usbfs ioctls ('U': submit, reap, discard, control)
 * from the queue thread; the device nodes are opened by the main thread
 * (probe, plug) with the common CAP_DAC_OVERRIDE.  The queue thread
 * rewrites the controller's port file through the fd the xenbus thread
 * opened (ring.c state_save: pwrite, ftruncate): it opens no path. */
static const int usb_syscalls[] = { SYS_ftruncate };
static const uint8_t usb_ioctl_types[] = { 'U' };
static const struct pv_confine_rules usb_confine = {
	.syscalls = usb_syscalls,
	.nr_syscalls = sizeof(usb_syscalls) / sizeof(usb_syscalls[0]),
	.ioctl_types = usb_ioctl_types,
	.nr_ioctl_types = sizeof(usb_ioctl_types),
};

int main(int argc, char **argv)
{
	struct usb_config cfg = {
		.pv = { .hv_kind = PV_HV_AUTO, .max_queues = 1 },
	};
	const struct pv_backend_desc desc = {
		.prog = "pvback-usb",
		.type = "vusb",
		.xb = &usb_vusb_ops,
		.max_queues = 1,
		.opts = NULL,
		.nr_opts = 0,
		.cmds = NULL,
		.nr_cmds = 0,
		.stats = usb_ctl_stats,
		.sighup = sighup,
		.start = start,
		.serve = serve,
		.worker = usb_iso_worker,
		.confine = &usb_confine,
		.cfg = &cfg,
		.common = &cfg.pv,
	};

	int ret = pv_backend_main(&desc, argc, argv);

	pv_isodev_table_destroy(cfg.iso);
	return ret;
}
