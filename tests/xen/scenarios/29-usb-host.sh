# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-usb passes dom0's USB devices through libusb to
# Linux's xen-hcd: QEMU's high-speed stick (usb-storage detached in dom0:
# mkfs, files with sha256, fsck clean), keyboard (usbhid, an input device),
# audio device (full speed, snd-usb-audio binds: a card; aplay streams
# isochronous OUT, the streaming interface switches altsetting), and the
# gadget zero on dummy_hcd (usbtest; every testusb case recorded: dummy_hcd
# has no isochronous transfers, so 15, 16, 22, 23 are expected to fail
# there; 4 and 8 babble at -v 64 and are judged on their whole-packet rerun). `xl usbdev-attach` fails in this dom0 (libxl binds the interfaces
# to a kernel usbback driver Linux lacks; recorded), so the devices are
# attached with scripts/pvback-usbdev (port/N as libxl writes it, BUS-PORT).
command -v pvback-usb >/dev/null || { xt_todo "pvback-usb passthrough" "no build/bin/pvback-usb yet"; return 0; }
xt_check "dom0: QEMU's USB devices" xt_usb_dom0 || return 0
zero=$(xt_usb_gadget_zero) || { xt_fail "dom0: gadget zero"; return 0; }
stick=$(xt_usb_find $XT_USB_STICK) kbd=$(xt_usb_find $XT_USB_KBD) audio=$(xt_usb_find $XT_USB_AUDIO)
xt_log "dom0: stick $stick, keyboard $kbd, audio $audio, gadget zero $zero"
xt_usb_ready || return 0
xt_check "xen-hcd is Connected" xt_xs_wait "$fe/state" 4 60
xt_record usb-ctrl-pvback "$be" "$fe"

# xl usbdev-attach: libxl writes port/N, then binds each interface to the
# kernel's usbback driver (/sys/bus/usb/drivers/usbback) and, when that
# fails, clears port/N again
out=$(xt_usb_xl_attach g1 "$stick" 2>&1)
rc=$?
echo "$out" | tail -n 5 | sed 's/^/    xl| /'
if [ -d /sys/bus/usb/drivers/usbback ]; then
	xt_check "xl usbdev-attach of the stick" test $rc = 0
	xl usbdev-detach g1 0 1
else
	xt_check "xl usbdev-attach fails without a dom0 usbback driver (libxl binds interfaces to it): rc=$rc, port/1 empty afterwards" \
		sh -c "test $rc != 0 && test -z \"\$(xenstore-read $be/port/1)\""
fi
xt_check "pvback-usb survived libxl's attach and retraction" xt_usb_alive

# pvback-usbdev: BUS-PORT, and xl's hostbus=B,hostaddr=A form for the keyboard
set -- $(xt_usb_busaddr "$kbd")
xt_check "pvback-usbdev attach g1 --port 1 $stick" pvback-usbdev attach g1 --port 1 "$stick"
xt_check "pvback-usbdev attach g1 --port 2 hostbus=$1,hostaddr=$2 (the keyboard)" \
	pvback-usbdev attach g1 --port 2 "hostbus=$1,hostaddr=$2"
xt_check "pvback-usbdev attach g1 $audio: the first free port, 3" sh -c \
	"pvback-usbdev attach g1 $audio && test \"\$(xenstore-read $be/port/3)\" = $audio"
xt_check "pvback-usbdev attach g1 --port 4 $zero" pvback-usbdev attach g1 --port 4 "$zero"
xt_check "pvback-usbdev refuses a device already on a port" sh -c "! pvback-usbdev attach g1 $stick"
xt_check "port/1..4 hold $stick $kbd $audio $zero" sh -c \
	"test \"\$(for p in 1 2 3 4; do xenstore-read $be/port/\$p; done | tr '\n' ' ')\" = '$stick $kbd $audio $zero '"
pvback-usbdev list g1 | sed 's/^/    | /'
if xt_check "domU: the stick enumerates" xt_usb_sh g1 wait $XT_USB_STICK 90; then
	xt_check "dom0: usb-storage let go of the stick (libusb detached it)" \
		sh -c "! readlink /sys/bus/usb/devices/$stick:1.0/driver | grep -q /usb-storage\$"
	xt_usb_sh g1 info $XT_USB_STICK | sed 's/^/    | /'
	if dsk=$(xt_usb_sh g1 disk $XT_USB_STICK 90); then
		xt_pass "domU: usb-storage gives the stick a disk ($dsk)"
		xt_check "stick: mkfs.ext4, 2 MiB of files, sha256 after drop_caches, e2fsck clean" \
			xt_usb_sh g1 fs "$dsk" 2048
	else
		xt_fail "domU: usb-storage gives the stick a disk" "$dsk"
	fi
fi
if xt_check "domU: the keyboard enumerates" xt_usb_sh g1 wait $XT_USB_KBD 60; then
	xt_check "domU: usbhid binds the keyboard" xt_usb_sh g1 driver $XT_USB_KBD usbhid 30
	xt_check "domU: the keyboard is an input device" xt_usb_sh g1 input $XT_USB_KBD
fi
if xt_check "domU: the audio device enumerates (full speed, isochronous endpoints)" \
	xt_usb_sh g1 wait $XT_USB_AUDIO 60; then
	xt_check "domU: snd-usb-audio binds it" xt_usb_sh g1 driver $XT_USB_AUDIO snd-usb-audio 30
	xt_check "domU: an ALSA card" xt_usb_sh g1 sound $XT_USB_AUDIO
	xt_check "domU: aplay 3 s to it (isochronous OUT): rc 0, the streaming interface leaves alt 0" \
		xt_usb_sh g1 play $XT_USB_AUDIO 3
	xt_usb_sh g1 play $XT_USB_AUDIO 1 | sed 's/^/    | /'
fi
if xt_check "domU: gadget zero enumerates, usbtest binds" sh -c \
	". /xt/xt.sh; xt_usb_sh g1 wait $XT_USB_ZERO 60 && xt_usb_sh g1 driver $XT_USB_ZERO usbtest 30"; then
	out=$(xt_usb_testusb g1 $XT_USB_ZERO host-gadget-zero)
	echo "$out" | sed 's/^/    | /'
	xt_usb_testusb_judge "gadget zero (dummy_hcd)" "$out" "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 17 18 19 20 21 24 27 28 29" "15 16 22 23" \
		"dummy_hcd has no isochronous transfers, so f_sourcesink drops its iso altsetting"
fi
out=$(xt_domu_run g1 lsusb 30)
{ echo "XT-RECORD-BEGIN usb-host-lsusb"; echo "$out"; echo "XT-RECORD-END usb-host-lsusb"; }
xt_check "domU: lsusb lists the four devices" sh -c "echo '$out' | grep -q 'ID $XT_USB_STICK' &&
	echo '$out' | grep -q 'ID $XT_USB_KBD' && echo '$out' | grep -q 'ID $XT_USB_AUDIO' && echo '$out' | grep -q 'ID $XT_USB_ZERO'"
xt_check "pvback-usbdev detach g1 $zero: port/4 emptied" sh -c \
	"pvback-usbdev detach g1 $zero && test -z \"\$(xenstore-read $be/port/4)\""
xt_check "gadget zero leaves the domU" xt_usb_sh g1 gone $XT_USB_ZERO 60
xt_check "dom0: gadget zero is back, unbound" sh -c "test -e /sys/bus/usb/devices/$zero/idVendor"
xt_check "domU: no xen-hcd complaint in dmesg" xt_usb_hcd_clean g1
xt_check "domU powers off" xt_domu_poweroff g1
xt_check "backend dir removed" xt_xs_wait_gone "$be" 30
xt_log "dom0 after: stick interface driver $(readlink /sys/bus/usb/devices/$stick:1.0/driver)"
xt_check "pvback-usb is still running" xt_usb_alive
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
xt_check "no error logged by pvback-usb" sh -c "! grep ' ERR ' $XT_USB_LOG"
