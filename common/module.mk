# SPDX-License-Identifier: GPL-2.0-or-later
libs += pvcommon
pvcommon_srcs := $(addprefix common/,log.c loop.c stats.c hv.c hv_xen.c hv_sim.c xs.c xenbus.c)
# programs linking libpvcommon add these packages
pvcommon_pkgs := xenstore xenevtchn xengnttab
