#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: ceph-lib.sh itself: a one-mon, one-OSD cluster comes up in a
# scratch directory; an image is created, written with rbd import of a random
# file and through librbd at an offset, and reads back identical (sha256);
# it grows (rbd info shows the new size, the new part reads as zeros); a
# snapshot keeps the old content while the image is overwritten; a clean OSD
# restart keeps every image; after ceph_grant, user pvback (the one
# pvback-blk drops to) reads the cluster; ceph_down leaves no daemon and no
# listener.
# shellcheck disable=SC2317 # the functions run through check
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/ceph-lib.sh"
t_plan 14

# A directory of its own (T_TMP is 0700: no other user could reach into it).
D=$(mktemp -d /tmp/pvback-ceph.XXXXXX)
on_exit "rm -rf '$D'" # after ceph_down, registered by ceph_up
t0=$SECONDS
ceph_up "$D" # bails out with the daemons' logs when it cannot
ok "the cluster comes up in $D ($((SECONDS - t0)) s, mon on 127.0.0.1:$CEPH_PORT)"
one_osd_up() { cephc osd stat | grep -q '1 osds: 1 up.* 1 in'; }
check "ceph osd stat: 1 osd up and in" one_osd_up

sha() { sha256sum "$1" | cut -d' ' -f1; }
head -c $((8 << 20)) /dev/urandom >"$T_TMP/a.bin"
head -c $((1 << 20)) /dev/urandom >"$T_TMP/w.bin"
check "an image can be created" rbd_create pvback/e 16M
check "rbd info shows its size" test "$(rbd_size pvback/e)" = $((16 << 20))
check "rbd import of a random file" rbd_import pvback/a "$T_TMP/a.bin"
check "rbd export reads it back identical" test "$(rbd_sha256 pvback/a)" = "$(sha "$T_TMP/a.bin")"

# The file as the image should be after writing w.bin at 3 MiB.
cp "$T_TMP/a.bin" "$T_TMP/a2.bin"
dd if="$T_TMP/w.bin" of="$T_TMP/a2.bin" bs=1M seek=3 conv=notrunc status=none
snap_then_write() { rbd_snap_create pvback/a@s1 && rbd_write pvback/a "$T_TMP/w.bin" $((3 << 20)); }
check "a snapshot, then a librbd write at 3 MiB" snap_then_write
check "the image reads the write" test "$(rbd_sha256 pvback/a)" = "$(sha "$T_TMP/a2.bin")"
check "the snapshot reads the old content" test "$(rbd_sha256 pvback/a@s1)" = "$(sha "$T_TMP/a.bin")"

grown() {
	rbd_resize pvback/a 12M || return 1
	[ "$(rbd_size pvback/a)" = $((12 << 20)) ] || { rbdc info pvback/a; return 1; }
	cp "$T_TMP/a2.bin" "$T_TMP/a3.bin"
	truncate -s 12M "$T_TMP/a3.bin"
	[ "$(rbd_sha256 pvback/a)" = "$(sha "$T_TMP/a3.bin")" ]
}
check "resized to 12 MiB: rbd info shows it, the new part reads zeros" grown

restart_keeps() {
	ceph_stop_osd && ceph_start_osd &&
		[ "$(rbd_sha256 pvback/a)" = "$(sha "$T_TMP/a3.bin")" ] &&
		[ "$(rbd_sha256 pvback/a@s1)" = "$(sha "$T_TMP/a.bin")" ]
}
check "a clean OSD restart keeps the image and its snapshot" restart_keeps

as_pvback() { ceph_grant pvback && runuser -u pvback -- timeout 30 rbd -c "$(ceph_conf)" ls pvback; }
if id pvback >/dev/null 2>&1; then
	check "after ceph_grant pvback, user pvback lists the images" as_pvback
else
	ok "# SKIP no user pvback (scripts/install-deps makes it)"
fi

port=$CEPH_PORT
t0=$SECONDS
ceph_down
none_left() {
	! pgrep -af "ceph-(mon|osd) -c $D/ceph.conf" &&
		! ss -Hltn "sport = :$port" | grep .
}
check "ceph_down ($((SECONDS - t0)) s) leaves no daemon and no listener" none_left
check "ceph_down again does nothing" ceph_down
t_done
