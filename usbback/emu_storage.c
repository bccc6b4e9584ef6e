// SPDX-License-Identifier: GPL-2.0-or-later
/* Placeholder: the emulated storage device comes next. */
#include <errno.h>

#include "usbback.h"

int usb_emu_storage_open(const struct usb_spec *s, const char *name, unsigned usb_ver,
		 struct usb_dev **out)
{
	(void)s; (void)usb_ver; (void)out;
	pv_err(name, "emu:storage: not built yet");
	return -ENOTSUP;
}
