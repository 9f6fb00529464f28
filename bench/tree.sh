# tree.sh - sourced by the bench scripts: a fresh wk tree for a benchmark.
#
#   start_tree PREFIX EXTRA_YAML   temporary directory /tmp/PREFIX.XXXXXX, a
#                                  config (tokenAuthOn: false, free ports on
#                                  127.0.0.1, then EXTRA_YAML), wk-master -d,
#                                  wait until every child is ready; sets dir,
#                                  config, tcp, ws, http, mpid, children
#   stop_tree                      SIGTERM (SIGKILL after 30 s), remove dir
#                                  unless WK_BENCH_KEEP=1
#   term_wait PID TENTHS           SIGTERM, wait up to TENTHS x 0.1 s for it
#   stop_tree_on_exit              at exit (or INT/TERM) kill the client in
#                                  $client_pid, if any, then stop_tree
#   need_built FILE...             exit 2 unless every FILE is an executable;
#                                  raise the open-file limit for the clients
# The caller sets `master` (the wk-master binary) and `me` (its name).

need_built() {
	for f in "$@"; do
		[ -x "$f" ] || { echo "$me: $f: not built" >&2; exit 2; }
	done
	ulimit -n 65536 2>/dev/null || true
}

# A port nobody listens on (TCP state 0A = LISTEN in /proc/net/tcp*), below
# the ephemeral range the generator's sockets take their ports from.
picked=""
pick_port() {
	used=$(awk '$4 == "0A" { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null || true)
	while :; do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 10000 ))
		hex=$(printf %04X "$p")
		case " $used $picked " in
		*" $hex "*|*" $p "*) continue ;;
		esac
		picked="$picked $p"
		echo "$p"
		return
	done
}

mpid="" dir=""
start_tree() {
	tcp=$(pick_port); picked="$picked $tcp"
	ws=$(pick_port); picked="$picked $ws"
	http=$(pick_port); picked="$picked $http"
	dir=$(mktemp -d "/tmp/$1.XXXXXX")
	config="$dir/wk.yaml"
	cat >"$config" <<EOC
rootDir: $dir
tokenAuthOn: false
addr: tcp://127.0.0.1:$tcp
wsAddr: ws://127.0.0.1:$ws
httpAddr: 127.0.0.1:$http
logger:
  level: 3
$2
EOC
	"$master" -d -f "$config" 2>"$dir/master.log" &
	mpid=$!
	i=0
	while :; do
		line=$("$master" -c status -r -f "$config" 2>/dev/null | head -1 || true)
		n=$(echo "$line" | sed -n 's/.* children=\([0-9]*\).*/\1/p')
		children=$(echo "$line" | sed -n 's/.* ready=\([0-9]*\).*/\1/p')
		if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" = "$children" ]; then
			break
		fi
		kill -0 "$mpid" 2>/dev/null || { echo "$me: wk-master exited" >&2; tail "$dir/master.log" >&2; exit 1; }
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "$me: tree not ready in 30 s" >&2; exit 1; }
		sleep 0.1
	done
}

# term_wait PID TENTHS: SIGTERM, then wait up to TENTHS tenths of a second
# for PID to be gone.
term_wait() {
	local i=0
	kill -TERM "$1" 2>/dev/null || true
	while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

stop_tree() {
	if [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null; then
		term_wait "$mpid" 300
		kill -KILL "$mpid" 2>/dev/null || true
	fi
	mpid=""
	if [ -n "$dir" ]; then
		if [ "${WK_BENCH_KEEP:-0}" = 1 ]; then
			echo "$me: kept $dir" >&2
		else
			rm -rf "$dir"
		fi
	fi
	dir=""
}

client_pid=""
tree_cleanup() {
	[ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null || true
	stop_tree
}
stop_tree_on_exit() {
	trap tree_cleanup EXIT
	trap 'exit 130' INT TERM
}
