#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvback-blk confined on pvsim (issue 13, docs/security.md):
# started as root it runs as pvback; while a guest with two queues does
# verified I/O every thread is pvback's, the main thread keeps only
# CAP_DAC_OVERRIDE, the queue threads (blk<domid>q<idx>) have no
# capability and the seccomp filter (default action: kill), and the data
# verifies with every I/O engine (io_uring, libaio, sync); discard and
# flush work under the filter.  A missing --user is refused with a
# message that says what to do; the state directory it made is handed to
# pvback, a shared one (--state-dir, mode 1777) is not; --no-confine runs
# as root.
. "$(dirname "$0")/blk-lib.sh"
. "$(dirname "$0")/confine-lib.sh"

guest_create g1 256M
g1id=$(domid_of g1)
truncate -s 64M "$W/a.img"
chmod 0600 "$W/a.img" # root's: the main thread opens it with CAP_DAC_OVERRIDE
for io in uring aio sync; do
	daemon_up --io "$io"
	if [ "$io" = uring ]; then
		vbd_attach g1 "$W/a.img" xvda rw
		wait_until 10 state_is g1 51712 2 || bail_out "xvda does not reach InitWait"
	fi
	shell_start g1 --queues 2 --persistent || bail_out "shell: $sh_ready"
	check "io=$io: the daemon logged its confinement" \
		grep -q "confined: uid $PVBACK_UID gid $PVBACK_GID; main thread keeps dac_override,ipc_lock;.*(kill)" \
		"$W/blk.log"
	check "io=$io: 4 MiB written and read back through two queues" \
		eval 'sh_ok write 21 4 && sh_ok check 21 4'
	confined_checks "$(queue_process "$daemon_pid" "blk${g1id}q0")" "blk${g1id}q[0-9]+" 0000000000004002
	shell_stop
	check "io=$io: discard and ordered flushes under the filter" \
		eval 'guest_of g1 discard 2048 2048 && guest_of g1 ordered'
	check "io=$io: the daemon is alive (no filter kill) and exits 0 on SIGTERM" stop_daemon
	grep -E ' ERR ' "$W/blk.log" | sed 's/^/# /'
done

start_daemon --user pvback-no-such-user
wait "$daemon_pid"; rc=$?; daemon_pid=
check "--user of a missing user: the daemon refuses to start (exit $rc)" test "$rc" -ne 0
check "and says how to create it" grep -q "user pvback-no-such-user does not exist: create it (adduser --system" "$W/blk.log"

mkdir -m 1777 "$W/shared"
daemon_up --state-dir "$W/shared"
shell_start g1 || bail_out "shell: $sh_ready"
check "a shared --state-dir (mode 1777) is not handed to pvback" \
	test "$(stat -c %u:%a "$W/shared")" = 0:1777
check "the daemon says it left it as it is" grep -q "state directory $W/shared: not a private directory" "$W/blk.log"
check "the queue's journal is still written there (pvback's)" \
	test "$(stat -c %u "$W/shared/vbd-$g1id-51712-q0.journal")" = "$PVBACK_UID"
shell_stop
check "SIGTERM: exit 0" stop_daemon
check "the state directory the daemon made itself is pvback's" \
	test "$(stat -c %u:%a "$S/pvback-blk.state")" = "$PVBACK_UID:700"

daemon_up --no-confine
shell_start g1 || bail_out "shell: $sh_ready"
unconfined() {
	local p
	p=$(queue_process "$daemon_pid" "blk${g1id}q0")
	[ "$(field "$daemon_pid" "$daemon_pid" Uid | cut -f1)" = 0 ] &&
		[ "$(field "$p" "$(data_path_threads "$p" "blk${g1id}q0")" Seccomp)" = 0 ]
}
check "--no-confine: root, no filter on the queue thread" unconfined
check "--no-confine: the data still verifies" eval 'sh_ok write 22 1 && sh_ok check 22 1'
shell_stop
check "SIGTERM: exit 0" stop_daemon
t_done
