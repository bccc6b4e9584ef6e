#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: device removal through `pvsim detach` (libxl's graceful
# removal: online=0, backend state Closing, wait for Closed, remove the
# nodes).  (1) Unplug with I/O in flight: blkfront-tool keeps both rings full
# of 4 KiB writes, the detach comes, the frontend closes at once with the
# writes in flight; every write the backend acknowledged must be in the
# backing file, the backend reaches Closed (detach exits 0 well within
# libxl's 10 s), the device is freed, and the daemon keeps serving another
# device.  (2) online=0 removal of an idle device whose frontend closed, and
# (3) of one whose frontend never connected: both reach Closed at once.
. "$(dirname "$0")/blk-lib.sh"

guest_create g1 256M
g1id=$(domid_of g1)
truncate -s 64M "$W/a.img" "$W/b.img" "$W/c.img" "$W/d.img"
daemon_up
for d in a:xvda b:xvdb c:xvdc d:xvdd; do
	vbd_attach g1 "$W/${d%%:*}.img" "${d#*:}" rw
done
check "the four devices reach InitWait" wait_until 10 state_is g1 51760 2
guest() { guest_of g1 "$@"; }
# detach_timed VDEV: pvsim detach g1 vbd VDEV, as libxl's graceful removal;
# how long it took in $took (ms).
detach_timed() {
	local start rc
	start=$(date +%s%N)
	pvsim --dir "$S" detach g1 vbd "$1"
	rc=$?
	took=$((($(date +%s%N) - start) / 1000000))
	return $rc
}

# (1) unplug with I/O in flight
check "writes are flowing through xvda" \
	stream_start g1 --queues 2 --order 2 --indirect 32 stream 8192 "$W/acked"
check "pvsim detach g1 vbd xvda succeeds while the writes are in flight" detach_timed xvda
check "the backend reached Closed well before libxl's 10 s timeout (${took} ms)" test "$took" -lt 5000
out=$(timeout 30 cat <&"$sfd")
wait "$spid" 2>/dev/null
echo "$out" | sed 's/^/# /'
infl=$(echo "$out" | sed -n 's/^inflight-at-close //p')
check "requests were in flight when the frontend closed (${infl:-?})" test "${infl:-0}" -gt 0
check "the backend answered every one before Closed, none failed" \
	grep -q "unanswered 0 errors 0" <<<"$out"
check "every acknowledged write is in the backing file" python3 - "$W/a.img" "$W/acked" <<'PY'
import struct, sys
img = open(sys.argv[1], 'rb')
n = bad = 0
for line in open(sys.argv[2]):
    b, g = map(int, line.split())
    img.seek(b * 4096)
    blk = img.read(4096)
    fb, fg = struct.unpack_from('<QQ', blk)
    # A newer generation is a write that completed but whose answer the
    # frontend did not see: allowed.  Older, or torn, is a lost write.
    if fb != b or fg < g or blk != struct.pack('<QQ', fb, fg) * 256:
        bad += 1
        if bad < 5:
            print('block', b, 'acked gen', g, 'file has', fb, fg)
    n += 1
print(n, 'acknowledged blocks checked,', bad, 'bad')
sys.exit(1 if bad or n < 256 else 0)
PY
check "the backend directory was removed" be_gone g1 51712
check "the daemon freed the device (not in stats)" wait_until 10 not_listed "vbd-$g1id-51712"
check "the daemon is alive" kill -0 "$daemon_pid"
check "xvdb still serves correct data" guest --devid 51728 --queues 2 --seed 11 verify 8

# (2) online=0 of an idle device whose frontend has closed
check "xvdc connects and verifies, then closes" guest --devid 51744 --seed 12 verify 2
check "xvdc's backend is Closed" state_is g1 51744 6
check "pvsim detach g1 vbd xvdc (idle, closed) succeeds" detach_timed xvdc
check "it reached Closed at once (${took} ms), not by libxl's timeout" test "$took" -lt 5000
check "xvdc is freed" wait_until 10 not_listed "vbd-$g1id-51744"

# (3) online=0 of a device whose frontend never connected
check "xvdd waits in InitWait" state_is g1 51760 2
check "pvsim detach g1 vbd xvdd (never connected) succeeds" detach_timed xvdd
check "it reached Closed at once (${took} ms), not by libxl's timeout" test "$took" -lt 5000
check "xvdd is freed" wait_until 10 not_listed "vbd-$g1id-51760"
check "xvdb still verifies" guest --devid 51728 --seed 13 verify 4
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
