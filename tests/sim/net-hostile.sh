#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: hostile netfronts against pvback-net (raw TX requests built
# by hand, netfront-tool raw), each rule as Linux 6.1's netback applies it:
# 19 slots are a packet; 20 and 21 are dropped with an error response for
# every slot, as is a follow-on slot larger than the packet; a first slot shorter than an Ethernet header and a grant that
# was never given get errors and the vif stays; 22 slots (XSA-90/423/432
# class floods), a slot crossing its page, an unknown extra type, a GSO
# size of 0, a bad GSO type, a missing extra, too many extras and a
# producer overflow cost the offender its vif, with the reason logged and
# in its error node; an event storm costs nothing.  Meanwhile another
# guest's verified TCP stream and the daemon carry on.  The sustained
# attacks are net-hostile-attack.sh's, xenstore abuse net-hostile-xs.sh's.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

net_hostile_setup

# g2 streams 48 MiB to the host while g1 misbehaves.
tcp_verify "$(guest_ns g2)" - "$NET_PFX.1" 48 5101 >"$W/bystander.out" 2>&1 &
bystander=$!

err_path="/local/domain/0/error/backend/vif/$(domid_of g1)/$d1/error"
raw() { # CASE...: run it as g1, its output in $W/raw.out
	dom0 xenstore-rm "$err_path" 2>/dev/null
	raw_tx g1 "$d1" "$@"
}
responses() { raw_responses "$1"; }
survives() { # CASE...: answered with N errors (N = $want), the vif stays connected
	raw "$@" >/dev/null
	[ "$(responses ERROR)" = "$want" ] && [ "$(responses OKAY)" = 0 ] &&
		grep -q "^backend connected" "$W/raw.out" && ! dom0 xenstore-read "$err_path" >/dev/null 2>&1
}
fatal() { # REASON CASE...: the vif closes with REASON in its error node and the log
	dom0 xenstore-rm "$err_path" 2>/dev/null
	vif_fatal g1 "$d1" "$@"
}

raw tx-slots 19 >/dev/null
check "19 slots (18 follow-on) are one packet: 19 OKAY responses" \
	test "$(responses OKAY)" = 19 -a "$(responses ERROR)" = 0
want=20; check "20 slots drop the packet: 20 error responses, the vif stays" survives tx-slots 20
want=21; check "21 slots: dropped the same way" survives tx-slots 21
want=1; check "a first slot shorter than an Ethernet header: an error response" survives first-short
want=1; check "a grant never given: an error response" survives bad-gref
want=2; check "a follow-on slot larger than the rest of the packet: dropped" survives big-slot
check "22 slots are malicious: the vif goes" fatal "tx: malicious frontend" tx-slots 22
check "a slot crossing its page boundary: the vif goes" fatal "crosses its page boundary" cross-page
check "an unknown extra type: the vif goes" fatal "tx: invalid extra type" bad-extra 9
check "a GSO size of 0: the vif goes" fatal "tx: GSO size must not be zero" gso-size-0
check "a bad GSO type: the vif goes" fatal "tx: bad GSO type" bad-gso-type
check "an extra announced and not sent: the vif goes" fatal "continues beyond the requests pushed" missing-extra
check "more extras than extra types: the vif goes" fatal "more extras than extra types" too-many-extras
check "a producer overflow: the vif goes" fatal "ring producer overflow" prod-overflow
want=0; check "an event storm of 20000 notifies costs nothing" survives event-storm 20000
wait "$bystander"; rc=$?
sed 's/^/# /' "$W/bystander.out"
check "meanwhile g2's 48 MiB arrived intact" test "$rc" = 0
check "g2 still pings the host" ping_from "$(guest_ns g2)" "$NET_PFX.1" 2
check "the daemon still answers" net_ready
check "every violation was g1's" sh -c "! grep 'protocol violation' '$W/net.log' | grep -v 'vif-$(domid_of g1)-$d1/'"
check "SIGTERM stops the daemon with status 0" net_stop
t_done
