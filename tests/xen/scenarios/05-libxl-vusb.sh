# SPDX-License-Identifier: GPL-2.0-or-later
# Description: As 03 for a PV USB controller. Debian's kernel has no xen-hcd,
# so the domU never answers: only libxl's side is recorded.
xt_standin_start vusb
if xt_check "xl create with usbctrl type=pv, no usbback" xt_domu_start usbprobe -p -- \
	"usbctrl = [ 'type=pv,version=2,ports=4' ]"; then
	id=$(xt_domid usbprobe)
	be=/local/domain/0/backend/vusb/$id/0
	fe=/local/domain/$id/device/vusb/0
	xt_check "libxl wrote $be (snapshot at state 1)" test -s /tmp/xt/standin-vusb-$id-0.txt
	{ echo "XT-RECORD-BEGIN vusb-libxl"; cat /tmp/xt/standin-vusb-$id-0.txt; echo "XT-RECORD-END vusb-libxl"; }
	xt_record vusb-after-create "$be" "$fe"
	xl destroy usbprobe
	xt_check "xl destroy removes $be" xt_xs_wait_gone "$be" 30
fi
