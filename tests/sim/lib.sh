# SPDX-License-Identifier: GPL-2.0-or-later
# TAP helpers for integration tests (sourced). Tests start their own pvsim in
# a private directory and stop it on exit.
T_N=0
T_FAIL=0
t_plan() { echo "1..$1"; }
t_ok() { # name cmd...
	local name=$1; shift
	T_N=$((T_N + 1))
	if "$@" >/tmp/t_ok.$$ 2>&1; then
		echo "ok $T_N - $name"
	else
		echo "not ok $T_N - $name"
		sed 's/^/# /' /tmp/t_ok.$$ | head -20
		T_FAIL=$((T_FAIL + 1))
	fi
	rm -f /tmp/t_ok.$$
}
# Succeeds when the command fails and its stderr contains the text.
t_fails_with() { # text cmd...
	local text=$1 out; shift
	if out=$("$@" 2>&1); then echo "unexpected success: $out"; return 1; fi
	grep -qF -- "$text" <<<"$out" || { echo "message was: $out"; return 1; }
}
t_pvsim_start() {
	D=$(mktemp -d /tmp/pvsim-test.XXXXXX)
	export PVSIM_DIR=$D
	trap t_cleanup EXIT
	pvsim --dir "$D" start || { echo "Bail out! pvsim start failed"; cat "$D/pvsim.log"; exit 1; }
}
t_cleanup() {
	if [ -n "${D:-}" ] && [ -S "$D/ctl.sock" ]; then pvsim --dir "$D" stop >/dev/null 2>&1; fi
	if [ -n "${D:-}" ] && [ "$T_FAIL" -ne 0 ] && [ -f "$D/pvsim.log" ]; then
		echo "# pvsim.log:"; tail -30 "$D/pvsim.log" | sed 's/^/# /'
	fi
	[ -n "${D:-}" ] && rm -rf "$D"
}
t_done() { exit $((T_FAIL != 0)); }
# A process is gone or a zombie (exited, waiting for its parent to reap it).
t_not_running() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}
