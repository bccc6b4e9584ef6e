#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: guest-TX zero copy (pvback-net --tx-map-min 1: every packet's
# data beyond its first 128 bytes is grant-mapped and written to the TAP
# from the guest's pages).  Verified TCP transfers and iperf3 through the
# TAP and the bridge; the stats count mapped packets and no page stays
# mapped at rest.  The zero-copy accounting: every TX request is answered
# exactly once (the rings' indexes) and never while its grant is still
# mapped: netfront checks each response as Linux's does ("grant still in
# use by backend domain" breaks the device), in pool mode and with
# --regrant.  A frag whose grant was ended before the push, and frames
# whose pages the guest revokes while the backend works, get error
# responses and cost nothing else.  SIGTERM mid-stream with maps in flight:
# the daemon answers and unmaps everything before it exits (status 0), and
# the stream survives the restart.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up --tx-map-min 1
guest_create g1 128M
guest_create g2 128M
check "g1's vif connects (pool: pages stay granted, each response checked)" \
	vif_connect g1 eth0 "$NET_PFX.11/24"
d1=$vif_devid
check "g2's vif connects (--regrant: access ended on each response, as Linux)" \
	vif_connect g2 eth0 "$NET_PFX.12/24" --regrant
d2=$vif_devid
dom1=$(domid_of g1)
check "g1 pings the host" ping_from "$(guest_ns g1)" "$NET_PFX.1" 3
check "16 MiB from g1 to the host arrive intact (sha256)" \
	tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 16 5001
check "16 MiB from g2 to g1 arrive intact" \
	tcp_verify "$(guest_ns g2)" "$(guest_ns g1)" "$NET_PFX.11" 16 5002
check "16 MiB from the host to g2 arrive intact" tcp_verify - "$(guest_ns g2)" "$NET_PFX.12" 16 5003
iperf_server - 5004
check "iperf3 TCP g1 -> host" iperf_client "$(guest_ns g1)" "$NET_PFX.1" 5004 -t 2
iperf_server - 5005
check "iperf3 TCP g2 -> host (2 streams)" iperf_client "$(guest_ns g2)" "$NET_PFX.1" 5005 -t 2 -P 2

check "every TX request was answered once, no page is mapped now, mapped packets counted" \
	wait_until 5 tx_accounting 1000
check "neither netfront saw a response while its grant was mapped" \
	sh -c "! grep -i 'broken\|still in use' '$W'/front-*.log"

raw() { raw_tx g1 "$d3" "$@"; } # CASE...: as g1 on a vif of its own
responses() { raw_responses "$1"; }
d3=$(vif_attach g1 bridge="$NET_BR")
check "g1's second vif is waiting" wait_until 10 state_is g1 "$d3" 2
map_errors() {
	net_stats --json | python3 -c 'import json, sys
print(sum(d["total"]["tx_map_errors"] for d in json.load(sys.stdin)["devices"] if d["name"] == sys.argv[1]))' \
		"vif-$dom1-$d3"
}
raw revoked-frag >/dev/null
check "a frag whose grant was ended: both slots answered ERROR, the vif stays" \
	sh -c "[ $(responses ERROR) = 2 ] && [ $(responses OKAY) = 0 ] && grep -q '^backend connected' '$W/raw.out'"
check "the map failure is counted" test "$(map_errors)" -ge 1
check "and logged with the vif" grep -q "vif-$dom1-$d3/q0.*grant map failed" "$W/net.log"
raced() {
	raw revoke-race 48 >/dev/null
	local ok err
	ok=$(responses OKAY) err=$(responses ERROR)
	echo "# revoke-race: $ok OKAY, $err ERROR, $(grep 'access ended at once' "$W/raw.out")"
	[ $((ok + err)) = 48 ] && grep -q '^still mapped after the responses: 0$' "$W/raw.out" &&
		grep -q '^backend connected' "$W/raw.out" && ! grep -q broken "$W/raw.out"
}
check "48 frames whose pages the guest revokes mid-flight: 48 answers, none left mapped" raced
check "the daemon is alive" net_ready
check "g1 still pings the host" ping_from "$(guest_ns g1)" "$NET_PFX.1" 2

tx_of() { # its guest-TX packets so far
	net_stats --json | python3 -c 'import json,sys; print(sum(q["tx_packets"] for x in json.load(sys.stdin)["devices"] if x["name"] == sys.argv[1] for q in x["queues"]))' "vif-$dom1-$d1"
}
moving() { local n; n=$(tx_of) || return 1; [ "$n" -gt "$1" ]; }
restart_under_traffic() { # SIGTERM during an iperf3 stream g1 -> host
	local rc before
	before=$(tx_of)
	iperf_server - 6001
	(iperf_client "$(guest_ns g1)" "$NET_PFX.1" 6001 -t 6 >"$W/iperf-term.out") &
	local client=$!
	wait_until 10 moving $((before + 500)) || return 1
	kill -TERM "$netpid"; wait "$netpid"; rc=$?
	netpid=
	echo "# the daemon ended with status $rc"
	[ "$rc" = 0 ] || return 1
	net_up --tx-map-min 1
	wait "$client" || { cat "$W/iperf-term.out"; return 1; }
}
check "an iperf3 stream survives a SIGTERM with maps in flight" restart_under_traffic
check "the stopped daemon kept no packet past the stop" \
	sh -c "! grep -E 'never came back|still keeps packets' '$W/net.log'"
check "after the restart, 8 MiB g1 -> host intact" tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 8 6011
check "every request answered again, nothing mapped" wait_until 5 tx_accounting 50
check "no netfront broke on the way" sh -c "! grep -i 'broken\|still in use' '$W'/front-*.log"
check "g1's netfront closes in order" front_stop g1 eth0
check "g2's netfront closes in order" front_stop g2 eth0
check "SIGTERM stops the daemon with status 0" net_stop
check "no error was logged" sh -c "! grep -E ' ERR ' '$W/net.log'"
t_done
