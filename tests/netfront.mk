# SPDX-License-Identifier: GPL-2.0-or-later
# The userspace netfront's slot rules (frontends/netfront-slots.c, pure):
# the TX slot plan, RX assembly with each of Linux netfront's drop rules,
# and the RX checksum setup on pvnet.c's header walk.  No pvsim needed.
netfront_utests := test-netfront-tx-slots test-netfront-rx-assembly test-netfront-rx-csum-setup
tests += $(netfront_utests)
$(foreach t,$(netfront_utests),$(eval $(t)_srcs := tests/unit/$(t).c) \
	$(eval $(t)_deps := pvfront pvcommon) $(eval $(t)_pkgs := cmocka))

# Its handshake on pvsim's xenstored against a fake vif backend (the
# xenbus framework with tests/unit/sim-harness.c): the keys Linux netfront
# writes, Reconfiguring.  Needs $(O)/bin/pvsim (exit 77 without).
tests += test-netfront-handshake-keys
test-netfront-handshake-keys_srcs := tests/unit/test-netfront-handshake-keys.c tests/unit/sim-harness.c
test-netfront-handshake-keys_deps := pvfront pvcommon
test-netfront-handshake-keys_pkgs := cmocka
