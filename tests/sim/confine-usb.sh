#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-usb confined on pvsim (issue 13, docs/security.md):
# while a guest writes and verifies data on an emulated storage device
# (BOT/SCSI through the urb ring), then runs usbtest's cases against
# emu:zero, every thread runs as pvback, the main thread keeps only
# CAP_DAC_OVERRIDE, and the controller's queue thread (usb<domid>q0) has
# no capability and the seccomp filter; the daemon's port file in its
# state directory (written after the drop) is pvback's.
. "$(dirname "$0")/usb-lib.sh"
. "$(dirname "$0")/confine-lib.sh"

g1_vusb
g1id=$(domid_of g1)
img s.img
chmod 0600 "$W/s.img" # root's: the main thread opens it with CAP_DAC_OVERRIDE
dev_attach g1 0 1 emu:storage,file=$W/s.img
dev_attach g1 0 2 emu:zero
shell_start g1 || bail_out "shell: $sh_ready"
check "the daemon logged its confinement" grep -q \
	"confined: uid $PVBACK_UID gid $PVBACK_GID; main thread keeps dac_override,ipc_lock;.*(kill)" "$W/usb.log"
check "the storage device shows up" sh_cmd wait-port 1 present
# The daemon, or with --isolate domain its worker for g1, which confines
# itself the same way (usb-isolate.sh checks the xenbus process then).
confined_checks "$(queue_process "$daemon_pid" "usb${g1id}q0")" "usb${g1id}q0" 0000000000004002
shell_stop
w=$(guest_of g1 storage 1 write --offset 0 --length 2097152 --seed 9); echo "# $w"
r=$(guest_of g1 storage 1 verify --offset 0 --length 2097152 --seed 9); echo "# $r"
check "2 MiB written and verified on emu:storage under the filter" \
	test -n "$(checksum_of "$w")" -a "$(checksum_of "$w")" = "$(checksum_of "$r")"
check "the image file holds those bytes" test "$(fnv_of "$W/s.img" 0 2097152)" = "$(checksum_of "$w")"
check "usbtest cases against emu:zero pass under the filter" \
	guest_of g1 zero 2 --case 1,2 --iterations 3
state_files_are_pvback() {
	local d=$S/pvback-usb.state f bad=0
	[ "$(stat -c %u "$d")" = "$PVBACK_UID" ] || { echo "$d: $(stat -c %U "$d")"; bad=1; }
	for f in "$d"/*; do
		[ -e "$f" ] || continue
		[ "$(stat -c %u "$f")" = "$PVBACK_UID" ] || { echo "$f: $(stat -c %U "$f")"; bad=1; }
	done
	return $bad
}
check "the state directory and what the daemon wrote there are pvback's" state_files_are_pvback
check "the daemon is alive (no filter kill) and exits 0 on SIGTERM" stop_daemon
t_done
