# shellcheck shell=bash
# Shell helpers shared by scripts/demo, bench, soak and check-demo; sourced, not run.
# A script sets log_dir before it starts anything: each process logs to $log_dir/NAME.log.
# shellcheck disable=SC2154 # log_dir is the sourcing script's

declare -A pid # NAME -> pid of the process `start` started last under that name

fail() { # MESSAGE: prints it to stderr and exits 1
  echo "$*" >&2
  exit 1
}

# start NAME COMMAND...: runs COMMAND in the background, its output appended to
# $log_dir/NAME.log, and records its pid in pid[NAME]; when the script sets pid_file, also
# appends "PID NAME" there, so that another shell can stop what this one started.
start() {
  local name=$1
  shift
  "$@" >>"$log_dir/$name.log" 2>&1 &
  pid[$name]=$!
  [ -z "${pid_file:-}" ] || echo "$! $name" >>"$pid_file"
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds; fails (status 1)
# when it has not within SECONDS.
wait_until() {
  local tries=$(($1 * 10))
  shift
  until "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

# wait_for_tcp HOST PORT [SECONDS]: until something accepts connections there (default 5 s).
wait_for_tcp() { wait_until "${3:-5}" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# wait_for_http URL [SECONDS]: until URL answers with a 2xx (default 10 s).
wait_for_http() { wait_until "${2:-10}" curl -fs --max-time 2 -o /dev/null "$1"; }

# start_redis DIR: a throwaway redis-server for this run, reached only through the unix socket
# DIR/redis.sock (no TCP port, so runs never collide), keeping nothing on disk; its working
# folder is DIR and it logs to $log_dir/redis.log. Exports REDIS_URL for the services.
start_redis() {
  local dir=$1
  rm -f "$dir/redis.sock" # a stale socket would pass the wait below
  start redis redis-server --port 0 --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" --save "" --appendonly no
  wait_until 5 test -S "$dir/redis.sock" || fail "redis-server did not start, see $log_dir/redis.log"
  export REDIS_URL="unix://$dir/redis.sock"
}

# stop_processes PID...: SIGTERM, up to 5 s to exit, then SIGKILL for any still running.
stop_processes() {
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  wait_until 5 none_alive "$@" || kill -KILL "$@" 2>/dev/null || true
}
none_alive() { # PID...
  local each
  for each; do kill -0 "$each" 2>/dev/null && return 1; done
  return 0
}

# stop_jobs: stops every background job this shell started and reaps them; for `trap ... EXIT`.
stop_jobs() {
  # shellcheck disable=SC2046 # one word per pid
  stop_processes $(jobs -p)
  wait 2>/dev/null || true
}

# rss NAME: the resident memory of pid[NAME], or "gone".
rss() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/${pid[$1]}/status" 2>/dev/null || echo "gone"; }
