# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/sim/xs-*.sh: TAP helpers and the pvsim-xs-testd daemon
# (sockets $D/xs0 for dom0, $D/xs1, $D/xs2; commands on fd 3, answers on fd 4).
B=${PVBACK_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
PATH=$B/bin:$PATH
N=0
FAILED=0
ok() { # name cmd...
	local name=$1 out; shift
	N=$((N + 1))
	if out=$("$@" 2>&1); then
		echo "ok $N - $name"
	else
		echo "not ok $N - $name"
		printf '%s\n' "$out" | head -20 | sed 's/^/# /'
		FAILED=$((FAILED + 1))
	fi
}
# Succeeds when the command fails.
fails() { ! "$@"; }
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
	trap testd_stop EXIT
	mkfifo "$D/in" "$D/out"
	pvsim-xs-testd "$D" <"$D/in" >"$D/out" 2>"$D/testd.log" &
	TESTD_PID=$!
	exec 3>"$D/in" 4<"$D/out"
	local line
	read -r -t 10 line <&4 && [ "$line" = ready ] || { echo "Bail out! testd not ready"; cat "$D/testd.log"; exit 1; }
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
			echo "# pvsim-xs-testd exited with $rc"; sed 's/^/# /' "$D/testd.log" | tail -30
		fi
	fi
	[ -n "${D:-}" ] && rm -rf "$D"
	return $rc
}
done_tests() {
	testd_stop || FAILED=$((FAILED + 1))
	trap - EXIT
	exit $((FAILED != 0))
}
