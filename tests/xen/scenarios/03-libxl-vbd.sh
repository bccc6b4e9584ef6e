# SPDX-License-Identifier: GPL-2.0-or-later
# Description: What libxl 4.17 writes for a vbd whose backend it does not
# start (xen-blkback not loaded): pvsim's toolstack (sim/toolstack.c) must
# write the same keys with the same permissions. A stand-in backend moves
# state 1 -> 2 so xl create completes; the stand-in's snapshot, taken at state
# 1, is exactly libxl's transaction. Then the domU is unpaused and Linux's
# blkfront answers InitWait: its keys are recorded too.
truncate -s 64M /tmp/xt/vbd.img
xt_standin_start vbd
if xt_check "xl create with a phy vbd, no kernel blkback" xt_domu_start vbdprobe -p -- \
	"disk = [ 'format=raw,vdev=xvda,access=rw,backendtype=phy,target=/tmp/xt/vbd.img' ]"; then
	id=$(xt_domid vbdprobe)
	be=/local/domain/0/backend/vbd/$id/51712
	fe=/local/domain/$id/device/vbd/51712
	xt_check "libxl wrote $be (snapshot at state 1)" test -s /tmp/xt/standin-vbd-$id-51712.txt
	{ echo "XT-RECORD-BEGIN vbd-libxl"; cat /tmp/xt/standin-vbd-$id-51712.txt; echo "XT-RECORD-END vbd-libxl"; }
	xt_check "hotplug script ran: block add $be" grep -q "block add XENBUS_PATH=backend/vbd/$id/51712" /tmp/xt/hotplug.log
	xl unpause vbdprobe
	if xt_xs_wait "$fe/state" 3 60; then
		xt_pass "blkfront answered InitWait with Initialised (3)"
	else
		xt_fail "blkfront answered InitWait with Initialised (3)"
	fi
	xt_record vbd-after-blkfront "$be" "$fe"
	xt_record vbd-parents /local/domain/0/backend/vbd
	xl destroy vbdprobe
	xt_check "xl destroy removes $be" xt_xs_wait_gone "$be" 30
fi
