# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the USB harness itself, no pvback-usb needed. dom0: QEMU's
# xHCI with a stick, a keyboard and an audio device (tests/xen/run adds them
# for usb scenarios: p3=0, so the stick is high speed, not SuperSpeed), their
# usbfs nodes, and a configfs gadget zero (0525:a4a0, SourceSink + Loopback)
# on dummy_hcd. domU: Linux's xen-hcd, built out of tree from Debian's
# linux-source (Debian's kernel lacks it), loads (vermagic of the running
# kernel) and answers a stand-in vusb backend: probe reads libxl's num-ports
# and usb-ver, registers its root hub, writes its rings and goes Connected.
if xt_check "dom0: xHCI up, QEMU's stick, keyboard and audio device enumerate" xt_usb_dom0; then
	for d in "$XT_USB_STICK stick 480" "$XT_USB_KBD keyboard 12|480" "$XT_USB_AUDIO audio 12"; do
		set -- $d
		b=$(xt_usb_find "$1")
		sp=$(cat "/sys/bus/usb/devices/$b/speed")
		xt_check "dom0: $2 $1 at $b, $sp Mb/s, node /dev/bus/usb/$(printf '%03d/%03d' $(xt_usb_busaddr "$b"))" \
			sh -c "echo '$sp' | grep -Eqx '$3' && test -c /dev/bus/usb/$(printf '%03d/%03d' $(xt_usb_busaddr "$b"))"
	done
	b=$(xt_usb_find "$XT_USB_STICK")
	xt_check "dom0: usb-storage bound the stick (pvback-usb must detach it)" \
		sh -c "readlink /sys/bus/usb/devices/$b:1.0/driver | grep -q /usb-storage\$"
	xt_check "dom0: lsusb lists the three" sh -c \
		"lsusb | grep -q 'ID $XT_USB_STICK' && lsusb | grep -q 'ID $XT_USB_KBD' && lsusb | grep -q 'ID $XT_USB_AUDIO'"
fi
if zero=$(xt_usb_gadget_zero); then
	xt_pass "dom0: gadget zero on dummy_hcd enumerates at $zero (libxl's port/N form)"
	xt_check "dom0: gadget zero: high speed, 2 configurations, bound to no driver" sh -c \
		"test \$(cat /sys/bus/usb/devices/$zero/speed) = 480 && test \$(cat /sys/bus/usb/devices/$zero/bNumConfigurations) = 2 && test ! -e /sys/bus/usb/devices/$zero:1.0/driver"
else
	xt_fail "dom0: gadget zero on dummy_hcd enumerates"
fi
echo "XT-RECORD-BEGIN usb-dom0"
lsusb
for b in /sys/bus/usb/devices/[0-9]*-*; do
	case $b in *:*) continue ;; esac
	echo "$(basename "$b") $(cat "$b/idVendor"):$(cat "$b/idProduct") speed $(cat "$b/speed") '$(cat "$b/product" 2>/dev/null)'"
done
echo "XT-RECORD-END usb-dom0"

# xen-hcd against a stand-in: libxl writes num-ports, usb-ver and port/N
xt_standin_start vusb
if xt_check "domU with the usb layer and usbctrl type=pv (stand-in backend)" xt_usb_domu g1 -n; then
	id=$(xt_domid g1)
	fe=$(xt_usb_fe "$id")
	xt_check "domU: xen-hcd's vermagic is the running kernel's" xt_domu_run g1 \
		'modinfo -F vermagic /lib/modules/$(uname -r)/extra/xen-hcd.ko | grep -q "^$(uname -r) " && grep -q "^xen_hcd " /proc/modules' 30
	xt_check "xen-hcd goes Connected on the stand-in's InitWait" xt_xs_wait "$fe/state" 4 60
	xt_check "xen-hcd wrote urb-ring-ref, conn-ring-ref, event-channel" sh -c \
		"xenstore-read $fe/urb-ring-ref && xenstore-read $fe/conn-ring-ref && xenstore-read $fe/event-channel"
	xt_record usb-xenhcd-standin "$(xt_usb_be "$id")" "$fe"
	out=$(xt_usb_sh g1 hcd)
	echo "$out" | sed 's/^/    | /'
	xt_check "domU: xen-hcd's root hub: USB 2.0, the controller's 8 ports" sh -c \
		"echo '$out' | grep -q 'root hub 1d6b:0002 speed 480 ports 8 '"
	xt_check "domU: lsusb runs and lists the root hub" sh -c \
		". /xt/xt.sh; xt_domu_run g1 lsusb 30 | grep -q 'ID 1d6b:0002'"
	xt_domu_destroy g1
fi
