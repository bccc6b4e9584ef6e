#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: sustained hostile netfronts against pvback-net (issue 13;
# netfront-tool attack) while the bystander g2 streams verified TCP.
# flip: g1's TX ring kept full of frames and its RX ring of buffers (frames
# to g1 come from the bridge) while a second thread flips TX gref, offset,
# size, flags, id and RX id, gref (double fetch), for 20000 TX answers; a
# violation costs the vif (reconnected), logged.  revoke: 2000 frames whose
# grants are ended right after the push: each answered, none kept.
# never-consume: g1's RX ring answered full and never read, then 200
# rounds of a full TX ring written over unread responses: all answered, no
# RX response beyond what was posted.  After each: no response id that was
# not posted, the daemon answers, its VmRSS and fds come back within
# bounds, g2's stream verifies; at the end g1 is served again.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

net_hostile_setup
g1_mac=$(be_read g1 "$d1" mac)
vif1="vif-$(domid_of g1)-$d1/"
res_mark
port=5400
bystander_start() { # 24 MiB from g2 to the host, in the background
	port=$((port + 1))
	tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 24 $port >"$W/by.out" 2>&1 &
	by=$!
}
bystander_ok() { # CASE
	wait "$by"; local rc=$?
	sed 's/^/# /' "$W/by.out"
	check "$1: meanwhile g2's stream arrived intact" test "$rc" = 0
}
field() { sed -n "s/.* $1 \([0-9]*\).*/\1/p" "$W/attack.out"; } # NAME: its count

# --- flip ---------------------------------------------------------------
frames_to_start "$g1_mac"
bystander_start
attack g1 "$d1" flip --count 20000 --seed 17
rc=$?
frames_to_stop
sed 's/^/# /' "$W/attack.out"
check "flip: the attack ran to its end" test "$rc" = 0 ||
	grep -E "${vif1%/}[:/].*(fail|fatal|ERR|WARN)" "$W/net.log" | tail -20 | sed 's/^/# /'
check "flip: 20000 TX requests answered while their fields flipped" \
	test "$(sed -n 's/^flip: tx answered \([0-9]*\) .*/\1/p' "$W/attack.out")" -ge 20000
check "flip: RX buffers were answered too ($(field 'rx answered'))" test "$(field 'rx answered')" -gt 0
check "flip: no response id that was not posted, no bad status, none overproduced" \
	test "$(field bad-ids)$(field bad-status)$(field overproduced)" = 000
check "flip: the flipper flipped" test "$(field flips)" -gt 0
check "flip: each disconnect logged a violation of g1's" \
	test "$(grep -c "$vif1.*protocol violation" "$W/net.log")" -ge "$(field disconnects)"
bystander_ok flip
alive_and_bounded flip

# --- revoke -------------------------------------------------------------
bystander_start
attack g1 "$d1" revoke --count 2000
rc=$?
sed 's/^/# /' "$W/attack.out"
check "revoke: 2000 frames answered, every slot, no grant kept" test "$rc" = 0 -a \
	-n "$(grep -E '^revoke: frames 2000 slots ([0-9]+) answered \1 .* leaked 0 backend Connected' "$W/attack.out")"
bystander_ok revoke
alive_and_bounded revoke

# --- never-consume --------------------------------------------------------
frames_to_start "$g1_mac"
bystander_start
attack g1 "$d1" never-consume --count 200
rc=$?
frames_to_stop
sed 's/^/# /' "$W/attack.out"
check "never-consume: the RX ring was answered full, never beyond, 200 TX rounds answered" \
	test "$rc" = 0 -a -n "$(grep '^never-consume: rounds 200 .* beyond posted 0 backend Connected' "$W/attack.out")"
# The daemon waited for buffers that never came (and queued nothing more).
no_buffers() {
	net_stats --json | python3 -c 'import json, sys
for d in json.load(sys.stdin)["devices"]:
    if d["name"] == sys.argv[1]:
        print(d["total"]["rx_no_buffers"])' "${vif1%/}"
}
check "never-consume: the backend stopped at the full RX ring (rx_no_buffers $(no_buffers))" \
	test "$(no_buffers)" -gt 0
bystander_ok never-consume
alive_and_bounded never-consume

check "g1 is served again: a TAP on its vif pings the host" \
	front_start g1 eth0 --devid "$d1"
check "... connected" wait_until 10 state_is g1 "$d1" 4
guest_ip g1 eth0 "$NET_PFX.11/24"
check "... and pings the host" ping_from "$(guest_ns g1)" "$NET_PFX.1" 2
check "no violation was logged for another vif" \
	sh -c "! grep 'protocol violation' '$W/net.log' | grep -v '$vif1'"
# The netfronts close while their backend is there (not their close's timeouts).
for k in "${!front_pid[@]}"; do front_stop "${k%/*}" "${k#*/}"; done
check "no sanitizer report in the daemon's log" fails grep -qE 'ERROR: AddressSanitizer|runtime error:' "$W/net.log"
check "SIGTERM stops the daemon with status 0" net_stop
t_done
