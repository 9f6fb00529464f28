#!/bin/sh
# stream.sh - issue 8's figure against a fresh wk tree (bench/README.md):
# streambench with 1,000 concurrent streams each appending 20 pieces per
# second (half the receivers at protocol version 5, half at version 2), on
# the default process layout with storage.sync fsync.
#
#   bench/stream.sh BUILDDIR [--quick] [streambench options]
#
# After the run it prints the CPU each kind of server process took over the
# whole run, divided by the pieces offered ("CPU per piece"; the set-up of
# connections and anchors is in it, a few per cent): perf stat's task-clock
# of each process, its threads and the interrupts served on its time
# included (the loopback TCP path runs there).  Without perf, utime + stime
# from /proc/PID/stat, which leave the interrupt time out (a third less).
set -eu

build=${1:?usage: stream.sh BUILDDIR [--quick] [streambench options]}
shift
secs=10
if [ "${1:-}" = --quick ]; then
	secs=3
	shift
fi
build=$(cd "$build" && pwd)
master="$build/wk-master"
me=stream.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$build/bench/streambench"
trap stop_tree EXIT INT TERM

# Start counting the CPU of every server process: "name pid" lines in
# $dir/procs, perf's pids in $perfs (none without perf).
cpu_start() {
	perfs=""
	for pid in $(pgrep -P "$mpid"); do
		echo "$(cat "/proc/$pid/comm") $pid $(awk '{ print $14 + $15 }' "/proc/$pid/stat")"
	done >"$dir/procs"
	perf stat -e task-clock true >/dev/null 2>&1 || return 0
	while read -r name pid ticks; do
		perf stat -x, -e task-clock -p "$pid" -o "$dir/cpu.$pid" &
		perfs="$perfs $!"
	done <"$dir/procs"
}

# Print the CPU per piece of each kind of process since cpu_start; $1 pieces.
cpu_report() {
	while read -r name pid ticks; do
		if [ -n "$perfs" ]; then
			ms=$(awk -F, '$3 == "task-clock" { print $1 }' "$dir/cpu.$pid")
		else
			ms=$(awk -v t0="$ticks" -v hz="$(getconf CLK_TCK)" \
			    '{ print ($14 + $15 - t0) * 1000 / hz }' "/proc/$pid/stat")
		fi
		echo "$name ${ms:-0}"
	done <"$dir/procs" | awk -v n="$1" -v how="${perfs:+task-clock}" '
	    { if (!($1 in ms)) k[++nk] = $1; ms[$1] += $2 }
	    END { line = "CPU per piece (" (how ? how : "utime+stime") ", us):"; all = 0
		for (i = 1; i <= nk; i++) { us = ms[k[i]] * 1000 / n; all += us; line = line sprintf(" %s %.1f", k[i], us) }
		printf "%s; server %.1f\n", line, all }'
}

start_tree streambench ""
echo "== $(nproc) CPUs; tree: $(echo "$children" | tr -d ' ') processes, storage.sync fsync"
cpu_start
rc=0
"$build/bench/streambench" -H "127.0.0.1:$http" -p "$tcp" -t "$secs" "$@" >"$dir/out" 2>&1 || rc=$?
[ -z "$perfs" ] || { kill -INT $perfs; wait $perfs || true; }
cat "$dir/out"
# The pieces offered: streams x rate x seconds, as streambench says them.
pieces=$(sed -n 's/^streambench: \([0-9]*\) streams x \([0-9]*\) pieces.s for \([0-9]*\) s.*/\1 \2 \3/p' \
    "$dir/out" | awk '{ print $1 * $2 * $3 }')
[ -z "$pieces" ] || cpu_report "$pieces"
stop_tree
exit $rc
