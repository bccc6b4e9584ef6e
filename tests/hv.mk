# SPDX-License-Identifier: GPL-2.0-or-later
# Hypervisor layer: unit tests of pvsim's grant and event-channel state
# machines (no daemon), and integration tests of pv_hv_* in sim mode against
# the hv server on a loop thread (tests/unit/hv-harness.c).
tests += test-grant-entry-state test-evtchn-port-table
test-grant-entry-state_srcs := tests/unit/test-grant-entry-state.c common/hv_sim_gnttab.c
test-grant-entry-state_pkgs := cmocka
test-evtchn-port-table_srcs := tests/unit/test-evtchn-port-table.c sim/evtchn.c
test-evtchn-port-table_pkgs := cmocka
# pvsim's control protocol text (sim/ctl.c; issue 13, fuzz-sim-ctl).
tests += test-sim-ctl-parse
test-sim-ctl-parse_srcs := tests/unit/test-sim-ctl-parse.c sim/ctl.c
test-sim-ctl-parse_pkgs := cmocka

hv_itests := test-hv-grant-misuse test-hv-grant-copy test-hv-evtchn test-hv-domain-destroy \
	     test-hv-killed-mapper-unpins
tests += $(hv_itests)
$(foreach t,$(hv_itests),$(eval $(t)_srcs := tests/unit/$(t).c tests/unit/hv-harness.c $(sim_hv_srcs)))
$(foreach t,$(hv_itests),$(eval $(t)_deps := pvcommon))
$(foreach t,$(hv_itests),$(eval $(t)_pkgs := cmocka))
