#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: every libFuzzer harness (tests/fuzz/, built by make check
# into $PVBACK_BUILD/fuzz) runs for a few seconds from its seed corpus
# without a crash, a sanitizer report or a broken invariant; `make fuzz`
# runs them for long.  The seeds must still parse (each is run first).
. "$(dirname "$0")/tap.sh"

secs=${FUZZ_SMOKE_SECONDS:-3}
harnesses=$(sed -n 's/^fuzzers += //p' "$T_TOP/tests/fuzz.mk")
[ -n "$harnesses" ] || bail_out "no harness listed in tests/fuzz.mk"
for f in $harnesses; do
	bin=$T_BUILD/fuzz/$f
	check "$f is built" test -x "$bin"
	mkdir -p "$T_TMP/$f"
	check "$f runs ${secs}s from its seeds without a finding" \
		"$bin" -max_total_time="$secs" -print_final_stats=1 "$T_TMP/$f" "$T_TOP/tests/fuzz/corpus/$f"
done
t_done
