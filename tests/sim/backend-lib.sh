# SPDX-License-Identifier: GPL-2.0-or-later
# Description: what the backend test libraries (blk-lib.sh, usb-lib.sh)
# share, sourced by them on top of tap.sh once they set BACKEND (the
# daemon, e.g. pvback-blk), BE_TYPE (its xenstore type, e.g. vbd) and
# BE_LOG (the log's name in $W): a private pvsim in a /var/tmp directory (a
# real filesystem, not tmpfs), the daemon started, stopped and killed
# (daemon_pid is its pid), its log shown when a test failed, the
# xenstore reads the scripts wait on, and the daemon's resources (VmRSS,
# fds, mappings) a hostile suite bounds.  W is the test's directory, S the
# pvsim's in it.  Extra arguments are more programs the test requires.
requires pvsim "$BACKEND" xenstore-read python3 "$@"

W=$(mktemp -d "/var/tmp/$BACKEND-test.XXXXXX")
S=$W/sim
daemon_pid=
on_exit 'rm -rf "$W"'
t_pvsim_start "$S"
daemon_cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	t_keep "$W"
	if t_failed && [ -f "$W/$BE_LOG" ]; then
		echo "# daemon log:"
		tail -40 "$W/$BE_LOG" | sed 's/^/# /'
	fi
}
on_exit daemon_cleanup

# start_daemon [OPTIONS]: $PVBACK_TEST_OPTS go first (PVBACK_TEST_OPTS='--isolate
# domain' runs a whole suite with per-domain workers).
start_daemon() { # args: extra daemon options
	# shellcheck disable=SC2086 # word splitting of the options is meant
	(eval "$(pvsim --dir "$S" env)"; exec "$BACKEND" --foreground --log-level info \
		${PVBACK_TEST_OPTS:-} "$@") \
		>>"$W/$BE_LOG" 2>&1 &
	daemon_pid=$!
}
# daemon_up [OPTIONS]: start_daemon, then wait until it answers (bails out
# when it does not within 10 s).
daemon_up() {
	start_daemon "$@"
	wait_until 10 daemon_ready || bail_out "the daemon does not answer"
}
stop_daemon() {
	kill -TERM "$daemon_pid"; wait "$daemon_pid"; local rc=$?; daemon_pid=; return $rc
}
kill9_daemon() {
	{ kill -KILL "$daemon_pid"; wait "$daemon_pid"; } 2>/dev/null; local rc=$?; daemon_pid=; return $rc
}
daemon_ready() { stats >/dev/null 2>&1; }
dom0() { (eval "$(pvsim --dir "$S" env)"; "$@"); }
stats() { dom0 "$BACKEND" stats "$@"; }
domid_of() { pvsim --dir "$S" env "$1" | sed -n 's/.*PVSIM_DOMID=\([0-9]*\).*/\1/p'; }
be_path() { echo "/local/domain/0/backend/$BE_TYPE/$(domid_of "$1")/$2"; }
be_read() { dom0 xenstore-read "$(be_path "$1" "$2")/$3" 2>/dev/null; }
state_is() { [ "$(be_read "$1" "$2" state)" = "$3" ]; }
# shell_start GUEST [OPTIONS]: the frontend tool's `shell` as GUEST (guest_of,
# the backend library's), connected: true once its first line says "ready"
# (kept in sh_ready); its input and output on fds sh_in and sh_out, the
# backend library's sh_cmd speaks its dialect.  shell_stop quits it.
shell_start() {
	local g=$1; shift
	coproc SHELLP { guest_of "$g" "$@" shell 2>&1; }
	exec {sh_in}>&"${SHELLP[1]}" {sh_out}<&"${SHELLP[0]}"
	sh_pid=$SHELLP_PID
	IFS= read -r -t 30 sh_ready <&"$sh_out"
	[[ "$sh_ready" == ready* ]]
}
shell_stop() { echo quit >&"$sh_in"; exec {sh_in}>&-; wait "$sh_pid"; }
# What the hostile suites share (hostile-lib.sh): fe_abuse, log_lines, daemon_rss,
# daemon_fds, daemon_maps, res_mark, res_bounded RSS_KIB FDS, res_slack.
res_pid() { echo "$daemon_pid"; }
. "$(dirname "${BASH_SOURCE[0]}")/hostile-lib.sh"
