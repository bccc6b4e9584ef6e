#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: sustained hostile usbfronts against pvback-usb (issue 13;
# usbfront-tool attack) on gadget zero (emu:zero) while a second guest's
# storage I/O verifies.  flip: g1's urb ring kept full of bulk OUT/IN and
# control transfers while a second thread flips pipe, buffer_length,
# nr_buffer_segs, transfer_flags, the iso fields and the segments' grefs,
# offsets and lengths (double fetch), for 20000 answers; a violation costs
# the controller (reconnected), logged.  revoke: 200 bulk transfers whose
# pages' access ends right after the push, then 20 loopback INs whose pages
# end while the device holds them: each answered or the controller goes
# with a logged violation, no page kept after its answer.  never-consume:
# 300 rounds of a full urb ring written over unread responses, all
# answered, then the controller still serves.  After each: no response
# with an id that was not on the ring, the daemon runs, its VmRSS and fds
# come back within bounds, the other guest verifies, and a fresh frontend
# of g1 is served.
. "$(dirname "$0")/usb-lib.sh"

hostile_setup
check "the other guest verifies before the attacks" other_guest_ok
res_mark
violations() { grep -c 'vusb-1-0/q0: protocol violation' "$W/usb.log"; }
field() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$W/attack.out"; } # NAME: its count
# attack MODE ARGS...: as g1 against port 1, the other guest verifying meanwhile.
attack() {
	v0=$(violations)
	{ other_guest_ok && other_guest_ok; } >"$W/by.out" 2>&1 &
	by=$!
	guest_of g1 attack "$@" 1 >"$W/attack.out" 2>&1
	rc=$?
	sed 's/^/# /' "$W/attack.out"
	wait "$by"; by_rc=$?
}
alive_and_bounded() { # CASE
	check "$1: meanwhile the other guest's storage I/O verified" test "$by_rc" = 0
	check "$1: the daemon runs" kill -0 "$daemon_pid"
	check "$1: the other guest's storage I/O verifies" other_guest_ok
	check "$1: VmRSS and fds back within bounds" wait_until 10 res_bounded "$(res_slack pvback-usb)" 8
	check "$1: a fresh frontend of g1 is served" guest_of g1 zero 1 --case 1,2 --iterations 2
}

attack --count 20000 --seed 17 flip
check "flip: the attack ran to its end" test "$rc" = 0
check "flip: 20000 transfers answered while their fields flipped" test "$(field answered)" -ge 20000
check "flip: no response with an id not on the ring" test "$(field bad-ids)" = 0
check "flip: the flipper flipped" test "$(field flips)" -gt 0
check "flip: each connection that went logged a violation of g1's ($(field ended) ended)" \
	test $(($(violations) - v0)) -ge "$(field ended)"
alive_and_bounded flip

attack --count 200 revoke
check "revoke: 200 transfers and 20 held ones, every page ended after its answer" \
	test "$rc" = 0 -a -n "$(grep -E '^revoke: requests 200 .* held 20 .* leaked 0 backend Connected' "$W/attack.out")"
check "revoke: each one not answered cost the controller, a violation logged" \
	test $(($(violations) - v0)) -ge "$(field disconnects)"
alive_and_bounded revoke

attack --count 300 never-consume
check "never-consume: 300 rounds answered, rsp_cons never moved" test "$rc" = 0 -a \
	-n "$(grep '^never-consume: rounds 300 .* backend Connected' "$W/attack.out")"
check "never-consume: then the controller still serves" grep -q '^then GET_STATUS: OK' "$W/attack.out"
alive_and_bounded never-consume

check "no violation was logged for another controller" \
	sh -c "! grep 'protocol violation' '$W/usb.log' | grep -v ' vusb-1-0/'"
check "no sanitizer report in the daemon's log" fails grep -qE 'ERROR: AddressSanitizer|runtime error:' "$W/usb.log"
check "the daemon exits 0 on SIGTERM" stop_daemon
t_done
