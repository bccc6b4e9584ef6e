# SPDX-License-Identifier: GPL-2.0-or-later
# Description: the one TAP library of tests/sim/*.sh (bash; sourced, not
# run), in the spirit of nbdkit's tests/functions.sh.  Domain libraries
# (blk-lib.sh, xs-lib.sh) source it and add only their own helpers.
#
# Results   check DESCRIPTION CMD...    ok iff CMD exits 0; CMD runs in this shell (its
#                                       variables stay set), its output shows only on failure
#           ok DESCRIPTION              a passed test made by hand
#           not_ok DESCRIPTION          a failed one
#           t_error MESSAGE             a failure outside any test (a helper's exit status)
#           t_plan N                    optional: announce N tests first; t_done checks the count
#           t_done                      print the plan (1..N), run the exit hooks, exit 1 on failure
# Helpers   fails CMD...                CMD fails
#           t_fails_with TEXT CMD...    CMD fails and its output contains TEXT
#           wait_until SECONDS CMD...   re-check CMD every 20 ms until it succeeds; 1 on timeout,
#                                       after showing CMD's last output as # lines
#           t_not_running PID           PID is gone or a zombie
# Setup     requires CMD...             `1..0 # SKIP CMD missing` and exit 77 when a tool is missing
#                                       (tests/run-tests counts that as a failure on purpose)
#           bail_out MESSAGE            `Bail out! MESSAGE`, exit 1
#           on_exit CMD                 run CMD (a string, eval'd) at exit, last registered first;
#                                       hooks see t_failed
#           t_failed                    a test failed so far
#           t_pvsim_start [DIR]         a private pvsim in DIR (default a fresh /tmp directory),
#                                       exported as PVSIM_DIR, stopped and removed at exit
# Variables T_TOP (source tree), T_BUILD (build dir, $PVBACK_BUILD), T_TMP (scratch dir,
#           removed at exit); $T_BUILD/bin is first in PATH.
set -u
T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_BUILD=${PVBACK_BUILD:-$T_TOP/build}
export PATH="$T_BUILD/bin:$PATH"
T_N=0
T_FAIL=0
T_PLAN=
T_HOOKS=()
T_TMP=$(mktemp -d /tmp/pvback-tap.XXXXXX)

t_run_hooks() {
	local h
	while [ ${#T_HOOKS[@]} -gt 0 ]; do
		h=${T_HOOKS[-1]}
		unset 'T_HOOKS[-1]'
		eval "$h"
	done
}
t_exit() {
	local rc=$?
	# The hooks must finish even when the reader of our output is gone.
	trap - EXIT
	trap '' PIPE
	t_run_hooks
	rm -rf "$T_TMP"
	if [ "$rc" -eq 0 ] && t_failed; then rc=1; fi
	exit "$rc"
}
trap t_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

on_exit() { T_HOOKS+=("$1"); }
t_failed() { [ "$T_FAIL" -ne 0 ]; }
# t_keep DIR: a failed test's work directory copied under $PVBACK_TEST_KEEP
# (set it to chase a failure that the printed log tails do not explain).
t_keep() { [ -z "${PVBACK_TEST_KEEP:-}" ] || ! t_failed || cp -a "$1" "$PVBACK_TEST_KEEP/"; }
bail_out() { echo "Bail out! $*"; exit 1; }
requires() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "1..0 # SKIP $c missing"; exit 77; }
	done
}

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
t_error() { T_FAIL=$((T_FAIL + 1)); echo "# error: $*"; }
check() {
	local d=$1
	shift
	if "$@" >"$T_TMP/check.out" 2>&1; then
		ok "$d"
	else
		not_ok "$d"
		sed 's/^/# /' "$T_TMP/check.out"
	fi
}
t_plan() { T_PLAN=$1; echo "1..$1"; }
t_done() {
	if [ -z "$T_PLAN" ]; then
		echo "1..$T_N"
	elif [ "$T_N" -ne "$T_PLAN" ]; then
		t_error "planned $T_PLAN tests, ran $T_N"
	fi
	exit $((T_FAIL != 0))
}

fails() { ! "$@"; }
t_fails_with() {
	local text=$1 out
	shift
	if out=$("$@" 2>&1); then echo "unexpected success: $out"; return 1; fi
	grep -qF -- "$text" <<<"$out" || { echo "message was: $out"; return 1; }
}
# The deadline is wall-clock time, however long each check of CMD takes.
wait_until() {
	local secs=$1 end=$((${EPOCHREALTIME//[!0-9]/} + $1 * 1000000))
	shift
	until "$@" >"$T_TMP/wait.out" 2>&1; do
		if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ]; then
			echo "# timeout after $secs s: $*"
			sed 's/^/# /' "$T_TMP/wait.out"
			return 1
		fi
		sleep 0.02
	done
}
t_not_running() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

t_pvsim_start() {
	local d=${1:-}
	requires pvsim
	if [ -z "$d" ]; then
		d=$(mktemp -d /tmp/pvsim-test.XXXXXX)
	else
		mkdir -p "$d"
	fi
	export PVSIM_DIR=$d
	on_exit "t_pvsim_stop '$d'"
	pvsim --dir "$d" start >"$T_TMP/pvsim-start.log" 2>&1 || {
		sed 's/^/# /' "$T_TMP/pvsim-start.log" "$d/pvsim.log" 2>/dev/null
		bail_out "pvsim start failed"
	}
}
t_pvsim_stop() {
	[ -S "$1/ctl.sock" ] && pvsim --dir "$1" stop >/dev/null 2>&1
	if t_failed && [ -f "$1/pvsim.log" ]; then
		echo "# pvsim.log:"
		tail -30 "$1/pvsim.log" | sed 's/^/# /'
	fi
	rm -rf "$1"
}
