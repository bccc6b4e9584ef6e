#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk on Ceph RBD images (librbd), in a real one-node
# cluster (one mon, one memstore OSD) this test starts from Debian's
# packages and tears down: params rbd:POOL/IMAGE:conf=PATH.  fio's crc32c
# verify through the fio engine over mixed sizes, persistent grants on and
# off, one queue (exclusive-lock: one handle); flushes (fsync); what the
# guest wrote is in the image (rbd export from another client); 4 MiB trims
# free the image's objects; the OSD stopped and started again under the
# guest's writes costs the guest nothing (librbd re-sends); `rbd resize`
# is seen at once (librbd's update watch) and reaches the guest's sectors
# key; a snapshot attaches read-only with the data of its time, and
# read-write fails;
# librbd's writeback cache (rbd_cache=true) is said in the log and
# verifies with flushes; an absent image, pool or cluster and a malformed
# target fail their device with the reason in the log, and the daemon
# serves on.
. "$(dirname "$0")/blk-lib.sh"
. "$(dirname "$0")/ceph-lib.sh"

command -v ceph-mon >/dev/null || bail_out "ceph-mon missing (scripts/install-deps)"
command -v ceph-osd >/dev/null || bail_out "ceph-osd missing (scripts/install-deps)"
grep -q '^HAVE_LIBRBD := y' "$T_BUILD/config.mk" || bail_out "built without librbd (librbd-dev)"
pvfio_setup 24m
cd "$W" # fio writes any state files to its working directory

ceph_up "$W/ceph"
conf=$(ceph_conf)
tgt() { echo "rbd:pvback/$1:conf=$conf"; }
be_key() { be_read g1 "$1" "$2"; }
log_has() { grep -q "$1" "$W/blk.log"; }

guest_create g1 256M
daemon_up

# --- the verify matrix
# 1 MiB objects: a guest's 1 MiB trim frees a whole one.
check "an image of 64 MiB is made" rbdc create pvback/d1 --size 64M --object-size 1M
check "xvda on it attaches" vbd_attach g1 "$(tgt d1)" xvda rw
check "it reaches InitWait" wait_until 20 state_is g1 51712 2
check "the log names the RBD image and its write policy" \
	log_has "vbd-1-51712: .*RBD image read-write, 131072 sectors, writes through to the OSDs"
check "the backend offers one queue (one image handle)" \
	test "$(be_key 51712 multi-queue-max-queues)" = 1
for pers in 1 0; do
	for rw in randwrite write; do
		check "fio $rw verify crc32c 512-1m (persistent=$pers)" pvfio --name=v --rw=$rw \
			--bsrange=512-1m --iodepth=16 --verify=crc32c --verify_fatal=1 \
			--do_verify=1 --persistent=$pers
	done
done
check "fio randwrite with fsync (FLUSH) every 8 writes completes" pvfio --name=s \
	--rw=randwrite --bs=4k --fsync=8 --iodepth=4
check "fio's last write pattern, with a flush at the end" pvfio --name=p --rw=write \
	--bs=1m --iodepth=4 --buffer_pattern=0x5a5a5a5a --end_fsync=1 --size=8m
sha_of_pattern() { head -c 8M /dev/zero | tr '\0' '\132' | sha256sum | cut -d' ' -f1; }
first_8m() { rbdc export --no-progress pvback/d1 - 2>/dev/null | head -c 8M | sha256sum | cut -d' ' -f1; }
check "another client reads what the guest wrote from the cluster" \
	test "$(first_8m)" = "$(sha_of_pattern)"
check "sectors is the image's size" test "$(be_key 51712 sectors)" = 131072
check "the backend offered flush" test "$(be_key 51712 feature-flush-cache)" = 1
check "and discard" test "$(be_key 51712 feature-discard)" = 1

# --- trims: whole objects go
objects() { timeout 60 rados -c "$conf" -p pvback ls | grep -c '^rbd_data\.'; }
check "fio writes 16 MiB" pvfio --name=w --rw=write --bs=1m --iodepth=4 --size=16m
n_before=$(objects)
check "fio trims them in 1 MiB pieces" pvfio --name=t --rw=trim --bs=1m --iodepth=2 --size=16m
check "16 of the image's objects were removed" test "$(objects)" -le $((n_before - 16))

# --- the OSD restarts under the guest's writes
written() { stats --json vbd-1-51712 | python3 -c '
import json, sys
print(json.load(sys.stdin)["devices"][0]["total"]["wr_sect"])'; }
w0=$(written)
wrote_2m() { [ "$(written)" -ge $((w0 + 4096)) ]; }
pvfio --name=r --rw=write --bs=64k --iodepth=8 --rate=4m --size=16m --verify=crc32c \
	--do_verify=1 --verify_fatal=1 >"$W/r.out" 2>&1 &
fio_pid=$!
on_exit "kill $fio_pid 2>/dev/null"
osd_bounce() {
	wait_until 30 wrote_2m || return 1
	ceph_stop_osd && ceph_start_osd
}
check "the OSD is stopped and started again while fio writes" osd_bounce
fio_ok() { wait "$1" || { cut -c1-400 "$2"; return 1; }; }
check "fio completes with every block verified, no error seen" fio_ok "$fio_pid" "$W/r.out"
check "the daemon logged no I/O error" fails log_has "vbd-1-51712.*I/O error"

# --- resize
check "the image grows to 96 MiB" rbd_resize pvback/d1 96M
check "the daemon sees it at once (librbd's update watch)" \
	wait_until 20 log_has "vbd-1-51712: resized from 131072 to 196608 sectors"
check "pvback-blk resize finds nothing more to do" \
	eval 'dom0 pvback-blk resize | grep -q "resized 0 device"'
check "fio verifies 8 MiB beyond the old end" pvfio --name=g --rw=write --bs=64k \
	--iodepth=8 --offset=80m --size=8m --verify=crc32c --verify_fatal=1 --do_verify=1
check "the guest connected with the new size" test "$(be_key 51712 sectors)" = 196608

# --- snapshots: read-only, the data of their time
check "an image with a pattern" rbd_create pvback/d2 16M
check "xvdb on it attaches" vbd_attach g1 "$(tgt d2)" xvdb rw
check "it reaches InitWait" wait_until 20 state_is g1 51728 2
pvfio_b() { pvfio_vdev=xvdb pvfio "$@"; }
check "fio writes 8 MiB with crc32c headers" pvfio_b --name=w --rw=write --bs=64k \
	--iodepth=8 --verify=crc32c --do_verify=0 --end_fsync=1 --size=8m
check "a snapshot is taken" rbd_snap_create pvback/d2@s1
check "the image is overwritten" pvfio_b --name=z --rw=write --bs=64k --iodepth=8 \
	--buffer_pattern=0 --size=8m
check "xvdc on the snapshot attaches read-only" vbd_attach g1 "$(tgt d2@s1)" xvdc r
check "it reaches InitWait" wait_until 20 state_is g1 51744 2
check "the log says read-only" log_has "vbd-1-51744: .*RBD image readonly"
pvfio_c() { pvfio_vdev=xvdc pvfio_size=8m pvfio "$@"; }
check "fio verifies the snapshot's 8 MiB" pvfio_c --name=w --rw=write \
	--bs=64k --iodepth=8 --verify=crc32c --verify_only=1 --verify_fatal=1
vbd_attach g1 "$(tgt d2@s1)" xvdd rw
check "the snapshot attached read-write fails (state Closed)" wait_until 20 state_is g1 51760 6
check "and the log says why" log_has "vbd-1-51760: .*a snapshot is read-only"

# --- librbd's writeback cache
check "an image for the cache" rbd_create pvback/d3 32M
check "xvde with rbd_cache=true attaches" vbd_attach g1 "$(tgt d3):rbd_cache=true" xvde rw
check "it reaches InitWait" wait_until 20 state_is g1 51776 2
check "the log says writeback cache" log_has "vbd-1-51776: .*librbd's writeback cache"
pvfio_e() { pvfio_vdev=xvde pvfio_size=16m pvfio "$@"; }
check "fio verify crc32c with fsync every 4 writes" pvfio_e --name=c --rw=randwrite \
	--bsrange=4k-128k --iodepth=8 --fsync=4 --verify=crc32c --verify_fatal=1 --do_verify=1

# --- what fails, fails one device with the reason
vbd_attach g1 "$(tgt nobody)" xvdf rw
check "an absent image fails its device" wait_until 20 state_is g1 51792 6
check "the log names it" log_has "vbd-1-51792: cannot open rbd:pvback/nobody.*cannot open image nobody"
vbd_attach g1 "rbd:nopool/x:conf=$conf" xvdg rw
check "an absent pool fails its device" wait_until 20 state_is g1 51808 6
check "the log names it" log_has "vbd-1-51808: .*no pool nopool"
vbd_attach g1 "rbd:justaname" xvdh rw
check "a malformed target fails its device" wait_until 20 state_is g1 51824 6
check "the log gives the syntax" log_has "vbd-1-51824: .*not rbd:POOL/"
check "xvda still verifies" guest_of g1 verify 8
# (--isolate domain: every vbd stopped and started its worker's queues.)
check "no worker process died" fails log_has "worker process [0-9]*: .*its devices fail"
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
