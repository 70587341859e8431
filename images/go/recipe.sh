# shellcheck shell=bash disable=SC2034
# images/go: Debian bookworm minbase + golang-go (Go 1.19).
KIND=debian
ESTIMATE="~35 s"
PACKAGES="golang-go"
# Root fs is read-only: GOPATH lives on the /tmp tmpfs. GOCACHE is not set:
# Go puts it in $XDG_CACHE_HOME/go-build, which the server points at the
# project's cache volume (/cache), else $HOME/.cache/go-build (/tmp).
# No C toolchain in the image, so cgo is off; no network, so no module proxy.
IMAGE_ENV=(GOPATH=/tmp/go GOMODCACHE=/tmp/go/pkg/mod CGO_ENABLED=0 GOPROXY=off)
VERSION_CMD='go env GOVERSION | sed "s/^go//"'
# Run in the chroot after apt: Debian ships the standard library precompiled
# with cgo on; recompile it with CGO_ENABLED=0 (as the image runs it) so that a
# build in a fresh container (empty GOCACHE) does not recompile net, net/http…
CHROOT_POST_INSTALL='CGO_ENABLED=0 GOCACHE=/tmp/go-std-cache go install std && rm -rf /tmp/go-std-cache'
# Hook called by images/build after apt, before import ($1 = rootfs dir).
# Drop what `go build`/`go test` of user code never reads: the compiled
# internals of the go tools themselves, Go's own test suite, the API lists,
# and the standard library's tests and test data (~180 MB).
image_post_install() {
  local r=$1
  rm -rf "$r"/usr/lib/go-*/pkg/*/cmd "$r"/usr/share/go-*/test "$r"/usr/share/go-*/api/*
  find "$r"/usr/share/go-*/src \( -name testdata -type d -prune -o -name '*_test.go' \) \
    -exec rm -rf {} +
}
