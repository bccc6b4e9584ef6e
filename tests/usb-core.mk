# SPDX-License-Identifier: GPL-2.0-or-later
# usbback unit tests (cmocka) over the urb request and device spec rules.
tests += test-usb-request
test-usb-request_srcs := tests/unit/test-usb-request.c
test-usb-request_deps := usbdev pvcommon
test-usb-request_pkgs := cmocka
