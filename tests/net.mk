# SPDX-License-Identifier: GPL-2.0-or-later
# netback unit tests (cmocka) over the pure parts (libnet), and the libFuzzer
# harness of the guest-TX parser (make fuzz-net; a smoke run in make check).
tests += test-net-tx-slot-rules test-net-offload
test-net-tx-slot-rules_srcs := tests/unit/test-net-tx-slot-rules.c
test-net-tx-slot-rules_deps := net pvcommon
test-net-tx-slot-rules_pkgs := cmocka
test-net-offload_srcs := tests/unit/test-net-offload.c
test-net-offload_deps := net pvcommon
test-net-offload_pkgs := cmocka
tests += test-net-tx-layout
test-net-tx-layout_srcs := tests/unit/test-net-tx-layout.c
test-net-tx-layout_deps := net pvcommon
test-net-tx-layout_pkgs := cmocka
tests += test-net-ctrl-hash
test-net-ctrl-hash_srcs := tests/unit/test-net-ctrl-hash.c
test-net-ctrl-hash_deps := net pvcommon
test-net-ctrl-hash_pkgs := cmocka
tests += test-net-mcast-list
test-net-mcast-list_srcs := tests/unit/test-net-mcast-list.c
test-net-mcast-list_deps := net pvcommon
test-net-mcast-list_pkgs := cmocka
# The dpdk ports' pure helpers (built with or without DPDK).
tests += test-net-dpdk-devargs test-net-fdb-learning
test-net-dpdk-devargs_srcs := tests/unit/test-net-dpdk-devargs.c
test-net-dpdk-devargs_deps := net pvcommon
test-net-dpdk-devargs_pkgs := cmocka
test-net-fdb-learning_srcs := tests/unit/test-net-fdb-learning.c
test-net-fdb-learning_deps := net pvcommon
test-net-fdb-learning_pkgs := cmocka
