#!/bin/sh
# hook.sh - issue 7's figures: webhooks (bench/README.md, wk-hook(8)).
#
#   bench/hook.sh BUILDDIR [--quick]
#
# Trees from tree.sh (tokenAuthOn false, storage.sync fsync, the default
# process layout) posting to a local receiver (hookbench recv: counts the
# msg.notify items; run at the lowest priority, SCHED_BATCH and nice 19,
# since it stands for a business server on a machine of its own), fresh for
# each part.
#  1. SENDACK p99 of wkbench scenario 2 (100 pairs, open loop at RATE
#     msgs/s, 5,000 unless WK_BENCH_RATE): webhooks off; on with every event
#     (the wkbench users connect without tokens, so as slaves: every message
#     raises msg.offline too); on with msg.notify only.  One tree, switched
#     by reload, RUNS rounds of the three, so the modes share the tree's
#     data, caches and neighbours.
#  2. msg.notify end to end: wkbench scenario 1 (100 pairs, depth 64: as
#     many stored messages per second as the tree takes), msg.notify only;
#     stored/s against msg.notify items/s received, and how long after the
#     last SENDACK the last item arrived.
#  3. wk-hook alone: hookbench feed pushes FEED msg.notify events straight
#     into wk-hook; events/s taken, items/s received.
set -eu

build=${1:?usage: hook.sh BUILDDIR [--quick]}
shift
secs=10 rate=${WK_BENCH_RATE:-5000} runs=5 feed=500000
if [ "${1:-}" = --quick ]; then
	secs=4 runs=2 feed=100000
fi
build=$(cd "$build" && pwd)
master="$build/wk-master"
bench="$build/bench/wkbench"
hb="$build/bench/hookbench"
me=hook.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$bench" "$hb"
out=$(pwd)
csv="$out/hookbench.csv"
: >"$csv"
rxdir=$(mktemp -d /tmp/hookrx.XXXXXX)
rxpid=""
rx_stop() {
	[ -n "$rxpid" ] && kill "$rxpid" 2>/dev/null && wait "$rxpid" 2>/dev/null || true
	rxpid=""
}
trap 'rc=$?; rx_stop; stop_tree; rm -rf "$rxdir"; exit $rc' EXIT
trap 'exit 130' INT TERM

# A fresh receiver on a free port; sets rport.
rx_start() {
	rx_stop
	rport=$(pick_port)
	rm -f "$rxdir/rx.stats"
	# It stands for a business server on a machine of its own: here it
	# shares the cores with the tree, at the lowest priority.
	chrt -b 0 nice -n 19 "$hb" recv -p "$rport" -s "$rxdir/rx.stats" &
	rxpid=$!
	while [ ! -s "$rxdir/rx.stats" ]; do sleep 0.05; done
}

# rx KEY: a figure of the receiver's.
rx() {
	tr ' ' '\n' <"$rxdir/rx.stats" | sed -n "s/^$1=//p"
}

# status ROLE KEY: the sum of KEY over the tree's processes of ROLE.
status() {
	"$master" -c status -r -f "$config" | awk -v role="role=$1" -v key="$2" '
	    { for (i = 1; i <= NF; i++) if ($i == role) r = 1
	      for (i = 1; i <= NF; i++) if (r && index($i, key "=") == 1) s += substr($i, length(key) + 2)
	      r = 0 }
	    END { print s + 0 }'
}

# tree_with HOOK_YAML: a fresh tree with these webhook keys ("" = off).
tree_with() {
	start_tree hookbench "presence:
  capacity: 131072
$1"
}

hook_yaml() {
	printf 'webhook:\n  httpAddr: http://127.0.0.1:%s/wkhook\n' "$rport"
	[ -n "$1" ] && printf '  focusEvents: [%s]\n' "$1"
	return 0
}

# set_hooks off|all|msg.notify: rewrite the tree's webhook keys and reload
# (every webhook.* key is reloadable).
set_hooks() {
	sed -i '/^webhook:/,$d' "$config"
	case $1 in
	off) printf 'webhook:\n  httpAddr: ""\n' >>"$config" ;;
	all) hook_yaml "" >>"$config" ;;
	*) hook_yaml "$1" >>"$config" ;;
	esac
	"$master" -c reload -f "$config" >/dev/null
	sleep 1
}

# p99 MODE RUN: one scenario 2 run with webhooks MODE; appends its SENDACK
# p99 (µs) to $p99s.
p99() {
	set_hooks "$1"
	"$bench" -q -s 2 -n 100 -r "$rate" -h 127.0.0.1 -p "$tcp" -H "127.0.0.1:$http" -t "$secs" \
	    -x "h$2$1" -o "$csv" -l "p99-$1" >/dev/null 2>&1 || echo "hook.sh: $1: wkbench exit $?" >&2
	p99s="$p99s $(tail -n 1 "$csv" | cut -d, -f10)"
}

echo "== 1. SENDACK p99, wkbench -s 2 -n 100 -r $rate, ${secs} s; one tree, webhooks switched by reload"
echo "   (checkpoints at the default interval, on their own thread), $runs rounds of off, all, msg.notify"
rx_start
tree_with "webhook:
  httpAddr: \"\""
offs="" alls="" notifs=""
run=0   # not i: tree.sh's start_tree counts with i
while [ $run -lt "$runs" ]; do
	p99s=""; p99 off $run; offs="$offs$p99s"
	p99s=""; p99 all $run; alls="$alls$p99s"
	p99s=""; p99 msg.notify $run; notifs="$notifs$p99s"
	run=$((run + 1))
done
echo "   wk-hook: posted_notify=$(status hook posted_notify) posted_offline=$(status hook posted_offline) queued=$(status hook queued) dropped=$(status hook dropped); producers: hook_dropped=$(status channel hook_dropped)"
stop_tree
rx_stop
median() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
moff=$(median $offs) mall=$(median $alls) mnot=$(median $notifs)
echo "SENDACK p99 µs: off:$offs (median $moff); on, all events:$alls (median $mall); on, msg.notify only:$notifs (median $mnot)"
awk -v o="$moff" -v a="$mall" -v n="$mnot" 'BEGIN {
	printf "change of the median against off: all events %+.1f%%, msg.notify only %+.1f%%\n", 100 * (a - o) / o, 100 * (n - o) / o }'

echo "== 2. msg.notify end to end: wkbench -s 1 -n 100 -d 64, ${secs} s, msg.notify only"
rx_start
tree_with "$(hook_yaml msg.notify)"
"$bench" -q -s 1 -n 100 -d 64 -h 127.0.0.1 -p "$tcp" -H "127.0.0.1:$http" -t "$secs" \
    -o "$csv" -l e2e >/dev/null 2>&1 || echo "hook.sh: e2e: wkbench exit $?" >&2
tend=$("$hb" now)
acks=$(tail -n 1 "$csv" | cut -d, -f7)
stored=$(status channel appended)
i=0
while [ "$(rx notify)" -lt "$stored" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
got=$(rx notify) first=$(rx first_ms) last=$(rx last_ms)
echo "stored $stored messages (SENDACK/s during the measurement: $acks); receiver: $got msg.notify items, $(rx requests) requests, $(rx bad) bad"
awk -v g="$got" -v f="$first" -v l="$last" -v e="$tend" 'BEGIN {
	printf "msg.notify items/s from first to last item: %.0f; last item %d ms after the last SENDACK\n",
	    g * 1000 / (l - f), l - e }'
echo "wk-hook: requests=$(status hook requests) failures=$(status hook failures) queued=$(status hook queued)"
stop_tree

echo "== 3. wk-hook alone: hookbench feed, $feed msg.notify events, batches of 100"
rx_start
tree_with "$(hook_yaml msg.notify)"
fo=$("$hb" feed -r "$dir/run" -n "$feed" -b 100 -w 32)
echo "$fo" | head -1
fstart=$(echo "$fo" | sed -n 's/.*feed_start_ms=\([0-9]*\).*/\1/p')
i=0
while [ "$(rx notify)" -lt "$feed" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
awk -v g="$(rx notify)" -v s="$fstart" -v l="$(rx last_ms)" 'BEGIN {
	printf "receiver: %d items, %.0f items/s from the first event fed to the last item received\n",
	    g, g * 1000 / (l - s) }'
stop_tree
rx_stop
