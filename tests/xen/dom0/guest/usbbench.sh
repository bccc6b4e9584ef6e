#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The reads of 92-bench-usb (busybox sh), the same in dom0
# (/xt/guest/usbbench.sh) and in its domUs (/extra/usbbench.sh): O_DIRECT
# reads of a disk with dd, timed with /proc/uptime (10 ms; busybox's date
# has no %N), so every path is measured by the same tool.
#   disk BUSID           the SCSI disk (sdX) of a USB device's interfaces, if any
#   read DEV MIB         sequential read of MIB MiB in 1 MiB reads from the start:
#                        "mib=N secs=X mbps=X" (MB = 10^6 bytes)
#   lat DEV COUNT        COUNT 4 KiB reads one at a time (QD1, sequential from
#                        the start): "reads=N secs=X lat_us=X"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
now() { cut -d' ' -f1 /proc/uptime; }
# dd DEV BS COUNT: rc 1 unless all COUNT blocks came in
rd() {
	if ! dd if="/dev/$1" of=/dev/null bs="$2" count="$3" iflag=direct 2>/tmp/usbbench.err ||
		! grep -q "^$3+0 records in" /tmp/usbbench.err; then
		cat /tmp/usbbench.err
		return 1
	fi
}
case $1 in
disk)
	for b in /sys/bus/usb/devices/"$2":*/host*/target*/*/block/*; do
		[ -e "$b" ] && [ -e "/dev/${b##*/}" ] && { echo "${b##*/}"; exit 0; }
	done
	exit 1 ;;
read)
	t0=$(now)
	rd "$2" 1M "$3" || exit 1
	t1=$(now)
	awk -v a="$t0" -v b="$t1" -v m="$3" 'BEGIN { s = b - a; if (s <= 0) s = 0.01
		printf "mib=%d secs=%.2f mbps=%.2f\n", m, s, m * 1.048576 / s }' ;;
lat)
	t0=$(now)
	rd "$2" 4k "$3" || exit 1
	t1=$(now)
	awk -v a="$t0" -v b="$t1" -v n="$3" 'BEGIN { s = b - a; if (s <= 0) s = 0.01
		printf "reads=%d secs=%.2f lat_us=%.0f\n", n, s, s * 1e6 / n }' ;;
*) echo "usbbench.sh: unknown command $1"; exit 2 ;;
esac
