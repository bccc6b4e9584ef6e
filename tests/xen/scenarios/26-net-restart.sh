# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net restarted under traffic. With TCP streams running
# both ways between a domU and dom0: SIGTERM (each queue answers what was
# pushed, exit 0; the backend stays Connected, the TAP stays in its bridge),
# a new daemon re-attaches to the live rings; then SIGKILL (nothing
# answered; the next daemon replays the TX journal) and again a new
# daemon. The streams see a pause, no reset: both arrive intact (sha256 of
# every byte) with the senders' nc ending 0, no TCP reset counted on either
# side, and neither xenbus state ever left Connected (watched throughout).
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24" xt_net_bridge
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
# state_log PATH FILE: every value PATH takes from now on, one a line
state_log() {
	(xenstore-watch "$1" | while read -r _; do xenstore-read "$1"; done >"$2") 2>/dev/null &
	xt_bg $!
}
flows() { # DEV SEC: guest TX and RX both grow by 512 KiB within SEC
	local t=$(xt_net_field "$1" tx_bytes) r=$(xt_net_field "$1" rx_bytes)
	xt_wait "$2" grew "$1" $((${t:-0} + 524288)) $((${r:-0} + 524288))
}
grew() { [ "$(xt_net_field "$1" tx_bytes)" -gt "$2" ] && [ "$(xt_net_field "$1" rx_bytes)" -gt "$3" ]; }
# resets: connections dom0 and the domU reset (Tcp:EstabResets). Not
# OutRsts: a FIN retransmitted after its socket closed (TCG delays ACKs past
# the RTO) draws an RST from no connection of ours now and then.
resets() {
	echo "dom0 $(xt_net_sh counter Tcp:EstabResets) domU $(xt_domu_run g1 'sh /extra/net.sh counter Tcp:EstabResets' 30)"
}
still_bridged() { test -e "/sys/class/net/$XT_NET_BR/brif/vif$id.0" && ip link show dev "vif$id.0" | grep -q '[<,]UP[,>]'; }
if xt_check "domU connects, eth0 10.0.0.21/24 up" xt_net_domu g1 -a 10.0.0.21/24 -- "$(xt_net_vif)"; then
	id=$(xt_domid g1)
	dev=vif-$id-0
	be=$(xt_net_be "$id") fe=$(xt_net_fe "$id")
	state_log "$be/state" /tmp/xt/be-states
	state_log "$fe/state" /tmp/xt/fe-states
	xt_check "1 MiB dom0 -> domU, kept for the streams" xt_net_from_dom0 g1 10.0.0.21 5300 1 s
	rs0=$(resets)
	xt_check "TCP streams run domU -> dom0 and dom0 -> domU" sh -c \
		". /xt/xt.sh; xt_net_stream_up g1 $XT_NET_DOM0 5401 su s 0.2 && xt_net_stream_down g1 10.0.0.21 5402 sd s 0.2"
	xt_check "traffic flows both ways" flows "$dev" 60

	xt_net_stop_check "SIGTERM under traffic: pvback-net exits 0"
	xt_check "SIGTERM: the backend stays Connected, vif$id.0 stays up in $XT_NET_BR" sh -c \
		"test \$(xenstore-read $be/state) = 4 && test \$(xenstore-read $fe/state) = 4" && still_bridged
	xt_check "SIGTERM answered everything: no TX journal left" test ! -e "/run/pvback-net/state/$dev-q0-tx.journal"
	if xt_net_start; then xt_pass "a new pvback-net starts"; else xt_fail "a new pvback-net starts"; fi
	xt_check "it re-attaches to the live connection" xt_wait 30 grep -q "$dev: re-attaching to the live connection" "$XT_NET_LOG"
	xt_check "its queue re-attached the rings" xt_wait 30 grep -q "$dev/q0: re-attached rings" "$XT_NET_LOG"
	xt_check "traffic flows both ways again" flows "$dev" 120

	xt_check "SIGKILL under traffic" xt_net_kill
	xt_check "SIGKILL: the backend stays Connected, vif$id.0 stays up in $XT_NET_BR" sh -c \
		"test \$(xenstore-read $be/state) = 4 && test \$(xenstore-read $fe/state) = 4" && still_bridged
	xt_check "the killed daemon left its TX journal" sh -c "ls /run/pvback-net/state/$dev-q0-tx.journal"
	if xt_net_start; then xt_pass "a new pvback-net starts after the kill"; else xt_fail "a new pvback-net starts after the kill"; fi
	xt_check "it takes the killed daemon's TX journal over" xt_wait 30 grep -q "$dev/q0: journal: re-issuing [0-9]* tx request" "$XT_NET_LOG"
	grep "$dev/q0: journal" "$XT_NET_LOG" | sed 's/^/    log| /'
	xt_check "traffic flows both ways again after the kill" flows "$dev" 120

	xt_check "the stream domU -> dom0 survived both restarts, intact" xt_net_stream_check g1 up su s 120
	xt_check "the stream dom0 -> domU survived both restarts, intact" xt_net_stream_check g1 down sd s 120
	rs1=$(resets)
	xt_check "no TCP connection reset on either side (EstabResets $rs0 -> $rs1)" test "$rs0" = "$rs1"
	xt_check "the backend state never left Connected ($(tr '\n' ' ' </tmp/xt/be-states))" \
		sh -c "! grep -vx 4 /tmp/xt/be-states"
	xt_check "nor did netfront's ($(tr '\n' ' ' </tmp/xt/fe-states))" sh -c "! grep -vx 4 /tmp/xt/fe-states"
	xt_check "a verified transfer each way afterwards (8 MiB)" sh -c \
		". /xt/xt.sh; xt_net_to_dom0 g1 $XT_NET_DOM0 5311 8 && xt_net_from_dom0 g1 10.0.0.21 5312 8"
	xt_check "netfront logged no complaint (domU dmesg)" xt_net_fe_clean g1
	xt_check "domU powers off" xt_domu_poweroff g1
	xt_check "backend dir removed, vif$id.0 gone" sh -c \
		". /xt/xt.sh; xt_xs_wait_gone $be 30 && xt_wait 30 test ! -e /sys/class/net/vif$id.0"
fi
xt_check "pvback-net is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
