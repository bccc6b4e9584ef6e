#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk end to end on pvsim with the userspace blkfront
# (blkfront-tool): handshake and negotiated keys, data integrity over the
# feature matrix (ring order 0/4, queues 1/2, indirect on/off, persistent
# on/off, native and x86_32 ABI) on every I/O engine, discard punching a hole
# in the backing file, a readonly device refusing writes, one hostile
# request per validation rule (error response or disconnect; the daemon and a
# second device keep serving), and SIGTERM draining to exit status 0.
# The backing files live on /var/tmp (a real filesystem, not tmpfs).
. "$(dirname "$0")/blk-lib.sh"

guest_create g1 128M
truncate -s 64M "$W/a.img" "$W/b.img" "$W/ro.img"

guest() { (eval "$(pvsim --dir "$S" env g1)"; timeout 60 blkfront-tool "$@"); }

daemon_up
check "xvda attaches" vbd_attach g1 "$W/a.img" xvda rw
check "backend state reaches InitWait (2) within a second" wait_until 1 state_is g1 51712 2
guest info >"$W/info" 2>&1
check "the frontend connects and reads 131072 sectors" grep -q "^sectors 131072 " "$W/info"
check "flush, barrier and discard are offered" grep -q "^flush 1 barrier 1 discard 1" "$W/info"

for io in uring aio sync; do
	if [ "$io" != uring ]; then
		stop_daemon || not_ok "daemon exits 0 on SIGTERM before io=$io"
		daemon_up --io "$io"
	fi
	for f in "" "--order 4" "--queues 2" "--indirect 256" "--persistent" "--x86-32" \
		 "--order 4 --queues 2 --indirect 256 --persistent" \
		 "--x86-32 --order 2 --indirect 256 --persistent"; do
		check "io=$io data verifies with ${f:-defaults}" guest $f --seed $RANDOM verify 16
	done
done

check "barriers and flushes, with and without data, complete in order" guest ordered
check "barriers and flushes also work on the x86_32 ABI with persistent grants" guest --x86-32 --persistent ordered
stop_daemon || not_ok "daemon exits 0 on SIGTERM before polling"
daemon_up --poll-us 50
check "adaptive polling (--poll-us 50): data verifies" guest --queues 2 --persistent --seed 5 verify 16
check "adaptive polling: barriers complete" guest ordered

# Discard: write, then discard 1 MiB, and check the backing file lost blocks.
guest --seed 3 verify 8 >/dev/null 2>&1
before=$(stat -c %b "$W/a.img")
check "a discard request succeeds" guest discard 2048 2048
after=$(stat -c %b "$W/a.img")
check "the discard punched a hole in the backing file ($before -> $after blocks)" \
	test "$after" -lt "$before"
check "SEEK_HOLE finds the hole at 1 MiB" python3 -c "
import os,sys; fd=os.open('$W/a.img',os.O_RDONLY); sys.exit(0 if os.lseek(fd,0,os.SEEK_HOLE)<=1048576 else 1)"

# Readonly device.
check "a readonly xvdc attaches" \
	vbd_attach g1 "$W/ro.img" xvdc r
wait_until 10 state_is g1 51744 2
guest --devid 51744 info >"$W/info" 2>&1
check "xvdc reports VDISK_READONLY" grep -q "info 4" "$W/info"
guest --devid 51744 verify 1 >"$W/ro.out" 2>&1
check "writes to the readonly device fail with BLKIF_RSP_ERROR" grep -q "requests failed" "$W/ro.out"
check "the readonly backing file was not written" test "$(stat -c %b "$W/ro.img")" = 0

# Hostile requests on xvda; a second device xvdb keeps serving.
check "xvdb attaches" vbd_attach g1 "$W/b.img" xvdb rw
wait_until 10 state_is g1 51728 2
for rule in bad-op:-2 too-many-segs:-1 first-after-last:-1 last-beyond-page:-1 past-end:-1 \
	    overflow:-1 indirect-too-many:-1 bad-indirect-gref:-1 prod-overflow:sent-overflow; do
	r=${rule%%:*}; want=${rule#*:}
	got=$(guest --indirect 256 hostile "$r" 2>&1 | sed -n 's/^status //p')
	if [ "$got" = "$want" ]; then ok "hostile $r gets status $want"; else not_ok "hostile $r: got '$got', want $want"; fi
	check "the daemon survives hostile $r" kill -0 "$daemon_pid"
	check "xvdb still verifies after hostile $r" guest --devid 51728 --seed $RANDOM verify 2
done
check "the ring overflow was logged as a violation" grep -q "protocol violation: ring producer overflow" "$W/blk.log"
check "the bad indirect grant was logged as a violation" grep -q "protocol violation: bad indirect page grant" "$W/blk.log"
check "xvda reconnects and verifies after the violations" guest --seed 9 verify 4

check "SIGTERM stops the daemon with exit status 0" stop_daemon
check "no error other than the hostile ones was logged" \
	sh -c "! grep -E ' ERR ' '$W/blk.log' | grep -vE 'protocol violation|fatal: (bad indirect|ring producer)'"
t_done
