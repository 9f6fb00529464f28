#!/bin/sh
# ab.sh - the same wkbench scenarios against two builds, alternately, in one
# run: "is B no worse than A" on a shared, noisy machine (bench/README.md).
#
#   bench/ab.sh BUILD_A BUILD_B [ROUNDS]
#
# Each round runs, for A then B (then B then A on the next round, so that
# neither always goes first), a fresh tree per build (tree.sh, storage.sync
# fsync) and on it: scenario 1 at depth 1 and 16, scenario 2 at 5,000/s, and
# scenario 3 (a 2,000-member group, 1,000 online, 20 msgs/s).  Each build
# runs its own wkbench.  Prints one line per run and, at the end, the median
# of each figure per build.  Writes ab.csv in the current directory.
set -eu

a=${1:?usage: ab.sh BUILD_A BUILD_B [ROUNDS]}
b=${2:?usage: ab.sh BUILD_A BUILD_B [ROUNDS]}
rounds=${3:-3}
me=ab.sh
. "$(dirname "$0")/tree.sh"
a=$(cd "$a" && pwd)
b=$(cd "$b" && pwd)
need_built "$a/wk-master" "$a/bench/wkbench" "$b/wk-master" "$b/bench/wkbench"
csv=$(pwd)/ab.csv
: >"$csv"
secs=5

trap 'rc=$?; stop_tree; exit $rc' EXIT
trap 'exit 130' INT TERM

# one BUILD (round counts in `round`: tree.sh uses `i`): a fresh tree of BUILD, the scenarios, rows labelled LABEL.
one() {
	master="$1/wk-master"
	start_tree wkab "storage:
  sync: fsync
presence:
  capacity: 131072"
	for args in "s1d1 -s 1 -n 100 -d 1" "s1d16 -s 1 -n 100 -d 16" "s2r5k -s 2 -n 100 -r 5000" \
	    "s3g2k -s 3 -n 1000 -g 2000 -r 20 -v 10 -D 10"; do
		set -- $args
		run=$1
		shift
		"$build/bench/wkbench" -q -h 127.0.0.1 -p "$tcp" -w "$ws" -H "127.0.0.1:$http" \
		    -t "$secs" -o "$csv" -l "$label-$run" "$@" >/dev/null 2>&1 ||
		    echo "$me: $label-$run: wkbench failed" >&2
	done
	stop_tree
}

round=1
while [ $round -le "$rounds" ]; do
	if [ $((round % 2)) = 1 ]; then order="A B"; else order="B A"; fi
	for which in $order; do
		if [ $which = A ]; then build=$a; else build=$b; fi
		label=$which
		one "$build"
	done
	round=$((round + 1))
done

# Medians per build and run: SENDACK/s, RECV/s, ack p50, p99 (µs).
awk -F, '{ split($1, k, "-"); key = k[2] " " k[1]; if (!(key in n)) keys[++nk] = key; n[key]++;
	ack[key, n[key]] = $7; recv[key, n[key]] = $8; p50[key, n[key]] = $9; p99[key, n[key]] = $10 }
function med(arr, key, cnt,   i, j, t, v) {
	for (i = 1; i <= cnt; i++) v[i] = arr[key, i] + 0
	for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return v[int((cnt + 1) / 2)]
}
END {
	printf "%-8s %-5s %10s %10s %10s %10s\n", "run", "build", "SENDACK/s", "RECV/s", "p50 us", "p99 us"
	for (i = 1; i <= nk; i++) for (j = i + 1; j <= nk; j++) if (keys[j] < keys[i]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
	for (i = 1; i <= nk; i++) { key = keys[i]; split(key, kk, " ")
		printf "%-8s %-5s %10d %10d %10d %10d\n", kk[1], kk[2], med(ack, key, n[key]),
		    med(recv, key, n[key]), med(p50, key, n[key]), med(p99, key, n[key]) }
}' "$csv"
