#!/usr/bin/env bash
# restart.sh DIR NAME
# restart.sh NAME          (DIR from WSSTORM_REAL_DIR)
#
# Restarts backend NAME of the stack that up.sh started in DIR, as a deploy
# does: saves its metrics to DIR/NAME.metrics.K (K counts this backend's
# restarts from 1; a process's counters die with it), sends SIGTERM to its
# process group and lets it shut down its own way, waits for it to exit (at
# most STOP_TIMEOUT seconds, default 40: longer than Centrifugo's 30 s
# shutdown.timeout and the Node apps' 20 s deadline; then SIGKILL), starts it
# again with DIR/NAME.cmd and waits until it accepts connections (at most
# START_TIMEOUT seconds, default 30). nginx keeps routing to the others.
#
# As a wsstorm restart hook, from the repository's root, with the stack's
# directory exported as WSSTORM_REAL_DIR (the hook inherits wsstorm's
# environment):
#   command = ["test/real/restart.sh", "{{name}}"]
# with the nodes named as up.sh names the backends (centrifugo-1, ...).
#
# Exits 0 once the backend is back; otherwise 1 with a one-line reason (a
# backend that had to be killed, or whose metrics could not be saved, is
# still started again).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ $# -eq 1 ] && [ -n "${WSSTORM_REAL_DIR:-}" ]; then
	set -- "$WSSTORM_REAL_DIR" "$1"
fi
[ $# -eq 2 ] || die "usage: restart.sh DIR NAME, or restart.sh NAME with WSSTORM_REAL_DIR set"
dir=$1 name=$2
[ -f "$dir/$name.cmd" ] || die "no backend $name in $dir (the backends: $(backends "$dir" | tr '\n' ' '))"
stop_timeout=${STOP_TIMEOUT:-40} start_timeout=${START_TIMEOUT:-30}
port=$(cat "$dir/$name.port")
pid=$(cat "$dir/$name.pid" 2>/dev/null || true)
problem=

k=1
while [ -e "$dir/$name.metrics.$k" ]; do k=$((k + 1)); done
if [ -z "$pid" ] || ! alive "$pid"; then
	problem="$name was not running: started it"
else
	scrape "$port" "$dir/$name.metrics.$k" || problem="could not save $name's metrics from 127.0.0.1:$port/metrics"
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	if ! wait_exit "$pid" "$stop_timeout"; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		wait_exit "$pid" 5 || die "$name (pid $pid) survived SIGKILL"
		problem="$name did not exit within ${stop_timeout}s of SIGTERM: killed it (SIGKILL) and started it again"
	fi
fi

start_backend "$dir" "$name"
wait_ready "$dir" "$name" "$port" "$start_timeout"
[ -z "$problem" ] || die "$problem"
echo "restart.sh: $name restarted (pid ${pid:-none} -> $(cat "$dir/$name.pid"))"
