#!/bin/sh
# stream.sh - issue 8's figure against a fresh wk tree (bench/README.md):
# streambench with 1,000 concurrent streams each appending 20 pieces per
# second (half the receivers at protocol version 5, half at version 2), on
# the default process layout with storage.sync fsync.
#
#   bench/stream.sh BUILDDIR [--quick] [streambench options]
set -eu

build=${1:?usage: stream.sh BUILDDIR [--quick] [streambench options]}
shift
secs=10
if [ "${1:-}" = --quick ]; then
	secs=3
	shift
fi
build=$(cd "$build" && pwd)
master="$build/wk-master"
me=stream.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$build/bench/streambench"
trap stop_tree EXIT INT TERM

start_tree streambench ""
echo "== $(nproc) CPUs; tree: $(echo "$children" | tr -d ' ') processes, storage.sync fsync"
"$build/bench/streambench" -H "127.0.0.1:$http" -p "$tcp" -t "$secs" "$@"
stop_tree
