# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Loopback on real grants: our userspace blkfront (blkfront-tool,
# gntalloc + unbound event channels, PVBACK_HV=xen) in dom0 against pvback-blk
# in dom0. The vbds' frontend is dom0 itself: `xl block-attach 0 ...` writes
# them as for any domain. The checks are those tests/sim/blk-basic.sh runs on
# pvsim.
export PVBACK_HV=xen
# gntalloc shares at most `limit` pages (default 1024) across dom0: a ring of
# order 4 or 256 indirect segments per request needs more (ENOSPC otherwise)
p=/sys/module/xen_gntalloc/parameters/limit
[ -w $p ] && [ "$(cat $p)" -lt 65536 ] && echo 65536 >$p
xt_log "gntalloc limit: $(cat $p 2>/dev/null)"
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
A=$XT_IMG/lb-a.img B=$XT_IMG/lb-b.img RO=$XT_IMG/lb-ro.img
xt_blk_img $A 64; xt_blk_img $B 32; xt_blk_img $RO 32
guest() { timeout 120 blkfront-tool "$@"; }
be=$(xt_blk_be 0 51712)
if ! xt_check "xl block-attach 0 xvda (frontend dom0)" timeout 60 xl block-attach 0 "$(xt_blk_disk $A xvda)"; then
	xt_blk_stop
	return 0
fi
xt_check "backend reaches InitWait (2)" xt_xs_wait "$be/state" 2 30
xt_record blk-loopback-libxl "$be" "$(xt_blk_fe 0)"
guest info >/tmp/xt/lb.info 2>&1
sed 's/^/    info| /' /tmp/xt/lb.info
xt_check "blkfront-tool connects and reads 131072 sectors" grep -q "^sectors 131072 " /tmp/xt/lb.info
xt_check "flush, barrier and discard are offered" grep -q "^flush 1 barrier 1 discard 1" /tmp/xt/lb.info
for f in "" "--order 4" "--queues 2" "--indirect 256" "--persistent" "--x86-32" \
	"--order 4 --queues 2 --indirect 256 --persistent" "--x86-32 --order 2 --indirect 256 --persistent"; do
	# shellcheck disable=SC2086
	xt_check "data verifies with ${f:-defaults}" guest $f --seed $RANDOM verify 8
done
xt_check "barriers and flushes complete in order" guest ordered
xt_check "ordered on the x86_32 ABI with persistent grants" guest --x86-32 --persistent ordered
guest --seed 3 verify 8 >/dev/null 2>&1
b0=$(stat -c %b $A)
xt_check "a discard request succeeds" guest discard 2048 2048
b1=$(stat -c %b $A)
xt_check "the discard punched a hole in the backing file ($b0 -> $b1 blocks)" test "$b1" -lt "$b0"

if xt_check "xl block-attach 0 readonly xvdc" timeout 60 xl block-attach 0 "$(xt_blk_disk $RO xvdc ro)"; then
	xt_xs_wait "$(xt_blk_be 0 51744)/state" 2 30
	guest --devid 51744 info >/tmp/xt/lb.info 2>&1
	xt_check "xvdc reports VDISK_READONLY" grep -q "info 4" /tmp/xt/lb.info
	guest --devid 51744 verify 1 >/tmp/xt/lb.ro 2>&1
	xt_check "writes to the readonly device fail with BLKIF_RSP_ERROR" grep -q "requests failed" /tmp/xt/lb.ro
	xt_check "the readonly backing file was not written" test "$(stat -c %b $RO)" = 0
fi
if xt_check "xl block-attach 0 xvdb" timeout 60 xl block-attach 0 "$(xt_blk_disk $B xvdb)"; then
	xt_xs_wait "$(xt_blk_be 0 51728)/state" 2 30
	for rule in bad-op:-2 too-many-segs:-1 first-after-last:-1 last-beyond-page:-1 past-end:-1 \
		overflow:-1 indirect-too-many:-1 bad-indirect-gref:-1 prod-overflow:sent-overflow; do
		r=${rule%%:*} want=${rule#*:}
		got=$(guest --indirect 256 hostile "$r" 2>&1 | sed -n 's/^status //p')
		if [ "$got" = "$want" ]; then xt_pass "hostile $r gets status $want"; else
			xt_fail "hostile $r" "got '$got', want $want"; fi
		xt_check "the daemon survives hostile $r" xt_blk_alive
		xt_check "xvdb still verifies after hostile $r" guest --devid 51728 --seed $RANDOM verify 2
	done
	xt_check "the ring overflow was logged as a violation" grep -q "protocol violation: ring producer overflow" "$XT_BLK_LOG"
	xt_check "xvda reconnects and verifies after the violations" guest --seed 9 verify 4
fi
for d in xvda xvdb xvdc; do timeout 60 xl block-detach 0 $d >/dev/null 2>&1; done
xt_check "xl block-detach 0 removes the vbds" xt_xs_wait_gone "/local/domain/0/backend/vbd/0/51712" 30
xt_blk_stop_check "SIGTERM stops pvback-blk with exit status 0"
