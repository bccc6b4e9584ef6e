# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net's DPDK ports against Linux's xen-netfront, the
# queues served by a polling worker (one, unpinned; its back-off set for
# TCG: see POLL).
# (a) --port dpdk-switch, no uplink: three domUs whose vifs have no host
# interface (their hotplug script only says connected); A and B reach
# each other through the daemon's MAC-learning switch: pings both ways,
# iperf3 TCP each way, a verified transfer each way, the port counters in
# `stats --json` (sw_local, the three pinned MACs, no uplink traffic);
# `xl destroy` of A while TCP streams run both ways between A and B: A's
# vif and MAC go, the daemon stays up, and B and C reach each other
# (pings, verified transfers). (c) SIGTERM under a B -> C stream: exit 0,
# the backends stay Connected, a new daemon re-attaches, the stream
# arrives intact (sha256 of every byte); `xl network-detach` of B's vif.
# (b) --port dpdk with DPDK's TAP PMD making each vif's interface
# (`net_tap_{domid}_{devid},iface={vif}`): `xl network-attach` of a vif on
# xenbr0 to B, pvback-vif-bridge bridges the PMD's interface: dom0 <-> domU
# pings, iperf3 TCP each way, verified transfers each way, the device's
# counters; poweroff removes the PMD's interface.
# EAL: no hugepages, -m 128 (dom0 has XT_DOM0_MEM, 512M), 4095 mbufs; the
# overlay carries only the drivers used (tests/xen/run: bus_vdev,
# mempool_ring, net_tap).
EAL='-l 0 --no-huge -m 128 --no-shconf --no-pci --no-telemetry --single-file-segments'
# The polling worker under TCG: with the defaults (--poll-us 200,
# --poll-sleep-max-us 1000) an idle worker wakes 1000 times a second and
# took 32% of a dom0 vCPU doing nothing, domUs booted in 60 s instead of
# 17-30 and iperf3 between two domUs gave 3 Mbit/s (the scenario timed
# out). 50 us of spin and 10 ms of idle sleep: 8% idle, 42 Mbit/s
# (--poll-us 0 --poll-sleep-max-us 0: 2%, 24 Mbit/s). Each sleep of a PV
# dom0 under TCG costs ~0.3 ms of CPU.
# The switch without an uplink needs no idle wake-up at all (every frame
# comes with an event channel or an eventfd kick), the TAP PMD does (its
# frames from the kernel are found by polling only).
POLL='--poll-us 0 --poll-sleep-max-us 0'
POLL_TAP='--poll-us 50 --poll-sleep-max-us 10000'
xt_log "dom0: $(grep MemTotal /proc/meminfo), $(nproc) CPUs; EAL: $EAL; switch $POLL, tap $POLL_TAP"
# the switch's vifs have no interface: a hotplug script that only says connected
sw_vif() { echo "mac=$1,script=xt-hotplug"; }
macA=00:16:3e:00:28:0a macB=00:16:3e:00:28:0b macC=00:16:3e:00:28:0c
aA=10.0.8.21 aB=10.0.8.22 aC=10.0.8.23

# g2g FROM TO TOADDR PORT MIB: MIB random MiB from domU FROM to domU TO over
# one TCP connection: sha256 and length compared
g2g() {
	local want got
	want=$(xt_domu_run "$1" "sh /extra/net.sh mkdata g$4 $5" 120) || { echo "$want"; return 1; }
	xt_domu_run "$2" "sh /extra/net.sh listen $4 rx$4" 60 || return 1
	xt_domu_run "$1" "sh /extra/net.sh send $3 $4 g$4 && rm /tmp/g$4" 300 || {
		echo "$1's send failed"; xt_domu_run "$2" "sh /extra/net.sh rx-kill rx$4" 30; return 1; }
	got=$(xt_domu_run "$2" "sh /extra/net.sh received rx$4 60" 70) || { echo "$got"; return 1; }
	[ "$want" = "$got" ] || { echo "$1 sent $want, $2 received $got"; return 1; }
	echo "$got"
}
# g_iperf NAME SERVER SERVERADDR CLIENT PORT ARGS...: iperf3 between two domUs
g_iperf() {
	local name=$1 srv=$2 addr=$3 cli=$4 port=$5 out
	shift 5
	xt_domu_run "$srv" "sh /extra/net.sh iperf-server $port" 30 >/dev/null ||
		{ xt_fail "$name" "no iperf3 server in $srv"; return; }
	out=$(xt_domu_run "$cli" "sh /extra/net.sh iperf $addr $port $*" 120)
	if [ $? = 0 ]; then xt_pass "$name: $out Mbit/s"; else
		echo "$out" | sed 's/^/    | /'
		xt_fail "$name"
	fi
}
f() { xt_net_field "$@"; }
p() { xt_net_port "$@"; }
grew() { [ "$(f "$1" tx_bytes)" -gt "$2" ] && [ "$(f "$1" rx_bytes)" -gt "$3" ]; }
flows() { # DEV SEC: the vif's guest TX and RX both grow by 512 KiB within SEC
	xt_wait "$2" grew "$1" $(($(f "$1" tx_bytes) + 524288)) $(($(f "$1" rx_bytes) + 524288))
}
no_zombie() { ! xl list | grep -q '(null)'; }
port_is() { [ "$(p "$1" "$2")" = "$3" ]; }

xt_check "kernel xen-netback not loaded" sh -c '! grep -q "^xen_netback " /proc/modules'

# ------------------------------------------------ (a) the built-in switch
if xt_net_start --port dpdk-switch --dpdk-args "$EAL" --dpdk-mbufs 4095 $POLL; then
	xt_pass "pvback-net --port dpdk-switch starts (EAL up, control socket answers)"
	xt_check "EAL up with our arguments and 4095 mbufs, no uplink" sh -c \
		"grep -q 'dpdk: EAL arguments: $EAL' $XT_NET_LOG && grep -q 'dpdk: EAL up, .* 4095 mbufs' $XT_NET_LOG && grep -q 'dpdk-switch: no uplink' $XT_NET_LOG"
	# three domUs booting at once (one after the other took 3x 56 s); their
	# `xl create`s one at a time: the next starts once xl created this one
	# and deleted its ramdisk (three at once filled dom0's rootfs after 20-27)
	hp_done() {
		id=$(xt_domid "$1") && xt_xs_matches "$(xt_net_be "$id")/hotplug-status" connected &&
			[ ! -e "/tmp/xt/$1.cpio" ]
	}
	for g in A B C; do
		eval "xt_net_domu s$g -a \$a$g/24 -- \"\$(sw_vif \$mac$g)\" >/tmp/xt/up-s$g 2>&1 &"
		eval "p$g=\$!"
		xt_wait 90 hp_done s$g
	done
	for g in A B C; do
		eval "wait \$p$g"
		if [ $? = 0 ]; then xt_pass "domU $g's vif connects to the switch, eth0 up"; eval "ok$g=1"; else
			sed 's/^/    | /' /tmp/xt/up-s$g
			xt_fail "domU $g's vif connects to the switch, eth0 up"
		fi
	done
fi
if [ "${okA:-0}" = 1 ] && [ "${okB:-0}" = 1 ] && [ "${okC:-0}" = 1 ]; then
	idA=$(xt_domid sA) idB=$(xt_domid sB) idC=$(xt_domid sC)
	dA=vif-$idA-0 dB=vif-$idB-0 dC=vif-$idC-0
	xt_check "the netfronts are Connected (frontend state 4)" sh -c \
		". /xt/xt.sh; xt_xs_wait $(xt_net_fe "$idA")/state 4 60 && xt_xs_wait $(xt_net_fe "$idB")/state 4 60 && xt_xs_wait $(xt_net_fe "$idC")/state 4 60"
	xt_check "no host interface for switch vifs (no vif$idA.0, vif$idB.0)" \
		test ! -e "/sys/class/net/vif$idA.0" -a ! -e "/sys/class/net/vif$idB.0"
	xt_check "A's queue is served by a polling worker" sh -c \
		"pvback-net stats --json $dA | grep -q '\"worker\":\"'"
	xt_check "A pings B (10 of 10)" xt_domu_run sA "sh /extra/net.sh ping $aB 10" 60
	xt_check "B pings A (10 of 10)" xt_domu_run sB "sh /extra/net.sh ping $aA 10" 60
	g_iperf "iperf3 TCP A -> B through the switch, 3 s" sB $aB sA 5201 -t 3
	g_iperf "iperf3 TCP B -> A through the switch (-R), 3 s" sB $aB sA 5202 -t 3 -R
	xt_check "2 MiB A -> B over TCP, sha256 and length match" g2g sA sB $aB 5301 2
	xt_check "2 MiB B -> A over TCP, sha256 and length match" g2g sB sA $aA 5302 2
	pvback-net stats --json "$dA" | sed 's/.*"port":/port: /; s/^/    stats| /'
	# each guest-TX frame of A went to B (sw_local): switched, or flooded
	# to the ports there were (sw_flood; sw_local counts each copy)
	carried() { # DEV
		local tx=$(f "$1" tx_packets) sl=$(p "$1" sw_local) fl=$(p "$1" sw_flood)
		echo "$1: $sl of $tx guest-TX frames switched, $fl flooded"
		[ "$(p "$1" kind)" = dpdk-switch ] && [ "$tx" -gt 1000 ] &&
			[ $((sl + fl)) -ge "$tx" ] && [ "$sl" -le $((tx + fl)) ]
	}
	carried_both() { carried "$dA" && carried "$dB"; }
	xt_check "the switch carried every frame (A: $(p "$dA" sw_local) of $(f "$dA" tx_packets), B: $(p "$dB" sw_local) of $(f "$dB" tx_packets))" \
		carried_both
	xt_check "the MAC table holds A's, B's and C's (fdb_entries $(p "$dA" fdb_entries))" port_is "$dA" fdb_entries 3
	xt_check "no uplink traffic (sw_uplink/ipackets/opackets $(p "$dA" sw_uplink)/$(p "$dA" ipackets)/$(p "$dA" opackets))" \
		test "$(p "$dA" sw_uplink)/$(p "$dA" ipackets)/$(p "$dA" opackets)/$(p "$dB" sw_uplink)" = 0/0/0/0
	xt_check "no inbox drop, no frame the pool could not hold" test \
		"$(p "$dA" sw_inbox_full)/$(p "$dB" sw_inbox_full)/$(p "$dA" tx_nombuf)/$(p "$dB" tx_nombuf)" = 0/0/0/0
	xt_check "A's guest TX and RX each above 2 MiB ($(f "$dA" tx_bytes), $(f "$dA" rx_bytes) bytes)" \
		test "$(f "$dA" tx_bytes)" -gt 2097152 -a "$(f "$dA" rx_bytes)" -gt 2097152

	# A goes while TCP streams run both ways between A and B
	xt_domu_run sA 'sh /extra/net.sh mkdata s 1' 60 >/dev/null
	xt_domu_run sB 'sh /extra/net.sh mkdata s 1' 60 >/dev/null
	xt_check "TCP streams run A -> B and B -> A" sh -c ". /xt/xt.sh
		xt_domu_run sB 'sh /extra/net.sh listen 5401 ab hash' 60 && xt_domu_run sA 'sh /extra/net.sh stream-bg $aB 5401 ab s 0.5' 30 &&
		xt_domu_run sA 'sh /extra/net.sh listen 5402 ba hash' 60 && xt_domu_run sB 'sh /extra/net.sh stream-bg $aA 5402 ba s 0.5' 30"
	xt_check "A's traffic flows both ways" flows "$dA" 60
	xt_check "xl destroy A mid-traffic" timeout 90 xl destroy sA
	xt_check "A's backend dir is removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$idA" 30
	xt_check "A is gone for good: no zombie domain" xt_wait_event @releaseDomain 30 no_zombie
	xt_check "pvback-net is still running" xt_net_alive
	xt_check "pvback-net no longer lists $dA" sh -c "! pvback-net stats | grep -q '^$dA '"
	xt_check "A's MAC left the table (fdb_entries 2)" xt_wait 10 port_is "$dB" fdb_entries 2
	xt_domu_run sB 'sh /extra/net.sh stream-kill ba; sh /extra/net.sh rx-kill ab' 30 >/dev/null

	xt_check "B pings C (5 of 5)" xt_domu_run sB "sh /extra/net.sh ping $aC 5" 60
	xt_check "C pings B (5 of 5)" xt_domu_run sC "sh /extra/net.sh ping $aB 5" 60
	xt_check "2 MiB B -> C over TCP, sha256 and length match" g2g sB sC $aC 5311 2
	xt_check "2 MiB C -> B over TCP, sha256 and length match" g2g sC sB $aB 5312 2
	xt_check "the MAC table holds B's and C's" port_is "$dC" fdb_entries 2
	xt_check "B: no drop, error or violation" test \
		"$(f "$dB" tx_drops)/$(f "$dB" tx_errors)/$(f "$dB" rx_errors)/$(f "$dB" tx_slot_violations)" = 0/0/0/0

	# (c) SIGTERM and a new daemon under a B -> C stream
	xt_check "a TCP stream runs B -> C" sh -c ". /xt/xt.sh
		xt_domu_run sC 'sh /extra/net.sh listen 5501 bc hash' 60 && xt_domu_run sB 'sh /extra/net.sh stream-bg $aC 5501 bc s 0.2' 30"
	xt_check "it flows (C's guest RX grows)" xt_wait 60 grew "$dC" -1 $(($(f "$dC" rx_bytes) + 1048576))
	xt_net_stop_check "SIGTERM under traffic: pvback-net exits 0"
	xt_check "the backends stay Connected" test \
		"$(xenstore-read "$(xt_net_be "$idB")/state")/$(xenstore-read "$(xt_net_be "$idC")/state")" = 4/4
	if xt_net_start --port dpdk-switch --dpdk-args "$EAL" --dpdk-mbufs 4095 $POLL; then
		xt_pass "a new pvback-net --port dpdk-switch starts"
		xt_check "it re-attaches to both live connections" xt_wait 30 sh -c \
			"grep -q '$dB: re-attaching to the live connection' $XT_NET_LOG && grep -q '$dC: re-attaching to the live connection' $XT_NET_LOG"
		xt_check "the stream flows again (C's guest RX grows)" \
			xt_wait 60 grew "$dC" -1 $(($(f "$dC" rx_bytes) + 1048576))
	else
		xt_fail "a new pvback-net --port dpdk-switch starts"
	fi
	n=$(xt_domu_run sB 'sh /extra/net.sh stream-stop bc 120' 130)
	rc=$?
	n=$(echo "$n" | tail -n 1)
	got=$(xt_domu_run sC 'sh /extra/net.sh received bc 120' 130)
	want=$(xt_domu_run sB "sh /extra/net.sh repeat-sum s ${n:-0}" 120)
	xt_check "the B -> C stream survived the restart, intact ($n copies, nc rc $rc)" \
		test "$rc" = 0 -a -n "$got" -a "$got" = "$want"
	xt_check "C: netfront logged no complaint" xt_net_fe_clean sC
	xt_check "C powers off" xt_domu_poweroff sC
	xt_check "B: netfront logged no complaint" xt_net_fe_clean sB
	# B stays for (b): its switch vif goes by hot-unplug
	timeout 120 xl network-detach sB 0 >/tmp/xt/detach.out 2>&1
	xt_check "xl network-detach of B's switch vif" test $? = 0
	xt_check "B's and C's backend dirs removed" sh -c ". /xt/xt.sh
		xt_xs_wait_gone $(xt_net_be "$idB") 30 && xt_xs_wait_gone /local/domain/0/backend/vif/${idC:-none} 30"
	xt_check "the switch forgot B's MAC too (no vif left)" sh -c "! pvback-net stats | grep -q '^vif-'"
	xt_check "domU B: eth0 is gone" xt_domu_run sB 'sh /extra/net.sh wait-gone eth0 30' 40
fi
xt_check "pvback-net (switch) is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net --port dpdk-switch (exit status 0)"
xt_check "no error logged by pvback-net (switch)" sh -c "! grep ' ERR ' $XT_NET_LOG"
mv "$XT_NET_LOG" /tmp/xt/pvback-net-switch.daemon.log

# --------------------------------------- (b) a DPDK TAP per vif, bridged
# B (one domU boot less) gets a vif on xenbr0 by hot-plug: the hotplug
# script is pvback-vif-bridge, as for a TAP port
[ "${okB:-0}" = 1 ] || return 0
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24 in dom0" xt_net_bridge
if xt_net_start --port dpdk --port-args 'net_tap_{domid}_{devid},iface={vif}' --dpdk-args "$EAL" \
	--dpdk-mbufs 4095 $POLL_TAP; then
	xt_pass "pvback-net --port dpdk (net_tap) starts"
else
	xt_fail "pvback-net --port dpdk (net_tap) starts"
	return 0
fi
macT=00:16:3e:00:28:1b aT=10.0.0.22
xt_check "xl network-attach of a vif on $XT_NET_BR to B" timeout 120 \
	xl network-attach sB bridge=$XT_NET_BR script=pvback-vif-bridge mac=$macT
d=$(xenstore-list "/local/domain/0/backend/vif/$idB" 2>/dev/null | head -n 1)
if xt_check "its backend connects (devid ${d:-?}, state 4)" xt_xs_wait "$(xt_net_be "$idB" "$d")/state" 4 60; then
	dev=vif-$idB-$d
	xt_check "its device is DPDK's TAP PMD" grep -q "vif$idB.$d: dpdk device .*(net_tap)" "$XT_NET_LOG"
	xt_check "pvback-vif-bridge put the PMD's vif$idB.$d into $XT_NET_BR, up" sh -c \
		"test -e /sys/class/net/$XT_NET_BR/brif/vif$idB.$d && ip link show dev vif$idB.$d | grep -q '[<,]UP[,>]'"
	# netfront names the new interface: the one with the vif's mac
	eth=$(xt_domu_run sB "grep -l $macT /sys/class/net/*/address" 30 | sed -n 's|/sys/class/net/\(.*\)/address|\1|p' | head -n 1)
	xt_check "domU B: ${eth:-?} (mac $macT) up with $aT/24" xt_domu_run sB "sh /extra/net.sh up ${eth:-none} $aT/24" 60
	xt_check "domU pings dom0 (10 of 10)" xt_domu_run sB "sh /extra/net.sh ping $XT_NET_DOM0 10" 60
	out=$(ping -c 10 -i 0.2 -W 5 $aT 2>&1)
	echo "$out" | tail -n 2 | sed 's/^/    | /'
	xt_check "dom0 pings the domU (10 of 10)" sh -c "echo '$out' | grep -q ' 10 packets received'"
	iperf() { # NAME PORT ARGS...: an iperf3 client in the domU against dom0
		local name=$1 port=$2 out
		shift 2
		xt_iperf_server "$port" || { xt_fail "$name" "no iperf3 server in dom0"; return; }
		out=$(xt_domu_run sB "sh /extra/net.sh iperf $XT_NET_DOM0 $port $*" 120)
		if [ $? = 0 ]; then xt_pass "$name: $out Mbit/s"; else
			echo "$out" | sed 's/^/    | /'
			xt_fail "$name"
		fi
	}
	iperf "iperf3 TCP domU -> dom0 (guest TX), 3 s" 5211 -t 3
	iperf "iperf3 TCP dom0 -> domU (guest RX, -R), 3 s" 5212 -t 3 -R
	xt_check "2 MiB domU -> dom0 over TCP, sha256 and length match" xt_net_to_dom0 sB "$XT_NET_DOM0" 5321 2
	xt_check "2 MiB dom0 -> domU over TCP, sha256 and length match" xt_net_from_dom0 sB $aT 5322 2
	pvback-net stats --json "$dev" | sed 's/.*"port":/port: /; s/^/    stats| /'
	xt_check "the device counted both ways (ipackets $(p "$dev" ipackets), opackets $(p "$dev" opackets))" \
		test "$(p "$dev" kind)" = dpdk -a "$(p "$dev" ipackets)" -gt 1000 -a "$(p "$dev" opackets)" -gt 1000
	xt_check "guest GSO segmented in software for net_tap (tx_gso_sw $(p "$dev" tx_gso_sw)), frames sent without a copy (tx_zero_copy $(p "$dev" tx_zero_copy))" \
		test "$(p "$dev" tx_gso_sw)" -gt 0 -a "$(p "$dev" tx_zero_copy)" -gt 0
	xt_check "no drop, error or violation either way" test \
		"$(f "$dev" tx_drops)/$(f "$dev" tx_errors)/$(f "$dev" tx_slot_violations)/$(f "$dev" rx_errors)/$(p "$dev" tx_nombuf)/$(p "$dev" tx_bad_offload)" = 0/0/0/0/0/0
	xt_check "netfront logged no complaint (domU dmesg)" xt_net_fe_clean sB
	xt_check "domU powers off" xt_domu_poweroff sB
	xt_check "backend dir removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$idB" 30
	xt_check "the PMD's vif$idB.$d is gone with the vif" xt_wait 30 test ! -e "/sys/class/net/vif$idB.$d"
fi
xt_check "pvback-net (dpdk) is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net --port dpdk (exit status 0)"
xt_check "no error logged by pvback-net (dpdk)" sh -c "! grep ' ERR ' $XT_NET_LOG"
