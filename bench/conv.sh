#!/bin/sh
# conv.sh - issue 6's figures against a fresh wk tree (bench/README.md):
# convbench (/conversation/sync for a user with 1000 conversations, and one
# with 10), then wkbench scenario 3 with cmd messages (-c) to a group of
# 10,000 with 1,000 members online, against the same group with chat
# messages, at the same rate.
#
#   bench/conv.sh BUILDDIR [--quick]
#   CONV_SIZES="100 1000 10000" CONV_ONLY=1 bench/conv.sh BUILDDIR   (the table)
#   CONV_CLIENTS="4 8 16" ...  the same at several concurrencies
#   CONV_BOUND=1 ...   also, per size, one full answer saved and served by
#                      convbound (nothing behind it): the HTTP edge's limit
set -eu

build=${1:?usage: conv.sh BUILDDIR [--quick]}
shift
secs=10 group=10000 online=1000 rate=5
[ "${1:-}" = --quick ] && secs=3 group=2000 online=200
build=$(cd "$build" && pwd)
master="$build/wk-master"
me=conv.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$build/bench/convbench" "$build/bench/wkbench"
trap stop_tree EXIT INT TERM

# CONV_SIZES="100 1000 10000": the growth table, one fresh tree per size
# (the user's conversations; userMaxCount raised to hold them).
for convs in ${CONV_SIZES:-1000}; do
	start_tree convbench "conversation:
  userMaxCount: $(( convs > 1000 ? convs : 1000 ))"
	echo "== /conversation/sync, msg_count 1, $convs conversations"
	# CONV_CLIENTS="4 8 16": one run per concurrency, each its own users.
	for c in ${CONV_CLIENTS:-16}; do
		[ "${CONV_CLIENTS:-16}" = 16 ] || echo "-- $c clients"
		"$build/bench/convbench" -H "127.0.0.1:$http" -t "$secs" -n "$convs" -c "$c" \
		    -x "$( [ "$c" = 16 ] && echo cb || echo "cb$c")"
	done
	if [ -n "${CONV_BOUND:-}" ]; then
		ans=$(mktemp /tmp/convbound.XXXXXX)
		curl -s -o "$ans" -d "{\"uid\":\"cb-u$convs\",\"msg_count\":1}" \
		    "http://127.0.0.1:$http/conversation/sync"
		stop_tree
		bport=$(pick_port)
		"$build/bench/convbound" -p "$bport" -f "$ans" &
		bpid=$!
		sleep 0.5
		echo "== the same answer ($(wc -c <"$ans") bytes) from convbound, nothing behind it"
		"$build/bench/convbench" -H "127.0.0.1:$bport" -t "$secs" -n "$convs" -B || true
		kill "$bpid"
		wait "$bpid" 2>/dev/null || true
		rm -f "$ans"
	fi
	stop_tree
done
[ -n "${CONV_ONLY:-}" ] && exit 0

start_tree cmdbench "presence:
  capacity: 131072"
echo "== group of $group, $online online, $rate msgs/s: chat, then cmd (sync_once)"
"$build/bench/wkbench" -s 3 -h 127.0.0.1 -p "$tcp" -H "127.0.0.1:$http" -g "$group" \
    -n "$online" -r "$rate" -t "$secs" -x chat -l chat -q
"$build/bench/wkbench" -s 3 -h 127.0.0.1 -p "$tcp" -H "127.0.0.1:$http" -g "$group" \
    -n "$online" -r "$rate" -t "$secs" -x cmd -l cmd -c -q
stop_tree
