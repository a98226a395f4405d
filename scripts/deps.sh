#!/bin/sh
# Install the Debian packages sockscope needs to build and test, when missing.
#
#   scripts/deps.sh build   what `make` needs (compiler, libraries)
#   scripts/deps.sh test    also the real peers the tests run (ss, nc, ...)
#
# As root it runs apt-get; as another user it uses sudo when sudo works
# without a password prompt, and otherwise stops and prints the exact
# command to run.
set -eu

build_pkgs="gcc make pkg-config libncurses-dev libreadline-dev libcunit1-dev \
libpcap-dev libssl-dev libjansson-dev"
test_pkgs="iproute2 iputils-ping netcat-openbsd socat procps python3 tshark \
python3-websockets util-linux curl"

want="$build_pkgs"
[ "${1:-build}" = test ] && want="$build_pkgs $test_pkgs"

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "sockscope: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run="sudo -n"
else
    echo "sockscope: these packages are missing and I cannot install them without root." >&2
    echo "Run this, then try again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
# tshark asks whether ordinary users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
    $run debconf-set-selections 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -q >&2 || true
# shellcheck disable=SC2086
$run apt-get install -y -q --no-install-recommends $missing >&2
