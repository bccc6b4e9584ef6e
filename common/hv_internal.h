/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to the hypervisor-ops layer (common/hv*.c): the ops table every
 * implementation fills completely (hv.c checks it once when it selects one)
 * and the handle they share.  Argument checks common to all implementations
 * live in hv.c, so an op may assume count > 0 and non-NULL arrays.
 */
#ifndef PV_HV_INTERNAL_H
#define PV_HV_INTERNAL_H

#include "pvcommon.h"

struct pv_hv_ops {
	const char *name;
	enum pv_hv_kind kind;
	/* Set hv->priv and hv->domid. */
	int (*open)(struct pv_hv *hv);
	void (*close)(struct pv_hv *hv);
	int (*map)(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
		   bool writable, void **addr);
	int (*unmap)(struct pv_hv *hv, void *addr, unsigned count);
	/* Fill every seg->status; hv.c derives the return value. */
	void (*copy)(struct pv_hv *hv, unsigned count, struct pv_hv_copy_seg *segs);
	int (*share)(struct pv_hv *hv, uint16_t domid, unsigned count, bool writable,
		     uint32_t *refs, void **addr);
	int (*unshare)(struct pv_hv *hv, void *addr, unsigned count);
	int (*share_in_use)(struct pv_hv *hv, uint32_t ref);
	int (*evtchn_fd)(struct pv_hv *hv);
	int (*evtchn_bind)(struct pv_hv *hv, uint16_t domid, uint32_t remote_port);
	int (*evtchn_alloc)(struct pv_hv *hv, uint16_t remote_domid);
	int (*evtchn_notify)(struct pv_hv *hv, uint32_t port);
	int (*evtchn_pending)(struct pv_hv *hv);
	int (*evtchn_unmask)(struct pv_hv *hv, uint32_t port);
	int (*evtchn_close)(struct pv_hv *hv, uint32_t port);
	int (*claim)(struct pv_hv *hv);
};

struct pv_hv {
	const struct pv_hv_ops *ops;
	uint16_t domid;
	void *priv; /* the implementation's state */
};

extern const struct pv_hv_ops pv_hv_xen_ops, pv_hv_sim_ops;

/* Xen's GNTST_* grant status as -errno (see pv_hv_map in pvcommon.h). */
int pv_hv_gntst_errno(int16_t status);

#endif /* PV_HV_INTERNAL_H */
