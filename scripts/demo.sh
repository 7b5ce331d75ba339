#!/bin/sh
# The demo behind `make run`: copy examples/ to $B/demo, sign its three
# plugins with a fresh Ed25519 key, trust that key, and run the
# application manifest. Signing here rather than committing signatures
# keeps the demo valid whatever the date (signatures expire, and the
# policies bound their age) and keeps private keys out of the repository.
#
#   B=build sh scripts/demo.sh [tplua run options]
#
# TPLUA (default $B/tplua) and DEMO (default $B/demo, the copy) may be set.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
TPLUA=${TPLUA:-$PWD/$B/tplua}
DEMO=${DEMO:-$B/demo}
rm -rf "$DEMO"
mkdir -p "$DEMO"
cp -R examples/. "$DEMO/"
"$TPLUA" keygen --algorithm ed25519 --out "$DEMO/demo-signer" >/dev/null
"$TPLUA" trust add "$DEMO/demo-signer.pub" --signer demo --level trusted \
  --store "$DEMO/trust.json" >/dev/null
for p in "$DEMO"/plugins/*/; do
  "$TPLUA" sign "$p" --key "$DEMO/demo-signer.key" --signer demo --expires 30d >/dev/null
done
rm -f "$DEMO/demo-signer.key"      # signed: the private key is not needed any more
exec "$TPLUA" run "$@" "$DEMO/manifest.lua"
