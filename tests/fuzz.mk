# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer harnesses (clang, ASan + UBSan): each over a parser a guest or a
# file can reach.  make fuzzers builds them into $(O)/fuzz; make fuzz runs
# each for FUZZ_SECONDS (default 600) from its seed corpus in
# tests/fuzz/corpus/<name> (new inputs go to $(O)/fuzz/corpus/<name>);
# make check runs each for a few seconds (tests/sim/fuzz-smoke.sh).
fuzzers += fuzz-xs-wire fuzz-net-tx fuzz-usb-urb
fuzz-xs-wire_srcs := tests/fuzz/fuzz-xs-wire.c sim/xs_wire.c sim/xs_store.c
fuzz-xs-wire_inc := -Isim -Icommon
fuzz-net-tx_srcs := tests/fuzz/fuzz-net-tx.c netback/request.c netback/offload.c common/pvnet.c
fuzz-net-tx_inc := -Icommon -Inetback
fuzz-usb-urb_srcs := tests/fuzz/fuzz-usb-urb.c usbback/request.c
fuzz-usb-urb_inc := -Icommon -Iusbback

FUZZ_SECONDS ?= 600
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined

define fuzz_rule
$(O)/fuzz/$(1): $($(1)_srcs)
	$$(call msg,FUZZ,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)clang $(FUZZ_CFLAGS) $($(1)_inc) -o $$@ $$^
endef
$(foreach f,$(fuzzers),$(eval $(call fuzz_rule,$(f))))

.PHONY: fuzzers fuzz fuzz-xs fuzz-net fuzz-usb
fuzzers: $(addprefix $(O)/fuzz/,$(fuzzers))
fuzz-xs: $(O)/fuzz/fuzz-xs-wire
fuzz-net: $(O)/fuzz/fuzz-net-tx
fuzz-usb: $(O)/fuzz/fuzz-usb-urb
fuzz: fuzzers
	$(Q)for f in $(fuzzers); do \
		mkdir -p $(O)/fuzz/corpus/$$f && \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s" && \
		$(O)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(O)/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

# fuzz-blk-queue: the stateful harness (issue 13): a live pvback-blk queue
# (blkback/ring.c on common/queue.c) on the in-process pvsim of
# tests/unit/hv-harness.c, driven by a hostile guest the input scripts.  It
# links the backend, libpvcommon and pvsim's hypervisor with their
# libraries, so it has a rule of its own; pv_hv_map/unmap are wrapped to
# count what stays mapped.
fuzzers += fuzz-blk-queue
fuzz-blk-queue_srcs := tests/fuzz/fuzz-blk-queue.c tests/unit/hv-harness.c $(sim_hv_srcs) \
	$(filter-out blkback/main.c,$(pvback-blk_srcs)) $(blk_srcs) $(pvcommon_srcs)
fuzz-blk-queue_inc := -Icommon -Iblkback -Isim -Itests/unit $(call pkgcflags,$(blk_pkgs)) \
	$(if $(filter y,$(HAVE_LIBAIO)),-DHAVE_LIBAIO)
fuzz-blk-queue_libs := -pthread -Wl,--wrap=pv_hv_map,--wrap=pv_hv_unmap \
	$(call pkglibs,$(blk_pkgs) $(pvcommon_pkgs)) $(blk_ldlibs)
$(O)/fuzz/fuzz-blk-queue: $(fuzz-blk-queue_srcs)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(fuzz-blk-queue_inc) -o $@ $^ $(fuzz-blk-queue_libs)
fuzzers: $(O)/fuzz/fuzz-blk-queue
.PHONY: fuzz-blk
fuzz-blk: $(O)/fuzz/fuzz-blk-queue
