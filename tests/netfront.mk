# SPDX-License-Identifier: GPL-2.0-or-later
# The userspace netfront's slot rules (frontends/netfront-slots.c, pure):
# the TX slot plan, RX assembly with each of Linux netfront's drop rules,
# and the RX checksum setup on pvnet.c's header walk.  No pvsim needed.
netfront_utests := test-netfront-tx-slots test-netfront-rx-assembly test-netfront-rx-csum-setup
tests += $(netfront_utests)
$(foreach t,$(netfront_utests),$(eval $(t)_srcs := tests/unit/$(t).c) \
	$(eval $(t)_deps := pvfront pvcommon) $(eval $(t)_pkgs := cmocka))
