# shellcheck shell=bash
# lib.sh: what up.sh, restart.sh and down.sh share. Sourced, not run.
# Needs bash, ps, setsid and curl.

me=$(basename "$0")

# on_die, if set, is run (quietly) before die exits: up.sh stops what it
# started so that a failed start leaves nothing running.
on_die=

# die prints one line and exits 1.
die() {
	echo "$me: $*" >&2
	if [ -n "$on_die" ]; then
		local cmd=$on_die
		on_die=
		$cmd >/dev/null 2>&1 || true
	fi
	exit 1
}

# alive PID: the process exists and is not a zombie. Where PID 1 does not
# reap orphans (as on this project's machines), a backend that exited stays
# a zombie, and kill -0 still succeeds on it.
alive() {
	local stat
	stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $stat != Z* ]]
}

# accepting PORT: something accepts TCP connections on 127.0.0.1:PORT.
accepting() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_backend DIR NAME runs DIR/NAME.cmd (a bash command line that execs
# the backend) in a session of its own, so in its own process group, which
# signals aimed at the caller's group do not reach, and writes its pid to
# DIR/NAME.pid. Its standard streams are files or /dev/null: a hook runner
# that reads the caller's output must not wait for the backend.
start_backend() {
	local dir=$1 name=$2
	rm -f "$dir/$name.pid"
	setsid bash -c 'echo $$ >"$1"; exec bash -c "$2"' start "$dir/$name.pid" "$(cat "$dir/$name.cmd")" \
		</dev/null >/dev/null 2>&1 &
}

# last_words DIR NAME: the last line the backend wrote, for an error message.
last_words() {
	local f line=
	for f in "$1/$2.out" "$1/$2.log"; do
		[ -s "$f" ] && line=$(tail -n 1 "$f") && break
	done
	echo "${line:-no output}" | cut -c1-300
}

# wait_ready DIR NAME PORT SECONDS waits until the backend started by
# start_backend accepts connections on PORT; dies if it exits or is not
# ready in time.
wait_ready() {
	local dir=$1 name=$2 port=$3 secs=$4 i pid=
	for ((i = 0; i < secs * 20; i++)); do
		[ -z "$pid" ] && [ -s "$dir/$name.pid" ] && pid=$(cat "$dir/$name.pid")
		if [ -n "$pid" ]; then
			accepting "$port" && return 0
			alive "$pid" || die "$name exited while starting: $(last_words "$dir" "$name")"
		fi
		sleep 0.05
	done
	die "$name did not accept connections on 127.0.0.1:$port within ${secs}s: $(last_words "$dir" "$name")"
}

# wait_exit PID SECONDS waits for the process to end; false if it did not.
wait_exit() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		alive "$1" || return 0
		sleep 0.05
	done
	! alive "$1"
}

# scrape PORT FILE saves the backend's Prometheus metrics; false if it could not.
scrape() {
	if curl -sS --fail --max-time 5 -o "$2.tmp" "http://127.0.0.1:$1/metrics" 2>/dev/null; then
		mv "$2.tmp" "$2"
	else
		rm -f "$2.tmp"
		return 1
	fi
}

# backends DIR lists the stack's backends by name, from their .cmd files.
backends() {
	local f
	for f in "$1"/*.cmd; do
		[ -e "$f" ] && basename "$f" .cmd
	done
}
