#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the three faults of issue 13's outside review, each a
# hostile guest (blkfront-tool attack) against pvback-blk while the
# bystander g2 verifies its I/O.  1: a guest without persistent grants
# keeps every slot of 4 queues of order 4 full of 256-segment indirect reads
# all naming the same 4 grants; g2 must verify clean and the daemon's
# mappings stay below half of vm.max_map_count.  2: a guest closes 4 vbds
# at once while their rings (and its fifth vbd's) are full of 1 MiB reads;
# meanwhile the control socket answers while they still drain (the
# teardown is off the xenbus thread) and g2 attaches and connects a new vbd
# within 10 s each.  3: 20000 reads into a readonly grant
# and 5000 invalid frontend states leave fewer than 200 log lines of that
# device and a "suppressed" count.  After each: the daemon runs, its VmRSS
# and fds are back within bounds.
. "$(dirname "$0")/blk-lib.sh"

hostile_setup
maps0=$(daemon_maps)
max_map=$(cat /proc/sys/vm/max_map_count)
# A case that killed the daemon (it fails already): a fresh one for the next.
revive() {
	t_not_running "$daemon_pid" || return 0
	wait "$daemon_pid" 2>/dev/null
	daemon_up
	res_mark
}

# --- 1: mappings ---------------------------------------------------------
check "flood-map: the offender fills 4 queues of 512 slots" \
	guest_bg running g1 --order 4 --queues 4 --indirect 256 --count 100000000 --until-stdin \
	attack flood-map
maps_max=$maps0
sample_maps() { # until the bystander is done: the highest mapping count
	local m
	m=$(daemon_maps) && [ "$m" -gt "$maps_max" ] && maps_max=$m
	! kill -0 "$by" 2>/dev/null
}
# Mapped requests (up to 1 MiB) the whole time, then the usual mix.
{ guest_of g2 --indirect 256 --queues 4 --seed 11 verify 48 && bystander_ok; } >"$W/by.out" 2>&1 &
by=$!
wait_until 120 sample_maps
wait "$by"; rc=$?
check "flood-map: meanwhile the bystander verifies clean" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/# /' "$W/by.out"
check "flood-map: the offender is answered, every request" guest_bg_end
sed 's/^/# /' "$W/bg.out"
check "flood-map: every request was answered" \
	grep -qE '^flood-map: submitted ([0-9]+) answered \1 ' "$W/bg.out"
check "flood-map: the daemon's mappings stayed below max_map_count / 2 ($maps0 -> $maps_max of $max_map)" \
	test "$maps_max" -lt $((max_map / 2))
check "flood-map: the mappings go back (from $maps0)" wait_until 10 \
	sh -c "test \$(wc -l </proc/$daemon_pid/maps) -le $((maps0 + 64))"
alive_and_bounded flood-map
revive

# --- 2: the xenbus thread -------------------------------------------------
guest_create g3 256M
devs=
for v in xvda xvdb xvdc xvdd xvde; do
	# Written, not sparse: the reads go to the disk (O_DIRECT), as they take time.
	dd if=/dev/zero of="$W/g3-$v.img" bs=1M count=64 oflag=direct status=none
	vbd_attach g3 "$W/g3-$v.img" $v rw
done
check "hold-full: g3's five vbds wait" wait_until 10 state_is g3 51776 2
check "hold-full: g3 fills five vbds' rings, closes four at once" \
	guest_bg closing g3 --order 4 --queues 4 --indirect 256 --persistent \
	--close 51728,51744,51760,51776 attack hold-full
t0=${EPOCHREALTIME//[!0-9]/}
# The answer must come while a closed vbd still drains: a teardown on the
# xenbus thread would answer only after it (no time bound needed, the
# drain of 1 MiB reads lasts seconds; the time taken is printed).
timeout 60 pvback-blk stats >"$W/st.out"
echo "# stats answered in $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms"
closing_re="^$(dev_name g3 '517(28|44|60|76)')\$"
draining() {
	awk -v re="$closing_re" '/^[a-z]/ { c = $1 ~ re && / state Closing / }
		c && / inflight [1-9]/ { n++ } END { exit !n }' "$W/st.out"
}
check "hold-full: meanwhile the control socket answers, while a closed vbd drains" draining ||
	grep -E '^[a-z]| inflight ' "$W/st.out" | sed 's/^/# /'
truncate -s 16M "$W/late.img"
vbd_attach g2 "$W/late.img" xvdb rw
check "hold-full: meanwhile a new vbd of g2 reaches InitWait within 10 s" \
	wait_until 10 state_is g2 51728 2
check "hold-full: ... and connects and verifies (10 s handshake)" \
	guest_of g2 --devid 51728 --timeout 10000 --seed 7 verify 1
echo "# the bystander's part took $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms"
check "hold-full: g3's attack ends" guest_bg_end
sed 's/^/# /' "$W/bg.out"
check "hold-full: the four closed" grep -q '^closed after [0-9]* ms$' "$W/bg.out"
for d in 51712 51728 51744 51760 51776; do pvsim --dir "$S" detach g3 vbd $d; done
pvsim --dir "$S" detach g2 vbd 51728
check "hold-full: the six vbds are gone" wait_until 10 not_listed "$(dev_name g3 51776)"
alive_and_bounded hold-full
revive

# --- 3: log floods -------------------------------------------------------
log_mark
guest_of g1 --count 20000 attack ro-read >"$W/ro.out" 2>&1
sed 's/^/# /' "$W/ro.out"
check "ro-read: 20000 reads into a readonly grant, each answered with an error" \
	grep -qE '^ro-read: submitted ([0-9]+) answered \1 ok 0 errors \1 ' "$W/ro.out"
log_since_of "$d1" >"$W/flood.log"
check "ro-read: fewer than 200 log lines of $d1 ($(wc -l <"$W/flood.log"))" \
	test "$(wc -l <"$W/flood.log")" -lt 200
# The count comes with the next line after the window, or when the queue goes.
check "ro-read: a suppressed count was logged" \
	wait_until 10 eval 'log_since_of "$d1" | grep -q suppressed'
log_since_of "$d1" | grep suppressed | sed 's/^/# /'
alive_and_bounded ro-read
revive

log_mark
check "bad-state: 5000 invalid frontend states" guest_of g1 --count 5000 attack bad-state
check "bad-state: g1's xvda verifies afterwards" guest_of g1 --seed 3 verify 2
# The device's count comes with its next line after the window, or when it goes.
pvsim --dir "$S" detach g1 vbd 51712
check "bad-state: g1's xvda is removed" wait_until 10 not_listed "$d1"
log_since_of "$d1" >"$W/flood.log"
check "bad-state: fewer than 200 log lines of $d1 ($(wc -l <"$W/flood.log"))" \
	test "$(wc -l <"$W/flood.log")" -lt 200
check "bad-state: a suppressed count was logged" grep -q suppressed "$W/flood.log"
grep suppressed "$W/flood.log" | sed 's/^/# /'
alive_and_bounded bad-state

check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
