#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: every emulated device enumerates through usbfront as Linux's
# xen-hcd would drive it (port reset, 64-byte descriptor read at address 0,
# SET_ADDRESS, descriptors, strings, SET_CONFIGURATION): gadget zero,
# storage, keyboard and tablet on one controller, listed with their IDs,
# classes and endpoints; also with xen-hcd's own state order (straight to
# Connected) and on a USB 1.1 controller.
. "$(dirname "$0")/usb-lib.sh"

g1_vusb
img s.img
dev_attach g1 0 1 emu:zero
dev_attach g1 0 2 emu:storage,file=$W/s.img
dev_attach g1 0 3 emu:keyboard
dev_attach g1 0 5 emu:tablet
out=$(guest_of g1 list 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
check "list succeeds" test $rc = 0
check "gadget zero on port 1 (0525:a4a0, vendor class, source/sink + loopback)" \
	grep -q '^port 1: high-speed 0525:a4a0 class ff/00/00' <<<"$out"
check "storage on port 2 (a mass-storage BOT interface)" grep -q 'class 08/06/50' <<<"$out"
check "keyboard on port 3 (boot keyboard, interrupt IN)" grep -q 'class 03/01/01' <<<"$out"
check "tablet on port 5 (HID)" grep -q '^port 5: ' <<<"$out"
check "empty ports are listed empty" grep -q '^port 4: empty' <<<"$out"
json() { guest_of g1 --json list | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = {x["port"]: x for x in d["ports"]}
assert d["num_ports"] == 8 and d["usb_ver"] == 2
assert (p[1]["vid"], p[1]["pid"]) == ("0525", "a4a0"), p[1]
assert [c["value"] for c in p[1]["configs"]] == [3, 2]
assert p[2]["configs"][0]["interfaces"][0]["class"] == 8
assert len(set(x["addr"] for x in p.values())) == 4
'; }
check "--json: the same, parseable, distinct addresses" json
direct() { guest_of g1 --direct-connect list | grep -q "^port 1: high-speed 0525:a4a0"; }
check "xen-hcd's order (Initialising -> Connected) is served too" direct

guest_create g2
vusb_attach g2 version=1 ports=2
wait_until 10 state_is g2 0 2
dev_attach g2 0 2 emu:zero
full() { guest_of g2 list | grep -q "^port 2: full-speed 0525:a4a0"; }
check "a USB 1.1 controller runs the device at full speed" full
check "a port out of range is refused by usbdev-attach" t_fails_with "out of range" \
	dev_attach g2 0 3 emu:keyboard
check "the daemon logged no error" sh -c "! grep -q ' ERR ' '$W/usb.log'"
t_done
