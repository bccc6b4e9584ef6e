# SPDX-License-Identifier: GPL-2.0-or-later
# libpvfront: userspace frontends.  Frontends see common/ (libpvcommon and
# the shared protocol ABI in common/abi/), never a backend's directory.
libs += pvfront
pvfront_srcs := $(addprefix frontends/,pvfront.c pvfront-hostile.c blkfront.c netfront.c netfront-slots.c usbfront.c)
$(call mod_cflags,frontends,-Icommon -Ifrontends $(call pkgcflags,liburing))

# netfront-tool: drives a vif through the userspace netfront (TAP, gen/sink
# benchmarks, handshake, hostile requests); installed with the daemons.
bins += netfront-tool
netfront-tool_srcs := $(addprefix frontends/,netfront-tool.c netfront-tap.c netfront-bench.c \
		      netfront-hostile.c)
netfront-tool_deps := pvfront pvcommon
netfront-tool_pkgs := liburing

# The fio external ioengine pvblk.so (frontends/fio-pvblk.c), built against
# the configured source of the installed Debian fio, fetched once by
# scripts/fio-src into build/fio-src (shared by both builds).  In the
# sanitizer build the engine is instrumented too; tests/sim/blk-fio.sh then
# runs Debian's fio with the ASan/UBSan runtimes preloaded.
fio_cache  := build/fio-src
fio_tree   := $(fio_cache)/current
fio_engine := $(O)/lib/pvblk.so
# fio's own preprocessor flags (its Makefile's CPPFLAGS): the structure
# layouts the engine sees must be those of the installed binary.
fio_cppflags := -isystem $(fio_tree) -include $(fio_tree)/config-host.h \
		-D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64 -DFIO_INTERNAL \
		-DFIO_INC_DEBUG -DBITS_PER_LONG=64

.PHONY: fio-engine
fio-engine: $(fio_engine)

# Redone when the script changes or fio is (re)installed (its dpkg file list).
$(fio_cache)/.stamp: scripts/fio-src $(wildcard /var/lib/dpkg/info/fio.list) | $(DEPS_STAMP)
	$(call msg,FIOSRC,$(fio_cache))
	$(Q)scripts/fio-src $(fio_cache) >/dev/null
	$(Q)touch $@

$(O)/obj/frontends/fio-pvblk.o: frontends/fio-pvblk.c $(fio_cache)/.stamp | $(DEPS_STAMP)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(MOD_CFLAGS) $(fio_cppflags) -c -o $@ $<

# Only the ioengine symbol is exported: --exclude-libs keeps libpvcommon's
# and libpvfront's symbols from interposing on fio's.
$(fio_engine): $(O)/obj/frontends/fio-pvblk.o $(O)/lib/libpvfront.a $(O)/lib/libpvcommon.a
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--exclude-libs,ALL -o $@ $^ \
		$(call pkglibs,$(pvcommon_pkgs))

-include $(O)/obj/frontends/fio-pvblk.d

# usbfront-tool: drives a vusb controller through the userspace usbfront
# (enumeration, gadget-zero cases, storage, keyboard, benchmarks, hostile
# requests; tests/sim/usb-*.sh); installed with the daemons.
bins += usbfront-tool
usbfront-tool_srcs := $(addprefix frontends/,usbfront-tool.c usbfront-zero.c usbfront-storage.c \
		      usbfront-hostile.c)
usbfront-tool_deps := pvfront pvcommon
usbfront-tool_pkgs := liburing

# blkfront-tool: drives a vbd through the userspace blkfront (tests/sim/blk-*.sh):
# well-behaved commands, and a hostile guest (blkfront-hostile.c).
bins += blkfront-tool
blkfront-tool_srcs := $(addprefix frontends/,blkfront-tool.c blkfront-hostile.c)
blkfront-tool_deps := pvfront pvcommon
