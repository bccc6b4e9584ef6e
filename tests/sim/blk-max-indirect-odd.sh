#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk with an odd most-segments-per-request (indirect
# off: 11; --max-indirect 255) keeps every request slot's arrays aligned
# (issue 13, found by tests/fuzz/fuzz-blk-queue.c): every other slot's
# iovecs and grant pointers sat 4 bytes off, undefined behaviour that the
# sanitizer build's UBSan turns into an abort of the daemon as soon as two
# requests are in flight.  Data verifies with many requests at once over
# every grant path (map, copy, persistent), on both ABIs, and the daemon
# exits 0.
. "$(dirname "$0")/blk-lib.sh"

g1_xvda
guest() { guest_of g1 "$@"; }
check "backend state reaches InitWait (2)" wait_until 10 state_is g1 51712 2
for opts in "--max-indirect 0" "--max-indirect 255" "--max-indirect 0 --grant-mode copy" \
	    "--max-indirect 0 --io sync"; do
	stop_daemon || not_ok "$opts: the daemon before exits 0 on SIGTERM"
	daemon_up $opts
	for f in "" "--persistent" "--x86-32 --order 2" "--queues 2 --order 4"; do
		check "$opts: data verifies with ${f:-defaults}" guest $f --seed $RANDOM verify 8
	done
done
stop_daemon || not_ok "the daemon exits 0 on SIGTERM"
t_done
