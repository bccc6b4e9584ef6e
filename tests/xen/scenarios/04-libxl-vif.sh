# SPDX-License-Identifier: GPL-2.0-or-later
# Description: As 03 for a vif (xen-netback not loaded): libxl's keys and
# permissions at state 1, then Linux's netfront's answer to InitWait.
xt_standin_start vif
if xt_check "xl create with a vif, no kernel netback" xt_domu_start vifprobe -p -- \
	"vif = [ 'bridge=xenbr0' ]"; then
	id=$(xt_domid vifprobe)
	be=/local/domain/0/backend/vif/$id/0
	fe=/local/domain/$id/device/vif/0
	xt_check "libxl wrote $be (snapshot at state 1)" test -s /tmp/xt/standin-vif-$id-0.txt
	{ echo "XT-RECORD-BEGIN vif-libxl"; cat /tmp/xt/standin-vif-$id-0.txt; echo "XT-RECORD-END vif-libxl"; }
	xt_check "hotplug script ran: vif-bridge online $be" grep -q "vif-bridge online type_if=vif XENBUS_PATH=backend/vif/$id/0" /tmp/xt/hotplug.log
	xl unpause vifprobe
	# netfront goes from Initialising straight to Connected when it sees InitWait
	if xt_xs_wait "$fe/state" '[34]' 60; then
		xt_pass "netfront answered InitWait ($(xenstore-read $fe/state))"
	else
		xt_fail "netfront answered InitWait"
	fi
	xt_record vif-after-netfront "$be" "$fe"
	xl destroy vifprobe
	xt_check "xl destroy removes $be" xt_xs_wait_gone "$be" 30
fi
