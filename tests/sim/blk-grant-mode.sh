#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the data of frontends without persistent grants is served
# correctly in every --grant-mode (map: one batched map per request; copy:
# grant copy through the queue's bounce pool for every request; auto: copy up
# to 64 segments within a pool budget, map above): seeded mixed-size writes read back over ring
# order 0/4, queues 1/2, indirect on/off, both ABIs, plus flush/barrier
# ordering; persistent-grant frontends keep mapping in every mode, also with
# the frontend's zero-copy buffers (blkfront_buf_alloc: page-aligned requests
# granted in place, the rest bounced).  With no mapping pool beyond the
# queues' reserves (--guest-map-pages 0) requests wait for the budget and
# still verify.
. "$(dirname "$0")/blk-lib.sh"

guest_create g1 128M
truncate -s 64M "$W/a.img"
guest() { guest_of g1 "$@"; }
ready() { grep -q "vbd-.*sectors" "$W/blk.log"; }

check "xvda attaches" vbd_attach g1 "$W/a.img" xvda rw
for mode in map copy auto; do
	: >"$W/blk.log"
	start_daemon --grant-mode "$mode" --log-level debug # every connection logged
	wait_until 10 ready
	for f in "" "--order 4 --queues 2" "--indirect 256" "--x86-32 --order 2 --indirect 256"; do
		check "grant-mode $mode: data verifies with ${f:-defaults}" guest $f --seed $RANDOM verify 16
	done
	check "grant-mode $mode: barriers and flushes complete in order" guest --indirect 256 ordered
	check "grant-mode $mode: persistent grants still verify" guest --persistent --indirect 256 --seed 4 verify 8
	check "grant-mode $mode: zero-copy frontend buffers verify" \
		guest --persistent --zerocopy --indirect 256 --seed 5 verify 8
	check "grant-mode $mode: zero-copy on a 1-page ring, 2 queues, x86_32" \
		guest --persistent --zerocopy --queues 2 --x86-32 --seed 6 verify 4
	if [ "$mode" = map ]; then
		check "grant-mode map: no queue copies" sh -c "! grep -q 'grant copy' '$W/blk.log'"
	else
		check "grant-mode $mode: non-persistent queues copy" grep -q "grant copy" "$W/blk.log"
	fi
	check "grant-mode $mode: persistent queues do not copy" sh -c \
		"grep -q 'persistent grants' '$W/blk.log' && ! grep 'persistent grants' '$W/blk.log' | grep -q 'grant copy'"
	stop_daemon || not_ok "grant-mode $mode: daemon exits 0 on SIGTERM"
done

# The mapping budget (issue 13): with no pool beyond each queue's reserve
# (its largest request), requests wait for their own queue's completions
# instead of failing, and say so once.
: >"$W/blk.log"
start_daemon --grant-mode map --guest-map-pages 0
wait_until 10 ready
check "no mapping pool: mixed sizes up to 1 MiB verify over 2 queues" \
	guest --order 4 --queues 2 --indirect 256 --seed 9 verify 32
waited() { stats | grep -qE '^  total .* map_waits [1-9]'; }
check "no mapping pool: requests waited for the budget (map_waits)" waited
check "no mapping pool: the wait is logged" grep -q "mapping budget used up" "$W/blk.log"
check "no mapping pool: no request failed" sh -c "! grep -q 'data grant refused' '$W/blk.log'"
stop_daemon || not_ok "no mapping pool: daemon exits 0 on SIGTERM"
t_done
