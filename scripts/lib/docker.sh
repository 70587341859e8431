# shellcheck shell=bash
# scripts/lib/docker.sh — make sure a Docker engine is there for run-it.
# Sourced by scripts/start, scripts/stop and scripts/test:
#
#   . scripts/lib/docker.sh
#   docker_ensure      # use the running engine, or install and start one
#   docker_stop_ours   # stop dockerd only if docker_ensure started it
#
# docker_ensure:
#   1. If `docker info` works, an engine already runs: use it as it is
#      (its configuration is not touched) and return at once.
#   2. Otherwise install docker.io and runsc with apt-get if they are missing,
#      write /etc/docker/daemon.json registering the gVisor runtime "runsc"
#      (runtimeArgs --network=none) only if that file does not exist yet, and
#      start the engine: with systemd if systemd runs the machine, else
#      `dockerd` in the background, log in $RUNIT_DATA_DIR/log/dockerd.log, pid
#      in $RUNIT_DATA_DIR/dockerd.pid (how docker_stop_ours knows it is ours).
#   3. Wait up to DOCKER_START_TIMEOUT (60) seconds for `docker info`.
# Both functions return non-zero with a message on stderr when they fail, and
# are safe to call more than once. Needs root for step 2.
#
# RUNIT_DATA_DIR defaults to <repo>/var.

_docker_lib_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_docker_data_dir() {
  local d=${RUNIT_DATA_DIR:-$_docker_lib_repo/var}
  mkdir -p "$d/log" && (cd "$d" && pwd)
}
_docker_log() { printf 'docker: %s\n' "$*" >&2; }

# True if the engine answers (bounded, so a wedged engine cannot hang us).
docker_ready() {
  command -v docker >/dev/null 2>&1 || return 1
  if command -v timeout >/dev/null 2>&1; then
    timeout 15 docker info >/dev/null 2>&1
  else
    docker info >/dev/null 2>&1
  fi
}

# Pid of the dockerd that we started, if it still runs; else nothing (and rc 1).
_docker_our_pid() {
  local data pid
  data=$(_docker_data_dir) || return 1
  [[ -s $data/dockerd.pid ]] || return 1
  pid=$(<"$data/dockerd.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # The pid must still be a dockerd (not a recycled pid of something else).
  [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == dockerd ]] || return 1
  echo "$pid"
}

_docker_install() {
  local pkgs=() 
  command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v dockerd >/dev/null 2>&1 ||
    pkgs+=(docker.io)
  command -v runsc >/dev/null 2>&1 || pkgs+=(runsc)
  ((${#pkgs[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    _docker_log "error: ${pkgs[*]} missing and not root: install them (apt-get install ${pkgs[*]}) or start a Docker engine"
    return 1
  fi
  command -v apt-get >/dev/null 2>&1 || { _docker_log "error: ${pkgs[*]} missing and no apt-get"; return 1; }
  _docker_log "installing ${pkgs[*]} (apt-get)…"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; then
    apt-get update >/dev/null 2>&1 || true
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; then
      # runsc is optional: an engine without gVisor still works.
      if [[ " ${pkgs[*]} " == *" docker.io "* ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >/dev/null ||
          { _docker_log "error: apt-get install docker.io failed"; return 1; }
      fi
      _docker_log "warning: could not install runsc; the runsc runtime will not be available"
    fi
  fi
}

_docker_write_config() {
  [[ -e /etc/docker/daemon.json ]] && return 0
  local runsc
  runsc=$(command -v runsc 2>/dev/null) || return 0
  mkdir -p /etc/docker
  cat > /etc/docker/daemon.json <<JSON
{ "runtimes": { "runsc": { "path": "$runsc", "runtimeArgs": ["--network=none"] } } }
JSON
  _docker_log "wrote /etc/docker/daemon.json (runtime runsc = gVisor, --network=none)"
}

_docker_wait() { # _docker_wait SECONDS [PID]
  local deadline=$((SECONDS + $1)) pid=${2:-}
  until docker_ready; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

docker_ensure() {
  docker_ready && return 0

  local timeout=${DOCKER_START_TIMEOUT:-60} data pid dockerd_bin
  data=$(_docker_data_dir) || { _docker_log "error: cannot create the data dir"; return 1; }

  # Started by us earlier and still starting up: just wait for it.
  if pid=$(_docker_our_pid); then
    _docker_log "waiting for dockerd (pid $pid, started by run-it)…"
    _docker_wait "$timeout" "$pid" && return 0
    _docker_log "error: dockerd (pid $pid) does not answer; see $data/log/dockerd.log"
    return 1
  fi

  _docker_install || return 1
  _docker_write_config
  # Installing docker.io may have started the engine (systemd, sysvinit).
  docker_ready && return 0

  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    _docker_log "starting docker with systemctl…"
    if systemctl start docker >/dev/null 2>&1 && _docker_wait "$timeout"; then return 0; fi
    _docker_log "systemctl start docker did not give a working engine; trying dockerd directly"
  fi

  if [[ $(id -u) -ne 0 ]]; then
    _docker_log "error: no Docker engine answers and starting dockerd needs root"
    return 1
  fi
  dockerd_bin=$(command -v dockerd 2>/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v dockerd) ||
    { _docker_log "error: dockerd not found after installing docker.io"; return 1; }
  _docker_log "starting dockerd (log: $data/log/dockerd.log)…"
  # setsid: dockerd outlives the script that started it, in its own session.
  setsid "$dockerd_bin" >>"$data/log/dockerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" > "$data/dockerd.pid"
  if _docker_wait "$timeout" "$pid"; then
    _docker_log "dockerd ready (pid $pid)"
    return 0
  fi
  if kill -0 "$pid" 2>/dev/null; then
    _docker_log "error: dockerd (pid $pid) did not answer within ${timeout}s"
  else
    _docker_log "error: dockerd exited at start"
    rm -f "$data/dockerd.pid"
  fi
  _docker_log "last lines of $data/log/dockerd.log:"
  tail -n 15 "$data/log/dockerd.log" >&2 || true
  return 1
}

docker_stop_ours() {
  local data pid i
  data=$(_docker_data_dir) || return 1
  if ! pid=$(_docker_our_pid); then
    rm -f "$data/dockerd.pid"   # stale or absent: nothing of ours runs
    return 0
  fi
  _docker_log "stopping dockerd (pid $pid, started by run-it)…"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do   # dockerd stops its containers first: up to 30 s
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    _docker_log "dockerd (pid $pid) still runs after 30 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$data/dockerd.pid"
}
