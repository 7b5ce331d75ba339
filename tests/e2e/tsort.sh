#!/bin/sh
# `tplua graph --tsort` against GNU tsort (coreutils) on random graphs with
# and without loops: the same node set, every pair respected except those
# broken at a reported loop, the same exit status, the same nodes reported
# on loops. The generator and the comparison are tests/e2e/tsort/compare.lua
# (TSORT_COUNT inputs, default 300; TSORT_SEED). Without GNU tsort: a skip.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
if ! tsort --version 2>/dev/null | grep -q 'GNU coreutils'; then
  echo "ok 1 # SKIP GNU tsort not found"
  echo "1..1"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
lua5.4 tests/e2e/tsort/compare.lua "$TPLUA" "$TMP"
