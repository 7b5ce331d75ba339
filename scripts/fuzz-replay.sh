#!/bin/sh
# Replay a fuzzer's seed corpus once (no mutation): a regression check that
# every saved input still runs clean under ASan and UBSan. Prints TAP.
f=$1 seeds=$2
name=$(basename "$f")
if "$f" -runs=0 -artifact_prefix="${B:-build}/test-results/" "$seeds" >"${B:-build}/test-results/$name.replay.log" 2>&1; then
  echo "ok 1 - $name replays $(ls "$seeds" | wc -l) seeds clean"
else
  echo "not ok 1 - $name failed on its seed corpus"
  tail -n 30 "${B:-build}/test-results/$name.replay.log" | sed 's/^/# /'
fi
