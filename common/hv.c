/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hypervisor-ops layer: selects an implementation (xen | sim | auto),
 * checks its ops table once, validates arguments for all of them and
 * dispatches.  hv_xen.c and hv_sim.c hold only their own calls.
 * No global mutable state.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

#include "hv_internal.h"

#define PV_HV_PAGE_SIZE 4096u

int pv_hv_kind_parse(const char *s, enum pv_hv_kind *out)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "auto"))
		*out = PV_HV_AUTO;
	else if (!strcmp(s, "xen"))
		*out = PV_HV_XEN;
	else if (!strcmp(s, "sim"))
		*out = PV_HV_SIM;
	else
		return -EINVAL;
	return 0;
}

int pv_hv_gntst_errno(int16_t status)
{
	switch (status) {
	case GNTST_okay:
		return 0;
	case GNTST_bad_domain:
		return -ESRCH;
	case GNTST_bad_gntref:
	case GNTST_bad_page:
	case GNTST_bad_copy_arg:
	case GNTST_bad_virt_addr:
	case GNTST_bad_dev_addr:
	case GNTST_bad_handle:
		return -EINVAL;
	case GNTST_permission_denied:
		return -EACCES;
	case GNTST_no_device_space:
	case GNTST_no_space:
		return -ENOSPC;
	case GNTST_eagain:
		return -EAGAIN;
	default: /* GNTST_general_error: Xen's answer for an ungranted entry */
		return -ENOENT;
	}
}

enum pv_hv_kind pv_hv_kind_resolve(enum pv_hv_kind kind)
{
	if (kind == PV_HV_AUTO) {
		const char *env = getenv("PVBACK_HV");

		if (env && pv_hv_kind_parse(env, &kind) < 0)
			kind = PV_HV_AUTO;
	}
	if (kind != PV_HV_AUTO)
		return kind;
	if (pv_sim_configured())
		return PV_HV_SIM;
	if (access("/dev/xen/gntdev", F_OK) == 0)
		return PV_HV_XEN;
	return PV_HV_SIM;
}

/* All ops are required; a hole is our bug, caught once here. */
static bool ops_complete(const struct pv_hv_ops *o)
{
	return o->name && o->open && o->close && o->map && o->unmap && o->copy && o->share &&
	       o->unshare && o->share_in_use && o->evtchn_fd && o->evtchn_bind && o->evtchn_alloc &&
	       o->evtchn_notify && o->evtchn_pending && o->evtchn_unmask && o->evtchn_close &&
	       o->claim;
}

int pv_hv_open(enum pv_hv_kind kind, struct pv_hv **out)
{
	const struct pv_hv_ops *ops;
	struct pv_hv *hv;
	int rc;

	if (getenv("PVBACK_HV") && kind == PV_HV_AUTO) {
		enum pv_hv_kind k;

		if (pv_hv_kind_parse(getenv("PVBACK_HV"), &k) < 0)
			return -EINVAL;
	}
	ops = pv_hv_kind_resolve(kind) == PV_HV_XEN ? &pv_hv_xen_ops : &pv_hv_sim_ops;
	if (!ops_complete(ops))
		return -ENOSYS;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->ops = ops;
	rc = ops->open(hv);
	if (rc) {
		free(hv);
		return rc;
	}
	*out = hv;
	return 0;
}

void pv_hv_close(struct pv_hv *hv)
{
	if (!hv)
		return;
	hv->ops->close(hv);
	free(hv);
}

enum pv_hv_kind pv_hv_kind(const struct pv_hv *hv)
{
	return hv->ops->kind;
}

const char *pv_hv_name(const struct pv_hv *hv)
{
	return hv->ops->name;
}

uint16_t pv_hv_domid(const struct pv_hv *hv)
{
	return hv->domid;
}

int pv_hv_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
	      bool writable, void **addr)
{
	if (!count || !refs || !addr)
		return -EINVAL;
	return hv->ops->map(hv, domid, count, refs, writable, addr);
}

int pv_hv_unmap(struct pv_hv *hv, void *addr, unsigned count)
{
	if (!count || !addr)
		return -EINVAL;
	return hv->ops->unmap(hv, addr, count);
}

int pv_hv_copy(struct pv_hv *hv, unsigned count, struct pv_hv_copy_seg *segs)
{
	unsigned i;

	if (!count)
		return 0;
	if (!segs)
		return -EINVAL;
	hv->ops->copy(hv, count, segs);
	for (i = 0; i < count; i++)
		if (segs[i].status)
			return segs[i].status;
	return 0;
}

int pv_hv_share(struct pv_hv *hv, uint16_t domid, unsigned count, bool writable,
		uint32_t *refs, void **addr)
{
	if (!count || !refs || !addr)
		return -EINVAL;
	return hv->ops->share(hv, domid, count, writable, refs, addr);
}

int pv_hv_unshare(struct pv_hv *hv, void *addr, unsigned count)
{
	if (!count || !addr)
		return -EINVAL;
	return hv->ops->unshare(hv, addr, count);
}

int pv_hv_share_in_use(struct pv_hv *hv, uint32_t ref)
{
	return hv->ops->share_in_use(hv, ref);
}

int pv_hv_evtchn_fd(struct pv_hv *hv)
{
	return hv->ops->evtchn_fd(hv);
}

int pv_hv_evtchn_bind(struct pv_hv *hv, uint16_t domid, uint32_t remote_port)
{
	return hv->ops->evtchn_bind(hv, domid, remote_port);
}

int pv_hv_evtchn_alloc(struct pv_hv *hv, uint16_t remote_domid)
{
	return hv->ops->evtchn_alloc(hv, remote_domid);
}

int pv_hv_evtchn_notify(struct pv_hv *hv, uint32_t port)
{
	return hv->ops->evtchn_notify(hv, port);
}

int pv_hv_evtchn_pending(struct pv_hv *hv)
{
	return hv->ops->evtchn_pending(hv);
}

int pv_hv_evtchn_unmask(struct pv_hv *hv, uint32_t port)
{
	return hv->ops->evtchn_unmask(hv, port);
}

int pv_hv_evtchn_close(struct pv_hv *hv, uint32_t port)
{
	return hv->ops->evtchn_close(hv, port);
}

int pv_hv_sim_claim(struct pv_hv *hv)
{
	return hv->ops->claim(hv);
}
