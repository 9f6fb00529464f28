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
for f in "$master" "$bench"; do
	[ -x "$f" ] || { echo "conn.sh: $f: not built" >&2; exit 2; }
done

# A port nobody listens on (TCP state 0A = LISTEN in /proc/net/tcp*), below
# the ephemeral range the generator's sockets take their ports from.
used_ports=$(awk '$4 == "0A" { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
pick_port() {
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000 ))
		hex=$(printf %04X "$p")
		case " $used_ports $picked " in
		*" $hex "*|*" $p "*) continue ;;
		esac
		picked="$picked $p"
		echo "$p"
		return
	done
}
picked=""
tcp=$(pick_port); picked="$picked $tcp"
ws=$(pick_port); picked="$picked $ws"
http=$(pick_port)

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

dir=$(mktemp -d /tmp/wkcb.XXXXXX)
config="$dir/wk.yaml"
cat >"$config" <<EOF
rootDir: $dir
tokenAuthOn: false
addr: tcp://127.0.0.1:$tcp
wsAddr: ws://127.0.0.1:$ws
httpAddr: 127.0.0.1:$http
logger:
  level: 3
presence:
  capacity: ${WK_BENCH_CAPACITY:-131072}
processes:
  broker: $brokers
EOF

mpid=""
cleanup() {
	rc=$?
	if [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null; then
		kill -TERM "$mpid" 2>/dev/null || true
		i=0
		while kill -0 "$mpid" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$mpid" 2>/dev/null || true
	fi
	if [ $rc -ne 0 ] && [ -s "$dir/master.log" ]; then
		echo "conn.sh: last lines of $dir/master.log:" >&2
		tail -20 "$dir/master.log" >&2
	fi
	if [ "${WK_BENCH_KEEP:-0}" = 1 ]; then
		echo "conn.sh: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$master" -d -f "$config" 2>"$dir/master.log" &
mpid=$!

# Ready when the master says every child is.
i=0
while :; do
	line=$("$master" -c status -r -f "$config" 2>/dev/null | head -1 || true)
	n=$(echo "$line" | sed -n 's/.* children=\([0-9]*\).*/\1/p')
	r=$(echo "$line" | sed -n 's/.* ready=\([0-9]*\).*/\1/p')
	if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" = "$r" ]; then
		break
	fi
	kill -0 "$mpid" 2>/dev/null || { echo "conn.sh: wk-master exited" >&2; exit 1; }
	i=$((i + 1))
	[ $i -lt 300 ] || { echo "conn.sh: tree not ready in 30 s" >&2; exit 1; }
	sleep 0.1
done
echo "conn.sh: tree ready in $dir (tcp $tcp, ws $ws), $r children, processes.broker $brokers, RLIMIT_NOFILE $nofile"

case " $* " in
*" -o "*) out="" ;;
*) out="-o wkconnbench.csv" ;;
esac
# shellcheck disable=SC2086
"$bench" -m "$config" -M "$master" -p "$tcp" -w "$ws" $out "$@"
