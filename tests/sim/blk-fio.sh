#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the fio ioengine (pvblk.so) against pvback-blk on pvsim: fio's
# own crc32c verify over mixed block sizes (512 B .. 1 MiB with indirect
# segments, up to 44 KiB without), random and sequential, with queues 1/2,
# persistent grants on/off and ring order 0/4; trim and fsync jobs; a second
# job on the same vbd is refused with a clear message.  In the sanitizer
# build the engine is an ASan/UBSan .so, so fio runs with those runtimes
# preloaded: the engine is checked under the sanitizers too.
. "$(dirname "$0")/blk-lib.sh"

pvfio_setup 24m

guest_create g1 256M
truncate -s 64M "$W/a.img"
cd "$W" # fio writes any state files to its working directory
daemon_up
check "xvda attaches" vbd_attach g1 "$W/a.img" xvda rw
wait_until 10 state_is g1 51712 2

# Every combination of ring order 0/4, queues 1/2, indirect on/off and
# persistent grants on/off; random and sequential writes of mixed sizes.
for order in 0 4; do for queues in 1 2; do for ind in 256 0; do for pers in 1 0; do
	f="--ring_order=$order --queues=$queues --indirect=$ind --persistent=$pers"
	bs=512-1m
	[ "$ind" = 0 ] && bs=512-44k # 11 segments without indirect descriptors
	for rw in randwrite write; do
		check "fio $rw verify crc32c $bs ($f)" pvfio --name=v --rw=$rw --bsrange=$bs \
			--iodepth=16 --verify=crc32c --verify_fatal=1 --do_verify=1 $f
	done
done; done; done; done
check "fio randtrim completes" pvfio --name=t --rw=randtrim --bs=64k --iodepth=4
check "the trims punched holes in the backing file" python3 -c "
import os,sys; fd=os.open('$W/a.img',os.O_RDONLY); sys.exit(0 if os.lseek(fd,0,os.SEEK_HOLE)<24<<20 else 1)"
check "fio randwrite with fsync (FLUSH) every 8 writes completes" pvfio --name=s \
	--rw=randwrite --bs=4k --fsync=8 --iodepth=4
# fio fails, and says why.
second_job_refused() {
	local out
	out=$(pvfio --name=a --rw=randread --bs=4k --numjobs=2 2>&1) && return 1
	grep -q 'already in use' <<<"$out" || { echo "$out"; return 1; }
}
check "a second job on the same vbd is refused with a message" second_job_refused
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
