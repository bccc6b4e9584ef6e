# SPDX-License-Identifier: GPL-2.0-or-later
# pvback-usb: the userspace usbif backend daemon.  libusbdev holds the
# hv-free parts (urb request rules, device specs, the device layer, the
# emulated devices and libusb passthrough) that the unit tests and the
# fuzzer link.  Passthrough is built only with HAVE_LIBUSB
# (scripts/configure found libusb-1.0): without it a host device spec says
# so and emulated devices still work.
bins += pvback-usb
libs += usbdev
usbdev_srcs := $(addprefix usbback/,request.c dev.c emu.c emu_storage.c emu_hid.c emu_zero.c \
	$(if $(filter y,$(HAVE_LIBUSB)),host.c))
usbdev_pkgs := $(if $(filter y,$(HAVE_LIBUSB)),libusb-1.0)
pvback-usb_srcs := $(addprefix usbback/,main.c xenbus.c ring.c ctl.c isolate.c)
pvback-usb_deps := usbdev pvcommon
pvback-usb_pkgs := $(usbdev_pkgs)
$(call mod_cflags,usbback,-Icommon -Iusbback \
	$(if $(filter y,$(HAVE_LIBUSB)),-DHAVE_LIBUSB $(call pkgcflags,libusb-1.0)))

# `xl usbdev-attach` without libxl's usbback binding (the script's header
# says why); make install puts it in $(PREFIX)/sbin.
sbin_scripts += scripts/pvback-usbdev

# make install also installs the systemd unit, pointing at $(PREFIX)/bin.
systemd_units += scripts/pvback-usb.service
