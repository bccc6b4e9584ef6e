# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the domain library of tests/sim/xs-*.sh (sourced, not run),
# on top of tap.sh: the pvsim-xs-testd daemon (pvsim's xenstored alone;
# sockets $D/xs0 for dom0, $D/xs1, $D/xs2; commands on fd 3, answers on fd
# 4) and checks of what xenstore clients print.  A daemon that exits
# non-zero (a leak under ASan) fails the script.
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
requires pvsim-xs-testd pvsim-xs-client xenstore-read

# Succeeds when the command's stdout equals the expected text.
outputs() { # expected cmd...
	local want=$1 got; shift
	got=$("$@") || return 1
	[ "$got" = "$want" ] || { echo "got '$got', want '$want'"; return 1; }
}
as_dom() { # domid cmd...
	local d=$1; shift
	XENSTORED_PATH=$D/xs$d "$@"
}
export -f as_dom
testd_start() {
	D=$(mktemp -d /tmp/pvsim-xs.XXXXXX)
	export D
	on_exit testd_stop
	mkfifo "$D/in" "$D/out"
	pvsim-xs-testd "$D" <"$D/in" >"$D/out" 2>"$D/testd.log" &
	TESTD_PID=$!
	exec 3>"$D/in" 4<"$D/out"
	local line
	read -r -t 10 line <&4 && [ "$line" = ready ] || {
		sed 's/^/# /' "$D/testd.log"
		bail_out "testd not ready"
	}
}
# Send one command to the daemon and succeed if it answers "ok".
testd_cmd() {
	local line
	echo "$*" >&3
	read -r -t 10 line <&4 && [ "$line" = ok ] || { echo "testd: $* -> $line"; return 1; }
}
testd_stop() {
	local rc=0
	if [ -n "${TESTD_PID:-}" ]; then
		echo quit >&3 2>/dev/null
		exec 3>&- 4<&-
		wait "$TESTD_PID" || rc=$?
		TESTD_PID=
		if [ "$rc" -ne 0 ]; then
			t_error "pvsim-xs-testd exited with $rc"
			sed 's/^/# /' "$D/testd.log" | tail -30
		fi
	fi
	rm -rf "$D"
}
