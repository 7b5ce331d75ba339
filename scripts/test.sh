#!/bin/sh
# Run every test suite, each producing TAP, then print one closing line:
# "N passed, N failed". A suite that dies without reporting is a failure.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
LUA=${LUA:-lua5.4}
OUT=$B/test-results
rm -rf "$OUT"; mkdir -p "$OUT"

export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;"
export LUA_CPATH="$PWD/$B/?.so;;"
export TPLUA="$PWD/$B/tplua"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# run NAME CMD...: run one suite, keep its TAP, note a crash as a failure.
run() {
  name=$1; shift
  log="$OUT/$name.tap"
  printf '== %s\n' "$name"
  "$@" >"$log" 2>&1
  rc=$?
  # Show failures with their diagnostics, and skips with their reasons.
  awk '/^not ok/ {p = 1; print; next} /^ok / {p = 0; if (tolower($0) ~ /# skip/) print}
       p && /^#/ {print}' "$log" | head -n 200
  if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
    echo "not ok - $name exited with status $rc without a failing test" >>"$log"
    echo "not ok - $name exited with status $rc (see $log)"
    tail -n 20 "$log" | sed 's/^/#   /'
  fi
}

for t in $B/asan/tests/test_*; do
  [ -x "$t" ] && run "c-$(basename "$t")" "$t"
done

# The specs load the sanitized core.so; lua5.4 itself is not instrumented,
# so the ASan runtime is preloaded. Their sandbox workers are the plain
# build: ASan reserves terabytes of shadow address space, which the
# policies' RLIMIT_DATA forbids (the C test test_sbstate drives the ASan
# worker directly).
TRUTHOUND_WORKER="$PWD/$B/truthound/truthound-worker" \
LUA_CPATH="$PWD/$B/asan/?.so;;" LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so) \
  run busted $LUA /usr/bin/busted -o TAP tests/lua

for s in tests/e2e/*.sh tests/hostile/*.sh; do
  [ -f "$s" ] && run "$(basename "$(dirname "$s")")-$(basename "$s" .sh)" sh "$s"
done

for f in $B/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  seeds=tests/fuzz/seeds/$(basename "$f")
  [ -d "$seeds" ] && run "replay-$(basename "$f")" scripts/fuzz-replay.sh "$f" "$seeds"
done

cat "$OUT"/*.tap >"$OUT/all.tap"
passed=$(grep -cE '^ok ' "$OUT/all.tap")
failed=$(grep -cE '^not ok ' "$OUT/all.tap")
skipped=$(grep -ciE '^ok .*# skip' "$OUT/all.tap")
[ "$skipped" -gt 0 ] && echo "($skipped of the passed are skips; see $OUT)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
