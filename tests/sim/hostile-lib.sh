# SPDX-License-Identifier: GPL-2.0-or-later
# Description: what the hostile-guest suites share, sourced by
# backend-lib.sh (blk, usb) and net-lib.sh (not run): the sourcing library
# defines res_pid (the daemon's pid), be_read GUEST DEVID KEY, S (the
# pvsim) and BE_LOG (the log's name in $W).  log_lines TEXT: how many lines
# of the daemon's log hold TEXT; log_mark / log_since_of NAME: the log's
# lines about device NAME (vbd-D-N, vif-D-N; its queues too) written since
# the last log_mark.  A guest's xenstore: as_guest GUEST CMD... runs CMD
# as GUEST; fe_write, fe_restart and be_failed write frontend keys by hand
# and see the backend fail and recover; fe_abuse writes keys and flaps the
# frontend's state.
# The daemon's resources: VmRSS in KiB, open fds,
# mappings; res_mark remembers them; res_bounded RSS_KIB FDS succeeds when
# neither grew by more than that since (and says what it saw); res_slack
# is the RSS allowance of a case (128 MiB, and 256 MiB more under ASan: its
# quarantine of freed memory).
log_lines() { grep -c -- "$1" "$W/$BE_LOG"; }
log_mark() { log_at=$(wc -l <"$W/$BE_LOG"); }
log_since_of() { tail -n +$((log_at + 1)) "$W/$BE_LOG" | grep -E " $1(/q[0-9]+)?: " || true; }
daemon_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$(res_pid)/status"; }
daemon_fds() { ls "/proc/$(res_pid)/fd" | wc -l; }
daemon_maps() { wc -l <"/proc/$(res_pid)/maps"; }
res_mark() { res_rss=$(daemon_rss) res_fds=$(daemon_fds); }
res_bounded() {
	local rss fds
	rss=$(daemon_rss) fds=$(daemon_fds)
	echo "VmRSS $res_rss -> $rss KiB (at most +$1), fds $res_fds -> $fds (at most +$2)"
	[ $((rss - res_rss)) -le "$1" ] && [ $((fds - res_fds)) -le "$2" ]
}
res_slack() {
	local rss=131072
	ldd "$(command -v "$1")" | grep -q libasan && rss=$((rss + 262144))
	echo "$rss"
}

# fe_abuse GUEST DEVID ROUNDS [KEY VALUE]...: as GUEST, write the values
# into the device's frontend directory, then flap its state ROUNDS times
# through every XenbusState, one beyond and a word, ending Closed.  One
# xenstore-write per round: the backend reads the state when its watch
# fires, so writes in one burst would mostly show it the last value.
fe_abuse() {
	local g=$1 d=$2 n=$3 fe i args=()
	shift 3
	fe=$(be_read "$g" "$d" frontend) || return 1
	while [ $# -ge 2 ]; do args+=("$fe/$1" "$2"); shift 2; done
	(
		eval "$(pvsim --dir "$S" env "$g")"
		xenstore-write "${args[@]}" || exit 1
		for ((i = 0; i < n; i++)); do
			xenstore-write "$fe/state" $((i * 7 % 10)) || exit 1
			[ $((i % 4)) = 3 ] && { xenstore-write "$fe/state" garbage || exit 1; }
		done
		xenstore-write "$fe/state" 6
	)
}
as_guest() { local g=$1; shift; (eval "$(pvsim --dir "$S" env "$g")"; "$@"); }
# fe_write GUEST FE STATE KEY=VALUE...: as GUEST, each KEY of the frontend
# directory FE written (VALUE - removes it), in order, then its state STATE.
fe_write() {
	local g=$1 fe=$2 st=$3 kv
	shift 3
	for kv in "$@"; do
		if [ "${kv#*=}" = - ]; then
			as_guest "$g" xenstore-rm "$fe/${kv%%=*}"
		else
			as_guest "$g" xenstore-write "$fe/${kv%%=*}" "${kv#*=}"
		fi
	done
	as_guest "$g" xenstore-write "$fe/state" "$st"
}
# fe_restart GUEST DEVID: the frontend Closed, then Initialising: the
# backend is back in InitWait.
fe_restart() {
	local fe
	fe=$(be_read "$1" "$2" frontend) || return 1
	as_guest "$1" xenstore-write "$fe/state" 6 && wait_until 10 state_is "$1" "$2" 6 &&
		as_guest "$1" xenstore-write "$fe/state" 1 && wait_until 10 state_is "$1" "$2" 2
}
# be_failed GUEST DEVID NAME REASON: the backend left InitWait for Closing
# or Closed, REASON in NAME's log lines since log_mark.
be_failed() {
	local g=$1 d=$2 name=$3 reason=$4
	wait_until 10 eval '[[ "$(be_read "$g" "$d" state)" == [56] ]]' &&
		wait_until 5 eval 'log_since_of "$name" | grep -qF -- "$reason"'
}
