#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net restarted under traffic, as blkback is: after
# SIGTERM (it answers the TX requests pushed before it) and after SIGKILL
# (its successor re-issues what the journals say was owed), the guests stay
# Connected, their vif interfaces stay in the bridge (persistent TAPs), the
# next daemon re-attaches to the live rings, and a TCP stream running
# through each restart finishes without a reset; verified transfers pass
# afterwards.  Then the guest is destroyed mid-traffic and a vif unplugged
# mid-traffic: the daemon frees them and the other guest goes on.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up
guest_create g1 128M
guest_create g2 128M
check "g1 connects" vif_connect g1 eth0 "$NET_PFX.11/24"
d1=$vif_devid
check "g2 connects with 2 queues" vif_connect g2 eth0 "$NET_PFX.12/24" --queues 2
d2=$vif_devid
ifn=$(vif_name g1 "$d1")

dom1=$(domid_of g1) dom2=$(domid_of g2)
tx_of() { # VIF: its guest-TX packets so far
	net_stats --json | python3 -c 'import json,sys; print(sum(q["tx_packets"] for x in json.load(sys.stdin)["devices"] if x["name"] == sys.argv[1] for q in x["queues"]))' "$1"
}
moving() { # N [VIF]: the vif (g1's) carried more than N guest-TX packets
	local n
	n=$(tx_of "${2:-vif-$dom1-$d1}") || return 1
	[ "$n" -gt "$1" ]
}
restart_under_traffic() { # SIGNAL PORT: restart during an iperf3 stream g1 -> host
	local sig=$1 port=$2 rc
	iperf_server - "$port"
	(iperf_client "$(guest_ns g1)" "$NET_PFX.1" "$port" -t 6 >"$W/iperf-$sig.out") &
	local client=$!
	wait_until 10 moving 200 || return 1
	kill "-$sig" "$netpid"; wait "$netpid"; rc=$?
	echo "# the daemon ended with status $rc"
	netpid=
	[ "$sig" = KILL ] && [ "$rc" != 137 ] && return 1
	[ "$sig" = TERM ] && [ "$rc" != 0 ] && return 1
	in_bridge "$ifn" "$NET_BR" || { echo "$ifn left the bridge"; return 1; }
	state_is g1 "$d1" 4 || { echo "g1's vif is not Connected"; return 1; }
	net_up
	wait "$client" || { cat "$W/iperf-$sig.out"; return 1; }
}
check "an iperf3 stream survives a SIGTERM restart" restart_under_traffic TERM 6001
check "the successor re-attached to the live connection" \
	grep -q "vif-$dom1-$d1: re-attaching to the live connection" "$W/net.log"
check "8 MiB g1 -> host intact after it" tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 8 6011
check "an iperf3 stream survives a SIGKILL restart" restart_under_traffic KILL 6002
check "8 MiB host -> g1 intact after it" tcp_verify - "$(guest_ns g1)" "$NET_PFX.11" 8 6012
check "8 MiB g2 -> host intact (2 queues, re-attached)" \
	tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 8 6013
check "no protocol error on the way" sh -c "! grep -E 'protocol violation|rx_id_mismatch\":[1-9]' '$W/net.log' '$W'/front-*.log"

# Destroy g1 while g2 streams through the bridge.
tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 32 6021 >"$W/bystander.out" 2>&1 &
bystander=$!
check "g1 is destroyed mid-traffic" pvsim --dir "$S" destroy g1
check "its interface goes" wait_until 10 link_gone - "$ifn"
forgot() { ! net_stats | grep -q "^vif-$dom1-$d1 "; }
check "the daemon forgot it" wait_until 10 forgot
wait "$bystander"; rc=$?
check "g2's 32 MiB arrived intact meanwhile" test "$rc" = 0
# Unplug g2's vif while it streams: the stream fails, the daemon carries on.
before=$(tx_of "vif-$dom2-$d2")
iperf_server - 6022
bg_ns unplugged "$(guest_ns g2)" iperf3 -c "$NET_PFX.1" -p 6022 -t 30 >/dev/null 2>&1
check "g2 streams" wait_until 10 moving "$((before + 200))" "vif-$dom2-$d2"
check "its vif is unplugged mid-traffic" vif_detach g2 "$d2"
check "its interface goes" wait_until 10 link_gone - "$(vif_name g2 "$d2")"
check "the daemon still answers" net_ready
check "SIGTERM stops it with status 0" net_stop
t_done
