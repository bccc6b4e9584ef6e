#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-net with pvsim's toolstack, no frontend: `pvsim attach
# g1 vif bridge=br0` with pvback-net running makes vif1.0 in the backend's
# network namespace (and not in ours), runs the hotplug script as libxl
# does (online type_if=vif, libxl's environment, stdin /dev/null), and
# scripts/pvback-vif-bridge gives the vif the bridge's MTU (and the
# frontend's mtu key), enslaves it, brings it up and writes
# hotplug-status=connected; the backend keys are Linux netback's and the
# backend waits in InitWait; the default script and the vifname key; detach
# runs the script offline and the interface leaves the bridge and goes;
# a failing script fails attach with its message (hotplug-status=error,
# the backend fails the device); a missing or unexecutable script and a backend
# that never reaches InitWait fail with a clear message; --no-script
# leaves hotplug-status to the test; make install installs the script.
. "$(dirname "$0")/net-lib.sh"

script=$T_TOP/scripts/pvback-vif-bridge
# A script that records how it was run, then does the real work.
wrap=$W/hotplug-wrap
cat >"$wrap" <<EOF
#!/bin/sh
{
	echo "args=\$*"
	echo "stdin=\$(readlink /proc/self/fd/0)"
	for v in script XENBUS_TYPE XENBUS_PATH XENBUS_BASE_PATH netdev vif PVSIM_DOMID; do
		eval "echo \$v=\\\${\$v-unset}"
	done
} >>"$W/hotplug.log"
exec "$script" "\$@"
EOF
chmod +x "$wrap"
logged() {
	grep -qxF -- "$1" "$W/hotplug.log" || { echo "not in the log:"; cat "$W/hotplug.log"; return 1; }
}

guest_create g1 64M
bridge_add br0 "" 1400
net_up --max-queues 2

devid=$(vif_attach g1 bridge=br0 script="$wrap")
check "attach of a vif with bridge=br0 succeeds with devid 0" test "$devid" = 0
check "vif1.0 exists in the backend's network namespace" be_ns ip link show dev vif1.0
check "and not in the test's own" fails ip link show dev vif1.0
check "the script ran as libxl runs it: online type_if=vif" logged "args=online type_if=vif"
check "with stdin on /dev/null" logged "stdin=/dev/null"
check "with XENBUS_PATH relative to dom0's home" logged "XENBUS_PATH=backend/vif/1/0"
check "with XENBUS_TYPE=vif" logged "XENBUS_TYPE=vif"
check "with XENBUS_BASE_PATH=backend" logged "XENBUS_BASE_PATH=backend"
check "with netdev empty (no gatewaydev key)" logged "netdev="
check "with vif= the kernel's name vif1.0" logged "vif=vif1.0"
check "with script= the script's path" logged "script=$wrap"
check "as dom0 of this pvsim" logged "PVSIM_DOMID=0"
check "the script key holds the script's path" be_is g1 0 script "$wrap"
check "the script enslaved vif1.0 to br0" in_bridge vif1.0 br0
check "and brought it up" link_up - vif1.0
check "with the bridge's MTU (1400)" test "$(link_mtu - vif1.0)" = 1400
check "and told the frontend (mtu key 1400), as Xen's set_mtu does" test "$(fe_read g1 0 mtu)" = 1400
check "hotplug-status is connected" be_is g1 0 hotplug-status connected

# Linux netback's probe keys (netback_probe), --max-queues 2.
check "the backend's feature keys are Linux netback's" \
	diff -u <(linux_probe_keys 2) <(be_probe_keys g1 0)
check "the backend waits in InitWait (2) for a frontend" state_is g1 0 2

# No script=: Xen's vif-bridge when installed, else ours, found in the tree.
default=$script
[ -e /etc/xen/scripts/vif-bridge ] && default=/etc/xen/scripts/vif-bridge
check "a second vif without script= attaches (devid 1)" test "$(vif_attach g1 bridge=br0)" = 1
check "its script key is the default ($default)" be_is g1 1 script "$default"
check "it is in br0" in_bridge vif1.1 br0
check "with hotplug-status connected" be_is g1 1 hotplug-status connected

# vifname: the backend names the interface, the script finds it by the key.
check "a vif with vifname=pvtest0 attaches" vif_attach g1 bridge=br0 vifname=pvtest0 script="$wrap"
check "the script was still given libxl's vif=vif1.2" logged "vif=vif1.2"
check "and put pvtest0 into br0" in_bridge pvtest0 br0

: >"$W/hotplug.log"
check "detach of vif 0 succeeds" vif_detach g1 0
check "it ran the script with offline type_if=vif" logged "args=offline type_if=vif"
check "vif1.0 left the bridge and is gone" wait_until 10 link_gone - vif1.0
check "the backend directory is gone" be_gone g1 0
check "vif1.1 is still in br0" in_bridge vif1.1 br0

# A failing script (no such bridge) fails attach with its message.
check "attach with bridge=nosuchbr fails with the script's message" \
	t_fails_with "Could not find bridge device nosuchbr" \
	vif_attach g1 bridge=nosuchbr devid=5 script="$script"
check "hotplug-status is error" be_is g1 5 hotplug-status error
check "with the reason in hotplug-error" be_is g1 5 hotplug-error "Could not find bridge device nosuchbr"
check "the message names the device, the script and its status" \
	t_fails_with "vif 6: $script online exited with status 1: Could not find" \
	vif_attach g1 bridge=nosuchbr devid=6 script="$script"
check "the backend fails the device: Closed (6)" wait_until 10 state_is g1 5 6
error_says() {
	local e
	e=$(be_error "$1" "$2")
	grep -qF -- "$3" <<<"$e" || { echo "error node: '$e'"; return 1; }
}
check "with its error node saying why" error_says g1 5 "hotplug script failed"
check "vif1.5 is in no bridge" in_bridge vif1.5 ""
check "detach removes the failed device" vif_detach g1 5
check "and its interface" wait_until 10 link_gone - vif1.5
vif_detach g1 6 2>/dev/null

check "a script name found nowhere is refused before any node is written" \
	t_fails_with "hotplug script 'no-such-script' is neither in /etc/xen/scripts nor in $T_TOP/scripts" \
	vif_attach g1 bridge=br0 devid=7 script=no-such-script
check "(no backend directory for it)" be_gone g1 7
printf '#!/bin/sh\nexit 0\n' >"$W/noexec"
check "an unexecutable script fails attach with the reason" \
	t_fails_with "vif 8: hotplug script $W/noexec: Permission denied" \
	vif_attach g1 bridge=br0 devid=8 script="$W/noexec"
vif_detach g1 8 2>/dev/null

# --no-script: the nodes only; the test plays the script.
: >"$W/hotplug.log"
check "attach --no-script succeeds" vif_attach g1 --no-script bridge=br0 devid=9 script="$wrap"
check "the backend reaches InitWait" wait_until 10 state_is g1 9 2
check "no script ran" test ! -s "$W/hotplug.log"
check "hotplug-status is left empty" be_is g1 9 hotplug-status ""
check "vif1.9 is in no bridge" in_bridge vif1.9 ""
check "detach --no-script succeeds" vif_detach g1 9 --no-script
check "and runs no script either" test ! -s "$W/hotplug.log"
check "vif1.9 is gone" wait_until 10 link_gone - vif1.9

san=0; [ "$(basename "$T_BUILD")" = build-san ] && san=1
make -C "$T_TOP" --no-print-directory -s install DESTDIR="$W/inst" O="$T_BUILD" SAN=$san >"$W/inst.log" 2>&1
check "make install puts pvback-vif-bridge in /etc/xen/scripts, executable" \
	test -x "$W/inst/etc/xen/scripts/pvback-vif-bridge"

check "pvback-net exits 0 on SIGTERM" net_stop
check "without a backend, attach fails after 10 s, naming the wait" \
	t_fails_with "vif 10: the backend did not reach InitWait in 10 s (state Initialising; is pvback-net running?)" \
	vif_attach g1 bridge=br0 devid=10
t_done
