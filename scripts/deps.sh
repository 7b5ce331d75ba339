#!/bin/sh
# Install the Debian packages truthound needs, when any is missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu

PKGS="build-essential pkg-config liblua5.4-dev lua5.4 lua-lpeg lua-cjson lua-busted
luarocks libuv1-dev libssl-dev openssl libseccomp-dev libedit-dev bubblewrap
clang libclang-rt-14-dev graphviz jq"

missing=""
for p in $PKGS; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages:$missing" >&2
  echo "deps.sh: run as root: $cmd" >&2
  exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh once if install fails.
$cmd || { apt-get update && $cmd; }
