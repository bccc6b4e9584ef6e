# SPDX-License-Identifier: GPL-2.0-or-later
bins += pvsim
pvsim_srcs := $(addprefix sim/,pvsim.c ctl.c toolstack.c hotplug.c) $(sim_xs_srcs) $(sim_hv_srcs)
pvsim_deps := pvcommon
$(call mod_cflags,sim,-Icommon -Isim)
