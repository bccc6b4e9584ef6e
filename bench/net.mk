# SPDX-License-Identifier: GPL-2.0-or-later
# The network benchmark: `make bench-net` (bench/bench-net), pvback-net's
# path against the same machine's TAP, veth and a userspace TAP forwarder.
# pvbench-tap: raw TAP writer / reader / vnet_hdr forwarder (io_uring);
# pvbench-rr: TCP request-response latency client and server.
bins += pvbench-tap pvbench-rr
pvbench-tap_srcs := bench/bench-tap.c bench/benchlib.c
pvbench-tap_deps := pvcommon
pvbench-tap_pkgs := liburing
pvbench-rr_srcs := bench/bench-rr.c bench/benchlib.c
pvbench-rr_deps := pvcommon


.PHONY: bench-net
bench-net: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/bench-net $(O)

# make bench-net-dpdk (bench/bench-net-dpdk): pvback-net on DPDK ports vs
# dpdk-testpmd on the same ports, and dpdk-switch vs TAP + bridge.
.PHONY: bench-net-dpdk
bench-net-dpdk: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/bench-net-dpdk $(O)
