// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device layer: a port/N value becomes a struct usb_dev (an emulated
 * device or a passthrough one), and every transfer a device finishes is
 * counted here before ring.c hears of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "usbback.h"

/* A device that needs no fd got one: it is not the device's. */
static int no_fd(int fd, const char *name, const struct usb_spec *s)
{
	if (fd < 0)
		return 0;
	close(fd);
	pv_err(name, "emu:%s takes no file", s->emu);
	return -EINVAL;
}

int usb_dev_open(const struct usb_spec *s, int fd, const char *name, unsigned usb_ver,
		 struct usb_dev **out)
{
	static const struct {
		const char *kind;
		int (*open)(const struct usb_spec *, const char *, unsigned, struct usb_dev **);
	} emus[] = {
		{ "keyboard", usb_emu_hid_open },
		{ "tablet", usb_emu_hid_open },
		{ "zero", usb_emu_zero_open },
	};

	if (s->kind == USB_SPEC_HOST) {
#ifdef HAVE_LIBUSB
		if (fd >= 0)
			return usb_host_open_fd(s, fd, name, usb_ver, out);
		return usb_host_open(s, name, usb_ver, out);
#else
		if (fd >= 0)
			close(fd);
		pv_err(name, "host device %u-%u: pvback-usb was built without libusb "
		       "(libusb-1.0-0-dev)", s->bus, s->ports[0]);
		return -ENOTSUP;
#endif
	}
	if (!strcmp(s->emu, "storage"))
		return usb_emu_storage_open(s, fd, name, usb_ver, out);
	for (size_t i = 0; i < sizeof(emus) / sizeof(emus[0]); i++)
		if (!strcmp(s->emu, emus[i].kind))
			return no_fd(fd, name, s) ?: emus[i].open(s, name, usb_ver, out);
	if (fd >= 0)
		close(fd);
	pv_err(name, "emu:%s: no such emulated device (storage, keyboard, tablet, zero)", s->emu);
	return -EINVAL;
}

int usb_dev_open_fd(const struct usb_spec *s, const char *name, int *fd)
{
	const char *file = usb_spec_opt(s, "file");
	unsigned ro;
	char node[64];
	int rc;

	*fd = -1;
	if (s->kind == USB_SPEC_HOST) {
#ifdef HAVE_LIBUSB
		rc = usb_host_node(s, name, node, sizeof(node));
		if (rc < 0)
			return rc;
		*fd = open(node, O_RDWR | O_CLOEXEC);
		if (*fd < 0) {
			rc = -errno;
			pv_err(name, "host device: opening %s: %s", node, strerror(errno));
			return rc;
		}
#else
		(void)node;
#endif
		return 0; /* without libusb, usb_dev_open says why not */
	}
	/* Nothing to open: a missing file= or a bad readonly= is the device's to say. */
	if (strcmp(s->emu, "storage") || !file || !*file ||
	    usb_emu_opt_uint(s, "readonly", 0, 1, 0, name, &ro) < 0)
		return 0;
	*fd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		pv_err(name, "emu:storage: %s: %s", file, strerror(errno));
		return rc;
	}
	return 0;
}

void usb_xfer_done(struct usb_xfer *x)
{
	struct usb_dev_stats *st = &x->dev->stats;

	if (x->status == USBIF_STATUS_STALL)
		st->stalls++;
	else if (x->status && !x->cancelled)
		st->errors++;
	if (x->req.in)
		st->bytes_in += x->actual;
	else if (!x->status)
		st->bytes_out += x->actual;
	x->dev->done(x);
}

void usb_dev_gone(struct usb_dev *d)
{
	if (d->gone)
		d->gone(d);
}

#define F(n, h, k) { #n, h, offsetof(struct usb_dev_stats, n), PV_STATS_##k }
static const struct pv_stats_field dev_fields[] = {
	F(xfers, "URBs submitted to the device", COUNTER),
	F(xfer_ctrl, "control transfers", COUNTER),
	F(xfer_bulk, "bulk transfers", COUNTER),
	F(xfer_int, "interrupt transfers", COUNTER),
	F(xfer_iso, "isochronous transfers", COUNTER),
	F(bytes_in, "bytes from the device to the guest", COUNTER),
	F(bytes_out, "bytes from the guest to the device", COUNTER),
	F(stalls, "transfers answered with a stall", COUNTER),
	F(errors, "transfers answered with another error", COUNTER),
	F(unlinks, "transfers the guest unlinked", COUNTER),
	F(resets, "device resets (attach, re-enumeration)", COUNTER),
	F(lat, "URB latency, submit to completion", HIST),
};
#undef F

const struct pv_stats_table usb_dev_stats_table = {
	dev_fields, sizeof(dev_fields) / sizeof(dev_fields[0]), sizeof(struct usb_dev_stats),
};
