# SPDX-License-Identifier: GPL-2.0-or-later
# blkback unit tests (cmocka). They link the hv-free parts of blkback/ (libblk) only.
tests += test-blk-validate test-blk-io
test-blk-validate_srcs := tests/unit/test-blk-validate.c
test-blk-validate_deps := blk pvcommon
test-blk-validate_pkgs := cmocka
test-blk-io_srcs := tests/unit/test-blk-io.c tests/unit/blk-io-fixture.c
test-blk-io_deps := blk pvcommon
test-blk-io_pkgs := cmocka
# Persistent-grant pages as io_uring registered buffers: the engines.
tests += test-blk-io-fixed-bufs
test-blk-io-fixed-bufs_srcs := tests/unit/test-blk-io-fixed-bufs.c tests/unit/blk-io-fixture.c
test-blk-io-fixed-bufs_deps := blk pvcommon
test-blk-io-fixed-bufs_pkgs := cmocka
# Responses carry no padding from the backend's stack (issue 13, fuzz-blk-queue).
tests += test-blk-response-padding-is-zero
test-blk-response-padding-is-zero_srcs := tests/unit/test-blk-response-padding-is-zero.c
test-blk-response-padding-is-zero_deps := blk pvcommon
test-blk-response-padding-is-zero_pkgs := cmocka
# A live blkif queue (ring.c, no xenstore) on the in-process pvsim.
tests += test-blk-poll-stop-after-barrier
test-blk-poll-stop-after-barrier_srcs := tests/unit/test-blk-poll-stop-after-barrier.c \
	tests/unit/hv-harness.c $(sim_hv_srcs) $(filter-out blkback/main.c,$(pvback-blk_srcs))
test-blk-poll-stop-after-barrier_deps := blk pvcommon
test-blk-poll-stop-after-barrier_pkgs := cmocka
# RBD targets taken apart (QEMU's syntax), without librbd (issue 12).
tests += test-blk-rbd-target
test-blk-rbd-target_srcs := tests/unit/test-blk-rbd-target.c
test-blk-rbd-target_deps := blk pvcommon
test-blk-rbd-target_pkgs := cmocka
