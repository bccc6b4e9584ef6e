#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# domU side of the blk scenarios (busybox sh). Shipped in dom0 as
# /xt/guest/blk.sh and added to a domU as /extra/blk.sh (xt_domu_start -f).
# usage: sh /extra/blk.sh CMD ARGS; prints what it checked, exit 0 = ok.
#   fs DEV                 mkfs.ext4, mount, files + sha256, umount, mount, compare, umount, e2fsck -fn
#   fio DEV SIZE [JOBNAME] fio randwrite then sequential write with crc32c verify (libaio, direct)
#   fio-bg DEV SIZE TAG    fio in the background; exit code to /tmp/TAG.rc, output to /tmp/TAG.log
#   wait-bg TAG SEC        wait for a background fio, print its log tail, return its exit code
#   wait-dev DEV SEC       wait until /sys/block/DEV exists;  wait-gone DEV SEC: until it does not
#   features DEV           queues, max_segments, ro, size of DEV
#   bench DEV NAME RW BS QD RUNTIME RAMP   one fio job (libaio, direct, time_based,
#                          total-latency percentiles); prints its terse v3 line
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
cmd=$1
shift
# ext4 asks the crypto API for crc32c (metadata_csum); the kernel's
# request_module("crypto-crc32c") needs modules.alias, which the image lacks
grep -q '^crc32c_generic ' /proc/modules || modprobe crc32c_generic 2>/dev/null || modprobe crc32c-generic

fs() {
	local dev=$1 m=/mnt/$1 i
	mkdir -p "$m"
	/sbin/mkfs.ext4 -q -F "/dev/$dev" || { echo "mkfs failed"; return 1; }
	mount -t ext4 "/dev/$dev" "$m" || { echo "mount failed"; return 1; }
	for i in 1 2 3 4; do
		dd if=/dev/urandom of="$m/f$i" bs=64k count=$((i * 16)) 2>/dev/null || return 1
	done
	mkdir -p "$m/d"
	for i in $(seq 1 50); do echo "small $i $RANDOM" >"$m/d/s$i"; done
	(cd "$m" && sha256sum f1 f2 f3 f4 d/*) >/tmp/$dev.sums
	umount "$m" || { echo "umount failed"; return 1; }
	# drop the domU's page cache so the reads below come from the backend
	echo 3 >/proc/sys/vm/drop_caches
	mount -t ext4 -o ro "/dev/$dev" "$m" || { echo "remount failed"; return 1; }
	(cd "$m" && sha256sum -c /tmp/$dev.sums >/tmp/$dev.check 2>&1) || {
		echo "checksums differ:"; grep -v OK /tmp/$dev.check | head; umount "$m"; return 1; }
	echo "$(wc -l </tmp/$dev.sums) files read back with matching sha256"
	umount "$m" || return 1
	/sbin/e2fsck -fn "/dev/$dev" || { echo "e2fsck not clean"; return 1; }
	echo "e2fsck clean"
}

fio_verify() { # DEV SIZE NAME
	local dev=$1 size=$2 name=${3:-v} rw
	for rw in randwrite write; do
		fio --name="$name-$rw" --filename="/dev/$dev" --direct=1 --ioengine=libaio --iodepth=16 \
			--rw=$rw --bs=4k-128k --size="$size" --verify=crc32c \
			--verify_fatal=1 --do_verify=1 --numjobs=1 --randrepeat=0 \
			--output-format=terse --terse-version=3 >/tmp/fio-$name-$rw.out 2>&1 ||
			{ echo "fio $rw on $dev failed:"; tail -n 20 /tmp/fio-$name-$rw.out; return 1; }
		# terse v3: field 3 jobname, 5 error, 6 read KiB, 47 write KiB
		awk -F';' '{ printf "fio %s: err=%s read=%sKiB written=%sKiB\n", $3, $5, $6, $47 }' \
			/tmp/fio-$name-$rw.out
	done
}

# bench: the job make bench-xen runs against each backend. Whole device,
# random offsets without a map, ramp excluded from the figures.
bench() { # DEV NAME RW BS QD RUNTIME RAMP
	fio --name="$2" --filename="/dev/$1" --direct=1 --ioengine=libaio --rw="$3" --bs="$4" \
		--iodepth="$5" --time_based --runtime="$6" --ramp_time="$7" --numjobs=1 \
		--norandommap --randrepeat=0 --lat_percentiles=1 \
		--output-format=terse --terse-version=3 >"/tmp/bench-$2.out" 2>&1 ||
		{ echo "fio $2 on $1 failed:"; tail -n 20 "/tmp/bench-$2.out"; return 1; }
	grep '^3;' "/tmp/bench-$2.out"
}

wait_sys() { # DEV SEC want(1=present 0=gone)
	local n=$(($2 * 5))
	while [ $n -gt 0 ]; do
		if [ -e "/sys/block/$1" ]; then [ "$3" = 1 ] && return 0; else [ "$3" = 0 ] && return 0; fi
		sleep 0.2
		n=$((n - 1))
	done
	echo "timeout waiting for /sys/block/$1 (want present=$3)"
	return 1
}

case $cmd in
fs) fs "$@" ;;
fio) fio_verify "$@" ;;
bench) bench "$@" ;;
fio-bg)
	rm -f "/tmp/$3.rc"
	(fio_verify "$1" "$2" "$3" >"/tmp/$3.log" 2>&1; echo $? >"/tmp/$3.rc") </dev/null >/dev/null 2>&1 &
	echo "started $3"
	;;
wait-bg)
	n=$(($2 * 5))
	while [ ! -s "/tmp/$1.rc" ] && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
	tail -n 20 "/tmp/$1.log"
	[ -s "/tmp/$1.rc" ] || { echo "fio $1 still running after $2 s"; exit 1; }
	exit "$(cat "/tmp/$1.rc")"
	;;
wait-dev) wait_sys "$1" "$2" 1 ;;
wait-gone) wait_sys "$1" "$2" 0 ;;
features)
	d=/sys/block/$1
	echo "queues=$(ls $d/mq | wc -l) max_segments=$(cat $d/queue/max_segments)" \
		"ro=$(cat $d/ro) size=$(cat $d/size) discard_max=$(cat $d/queue/discard_max_bytes)"
	;;
*) echo "blk.sh: unknown command $cmd"; exit 2 ;;
esac
