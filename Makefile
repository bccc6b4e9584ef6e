# SPDX-License-Identifier: GPL-2.0-or-later
# pvback: one top-level, non-recursive GNU Makefile. Each directory adds a
# module.mk listing its sources; dependencies come from pkg-config only.
# Out-of-tree build under $(O) (default build/); `make SAN=1` builds the
# ASan+UBSan variant under build-san/. Quiet unless V=1.

SAN      ?= 0
ifeq ($(SAN),1)
O        ?= build-san
else
O        ?= build
endif
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
msg       = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2);)

DEPS_STAMP := $(O)/.deps-ok

# Libraries probed once (scripts/configure, iproute2 style): HAVE_X := y|n.
# Re-probed when the script changes and after scripts/install-deps ran.
CONFIG   := $(O)/config.mk
$(CONFIG): scripts/configure $(wildcard $(DEPS_STAMP))
	$(Q)CC="$(CC)" scripts/configure $@
include $(CONFIG)
# A config older than its inputs is re-probed before it counts (make deps; make).
CONFIG_STALE := $(shell [ scripts/configure -nt $(CONFIG) ] || [ $(DEPS_STAMP) -nt $(CONFIG) ] && echo y)
ifneq ($(strip $(MISSING_REQUIRED)),)
ifeq ($(CONFIG_STALE),)
ifeq ($(filter deps clean check demo check-xen bench-% fio-engine,$(MAKECMDGOALS)),)
$(error missing libraries:$(MISSING_REQUIRED); run `make deps` (scripts/install-deps) as root)
endif
endif
endif

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wmissing-prototypes \
            -Wno-unused-parameter -fno-strict-aliasing -D_GNU_SOURCE \
            -fPIC -pthread -MMD -MP
LDFLAGS  += -pthread
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

pkglibs   = $(shell pkg-config --libs $(1) 2>/dev/null)
pkgcflags = $(if $(1),$(shell pkg-config --cflags $(1) 2>/dev/null))

# Include paths are per module: each module.mk sets MOD_CFLAGS on its own
# objects, $(O)/obj/<dir>/%.o, to the directories it may include from, so a
# layering violation (common/ including sim/, frontends/ including blkback/)
# is a compile error.  $(call mod_cflags,DIR,FLAGS).
mod_cflags = $(eval $(O)/obj/$(1)/%.o: MOD_CFLAGS := $(2))

# Filled by module.mk files:
#   bins      += name            (each with name_srcs, name_deps, name_pkgs, name_ldlibs)
#   tests     += name            (the same; run by make check)
#   libs      += name            (static archives: name_srcs; name_pkgs are
#                                 linked into whatever lists name in _deps)
.DEFAULT_GOAL := all
bins  :=
noinst_bins :=
tests :=
libs  :=
sbin_scripts :=
systemd_units :=

include common/module.mk
include sim/xs.mk
include sim/hv.mk
include sim/module.mk
include frontends/module.mk
include blkback/module.mk
include netback/module.mk
include usbback/module.mk
include tests/module.mk
include bench/module.mk

objs_of   = $(patsubst %.c,$(O)/obj/%.o,$(1))
all_srcs := $(foreach b,$(bins) $(tests) $(libs),$($(b)_srcs))
all_objs := $(call objs_of,$(sort $(all_srcs)))

.PHONY: all check check-unit check-san clean install deps demo bench-sim
all: $(addprefix $(O)/bin/,$(bins)) $(addprefix $(O)/tests/,$(tests)) \
     $(O)/.headers-ok

# Every public header compiles alone (as Xen's headers.chk checks), seeing
# only common/ and its own directory.
pub_headers := common/pvcommon.h common/pvring.h common/pvnet.h common/abi/blkif.h \
	       common/abi/netif.h frontends/pvfront.h frontends/blkfront.h frontends/netfront.h
$(O)/.headers-ok: $(pub_headers)
	$(call msg,HDRCHK,public-headers)
	$(Q)for h in $^; do echo "#include \"$$h\"" | \
		$(CC) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Icommon -I$$(dirname $$h) \
		-fsyntax-only -x c - || exit 1; done
	$(Q)mkdir -p $(@D) && touch $@

# Install missing Debian packages once per build dir (fresh-machine setup):
# make deps, check, demo and the bench and check-xen targets do; plain make
# only builds (and says which packages are missing).
$(DEPS_STAMP): scripts/install-deps
	$(Q)scripts/install-deps
	$(Q)mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

$(O)/obj/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MOD_CFLAGS) -c -o $@ $<

define lib_rule
$(O)/lib/lib$(1).a: $(call objs_of,$($(1)_srcs))
	$$(call msg,AR,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(libs),$(eval $(call lib_rule,$(l))))

define link_rule
$(2)/$(1): $(call objs_of,$($(1)_srcs)) $(foreach l,$($(1)_deps),$(O)/lib/lib$(l).a)
	$$(call msg,LD,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$(CC) $(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(foreach l,$($(1)_deps),$(O)/lib/lib$(l).a) \
		$$(call pkglibs,$(sort $($(1)_pkgs) $(foreach l,$($(1)_deps),$($(l)_pkgs)))) \
		$($(1)_ldlibs) $(foreach l,$($(1)_deps),$($(l)_ldlibs))
endef
$(foreach b,$(bins),$(eval $(call link_rule,$(b),$(O)/bin)))
$(foreach t,$(tests),$(eval $(call link_rule,$(t),$(O)/tests)))

# make check: the normal build, then the ASan+UBSan build, each running the
# whole suite. The runner prints 'N passed, N failed' as its last line.
check: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all fio-engine fuzzers
	$(Q)$(MAKE) --no-print-directory SAN=1 all fio-engine fuzzers
	$(Q)tests/run-tests build build-san

check-unit: all
	$(Q)tests/run-tests $(O)

clean:
	rm -rf build build-san

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(addprefix $(O)/bin/,$(filter-out $(noinst_bins),$(bins))) $(DESTDIR)$(PREFIX)/bin/
	$(if $(wildcard docs/*.1),install -m 0644 $(wildcard docs/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(wildcard docs/*.8),install -m 0644 $(wildcard docs/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/)
	$(if $(sbin_scripts),install -d $(DESTDIR)/etc/xen/scripts && install -m 0755 $(sbin_scripts) $(DESTDIR)/etc/xen/scripts/)
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d
	install -m 0644 scripts/pvback.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/pvback.conf
	$(Q)if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(PREFIX)/lib/sysusers.d/pvback.conf; fi
	$(Q)for u in $(systemd_units); do \
		sed 's|/usr/local/bin/|$(PREFIX)/bin/|' $$u >$(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$u) || exit 1; done

bench-sim: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/bench-sim $(O)

# Real Xen in QEMU (TCG): not part of make check; see tests/xen/README.md.
.PHONY: check-xen bench-xen
check-xen: $(DEPS_STAMP)
	$(Q)scripts/install-deps xen
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/xen/run -b $(O)
bench-xen: $(DEPS_STAMP)
	$(Q)scripts/install-deps xen
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/xen/run -b $(O) --bench

-include $(all_objs:.o=.d)
