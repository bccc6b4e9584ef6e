# SPDX-License-Identifier: GPL-2.0-or-later
# pvbench-hv: grant map/copy and event-channel costs (run by bench/bench-sim).
bins += pvbench-hv
pvbench-hv_srcs := bench/bench-hv.c bench/benchlib.c $(sim_hv_srcs)
pvbench-hv_deps := pvcommon

