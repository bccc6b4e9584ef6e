/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "xen" hypervisor ops: libxengnttab (map, unmap, grant copy),
 * libxengntshr (share, unshare) and libxenevtchn, with -1/errno turned into
 * -errno.  Only OS calls live here; argument checks are in hv.c.
 *
 * Error normalisation so both implementations answer alike:
 *  - Linux's /dev/xen/evtchn answers -ENOTCONN for a port not bound through
 *    this handle; we return -EINVAL as Xen's hypercall does for a free port;
 *  - grant-copy statuses are GNTST_* codes, converted by pv_hv_gntst_errno().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "hv_internal.h"

struct hv_xen {
	xengnttab_handle *gt;
	xengntshr_handle *gs;
	xenevtchn_handle *ev;
};

static struct hv_xen *X(struct pv_hv *hv)
{
	return hv->priv;
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static int port_errno(void)
{
	return errno == ENOTCONN ? -EINVAL : neg_errno();
}

/* Our domain id: the "domid" key xenstored keeps for every domain; dom0
 * backends without it (old toolstacks) are domain 0. */
static uint16_t read_own_domid(void)
{
	struct xs_handle *xs = xs_open(XS_OPEN_READONLY);
	unsigned len = 0;
	uint16_t domid = 0;
	char *s;

	if (!xs)
		return 0;
	s = xs_read(xs, XBT_NULL, "domid", &len);
	if (s) {
		domid = (uint16_t)strtoul(s, NULL, 10);
		free(s);
	}
	xs_close(xs);
	return domid;
}

static int xen_open(struct pv_hv *hv)
{
	struct hv_xen *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return -ENOMEM;
	x->gt = xengnttab_open(NULL, 0);
	if (!x->gt) {
		rc = neg_errno();
		goto err_free;
	}
	/* gntalloc is absent in a dom0 without it loaded: share then fails. */
	x->gs = xengntshr_open(NULL, 0);
	x->ev = xenevtchn_open(NULL, 0);
	if (!x->ev) {
		rc = neg_errno();
		goto err_gnt;
	}
	/* pv_hv_evtchn_pending() returns -EAGAIN when nothing fired (callers
	 * drain in a loop): /dev/xen/evtchn must not block in read(). */
	{
		int fl = fcntl(xenevtchn_fd(x->ev), F_GETFL);

		if (fl < 0 || fcntl(xenevtchn_fd(x->ev), F_SETFL, fl | O_NONBLOCK) < 0) {
			rc = neg_errno();
			xenevtchn_close(x->ev);
			goto err_gnt;
		}
	}
	hv->priv = x;
	hv->domid = read_own_domid();
	return 0;

err_gnt:
	if (x->gs)
		xengntshr_close(x->gs);
	xengnttab_close(x->gt);
err_free:
	free(x);
	return rc;
}

static void xen_close(struct pv_hv *hv)
{
	struct hv_xen *x = X(hv);

	xenevtchn_close(x->ev);
	if (x->gs)
		xengntshr_close(x->gs);
	xengnttab_close(x->gt);
	free(x);
}

static int xen_map(struct pv_hv *hv, uint16_t domid, unsigned count, const uint32_t *refs,
		   bool writable, void **addr)
{
	void *p = xengnttab_map_domain_grant_refs(X(hv)->gt, count, domid, (uint32_t *)refs,
						  writable ? PROT_READ | PROT_WRITE : PROT_READ);

	if (!p)
		return neg_errno();
	*addr = p;
	return 0;
}

static int xen_unmap(struct pv_hv *hv, void *addr, unsigned count)
{
	return xengnttab_unmap(X(hv)->gt, addr, count) < 0 ? neg_errno() : 0;
}

#define XEN_COPY_BATCH 64

static void xen_copy(struct pv_hv *hv, unsigned count, struct pv_hv_copy_seg *segs)
{
	xengnttab_grant_copy_segment_t xs[XEN_COPY_BATCH];
	unsigned done = 0;

	while (done < count) {
		unsigned n = count - done < XEN_COPY_BATCH ? count - done : XEN_COPY_BATCH;
		unsigned i;
		int rc;

		memset(xs, 0, sizeof(xs[0]) * n);
		for (i = 0; i < n; i++) {
			struct pv_hv_copy_seg *s = &segs[done + i];

			if (s->to_guest) {
				xs[i].source.virt = s->local;
				xs[i].dest.foreign.ref = s->ref;
				xs[i].dest.foreign.offset = s->offset;
				xs[i].dest.foreign.domid = s->domid;
				xs[i].flags = GNTCOPY_dest_gref;
			} else {
				xs[i].source.foreign.ref = s->ref;
				xs[i].source.foreign.offset = s->offset;
				xs[i].source.foreign.domid = s->domid;
				xs[i].dest.virt = s->local;
				xs[i].flags = GNTCOPY_source_gref;
			}
			xs[i].len = s->len;
		}
		rc = xengnttab_grant_copy(X(hv)->gt, n, xs);
		for (i = 0; i < n; i++)
			segs[done + i].status = (int16_t)(rc < 0 ? neg_errno() :
							  pv_hv_gntst_errno(xs[i].status));
		done += n;
	}
}

static int xen_share(struct pv_hv *hv, uint16_t domid, unsigned count, bool writable,
		     uint32_t *refs, void **addr)
{
	void *p;

	if (!X(hv)->gs)
		return -ENODEV;
	p = xengntshr_share_pages(X(hv)->gs, domid, count, refs, writable);
	if (!p)
		return neg_errno();
	*addr = p;
	return 0;
}

static int xen_unshare(struct pv_hv *hv, void *addr, unsigned count)
{
	if (!X(hv)->gs)
		return -ENODEV;
	return xengntshr_unshare(X(hv)->gs, addr, count) < 0 ? neg_errno() : 0;
}

/* gntalloc keeps the grant table in the kernel: nothing to read. */
static int xen_share_in_use(struct pv_hv *hv, uint32_t ref)
{
	return -EOPNOTSUPP;
}

static int xen_evtchn_fd(struct pv_hv *hv)
{
	return xenevtchn_fd(X(hv)->ev);
}

static int xen_evtchn_bind(struct pv_hv *hv, uint16_t domid, uint32_t remote_port)
{
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(X(hv)->ev, domid, remote_port);

	return p < 0 ? neg_errno() : (int)p;
}

static int xen_evtchn_alloc(struct pv_hv *hv, uint16_t remote_domid)
{
	xenevtchn_port_or_error_t p = xenevtchn_bind_unbound_port(X(hv)->ev, remote_domid);

	return p < 0 ? neg_errno() : (int)p;
}

static int xen_evtchn_notify(struct pv_hv *hv, uint32_t port)
{
	return xenevtchn_notify(X(hv)->ev, port) < 0 ? port_errno() : 0;
}

static int xen_evtchn_pending(struct pv_hv *hv)
{
	xenevtchn_port_or_error_t p = xenevtchn_pending(X(hv)->ev);

	return p < 0 ? neg_errno() : (int)p;
}

static int xen_evtchn_unmask(struct pv_hv *hv, uint32_t port)
{
	return xenevtchn_unmask(X(hv)->ev, port) < 0 ? port_errno() : 0;
}

static int xen_evtchn_close(struct pv_hv *hv, uint32_t port)
{
	return xenevtchn_unbind(X(hv)->ev, port) < 0 ? port_errno() : 0;
}

static int xen_claim(struct pv_hv *hv)
{
	return -EOPNOTSUPP;
}

const struct pv_hv_ops pv_hv_xen_ops = {
	.name = "xen",
	.kind = PV_HV_XEN,
	.open = xen_open,
	.close = xen_close,
	.map = xen_map,
	.unmap = xen_unmap,
	.copy = xen_copy,
	.share = xen_share,
	.unshare = xen_unshare,
	.share_in_use = xen_share_in_use,
	.evtchn_fd = xen_evtchn_fd,
	.evtchn_bind = xen_evtchn_bind,
	.evtchn_alloc = xen_evtchn_alloc,
	.evtchn_notify = xen_evtchn_notify,
	.evtchn_pending = xen_evtchn_pending,
	.evtchn_unmask = xen_evtchn_unmask,
	.evtchn_close = xen_evtchn_close,
	.claim = xen_claim,
};
