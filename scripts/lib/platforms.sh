# shellcheck shell=bash
# scripts/lib/platforms.sh — the extra container platforms the tests run the
# platform test set on (docs/platforms/): a single-node Docker Swarm and a
# Podman service, each on a socket of its own, never touching the shared
# engine at /var/run/docker.sock. Sourced by scripts/test:
#
#   . scripts/lib/platforms.sh
#   swarm_engine_ensure   # a second dockerd, swarm manager, on $RUNIT_SWARM_SOCK
#   podman_service_ensure # `podman system service` on $RUNIT_PODMAN_SOCK
#   engine2_ensure        # a second plain dockerd on $RUNIT_ENGINE2_SOCK
#   engine2_stop          # stop it (tests/integration/test_engines.py: an
#                         # engine that goes away and comes back)
#   tls_engine_ensure     # a dockerd on tcp://127.0.0.1:$RUNIT_TLS_PORT, TLS
#                         # with client certificates (PKI in $RUNIT_TLS_DIR/pki)
#   tls_engine_stop       # stop it (tests/integration/test_engines_tls.py)
#   platforms_stop_ours   # stop what these two started
#
# swarm_engine_ensure starts (if its socket does not answer)
#   dockerd -H unix://$RUNIT_SWARM_SOCK --data-root /var/lib/runit-swarm
#     --exec-root /run/runit-swarm/exec --bridge none --iptables=false
#     --no-new-privileges
# in a network namespace of its own (runit-swarm: --bridge none would
# delete the host's docker0 otherwise)
# (no bridge: nothing it runs gets a network but "none"; no-new-privileges:
# the service API cannot set it per container, docs/platforms/swarm.md),
# makes it a one-node swarm (`swarm init --advertise-addr 127.0.0.1
# --listen-addr 127.0.0.1:2377`: only loopback) and loads the runtime images
# it lacks from the main engine (`docker save | docker load`, same image ids).
#
# podman_service_ensure writes $RUNIT_DATA_DIR/podman/containers.conf with
# default_ulimits nofile/nproc 1024 (Podman 4.3 otherwise asks for more than
# this machine's hard limits and every container fails), starts
# `podman system service --time=0 unix://$RUNIT_PODMAN_SOCK` with
# CONTAINERS_CONF pointing there, and loads the images (`docker save |
# podman load`).
#
# RUNIT_PLATFORM_IMAGES: the images to load (default runit/shell:latest
# runit/python:latest). Both functions need root, return non-zero with a
# message when they fail, and are safe to call twice. Logs and pids are in
# $RUNIT_DATA_DIR/log and $RUNIT_DATA_DIR/platforms.

: "${RUNIT_SWARM_SOCK:=/run/runit-swarm/docker.sock}"
: "${RUNIT_PODMAN_SOCK:=/run/runit-podman/podman.sock}"
: "${RUNIT_ENGINE2_SOCK:=/run/runit-engine2/docker.sock}"
: "${RUNIT_PLATFORM_IMAGES:=runit/shell:latest runit/python:latest}"
: "${RUNIT_TLS_DIR:=/run/runit-tls}"
: "${RUNIT_TLS_PORT:=23760}"

_plat_dir() {
  local d=${RUNIT_DATA_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/var}
  mkdir -p "$d/log" "$d/platforms" && (cd "$d" && pwd)
}
_plat_log() { printf 'platforms: %s\n' "$*" >&2; }

# wait_for SECONDS CMD... : until CMD succeeds.
_plat_wait() {
  local n=$(($1 * 5)); shift
  while ((n-- > 0)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

_swarm_docker() { docker -H "unix://$RUNIT_SWARM_SOCK" "$@"; }

# Load the images TARGET lacks: TARGET is a command prefix (e.g. _swarm_docker).
_plat_load_images() {
  local target=$1 img a b
  for img in $RUNIT_PLATFORM_IMAGES; do
    docker image inspect "$img" >/dev/null 2>&1 || { _plat_log "no $img on the main engine: skipped"; continue; }
    a=$($target image inspect -f "{{.Id}}" "$img" 2>/dev/null) b=$(docker image inspect -f "{{.Id}}" "$img")
    if [[ -n $a && ${a#sha256:} == "${b#sha256:}" ]]; then
      continue
    fi
    _plat_log "loading $img into $target"
    docker save "$img" | $target load >/dev/null || return 1
  done
}

swarm_engine_ensure() {
  local data dir
  data=$(_plat_dir) || return 1
  dir=$(dirname "$RUNIT_SWARM_SOCK")
  if ! _swarm_docker version >/dev/null 2>&1; then
    command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    mkdir -p "$dir/exec" /var/lib/runit-swarm
    _plat_log "starting the swarm's dockerd on $RUNIT_SWARM_SOCK"
    # its own network namespace: a dockerd with --bridge none deletes the
    # host's docker0 at start (moby's removeDefaultBridgeInterface), which
    # would take the main engine's default bridge (docker build) with it
    ip netns add runit-swarm 2>/dev/null || true
    ip -n runit-swarm link set lo up
    # (from /, as the podman service below)
    (cd / && exec setsid nsenter --net=/run/netns/runit-swarm dockerd -H "unix://$RUNIT_SWARM_SOCK" \
      --data-root /var/lib/runit-swarm --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
      --bridge none --iptables=false --ip-masq=false --no-new-privileges \
      >"$data/log/swarm-dockerd.log" 2>&1 </dev/null) &
    echo $! >"$data/platforms/swarm-dockerd.pid"
    _plat_wait 60 _swarm_docker version || { _plat_log "the swarm's dockerd did not start (see $data/log/swarm-dockerd.log)"; return 1; }
  fi
  if [[ $(_swarm_docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null) != active ]]; then
    _swarm_docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null ||
      { _plat_log "swarm init failed"; return 1; }
  fi
  _plat_load_images _swarm_docker
}

_engine2_docker() { docker -H "unix://$RUNIT_ENGINE2_SOCK" "$@"; }

# A second, plain dockerd (several engines, README "Several engines"): like
# the swarm's, in a network namespace of its own (runit-engine2), its own
# data and exec roots; no swarm. Its runs get no network ("none").
_pid_alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

_engine2_old_containerd_gone() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 0
  _pid_alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == containerd ]] || return 0
  _plat_log "waiting for the last dockerd's containerd ($pid) to exit"
  kill "$pid" 2>/dev/null
  _plat_wait 10 eval "! _pid_alive $pid" || kill -9 "$pid" 2>/dev/null
  _plat_wait 5 eval "! _pid_alive $pid"
  rm -f "$1"
}

engine2_ensure() {
  local data dir
  data=$(_plat_dir) || return 1
  dir=$(dirname "$RUNIT_ENGINE2_SOCK")
  if ! _engine2_docker version >/dev/null 2>&1; then
    command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    mkdir -p "$dir/exec" /var/lib/runit-engine2
    _plat_log "starting a second dockerd on $RUNIT_ENGINE2_SOCK"
    ip netns add runit-engine2 2>/dev/null || true
    ip -n runit-engine2 link set lo up
    rm -f "$RUNIT_ENGINE2_SOCK" "$dir/docker.pid"
    # a dockerd killed with -9 leaves its containerd exiting: a new dockerd
    # would take that one as running and time out on it
    _engine2_old_containerd_gone "$dir/exec/containerd/containerd.pid"
    (cd / && exec setsid nsenter --net=/run/netns/runit-engine2 dockerd -H "unix://$RUNIT_ENGINE2_SOCK" \
      --data-root /var/lib/runit-engine2 --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
      --bridge none --iptables=false --ip-masq=false --no-new-privileges \
      >>"$data/log/engine2-dockerd.log" 2>&1 </dev/null) &
    _plat_wait 60 _engine2_docker version || { _plat_log "the second dockerd did not start (see $data/log/engine2-dockerd.log)"; return 1; }
    cat "$dir/docker.pid" >"$data/platforms/engine2-dockerd.pid"
  fi
  _plat_load_images _engine2_docker
}

# Stop the second dockerd (SIGTERM, then wait until its socket is gone).
engine2_stop() {
  local dir pid
  dir=$(dirname "$RUNIT_ENGINE2_SOCK")
  [[ -s $dir/docker.pid ]] || return 0
  pid=$(<"$dir/docker.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill "$pid" 2>/dev/null
  local n=150
  while ((n-- > 0)) && kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -f "$(_plat_dir)/platforms/engine2-dockerd.pid"
  return 0
}

# ---- an engine reached over TCP with TLS client certificates ----
#
# tls_engine_ensure makes a PKI with the openssl CLI in $RUNIT_TLS_DIR/pki
# (once; EC P-256 keys, 2 years):
#   ca.pem / ca-key.pem          a CA of its own
#   server-cert.pem / -key.pem   the engine's: CN localhost, SAN IP 127.0.0.1
#                                and DNS localhost, serverAuth
#   client-cert.pem / -key.pem   what run-it presents: clientAuth
# and starts
#   dockerd -H fd:// --tlsverify --tlscacert ca.pem --tlscert server-cert.pem
#     --tlskey server-key.pem --data-root /var/lib/runit-tls
#     --exec-root $RUNIT_TLS_DIR/exec --pidfile $RUNIT_TLS_DIR/docker.pid
#     --bridge none --iptables=false --ip-masq=false --no-new-privileges
# in a network namespace of its own (runit-tls: --bridge none would delete
# the host's docker0, see swarm_engine_ensure). A dockerd there would listen
# in that namespace, out of the host's reach; so the listening socket
# 127.0.0.1:$RUNIT_TLS_PORT is made here, in the host's namespace, and handed
# to dockerd as systemd's socket activation does (fd 3, LISTEN_FDS=1,
# LISTEN_PID = dockerd's pid: python binds it and execs nsenter, which execs
# dockerd in the same process). Then it loads the images as the others do.
_tls_docker() {
  local pki=$RUNIT_TLS_DIR/pki
  docker -H "tcp://127.0.0.1:$RUNIT_TLS_PORT" --tlsverify --tlscacert "$pki/ca.pem" \
    --tlscert "$pki/client-cert.pem" --tlskey "$pki/client-key.pem" "$@"
}

# _tls_pki DIR: the CA, server and client certificates above (kept if there).
_tls_pki() {
  local d=$1
  [[ -s $d/ca.pem && -s $d/server-cert.pem && -s $d/client-cert.pem && -s $d/client-key.pem ]] && return 0
  mkdir -p "$d" && chmod 700 "$d" || return 1
  (
    set -e
    cd "$d"
    key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    key ca-key.pem
    openssl req -x509 -new -key ca-key.pem -days 730 -subj "/CN=run-it test engine CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out ca.pem 2>/dev/null
    # sign NAME SUBJECT EXTENSIONS
    sign() {
      key "$1-key.pem"
      openssl req -new -key "$1-key.pem" -subj "$2" -out "$1.csr" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 730 \
        -extfile "$1.ext" -out "$1-cert.pem" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    sign server "/CN=localhost" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature,keyEncipherment"
    sign client "/CN=run-it" "extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature"
    chmod 600 ./*-key.pem
  ) || { _plat_log "could not make the TLS engine's PKI in $d"; return 1; }
}

# Python: bind HOST PORT in this (the host's) namespace, hand the socket to
# the command as fd 3 with LISTEN_FDS/LISTEN_PID, exec the command.
_TLS_ACTIVATE='
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(128)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
try:
    os.setsid()
except OSError:
    pass
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execvp(sys.argv[3], sys.argv[3:])
'

tls_engine_ensure() {
  local data dir=$RUNIT_TLS_DIR pki=$RUNIT_TLS_DIR/pki
  data=$(_plat_dir) || return 1
  command -v openssl >/dev/null 2>&1 || { _plat_log "the openssl command is missing"; return 1; }
  _tls_pki "$pki" || return 1
  if ! _tls_docker version >/dev/null 2>&1; then
    command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    mkdir -p "$dir/exec" /var/lib/runit-tls
    _plat_log "starting a dockerd with TLS on tcp://127.0.0.1:$RUNIT_TLS_PORT"
    ip netns add runit-tls 2>/dev/null || true
    ip -n runit-tls link set lo up
    rm -f "$dir/docker.pid"
    (cd / && exec python3 -c "$_TLS_ACTIVATE" 127.0.0.1 "$RUNIT_TLS_PORT" \
      nsenter --net=/run/netns/runit-tls dockerd -H fd:// \
      --tlsverify --tlscacert "$pki/ca.pem" --tlscert "$pki/server-cert.pem" --tlskey "$pki/server-key.pem" \
      --data-root /var/lib/runit-tls --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
      --bridge none --iptables=false --ip-masq=false --no-new-privileges \
      >>"$data/log/tls-dockerd.log" 2>&1 </dev/null) &
    _plat_wait 60 _tls_docker version || { _plat_log "the TLS dockerd did not start (see $data/log/tls-dockerd.log)"; return 1; }
    cat "$dir/docker.pid" >"$data/platforms/tls-dockerd.pid"
  fi
  _plat_load_images _tls_docker
}

# Stop the TLS dockerd (SIGTERM, then wait until it is gone).
tls_engine_stop() {
  local pid
  [[ -s $RUNIT_TLS_DIR/docker.pid ]] || return 0
  pid=$(<"$RUNIT_TLS_DIR/docker.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill "$pid" 2>/dev/null
  local n=150
  while ((n-- > 0)) && kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  rm -f "$(_plat_dir)/platforms/tls-dockerd.pid"
  return 0
}

_podman() { CONTAINERS_CONF=$(_plat_dir)/podman/containers.conf podman "$@"; }

podman_service_ensure() {
  local data dir
  data=$(_plat_dir) || return 1
  dir=$(dirname "$RUNIT_PODMAN_SOCK")
  command -v podman >/dev/null 2>&1 || { _plat_log "podman is not installed"; return 1; }
  mkdir -p "$data/podman" "$dir"
  # conmon writes the file that says a container was killed for memory
  # ("oom") into its working directory, which Podman 4.3 leaves as the
  # service's; Podman looks for it in the container's bundle (conmon's -b),
  # so State.OOMKilled stayed false. This wrapper starts conmon there
  # (docs/platforms/podman.md). Beside the socket: it must outlive any
  # checkout or data directory while the service runs.
  cat >"$dir/conmon" <<'EOF'
#!/bin/sh
# Written by scripts/lib/platforms.sh: conmon, started in the container's
# bundle directory (-b), where Podman 4.3 looks for the "oom" file conmon
# writes into its working directory.
prev=
for a in "$@"; do
  if [ "$prev" = -b ] || [ "$prev" = --bundle ]; then cd "$a" || exit 1; break; fi
  prev=$a
done
exec /usr/bin/conmon "$@"
EOF
  chmod 755 "$dir/conmon"
  cat >"$data/podman/containers.conf" <<EOF
# Written by scripts/lib/platforms.sh. Podman 4.3's default ulimits are above
# this machine's hard limits: every container would fail to start.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
conmon_path = ["$dir/conmon"]
EOF
  if ! curl -fsS --unix-socket "$RUNIT_PODMAN_SOCK" http://d/_ping >/dev/null 2>&1; then
    _plat_log "starting podman system service on $RUNIT_PODMAN_SOCK"
    # from /: conmon inherits the service's working directory and fails
    # once that is gone (a removed checkout)
    (cd / && CONTAINERS_CONF=$data/podman/containers.conf exec setsid podman system service \
      --time=0 "unix://$RUNIT_PODMAN_SOCK" >"$data/log/podman-service.log" 2>&1 </dev/null) &
    echo $! >"$data/platforms/podman.pid"
    _plat_wait 30 curl -fsS --unix-socket "$RUNIT_PODMAN_SOCK" http://d/_ping ||
      { _plat_log "podman system service did not answer (see $data/log/podman-service.log)"; return 1; }
  fi
  _plat_load_images _podman
}

# Stop what the two functions above started (by the pids they wrote).
platforms_stop_ours() {
  local data f pid
  data=$(_plat_dir) || return 0
  for f in "$data/platforms/swarm-dockerd.pid" "$data/platforms/podman.pid" \
    "$data/platforms/engine2-dockerd.pid" "$data/platforms/tls-dockerd.pid"; do
    [[ -s $f ]] || continue
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill "$pid" 2>/dev/null
    rm -f "$f"
  done
}
