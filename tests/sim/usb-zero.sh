#!/usr/bin/env bash
# Description: usbtest's cases through the PV path against emu:zero (a
# gadget-zero compatible device): bulk source/sink with pattern checks
# (mod63 and zeroes), queued transfers, chapter 9 requests, the queued
# control list of test 10, unlinks of in-flight URBs (11, 12, 24, and a
# pending IN unlinked), halt set/clear/status (13), vendor control OUT/IN
# (14), iso IN/OUT with per-packet status and actual_length, interrupt IN/OUT,
# buffers whose segments cross pages, loopback round trips.
. "$(dirname "$0")/usb-lib.sh"

g1_vusb
dev_attach g1 0 1 emu:zero,pattern=1
dev_attach g1 0 2 emu:zero
out=$(guest_of g1 zero 1 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
check "every case passes with the mod63 pattern" test $rc = 0
for c in "1 bulk-write" "2 bulk-read" "5 bulk-write-queued" "9 ch9" "10 ctrl-queue" \
	 "11 unlink-read" "12 unlink-write" "13 halt" "14 ctrl-out" "15 iso-write" "16 iso-read" \
	 "17 bulk-write-unaligned" "18 bulk-read-unaligned" "24 unlink-queued" "25 int-write" \
	 "26 int-read" "30 loopback" "31 unlink-pending"; do
	check "case $c ok" grep -q "^case $c: ok" <<<"$out"
done
long_runs() {
	guest_of g1 zero 2 --case 1,2,5,6 --sglen 16 --iterations 20 &&
	guest_of g1 zero 2 --case 1,2,17,18 --length 57344 --iterations 5
}
check "the zeroes pattern, long queued runs (16 URBs, 4 KiB and 56 KiB)" long_runs
check "iso with several pages of packets (60 KiB)" guest_of g1 zero 1 --case 15,16 --length 61000 --sglen 4
check "the daemon logged no error" sh -c "! grep -q ' ERR ' '$W/usb.log'"
t_done
