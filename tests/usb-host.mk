# SPDX-License-Identifier: GPL-2.0-or-later
# Passthrough (usbback/host.c, libusb) against fake devices under umockdev
# (tests/usb/): built only with libusb.
ifeq ($(HAVE_LIBUSB),y)
tests += test-usb-host
test-usb-host_srcs := tests/unit/test-usb-host.c
test-usb-host_deps := usbdev pvcommon
test-usb-host_pkgs := cmocka
endif
