# SPDX-License-Identifier: GPL-2.0-or-later
# libpvcommon: the hypervisor-ops layer (xen | sim client), xenstore, the
# xenbus framework, loop, log, stats.  It sees only common/: pvsim's ABI
# that the client shares with the daemon lives here (hv_sim_abi.h,
# hv_sim_gnttab.c), and sim/ includes it from here, never the reverse.
libs += pvcommon
pvcommon_srcs := $(addprefix common/,log.c loop.c stats.c util.c sim_env.c \
		   hv.c hv_xen.c hv_sim.c hv_sim_gnttab.c xs.c xenbus.c \
		   queue.c worker.c journal.c gcache.c copy.c ctl.c daemon.c confine.c pvnet.c \
		   budget.c isolate.c isodev.c)
# programs listing pvcommon in _deps link these packages
pvcommon_pkgs := xenstore xenevtchn xengnttab libseccomp
$(call mod_cflags,common,-Icommon $(call pkgcflags,$(pvcommon_pkgs)))
