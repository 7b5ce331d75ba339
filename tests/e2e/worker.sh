#!/bin/sh
# The release worker program (build/truthound/truthound-worker, the one
# `make install` ships) driven with hand-made frames: SETUP, READY, CALL,
# RESULT/ERROR, STATS, BYE, a seccomp trap reported as VIOLATION, Landlock
# holding a plugin that has io, malformed frames answered with ERROR and
# exit. The cases are those of tests/c/test_sbstate.c's worker part (which
# `make test` also runs against the ASan worker); here TP_WORKER_ONLY runs
# just them, against the release binary.
set -u
B=${B:-build}
T=$B/asan/tests/test_sbstate
W=$PWD/$B/truthound/truthound-worker
if [ ! -x "$T" ] || [ ! -x "$W" ]; then
  echo "not ok 1 - $T or $W is missing (make all and the C tests first)"
  echo "1..1"
  exit 1
fi
TP_WORKER_ONLY=1 TRUTHOUND_WORKER="$W" "$T"
