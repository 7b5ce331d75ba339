#!/bin/sh
# make fuzz FUZZ_SECONDS=N: run every libFuzzer harness $B/fuzz/fuzz_* for N
# seconds on a working corpus $B/fuzz/corpus/<name>, seeded from
# tests/fuzz/seeds/<name>. Reports, per fuzzer, the executions and whether
# it found a crash (the input is kept in $B/fuzz/artifacts/<name>/); exits
# non-zero when any fuzzer crashed or could not run.
#
#   scripts/fuzz.sh [SECONDS]          (default 60; B=build)
#
# Extra libFuzzer flags can be passed with FUZZ_FLAGS (e.g. "-jobs=2").
# A crash input replays with: $B/fuzz/<name> <artifact>; to keep it as a
# regression seed, copy it into tests/fuzz/seeds/<name>/.
set -u
cd "$(dirname "$0")/.." || exit 3
B=${B:-build}
secs=${1:-60}
case $secs in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

found=0 crashed=0 report=""
for f in "$B"/fuzz/fuzz_*; do
  [ -x "$f" ] && [ -f "$f" ] || continue
  found=$((found + 1))
  name=$(basename "$f")
  corpus=$B/fuzz/corpus/$name
  artifacts=$B/fuzz/artifacts/$name
  log=$B/fuzz/$name.log
  mkdir -p "$corpus" "$artifacts"
  [ -d "tests/fuzz/seeds/$name" ] && cp -n "tests/fuzz/seeds/$name"/* "$corpus"/ 2>/dev/null
  before=$(ls "$artifacts" | wc -l)
  echo "== $name: ${secs}s on $corpus ($(ls "$corpus" | wc -l) inputs)"
  # shellcheck disable=SC2086
  "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$artifacts/" \
       ${FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  after=$(ls "$artifacts" | wc -l)
  if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
    crashed=$((crashed + 1))
    new=$(ls -t "$artifacts" | head -n 1)
    line="$name: CRASH after ${execs:-?} executions (exit $rc); input $artifacts/$new; log $log"
    grep -m 3 -E 'ERROR|invariant violated|SUMMARY' "$log" | sed 's/^/    /'
  else
    line="$name: ok, ${execs:-?} executions in ${secs}s, no crash; corpus $(ls "$corpus" | wc -l) inputs"
  fi
  echo "$line"
  report="$report$line
"
done

if [ "$found" -eq 0 ]; then
  echo "fuzz: no fuzzers in $B/fuzz (make fuzz-build)" >&2
  exit 2
fi
echo
echo "fuzz summary ($found fuzzers, ${secs}s each):"
printf '%s' "$report" | sed 's/^/  /'
[ "$crashed" -eq 0 ]
