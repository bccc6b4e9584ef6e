# SPDX-License-Identifier: GPL-2.0-or-later
# pvsim's hypervisor: grant tables, event channels, the per-domain hv socket.
# The grant-entry state machine runs in mapping processes too, so it is part
# of libpvcommon (common/hv_sim_gnttab.c); only the daemon's side is here.
sim_hv_srcs := $(addprefix sim/,hv_server.c evtchn.c)
