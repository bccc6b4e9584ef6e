# SPDX-License-Identifier: GPL-2.0-or-later
# pvsim xenstored (sim/xs*.c): cmocka unit tests, the test daemon and libxenstore
# client that tests/sim/xs-*.sh drive (its libFuzzer harness: tests/fuzz.mk).
xs_unit_srcs := sim/xs_wire.c sim/xs_store.c

tests += test-xs-wire-decode test-xs-store-perms test-xs-store-txn test-xs-store-directory
test-xs-wire-decode_srcs := tests/unit/test-xs-wire-decode.c sim/xs_wire.c
test-xs-wire-decode_pkgs := cmocka
test-xs-store-perms_srcs := tests/unit/test-xs-store-perms.c $(xs_unit_srcs)
test-xs-store-perms_pkgs := cmocka
test-xs-store-txn_srcs := tests/unit/test-xs-store-txn.c $(xs_unit_srcs)
test-xs-store-txn_pkgs := cmocka
test-xs-store-directory_srcs := tests/unit/test-xs-store-directory.c $(xs_unit_srcs)
test-xs-store-directory_pkgs := cmocka

# Helpers for tests/sim/xs-*.sh: in $(O)/bin, so tests/run-tests does not run them.
bins += pvsim-xs-testd pvsim-xs-client
noinst_bins += pvsim-xs-testd pvsim-xs-client
pvsim-xs-testd_srcs := tests/sim/xs-testd.c $(sim_xs_srcs) common/loop.c common/log.c common/util.c
pvsim-xs-client_srcs := tests/sim/xs-client.c
pvsim-xs-client_pkgs := xenstore
