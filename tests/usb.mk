# SPDX-License-Identifier: GPL-2.0-or-later
# pvback-usb unit tests (cmocka): the emulated devices driven through their
# ops (tests/unit/usb-emu-harness.c stands in for ring.c).
usb_emu_tests := test-usb-emu-enum test-usb-emu-storage test-usb-emu-hid test-usb-emu-zero
tests += $(usb_emu_tests)
$(foreach t,$(usb_emu_tests),$(eval $(t)_srcs := tests/unit/$(t).c tests/unit/usb-emu-harness.c) \
	$(eval $(t)_deps := usbdev pvcommon) $(eval $(t)_pkgs := cmocka))
