# images/node: Debian bookworm minbase + nodejs (Node.js 18).
KIND=debian
ESTIMATE="~1-2 min"
PACKAGES="nodejs"
IMAGE_ENV=(NODE_ENV=production)
VERSION_CMD='node -p "process.versions.node"'
