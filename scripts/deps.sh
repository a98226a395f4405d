#!/bin/sh
# Install the Debian packages sockscope needs, when missing.
#
#   scripts/deps.sh build   what `make` needs: scripts/packages/build*.txt
#   scripts/deps.sh test    also what the tests run: scripts/packages/test*.txt
#
# One package name a line in those files; '#' starts a comment. As root it
# runs apt-get; as another user it uses sudo when sudo works without a
# password, and otherwise stops and prints the exact command to run.
set -eu

here=$(dirname "$0")
lists="$here/packages/build*.txt"
[ "${1:-build}" = test ] && lists="$lists $here/packages/test*.txt"

# shellcheck disable=SC2086
want=$(cat $lists 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n' | sort -u)

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
    echo "sockscope: these packages are missing and installing them needs root." >&2
    echo "Run this, then try again:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
# tshark asks whether ordinary users may capture; answer no, without asking.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
    $run debconf-set-selections 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -q >&2 || true
# shellcheck disable=SC2086
$run apt-get install -y -q --no-install-recommends $missing >&2
