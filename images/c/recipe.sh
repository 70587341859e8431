# shellcheck shell=bash disable=SC2034
# images/c: Debian bookworm minbase + gcc and libc6-dev (GCC 12).
KIND=debian
ESTIMATE="~25 s"
PACKAGES="gcc libc6-dev"
VERSION_CMD='gcc -dumpfullversion'
IMAGE_ENV=()
