# SPDX-License-Identifier: GPL-2.0-or-later
# libFuzzer harnesses (clang, ASan + UBSan): each over a parser a guest, a
# file or another process can reach (tests/fuzz/README.md lists what each
# covers).  make fuzzers builds them into $(O)/fuzz; make fuzz runs each (or
# those in FUZZ_ONLY) for FUZZ_SECONDS (default 600) from its seed corpus in
# tests/fuzz/corpus/<name> (new inputs go to $(O)/fuzz/corpus/<name>);
# make check runs each for a few seconds (tests/sim/fuzz-smoke.sh, which
# takes its list from the `fuzzers +=` lines below).

# pvsim's xenstored: the wire layer and store, then the whole server on a
# loop in the harness's thread, over unix sockets.
fuzzers += fuzz-xs-wire
fuzz-xs-wire_srcs := tests/fuzz/fuzz-xs-wire.c sim/xs_wire.c sim/xs_store.c
fuzzers += fuzz-sim-xs
fuzz-sim-xs_srcs := tests/fuzz/fuzz-sim-xs.c $(addprefix sim/,xs_server.c xs_store.c xs_wire.c) \
	$(addprefix common/,loop.c util.c log.c)
# pvsim's control socket text and hypervisor (grants, pin journals, event channels).
fuzzers += fuzz-sim-ctl
fuzz-sim-ctl_srcs := tests/fuzz/fuzz-sim-ctl.c sim/ctl.c
fuzzers += fuzz-sim-hv
fuzz-sim-hv_srcs := tests/fuzz/fuzz-sim-hv.c common/hv_sim_gnttab.c sim/evtchn.c

# The common skeleton: the frontend's keys through the real xenbus and pv_xs
# over a fake libxenstore (no xenstored), and the restart journal.
fuzzers += fuzz-xb-keys
fuzz-xb-keys_srcs := tests/fuzz/fuzz-xb-keys.c tests/fuzz/fake-xenstore.c \
	$(addprefix common/,xenbus.c xs.c util.c log.c loop.c sim_env.c) blkback/request.c
fuzzers += fuzz-journal
fuzz-journal_srcs := tests/fuzz/fuzz-journal.c common/journal.c

# blkback
fuzzers += fuzz-blk-req
fuzz-blk-req_srcs := tests/fuzz/fuzz-blk-req.c blkback/request.c

# netback: guest TX, the ctrl ring, the dpdk switch and software GSO.
fuzzers += fuzz-net-tx
fuzz-net-tx_srcs := tests/fuzz/fuzz-net-tx.c netback/request.c netback/offload.c common/pvnet.c
fuzzers += fuzz-net-ctrl
fuzz-net-ctrl_srcs := tests/fuzz/fuzz-net-ctrl.c netback/hash.c
fuzzers += fuzz-net-switch
fuzz-net-switch_srcs := tests/fuzz/fuzz-net-switch.c netback/fdb.c netback/gso.c common/pvnet.c

# usbback: urb requests and specs, the emulated devices (no libusb
# passthrough) behind them, and the state file a restart reads.
fuzzers += fuzz-usb-urb
fuzz-usb-urb_srcs := tests/fuzz/fuzz-usb-urb.c usbback/request.c
fuzzers += fuzz-usb-emu
fuzz-usb-emu_srcs := tests/fuzz/fuzz-usb-emu.c $(addprefix usbback/,request.c dev.c emu.c \
	emu_storage.c emu_hid.c emu_zero.c) $(addprefix common/,log.c loop.c util.c)
fuzzers += fuzz-usb-state
fuzz-usb-state_srcs := tests/fuzz/fuzz-usb-state.c usbback/request.c

FUZZ_SECONDS ?= 600
FUZZ_ONLY ?= $(fuzzers)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
# Every harness sees the headers of every directory (no two share a name).
FUZZ_INC := $(addprefix -I,common sim blkback netback usbback)

define fuzz_rule
$(O)/fuzz/$(1): $($(1)_srcs) tests/fuzz/fuzz-common.h
	$$(call msg,FUZZ,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(FUZZ_INC) -o $$@ $$(filter %.c,$$^)
endef
$(foreach f,$(fuzzers),$(eval $(call fuzz_rule,$(f))))

# Build targets: one per harness (make fuzz-journal) and per area.
.PHONY: fuzzers fuzz fuzz-xs fuzz-sim fuzz-net fuzz-usb fuzz-blk $(fuzzers)
fuzzers: $(addprefix $(O)/fuzz/,$(fuzzers))
$(foreach f,$(fuzzers),$(eval $(f): $(O)/fuzz/$(f)))
fuzz-xs: fuzz-xs-wire fuzz-sim-xs
fuzz-sim: fuzz-sim-xs fuzz-sim-ctl fuzz-sim-hv
fuzz-net: fuzz-net-tx fuzz-net-ctrl fuzz-net-switch
fuzz-usb: fuzz-usb-urb fuzz-usb-emu fuzz-usb-state
fuzz-blk: fuzz-blk-req
fuzz: $(addprefix $(O)/fuzz/,$(FUZZ_ONLY))
	$(Q)for f in $(FUZZ_ONLY); do \
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
