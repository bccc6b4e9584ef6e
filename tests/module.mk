# SPDX-License-Identifier: GPL-2.0-or-later
# Each feature area lists its cmocka tests in tests/<area>.mk:
#   tests += test-foo ; test-foo_srcs := tests/unit/test-foo.c ; test-foo_deps := pvcommon
# Integration tests are executable tests/sim/*.sh speaking TAP.
include $(filter-out tests/module.mk,$(sort $(wildcard tests/*.mk)))
# Tests may look inside every module (they test private interfaces too).
$(call mod_cflags,tests,-Icommon -Isim -Iblkback -Inetback -Iusbback -Ifrontends -Itests/unit \
	$(call pkgcflags,cmocka liburing))
