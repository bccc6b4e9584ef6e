# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk --isolate domain on real Xen (docs/security.md):
# two domUs, each served by a worker process of its own that opens
# /dev/xen/gntdev and evtchn with the CAP_DAC_OVERRIDE it carries across
# exec (ambient), confined as the daemon's main thread is, its queue threads
# with no capability under the seccomp filter; the xenbus process maps no
# grant.  Both run fio verify; SIGKILL of A's worker fails A's disk only:
# B's fio completes and verifies, the daemon runs on, and stops with exit
# status 0, taking B's worker with it.
xt_blk_start --isolate domain || { xt_fail "pvback-blk --isolate domain starts"; return 0; }
xt_blk_img $XT_IMG/iA.img 48
xt_blk_img $XT_IMG/iB.img 48
okA=0 okB=0
xt_check "domU A connects" xt_blk_domu iA -- "$(xt_blk_disk $XT_IMG/iA.img)" && okA=1
xt_check "domU B connects" xt_blk_domu iB -c 2 -e "BLKFRONT_OPTS='max_queues=2'" -- \
	"$(xt_blk_disk $XT_IMG/iB.img)" && okB=1
if [ $okA = 1 ] && [ $okB = 1 ]; then
	idA=$(xt_domid iA) idB=$(xt_domid iB) pid=$(xt_blk_pid)
	worker_of() { # DOMID: the worker the daemon logged for it
		sed -n "s/.* INFO domain $1: worker process \([0-9]*\)\$/\1/p" "$XT_BLK_LOG" | tail -n 1
	}
	wA=$(worker_of "$idA") wB=$(worker_of "$idB")
	xt_log "workers: A $wA, B $wB; children of $pid: $(xt_children "$pid" | tr '\n' ' ')"
	kids=$(xt_children "$pid" | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$wA" "$wB" | sort | tr '\n' ' ')
	xt_check "one worker per domain, children of the daemon ($kids)" \
		test -n "$wA" -a -n "$wB" -a "$wA" != "$wB" -a "$kids" = "$want"
	xt_check "A's worker is confined: user pvback, main thread dac_override and ipc_lock only, queue threads no capability + seccomp" \
		xt_pid_confined "$wA" "blk${idA}q[0-9]+" 0000000000004002
	xt_check "B's worker (2 queues) is confined the same way" \
		xt_pid_confined "$wB" "blk${idB}q[0-9]+" 0000000000004002
	xt_check "B: fio verify starts (32m)" xt_domu_run iB 'sh /extra/blk.sh fio-bg xvda 32m isoB' 30
	xt_check "A: fio verify starts (32m)" xt_domu_run iA 'sh /extra/blk.sh fio-bg xvda 32m isoA' 30
	w=$(xt_blk_writes_past "vbd-$idA-51712" 200 120)
	xt_check "A's writes are counted in its worker ($w so far)" test "${w:-0}" -gt 0
	xt_check "the xenbus process maps no grant" sh -c "! grep -q gntdev /proc/$pid/maps"
	xt_check "A's worker does" grep -q gntdev "/proc/$wA/maps"
	xt_check "A's worker holds A's image, not B's" sh -c \
		"ls -l /proc/$wA/fd | grep -q iA.img && ! ls -l /proc/$wA/fd | grep -q iB.img"
	kill -KILL "$wA"
	xt_check "A's worker killed: A's disk leaves Connected" sh -c \
		"n=0; while [ \$n -lt 60 ]; do [ \"\$(xenstore-read /local/domain/0/backend/vbd/$idA/51712/state)\" != 4 ] && exit 0; sleep 0.5; n=\$((n + 1)); done; exit 1"
	xt_check "the daemon logged why" grep -q "domain $idA: worker process $wA: exited" "$XT_BLK_LOG"
	xt_check "pvback-blk is still running" xt_blk_alive
	xt_check "B: fio verify completes without error" xt_domu_run iB 'sh /extra/blk.sh wait-bg isoB 400' 420
	xt_check "B: no I/O error in dmesg" xt_blk_no_io_error iB
	timeout 90 xl destroy iA
	xt_domu_poweroff iB
	xt_blk_stop_check "pvback-blk stops with exit status 0"
	xt_check "B's worker is gone with it" xt_pvd_gone "$wB"
fi
