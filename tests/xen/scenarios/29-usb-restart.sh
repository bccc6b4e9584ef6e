# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-usb restarted under a connected controller. A domU
# with QEMU's stick (port 1, passed through) and an emu:storage (port 2),
# each with an ext4 of verified files, both then mounted read-write with a
# file written; a reader loops over the emu disk. SIGKILL (nothing
# answered), a new daemon: the mounted file systems keep working (a new
# file written, sync, every file read back with its sha256 after
# drop_caches). Then SIGTERM and a new daemon: the same again. Both
# unmounted at the end: e2fsck clean, the first files intact. The
# controller itself stays Connected throughout (watched).
command -v pvback-usb >/dev/null || { xt_todo "pvback-usb restart" "no build/bin/pvback-usb yet"; return 0; }
xt_check "dom0: QEMU's USB devices" xt_usb_dom0 || return 0
stick=$(xt_usb_find $XT_USB_STICK)
img=$XT_IMG/usb-restart.img
xt_blk_img "$img" 32
xt_usb_ready || return 0
(xenstore-watch "$be/state" | while read -r _; do xenstore-read "$be/state"; done >/tmp/xt/usb-be-states) 2>/dev/null &
xt_bg $!
(xenstore-watch "$fe/state" | while read -r _; do xenstore-read "$fe/state"; done >/tmp/xt/usb-fe-states) 2>/dev/null &
xt_bg $!
xt_check "pvback-usbdev attach g1 --port 1 $stick" pvback-usbdev attach g1 --port 1 "$stick"
xt_check "pvback-usbdev attach g1 --port 2 emu:storage,file=$img" pvback-usbdev attach g1 --port 2 "emu:storage,file=$img"
# port 2 last: usb.sh's fs keeps the sums of its last run for verify
for p in 1 2; do
	if d=$(xt_usb_sh g1 disk port:$p 120); then
		eval d$p=$d
		xt_pass "port $p's disk is there ($d)"
		xt_check "port $p's disk: mkfs, files verify, fsck clean" xt_usb_sh g1 fs "$d" 1024
		xt_check "port $p's disk mounted read-write, a file verifies" sh -c \
			". /xt/xt.sh; xt_usb_sh g1 mount $d && xt_usb_sh g1 mwrite $d before 256"
	else
		xt_fail "port $p's disk is there" "$d"
		return 0
	fi
done
# a reader on port 2's disk while the daemon goes away
xt_domu_run g1 "(while dd if=/dev/$d2 of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null; do :; done; echo done >/tmp/reader.end) </dev/null >/dev/null 2>&1 &" 30
# after LABEL: the controller Connected, both mounted file systems take a
# new file and read every file back
after() {
	local p d
	xt_check "$1: the controller is Connected" xt_xs_wait "$be/state" 4 60
	for p in 1 2; do
		eval d=\$d$p
		xt_check "$1: port $p's mounted $d: a new file, sync, all files verify (sha256)" \
			xt_usb_sh g1 mwrite "$d" "$2" 256
	done
	xt_check "$1: the reader on port 2's disk goes on" xt_domu_run g1 "test ! -e /tmp/reader.end" 30
}
xt_check "SIGKILL pvback-usb" xt_usb_kill
if xt_usb_start; then xt_pass "a new pvback-usb starts after the kill"; else xt_fail "a new pvback-usb starts after the kill"; fi
after "after SIGKILL" kill
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
if xt_usb_start; then xt_pass "a new pvback-usb starts after SIGTERM"; else xt_fail "a new pvback-usb starts after SIGTERM"; fi
after "after SIGTERM" term
xt_domu_run g1 "kill \$(pidof dd) 2>/dev/null; true" 30 >/dev/null
for p in 1 2; do
	eval d=\$d$p
	xt_check "port $p's $d unmounted, e2fsck clean" xt_usb_sh g1 umount "$d"
done
xt_check "port 2's first files read back intact, fsck clean" xt_usb_sh g1 verify "$d2"
xt_check "the backend state never left Connected ($(tr '\n' ' ' </tmp/xt/usb-be-states))" \
	sh -c "! grep -vx 4 /tmp/xt/usb-be-states"
xt_check "nor did xen-hcd's ($(tr '\n' ' ' </tmp/xt/usb-fe-states))" sh -c "! grep -vx 4 /tmp/xt/usb-fe-states"
xt_check "domU: no xen-hcd complaint in dmesg" xt_usb_hcd_clean g1
xt_check "pvback-usbdev detach of both ports (libxl cannot remove emu: ports)" sh -c \
	"pvback-usbdev detach g1 --port 1 && pvback-usbdev detach g1 --port 2"
xt_check "domU powers off" xt_domu_poweroff g1
xt_check "backend dir removed" xt_xs_wait_gone "$be" 30
xt_check "pvback-usb is still running" xt_usb_alive
xt_usb_stop_check "SIGTERM stops pvback-usb (exit status 0)"
xt_check "no error logged by pvback-usb" sh -c "! grep ' ERR ' $XT_USB_LOG"
