#!/bin/sh
# Crash safety of core.fs.write_atomic, the way the trust store saves
# itself: a writer process (store_crash/writer.lua) loads a store-like JSON
# file and rewrites it in a loop, each version complete and self-checking
# (store_crash/store.lua); it is killed with SIGKILL at a random moment,
# STORE_CRASH_KILLS times (default 150, each after 0 to 25 ms; the delays
# come from STORE_CRASH_SEED). After every kill a reader
# (store_crash/check.lua) must find:
#   - the store complete: it parses and is exactly the document its seq
#     names (never truncated, never a mix of two versions);
#   - no version older than one seen before;
#   - at most one temporary file "<store>.tmp.<pid>.<hex>", of a writer we
#     killed (a kill between create and rename leaves it; readers never
#     open such names), and nothing else beside the store.
# Each write first removes the temporary files of dead writers, so they
# never pile up: the one left is that of the last killed writer that got
# as far as creating one. A last clean run must leave none.
set -u
B=${B:-build}
: "${LUA_PATH:=$PWD/lua/?.lua;$PWD/lua/?/init.lua;;}"
: "${LUA_CPATH:=$PWD/$B/?.so;;}"
export LUA_PATH LUA_CPATH
KILLS=${STORE_CRASH_KILLS:-150}
SEED=${STORE_CRASH_SEED:-20260105}
H=tests/hostile/store_crash
TMP=$(mktemp -d "${TMPDIR:-/tmp}/store_crash.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM HUP PIPE
mkdir "$TMP/store"
STORE=$TMP/store/store.json
n=0
tap() {  # tap OK|FAIL DESCRIPTION [DIAGNOSTICS FILE]
  n=$((n + 1))
  if [ "$1" = OK ]; then echo "ok $n - $2"
  else echo "not ok $n - $2"; [ $# -ge 3 ] && head -n 20 "$3" | sed 's/^/# /'; fi
}

if ! lua5.4 $H/writer.lua "$STORE" 1 2>"$TMP/err"; then
  tap FAIL "a first clean write" "$TMP/err"
  echo "1..$n"; exit 1
fi
tap OK "a first clean write"

# The random delays, in seconds, all at once (dash has no $RANDOM).
awk -v n="$KILLS" -v seed="$SEED" 'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%.4f\n", rand() * 0.025 }' >"$TMP/delays"

broken=0 back=0 extra=0 mid=0 last=0 advanced=0 killed=" "
: >"$TMP/problems"
while read -r delay; do
  lua5.4 $H/writer.lua "$STORE" 2>>"$TMP/writer.err" &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  killed="$killed$pid "
  set -- $(lua5.4 $H/check.lua "$STORE" 2>&1)
  if [ "${1:-}" != ok ]; then
    broken=$((broken + 1)); echo "after killing $pid at ${delay}s: $*" >>"$TMP/problems"
    continue
  fi
  seq=$2 temps=$3 pids=$4
  if [ "$seq" -lt "$last" ]; then
    back=$((back + 1)); echo "after killing $pid: seq $seq after $last" >>"$TMP/problems"
  fi
  [ "$seq" -gt "$last" ] && advanced=$((advanced + 1))
  last=$seq
  if [ "$temps" -gt 1 ] || { [ "$temps" -eq 1 ] && case $killed in *" $pids "*) false ;; *) true ;; esac; }; then
    extra=$((extra + 1)); echo "after killing $pid: $temps temporary files, of $pids" >>"$TMP/problems"
  fi
  [ "$temps" -eq 1 ] && [ "$pids" = "$pid" ] && mid=$((mid + 1))
done <"$TMP/delays"

if [ "$broken" -eq 0 ]; then tap OK "$KILLS kills: the store always parsed and was complete"
else tap FAIL "$KILLS kills: the store was broken $broken times" "$TMP/problems"; fi
if [ "$back" -eq 0 ]; then tap OK "never an older version than one already seen"
else tap FAIL "an older version came back $back times" "$TMP/problems"; fi
if [ "$extra" -eq 0 ]; then tap OK "at most one temporary file, a killed writer's, and nothing else"
else tap FAIL "temporary files piled up or belonged to others $extra times" "$TMP/problems"; fi
# Where the kills landed, for the record (timing-dependent, not asserted).
echo "# $mid kills left a half-written temporary file; $advanced of $KILLS writers saved at least once; last seq $last"
if [ -s "$TMP/writer.err" ]; then
  tap FAIL "the writers reported no error" "$TMP/writer.err"
else
  tap OK "the writers reported no error"
fi

lua5.4 $H/writer.lua "$STORE" 1 2>"$TMP/err"
set -- $(lua5.4 $H/check.lua "$STORE" 2>&1)
if [ "${1:-}" = ok ] && [ "${3:-}" = 0 ] && [ "${2:-0}" -gt "$last" ]; then
  tap OK "the next clean save removes the stale temporary files"
else
  echo "check: $*" >>"$TMP/err"
  tap FAIL "the next clean save removes the stale temporary files" "$TMP/err"
fi
echo "1..$n"
