// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for pvback-usb's state file read back on
 * restart (<state-dir>/<controller>.ports, usbback/ring.c writes it, a
 * corrupted or hand-edited one must restore nothing out of range): each
 * input line, as fgets() hands it over (at most 511 bytes), goes through
 * usb_state_port_parse().  Invariants for a line it accepts: a port
 * 1..USB_MAX_PORTS, an address below USB_MAX_ADDR, a configuration of one
 * byte, and a spec inside the line with no newline left.
 * Build: make fuzz-usb (clang); make fuzz runs every harness for a while,
 * make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>

#include "usbback.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct usb_state_port sp;
	char line[512];

	while (in.n) {
		const uint8_t *nl = memchr(in.p, '\n', in.n);
		size_t len = nl ? (size_t)(nl - in.p) + 1 : in.n;

		if (len > sizeof(line) - 1)
			len = sizeof(line) - 1;
		fuzz_take(&in, line, len);
		line[len] = '\0';
		if (usb_state_port_parse(line, &sp) < 0)
			continue;
		FUZZ_CHECK(sp.port >= 1 && sp.port <= USB_MAX_PORTS);
		FUZZ_CHECK(sp.addr < USB_MAX_ADDR && sp.config <= 255);
		FUZZ_CHECK(sp.spec > line && sp.spec <= line + len && !strchr(sp.spec, '\n'));
	}
	return 0;
}
