// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvback-usb: usbif's descriptor for the common daemon (common/daemon.c
 * owns the options every backend has, signals, the control socket and the
 * main loop).  Serves every controller under backend/vusb/ (and
 * backend/<type>/ for each --type, e.g. qusb); each connected controller
 * runs on its own queue thread (ring.c).  Holds no protocol logic.
 */
#include "usbback.h"

static void sighup(struct pv_backend *b)
{
	pv_info(NULL, "SIGHUP: nothing to re-read");
}

static int start(struct pv_backend *b)
{
	return 0;
}

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
		.cfg = &cfg,
		.common = &cfg.pv,
	};

	return pv_backend_main(&desc, argc, argv);
}
