/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim toolstack role (libxl-compatible device nodes).  Runs in a client
 * process with a libxenstore handle acting as dom0.
 */
#ifndef PVSIM_TOOLSTACK_H
#define PVSIM_TOOLSTACK_H

#include <stdbool.h>
#include <stddef.h>

struct xs_handle;

/*
 * Write backend and frontend nodes for a new device of domid, as libxl 4.17
 * does.  type: vbd | vif | vusb; argv: key=value options (see pvsim(1)).
 * Returns the devid (>= 0) or -errno with a message in err.
 */
int sim_ts_attach(struct xs_handle *xs, unsigned domid, const char *type, int argc,
		  char **argv, char *err, size_t errlen);
/*
 * Remove a device as libxl does: online=0 + Closing, wait for Closed (10 s,
 * skipped with force), then remove frontend, backend and /libxl nodes.
 * devid: a number, or a vdev name for vbd.
 */
int sim_ts_detach(struct xs_handle *xs, unsigned domid, const char *type, const char *devid,
	      bool force, char *err, size_t errlen);

#endif
