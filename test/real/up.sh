#!/usr/bin/env bash
# up.sh KIND DIR [N] [CLIENTS]
#
# Starts N (default 3) backends of KIND behind nginx, all on loopback, for
# wsstorm's real-server tests and recipes, and returns once every one of them
# and nginx accept connections. KIND and its fixed ports (one block per kind,
# so that the three can run side by side):
#
#   socketio    nginx 127.0.0.1:18400, backends 18401..  ws://127.0.0.1:18400/socket.io/?EIO=4&transport=websocket
#   graphqlws   nginx 127.0.0.1:18410, backends 18411..  ws://127.0.0.1:18410/graphql
#   centrifugo  nginx 127.0.0.1:18420, backends 18421..  ws://127.0.0.1:18420/connection/websocket
#
# Put ?client={{client}} (or &client=) in wsstorm's URL: the Node backends log
# each connection with it, nginx's access log has it in request_uri, and
# Centrifugo logs it as the addr of each upgrade.
#
# CLIENTS (default 1000) sizes nginx: each proxied connection holds two
# descriptors (the client's and the backend's), and one process may open no
# more than `ulimit -Hn`.
#
# DIR gets, per backend NAME (KIND-1, KIND-2, ...): NAME.cmd (its start
# command, which restart.sh reruns), NAME.pid, NAME.port, NAME.log (its own
# log: the Node apps' JSON event log, or Centrifugo's JSON log) and NAME.out
# (the Node apps' stdout and stderr); Centrifugo's NAME.json config, with
# hmac_secret (sign HS256 connection tokens with it, or run `centrifugo
# gentoken -c DIR/centrifugo-1.json -u USER`) and api_key (the server API's
# X-API-Key); nginx.conf, nginx.pid, nginx.error.log and access.log (one JSON
# line per connection, written when it ends).
#
# Environment: PING_INTERVAL_MS and PING_TIMEOUT_MS (socketio and centrifugo
# server pings), HMAC_SECRET and API_KEY (centrifugo; random otherwise),
# NODE, NGINX and WSSTORM_CENTRIFUGO (the programs; else found on PATH),
# START_TIMEOUT (seconds each start may take, default 30), and
# WSSTORM_REAL_OWNER: a pid; once that process is gone, a watchdog runs
# down.sh, so a test killed before its cleanup leaves nothing running.
#
# Stop the stack with down.sh DIR; restart a backend with restart.sh DIR NAME.
# Exits 0, or 1 with a one-line reason (having stopped what it started).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -ge 2 ] && [ $# -le 4 ] || die "usage: up.sh socketio|graphqlws|centrifugo DIR [N] [CLIENTS]"
kind=$1 dir=$2 n=${3:-3} clients=${4:-1000}
case $kind in
socketio) base=18400 path='/socket.io/?EIO=4&transport=websocket' ;;
graphqlws) base=18410 path=/graphql ;;
centrifugo) base=18420 path=/connection/websocket ;;
*) die "KIND is socketio, graphqlws or centrifugo, not \"$kind\"" ;;
esac
[[ $n =~ ^[1-9]$ ]] || die "N is 1 to 9 backends (each kind has ten ports), not \"$n\""
[[ $clients =~ ^[1-9][0-9]*$ ]] || die "CLIENTS is a positive whole number, not \"$clients\""
start_timeout=${START_TIMEOUT:-30}

need() { command -v "$1" >/dev/null || die "$1 is not installed ($2)"; }
need curl "Debian package curl: scrapes the backends' metrics"
need setsid "Debian package util-linux"
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$nginx_bin" ] || die "nginx is not installed (Debian package nginx), or set NGINX"
case $kind in
socketio | graphqlws)
	node_bin=${NODE:-$(command -v node || true)}
	[ -n "$node_bin" ] || die "node is not installed (Node.js 20 or later), or set NODE"
	[ -d "$here/node/node_modules" ] || die "the Node apps' packages are missing: run npm ci in $here/node"
	;;
centrifugo)
	cf_bin=${WSSTORM_CENTRIFUGO:-$(command -v centrifugo || true)}
	[ -n "$cf_bin" ] && [ -x "$cf_bin" ] ||
		die "centrifugo is not installed: go install github.com/centrifugal/centrifugo/v6@v6.9.1, or set WSSTORM_CENTRIFUGO"
	;;
esac

# nginx: one worker, so its sizes are the whole stack's. Two connections a
# client, and slack for those being closed and a failover's tries; then an
# eighth more, because once fewer than 1/16 of its connections are free,
# nginx closes idle ones, among them those just accepted that have not sent
# their upgrade yet (nginx 1.22.1 src/core/ngx_connection.c,
# ngx_drain_connections: "worker_connections are not enough, reusing
# connections").
worker_connections=$(((2 * clients + 256) * 8 / 7 + 1))
rlimit=$((worker_connections + 64))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$rlimit" -gt "$hard" ]; then
	die "$clients clients need $rlimit open files in nginx, over this machine's limit of $hard (ulimit -Hn): at most $((((hard - 65) * 7 / 8 - 256) / 2)) clients"
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ ! -e "$dir/up" ] || die "a stack is already up in $dir: test/real/down.sh $dir first"
for ((i = 0; i <= n; i++)); do
	accepting $((base + i)) && die "127.0.0.1:$((base + i)) is in use (a stack left running? test/real/down.sh DIR)"
done

# centrifugo_config NAME PORT writes DIR/NAME.json: a single node with the
# memory engine behind nginx. Keys as in centrifugo v6.9.1
# internal/configtypes/types.go and namespace.go.
centrifugo_config() {
	local ping=
	if [ -n "${PING_INTERVAL_MS:-}" ]; then
		ping=", \"ping_interval\": \"${PING_INTERVAL_MS}ms\", \"pong_timeout\": \"${PING_TIMEOUT_MS:-$((PING_INTERVAL_MS / 2))}ms\""
	fi
	cat >"$dir/$1.json" <<EOF
{
  "http_server": { "address": "127.0.0.1", "port": $2 },
  "node": { "name": "$1" },
  "log": { "level": "debug" },
  "client": {
    "token": { "hmac_secret_key": "$hmac_secret" },
    "allowed_origins": ["*"]$ping
  },
  "channel": { "without_namespace": { "allow_subscribe_for_client": true } },
  "http_api": { "key": "$api_key" },
  "prometheus": { "enabled": true },
  "health": { "enabled": true },
  "usage_stats": { "disabled": true }
}
EOF
}

# start_command NAME PORT prints the bash command line that runs the backend.
start_command() {
	local name=$1 port=$2
	case $kind in
	socketio)
		local pings=
		[ -n "${PING_INTERVAL_MS:-}" ] && pings+=" --ping-interval $PING_INTERVAL_MS"
		[ -n "${PING_TIMEOUT_MS:-}" ] && pings+=" --ping-timeout $PING_TIMEOUT_MS"
		printf 'exec %q %q --port %d --name %q --log %q%s >>%q 2>&1\n' "$node_bin" "$here/node/socketio-server.js" \
			"$port" "$name" "$dir/$name.log" "$pings" "$dir/$name.out"
		;;
	graphqlws)
		printf 'exec %q %q --port %d --name %q --log %q >>%q 2>&1\n' "$node_bin" "$here/node/graphqlws-server.js" \
			"$port" "$name" "$dir/$name.log" "$dir/$name.out"
		;;
	centrifugo)
		printf 'exec %q --config %q >>%q 2>&1\n' "$cf_bin" "$dir/$name.json" "$dir/$name.log"
		;;
	esac
}

# nginx_conf writes DIR/nginx.conf.
nginx_conf() {
	local servers='' i
	for ((i = 1; i <= n; i++)); do
		servers+="    server 127.0.0.1:$((base + i)) max_fails=0;"$'\n'
	done
	cat >"$dir/nginx.conf" <<EOF
# Written by test/real/up.sh for $n $kind backends and $clients clients.
daemon off;
worker_processes 1;
# Each proxied WebSocket holds two descriptors and two of worker_connections.
worker_rlimit_nofile $rlimit;
# A graceful quit waits for open WebSockets no longer than this.
worker_shutdown_timeout 10s;
pid $dir/nginx.pid;
error_log $dir/nginx.error.log warn;

events {
  worker_connections $worker_connections;
}

http {
  client_body_temp_path $dir/nginx-tmp/body;
  proxy_temp_path $dir/nginx-tmp/proxy;
  fastcgi_temp_path $dir/nginx-tmp/fastcgi;
  uwsgi_temp_path $dir/nginx-tmp/uwsgi;
  scgi_temp_path $dir/nginx-tmp/scgi;

  # One line per connection, written when it ends: msec is that moment,
  # request_time the connection's whole life.
  log_format wsstorm escape=json '{"msec":\$msec,"request_time":\$request_time,'
    '"upstream_connect_time":"\$upstream_connect_time","status":\$status,'
    '"upstream_addr":"\$upstream_addr","upstream_status":"\$upstream_status",'
    '"request_uri":"\$request_uri","connection":\$connection,'
    '"remote_port":\$remote_port,"bytes_sent":\$bytes_sent}';
  access_log $dir/access.log wsstorm;

  map \$http_upgrade \$connection_upgrade {
    default upgrade;
    '' close;
  }

  # Failover per request: a backend that refuses a connection, or answers
  # 502 or 503, is skipped and the request tries the next
  # (proxy_next_upstream). max_fails=0: a backend is never marked failed.
  # With nginx's passive checks (its default max_fails=1), one reconnect
  # refused during a restart marks the backend down, and nginx 1.22 counts
  # it healthy again only when its one trial connection ends, which for a
  # WebSocket is the session's end: the backend stays out, and once every
  # backend has been restarted nginx answers 502 to all
  # (ngx_http_upstream_round_robin.c).
  upstream backends {
$servers  }

  server {
    listen 127.0.0.1:$base backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_set_header Host \$host;
      # Centrifugo logs X-Real-IP as each upgrade's addr (centrifugo v6.9.1
      # internal/middleware/log.go): the client number puts it in its log.
      proxy_set_header X-Real-IP \$arg_client;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
      # Idle sessions must outlive the test: nginx's default cuts at 60 s.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
EOF
}

on_die="$here/down.sh $dir"

if [ "$kind" = centrifugo ]; then
	random() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
	hmac_secret=${HMAC_SECRET:-$(random)} api_key=${API_KEY:-$(random)}
	(umask 077 && printf '%s\n' "$hmac_secret" >"$dir/hmac_secret" && printf '%s\n' "$api_key" >"$dir/api_key")
fi
for ((i = 1; i <= n; i++)); do
	name=$kind-$i port=$((base + i))
	[ "$kind" = centrifugo ] && centrifugo_config "$name" "$port"
	echo "$port" >"$dir/$name.port"
	start_command "$name" "$port" >"$dir/$name.cmd"
	start_backend "$dir" "$name"
done
for ((i = 1; i <= n; i++)); do
	wait_ready "$dir" "$kind-$i" $((base + i)) "$start_timeout"
done

nginx_conf
mkdir -p "$dir/nginx-tmp"
nginx=("$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx.error.log")
if ! out=$("${nginx[@]}" -t 2>&1); then
	die "nginx refused $dir/nginx.conf: $(grep -m1 -E 'emerg|alert|crit' <<<"$out" || echo "$out" | head -n 1)"
fi
printf 'exec%s >>%q 2>&1\n' "$(printf ' %q' "${nginx[@]}")" "$dir/nginx.out" >"$dir/nginx.start"
setsid bash -c "$(cat "$dir/nginx.start")" </dev/null >/dev/null 2>&1 &
nginx_pid=$!
for ((i = 0; i < start_timeout * 20; i++)); do
	accepting "$base" && break
	alive "$nginx_pid" || die "nginx exited while starting: $(tail -n 1 "$dir/nginx.error.log" 2>/dev/null)"
	sleep 0.05
done
accepting "$base" || die "nginx did not accept connections on 127.0.0.1:$base within ${start_timeout}s"

touch "$dir/up"
on_die=
if [ -n "${WSSTORM_REAL_OWNER:-}" ]; then
	setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -e "$2/up" ]; do sleep 1; done
		if [ -e "$2/up" ]; then echo "owner $1 is gone: stopping the stack"; exec "$3" "$2"; fi' \
		watchdog "$WSSTORM_REAL_OWNER" "$dir" "$here/down.sh" </dev/null >>"$dir/watchdog.log" 2>&1 &
fi
echo "up.sh: $n $kind backends on 127.0.0.1:$((base + 1))-$((base + n)) behind nginx: ws://127.0.0.1:$base$path"
