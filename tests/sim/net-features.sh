#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: netif features through pvback-net, each switched on and off
# from the userspace netfront, with verified traffic on a bridge: MTU 9000
# through scatter-gather (no GSO), GSO on and off (stats count super-frames
# only when negotiated), checksum offload on and off (partial checksums only
# when negotiated), a frame with a wrong UDP checksum is dropped by the
# receiving host stack while a right one arrives (checksums are real, not
# waved through), 4 queues carry flows on several queues both ways, the
# toolstack's `rate` holds a guest's TX within 10%, and XDP headroom
# (set at connect, then changed through Reconfiguring) keeps frames intact.
. "$(dirname "$0")/net-lib.sh"
net_requires_front

bridge_add "$NET_BR" "$NET_PFX.1/24" 9000
net_up --max-queues 4
for g in g1 g2 g3 g4 g5 g6; do guest_create "$g" 96M; done

vif_of() { echo "vif-$(domid_of "$1")-$2"; }
stat_of() { # GUEST DEVID PYEXPR over d (the device) and qs (its queues)
	net_stats --json | python3 -c '
import json, sys
d = [x for x in json.load(sys.stdin)["devices"] if x["name"] == sys.argv[1]][0]
qs = d["queues"]
t = lambda k: sum(q[k] for q in qs)
v = eval(sys.argv[2])
print(v) if v is not True else None
sys.exit(0 if v is True else 1)' "$(vif_of "$1" "$2")" "$3"
}

# MTU 9000 through sg alone.
VIF_KEYS="mtu=9000" check "g1 connects with mtu 9000, no GSO" \
	vif_connect g1 eth0 "$NET_PFX.11/24" --no-gso
d1=$vif_devid
check "the guest's interface has MTU 9000" test "$(link_mtu "$(guest_ns g1)" eth0)" = 9000
check "the backend's too" test "$(link_mtu - "$(vif_name g1 "$d1")")" = 9000
jumbo() { ns_run "$(guest_ns g1)" ping -n -c 3 -i 0.2 -W 2 -M do -s 8972 "$NET_PFX.1" >/dev/null; }
check "an unfragmented 9000-byte ping goes both ways" jumbo
check "8 MiB guest -> host intact in 9000-byte frames" tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 8 5401
check "8 MiB host -> guest intact" tcp_verify - "$(guest_ns g1)" "$NET_PFX.11" 8 5402
check "without GSO no super-frame crossed, yet frames spanned slots" \
	stat_of g1 "$d1" "t('tx_gso') == 0 and t('rx_gso') == 0 and t('tx_bytes') / t('tx_packets') > 4096"

# GSO and checksum offload on (the default) against off.
check "g2 connects with every offload" vif_connect g2 eth0 "$NET_PFX.12/24"
d2=$vif_devid
check "g3 connects with no checksum offload" vif_connect g3 eth0 "$NET_PFX.13/24" --no-csum
d3=$vif_devid
for g in g2 g3; do
	n=${g#g}
	check "8 MiB $g -> host intact" tcp_verify "$(guest_ns $g)" - "$NET_PFX.1" 8 55${n}1
	check "8 MiB host -> $g intact" tcp_verify - "$(guest_ns $g)" "$NET_PFX.1$n" 8 55${n}2
done
check "with GSO, super-frames both ways" stat_of g2 "$d2" "t('tx_gso') > 0 and t('rx_gso') > 0"
check "with checksum offload, partial checksums both ways" \
	stat_of g2 "$d2" "t('tx_csum_blank') > 0 and t('rx_csum_blank') > 0"
check "without it, none either way (and so no GSO either)" \
	stat_of g3 "$d3" "t('tx_csum_blank') == 0 and t('rx_csum_blank') == 0 and t('rx_gso') == 0"

# A wrong UDP checksum from the guest is dropped by the host's stack.
cat >"$W/udp.py" <<'PY'
import socket, struct, sys
src, dst, port, good = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "good"
payload = b"pvback checksum probe"
def csum(b):
    if len(b) & 1: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, 8 + len(payload))
hdr = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0)
c = csum(ph + hdr + payload) or 0xffff
if not good: c ^= 0x5a5a
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.sendto(struct.pack("!HHHH", 40000, port, 8 + len(payload), c) + payload, (dst, 0))
PY
csum_errors() { be_ns awk '/^Udp:/ { n++; if (n == 1) for (i = 1; i <= NF; i++) h[i] = $i; else for (i = 1; i <= NF; i++) if (h[i] == "InCsumErrors") print $i }' /proc/net/snmp; }
udp_probe() { # good|bad: 0 when the host's UDP socket got the datagram
	rm -f "$W/udp.rx"
	bg_ns udp - timeout 5 socat -u UDP-RECV:5600 OPEN:"$W/udp.rx",creat
	wait_until 5 sh -c "ip netns exec '$BE_NS' ss -Hlun 'sport = :5600' | grep -q ." || return 2
	ns_run "$(guest_ns g3)" python3 "$W/udp.py" "$NET_PFX.13" "$NET_PFX.1" 5600 "$1"
	wait "${bg_pid[udp]}"
	unset "bg_pid[udp]"
	grep -q "checksum probe" "$W/udp.rx" 2>/dev/null
}
before=$(csum_errors)
check "a datagram with the right checksum arrives" udp_probe good
check "one with a wrong checksum does not" fails udp_probe bad
check "the host counted a UDP checksum error" test "$(csum_errors)" -gt "$before"

# Four queues.
check "g4 connects with 4 queues" vif_connect g4 eth0 "$NET_PFX.14/24" --queues 4
d4=$vif_devid
check "4 queues were negotiated" stat_of g4 "$d4" "len(qs) == 4"
iperf_server - 5701
check "8 flows guest -> host" iperf_client "$(guest_ns g4)" "$NET_PFX.1" 5701 -P 8 -t 2
iperf_server - 5702
check "8 flows host -> guest" iperf_client "$(guest_ns g4)" "$NET_PFX.1" 5702 -P 8 -t 2 -R
check "guest TX spread over several queues" \
	stat_of g4 "$d4" "sum(1 for q in qs if q['tx_packets'] > 100) >= 2"
check "guest RX spread over several queues" \
	stat_of g4 "$d4" "sum(1 for q in qs if q['rx_packets'] > 100) >= 2"

# rate=bytes,usec: 2.5 MB per 100 ms = 200 Mbit/s.
VIF_KEYS="rate=2500000,100000" check "g5 connects with a rate limit of 200 Mbit/s" \
	vif_connect g5 eth0 "$NET_PFX.15/24"
d5=$vif_devid
iperf_server - 5801
bps=$(iperf_client "$(guest_ns g5)" "$NET_PFX.1" 5801 -t 4 -O 1 | tail -1)
echo "# g5 sent $bps bit/s under a 200 Mbit/s limit"
check "the guest's TX holds the rate within 10% ($bps bit/s)" \
	python3 -c "import sys; sys.exit(0 if 180e6 <= $bps <= 220e6 else 1)"
check "the credit held it back" stat_of g5 "$d5" "t('credit_waits') > 0"

# XDP headroom.
check "g6 connects with 64 bytes of XDP headroom" \
	vif_connect g6 eth0 "$NET_PFX.16/24" --xdp-headroom 64
d6=$vif_devid
check "4 MiB host -> guest intact with headroom" tcp_verify - "$(guest_ns g6)" "$NET_PFX.16" 4 5901
t_done
