# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of libpvcommon (loop, log, stats, xenstore, xenbus), pvring.h and
# libpvfront.
tests += test-loop-dispatch test-stats-percentile test-xs-read-uint-strict \
	 test-ring-push-consume-notify test-log-ratelimit test-budget

test-loop-dispatch_srcs := tests/unit/test-loop-dispatch.c
test-loop-dispatch_deps := pvcommon
test-loop-dispatch_pkgs := cmocka

test-log-ratelimit_srcs := tests/unit/test-log-ratelimit.c
test-log-ratelimit_deps := pvcommon
test-log-ratelimit_pkgs := cmocka

test-budget_srcs := tests/unit/test-budget.c
test-budget_deps := pvcommon
test-budget_pkgs := cmocka

test-stats-percentile_srcs := tests/unit/test-stats-percentile.c
test-stats-percentile_deps := pvcommon
test-stats-percentile_pkgs := cmocka

# libxenstore's xs_open/xs_close/xs_read are replaced by the test (no xenstored).
test-xs-read-uint-strict_srcs := tests/unit/test-xs-read-uint-strict.c
test-xs-read-uint-strict_deps := pvcommon
test-xs-read-uint-strict_pkgs := cmocka
test-xs-read-uint-strict_ldlibs := -Wl,--wrap=xs_open,--wrap=xs_close,--wrap=xs_read

test-ring-push-consume-notify_srcs := tests/unit/test-ring-push-consume-notify.c
test-ring-push-consume-notify_pkgs := cmocka

# The xenbus framework on pvsim's xenstored (tests/unit/sim-harness.c): the
# handshake, the guarded key writer, the ring key readers, Reconfiguring,
# the hotplug policies, disconnect requests from data-path threads (issue 3:
# stale ones are dropped); and libpvfront's shared rings against those readers.
# They need $(O)/bin/pvsim (exit 77 without).
xenbus_tests := test-xenbus-handshake test-xenbus-keys-guarded test-xenbus-ring-keys \
		test-xenbus-reconfigure test-xenbus-hotplug-script test-pvfront-ring \
		test-xenbus-disconnect
tests += $(xenbus_tests)
$(foreach t,$(xenbus_tests),$(eval $(t)_srcs := tests/unit/$(t).c tests/unit/sim-harness.c) \
	$(eval $(t)_deps := pvfront pvcommon) $(eval $(t)_pkgs := cmocka))
