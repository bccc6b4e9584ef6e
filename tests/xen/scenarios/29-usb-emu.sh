# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-usb's emulated devices, named in port/N directly (xl
# has no syntax for them): emu:storage on a dom0 file (mkfs, files with
# sha256, fsck clean) and a read-only one (the domU's disk is read-only,
# writes fail), emu:keyboard and emu:tablet (usbhid binds, input devices),
# emu:zero (gadget-zero compatible, 0525:a4a0: usbtest binds; every testusb
# case recorded and required: the isochronous ones 15, 16, 22, 23 with
# usbtest alt=1, the interrupt ones 25, 26 with alt=2). Attached and
# detached with scripts/pvback-usbdev; every port is emptied before the
# domain goes (libxl cannot remove a controller holding emu: specs).
command -v pvback-usb >/dev/null || { xt_todo "pvback-usb emulated devices" "no build/bin/pvback-usb yet"; return 0; }
img=$XT_IMG/usb-emu.img ro=$XT_IMG/usb-emu-ro.img
xt_blk_img "$img" 32
xt_blk_img "$ro" 16
xt_usb_ready || return 0
for d in "1 emu:storage,file=$img" "2 emu:keyboard" "3 emu:tablet" "4 emu:zero"; do
	xt_check "pvback-usbdev attach g1 --port ${d%% *} ${d#* }" pvback-usbdev attach g1 --port $d
done
# the storage devices share a VID:PID: the writable one first, alone
if dsk=$(xt_usb_sh g1 disk port:1 90); then
	xt_pass "domU: emu:storage enumerates, usb-storage gives it a disk ($dsk)"
	xt_usb_sh g1 info port:1 | sed 's/^/    | /'
	xt_check "emu:storage: mkfs.ext4, 4 MiB of files, sha256 after drop_caches, e2fsck clean" \
		xt_usb_sh g1 fs "$dsk" 4096
else
	xt_fail "domU: emu:storage enumerates with a disk" "$dsk"
fi
kbd=port:2 tab=port:3
xt_check "domU: emu:keyboard ($kbd): usbhid binds, an input device" sh -c \
	". /xt/xt.sh; xt_usb_sh g1 driver $kbd usbhid 60 && xt_usb_sh g1 input $kbd"
xt_check "domU: emu:tablet ($tab): usbhid binds, an input device" sh -c \
	". /xt/xt.sh; xt_usb_sh g1 driver $tab usbhid 60 && xt_usb_sh g1 input $tab"
if xt_check "domU: emu:zero enumerates as $XT_USB_ZERO, usbtest binds" sh -c \
	". /xt/xt.sh; xt_usb_sh g1 wait $XT_USB_ZERO 60 && xt_usb_sh g1 driver $XT_USB_ZERO usbtest 30"; then
	xt_usb_sh g1 info $XT_USB_ZERO | sed 's/^/    | /'
	out=$(xt_usb_testusb g1 $XT_USB_ZERO emu-zero)
	echo "$out" | sed 's/^/    | /'
	xt_usb_testusb_judge "emu:zero" "$out" "$(seq 0 29 | tr '\n' ' ')" ""
fi
# the read-only stick replaces the writable one on port 1
xt_check "pvback-usbdev detach g1 --port 1" pvback-usbdev detach g1 --port 1
xt_check "port/1 emptied: its disk leaves the domU" xt_domu_run g1 "sh /extra/usb.sh gone port:1 60 && ! test -e /dev/$dsk" 90
xt_check "pvback-usbdev attach g1 --port 1 emu:storage,file=$ro,readonly=1" pvback-usbdev attach g1 --port 1 "emu:storage,file=$ro,readonly=1"
if rdsk=$(xt_usb_sh g1 disk port:1 90); then
	xt_check "emu:storage,readonly=1: the domU's disk $rdsk is read-only" xt_domu_run g1 "test \$(cat /sys/block/$rdsk/ro) = 1" 30
	xt_check "emu:storage,readonly=1: a write fails" xt_domu_run g1 \
		"! dd if=/dev/zero of=/dev/$rdsk bs=4k count=1 oflag=direct" 60
else
	xt_fail "emu:storage,readonly=1 enumerates with a disk" "$rdsk"
fi
out=$(xt_domu_run g1 lsusb 30)
{ echo "XT-RECORD-BEGIN usb-emu-lsusb"; echo "$out"; echo "XT-RECORD-END usb-emu-lsusb"; }
xt_check "domU: lsusb lists 4 devices and the root hub" test "$(echo "$out" | grep -c '^Bus ')" = 5
xt_check "domU: no xen-hcd complaint in dmesg" xt_usb_hcd_clean g1
# libxl cannot remove a controller with an emu: spec on a port (it looks
# every non-empty port up in sysfs as a host device, gives up and leaves
# the backend directory): empty the ports before the domain goes
xt_check "pvback-usbdev detach of ports 1-4: all empty" sh -c \
	"for p in 1 2 3 4; do pvback-usbdev detach g1 --port \$p || exit 1; done; ! pvback-usbdev list g1 | grep -q 'emu:'"
xt_check "domU: the emulated devices leave (only the root hub in lsusb)" xt_domu_run g1 \
	"n=0; while [ \$(lsusb | grep -c '^Bus ') != 1 ]; do n=\$((n+1)); [ \$n -lt 150 ] || exit 1; sleep 0.2; done" 60
xt_check "domU powers off" xt_domu_poweroff g1
xt_check "backend dir removed" xt_xs_wait_gone "$be" 30
xt_check "pvback-usb is still running" xt_usb_alive
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
xt_check "no error logged by pvback-usb" sh -c "! grep ' ERR ' $XT_USB_LOG"
