# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of libpvcommon (loop, log, stats, xenstore, xenbus), pvring.h and
# libpvfront.  test-xenbus-handshake needs $(O)/bin/pvsim (exits 77 without).
tests += test-loop-dispatch test-stats-percentile test-xs-read-uint-strict \
	 test-ring-push-consume-notify test-xenbus-handshake

test-loop-dispatch_srcs := tests/unit/test-loop-dispatch.c
test-loop-dispatch_deps := pvcommon
test-loop-dispatch_pkgs := cmocka

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

test-xenbus-handshake_srcs := tests/unit/test-xenbus-handshake.c tests/unit/sim-harness.c
test-xenbus-handshake_deps := pvfront pvcommon
test-xenbus-handshake_pkgs := cmocka

# The backends' transactional key writer (pv_xb_keys); needs pvsim.
tests += test-xenbus-keys-guarded
test-xenbus-keys-guarded_srcs := tests/unit/test-xenbus-keys-guarded.c tests/unit/sim-harness.c
test-xenbus-keys-guarded_deps := pvfront pvcommon
test-xenbus-keys-guarded_pkgs := cmocka

# The framework's ring key readers (grant refs, event channels, queues); needs pvsim.
tests += test-xenbus-ring-keys
test-xenbus-ring-keys_srcs := tests/unit/test-xenbus-ring-keys.c tests/unit/sim-harness.c
test-xenbus-ring-keys_deps := pvfront pvcommon
test-xenbus-ring-keys_pkgs := cmocka

# Frontend Reconfiguring -> ops->reconfigure -> Reconfigured -> Connected; needs pvsim.
tests += test-xenbus-reconfigure
test-xenbus-reconfigure_srcs := tests/unit/test-xenbus-reconfigure.c tests/unit/sim-harness.c
test-xenbus-reconfigure_deps := pvfront pvcommon
test-xenbus-reconfigure_pkgs := cmocka
