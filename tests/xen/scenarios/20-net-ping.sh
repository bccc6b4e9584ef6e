# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net (kernel xen-netback not loaded) serves a domU's
# vif from a plain xl config (`bridge=xenbr0`, script=pvback-vif-bridge:
# Debian's vif-bridge needs bash and udev) to Linux's xen-netfront. The
# handshake is Linux netback's: the same domU config is first served by
# the kernel's own xen-netback (modprobe'd for this, rmmod'ed after), and
# the backend keys (names and values) and the frontend's answer (names,
# feature values) must be the same with pvback-net (started with
# --max-queues = dom0's CPUs, Linux's default for multi-queue-max-queues). Then ping both ways
# over xenbr0, the daemon's counters, and poweroff removes the vif and its
# interface.
mac=00:16:3e:00:20:01
spec="$(xt_net_vif "mac=$mac")"
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24 in dom0" xt_net_bridge

# snap DOMID OUT: the backend's keys (domid made neutral) and the frontend's
# (values of the rings and event channels made neutral)
snap() {
	local id=$1 be fe
	be=$(xt_net_be "$id") fe=$(xt_net_fe "$id")
	{
		xenstore-ls -f "$be" | sed -e "s|^$be/|be |" -e "s|/local/domain/$id/|/local/domain/D/|" \
			-e 's|^be frontend-id = .*|be frontend-id = D|'
		xenstore-ls -f "$fe" | sed -e "s|^$fe/|fe |" -e "s|/local/domain/0/backend/vif/$id/|/local/domain/0/backend/vif/D/|" \
			-e 's/^\(fe [a-z/0-9-]*\(ring-ref\|event-channel[a-z-]*\)\) = .*/\1 = N/'
	} | sort >"$2"
}

# (a) the reference: Linux's xen-netback
if xt_check "modprobe xen-netback (the reference)" modprobe xen-netback; then
	if xt_check "[linux] domU's vif connects (backend and frontend state 4)" \
		xt_net_domu ref -- "$spec" &&
		xt_xs_wait "$(xt_net_fe "$(xt_domid ref)")/state" 4 60; then
		id=$(xt_domid ref)
		snap "$id" /tmp/xt/keys-linux.txt
		xt_record net-keys-linux-netback "$(xt_net_be "$id")" "$(xt_net_fe "$id")"
		xt_check "[linux] hotplug put vif$id.0 into $XT_NET_BR" \
			test -e "/sys/class/net/$XT_NET_BR/brif/vif$id.0"
	fi
	xt_domu_destroy ref
	xt_check "[linux] backend dir removed after destroy" xt_xs_wait_gone "/local/domain/0/backend/vif/$id" 30
	xt_check "rmmod xen-netback" rmmod xen_netback
fi

# (b) pvback-net
xt_check "kernel xen-netback not loaded" sh -c '! grep -q "^xen_netback " /proc/modules'
# Linux netback offers as many queues as dom0 has CPUs (xenvif_max_queues)
xt_net_start --max-queues "$(nproc)" || { xt_fail "pvback-net starts"; return 0; }
xt_pass "pvback-net --hv xen starts (control socket answers)"
if xt_check "domU's vif connects (backend state 4)" xt_net_domu g1 -- "$spec"; then
	id=$(xt_domid g1)
	be=$(xt_net_be "$id")
	xt_check "netfront is Connected (frontend state 4)" xt_xs_wait "$(xt_net_fe "$id")/state" 4 60
	snap "$id" /tmp/xt/keys-pvback.txt
	xt_record net-keys-pvback "$be" "$(xt_net_fe "$id")"
	if [ -s /tmp/xt/keys-linux.txt ]; then
		xt_check "backend keys and values as Linux netback's, netfront's answer the same" \
			diff -u /tmp/xt/keys-linux.txt /tmp/xt/keys-pvback.txt
	else
		xt_fail "backend keys as Linux netback's" "no reference listing"
	fi
	xt_check "hotplug-status connected (pvback-vif-bridge ran)" \
		test "$(xenstore-read "$be/hotplug-status")" = connected
	xt_check "TAP vif$id.0 is a port of $XT_NET_BR, up" sh -c \
		"test -e /sys/class/net/$XT_NET_BR/brif/vif$id.0 && ip link show dev vif$id.0 | grep -q '[<,]UP[,>]'"
	xt_check "vif$id.0 has Linux netback's address fe:ff:ff:ff:ff:ff" \
		test "$(cat /sys/class/net/vif$id.0/address)" = fe:ff:ff:ff:ff:ff
	xt_check "pvback-net logged the connection (1 queue, sg, gso, csum)" \
		grep -q "vif-$id-0: connected: 1 queue(s), split event channel(s), sg, gso-tcpv4, gso-tcpv6, csum" "$XT_NET_LOG"
	xt_check "domU: eth0 is netfront's with the vif's mac" xt_domu_run g1 \
		"test \"\$(cat /sys/class/net/eth0/address)\" = $mac && readlink /sys/class/net/eth0/device/driver | grep -q vif" 30
	xt_check "domU: eth0 10.0.0.21/24 up, carrier" xt_domu_run g1 'sh /extra/net.sh up eth0 10.0.0.21/24' 60
	xt_check "domU pings dom0 (10 of 10)" xt_domu_run g1 "sh /extra/net.sh ping $XT_NET_DOM0 10" 60
	out=$(ping -c 10 -i 0.2 -W 5 10.0.0.21 2>&1)
	echo "$out" | tail -n 2 | sed 's/^/    | /'
	xt_check "dom0 pings the domU (10 of 10)" sh -c "echo '$out' | grep -q ' 10 packets received'"
	xt_check "domU pings dom0 with 1400-byte payloads (10 of 10)" \
		xt_domu_run g1 "sh /extra/net.sh ping $XT_NET_DOM0 10 1400" 60
	tx=$(xt_net_field "vif-$id-0" tx_packets) rx=$(xt_net_field "vif-$id-0" rx_packets)
	xt_check "pvback-net counted guest TX ($tx) and RX ($rx) packets" test "${tx:-0}" -ge 30 -a "${rx:-0}" -ge 30
	xt_check "no slot violation, no TX error" test "$(xt_net_field "vif-$id-0" tx_slot_violations)/$(xt_net_field "vif-$id-0" tx_errors)" = 0/0
	xt_check "domU powers off" xt_domu_poweroff g1
	xt_check "backend dir removed" xt_xs_wait_gone "/local/domain/0/backend/vif/$id" 30
	xt_check "vif$id.0 is gone" xt_wait 30 test ! -e "/sys/class/net/vif$id.0"
	xt_check "pvback-net no longer lists vif-$id-0" sh -c "! pvback-net stats | grep -q '^vif-$id-0 '"
fi
xt_check "pvback-net is still running" xt_net_alive
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "no error logged by pvback-net" sh -c "! grep ' ERR ' $XT_NET_LOG"
