# SPDX-License-Identifier: GPL-2.0-or-later
# The daemons' confinement (common/confine.c, docs/security.md): the main
# thread's drop and a data-path thread's capabilities and seccomp filter,
# in-process (each case in a forked child).  tests/sim/confine.sh checks the
# three daemons themselves.
tests += test-confine-data-path-thread

test-confine-data-path-thread_srcs := tests/unit/test-confine-data-path-thread.c
test-confine-data-path-thread_deps := pvcommon
test-confine-data-path-thread_pkgs := cmocka

# The io_uring restrictions of common/uring.h (requests bypass seccomp).
tests += test-uring-restricted
test-uring-restricted_srcs := tests/unit/test-uring-restricted.c
test-uring-restricted_pkgs := cmocka liburing
