# images/c: Debian bookworm minbase + gcc and libc6-dev (GCC 12).
KIND=debian
ESTIMATE="~2 min"
PACKAGES="gcc libc6-dev"
VERSION_CMD='gcc -dumpfullversion'
IMAGE_ENV=()
