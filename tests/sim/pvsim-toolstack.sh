#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: `pvsim attach` writes the same nodes, values and permissions as
# libxl 4.17 does for xl's vbd, vif and usbctrl devices. The expected listings
# were recorded on real Xen by tests/xen (scenarios 03-05, state-1 snapshots);
# only the domid and the MAC differ (and the vif's script is named: pvsim's
# default depends on what is installed, tests/sim/net-toolstack.sh checks
# it).  detach removes everything again.
. "$(dirname "$0")/tap.sh"
requires xenstore-exists xenstore-ls xenstore-read
t_plan 15
t_pvsim_start
pvsim create g1 --mem 16M >/dev/null
eval "$(pvsim env)"

# "key = value (perms)" lines of a subtree, sorted, without the dotted padding.
listing() { xenstore-ls -p "$1" | sed -E 's/ *\.[ .]*\(/ (/; s/^ +//' | sort; }
# same_listing PATH: PATH's listing is the one on stdin, in any order (the diff if not).
same_listing() { diff <(sort) <(listing "$1"); }

pvsim attach g1 vbd target=/var/tmp/x.img vdev=xvda access=rw >/dev/null
check "vbd backend keys and perms match libxl" same_listing /local/domain/0/backend/vbd/1/51712 <<'X'
bootable = "1" (n0,r1)
dev = "xvda" (n0,r1)
device-type = "disk" (n0,r1)
discard-enable = "1" (n0,r1)
frontend = "/local/domain/1/device/vbd/51712" (n0,r1)
frontend-id = "1" (n0,r1)
mode = "w" (n0,r1)
online = "1" (n0,r1)
params = "/var/tmp/x.img" (n0,r1)
removable = "0" (n0,r1)
script = "/etc/xen/scripts/block" (n0,r1)
specification = "xen" (n0,r1)
state = "1" (n0,r1)
type = "phy" (n0,r1)
X
check "vbd frontend keys and perms match libxl" same_listing /local/domain/1/device/vbd/51712 <<'X'
backend = "/local/domain/0/backend/vbd/1/51712" (n1,r0)
backend-id = "0" (n1,r0)
device-type = "disk" (n1,r0)
protocol = "x86_64-abi" (n1,r0)
state = "1" (n1,r0)
trusted = "1" (n1,r0)
virtual-device = "51712" (n1,r0)
X
check "the per-domain backend directory is dom0's alone" \
	sh -c 'xenstore-ls -p /local/domain/0/backend/vbd | grep -q "^1 = .*(n0)$"'

# No backend serves it: --no-script, or attach would wait for its InitWait.
pvsim attach --no-script g1 vif mac=00:16:3e:aa:bb:cc script=vif-bridge >/dev/null
check "vif backend keys and perms match libxl" same_listing /local/domain/0/backend/vif/1/0 <<'X'
bridge = "xenbr0" (n0,r1)
frontend = "/local/domain/1/device/vif/0" (n0,r1)
frontend-id = "1" (n0,r1)
handle = "0" (n0,r1)
hotplug-status = "" (n0,r1)
mac = "00:16:3e:aa:bb:cc" (n0,r1)
online = "1" (n0,r1)
script = "/etc/xen/scripts/vif-bridge" (n0,r1)
state = "1" (n0,r1)
type = "vif" (n0,r1)
X
check "vif frontend keys match libxl, mtu owned by dom0" same_listing /local/domain/1/device/vif/0 <<'X'
backend = "/local/domain/0/backend/vif/1/0" (n1,r0)
backend-id = "0" (n1,r0)
handle = "0" (n1,r0)
mac = "00:16:3e:aa:bb:cc" (n1,r0)
mtu = "1500" (n0,r1)
state = "1" (n1,r0)
trusted = "1" (n1,r0)
X

pvsim attach g1 vusb version=2 ports=4 >/dev/null
check "vusb backend keys and perms match libxl" same_listing /local/domain/0/backend/vusb/1/0 <<'X'
frontend = "/local/domain/1/device/vusb/0" (n0,r1)
frontend-id = "1" (n0,r1)
num-ports = "4" (n0,r1)
online = "1" (n0,r1)
port = "" (n0,r1)
1 = "" (n0,r1)
2 = "" (n0,r1)
3 = "" (n0,r1)
4 = "" (n0,r1)
state = "1" (n0,r1)
type = "pv" (n0,r1)
usb-ver = "2" (n0,r1)
X
check "usbdev-attach writes the device into port/N as xl usbdev-attach" sh -c '
	pvsim usbdev-attach g1 0 2 emu:storage,file=/var/tmp/u.img &&
	test "$(xenstore-read /local/domain/0/backend/vusb/1/0/port/2)" = emu:storage,file=/var/tmp/u.img'
check "a used port is refused" t_fails_with "port 2 of vusb 0 is already used by 'emu:storage,file=/var/tmp/u.img'" \
	pvsim usbdev-attach g1 0 2 emu:keyboard
check "a port out of range is refused" t_fails_with "port 5 out of range: vusb 0 has ports 1..4" \
	pvsim usbdev-attach g1 0 5 emu:keyboard
check "a missing controller is refused" t_fails_with "no vusb controller 3 on domain 1" \
	pvsim usbdev-attach g1 3 1 emu:keyboard
check "usbdev-detach clears the port" sh -c '
	pvsim usbdev-detach g1 0 2 && test -z "$(xenstore-read /local/domain/0/backend/vusb/1/0/port/2)"'
check "detaching an empty port is refused" t_fails_with "port 2 of vusb 0 is empty" \
	pvsim usbdev-detach g1 0 2
check "a typo in an option is refused" t_fails_with "unknown option" pvsim attach g1 vbd target=/x vdev=xvdb acess=r
check "detach --force removes frontend, backend and /libxl nodes" sh -c '
	pvsim detach --force g1 vbd xvda &&
	! xenstore-exists /local/domain/0/backend/vbd/1/51712 &&
	! xenstore-exists /local/domain/1/device/vbd/51712 &&
	! xenstore-exists /libxl/1/device/vbd/51712'
check "xvdq and sda map to libxl's devids" sh -c '
	pvsim attach g1 vbd target=/x vdev=xvdq >/dev/null &&
	xenstore-exists /local/domain/0/backend/vbd/1/268439552 &&
	test "$(pvsim attach g1 vbd target=/x vdev=sda)" = 2048'
t_done
