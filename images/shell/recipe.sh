# images/shell: a tiny image made of the static busybox from Debian's
# busybox-static package (/bin/sh and the busybox applets), nothing else.
KIND=busybox
ESTIMATE="~5 s"
IMAGE_ENV=()
