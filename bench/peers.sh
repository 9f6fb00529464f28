#!/bin/sh
# peers.sh - issue 15's peers in the same run: wkbench scenario 1 (one-to-one,
# durable, closed loop) against a fresh wk tree, then the same shape against
# Mosquitto (MQTT QoS 1, persistence on) and NATS JetStream (file store),
# each with its own client from npm (bench/peers/peers.mjs), and the ratios.
#
#   bench/peers.sh BUILDDIR [PAIRS] [DEPTH] [SECONDS]     (100 16 10)
#
# Installs what is missing: Debian's mosquitto and nats-server (apt-get, as
# root) and the clients (npm install in bench/peers); the test command does
# not run it.  Read the figures with what each "stored" means: wk's SENDACK
# follows an fsync of the group commit; Mosquitto's PUBACK follows the
# message being in memory (persistence writes a snapshot every
# autosave_interval); JetStream's ack follows the write to its file store,
# flushed to disk every sync_interval (2 min), not per message.  wk's client
# is wkbench (C, processes per core); the peers' are JavaScript on one
# thread: their CPU is printed, a peer whose client is at 100 % of a core
# is measured at the client's limit.
set -eu

build=${1:?usage: peers.sh BUILDDIR [PAIRS] [DEPTH] [SECONDS]}
pairs=${2:-100} depth=${3:-16} secs=${4:-10}
build=$(cd "$build" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
master="$build/wk-master"
me=peers.sh
. "$here/tree.sh"
need_built "$master" "$build/bench/wkbench"

need_pkg() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || { echo "$me: $1 missing: apt-get install $2 (as root)" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >/dev/null
}
need_pkg mosquitto mosquitto
need_pkg nats-server nats-server
if [ ! -d "$here/peers/node_modules/mqtt" ] || [ ! -d "$here/peers/node_modules/nats" ]; then
	(cd "$here/peers" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

stop_tree_on_exit
out=$(mktemp -d /tmp/peers.XXXXXX)

# wk: the same tree as bench/ab.sh.
start_tree wkpeers "storage:
  sync: fsync
presence:
  capacity: 131072"
"$build/bench/wkbench" -q -h 127.0.0.1 -p "$tcp" -w "$ws" -H "127.0.0.1:$http" -s 1 \
    -n "$pairs" -d "$depth" -t "$secs" -o "$out/wk.csv" -l wk >/dev/null 2>&1
stop_tree
wk_line=$(awk -F, '{ printf "{\"peer\":\"wk\",\"acks_per_s\":%d,\"recv_per_s\":%d,\"ack_p50_us\":%d,\"ack_p99_us\":%d,\"ack_p999_us\":%d,\"cpu_s\":null}", $7, $8, $9, $10, $11 }' "$out/wk.csv")

# Wait until port accepts connections (the peer is up), at most 10 s.
wait_port() {
	i=0
	until ss -ltn "sport = :$1" | grep -q LISTEN; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "$me: nothing listens on $1" >&2; exit 1; }
		sleep 0.1
	done
}

peer() {   # NAME PORT: run peers.mjs against the peer listening on PORT
	wait_port "$2"
	node "$here/peers/peers.mjs" "$1" "$2" "$pairs" "$depth" "$secs" | sed -n 's/^RESULT //p'
	kill "$client_pid" 2>/dev/null || true
	wait "$client_pid" 2>/dev/null || true
	client_pid=""
}

mport=$(pick_port)
mkdir -p "$out/mosquitto"
cat >"$out/mosquitto.conf" <<EOC
listener $mport 127.0.0.1
allow_anonymous true
persistence true
persistence_location $out/mosquitto/
max_inflight_messages 0
max_queued_messages 1000000
EOC
mosquitto -c "$out/mosquitto.conf" >"$out/mosquitto.log" 2>&1 &
client_pid=$!
mqtt_line=$(peer mqtt "$mport")

nport=$(pick_port)
nats-server -a 127.0.0.1 -p "$nport" -js -sd "$out/nats" >"$out/nats.log" 2>&1 &
client_pid=$!
nats_line=$(peer nats "$nport")

echo "== one-to-one, durable, closed loop: $pairs pairs, $depth in flight each, $secs s"
printf '%s\n%s\n%s\n' "$wk_line" "$mqtt_line" "$nats_line" | node -e '
const rows = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const wk = rows[0];
console.log("peer       acks/s    recv/s  ack p50 ms  p99 ms  p99.9 ms  client CPU s  wk / peer");
for (const r of rows)
	console.log(`${r.peer.padEnd(6)} ${String(r.acks_per_s).padStart(9)} ${String(r.recv_per_s).padStart(9)}` +
	    ` ${(r.ack_p50_us / 1000).toFixed(2).padStart(10)} ${(r.ack_p99_us / 1000).toFixed(2).padStart(7)}` +
	    ` ${(r.ack_p999_us / 1000).toFixed(2).padStart(9)} ${String(r.cpu_s ?? "-").padStart(13)}` +
	    ` ${(wk.acks_per_s / r.acks_per_s).toFixed(2).padStart(10)}`);
const busy = rows.filter((r) => r.cpu_s !== null && r.cpu_s >= 0.8 * (Number(process.argv[1]) + 2));
for (const r of busy)
	console.log(`${r.peer}: its client used ${r.cpu_s} s of CPU in ${Number(process.argv[1]) + 2} s: ` +
	    "the figure is what the client could do: a lower bound for the peer");
' "$secs"
rm -rf "$out"
