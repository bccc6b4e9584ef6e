#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: a guest domain destroyed (`pvsim destroy`, as a crash) while
# it writes through xvda with full rings and persistent grants, while a
# second guest verifies data on its own disk at the same time.  The daemon
# must drop the dead guest's device, leak no mapping (the pvsim memfds it
# maps, counted in /proc/<pid>/maps, return to the count before any
# connection; `stats` lists no persistent grant), keep running, and the
# other guest's data must verify, during and after.
. "$(dirname "$0")/blk-lib.sh"

guest_create g1 256M
guest_create g2 256M
g1id=$(domid_of g1)
truncate -s 64M "$W/a.img" "$W/b.img"
daemon_up
vbd_attach g1 "$W/a.img" xvda rw
vbd_attach g2 "$W/b.img" xvda rw
check "both devices reach InitWait" wait_until 10 state_is g2 51712 2
check "g1's device is in InitWait too" state_is g1 51712 2
base=$(guest_maps "$daemon_pid")
echo "# guest mappings before any connection: $base"

check "g1 writes are flowing" \
	stream_start g1 --queues 2 --persistent --indirect 64 stream 8192 "$W/acked"
during=$(guest_maps "$daemon_pid")
check "the daemon maps g1's memory while connected ($base -> $during)" test "$during" -gt "$base"
pg=$(stats --json | python3 -c 'import json,sys; print(sum(q["pgrants"] for d in json.load(sys.stdin)["devices"] for q in d["queues"]))')
check "persistent grants are cached while connected ($pg)" test "${pg:-0}" -gt 0

guest_of g2 --queues 2 --persistent --seed 21 verify 48 >"$W/g2.out" 2>&1 &
g2pid=$!
check "pvsim destroy g1 while it writes" pvsim --dir "$S" destroy g1
timeout 30 cat <&"$sfd" | sed 's/^/# g1: /'
wait "$spid" 2>/dev/null
check "g2's concurrent verify passes" wait "$g2pid"
sed 's/^/# g2: /' "$W/g2.out"
check "the daemon is alive" kill -0 "$daemon_pid"
check "g1's device is gone from the daemon" wait_until 10 not_listed "vbd-$g1id-51712"
# g2's verify has closed its connection too: nothing may stay mapped.
maps_back() { [ "$(guest_maps "$daemon_pid")" -eq "$base" ]; }
check "guest mappings return to $base" wait_until 10 maps_back
echo "# guest mappings now: $(guest_maps "$daemon_pid")"
check "g2 still verifies after the crash" guest_of g2 --persistent --order 4 --seed 22 verify 16
check "the daemon logged g1's device going away" grep -q "vbd-1-51712: disconnected" "$W/blk.log"
check "SIGTERM stops the daemon with exit status 0" stop_daemon
t_done
