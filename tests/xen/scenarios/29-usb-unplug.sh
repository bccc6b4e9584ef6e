# SPDX-License-Identifier: GPL-2.0-or-later
# Description: unplug under I/O. A domU writes (O_DIRECT dd, again and
# again) to QEMU's stick passed through on port 1 and to an emu:storage on
# port 2, the keyboard on port 3 idle. `pvback-usbdev detach` of the stick
# (by its busid) and then of port 2, each mid-write: the writer ends with
# an I/O error, the device and its disk leave the domU, the domU and the
# other ports go on, the controller stays Connected, the daemon runs;
# attached again, each comes back and reads.  Then the host pulls the
# stick mid-write: dom0 disables its root-hub port (the kernel disconnects
# it as it would a pulled plug; QEMU's device_del would need a monitor the
# harness does not give QEMU): pvback-usb sees it leave, the domU loses it
# and carries on, the port is emptied.
command -v pvback-usb >/dev/null || { xt_todo "pvback-usb unplug under I/O" "no build/bin/pvback-usb yet"; return 0; }
xt_check "dom0: QEMU's USB devices" xt_usb_dom0 || return 0
stick=$(xt_usb_find $XT_USB_STICK) kbd=$(xt_usb_find $XT_USB_KBD)
img=$XT_IMG/usb-unplug.img
xt_blk_img "$img" 32
xt_usb_ready || return 0
xt_check "pvback-usbdev attach: $stick on 1, emu:storage on 2, $kbd on 3" sh -c \
	"pvback-usbdev attach g1 --port 1 $stick && pvback-usbdev attach g1 --port 2 emu:storage,file=$img &&
	 pvback-usbdev attach g1 --port 3 $kbd"
d1=$(xt_usb_sh g1 disk port:1 90) || { xt_fail "the stick's disk in the domU" "$d1"; return 0; }
d2=$(xt_usb_sh g1 disk port:2 90) || { xt_fail "emu:storage's disk in the domU" "$d2"; return 0; }
xt_check "domU: keyboard on port 3" xt_usb_sh g1 driver port:3 usbhid 60
xt_pass "domU: the stick is $d1, emu:storage is $d2"

# unplug DISK PORT HOW LABEL
unplug() {
	local dsk=$1 port=$2 how=$3 label=$4 w0
	xt_check "$label: dd writes /dev/$dsk in the background" xt_usb_sh g1 dd-bg "$dsk" w$port
	# a few rounds of writes are through before the plug is pulled
	xt_check "$label: writes flow" xt_domu_run g1 \
		"n=0; while [ \$(cat /tmp/w$port.n 2>/dev/null || echo 0) -lt 2 ]; do n=\$((n+1)); [ \$n -lt 600 ] || exit 1; sleep 0.2; done" 150
	case $how in
	dev) xt_check "$label: pvback-usbdev detach g1 $stick, mid-write" pvback-usbdev detach g1 "$stick" ;;
	port) xt_check "$label: pvback-usbdev detach g1 --port $port, mid-write" pvback-usbdev detach g1 --port "$port" ;;
	host)
		xt_check "$label: dom0 disables the stick's hub port, mid-write" sh -c "echo 1 >$portdis"
		xt_check "$label: pvback-usb sees the device leave the host" sh -c \
			"n=0; until grep -q 'gone from the host: port $port empty' $XT_USB_LOG; do n=\$((n+1)); [ \$n -lt 300 ] || exit 1; sleep 0.2; done" ;;
	esac
	[ "$how" = host ] || xt_check "$label: port/$port is empty" test -z "$(xenstore-read "$be/port/$port")"
	xt_check "$label: the writer ends (I/O error)" xt_usb_sh g1 dd-rc w$port 90
	# the disk's node goes a little after the device (the SCSI layer lets
	# go of it last): waited for, or a re-plug finds the stale one
	xt_check "$label: the device and /dev/$dsk leave the domU" xt_domu_run g1 \
		"sh /extra/usb.sh gone port:$port 60 && n=0 && while test -e /dev/$dsk; do n=\$((n+1)); [ \$n -lt 300 ] || exit 1; sleep 0.2; done" 90
	xt_check "$label: the domU answers, the controller stays Connected" sh -c \
		". /xt/xt.sh; xt_domu_run g1 true 30 && test \$(xenstore-read $be/state) = 4"
	xt_check "$label: the keyboard on port 3 is still there" xt_usb_sh g1 driver port:3 usbhid 10
}
unplug "$d1" 1 dev "stick (passthrough)"
xt_check "pvback-usb is still running" xt_usb_alive
unplug "$d2" 2 port "emu:storage"
xt_check "pvback-usb is still running" xt_usb_alive

# both back
xt_check "pvback-usbdev attach again: $stick on 1, emu:storage on 2" sh -c \
	"pvback-usbdev attach g1 --port 1 $stick && pvback-usbdev attach g1 --port 2 emu:storage,file=$img"
for p in 1 2; do
	if dsk=$(xt_usb_sh g1 disk port:$p 90); then
		xt_check "port $p plugged again: disk $dsk, 1 MiB reads back" xt_domu_run g1 \
			"dd if=/dev/$dsk of=/dev/null bs=64k count=16 iflag=direct" 120
	else
		xt_fail "port $p plugged again: its disk is back" "$dsk"
	fi
done
# the host pulls the stick: its root-hub port in dom0
portdis=/sys/bus/usb/devices/${stick%%-*}-0:1.0/usb${stick%%-*}-port${stick#*-}/disable
if xt_check "dom0: the stick's hub port can be disabled ($portdis)" test -w "$portdis" &&
   dsk=$(xt_usb_sh g1 disk port:1 90); then
	unplug "$dsk" 1 host "stick pulled on the host"
	xt_check "pvback-usb is still running" xt_usb_alive
	xt_check "pvback-usbdev detach g1 --port 1: the pulled stick's port emptied" \
		pvback-usbdev detach g1 --port 1
	# Power back on; QEMU's xHCI raises no new connect change for the
	# stick (it did not come back within a minute), so the test ends here.
	echo 0 >"$portdis"
fi
xt_check "domU: no xen-hcd complaint in dmesg" xt_usb_hcd_clean g1
xt_check "pvback-usbdev detach of port 2 (libxl cannot remove emu: ports)" pvback-usbdev detach g1 --port 2
xt_check "domU powers off" xt_domu_poweroff g1
xt_check "backend dir removed" xt_xs_wait_gone "$be" 30
xt_check "pvback-usb is still running" xt_usb_alive
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
xt_check "no error logged by pvback-usb" sh -c "! grep ' ERR ' $XT_USB_LOG"
