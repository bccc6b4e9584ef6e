# SPDX-License-Identifier: GPL-2.0-or-later
# pvback-blk: the userspace blkif backend daemon.  libblk holds the hv-free
# parts (request rules, I/O engines) that the unit tests link too, with
# libpvcommon (the engines log, and read its clock).
bins += pvback-blk
libs += blk
blk_srcs := $(addprefix blkback/,request.c io.c io_uring.c io_sync.c \
	      $(if $(filter y,$(HAVE_LIBAIO)),io_aio.c) $(if $(filter y,$(HAVE_LIBNBD)),io_nbd.c) \
	      $(if $(filter y,$(HAVE_LIBRBD)),io_rbd.c))
# A missing libnbd or librbd drops that store (scripts/configure), not the build.
blk_pkgs := liburing $(if $(filter y,$(HAVE_LIBNBD)),libnbd)
# libaio and librbd ship no .pc file in Debian: link them by name.
blk_ldlibs := $(if $(filter y,$(HAVE_LIBAIO)),-laio) $(if $(filter y,$(HAVE_LIBRBD)),-lrbd -lrados)
pvback-blk_srcs := $(addprefix blkback/,main.c xenbus.c ring.c ctl.c isolate.c)
pvback-blk_deps := blk pvcommon
$(call mod_cflags,blkback,-Icommon -Iblkback $(call pkgcflags,$(blk_pkgs)) \
	$(if $(filter y,$(HAVE_LIBAIO)),-DHAVE_LIBAIO) $(if $(filter y,$(HAVE_LIBNBD)),-DHAVE_LIBNBD) \
	$(if $(filter y,$(HAVE_LIBRBD)),-DHAVE_LIBRBD))

# The hotplug script for xl's script= (make install puts it in /etc/xen/scripts).
sbin_scripts += scripts/pvback-block

# make install also installs the systemd unit, pointing at $(PREFIX)/bin.
systemd_units += scripts/pvback-blk.service
