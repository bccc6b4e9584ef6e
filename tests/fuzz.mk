# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer harnesses (clang, ASan + UBSan): each over a parser a guest or a
# file can reach.  make fuzzers builds them into $(O)/fuzz; make fuzz runs
# each for FUZZ_SECONDS (default 600) from its seed corpus in
# tests/fuzz/corpus/<name> (new inputs go to $(O)/fuzz/corpus/<name>);
# make check runs each for a few seconds (tests/sim/fuzz-smoke.sh).
fuzzers += fuzz-xs-wire fuzz-net-tx fuzz-usb-urb
fuzz-xs-wire_srcs := tests/fuzz/fuzz-xs-wire.c sim/xs_wire.c sim/xs_store.c
fuzz-xs-wire_inc := -Isim -Icommon
# The whole xenstored on a loop in the harness's thread, over unix sockets.
fuzzers += fuzz-sim-xs
fuzz-sim-xs_srcs := tests/fuzz/fuzz-sim-xs.c $(addprefix sim/,xs_server.c xs_store.c xs_wire.c) \
	$(addprefix common/,loop.c util.c log.c)
fuzz-sim-xs_inc := -Isim -Icommon
fuzz-net-tx_srcs := tests/fuzz/fuzz-net-tx.c netback/request.c netback/offload.c common/pvnet.c
fuzz-net-tx_inc := -Icommon -Inetback
fuzz-usb-urb_srcs := tests/fuzz/fuzz-usb-urb.c usbback/request.c
fuzz-usb-urb_inc := -Icommon -Iusbback
# The emulated devices (no libusb passthrough) behind the urb request rules.
fuzzers += fuzz-usb-emu
fuzz-usb-emu_srcs := tests/fuzz/fuzz-usb-emu.c $(addprefix usbback/,request.c dev.c emu.c \
	emu_storage.c emu_hid.c emu_zero.c) $(addprefix common/,log.c loop.c util.c)
fuzz-usb-emu_inc := -Icommon -Iusbback
fuzzers += fuzz-usb-state
fuzz-usb-state_srcs := tests/fuzz/fuzz-usb-state.c usbback/request.c
fuzz-usb-state_inc := -Icommon -Iusbback
fuzzers += fuzz-blk-req
fuzz-blk-req_srcs := tests/fuzz/fuzz-blk-req.c blkback/request.c
fuzz-blk-req_inc := -Icommon -Iblkback
fuzzers += fuzz-journal
fuzz-journal_srcs := tests/fuzz/fuzz-journal.c common/journal.c
fuzz-journal_inc := -Icommon
fuzzers += fuzz-sim-ctl
fuzz-sim-ctl_srcs := tests/fuzz/fuzz-sim-ctl.c sim/ctl.c
fuzz-sim-ctl_inc := -Isim
# The real xenbus, pv_xs and parsers over a fake libxenstore (no xenstored).
fuzzers += fuzz-xb-keys
fuzz-xb-keys_srcs := tests/fuzz/fuzz-xb-keys.c tests/fuzz/fake-xenstore.c \
	$(addprefix common/,xenbus.c xs.c util.c log.c loop.c sim_env.c) blkback/request.c
fuzz-xb-keys_inc := -Icommon -Iblkback
fuzzers += fuzz-sim-hv
fuzz-sim-hv_srcs := tests/fuzz/fuzz-sim-hv.c common/hv_sim_gnttab.c sim/evtchn.c
fuzz-sim-hv_inc := -Icommon -Isim
fuzzers += fuzz-net-ctrl
fuzz-net-ctrl_srcs := tests/fuzz/fuzz-net-ctrl.c netback/hash.c
fuzz-net-ctrl_inc := -Icommon -Inetback
fuzzers += fuzz-net-switch
fuzz-net-switch_srcs := tests/fuzz/fuzz-net-switch.c netback/fdb.c netback/gso.c common/pvnet.c
fuzz-net-switch_inc := -Icommon -Inetback

FUZZ_SECONDS ?= 600
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined

define fuzz_rule
$(O)/fuzz/$(1): $($(1)_srcs) tests/fuzz/fuzz-common.h
	$$(call msg,FUZZ,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)clang $(FUZZ_CFLAGS) $($(1)_inc) -o $$@ $$(filter %.c,$$^)
endef
$(foreach f,$(fuzzers),$(eval $(call fuzz_rule,$(f))))

.PHONY: fuzzers fuzz fuzz-xs fuzz-net fuzz-usb fuzz-blk fuzz-journal fuzz-sim-ctl fuzz-xb-keys fuzz-sim-hv
fuzzers: $(addprefix $(O)/fuzz/,$(fuzzers))
fuzz-xs: $(O)/fuzz/fuzz-xs-wire $(O)/fuzz/fuzz-sim-xs
fuzz-net: $(O)/fuzz/fuzz-net-tx $(O)/fuzz/fuzz-net-ctrl $(O)/fuzz/fuzz-net-switch
fuzz-usb: $(O)/fuzz/fuzz-usb-urb $(O)/fuzz/fuzz-usb-emu $(O)/fuzz/fuzz-usb-state
fuzz-blk: $(O)/fuzz/fuzz-blk-req
fuzz-journal: $(O)/fuzz/fuzz-journal
fuzz-sim-ctl: $(O)/fuzz/fuzz-sim-ctl
fuzz-xb-keys: $(O)/fuzz/fuzz-xb-keys
fuzz-sim-hv: $(O)/fuzz/fuzz-sim-hv
fuzz: fuzzers
	$(Q)for f in $(fuzzers); do \
		mkdir -p $(O)/fuzz/corpus/$$f && \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s" && \
		$(O)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(O)/fuzz/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done
