# SPDX-License-Identifier: GPL-2.0-or-later
# The block benchmark: the fio external ioengine pvblk.so (frontends/fio-pvblk.c,
# built against the configured source of the installed Debian fio, fetched
# once by scripts/fio-src into $(O)/fio-src), `make demo` and `make bench-blk`.
# In the sanitizer build the engine is instrumented too; tests/sim/blk-fio.sh
# then runs Debian's fio with the ASan/UBSan runtimes preloaded.  The fio
# source tree is shared by both builds.

fio_cache  := build/fio-src
fio_tree   := $(fio_cache)/current
fio_engine := $(O)/lib/pvblk.so
# fio's own preprocessor flags (its Makefile's CPPFLAGS): the structure
# layouts the engine sees must be those of the installed binary.
fio_cppflags := -isystem $(fio_tree) -include $(fio_tree)/config-host.h \
		-D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64 -DFIO_INTERNAL \
		-DFIO_INC_DEBUG -DBITS_PER_LONG=64

.PHONY: fio-engine bench-blk
fio-engine: $(fio_engine)

# Redone when the script changes or fio is (re)installed (its dpkg file list).
$(fio_cache)/.stamp: scripts/fio-src $(wildcard /var/lib/dpkg/info/fio.list) | $(DEPS_STAMP)
	$(call msg,FIOSRC,$(fio_cache))
	$(Q)scripts/fio-src $(fio_cache) >/dev/null
	$(Q)touch $@

$(O)/obj/frontends/fio-pvblk.o: frontends/fio-pvblk.c $(fio_cache)/.stamp | $(DEPS_STAMP)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(fio_cppflags) -c -o $@ $<

# Only the ioengine symbol is exported: --exclude-libs keeps libpvcommon's
# and libpvfront's symbols from interposing on fio's.
$(fio_engine): $(O)/obj/frontends/fio-pvblk.o $(O)/lib/libpvfront.a $(O)/lib/libpvcommon.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--exclude-libs,ALL -o $@ $^ \
		$(call pkglibs,$(pvcommon_pkgs))

demo: all $(fio_engine)
	$(Q)bench/demo $(O)

bench-blk: all $(fio_engine)
	$(Q)bench/bench-blk $(O)

-include $(O)/obj/frontends/fio-pvblk.d
