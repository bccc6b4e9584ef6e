# SPDX-License-Identifier: GPL-2.0-or-later
# The USB benchmark: `make bench-usb` (bench/bench-usb), bulk MB/s and URB
# latency through pvback-usb's emulated storage on pvsim, against reading
# and writing the same file directly.
.PHONY: bench-usb
bench-usb: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/bench-usb $(O)
