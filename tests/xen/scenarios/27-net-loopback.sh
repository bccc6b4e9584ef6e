# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Loopback on real grants: our userspace netfront
# (netfront-tool, gntalloc grants and unbound event channels, PVBACK_HV=xen)
# in dom0 against pvback-net in dom0, through vifs `xl network-attach 0`
# writes as for any domain. netfront-tool's TAP lives in a network namespace
# of its own (unshare -n), so that its traffic really crosses the vif and
# xenbr0: ping both ways and verified TCP transfers; then gen -> sink
# between two vifs (UDP with a pattern, sequence and checksums verified),
# and hostile TX requests (netfront-tool raw) as tests/sim/net-hostile.sh
# sends them: dropped with error responses, or the offender's vif goes,
# while the other vif and the daemon go on.
export PVBACK_HV=xen
# gntalloc shares at most `limit` pages (default 1024) across dom0: a queue's
# 256 rx buffers, its tx buffers and rings, twice, need more
p=/sys/module/xen_gntalloc/parameters/limit
[ -w $p ] && [ "$(cat $p)" -lt 65536 ] && echo 65536 >$p
xt_check "bridge $XT_NET_BR with $XT_NET_DOM0/24" xt_net_bridge
xt_net_start || { xt_fail "pvback-net starts"; return 0; }
nft() { timeout 60 netfront-tool "$@"; }
vif0=/local/domain/0/backend/vif/0
attach() { # the next vif of dom0 (frontend dom0), its devid printed
	local before after d
	before=$(xenstore-list $vif0 2>/dev/null | tr '\n' ' ')
	timeout 60 xl network-attach 0 bridge=$XT_NET_BR script=pvback-vif-bridge >/dev/null || return 1
	after=$(xenstore-list $vif0 | tr '\n' ' ')
	for d in $after; do case " $before " in *" $d "*) ;; *) echo "$d"; return 0 ;; esac; done
	return 1
}
# ns_run PID CMD...: CMD in the network namespace of PID
ns_run() { local p=$1; shift; nsenter -t "$p" -n "$@"; }
if d0=$(attach) && xt_check "xl network-attach 0 (frontend dom0): devid $d0, InitWait" \
	xt_xs_wait "$vif0/$d0/state" 2 30; then
	xt_record net-loopback-libxl "$vif0/$d0" "/local/domain/0/device/vif/$d0"
	nft --devid "$d0" handshake >/tmp/xt/hs.out 2>&1
	rc=$?
	sed 's/^/    hs| /' /tmp/xt/hs.out | head -n 12
	xt_check "netfront-tool handshake connects (rc $rc): split event channels, sg, gso, csum" sh -c \
		"test $rc = 0 && grep -q 'split 1' /tmp/xt/hs.out && grep -q '^tx sg 1 csum 1 ipv6-csum 1 gso-tcpv4 1 gso-tcpv6 1' /tmp/xt/hs.out"
	# the TAP in a namespace of its own: unshare execs netfront-tool, so $! is it
	unshare -n netfront-tool --devid "$d0" tap nf0 >/tmp/xt/tap.out 2>&1 &
	tp=$!
	xt_bg $tp
	if xt_check "netfront-tool tap nf0 (own netns) is ready, the backend Connected" sh -c \
		". /xt/xt.sh; xt_wait 30 grep -qx ready /tmp/xt/tap.out && xt_xs_wait $vif0/$d0/state 4 30"; then
		ns_run $tp ip link set lo up
		ns_run $tp ip addr add 10.0.0.30/24 dev nf0
		ns_run $tp ip link set nf0 up
		xt_check "nf0 pings dom0 over the vif (5 of 5)" ns_run $tp sh /xt/guest/net.sh ping $XT_NET_DOM0 5
		xt_check "dom0 pings nf0 (5 of 5)" xt_net_sh ping 10.0.0.30 5
		xt_check "8 MiB nf0 -> dom0 over TCP, sha256 and length match" sh -c \
			"want=\$(NET_DIR=/tmp/xt/img/ns nsenter -t $tp -n sh /xt/guest/net.sh mkdata u 8) &&
			. /xt/xt.sh && xt_net_sh listen 5301 r1 &&
			NET_DIR=/tmp/xt/img/ns nsenter -t $tp -n sh /xt/guest/net.sh send $XT_NET_DOM0 5301 u &&
			test \"\$want\" = \"\$(xt_net_sh received r1 60)\""
		xt_check "8 MiB dom0 -> nf0 over TCP, sha256 and length match" sh -c \
			". /xt/xt.sh; want=\$(xt_net_sh mkdata d 8) &&
			NET_DIR=/tmp/xt/img/ns nsenter -t $tp -n sh /xt/guest/net.sh listen 5302 r2 &&
			xt_net_sh send 10.0.0.30 5302 d &&
			test \"\$want\" = \"\$(NET_DIR=/tmp/xt/img/ns nsenter -t $tp -n sh /xt/guest/net.sh received r2 60)\""
		pvback-net stats "vif-0-$d0" | sed 's/^/    stats| /'
		kill -TERM $tp
		xt_wait 30 xt_pvd_gone $tp
		wait $tp
		rc=$?
		tail -n 1 /tmp/xt/tap.out | sed 's/^/    tap| /'
		xt_check "netfront-tool tap ends cleanly on SIGTERM (exit $rc)" test $rc = 0
	fi
	if d1=$(attach) && xt_check "a second vif, devid $d1" xt_xs_wait "$vif0/$d1/state" 2 30; then
		mac1=$(xenstore-read /local/domain/0/device/vif/$d1/mac)
		nft --devid "$d1" sink --verify --idle 5 >/tmp/xt/sink.out 2>&1 &
		sk=$!
		xt_bg $sk
		xt_check "sink on vif $d1 ($mac1) connects" xt_xs_wait "$vif0/$d1/state" 4 30
		nft --devid "$d0" gen --count 20000 --size 1000 --dst "$mac1" --csum offload >/tmp/xt/gen.out 2>&1
		rc=$?
		xt_wait 60 xt_pvd_gone $sk
		wait $sk
		sed 's/^/    gen| /' /tmp/xt/gen.out
		sed 's/^/    sink| /' /tmp/xt/sink.out
		xt_check "gen sent 20000 1000-byte frames through vif $d0 (rc $rc)" sh -c \
			"test $rc = 0 && grep -q '\"sent\":20000,' /tmp/xt/gen.out"
		xt_check "sink on vif $d1 got them: none bad, no bad checksum, none reordered" sh -c \
			"grep -q '\"bad\":0,\"bad_csum\":0,' /tmp/xt/sink.out && grep -q '\"reordered\":0,' /tmp/xt/sink.out &&
			! grep -q '\"frames\":0,' /tmp/xt/sink.out"
		# UDP at gen's pace overflows the sink's TAP queue: every frame lost
		# must be one the kernel dropped there, none pvback-net's.  The TAP
		# also drops frames the sink never counts as lost: dom0's own
		# broadcasts while it was full, and frames after the last one the
		# sink saw (seen: 12, and 173 over 11751 lost), so only the lower
		# bound is exact; the upper one allows 5 % + 64.
		lost=$(sed -n 's/.*"lost":\([0-9]*\),.*/\1/p' /tmp/xt/sink.out)
		tapdrops=$(cat /sys/class/net/vif0.$d1/statistics/tx_dropped)
		xt_check "each frame sink missed ($lost) was dropped by vif0.$d1's TAP queue ($tapdrops), none by pvback-net" \
			sh -c "[ ${lost:-999999} -le $tapdrops ] && [ $tapdrops -le $((${lost:-0} * 105 / 100 + 64)) ] &&
			[ $(xt_net_field vif-0-$d0 tx_drops)/$(xt_net_field vif-0-$d1 rx_drops) = 0/0 ]"

		# hostile TX requests on vif d1 (the second vif), d0 the bystander
		err=/local/domain/0/error/backend/vif/0/$d1/error
		raw() { xenstore-rm "$err" 2>/dev/null; nft --devid "$d1" raw "$@" >/tmp/xt/raw.out 2>&1; }
		responses() { grep -c "^response $1" /tmp/xt/raw.out; }
		survives() { # N CASE...: N error responses, no OKAY, the vif stays
			local want=$1
			shift
			raw "$@"
			[ "$(responses ERROR)" = "$want" ] && [ "$(responses OKAY)" = 0 ] &&
				grep -q '^backend connected' /tmp/xt/raw.out && ! xenstore-read "$err" >/dev/null 2>&1
		}
		raw tx-slots 19
		xt_check "19 slots are one packet: 19 OKAY responses" \
			test "$(responses OKAY)/$(responses ERROR)" = 19/0
		xt_check "20 slots: dropped, 20 error responses, the vif stays" survives 20 tx-slots 20
		xt_check "a first slot shorter than an Ethernet header: an error response" survives 1 first-short
		xt_check "a grant never given: an error response (the grant copy fails on Xen)" survives 1 bad-gref
		raw tx-slots 22
		xt_check "22 slots are malicious: the vif goes, the reason in its error node" \
			xt_wait 30 sh -c "xenstore-read $err | grep -q 'malicious'"
		xt_check "the violation was logged for vif-0-$d1" grep -q "vif-0-$d1/q0: protocol violation: tx: malicious" "$XT_NET_LOG"
		xt_check "pvback-net survives the hostile frontend" xt_net_alive
		nft --devid "$d0" handshake >/tmp/xt/hs.out 2>&1
		xt_check "vif $d0 still connects and negotiates" test $? = 0
	fi
	for d in $(xenstore-list $vif0); do timeout 60 xl network-detach 0 "$d" >/dev/null 2>&1; done
	xt_check "xl network-detach 0 removes the vifs" xt_xs_wait_gone "$vif0/$d0" 30
	xt_check "their TAPs are gone" xt_wait 30 sh -c "! ls /sys/class/net | grep -q '^vif0\.'"
else
	xt_fail "xl network-attach 0"
fi
xt_net_stop_check "SIGTERM stops pvback-net (exit status 0)"
xt_check "only the hostile vif's violation was logged as an error" sh -c \
	"! grep ' ERR ' $XT_NET_LOG | grep -v 'vif-0-${d1:-x}'"
