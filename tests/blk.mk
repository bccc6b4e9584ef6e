# SPDX-License-Identifier: GPL-2.0-or-later
# blkback unit tests (cmocka). They link the hv-free parts of blkback/ (libblk) only.
tests += test-blk-validate test-blk-io
test-blk-validate_srcs := tests/unit/test-blk-validate.c
test-blk-validate_deps := blk
test-blk-validate_pkgs := cmocka
test-blk-io_srcs := tests/unit/test-blk-io.c tests/unit/blk-io-fixture.c
test-blk-io_deps := blk
test-blk-io_pkgs := cmocka
# Persistent-grant pages as io_uring registered buffers: the engines.
tests += test-blk-io-fixed-bufs
test-blk-io-fixed-bufs_srcs := tests/unit/test-blk-io-fixed-bufs.c tests/unit/blk-io-fixture.c
test-blk-io-fixed-bufs_deps := blk
test-blk-io-fixed-bufs_pkgs := cmocka
