# SPDX-License-Identifier: GPL-2.0-or-later
# pvback-net's bridge hotplug script, installed into /etc/xen/scripts; listed
# here (pvsim runs it by default) until netback/module.mk takes it over.
sbin_scripts += scripts/pvback-vif-bridge
bins += pvsim
pvsim_srcs := $(addprefix sim/,pvsim.c toolstack.c hotplug.c) $(sim_xs_srcs) $(sim_hv_srcs)
pvsim_deps := pvcommon
$(call mod_cflags,sim,-Icommon -Isim)
