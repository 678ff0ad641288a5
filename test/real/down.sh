#!/usr/bin/env bash
# down.sh DIR
#
# Stops the stack that up.sh started in DIR: saves each running backend's
# metrics to DIR/NAME.metrics.final, sends SIGTERM to every backend's process
# group and waits for them (at most STOP_TIMEOUT seconds, default 40, then
# SIGKILL), then stops nginx gracefully (nginx -s quit; it waits for open
# WebSockets at most its worker_shutdown_timeout, 10 s) and waits for it.
#
# Safe to run twice, and on a stack that failed to start. Exits 0, or 1 with
# a one-line reason when something had to be killed or a scrape failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 1 ] || die "usage: down.sh DIR"
dir=$1
[ -d "$dir" ] || die "no directory $dir"
stop_timeout=${STOP_TIMEOUT:-40}
problems=()
# Tells up.sh's watchdog, if any, that the stack is going down.
rm -f "$dir/up"

pids=() names=()
for name in $(backends "$dir"); do
	pid=$(cat "$dir/$name.pid" 2>/dev/null || true)
	[ -n "$pid" ] && alive "$pid" || continue
	scrape "$(cat "$dir/$name.port")" "$dir/$name.metrics.final" || problems+=("could not save $name's metrics")
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	pids+=("$pid") names+=("$name")
done
for i in "${!pids[@]}"; do
	if ! wait_exit "${pids[$i]}" "$stop_timeout"; then
		kill -KILL -- "-${pids[$i]}" 2>/dev/null || kill -KILL "${pids[$i]}" 2>/dev/null || true
		problems+=("${names[$i]} did not exit within ${stop_timeout}s of SIGTERM: killed it")
	fi
done

pid=$(cat "$dir/nginx.pid" 2>/dev/null || true)
if [ -n "$pid" ] && alive "$pid"; then
	nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
	"$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx.error.log" -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
	if ! wait_exit "$pid" 20; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		problems+=("nginx did not quit within 20s: killed it")
	fi
fi

[ ${#problems[@]} -eq 0 ] || die "$(
	IFS=';'
	echo "${problems[*]}"
)"
