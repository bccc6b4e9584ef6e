# SPDX-License-Identifier: GPL-2.0-or-later
# The block benchmark: `make demo` and `make bench-blk`, through the fio
# ioengine (frontends/module.mk builds it).

.PHONY: demo bench-blk
# After scripts/install-deps, a new make: the probe (config.mk) must see
# what it installed.
demo: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all fio-engine
	$(Q)bench/demo $(O)

bench-blk: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all fio-engine
	$(Q)bench/bench-blk $(O)
