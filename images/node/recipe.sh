# shellcheck shell=bash disable=SC2034
# images/node: Debian bookworm minbase + nodejs (Node.js 18).
KIND=debian
ESTIMATE="~20 s"
PACKAGES="nodejs"
IMAGE_ENV=(NODE_ENV=production)
VERSION_CMD='node -p "process.versions.node"'
