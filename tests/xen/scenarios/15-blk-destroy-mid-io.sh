# SPDX-License-Identifier: GPL-2.0-or-later
# Description: Two domUs on the same pvback-blk, each with its own disk, both
# running fio verify. xl destroy of A in the middle of its I/O (grants
# revoked, event channel gone, frontend never says Closing): pvback-blk drops
# A's device, libxl's cleanup completes, and B's fio goes on and verifies.
xt_blk_start || { xt_fail "pvback-blk starts"; return 0; }
xt_blk_img $XT_IMG/dA.img 64
xt_blk_img $XT_IMG/dB.img 48
okA=0 okB=0
xt_check "domU A connects" xt_blk_domu dA -- "$(xt_blk_disk $XT_IMG/dA.img)" && okA=1
xt_check "domU B connects" xt_blk_domu dB -- "$(xt_blk_disk $XT_IMG/dB.img)" && okB=1
if [ $okA = 1 ] && [ $okB = 1 ]; then
	idA=$(xt_domid dA)
	idB=$(xt_domid dB)
	xt_check "B: fio verify starts (40m)" xt_domu_run dB 'sh /extra/blk.sh fio-bg xvda 40m bgB' 30
	xt_check "A: fio verify starts (64m)" xt_domu_run dA 'sh /extra/blk.sh fio-bg xvda 64m bgA' 30
	# wait until A's I/O is really flowing through pvback-blk
	w=$(xt_blk_writes_past "vbd-$idA-51712" 200 120)
	xt_log "A: $w write requests served before the destroy"
	xt_check "A is doing I/O ($w write requests so far)" test "${w:-0}" -gt 0
	t0=$(date +%s)
	xt_check "xl destroy A mid-I/O" timeout 90 xl destroy dA
	xt_log "xl destroy took $(($(date +%s) - t0)) s"
	xt_check "A's backend dir is removed" xt_xs_wait_gone "/local/domain/0/backend/vbd/$idA" 30
	xt_check "pvback-blk is still running" xt_blk_alive
	xt_check "pvback-blk dropped A's device (stats no longer list it)" sh -c \
		"! pvback-blk stats | grep -q '^vbd-$idA-51712 '"
	xt_check "B: fio verify completes without error" xt_domu_run dB 'sh /extra/blk.sh wait-bg bgB 400' 420
	xt_check "B: a new fio verify after A is gone (8m)" xt_domu_run dB 'sh /extra/blk.sh fio xvda 8m again' 200
	xt_check "B: no I/O error in dmesg" xt_blk_no_io_error dB
	xt_check "no grant left mapped from A (pvback-blk log: no unmap error)" sh -c \
		"! grep -Ei 'unmap.*(fail|error)' $XT_BLK_LOG"
	xt_domu_poweroff dB
fi
xt_blk_stop_check "SIGTERM stops pvback-blk (exit status 0)"
