/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvsim toolstack role (libxl-compatible device nodes, toolstack.c) and
 * the vif hotplug scripts libxl runs (hotplug.c).  Runs in a client
 * process with a libxenstore handle acting as dom0; the process's
 * environment is pvsim's dom0 environment (pv_sim_become), which the
 * scripts inherit.
 */
#ifndef PVSIM_TOOLSTACK_H
#define PVSIM_TOOLSTACK_H

#include <stdbool.h>
#include <stddef.h>

struct xs_handle;

/* libxl's timeouts (libxl_internal.h): a backend's InitWait or Closed, and
 * a hotplug script's run. */
#define SIM_TS_INIT_TIMEOUT_MS    10000
#define SIM_TS_DESTROY_TIMEOUT_MS 10000
#define SIM_TS_HOTPLUG_TIMEOUT_MS 40000

/*
 * Write backend and frontend nodes for a new device of domid, as libxl 4.17
 * does.  type: vbd | vif | vusb; argv: key=value options (see pvsim(1)).
 * A vif served by dom0 then goes through libxl's device_hotplug: wait for
 * the backend's InitWait, run its script `online` and require
 * hotplug-status=connected, unless no_script (the nodes are left in place
 * when that fails, as libxl leaves them).
 * Returns the devid (>= 0) or -errno with a message in err.
 */
int sim_ts_attach(struct xs_handle *xs, unsigned domid, const char *type, int argc,
		  char **argv, bool no_script, char *err, size_t errlen);
/*
 * Remove a device as libxl does: online=0 + Closing, wait for Closed (10 s,
 * skipped with force), run a dom0 vif's script `offline` once the backend
 * closed (unless no_script; a failure is only reported), then remove
 * frontend, backend and /libxl nodes.  devid: a number, or a vdev name for
 * vbd.  0, -ETIMEDOUT (removed anyway) or -errno; err says what went wrong
 * (also on 0 when the offline script failed).
 */
int sim_ts_detach(struct xs_handle *xs, unsigned domid, const char *type, const char *devid,
		  bool force, bool no_script, char *err, size_t errlen);

/*
 * `xl usbdev-attach` / `usbdev-detach` for vusb controller devid of domid:
 * write spec into the backend's port/PORT ("BUS-PORT[.PORT...]" as libxl
 * does for a host device, "emu:KIND[,k=v...]" for pvback-usb's emulated
 * ones), or clear it (spec NULL), in one transaction.  Refused with a
 * message in err: no such controller (-ENOENT), a port out of 1..num-ports
 * or a bad spec (-EINVAL), a port already used (-EBUSY), detaching an
 * empty port (-ENOENT).  0 or -errno.
 */
int sim_ts_usbdev(struct xs_handle *xs, unsigned domid, unsigned devid, unsigned port,
		  const char *spec, char *err, size_t errlen);

/*
 * Wait (watch-driven) for at most timeout_ms until the node at path holds
 * a value done() accepts.  0 when it does, -ENOENT once the node is gone,
 * -ETIMEDOUT; *last (unless NULL) gets the last value read, or NULL (free it).
 */
typedef bool sim_ts_done_fn(const char *val, const void *arg);
int sim_ts_wait(struct xs_handle *xs, const char *path, sim_ts_done_fn *done, const void *arg,
		int timeout_ms, char **last);

/* ------------------------------------------------- hotplug.c: scripts */

/* Where relative script names are looked up first: libxl's script dir. */
#define SIM_XEN_SCRIPT_DIR "/etc/xen/scripts"

/*
 * The script a vif's script=NAME names, as written into its `script` key:
 * an absolute NAME as is; else SIM_XEN_SCRIPT_DIR/NAME if it exists, else
 * pvback's own scripts/NAME of the source tree a pvsim built in
 * <tree>/build/bin (or any <tree>/<dir>/bin) runs from.  NAME NULL: the
 * default, Xen's vif-bridge when installed, else pvback-vif-bridge.  When
 * found nowhere: with must_exist -ENOENT and the places tried in err, else
 * SIM_XEN_SCRIPT_DIR/NAME (what libxl writes).  0 or -errno.
 */
int sim_hotplug_resolve(const char *name, bool must_exist, char *out, size_t len, char *err,
			size_t errlen);
/*
 * Run the `script` of dom0's vif devid of domain domid as libxl's
 * device_hotplug does: `SCRIPT online|offline type_if=vif`, stdin
 * /dev/null, stdout to our stderr, killed after SIM_TS_HOTPLUG_TIMEOUT_MS;
 * online also waits (within the same time) for hotplug-status=connected.
 * 0, or -errno with the script's reason (hotplug-error) in err.
 */
int sim_hotplug_run_vif(struct xs_handle *xs, unsigned domid, int devid, const char *action,
			char *err, size_t errlen);

#endif
