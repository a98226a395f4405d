#!/bin/sh
# Install node's `ws` package, the reference WebSocket peer of lesson 11's
# interop tests, conformance runner and benchmark, into BUILD/node_modules.
#
#   scripts/ws-node.sh BUILD
#
# Needs node and npm (scripts/packages/test-ws.txt); when npm is missing
# and we are root, installs it with apt-get. Does nothing when the wanted
# version is already there.
set -eu
build=${1:-build}
want=8.18.0
mkdir -p "$build"
dir=$(cd "$build" && pwd)

have=$(node -e "console.log(require('$dir/node_modules/ws/package.json').version)" 2>/dev/null || true)
[ "$have" = "$want" ] && exit 0

if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm >&2
    else
        echo "ws-node: npm is missing; install it (apt-get install npm) and try again" >&2
        exit 1
    fi
fi
echo "ws-node: installing ws@$want into $dir/node_modules" >&2
npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "ws@$want" >&2
# The tests also run as an ordinary user: let everyone read the package.
chmod -R a+rX "$dir/node_modules"
