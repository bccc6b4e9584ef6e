#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# domU side of the usb scenarios (busybox sh). Shipped in dom0 as
# /xt/guest/usb.sh and added to a domU as /extra/usb.sh (xt_usb_domu).
# usage: sh /extra/usb.sh CMD ARGS; prints what it found, exit 0 = ok.
# Devices are named by VID:PID (lsusb's form) or port:N (the device on
# port N of xen-hcd's root hub: the controller's port/N); a busid is the
# sysfs name ("1-3": root-hub port 3 of bus 1).
#   hcd                    xen-hcd's bus: driver bound, root hub, ports, speed
#   dev VID:PID            busid of the first such device
#   wait VID:PID SEC       wait until one is there (prints its busid)
#   gone VID:PID SEC       wait until none is
#   info VID:PID           busid, speed, node, and each interface's driver
#   driver VID:PID DRV SEC wait until an interface of it is bound to DRV
#   disk VID:PID SEC       wait for its SCSI disk, print the name (sda)
#   fs DEV KIB             mkfs.ext4, files of KIB KiB in all + sha256, umount,
#                          drop caches, mount, compare, umount, e2fsck -fn
#   verify DEV             mount ro, compare the files of the last fs run (any DEV
#                          name: the disk may come back under another), e2fsck -fn
#   mount DEV              mount its ext4 read-write at /mnt/live-DEV, leave it mounted
#   mwrite DEV TAG KIB     a new file on the mounted DEV, sync, drop caches, all files
#                          written by mwrite read back with their sha256
#   umount DEV             umount it, e2fsck -fn
#   dd-bg DEV TAG          write DEV with dd again and again in the background
#                          (O_DIRECT), until it fails; rc to /tmp/TAG.rc
#   dd-rc TAG SEC          wait for it to end, print its rc and last error
#   testusb VID:PID        usbtest (bound to it) through testusb -D, each of the
#                          30 cases alone: "case N: ok T s" | "case N: FAIL errno (text)" |
#                          "case N: n/a" (usbtest: no such endpoint or feature); then
#                          15 16 22 23 with usbtest alt=1, 25 26 with alt=2 ("... (alt N)"),
#                          4 and 8 when they babbled (EOVERFLOW) with whole-packet lengths
#   play VID:PID SEC       aplay SEC s to its PCM: rc 0 and the streaming interface
#                          left alt 0 while playing
#   input VID:PID          the input device of it (/sys/class/input/eventN name)
#   sound VID:PID          the ALSA card of it (/proc/asound/cards line)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
cmd=$1
shift
# ext4 asks the crypto API for crc32c (metadata_csum); the kernel's
# request_module("crypto-crc32c") needs modules.alias, which the image lacks
grep -q '^crc32c_generic ' /proc/modules || modprobe crc32c_generic 2>/dev/null || modprobe crc32c-generic

hcdbus() { # the bus number of xen-hcd's root hub
	local r
	for r in /sys/bus/usb/devices/usb*; do
		case $(readlink "$r/../driver" 2>/dev/null) in */vusb) echo "${r##*/usb}"; return 0 ;; esac
	done
	return 1
}
dev() { # VID:PID or port:N -> busid
	local d
	case $1 in port:*)
		d=$(hcdbus)-${1#port:}
		[ -e "/sys/bus/usb/devices/$d/idVendor" ] && echo "$d"
		return ;;
	esac
	for d in /sys/bus/usb/devices/*; do
		[ -e "$d/idVendor" ] || continue
		[ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = "$1" ] || continue
		basename "$d"
		return 0
	done
	return 1
}
waitfor() { # SEC CMD...: CMD every 0.2 s until it succeeds
	local n=$(($1 * 5))
	shift
	while ! "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}
nodev() { ! dev "$1" >/dev/null; }
node() { # busid -> /dev/bus/usb/BBB/DDD
	printf '/dev/bus/usb/%03d/%03d\n' "$(cat "/sys/bus/usb/devices/$1/busnum")" "$(cat "/sys/bus/usb/devices/$1/devnum")"
}
bound() { # busid DRV
	local i
	for i in /sys/bus/usb/devices/"$1":*; do
		[ "$(basename "$(readlink "$i/driver" 2>/dev/null)")" = "$2" ] && return 0
	done
	return 1
}
diskof() { # busid -> sdX
	local b
	for b in /sys/bus/usb/devices/"$1":*/host*/target*/*/block/*; do
		[ -e "$b" ] && [ -e "/dev/$(basename "$b")" ] && { basename "$b"; return 0; }
	done
	return 1
}

case $cmd in
hcd)
	d=/sys/bus/xen/drivers/vusb
	[ -d $d ] || { echo "no xen-hcd driver (vusb) registered"; exit 1; }
	for r in /sys/bus/usb/devices/usb*; do
		[ -e "$r/../driver" ] || continue
		case $(readlink "$r/../driver") in */vusb) ;; *) continue ;; esac
		echo "$(basename "$r"): xen-hcd root hub $(cat "$r/idVendor"):$(cat "$r/idProduct")" \
			"speed $(cat "$r/speed") ports $(cat "$r/maxchild") product '$(cat "$r/product")'"
		exit 0
	done
	echo "xen-hcd is registered but has no root hub"
	exit 1 ;;
dev) dev "$1" ;;
wait) waitfor "$2" dev "$1" >/dev/null && dev "$1" ;;
gone) waitfor "$2" nodev "$1" ;;
info)
	b=$(dev "$1") || { echo "no $1"; exit 1; }
	echo "$b $1 speed $(cat "/sys/bus/usb/devices/$b/speed") node $(node "$b")" \
		"product '$(cat "/sys/bus/usb/devices/$b/product" 2>/dev/null)'"
	for i in /sys/bus/usb/devices/"$b":*; do
		echo "  $(basename "$i") class $(cat "$i/bInterfaceClass") driver $(basename "$(readlink "$i/driver" 2>/dev/null)")"
	done ;;
driver)
	b=$(dev "$1") || { echo "no $1"; exit 1; }
	waitfor "$3" bound "$b" "$2" || { echo "no interface of $b bound to $2"; exit 1; } ;;
disk)
	b=$(waitfor "$2" dev "$1" >/dev/null && dev "$1") || { echo "no $1"; exit 1; }
	waitfor "$2" diskof "$b" >/dev/null || { echo "no disk on $b"; exit 1; }
	diskof "$b" ;;
fs)
	d=$1 m=/mnt/$1 kib=$2
	mkdir -p "$m"
	/sbin/mkfs.ext4 -q -F "/dev/$d" || { echo "mkfs failed"; exit 1; }
	mount -t ext4 "/dev/$d" "$m" || { echo "mount failed"; exit 1; }
	for i in 1 2 3 4; do
		dd if=/dev/urandom of="$m/f$i" bs=1k count=$((kib * i / 10)) 2>/dev/null || exit 1
	done
	mkdir -p "$m/d"
	for i in $(seq 1 20); do echo "small $i $RANDOM" >"$m/d/s$i"; done
	(cd "$m" && sha256sum f1 f2 f3 f4 d/*) >"/tmp/$d.sums"
	cp "/tmp/$d.sums" /tmp/last.sums
	umount "$m" || { echo "umount failed"; exit 1; }
	# drop the page and buffer caches: the reads below come from the device
	echo 3 >/proc/sys/vm/drop_caches
	blockdev --flushbufs "/dev/$d"
	mount -t ext4 -o ro "/dev/$d" "$m" || { echo "remount failed"; exit 1; }
	(cd "$m" && sha256sum -c "/tmp/$d.sums" >"/tmp/$d.check" 2>&1) || {
		echo "checksums differ:"; grep -v OK "/tmp/$d.check" | head; umount "$m"; exit 1; }
	echo "$(wc -l <"/tmp/$d.sums") files ($kib KiB) read back with matching sha256"
	umount "$m" || exit 1
	/sbin/e2fsck -fn "/dev/$d" >"/tmp/$d.fsck" 2>&1 || { echo "e2fsck not clean:"; tail "/tmp/$d.fsck"; exit 1; }
	echo "e2fsck -fn clean" ;;
verify)
	d=$1 m=/mnt/$1
	mkdir -p "$m"
	echo 3 >/proc/sys/vm/drop_caches
	mount -t ext4 -o ro "/dev/$d" "$m" || { echo "mount failed"; exit 1; }
	(cd "$m" && sha256sum -c /tmp/last.sums >/tmp/verify.check 2>&1) || {
		echo "checksums differ:"; grep -v OK /tmp/verify.check | head; umount "$m"; exit 1; }
	echo "$(wc -l </tmp/last.sums) files read back with matching sha256"
	umount "$m" || exit 1
	/sbin/e2fsck -fn "/dev/$d" >"/tmp/$d.fsck" 2>&1 || { echo "e2fsck not clean:"; tail "/tmp/$d.fsck"; exit 1; }
	echo "e2fsck -fn clean" ;;
mount)
	# mount DEV: mount its ext4 (made by fs) read-write at /mnt/live-DEV and keep it
	mkdir -p "/mnt/live-$1"
	mount -t ext4 "/dev/$1" "/mnt/live-$1" || { echo "mount failed"; exit 1; }
	: >"/tmp/live-$1.sums"
	echo "/dev/$1 mounted on /mnt/live-$1" ;;
mwrite)
	# mwrite DEV TAG KIB: a new file of KIB KiB on the mounted DEV, sync, drop
	# the caches, then every file written so far reads back with its sha256
	m=/mnt/live-$1
	grep -q " $m " /proc/mounts || { echo "$m is not mounted"; exit 1; }
	dd if=/dev/urandom of="$m/$2" bs=1k count="$3" 2>/dev/null || { echo "writing $m/$2 failed"; exit 1; }
	sync || { echo "sync failed"; exit 1; }
	(cd "$m" && sha256sum "$2") >>"/tmp/live-$1.sums"
	echo 3 >/proc/sys/vm/drop_caches
	(cd "$m" && sha256sum -c "/tmp/live-$1.sums" >"/tmp/live-$1.check" 2>&1) || {
		echo "checksums differ:"; grep -v OK "/tmp/live-$1.check" | head; exit 1; }
	echo "$(wc -l <"/tmp/live-$1.sums") files on the mounted /dev/$1 read back with matching sha256" ;;
umount)
	umount "/mnt/live-$1" || { echo "umount failed"; exit 1; }
	/sbin/e2fsck -fn "/dev/$1" >"/tmp/$1.fsck" 2>&1 || { echo "e2fsck not clean:"; tail "/tmp/$1.fsck"; exit 1; }
	echo "umounted, e2fsck -fn clean" ;;
dd-bg)
	rm -f "/tmp/$2.rc" "/tmp/$2.log"
	(
		n=0
		while dd if=/dev/zero of="/dev/$1" bs=64k count=64 oflag=direct 2>"/tmp/$2.log"; do
			n=$((n + 1))
			echo $n >"/tmp/$2.n"
		done
		echo 1 >"/tmp/$2.rc"
	) </dev/null >/dev/null 2>&1 &
	echo "dd on /dev/$1 started" ;;
dd-rc)
	waitfor "$2" test -e "/tmp/$1.rc" || { echo "still running after $2 s ($(cat "/tmp/$1.n" 2>/dev/null) rounds)"; exit 1; }
	echo "dd ended after $(cat "/tmp/$1.n" 2>/dev/null || echo 0) full rounds: $(tail -n 1 "/tmp/$1.log")" ;;
testusb)
	b=$(dev "$1") || { echo "no $1"; exit 1; }
	bound "$b" usbtest || { echo "usbtest is not bound to $b"; exit 1; }
	n=$(node "$b")
	echo "$b $1 $n speed $(cat "/sys/bus/usb/devices/$b/speed")"
	# usbtest takes the first altsetting with a bulk pair (alt 0) unless its
	# alt= names one: the isochronous endpoints of gadget zero and emu:zero
	# are in alt 1 (f_sourcesink), emu:zero's interrupt ones in alt 2. Cases
	# 15, 16, 22, 23 run again with alt=1, 25 and 26 with alt=2, the
	# interface bound again each time (a probe fails when the device has no
	# such altsetting: those cases keep their alt 0 result).
	intf=$(basename "$(for i in /sys/bus/usb/drivers/usbtest/"$b":*; do echo "$i"; done | head -n 1)")
	rebind() { # ALT
		echo "$1" >/sys/module/usbtest/parameters/alt
		[ ! -e "/sys/bus/usb/drivers/usbtest/$intf" ] || echo "$intf" >/sys/bus/usb/drivers/usbtest/unbind
		echo "$intf" >/sys/bus/usb/drivers/usbtest/bind 2>/dev/null
		waitfor 10 bound "$b" usbtest
	}
	tcase() { # N [SUFFIX [SIZE VARY]]
		local i=$1 out rc r t
		# small counts: every transfer crosses TCG, Xen and the backend
		timeout 120 testusb -D "$n" -t "$i" -c 8 -s "${3:-512}" -g 4 -v "${4:-64}" >/tmp/testusb.out 2>/dev/null
		rc=$?
		out=$(grep " test ${i}[, ]" /tmp/testusb.out)
		case $out in
		*" --> "*) r="FAIL ${out#* --> }" ;;
		*secs) t=${out##*,}; t=${t% secs}; r="ok ${t##* } s" ;;
		"") if [ $rc = 143 ] || [ $rc = 124 ]; then r="FAIL timeout"; else r="n/a"; fi ;;
		*) r="FAIL ($out)" ;;
		esac
		echo "case $i: $r$2"
	}
	for i in $(seq 0 29); do tcase "$i"; done | tee /tmp/testusb.cases
	# 4 and 8 read lengths of 512 + k*64 mod 512 (-v 64): shorter than a
	# packet. A device that sends whole 512-byte packets (Linux's gadget
	# zero) babbles into them (EOVERFLOW, on any host); those two run again
	# with lengths in whole packets (-s 2048 -v 512: 512..2048)
	for i in 4 8; do
		grep -q "^case $i: FAIL 75 " /tmp/testusb.cases && tcase "$i" " (-s 2048 -v 512)" 2048 512
	done
	if rebind 1; then
		for i in 15 16 22 23; do tcase "$i" " (alt 1)"; done
	else
		echo "usbtest alt=1: no such altsetting (probe failed)"
	fi
	if rebind 2; then
		for i in 25 26; do tcase "$i" " (alt 2)"; done
	else
		echo "usbtest alt=2: no such altsetting (probe failed)"
	fi
	rebind -1 >/dev/null || echo "usbtest alt=-1: no rebind" ;;
play)
	# play VID:PID SEC: aplay SEC s of silence to the device's first PCM
	# (raw S16_LE, 48 kHz, stereo: QEMU's usb-audio); snd-usb-audio switches
	# the streaming interface to an altsetting with the iso endpoint while
	# it plays and back to alt 0 after
	b=$(dev "$1") || { echo "no $1"; exit 1; }
	c=
	for f in /sys/bus/usb/devices/"$b":*/sound/card*/number; do [ -e "$f" ] && c=$(cat "$f"); done
	[ -n "$c" ] || { echo "no sound card on $b"; exit 1; }
	si=
	for i in /sys/bus/usb/devices/"$b":*; do
		[ "$(cat "$i/bInterfaceClass")" = 01 ] && [ "$(cat "$i/bInterfaceSubClass")" = 02 ] && { si=$i; break; }
	done
	[ -n "$si" ] || { echo "no audio streaming interface on $b"; exit 1; }
	# sysfs prints it right-aligned (" 0"): arithmetic strips the blank
	alt0=$(($(cat "$si/bAlternateSetting")))
	timeout $(($2 + 20)) aplay -q -D "hw:$c,0" -t raw -f S16_LE -r 48000 -c 2 -d "$2" /dev/zero >/tmp/aplay.log 2>&1 &
	p=$!
	alt=0 st=
	k=0
	while [ $k -lt $(($2 * 5)) ] && [ "$alt" = 0 ]; do
		sleep 0.2
		alt=$(($(cat "$si/bAlternateSetting")))
		k=$((k + 1))
	done
	st=$(grep -m1 'Status:' "/proc/asound/card$c/stream0" 2>/dev/null | tr -s ' ')
	wait $p
	rc=$?
	sleep 0.5
	echo "card $c, $(basename "$si") alt $alt0 -> $alt while playing ($st), aplay rc $rc, alt $(($(cat "$si/bAlternateSetting"))) after"
	[ -s /tmp/aplay.log ] && sed 's/^/aplay: /' /tmp/aplay.log
	[ $rc = 0 ] && [ "$alt" != 0 ] ;;
input)
	b=$(dev "$1") || { echo "no $1"; exit 1; }
	for e in /sys/bus/usb/devices/"$b":*/*/input/input*; do
		[ -e "$e/name" ] && { echo "$(basename "$e"): $(cat "$e/name")"; exit 0; }
	done
	echo "no input device on $b"; exit 1 ;;
sound)
	b=$(dev "$1") || { echo "no $1"; exit 1; }
	for c in /sys/bus/usb/devices/"$b":*/sound/card*; do
		[ -e "$c/id" ] && { echo "$(basename "$c"): $(cat "$c/id") $(cat "$c/number" 2>/dev/null)"; exit 0; }
	done
	echo "no sound card on $b"; exit 1 ;;
*) echo "usb.sh: unknown command $cmd"; exit 2 ;;
esac
