#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the dpdk ports of pvback-net on pvsim, briefly (the full
# suite is net-dpdk.sh): --port dpdk with DPDK's TAP PMD creating each
# vif's interface ({vif}), so the bridge hotplug script attaches it as
# for a TAP port: pings and a verified TCP stream each way (guest GSO
# segmented or passed on per the PMD's offloads), the port's counters in
# `stats --json`; then --port dpdk-switch with two guests and no uplink:
# they ping each other and exchange a verified stream that never leaves
# the daemon (sw_local counted).  A worker told to sleep until an fd fires
# is refused for a device only polling reads.  Skipped without HAVE_DPDK.
. "$(dirname "$0")/net-lib.sh"
net_requires_front
grep -q "HAVE_DPDK := y" "$T_BUILD/config.mk" || { echo "1..0 # SKIP built without DPDK"; exit 77; }

# A worker that sleeps until an fd fires would never read a device.
sleep_unbounded_refused() {
	net_start --port dpdk --port-args 'net_null_{domid}_{devid}' --poll-sleep-max-us 0
	wait "$netpid" && { echo "the daemon ran"; return 1; }
	grep -q 'found only by polling' "$W/net.log"
}
check "--poll-sleep-max-us 0 with --port dpdk is refused, with the reason" \
	sleep_unbounded_refused

# DPDK's TAP PMD names each vif's interface as the TAP port would.
bridge_add "$NET_BR" "$NET_PFX.1/24"
net_up --port dpdk --port-args 'net_tap_{domid}_{devid},iface={vif}'
guest_create g1 128M
check "g1's vif connects on a dpdk port (net_tap) in the bridge" \
	vif_connect g1 eth0 "$NET_PFX.11/24"
d1=$vif_devid
check "the host pings g1 through DPDK" ping_from - "$NET_PFX.11" 3
check "g1 pings the host" ping_from "$(guest_ns g1)" "$NET_PFX.1" 3
check "8 MiB from g1 to the host arrive intact" tcp_verify "$(guest_ns g1)" - "$NET_PFX.1" 8 5001
check "8 MiB from the host to g1 arrive intact" tcp_verify - "$(guest_ns g1)" "$NET_PFX.11" 8 5002
port_counted() { # KIND FIELD...: every FIELD of g1's port stats is > 0
	net_stats --json >"$W/s.json"
	python3 - "$W/s.json" "vif-$(domid_of g1)-$d1" "$@" <<'PY'
import json, sys
d = {x['name']: x for x in json.load(open(sys.argv[1]))['devices']}[sys.argv[2]]
p = d.get('port', {})
bad = [f for f in sys.argv[4:] if not p.get(f)]
print(p.get('kind'), {f: p.get(f) for f in sys.argv[4:]})
sys.exit(p.get('kind') != sys.argv[3] or bool(bad))
PY
}
check "the port counts the device's and our traffic" \
	port_counted dpdk ipackets opackets pool_avail
check "the daemon stops cleanly (devices removed, EAL cleaned up)" net_stop
wait_until 5 link_gone - "$(vif_name g1 "$d1")"
check "the DPDK TAP is gone with it" link_gone - "$(vif_name g1 "$d1")"

# The switch: guests only, with the hotplug script that only says connected.
net_up --port dpdk-switch
guest_create g2 128M
guest_create g3 128M
VIF_KEYS="script=pvback-vif-dpdk"
check "g2's vif connects on the switch" vif_connect g2 eth0 "$NET_PFX.12/24"
d2=$vif_devid
check "g3's vif connects on the switch" vif_connect g3 eth0 "$NET_PFX.13/24"
check "g2 pings g3 through the switch" ping_from "$(guest_ns g2)" "$NET_PFX.13" 3
check "8 MiB from g2 to g3 arrive intact" \
	tcp_verify "$(guest_ns g2)" "$(guest_ns g3)" "$NET_PFX.13" 8 5003
check "8 MiB from g3 to g2 arrive intact" \
	tcp_verify "$(guest_ns g3)" "$(guest_ns g2)" "$NET_PFX.12" 8 5004
switch_counted() {
	net_stats --json >"$W/s.json"
	python3 - "$W/s.json" "vif-$(domid_of g2)-$d2" <<'PY'
import json, sys
d = {x['name']: x for x in json.load(open(sys.argv[1]))['devices']}[sys.argv[2]]
p = d['port']
print({k: p[k] for k in ('kind', 'sw_local', 'sw_flood', 'fdb_entries', 'fdb_learned')})
sys.exit(not (p['kind'] == 'dpdk-switch' and p['sw_local'] > 100 and p['fdb_entries'] >= 2))
PY
}
check "the switch counts local frames and learned addresses" switch_counted
check "the daemon stops cleanly" net_stop
t_done
