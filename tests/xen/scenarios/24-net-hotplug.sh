# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Hot-plug and unplug of vifs under traffic. While a TCP stream
# runs from the domU's eth0 (xenbr0) to dom0: `xl network-attach` of a second
# vif on xenbr1, which pvback-net connects, pvback-vif-bridge bridges and
# netfront brings up as eth1 (ping and a verified transfer each way over
# it); then a stream on eth1 too and `xl network-detach` of eth1 in its
# middle: the detach completes, the backend directory, pvback-net's device
# and the TAP go, the domU loses eth1, and the eth0 stream goes on and
# arrives intact (sha256 of every byte). A vif attached again afterwards
# works. pvback-net serves on throughout.
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24" xt_net_bridge
xt_check "bridge xenbr1 with 10.0.1.1/24" xt_net_bridge xenbr1 10.0.1.1/24
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
# xl network-attach takes the vif's keys as separate arguments
vif1="bridge=xenbr1 script=pvback-vif-bridge"
# grows DEV BYTES SEC: DEV's guest TX grows by BYTES within SEC seconds
grows() { # DEV BYTES SEC
	local b0
	b0=$(xt_net_field "$1" tx_bytes)
	xt_wait "$3" tx_past "$1" $((b0 + $2))
}
tx_past() { [ "$(xt_net_field "$1" tx_bytes)" -gt "$2" ]; }
count_past() { [ "$(xt_domu_run g1 "sh /extra/net.sh stream-count $1" 30)" -gt "$2" ]; }
if xt_check "domU connects, eth0 10.0.0.21/24 up" xt_net_domu g1 -a 10.0.0.21/24 -- "$(xt_net_vif)"; then
	id=$(xt_domid g1)
	f() { xt_net_field "$@"; }
	# the streams: 1 MiB of random data again and again (eth0: 0.5 s apart)
	xt_check "1 MiB dom0 -> domU, kept on both sides for the streams" \
		xt_net_from_dom0 g1 10.0.0.21 5300 1 s
	xt_check "a TCP stream runs from eth0 to dom0" xt_net_stream_up g1 "$XT_NET_DOM0" 5401 s0 s 0.5
	xt_check "it flows (guest TX grows by 2 MiB)" grows "vif-$id-0" 2097152 60

	xt_check "xl network-attach of a vif on xenbr1 during the stream" timeout 120 xl network-attach g1 $vif1
	d=$(xenstore-list "/local/domain/0/backend/vif/$id" | grep -vx 0 | head -n 1)
	xt_log "the new vif is devid ${d:-?}"
	xt_check "its backend connects (state 4)" xt_xs_wait "$(xt_net_be "$id" "$d")/state" 4 60
	xt_check "vif$id.$d is a port of xenbr1" test -e "/sys/class/net/xenbr1/brif/vif$id.$d"
	xt_check "domU: eth1 appears, 10.0.1.21/24 up" xt_domu_run g1 'sh /extra/net.sh up eth1 10.0.1.21/24' 60
	xt_check "domU pings dom0 over eth1 (5 of 5)" xt_domu_run g1 'sh /extra/net.sh ping 10.0.1.1 5' 60
	xt_check "8 MiB domU -> dom0 over eth1, sha256 and length match" xt_net_to_dom0 g1 10.0.1.1 5311 8
	xt_check "8 MiB dom0 -> domU over eth1, sha256 and length match" xt_net_from_dom0 g1 10.0.1.21 5312 8
	xt_check "vif-$id-$d carried that traffic" test "$(f "vif-$id-$d" tx_bytes)" -gt 8388608 -a "$(f "vif-$id-$d" rx_bytes)" -gt 8388608

	# a second stream, on eth1, cut by the detach
	xt_check "a TCP stream runs from eth1 to dom0 (full speed)" xt_net_stream_up g1 10.0.1.1 5402 s1 s 0
	xt_check "it flows (guest TX of eth1 grows by 1 MiB)" grows "vif-$id-$d" 1048576 60
	n0=$(xt_domu_run g1 'sh /extra/net.sh stream-count s0' 30)
	t0=$(date +%s)
	timeout 120 xl network-detach g1 "$d" >/tmp/xt/detach.out 2>&1
	rc=$?
	t1=$(date +%s)
	if [ $rc = 0 ]; then xt_pass "xl network-detach of eth1 during its stream returns ($((t1 - t0)) s)"; else
		sed 's/^/    | /' /tmp/xt/detach.out
		xt_fail "xl network-detach of eth1 during its stream returns" "rc=$rc after $((t1 - t0)) s"
	fi
	xt_check "its backend dir is removed" xt_xs_wait_gone "$(xt_net_be "$id" "$d")" 30
	xt_check "vif$id.$d is gone, and out of xenbr1" xt_wait 30 sh -c \
		"test ! -e /sys/class/net/vif$id.$d -a ! -e /sys/class/net/xenbr1/brif/vif$id.$d"
	xt_check "pvback-net no longer lists vif-$id-$d" sh -c "! pvback-net stats | grep -q '^vif-$id-$d '"
	xt_check "domU: eth1 is gone" xt_domu_run g1 'sh /extra/net.sh wait-gone eth1 30' 40
	xt_domu_run g1 'sh /extra/net.sh stream-kill s1' 30 >/dev/null
	xt_net_sh rx-kill s1
	xt_check "pvback-net is still running" xt_net_alive
	xt_check "the eth0 stream went on past the detach" xt_wait 60 count_past s0 $((n0 + 3))
	xt_check "the eth0 stream ended cleanly and arrived intact (sha256 of every byte)" \
		xt_net_stream_check g1 up s0 s 120

	xt_check "xl network-attach again after the detach" timeout 120 xl network-attach g1 $vif1
	d2=$(xenstore-list "/local/domain/0/backend/vif/$id" | grep -vx 0 | head -n 1)
	xt_check "its backend connects (devid ${d2:-?})" xt_xs_wait "$(xt_net_be "$id" "$d2")/state" 4 60
	xt_check "domU: the new eth1 comes up" xt_domu_run g1 'sh /extra/net.sh up eth1 10.0.1.21/24' 60
	xt_check "8 MiB domU -> dom0 over it, sha256 and length match" xt_net_to_dom0 g1 10.0.1.1 5313 8
	xt_check "netfront logged no complaint (domU dmesg)" xt_net_fe_clean g1
	xt_check "domU powers off" xt_domu_poweroff g1
	xt_check "every backend dir removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$id" 30
fi
xt_check "pvback-net is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
ip link del xenbr1
