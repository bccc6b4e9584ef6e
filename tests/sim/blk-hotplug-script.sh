#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: scripts/pvback-block, the hotplug script for xl's script=,
# run as libxl runs it (XENBUS_PATH in the environment, `add`/`remove` as
# $1) against backend directories made by `pvsim attach`: a usable file,
# read-write or readonly, passes and writes nothing (never
# hotplug-status=connected: that is the daemon's); a missing target, a
# directory and an unwritable file for mode w each write hotplug-error and
# hotplug-status=error and exit 1; an NBD URI or an RBD image passes untouched (the
# daemon connects); remove does nothing; a bad command or a
# missing XENBUS_PATH is refused.  Then `make install` puts it in
# /etc/xen/scripts and the systemd unit in $(PREFIX)/lib/systemd/system.
. "$(dirname "$0")/blk-lib.sh"
script=$T_TOP/scripts/pvback-block

guest_create g1 64M
truncate -s 16M "$W/ok.img" "$W/ro.img"
mkdir "$W/dir"
vbd_attach g1 "$W/ok.img" xvda rw
vbd_attach g1 "$W/ro.img" xvdb r
vbd_attach g1 "$W/missing.img" xvdc rw
vbd_attach g1 "$W/dir" xvdd rw
vbd_attach g1 "nbd+unix:///disk?socket=$W/nbd.sock" xvdg rw
vbd_attach g1 "rbd:pool/disk:conf=$W/ceph.conf" xvdh rw
run() { # devid command
	(eval "$(pvsim --dir "$S" env)"; XENBUS_PATH=$(be_path g1 "$1") "$script" "$2")
}
no_status() { ! be_read g1 "$1" hotplug-status; }
is_error() { [ "$(be_read g1 "$1" hotplug-status)" = error ] && be_read g1 "$1" hotplug-error | grep -q "$2"; }

check "add passes for a read-write file" run 51712 add
check "and writes no hotplug-status (the daemon writes connected)" no_status 51712
check "add passes for a readonly file with mode r" run 51728 add
check "and writes no hotplug-status either" no_status 51728
check "add fails for a missing target" fails run 51744 add
check "with hotplug-status=error and the path in hotplug-error" is_error 51744 "missing.img does not exist"
check "add fails for a directory" fails run 51760 add
check "with a hotplug-error naming the problem" is_error 51760 "neither a file nor a block device"
if chattr +i "$W/ro.img" 2>/dev/null; then
	vbd_attach g1 "$W/ro.img" xvde rw
	check "add fails for an immutable file with mode w" \
		fails run 51776 add
	check "with a hotplug-error saying it cannot be opened read-write" is_error 51776 "read-write"
	check "the same file still passes with mode r" run 51728 add
	chattr -i "$W/ro.img"
else
	ok "# SKIP chattr +i unsupported here"
fi
check "an NBD URI passes (the daemon connects to it)" run 51808 add
check "and writes no hotplug-status" no_status 51808
check "an RBD image passes (the daemon connects to it)" run 51824 add
check "and writes no hotplug-status" no_status 51824
check "remove does nothing and succeeds" run 51744 remove
udev_add() { (eval "$(pvsim --dir "$S" env)"; XENBUS_PATH=$(be_path g1 51712) ACTION=add "$script"); }
check "udev-style ACTION=add works too" udev_add
check "a bad command is refused" fails env XENBUS_PATH=x "$script" frobnicate
check "a missing XENBUS_PATH is refused" fails env -u XENBUS_PATH "$script" add

san=0; [ "$(basename "$T_BUILD")" = build-san ] && san=1
make -C "$T_TOP" --no-print-directory -s install DESTDIR="$W/inst" O="$T_BUILD" SAN=$san >"$W/inst.log" 2>&1
check "make install puts the script in /etc/xen/scripts, executable" test -x "$W/inst/etc/xen/scripts/pvback-block"
check "and the systemd unit in \$(PREFIX)/lib/systemd/system" \
	grep -q '^ExecStart=/usr/local/bin/pvback-blk --hv xen --foreground' "$W/inst/usr/local/lib/systemd/system/pvback-blk.service"
check "and the man page" test -f "$W/inst/usr/local/share/man/man8/pvback-blk.8"
t_done
