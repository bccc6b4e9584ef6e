# SPDX-License-Identifier: GPL-2.0-or-later
bins += pvbench-xs
pvbench-xs_srcs := bench/bench-xs.c bench/benchlib.c
pvbench-xs_deps := pvcommon

