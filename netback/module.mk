# SPDX-License-Identifier: GPL-2.0-or-later
# pvback-net: the userspace netif backend daemon.  libnet holds the pure
# parts (TX slot rules, offloads, hashing, the multicast list, the dpdk
# ports' devargs templates, software GSO and MAC table) that the unit tests
# and the fuzzer link.  The dpdk ports are built only with HAVE_DPDK
# (scripts/configure found libdpdk): without it --port dpdk|dpdk-switch
# says so at start-up and the rest builds as before.
bins += pvback-net
libs += net
net_srcs := $(addprefix netback/,request.c offload.c hash.c mcast.c devargs.c gso.c fdb.c)
net_dpdk_srcs := $(if $(filter y,$(HAVE_DPDK)),$(addprefix netback/,dpdk.c port_dpdk.c port_switch.c))
pvback-net_srcs := $(addprefix netback/,main.c xenbus.c ring.c tx.c rx.c ctrl.c ctl.c port_tap.c isolate.c) \
	$(net_dpdk_srcs)
pvback-net_deps := net pvcommon
pvback-net_pkgs := liburing $(if $(filter y,$(HAVE_DPDK)),libdpdk)
# DPDK's headers as system headers (our -W flags are not theirs to pass);
# its pkg-config cflags also force-include rte_config.h and set -march.
net_dpdk_cflags := $(if $(filter y,$(HAVE_DPDK)),-DHAVE_DPDK \
	$(patsubst -I%,-isystem %,$(call pkgcflags,libdpdk)))
$(call mod_cflags,netback,-Icommon -Inetback $(call pkgcflags,liburing) $(net_dpdk_cflags))

# The bridge hotplug script for xl's vif script= (make install puts it in
# /etc/xen/scripts; pvsim runs it by default when Xen's vif-bridge is absent).
sbin_scripts += scripts/pvback-vif-bridge
# ... and the one for a vif whose DPDK port has no kernel interface.
sbin_scripts += scripts/pvback-vif-dpdk

# make install also installs the systemd unit, pointing at $(PREFIX)/bin.
systemd_units += scripts/pvback-net.service
