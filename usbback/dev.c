// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device layer: a port/N value becomes a struct usb_dev (an emulated
 * device or a passthrough one), and every transfer a device finishes is
 * counted here before ring.c hears of it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "usbback.h"

int usb_dev_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		 struct usb_dev **out)
{
	static const struct {
		const char *kind;
		int (*open)(const struct usb_spec *, const char *, unsigned, struct usb_dev **);
	} emus[] = {
		{ "storage", usb_emu_storage_open },
		{ "keyboard", usb_emu_hid_open },
		{ "tablet", usb_emu_hid_open },
		{ "zero", usb_emu_zero_open },
	};

	if (s->kind == USB_SPEC_HOST) {
#ifdef HAVE_LIBUSB
		return usb_host_open(s, name, usb_ver, out);
#else
		pv_err(name, "host device %u-%u: pvback-usb was built without libusb "
		       "(libusb-1.0-0-dev)", s->bus, s->ports[0]);
		return -ENOTSUP;
#endif
	}
	for (size_t i = 0; i < sizeof(emus) / sizeof(emus[0]); i++)
		if (!strcmp(s->emu, emus[i].kind))
			return emus[i].open(s, name, usb_ver, out);
	pv_err(name, "emu:%s: no such emulated device (storage, keyboard, tablet, zero)", s->emu);
	return -EINVAL;
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
