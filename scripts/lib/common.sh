# scripts/lib/common.sh - shared by scripts/start, scripts/test and scripts/stop:
# where things live, the Debian packages we need, and the build.
# Sourced, not run. Every function is safe to call twice.

RUNIT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${RUNIT_DATA_DIR:=$RUNIT_ROOT/var}"
case "$RUNIT_DATA_DIR" in /*) ;; *) RUNIT_DATA_DIR=$PWD/$RUNIT_DATA_DIR ;; esac
export RUNIT_DATA_DIR
mkdir -p "$RUNIT_DATA_DIR/log"

say() { printf '%s\n' "run-it: $*"; }
die() { printf '%s\n' "run-it: error: $*" >&2; exit 1; }

# Packages to build and run the server.
RUNIT_BUILD_DEPS="build-essential cmake pkg-config libwebsockets-dev libwebsockets-evlib-uv
  libuv1-dev libjansson-dev libpq-dev libcurl4-openssl-dev libsodium-dev liboath-dev
  libssl-dev libcmocka-dev libunistring-dev postgresql-15 postgresql-client-15 docker.io runsc
  debootstrap busybox-static curl ca-certificates procps iproute2"
# Extra packages for the tests.
RUNIT_TEST_DEPS="clang clang-format libclang-rt-14-dev python3-pytest python3-websockets chromium
  nginx-light openssl docker-compose caddy haproxy podman catatonit"

# deps_ensure PKG... : install what is missing, in one apt-get call.
deps_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them"
  say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  if [ -z "${RUNIT_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$RUNIT_DATA_DIR/log/apt.log" 2>&1 ||
      die "apt-get update failed (see $RUNIT_DATA_DIR/log/apt.log)"
    RUNIT_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >>"$RUNIT_DATA_DIR/log/apt.log" 2>&1 || die "apt-get install failed (see $RUNIT_DATA_DIR/log/apt.log)"
}

# build_server DIR [CMAKE ARGS...] : configure once, build incrementally.
build_server() {
  local dir=$1; shift
  say "building $(basename "$dir") (cmake)"
  cmake -S "$RUNIT_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$RUNIT_DATA_DIR/log/cmake-$(basename "$dir").log" 2>&1 ||
    { tail -n 30 "$RUNIT_DATA_DIR/log/cmake-$(basename "$dir").log" >&2; die "cmake configure failed"; }
  cmake --build "$dir" -j"$(nproc)" >>"$RUNIT_DATA_DIR/log/cmake-$(basename "$dir").log" 2>&1 ||
    { grep -E 'error|Error' "$RUNIT_DATA_DIR/log/cmake-$(basename "$dir").log" | head -n 30 >&2; die "build failed (see $RUNIT_DATA_DIR/log/cmake-$(basename "$dir").log)"; }
}

# node_ensure : Node.js and npm for the UI build. Debian's nodejs and npm are
# installed only when no node/npm is on PATH (a machine may have its own Node).
node_ensure() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
  deps_ensure nodejs npm
}

# build_ui : the static site the server serves from ui/dist.
# If npm cannot install the packages, the server still starts and serves a
# page that says so (the API works without the UI); the browser tests fail.
build_ui() {
  if node_ensure && "$RUNIT_ROOT/ui/build"; then
    return 0
  fi
  printf '%s\n' "run-it: WARNING: the UI could not be built (see above); serving ui/fallback instead" >&2
  mkdir -p "$RUNIT_ROOT/ui/dist"
  if [ ! -f "$RUNIT_ROOT/ui/dist/app.js" ]; then
    cp "$RUNIT_ROOT/ui/fallback/index.html" "$RUNIT_ROOT/ui/dist/index.html"
  fi
}

# wait_healthy URL SECONDS : until /healthz answers 200.
wait_healthy() {
  local url=$1 secs=$2 i
  for ((i = 0; i < secs * 5; i++)); do
    curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
