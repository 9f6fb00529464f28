#!/bin/sh
# console.sh - how fast the console's views load with many connections
# held (issue 17: "under 1 s with 50,000 connections"), against the same
# tree with none, in one run (bench/README.md).
#
#   bench/console.sh BUILDDIR [CONNECTIONS]     (default 50000)
#
# Starts a fresh tree (tree.sh) with the console on a free port and a login,
# opens the console in Debian's headless chromium (puppeteer-core from the
# e2e tests' node_modules: run `make check` once, or npm install in
# BUILDDIR/tests/e2e) and times every view (tests/e2e/console_browser.mjs,
# scenario "load"): the page, the login until the process tree shows, the
# connections view (/connz, the first page, then page 500 of every sort
# order), the webhook queue, the rates.  Then wkconnbench connects
# CONNECTIONS clients over TCP (4 source addresses) and holds them while
# the same views are timed again.
set -eu

build=${1:?usage: console.sh BUILDDIR [CONNECTIONS]}
want=${2:-50000}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
master="$build/wk-master"
bench="$build/bench/wkconnbench"
modules="$build/tests/e2e/node_modules"
me=console.sh
. "$(dirname "$0")/tree.sh"
need_built "$master" "$bench"
[ -d "$modules/puppeteer-core" ] || { echo "$me: no $modules/puppeteer-core (make check first)" >&2; exit 1; }
node=$(command -v node) || { echo "$me: no node" >&2; exit 1; }

ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
cores=$(getconf _NPROCESSORS_ONLN)
brokers=$(( (want * 115 / 100 + nofile - 201) / (nofile - 200) ))
[ "$brokers" -lt "$cores" ] && brokers=$cores

stop_tree_on_exit

mport=$(pick_port); picked="$picked $mport"
start_tree wkcons "presence:
  capacity: 131072
processes:
  broker: $brokers
manager:
  addr: 127.0.0.1:$mport
auth:
  users:
    - \"admin:s3cret:*\""

# The connections /connz counts now (tree.sh uses $n: ours is $want).
conns() {
	curl -s "http://127.0.0.1:$http/connz?limit=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'
}

views() {
	CHROMIUM=${CHROMIUM:-/usr/bin/chromium} "$node" "$src/tests/e2e/console_browser.mjs" \
	    --modules="$modules" load "http://127.0.0.1:$mport/" admin s3cret | sed -n 's/^RESULT //p'
}

echo "== console views, $(conns) connections"
views
echo "== wkconnbench: $want connections, held"
"$bench" -m "$config" -M "$master" -p "$tcp" -n "$want" -s 4 -d 600 -o /dev/null >"$dir/connbench.log" 2>&1 &
client_pid=$!
i=0
while [ "$(conns)" -lt "$want" ]; do
	kill -0 "$client_pid" 2>/dev/null || { echo "$me: wkconnbench exited" >&2; cat "$dir/connbench.log" >&2; exit 1; }
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "$me: $want connections not up in 300 s" >&2; exit 1; }
	sleep 0.5
done
echo "== console views, $(conns) connections"
views
views
