# SPDX-License-Identifier: GPL-2.0-or-later
# pvsim's hypervisor: grant tables, event channels, the per-domain hv socket.
# The grant-entry state machine runs in mapping processes too, so it is part
# of libpvcommon (common/hv_sim.c calls it).
sim_hv_srcs := $(addprefix sim/,hv_server.c evtchn.c)
pvcommon_srcs += sim/gnttab.c
