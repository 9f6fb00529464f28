#!/bin/sh
# conn.sh - run wkconnbench against a fresh wk tree (bench/README.md).
#
#   bench/conn.sh BUILDDIR [wkconnbench options]
#
# Makes a temporary directory with a config (tokenAuthOn: false, a large
# presence table, free ports on 127.0.0.1, the default process layout
# unless the brokers could not hold the connections within RLIMIT_NOFILE),
# starts BUILDDIR/wk-master -d, waits until every process is ready, runs
# BUILDDIR/bench/wkconnbench against it, then stops the tree and removes
# the directory.  The CSV is left as ./wkconnbench.csv unless -o is given.
# Environment: WK_BENCH_CAPACITY (presence.capacity, default 131072),
# WK_BENCH_BROKERS (processes.broker, default: see below), WK_BENCH_KEEP=1
# keeps the directory (master.log) afterwards.
set -eu

build=${1:?usage: conn.sh BUILDDIR [wkconnbench options]}
shift
build=$(cd "$build" && pwd)
master="$build/wk-master"
bench="$build/bench/wkconnbench"
me=conn.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$bench"

# The brokers inherit this limit (wk does not raise its own; see README).
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)

# How many connections the run makes (-n, -W), to size the broker count: a
# broker cannot hold more sockets than RLIMIT_NOFILE, and without
# CAP_SYS_RESOURCE the hard limit cannot be raised.  The default layout
# stays unless it cannot hold them (or WK_BENCH_BROKERS says otherwise).
n=50000 nws=0 prev=""
for a in "$@"; do
	case "$prev" in
	-n) n=$a ;;
	-W) nws=$a ;;
	esac
	prev=$a
done
brokers=${WK_BENCH_BROKERS:-auto}
if [ "$brokers" = auto ]; then
	cores=$(getconf _NPROCESSORS_ONLN)
	# 15% for an uneven SO_REUSEPORT spread, 200 descriptors of its own.
	need=$(( ( (n + nws) * 115 / 100 + nofile - 201 ) / (nofile - 200) ))
	[ "$need" -gt "$cores" ] && brokers=$need
fi

cleanup() {
	rc=$?
	if [ $rc -ne 0 ] && [ -n "$dir" ] && [ -s "$dir/master.log" ]; then
		echo "conn.sh: last lines of $dir/master.log:" >&2
		tail -20 "$dir/master.log" >&2
	fi
	stop_tree
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_tree wkcb "presence:
  capacity: ${WK_BENCH_CAPACITY:-131072}
processes:
  broker: $brokers"
echo "conn.sh: tree ready in $dir (tcp $tcp, ws $ws), $children children, processes.broker $brokers, RLIMIT_NOFILE $nofile"

case " $* " in
*" -o "*) out="" ;;
*) out="-o wkconnbench.csv" ;;
esac
# shellcheck disable=SC2086
"$bench" -m "$config" -M "$master" -p "$tcp" -w "$ws" $out "$@"
