#!/bin/sh
# bench.sh - wkbench's standard set against fresh wk trees (bench/README.md,
# wkbench(1)).
#
#   bench/bench.sh BUILDDIR [--quick]
#
# For each run: a temporary directory with a config (tokenAuthOn: false,
# storage.sync: fsync, presence.capacity 131072, free ports on 127.0.0.1),
# BUILDDIR/wk-master -d, wait until every child is ready, run
# BUILDDIR/bench/wkbench, stop the tree.  Scenarios 1-3 run on the default
# process layout (one of each kind per core); scenario 7 runs scenario 1
# with processes.perCore 1, 2 and 4, a fresh tree each.  Beside them, the
# floors: scenario 3's fan-outs without wk (fanfloor) and scenarios 1 and 2
# against ackfloor twice: one thread, the protocol's work and a group commit
# to a log file, no wk; and with what wk's architecture asks for (-b -z: the
# messages in Berkeley DB B-trees, stored by one process per core behind a
# ZeroMQ hop).  Writes, in the
# current directory: wkbench.csv (one line per run), report.md and, when
# gnuplot is installed, wkbench.png (throughput and latency against offered
# load).  --quick: shorter runs and a smaller group.
# Environment: WK_BENCH_KEEP=1 keeps each tree's directory (master.log).
set -eu

build=${1:?usage: bench.sh BUILDDIR [--quick]}
shift
quick=0
[ "${1:-}" = --quick ] && quick=1
build=$(cd "$build" && pwd)
master="$build/wk-master"
bench="$build/bench/wkbench"
floor="$build/bench/fanfloor"
ackfloor="$build/bench/ackfloor"
machine="$build/bench/machine"
me=bench.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$bench" "$floor" "$ackfloor" "$machine"
out=$(pwd)
csv="$out/wkbench.csv"
log="$out/wkbench.log"
floorcsv="$out/fanfloor.csv"
ackcsv="$out/ackfloor.csv"
archcsv="$out/archfloor.csv"
: >"$csv"
: >"$log"
secs=10
group=10000 online=5000
if [ $quick = 1 ]; then
	secs=4 group=2000 online=1000
fi

ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

fpid=""
trap 'rc=$?; [ -n "$fpid" ] && kill "$fpid" 2>/dev/null; stop_tree; exit $rc' EXIT
trap 'exit 130' INT TERM

# tree PERCORE: a fresh tree with storage.sync fsync and that many workers per core.
tree() {
	start_tree wkbench "storage:
  sync: fsync
presence:
  capacity: 131072
processes:
  perCore: $1"
	echo "== tree: perCore $1, $children children ($dir)" | tee -a "$log"
}

# run LABEL wkbench-options...
run() {
	label=$1
	shift
	echo "== $label: wkbench $*" | tee -a "$log"
	"$bench" -q -h 127.0.0.1 -p "$tcp" -w "$ws" -H "127.0.0.1:$http" -t "$secs" \
	    -o "$csv" -l "$label" "$@" 2>&1 | tee -a "$log" || echo "bench.sh: $label: wkbench exit $?" | tee -a "$log"
}

# The machine's state before and after (bench/machine.c): the same build
# has run twice as fast on one day as on another on these shared VMs.
"$machine" -d "$out" | tee -a "$log"
machine_before=$(tail -1 "$log")
tree 1
# Scenario 1: closed loop, 100 pairs, pipelining depth 1..64 per sender.
for d in 1 4 16 64; do
	run s1 -s 1 -n 100 -d "$d"
done
# Scenario 2: open loop at fixed offered rates.
for r in 5000 10000 20000 40000; do
	run s2 -s 2 -n 100 -r "$r"
done
# Scenario 3: one group, online members on their own connections; every
# RECV acknowledged, one in 10 verified and decrypted (-v 10: the generator
# shares the two cores and full crypto on every RECV would measure it).
# 100/s offers 500,000 deliveries/s, about what two cores deliver: the long
# drain lets the backlog out before the next tree starts.
fanrates="10 20 25 50 100"
for r in $fanrates; do
	run s3 -s 3 -n "$online" -g "$group" -r "$r" -v 10 -D 40
done
stop_tree
# The same fan-outs without wk (fanfloor -c): each delivery a RECV sealed
# for its connection and written by one of two threads (all frames due in
# one write when behind), one reader answering every read: the protocol's
# work and the system calls alone.
: >"$floorcsv"
for r in $fanrates; do
	echo "== floor: fanfloor -c -n $online -r $r -t $secs" | tee -a "$log"
	"$floor" -c -n "$online" -r "$r" -t "$secs" -o "$floorcsv" 2>&1 | tee -a "$log" ||
	    echo "bench.sh: fanfloor exit $?" | tee -a "$log"
done
# Scenarios 1 and 2 against ackfloor: one thread that answers wkbench as
# wk does (handshake, msgKey, AES, SENDACK, RECV, RECVACK) and makes every
# message durable with one log write and one fdatasync per loop turn: the
# protocol's work, TCP and the disk, without wk's processes, hand-offs or
# B-trees.  Then the architecture's floor (ackfloor -b -z CORES): the same,
# with each message put into messages.db and clientmsgno.db as wk-channel
# does, by one storing process per core (wk's default shard count) behind
# one ZeroMQ ipc hop each way, the front going on while a commit runs; what
# wk's design costs before wk's own code.  Same generator, rates and cores.
# ackfloor_runs CSV LABEL [ackfloor options]
ackfloor_runs() {
	fcsv=$1 flabel=$2
	shift 2
	: >"$fcsv"
	fdir=$(mktemp -d /tmp/ackfloor.XXXXXX)
	"$ackfloor" -d "$fdir" "$@" >"$fdir/out" 2>&1 &
	fpid=$!
	i=0
	until grep -q '^ackfloor: port' "$fdir/out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "bench.sh: ackfloor did not start" | tee -a "$log"; break; }
		sleep 0.1
	done
	fport=$(awk '/^ackfloor: port/ { print $3 }' "$fdir/out")
	for a in "-s 1 -d 1" "-s 1 -d 4" "-s 1 -d 16" "-s 1 -d 64" \
	    "-s 2 -r 5000" "-s 2 -r 10000" "-s 2 -r 20000" "-s 2 -r 40000"; do
		echo "== $flabel: ackfloor $*, wkbench $a -n 100" | tee -a "$log"
		# shellcheck disable=SC2086 # $a is a list of options
		"$bench" -q -h 127.0.0.1 -p "$fport" -t "$secs" -o "$fcsv" -l "$flabel" $a -n 100 2>&1 |
		    tee -a "$log" || echo "bench.sh: ackfloor $a: wkbench exit $?" | tee -a "$log"
	done
	kill "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null || true
	fpid=""
	tee -a "$log" <"$fdir/out"
	rm -rf "$fdir"
}
ackfloor_runs "$ackcsv" floor
ackfloor_runs "$archcsv" archfloor -b -z "$(getconf _NPROCESSORS_ONLN)"
# Scenario 7: scenario 1 (depth 16) with 1, 2, 4 workers of each kind per core.
for pc in 1 2 4; do
	tree "$pc"
	run "s7-pc$pc" -s 1 -n 100 -d 16
	stop_tree
done

"$machine" -d "$out" | tee -a "$log"
machine_after=$(tail -1 "$log")

# The report.
cores=$(getconf _NPROCESSORS_ONLN)
{
	echo "# wkbench report"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $cores CPUs, generator on the same machine;"
	echo "wk $(cd "$build" && git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'),"
	echo "storage.sync fsync, tokenAuthOn false, 128-byte payloads, TCP, encryption on."
	echo
	echo "The machine before the runs: ${machine_before#machine: }."
	echo "After: ${machine_after#machine: }."
	echo
	echo "| run | conns | depth | offered/s | sent/s | SENDACK/s | RECV/s | ack p50 µs | p99 | p99.9 | recv p50 µs | p99 | p99.9 | lost | gaps | dups |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F, '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
	    $1, $3, ($2 == 1 ? $4 : "-"), ($2 == 1 ? "closed" : $5), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 }' "$csv"
	echo
	echo "Group fan-out (s3) beside its floor: the same deliveries as RECVs sealed for each"
	echo "connection and written to loopback sockets, read and acked on the same cores"
	echo "(fanfloor -c), without wk's processes, store or retries."
	echo
	echo "| msgs/s | deliveries/s offered | wk RECV/s | wk RECV p50 µs | p99 | floor delivered/s | floor p50 µs | p99 | floor CPU cores |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F, 'NR == FNR { f[$3] = $0; next } $1 == "s3" && ($5 in f) {
	    split(f[$5], g, ","); printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n",
	    $5, $5 * $3, $8, $12, $13, g[4], g[5], g[6], g[8] }' "$floorcsv" "$csv"
	echo
	echo "One-to-one (s1, s2) beside its floors: the same generator against ackfloor, one"
	echo "thread that answers as wk does and makes each message durable with one log write"
	echo "and one fdatasync per loop turn, without wk's processes, hand-offs or B-trees"
	echo "(floor); and against ackfloor -b -z $cores, which adds what wk's architecture asks"
	echo "for: each message put into two Berkeley DB B-trees by one of $cores storing processes"
	echo "behind a ZeroMQ hop each way (architecture).  Each cell: SENDACK/s, p50 / p99 /"
	echo "worst second's p99 in µs."
	echo
	echo "| run | depth or offered/s | wk | floor | architecture |"
	echo "|---|---|---|---|---|"
	awk -F, 'FILENAME == ARGV[1] { f[$2 "," ($2 == 1 ? $4 : $5)] = $0; next }
	    FILENAME == ARGV[2] { h[$2 "," ($2 == 1 ? $4 : $5)] = $0; next }
	    function cell(line, g) { if (line == "") return "-"; split(line, g, ",")
	        return g[7] "/s, " g[9] " / " g[10] " / " g[19] }
	    ($1 == "s1" || $1 == "s2") {
	    k = $2 "," ($2 == 1 ? $4 : $5)
	    printf "| %s | %s | %s | %s | %s |\n", $1, ($2 == 1 ? "depth " $4 : $5),
	    cell($0), cell(f[k]), cell(h[k]) }' "$ackcsv" "$archcsv" "$csv"
	echo
	echo "Goals (issue 15): 1:1 closed loop ≥ 25,000 msgs/s at depth 1 and ≥ 100,000 at depth 64;"
	echo "open loop SENDACK p99 ≤ 5 ms at 5k, 10k, 20k/s and ≤ 10 ms at 40k/s; 10,000-member group"
	echo "with 5,000 online ≥ 500,000 deliveries/s, RECV p99 ≤ 50 ms at 100,000/s.  Full output: wkbench.log."
} >"$out/report.md"
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOG
set terminal pngcairo size 1000,700 noenhanced
set output "$out/wkbench.png"
set datafile separator ","
set multiplot layout 2,1
set title "wkbench: scenario 2, open loop (RECV/s and latency against offered msgs/s)"
set xlabel "offered msgs/s"
set ylabel "latency ms"
set y2label "msgs/s"
set y2tics
set logscale y
set key left top
plot "< grep '^s2,' $csv" using 5:(\$10/1000) with linespoints title "SENDACK p99", \
     "" using 5:(\$9/1000) with linespoints title "SENDACK p50", \
     "" using 5:(\$13/1000) with linespoints title "RECV p99", \
     "" using 5:8 axes x1y2 with linespoints title "RECV/s"
unset logscale y
set title "scenario 1, closed loop: throughput and SENDACK p99 against pipelining depth"
set xlabel "messages in flight per sender (100 senders)"
set logscale x 2
plot "< grep '^s1,' $csv" using 4:7 axes x1y2 with linespoints title "SENDACK/s", \
     "" using 4:8 axes x1y2 with linespoints title "RECV/s", \
     "" using 4:(\$10/1000) with linespoints title "SENDACK p99 ms"
unset multiplot
EOG
	echo "bench.sh: wrote $out/report.md, $csv, $out/wkbench.png"
else
	echo "bench.sh: gnuplot not installed (scripts/bootstrap installs gnuplot-nox): no plot"
	echo "bench.sh: wrote $out/report.md, $csv"
fi
cat "$out/report.md"
