# SPDX-License-Identifier: GPL-2.0-or-later
# The shell the network benchmarks share (bench/bench-net, bench/bench-net-dpdk;
# sourced after tests/sim/net-lib.sh, which owns the namespaces, pvsim and
# the daemon).  The script sets REPORT (bench/net-report), RESULTS, SECS, ONLY
# and NET_QUIET, defines bench_use PATH (make what PATH needs run: called
# before each run) and BENCH_CPU_PATHS (a regex: the paths whose runs also
# record pvback-net's CPU use).
#
#   bench_meta KEY=VALUE...    start RESULTS with the commit measured, the date, CPUs,
#                              kernel and these facts; print the header line and warn of
#                              processes that already use the CPU
#   die MESSAGE                a failure, exit
#   want CASE                  CASE matches ONLY (or ONLY is empty)
#   record CASE PATH ROUND CMD...  run CMD, its output is the record (net-report add)
#   wait_quiet CASE            up to NET_QUIET s until the machine is idle for a second
#   bench_report OUTDIR        the rounds, the table, the plots (unless ONLY) and Markdown
die() { t_error "$*"; exit 1; }
want() { [ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]]; }
out() { echo "$W/$1-$2-r$3.out"; } # CASE PATH ROUND

bench_meta() {
	local commit load1
	commit=$(git -C "$T_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$T_TOP" diff --quiet HEAD -- 2>/dev/null || commit+=-dirty
	mkdir -p "$(dirname "$RESULTS")"
	"$REPORT" meta "$RESULTS" commit="$commit" rounds="$ROUNDS" seconds="$SECS" \
		date="$(date -u +%Y-%m-%dT%H:%MZ)" cpus="$(nproc)" kernel="$(uname -r)" \
		only="$ONLY" quiet="${NET_QUIET:-0}" "$@" || die "cannot write $RESULTS"
	read -r load1 _ </proc/loadavg
	echo "# ${0##*/}: commit $commit, $(nproc) CPUs, load average $load1, $ROUNDS rounds of $SECS s"
	ps -eo pcpu=,comm= --sort=-pcpu | awk '$1 > 20 { printf "# WARNING: %s is using %s%% CPU\n", $2, $1 }'
}

# The daemon's CPU ticks so far (all its threads).
be_ticks() { awk '{ print $14 + $15 }' "/proc/$netpid/stat"; }

record() { # CASE PATH ROUND CMD...
	local c=$1 p=$2 r=$3 f t0 c0 kv=() cpu=
	shift 3
	f=$(out "$c" "$p" "$r")
	bench_use "$p"
	[ -n "$netpid" ] && [[ "$p" =~ $BENCH_CPU_PATHS ]] && cpu=1
	[ -z "$cpu" ] || c0=$(be_ticks)
	t0=$(date +%s%N)
	"$@" >"$f" 2>&1 || { cat "$f"; die "$c $p round $r: $*"; }
	[ -z "$cpu" ] || kv=(be_ticks=$(($(be_ticks) - c0))
			     wall_ms=$((($(date +%s%N) - t0) / 1000000)))
	"$REPORT" add "$RESULTS" "$f" case="$c" path="$p" round="$r" "${kv[@]}" ||
		die "cannot record $c $p"
	echo "# $c $p round $r: $(tail -c 300 "$f" | tr -s '\n' ' ' | cut -c1-160)"
}

# Wait (up to NET_QUIET s) until the machine is idle for a second: the
# CPUs' busy share, from /proc/stat, under 15%.
busy_permille() {
	local -a a b
	local idle all=0 i
	read -ra a </proc/stat; sleep 1; read -ra b </proc/stat
	idle=$(((b[4] + b[5]) - (a[4] + a[5])))
	for i in 1 2 3 4 5 6 7 8; do all=$((all + b[i] - a[i])); done
	echo $((all ? 1000 - 1000 * idle / all : 0))
}
wait_quiet() {
	local end=$((SECONDS + ${NET_QUIET:-0})) b
	while [ "$SECONDS" -lt "$end" ]; do
		b=$(busy_permille)
		[ "$b" -lt 150 ] && return 0
	done
	[ "${NET_QUIET:-0}" = 0 ] || echo "# round $r, $1: not idle after ${NET_QUIET} s (${b:-?}‰ busy), measuring anyway"
}

bench_report() { # OUTDIR
	echo
	"$REPORT" rounds "$RESULTS"
	echo
	"$REPORT" table "$RESULTS"
	[ -z "$ONLY" ] && { echo; "$REPORT" plot "$RESULTS" "$1"; }
	echo
	echo "Markdown for bench/README.md:"
	"$REPORT" markdown "$RESULTS"
}
