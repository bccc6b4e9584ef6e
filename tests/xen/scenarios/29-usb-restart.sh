# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-usb restarted under a connected controller. A domU
# with QEMU's stick (port 1) and an emu:storage (port 2), files with sha256
# written on each; a reader loops over the emu disk. SIGKILL (nothing
# answered), a new daemon: the devices come back to the domU (the same
# ones, or re-enumerated), the files read back intact and fsck clean, new
# writes verify. Then SIGTERM and a new daemon: the same again. The
# controller itself stays Connected throughout (watched).
command -v pvback-usb >/dev/null || { xt_todo "pvback-usb restart" "no build/bin/pvback-usb yet"; return 0; }
xt_check "dom0: QEMU's USB devices" xt_usb_dom0 || return 0
stick=$(xt_usb_find $XT_USB_STICK)
img=$XT_IMG/usb-restart.img
xt_blk_img "$img" 32
xt_usb_start || { xt_fail "pvback-usb starts"; return 0; }
if ! xt_check "domU with an 8-port USB 2.0 controller: backend Connected" xt_usb_domu g1; then
	xt_check "pvback-usb is still running" xt_usb_alive
	return 0
fi
id=$(xt_domid g1)
be=$(xt_usb_be "$id") fe=$(xt_usb_fe "$id")
(xenstore-watch "$be/state" | while read -r _; do xenstore-read "$be/state"; done >/tmp/xt/usb-be-states) 2>/dev/null &
xt_bg $!
(xenstore-watch "$fe/state" | while read -r _; do xenstore-read "$fe/state"; done >/tmp/xt/usb-fe-states) 2>/dev/null &
xt_bg $!
xt_usb_plug "$id" 1 "$stick"
xt_usb_plug "$id" 2 "emu:storage,file=$img"
# round LABEL [verify]: both disks there (port 2 last: usb.sh's fs keeps
# the sums of its last run), with verify port 2's files of the last round
# read back first; then mkfs and new files on each
round() {
	local label=$1 d p
	for p in 1 2; do
		if d=$(xt_usb_sh g1 disk port:$p 120); then
			xt_pass "$label: port $p's disk is there ($d)"
			[ $p = 1 ] || [ -z "$2" ] || xt_check "$label: the files on port 2's disk read back intact, fsck clean" \
				xt_usb_sh g1 verify "$d"
			xt_check "$label: port $p's disk: mkfs, new files verify, fsck clean" xt_usb_sh g1 fs "$d" 1024
		else
			xt_fail "$label: port $p's disk is there" "$d"
		fi
	done
}
round "before"
# a reader on port 2's disk while the daemon goes away
d=$(xt_usb_sh g1 disk port:2 10)
xt_domu_run g1 "(while dd if=/dev/$d of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null; do :; done; echo done >/tmp/reader.end) </dev/null >/dev/null 2>&1 &" 30
xt_check "SIGKILL pvback-usb" xt_usb_kill
if xt_usb_start; then xt_pass "a new pvback-usb starts after the kill"; else xt_fail "a new pvback-usb starts after the kill"; fi
xt_check "after SIGKILL: the controller is Connected" xt_xs_wait "$be/state" 4 60
round "after SIGKILL" verify
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
if xt_usb_start; then xt_pass "a new pvback-usb starts after SIGTERM"; else xt_fail "a new pvback-usb starts after SIGTERM"; fi
xt_check "after SIGTERM: the controller is Connected" xt_xs_wait "$be/state" 4 60
round "after SIGTERM" verify
xt_check "the backend state never left Connected ($(tr '\n' ' ' </tmp/xt/usb-be-states))" \
	sh -c "! grep -vx 4 /tmp/xt/usb-be-states"
xt_check "nor did xen-hcd's ($(tr '\n' ' ' </tmp/xt/usb-fe-states))" sh -c "! grep -vx 4 /tmp/xt/usb-fe-states"
xt_check "domU: no xen-hcd complaint in dmesg" xt_usb_hcd_clean g1
xt_check "domU powers off" xt_domu_poweroff g1
xt_check "backend dir removed" xt_xs_wait_gone "$be" 30
xt_check "pvback-usb is still running" xt_usb_alive
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
xt_check "no error logged by pvback-usb" sh -c "! grep ' ERR ' $XT_USB_LOG"
