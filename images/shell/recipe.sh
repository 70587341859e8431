# shellcheck shell=bash disable=SC2034
# images/shell: a tiny image made of the static busybox from Debian's
# busybox-static package (/bin/sh and the busybox applets), nothing else.
KIND=busybox
ESTIMATE="~1 s"
IMAGE_ENV=()
