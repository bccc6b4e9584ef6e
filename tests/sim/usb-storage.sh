#!/usr/bin/env bash
# Description: emu:storage over BOT/SCSI from the guest: INQUIRY and READ
# CAPACITY, seeded data written with WRITE(10) (+ SYNCHRONIZE CACHE) and
# read back with READ(10); the checksums agree with the image file's own
# bytes, the data outside the range is untouched; two devices on two
# guests at once; the benchmark modes report one JSON line.
. "$(dirname "$0")/usb-lib.sh"

g1_vusb
img s.img
dev_attach g1 0 1 emu:storage,file=$W/s.img
info() { guest_of g1 storage 1 info | grep -q "32768 blocks of 512 bytes (16 MiB)"; }
check "info: 16 MiB of 512-byte blocks" info
w=$(guest_of g1 storage 1 write --offset 1048576 --length 3145728 --seed 7); echo "# $w"
check "a 3 MiB write succeeds" grep -q "ok checksum" <<<"$w"
r=$(guest_of g1 storage 1 verify --offset 1048576 --length 3145728 --seed 7); echo "# $r"
check "it verifies on read-back" grep -q "ok checksum" <<<"$r"
check "read and write checksums agree" test "$(checksum_of "$w")" = "$(checksum_of "$r")"
check "the image file holds exactly those bytes" test "$(fnv_of "$W/s.img" 1048576 3145728)" = "$(checksum_of "$w")"
check "the bytes before the range are untouched" test "$(fnv_of "$W/s.img" 0 1048576)" = "$(python3 -c '
h = 0xcbf29ce484222325
for _ in range(1048576): h = (h * 0x100000001b3) & 0xffffffffffffffff
print("%016x" % h)')"
check "another seed does not verify" fails guest_of g1 storage 1 verify --offset 1048576 --length 65536 --seed 8
check "an unaligned range is refused" fails guest_of g1 storage 1 write --offset 100 --length 512

guest_create g2
vusb_attach g2
wait_until 10 state_is g2 0 2
img t.img
dev_attach g2 0 3 emu:storage,file=$W/t.img
guest_of g1 storage 1 write --offset 0 --length 8388608 --seed 1 >"$W/a.out" 2>&1 & a=$!
guest_of g2 storage 3 write --offset 0 --length 8388608 --seed 2 >"$W/b.out" 2>&1 & b=$!
wait $a; ra=$?; wait $b; rb=$?
check "two guests write 8 MiB each at once" test "$ra$rb" = 00
own() {
	guest_of g1 storage 1 verify --offset 0 --length 8388608 --seed 1 &&
	guest_of g2 storage 3 verify --offset 0 --length 8388608 --seed 2
}
check "each image holds its own guest's data" own
bench_json() { # MODE KEY ARGS...: one JSON line with KEY > 0
	local m=$1 k=$2; shift 2
	guest_of g1 bench 1 --mode "$m" --seconds 1 "$@" | tee /dev/stderr |
		python3 -c "import json,sys; d=json.loads(sys.stdin.read()); assert d['$k'] > 0, d"
}
check "bench bulk-read (qd 8) reports MB/s" bench_json bulk-read MBps --qd 8
check "bench bulk-write (qd 4, 16 KiB URBs)" bench_json bulk-write MBps --qd 4 --size 16384
check "bench latency reports p50/p99" bench_json latency p99_us
check "the daemon logged no error" sh -c "! grep -q ' ERR ' '$W/usb.log'"
t_done
