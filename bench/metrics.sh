#!/bin/sh
# metrics.sh - what GET /metrics costs (issue 17): wkbench scenario 1 (1:1
# closed loop, durable) on one tree, alternately with /metrics scraped every
# second and not scraped at all, the same number of runs each (off, on, on,
# off, ...: neither always goes first on a noisy machine); then the CPU one
# scrape takes in wk-api, and its wall time.
#
#   bench/metrics.sh BUILD [ROUNDS] [SECS]
#
# Prints one line per run, the median SENDACK/s per mode and their
# difference, the scrape's cost, and `uptime` before and after (the load the
# figures were taken under).  Writes metrics.csv in the current directory.
set -eu

build=${1:?usage: metrics.sh BUILD [ROUNDS] [SECS]}
rounds=${2:-4}
secs=${3:-5}
me=metrics.sh
. "$(dirname "$0")/tree.sh"
build=$(cd "$build" && pwd)
master="$build/wk-master"
need_built "$master" "$build/bench/wkbench"
csv=$(pwd)/metrics.csv
: >"$csv"
scraper=""

trap 'rc=$?; [ -n "$scraper" ] && kill "$scraper" 2>/dev/null; stop_tree; exit $rc' EXIT
trap 'exit 130' INT TERM

echo "load before: $(uptime)"
start_tree wkmetrics "storage:
  sync: fsync"
url="http://127.0.0.1:$http/metrics"

run() {
	"$build/bench/wkbench" -q -s 1 -h 127.0.0.1 -p "$tcp" -w "$ws" -H "127.0.0.1:$http" \
	    -t "$secs" -o "$csv" -l "$1" >/dev/null 2>&1 || echo "$me: $1: wkbench failed" >&2
	tail -1 "$csv" | awk -F, '{ printf "%-4s SENDACK/s %7d  ack p50 %6d us  p99 %6d us\n", $1, $7, $9, $10 }'
}

round=1
while [ $round -le "$rounds" ]; do
	if [ $((round % 2)) = 1 ]; then order="off on"; else order="on off"; fi
	for mode in $order; do
		if [ $mode = on ]; then
			( while :; do curl -s -o /dev/null "$url"; sleep 1; done ) &
			scraper=$!
		fi
		run $mode
		if [ -n "$scraper" ]; then
			kill "$scraper" 2>/dev/null || true
			wait "$scraper" 2>/dev/null || true
			scraper=""
		fi
	done
	round=$((round + 1))
done

awk -F, '{ v[$1, ++n[$1]] = $7 }
function med(m,   i, j, t, a, c) {
	c = n[m]; for (i = 1; i <= c; i++) a[i] = v[m, i] + 0
	for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((c + 1) / 2)]
}
END { off = med("off"); on = med("on")
	printf "median SENDACK/s: not scraped %d, scraped every second %d: %+.1f%%\n", off, on,
	    off ? 100.0 * (on - off) / off : 0 }' "$csv"

# One scrape's CPU in wk-api: its utime+stime (/proc/PID/stat, in clock
# ticks) over 500 scrapes back to back, on the idle tree.
api=$(pgrep -P "$mpid" -x wk-api | head -1)
tick=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$api/stat"; }
bytes=$(curl -s "$url" | wc -c)
c0=$(cpu)
t0=$(date +%s%N)
n=0
while [ $n -lt 500 ]; do
	curl -s -o /dev/null "$url"
	n=$((n + 1))
done
t1=$(date +%s%N)
c1=$(cpu)
echo "one scrape: $bytes bytes, wk-api CPU $(echo "$c0 $c1 $tick" | awk '{ printf "%.2f", ($2 - $1) * 1000 / $3 / 500 }') ms, wall $(( (t1 - t0) / 500000 )) us (curl included)"
echo "load after: $(uptime)"
