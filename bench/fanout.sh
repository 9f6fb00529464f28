#!/bin/sh
# fanout.sh - what a group message costs as the group grows (issue 14,
# bench/README.md "Large groups"): wkbench scenario 3 with 20 members online
# at 200 msgs/s against groups of 100 ... 1,000,000 members, a fresh tree
# each, and the channel shards' member cache afterwards.
#
#   bench/fanout.sh BUILDDIR [MEMBERS...]      default 100 10000 100000 1000000
#
# WKBENCH=path runs another wkbench (the client) against BUILDDIR's server.
# Prints one line per group: set-up seconds, SENDACK/s, RECV/s, SENDACK
# p50/p99 µs, lost; and the member cache's uids and bytes.
set -eu
build=${1:?usage: fanout.sh BUILDDIR [MEMBERS...]}
shift
[ $# -gt 0 ] || set -- 100 10000 100000 1000000
build=$(cd "$build" && pwd)
master="$build/wk-master"
bench=${WKBENCH:-$build/bench/wkbench}
me=fanout.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$bench"
trap 'rc=$?; stop_tree; exit $rc' EXIT
trap 'exit 130' INT TERM
csv=$(mktemp /tmp/fanout.XXXXXX)
printf '%-9s %8s %10s %10s %9s %9s %6s %12s %14s\n' members setup_s SENDACK/s RECV/s \
    p50_us p99_us lost cached_uids cache_bytes
for g in "$@"; do
	start_tree fanout "storage:
  sync: fsync
presence:
  capacity: 131072"
	: >"$csv"
	out=$("$bench" -q -h 127.0.0.1 -p "$tcp" -w "$ws" -H "127.0.0.1:$http" -t 10 -D 20 \
	    -o "$csv" -l "g$g" -s 3 -n 20 -r 200 -g "$g" -v 10 2>&1) || true
	setup=$(echo "$out" | sed -n 's/^group .* in \([0-9.]*\) s$/\1/p')
	st=$("$master" -c status -r -f "$config" 2>/dev/null | grep 'role=channel' || true)
	cached=$(echo "$st" | sed -n 's/.* member_cache=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	bytes=$(echo "$st" | sed -n 's/.* member_cache_bytes=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	awk -F, -v g="$g" -v s="${setup:-?}" -v c="$cached" -v b="$bytes" \
	    '{ printf "%-9s %8s %10s %10s %9s %9s %6s %12s %14s\n", g, s, $7, $8, $9, $10, $15, c, b }' "$csv"
	stop_tree
done
rm -f "$csv"
