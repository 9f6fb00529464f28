#!/bin/bash
# cluster.sh - a 3-host cluster on this one machine against a single host,
# in one run (issue 18, wk-cluster(7), bench/README.md).
#
#   bench/cluster.sh [BUILD] [ROUNDS] [SECS]
#
# BUILD (default ./build) is brought up to date with `make`; nothing else
# is built.  Everything runs under a temporary directory (/tmp/wkcluster.*):
#
#  1. Throughput and latency.  wkbench (wkbench(1)) against a single host,
#     then against host 1 of a cluster of three: 1:1 durable closed loop
#     (scenario 1, 100 pairs) at depth 1 and 64, and open loop (scenario 2)
#     at 10,000 msgs/s; SECS (default 10) seconds each.  Printed side by
#     side: SENDACK/s and SENDACK p50/p99/p99.9, with the ratio cluster /
#     single.  Every tree has storage.sync fsync, tokenAuthOn false,
#     processes.channel and .mailbox 2 (a cluster needs them explicit; the
#     single host gets the same), the default brokers.
#  2. Failover, ROUNDS times (default 10): the host mastering channel shard
#     (round mod 2) is killed, wk-master and every child with SIGKILL; then
#     one tight loop per test channel (16 groups) sends through the two
#     survivors' HTTP APIs (curl -m 1, the same client_msg_no until
#     acknowledged) and records the time from the kill to its first
#     acknowledged write; the host is started again on its directory and
#     waited for until every copy on it reports rep_synced=1.  Printed per
#     round and at the end: p50 and max over the channels whose shard the
#     killed host mastered (the others never lose their master: shown apart).
#
# The cluster's hosts are 127.0.0.11, .12 and .13 (all of 127/8 is
# loopback on Linux), internal ports from one base below 10000 on which
# nothing listens; client ports are free ports on 127.0.0.1.  Every process
# started is stopped on exit, however the script ends.  Writes cluster.csv
# (wkbench's lines) and failover.txt (one line per channel and round) in
# the current directory.  WK_BENCH_KEEP=1 keeps the directory (each host's
# master.log).
set -euo pipefail

build=${1:-./build}
rounds=${2:-10}
secs=${3:-10}
me=cluster.sh
. "$(dirname "$0")/tree.sh"
make -s -C "$build" >/dev/null
build=$(cd "$build" && pwd)
master="$build/wk-master"
bench="$build/bench/wkbench"
need_built "$master" "$bench"
out=$(pwd)
csv="$out/cluster.csv"
fo="$out/failover.txt"
: >"$csv"
: >"$fo"
top=$(mktemp -d /tmp/wkcluster.XXXXXX)
nchan=16
probes=()
t0=0

# Host h (0: the single host, 1-3: the cluster): its directory, config,
# client ports, wk-master's pid ("" when not running).
declare -a hdir hcfg htcp hws hhttp hpid
for h in 0 1 2 3; do
	hdir[h]="$top/h$h"
	hcfg[h]="$top/h$h/wk.yaml"
	htcp[h]=$(pick_port); picked="$picked ${htcp[h]}"
	hws[h]=$(pick_port); picked="$picked ${hws[h]}"
	hhttp[h]=$(pick_port); picked="$picked ${hhttp[h]}"
	hpid[h]=""
done

# The processes of a host: those with its config among their arguments
# (the master's -f and every child's), found in /proc, so children whose
# master was killed are found too.  The pattern comes from a file: grep's
# own arguments must not match.
pat="$top/pattern"
host_pids() {
	printf '%s\n' "${hcfg[$1]}" >"$pat"
	grep -lzxF -f "$pat" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 || true
}

cleanup() {
	local rc=$? h p
	for p in ${probes[@]+"${probes[@]}"}; do
		kill "$p" 2>/dev/null || true
	done
	for h in 0 1 2 3; do
		[ -n "${hcfg[h]:-}" ] || continue
		[ -z "${hpid[h]}" ] || term_wait "${hpid[h]}" 100
		for p in $(host_pids "$h"); do
			kill -KILL "$p" 2>/dev/null || true
		done
	done
	if [ "${WK_BENCH_KEEP:-0}" = 1 ]; then
		echo "$me: kept $top" >&2
	else
		rm -rf "$top"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A base port whose 1,792 ports nobody listens on (any address), nor a
# test holds (tests/lib: /tmp/wkt-ports/chunk-N, 128 ports each, with the
# claimer's pid), in 2048..9999: below the ephemeral range and the ports
# the tests and pick_port take.
pick_base() {
	local used="" c owner base hex
	for hex in $(awk '$4 == "0A" { split($2, a, ":"); print a[2] }' /proc/net/tcp \
	    /proc/net/tcp6 2>/dev/null || true); do
		used="$used $((16#$hex))"
	done
	for c in /tmp/wkt-ports/chunk-*; do
		[ -e "$c" ] || continue
		owner=$(cat "$c" 2>/dev/null || true)
		if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
			used="$used $(seq "${c##*-}" $(( ${c##*-} + 127 )))"
		fi
	done
	for base in $(seq 2048 128 8208 | shuf); do
		if ! echo "$used" | tr ' ' '\n' | awk -v lo="$base" -v hi=$((base + 1791)) \
		    '$1 != "" && $1 >= lo && $1 <= hi { f = 1 } END { exit !f }'; then
			echo "$base"
			return
		fi
	done
	echo "$me: no free block of 1792 ports below 10000" >&2
	exit 1
}

# write_config H NODE BASE: host H's directory and wk.yaml (NODE 0: no cluster).
write_config() {
	local h=$1 node=$2 base=$3
	mkdir -p "${hdir[h]}"
	cat >"${hcfg[h]}" <<EOC
rootDir: ${hdir[h]}
tokenAuthOn: false
addr: tcp://127.0.0.1:${htcp[h]}
wsAddr: ws://127.0.0.1:${hws[h]}
httpAddr: 127.0.0.1:${hhttp[h]}
manager:
  on: false
demo:
  on: false
logger:
  level: 3
storage:
  sync: fsync
presence:
  capacity: 131072
processes:
  channel: 2
  mailbox: 2
EOC
	if [ "$node" -gt 0 ]; then
		cat >>"${hcfg[h]}" <<EOC
cluster:
  node: $node
  nodes: ["127.0.0.11:$base", "127.0.0.12:$base", "127.0.0.13:$base"]
EOC
	fi
}

status() { "$master" -c status -r -f "${hcfg[$1]}" 2>/dev/null || true; }

# start H: wk-master -d for host H; wait until every child is ready (60 s).
start() {
	local h=$1 i=0 line n r
	"$master" -d -f "${hcfg[h]}" 2>>"${hdir[h]}/master.log" &
	hpid[h]=$!
	while :; do
		line=$(status "$h" | head -1)
		n=$(echo "$line" | sed -n 's/.* children=\([0-9]*\).*/\1/p')
		r=$(echo "$line" | sed -n 's/.* ready=\([0-9]*\).*/\1/p')
		if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" = "$r" ]; then
			return
		fi
		kill -0 "${hpid[h]}" 2>/dev/null || { echo "$me: host $h: wk-master exited" >&2;
			tail "${hdir[h]}/master.log" >&2; exit 1; }
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "$me: host $h not ready in 60 s" >&2; exit 1; }
		sleep 0.1
	done
}

# stop H: SIGTERM, wait for the master (30 s), then SIGKILL what is left.
stop() {
	local h=$1 i=0 p
	if [ -n "${hpid[h]}" ]; then
		kill -TERM "${hpid[h]}" 2>/dev/null || true
		while kill -0 "${hpid[h]}" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		wait "${hpid[h]}" 2>/dev/null || true
	fi
	for p in $(host_pids "$h"); do
		kill -KILL "$p" 2>/dev/null || true
	done
	hpid[h]=""
}

# kill9 H: SIGKILL wk-master, then every child (their pids taken first);
# t0 (ns) is the moment of the kill.
kill9() {
	local h=$1 p pids i=0
	pids=$(host_pids "$h")
	t0=$(date +%s%N)
	kill -KILL "${hpid[h]}" 2>/dev/null || true
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait "${hpid[h]}" 2>/dev/null || true
	hpid[h]=""
	while [ -n "$(host_pids "$h")" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

# field H ROLE INST KEY: the value of KEY in ROLE/INST's status line on host H.
field() {
	status "$1" | awk -v role="$2" -v inst="$3" -v key="$4" '
	    { r = ""; i = ""; v = ""
	      for (f = 1; f <= NF; f++) { split($f, kv, "=")
		if (kv[1] == "role") r = kv[2]; else if (kv[1] == "instance") i = kv[2]
		else if (kv[1] == key) v = kv[2] } }
	    r == role && i == inst { print v; exit }'
}

# The hosts of the cluster that run.
up() {
	local h
	for h in 1 2 3; do
		[ -n "${hpid[h]}" ] && echo "$h"
	done
	return 0
}

# settled: every channel and mailbox shard (2 each) has a master among the
# running hosts, which says rep=master, named by every copy (rep=copy), and
# every copy has caught up (rep_synced=1).  One status per host.
settled() {
	local h
	for h in $(up); do
		status "$h" | sed "s/^/host=$h /"
	done | awk -v up="$(up | tr '\n' ' ')" '
	BEGIN { split(up, u, " "); for (k in u) alive[u[k]] = 1 }
	{ h = r = i = rep = m = s = ""
	  for (f = 1; f <= NF; f++) { split($f, kv, "=")
	    if (kv[1] == "host") h = kv[2]; else if (kv[1] == "role") r = kv[2]
	    else if (kv[1] == "instance") i = kv[2]; else if (kv[1] == "rep") rep = kv[2]
	    else if (kv[1] == "rep_master") m = kv[2]; else if (kv[1] == "rep_synced") s = kv[2] }
	  if (r != "channel" && r != "mailbox") next
	  key = r "/" i; seen[key, h] = 1; keys[key] = 1
	  if (m == "" || m == 0 || !(m in alive) || s != 1) bad = 1
	  if ((key in mast) && mast[key] != m) bad = 1
	  mast[key] = m
	  if ((m == h) != (rep == "master") || (rep != "master" && rep != "copy")) bad = 1 }
	END { for (k in keys) { n++; for (x in alive) if (!((k, x) in seen)) bad = 1 }
	  exit (bad || n != 4) }'
}

wait_settled() {
	local i=0
	until settled; do
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "$me: the cluster did not settle in 60 s ($1)" >&2; exit 1; }
		sleep 0.1
	done
}

# The host that masters channel shard I.
master_of() {
	local h
	for h in $(up); do
		if [ "$(field "$h" channel "$1" rep)" = master ]; then
			echo "$h"
			return
		fi
	done
	echo 0
}

# wkbench H LABEL: the three runs against host H.
runs() {
	local h=$1 label=$2 args run
	for args in "s1d1 -s 1 -n 100 -d 1" "s1d64 -s 1 -n 100 -d 64" "s2r10k -s 2 -n 100 -r 10000"; do
		set -- $args
		run=$1
		shift
		echo "== $label $run: wkbench $*"
		"$bench" -q -h 127.0.0.1 -p "${htcp[h]}" -w "${hws[h]}" -H "127.0.0.1:${hhttp[h]}" \
		    -t "$secs" -D 3 -o "$csv" -l "$label-$run" "$@" >/dev/null 2>&1 ||
		    echo "$me: $label-$run: wkbench failed" >&2
	done
}

# post H PATH BODY: an HTTP call that must answer 200.
post() {
	curl -sf -m 10 -XPOST "http://127.0.0.1:${hhttp[$1]}$2" -H 'Content-Type: application/json' \
	    -d "$3" >/dev/null || { echo "$me: POST $2 on host $1 failed" >&2; exit 1; }
}

# send H CHANNEL CMN: one /message/send through host H (curl -m 1):
# success only when acknowledged (reason_code 1).
send() {
	local resp
	resp=$(curl -s -m 1 -XPOST "http://127.0.0.1:${hhttp[$1]}/message/send" \
	    -H 'Content-Type: application/json' -d "{\"from_uid\":\"bs\",\"channel_id\":\"$2\",\
\"channel_type\":2,\"client_msg_no\":\"$3\",\"payload\":\"eyJ0eXBlIjoxLCJjb250ZW50IjoiZm8ifQ==\"}" \
	    2>/dev/null || true)
	case $resp in
	*'"reason_code":1'*) return 0 ;;
	esac
	return 1
}

# probe CHANNEL T0_NS OUT A B: send through hosts A and B in turn, the same
# client_msg_no, until one is acknowledged; ms since T0 into OUT (-1 after 60 s).
probe() {
	local ch=$1 t0=$2 out=$3 a=$4 b=$5 cmn="fo-$round-$1" h
	while :; do
		for h in $a $b; do
			if send "$h" "$ch" "$cmn"; then
				echo $(( ($(date +%s%N) - t0) / 1000000 )) >"$out"
				return
			fi
			if [ $(( ($(date +%s%N) - t0) / 1000000000 )) -ge 60 ]; then
				echo -1 >"$out"
				return
			fi
		done
	done
}

# Sum of `appended` over channel/I on the running hosts (only a master
# appends): which shard a test channel lands on, found by sending to it.
appended() {
	local h n sum=0
	for h in $(up); do
		n=$(field "$h" channel "$1" appended)
		sum=$((sum + ${n:-0}))
	done
	echo $sum
}

echo "load before: $(uptime)"
base=$(pick_base)

# 1. A single host, then the cluster.
write_config 0 0 0
start 0
runs 0 single
stop 0
for h in 1 2 3; do
	write_config $h $h "$base"
done
for h in 1 2 3; do
	start $h
done
wait_settled "at start"
runs 1 cluster

echo
printf '%-7s | %-28s | %-28s | %-28s | %-28s\n' "" "SENDACK/s" "SENDACK p50 us" "p99 us" "p99.9 us"
printf '%-7s | %10s %10s %6s | %10s %10s %6s | %10s %10s %6s | %10s %10s %6s\n' run \
    single cluster ratio single cluster ratio single cluster ratio single cluster ratio
awk -F, '{ split($1, k, "-"); w = k[1]; r = k[2]; if (!(r in seen)) { seen[r] = 1; order[++n] = r }
	ack[w, r] = $7; p50[w, r] = $9; p99[w, r] = $10; p999[w, r] = $11 }
function ratio(c, s) { return s > 0 ? sprintf("%.2f", c / s) : "-" }
END { for (i = 1; i <= n; i++) { r = order[i]
	printf "%-7s | %10d %10d %6s | %10d %10d %6s | %10d %10d %6s | %10d %10d %6s\n", r,
	    ack["single", r], ack["cluster", r], ratio(ack["cluster", r], ack["single", r]),
	    p50["single", r], p50["cluster", r], ratio(p50["cluster", r], p50["single", r]),
	    p99["single", r], p99["cluster", r], ratio(p99["cluster", r], p99["single", r]),
	    p999["single", r], p999["cluster", r], ratio(p999["cluster", r], p999["single", r]) } }' "$csv"
echo

# 2. Failover.  The test channels, and the shard of each.
declare -a shard_of
members='"bs"'
for c in $(seq 1 $nchan); do
	post 1 /channel "{\"channel_id\":\"fo$c\",\"channel_type\":2,\"subscribers\":[$members]}"
done
for c in $(seq 1 $nchan); do
	a0=$(appended 0)
	a1=$(appended 1)
	i=0
	until send 1 "fo$c" "fo-setup-$c"; do
		i=$((i + 1))
		[ $i -lt 50 ] || { echo "$me: fo$c: no acknowledged write" >&2; exit 1; }
	done
	if [ "$(appended 0)" -gt "$a0" ]; then shard_of[c]=0
	elif [ "$(appended 1)" -gt "$a1" ]; then shard_of[c]=1
	else echo "$me: fo$c: no shard's appended moved" >&2; exit 1; fi
done
echo "test channels per shard: 0: $(for c in $(seq 1 $nchan); do [ "${shard_of[c]}" = 0 ] && echo x; done | wc -l)," \
    "1: $(for c in $(seq 1 $nchan); do [ "${shard_of[c]}" = 1 ] && echo x; done | wc -l)"

for round in $(seq 1 "$rounds"); do
	wait_settled "round $round"
	s=$((round % 2))
	victim=$(master_of $s)
	[ "$victim" != 0 ] || { echo "$me: no master of channel/$s" >&2; exit 1; }
	declare -a mastered=()
	for i in 0 1; do
		mastered[i]=$(master_of $i)
	done
	set -- $(up | grep -vx "$victim")
	a=$1 b=$2
	rm -f "$top"/probe-*
	kill9 "$victim"
	probes=()
	for c in $(seq 1 $nchan); do
		probe "fo$c" "$t0" "$top/probe-$c" "$a" "$b" &
		probes+=($!)
	done
	wait "${probes[@]}"
	for c in $(seq 1 $nchan); do
		ms=$(cat "$top/probe-$c")
		if [ "${mastered[${shard_of[c]}]}" = "$victim" ]; then kind=lost; else kind=kept; fi
		echo "$round $victim fo$c ${shard_of[c]} $kind $ms" >>"$fo"
	done
	awk -v r="$round" '$1 == r && $5 == "lost" { print $6 }' "$fo" | sort -n | awk -v r="$round" \
	    -v h="$victim" -v s="$s" '{ v[++n] = $1 } END { printf "round %d: kill -9 of host %d (master of channel/%d): %d channels lost their master, first write p50 %d ms, max %d ms\n", r, h, s, n, v[int((n + 1) / 2)], v[n] }'
	start "$victim"
	t1=$(date +%s%N)
	wait_settled "after round $round"
	echo "         host $victim back, every copy caught up $(( ($(date +%s%N) - t1) / 1000000 )) ms after it was ready"
done

echo
awk '$5 == "lost" { print $6 }' "$fo" | sort -n | awk -v k="$rounds" '{ v[++n] = $1 }
	END { if (n) printf "kill -9 -> first acknowledged write, %d writes over %d kills: p50 %d ms, max %d ms%s\n",
	    n, k, v[int((n + 1) / 2)], v[n], v[1] < 0 ? " (-1: none within 60 s)" : "" }'
awk '$5 == "kept" { print $6 }' "$fo" | sort -n | awk '{ v[++n] = $1 }
	END { if (n) printf "channels whose master was not on the killed host: p50 %d ms, max %d ms (%d writes)\n",
	    v[int((n + 1) / 2)], v[n], n }'
echo "load after: $(uptime)"
