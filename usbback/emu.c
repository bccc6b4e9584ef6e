// SPDX-License-Identifier: GPL-2.0-or-later
/* Placeholder: what the emulated devices share comes next. */
#include "usbback.h"

int usb_emu_placeholder(void);
int usb_emu_placeholder(void)
{
	return 0;
}
