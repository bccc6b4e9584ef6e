# SPDX-License-Identifier: GPL-2.0-or-later
# pvback-net: the userspace netif backend daemon.  libnet holds the pure
# parts (TX slot rules, offloads, hashing, the multicast list) that the
# unit tests and the fuzzer link.
bins += pvback-net
libs += net
net_srcs := $(addprefix netback/,request.c offload.c hash.c mcast.c)
pvback-net_srcs := $(addprefix netback/,main.c xenbus.c ring.c tx.c rx.c ctrl.c ctl.c port_tap.c)
pvback-net_deps := net pvcommon
pvback-net_pkgs := liburing
$(call mod_cflags,netback,-Icommon -Inetback $(call pkgcflags,liburing))

# The bridge hotplug script for xl's vif script= (make install puts it in
# /etc/xen/scripts; pvsim runs it by default when Xen's vif-bridge is absent).
sbin_scripts += scripts/pvback-vif-bridge

# make install also installs the systemd unit, pointing at $(PREFIX)/bin.
systemd_units += scripts/pvback-net.service
