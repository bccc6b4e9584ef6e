# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the domain library of tests/sim/usb-*.sh (sourced, not run),
# on top of tap.sh: a private pvsim in a /var/tmp directory, pvback-usb
# start/stop, guests with a vusb controller, emulated devices on its ports
# (pvsim usbdev-attach), usbfront-tool as a guest (one-shot, or a shell
# that stays connected), and the conditions the scripts wait on.  W is the
# test's directory, S the pvsim's in it, $W/usb.log the daemon's log (shown
# when a test failed).
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
BACKEND=pvback-usb BE_TYPE=vusb BE_LOG=usb.log
. "$(dirname "${BASH_SOURCE[0]}")/backend-lib.sh" usbfront-tool

# guest_create NAME: a pvsim guest (bails out when pvsim refuses).
guest_create() { pvsim --dir "$S" create "$1" --mem 64M >/dev/null || bail_out "pvsim create $1"; }
# vusb_attach GUEST [k=v...]: a vusb controller (devid 0 first), as xl usbctrl-attach.
vusb_attach() { local g=$1; shift; pvsim --dir "$S" attach "$g" vusb "$@" >/dev/null; }
# dev_attach GUEST DEVID PORT SPEC / dev_detach GUEST DEVID PORT: xl usbdev-attach/-detach.
dev_attach() { pvsim --dir "$S" usbdev-attach "$@"; }
dev_detach() { pvsim --dir "$S" usbdev-detach "$@"; }
# guest_of GUEST ARGS...: usbfront-tool as GUEST.
guest_of() { local g=$1; shift; (eval "$(pvsim --dir "$S" env "$g")"; exec timeout 120 usbfront-tool "$@"); }
# guest_create + vusb 0 (8 ports, USB 2.0) + a daemon that answers.
g1_vusb() {
	guest_create g1
	daemon_up "$@"
	vusb_attach g1 version=2 ports=8 || bail_out "vusb attach"
	wait_until 10 state_is g1 0 2 || bail_out "the vusb backend does not reach InitWait"
}
# A 16 MiB image file NAME in $W.
img() { truncate -s 16M "$W/$1"; }
# The hostile suites' setup: g1 (g1_vusb) with gadget zero on port 1, and
# the other guest g2 with emu:storage on its port 1; other_guest_ok: g2's
# storage I/O, written and verified (a fresh seed each time).
hostile_setup() {
	g1_vusb
	dev_attach g1 0 1 emu:zero
	guest_create g2
	vusb_attach g2
	wait_until 10 state_is g2 0 2
	img s.img
	dev_attach g2 0 1 emu:storage,file=$W/s.img
	seed=1
}
other_guest_ok() {
	seed=$((seed + 1))
	guest_of g2 storage 1 write --offset 0 --length 1048576 --seed $seed &&
	guest_of g2 storage 1 verify --offset 0 --length 1048576 --seed $seed
}

# shell_start GUEST [OPTIONS] (backend-lib.sh) gives a connected
# usbfront-tool shell; sh_cmd sends one command and prints its output up to
# its "ok"/"FAIL" line (returning 0 for ok).  Never pipe it into a reader
# that may stop early (grep -q): its SIGPIPE would leave the rest of the reply
# to the next command, and every later command would read the reply before.
sh_cmd() {
	local line
	echo "$*" >&"$sh_in" || return 1
	while IFS= read -r -t 60 line <&"$sh_out"; do
		echo "$line"
		[ "$line" = ok ] && return 0
		[[ "$line" == FAIL* ]] && return 1
	done
	echo "no reply to: $*"
	return 1
}
# FNV-1a 64 of LEN bytes at OFF of FILE, as usbfront-tool storage prints it.
fnv_of() {
	python3 - "$@" <<'P'
import sys
f, off, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
h = 0xcbf29ce484222325
with open(f, 'rb') as fh:
    fh.seek(off)
    for b in fh.read(n):
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print('%016x' % h)
P
}
# checksum_of OUTPUT: the checksum in a storage command's output line.
checksum_of() { sed -n 's/.*ok checksum \([0-9a-f]*\).*/\1/p' <<<"$1"; }
