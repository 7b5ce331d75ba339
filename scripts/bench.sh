#!/bin/sh
# make bench: one table. Each row is one measurement of ours against a peer
# (or a physical floor) measured in the same run, and their ratio against
# the target ratio. Nothing here fails on a slow figure: a row below its
# target says so in the last column. docs/bench.md describes every row.
#
#   B=build scripts/bench.sh          (make bench runs it after the build)
#
# Adding rows: a file scripts/bench/NAME.sh defining a function bench_NAME
# that measures both sides and calls
#   row "MEASUREMENT" OURS "PEER NAME" PEER UNIT TARGET
# (OURS and PEER in UNIT, larger is better; PEER "" when the peer is
# missing; TARGET the ratio wanted, or "" for none). note "TEXT" adds a
# line under the table.
set -u
cd "$(dirname "$0")/.." || exit 3
B=${B:-build}
LUA=${LUA:-lua5.4}
BENCHES=""

export LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;"
export LUA_CPATH="$PWD/$B/?.so;;"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 3
trap 'rm -rf "$work"' EXIT INT TERM
rows=$work/rows.tsv notes=$work/notes
: >"$rows"; : >"$notes"

row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$rows"; }
note() { printf '%s\n' "$*" >>"$notes"; }
say() { printf '%s\n' "$*" >&2; }   # progress, on stderr

# node-semver: the copy bundled with npm (SEMVER=DIR to choose another).
find_semver() {
  [ -n "${SEMVER:-}" ] && [ -f "$SEMVER/package.json" ] && return 0
  command -v node >/dev/null 2>&1 || return 1
  for d in "$(npm root -g 2>/dev/null)/npm/node_modules/semver" \
           /usr/lib/node_modules/npm/node_modules/semver \
           /usr/local/lib/node_modules/npm/node_modules/semver; do
    if [ -f "$d/package.json" ]; then SEMVER=$d; export SEMVER; return 0; fi
  done
  return 1
}

# Each scripts/bench/<name>.sh defines bench_<name>; they run in name order.
for f in scripts/bench/*.sh; do
  . "$f"
  BENCHES="$BENCHES $(basename "$f" .sh)"
done

for b in $BENCHES; do "bench_$b"; done

# The table.
awk -F'\t' '
function num(x,   s, neg) {
  if (x == "") return "-"
  s = sprintf("%.0f", x); neg = ""
  while (length(s) > 3) { neg = "," substr(s, length(s) - 2) neg; s = substr(s, 1, length(s) - 3) }
  return s neg
}
BEGIN {
  fmt = "%-50s %15s  %-32s %15s  %8s  %7s  %s\n"
  printf fmt, "measurement", "ours", "peer", "peer", "ratio", "target", ""
  printf fmt, "-----------", "----", "----", "----", "-----", "------", ""
}
{
  ratio = "-"; target = ($6 == "" ? "-" : ">=" $6 "x"); verdict = ""
  if ($2 != "" && $4 != "" && $4 > 0) {
    r = $2 / $4; ratio = sprintf("%.1fx", r)
    if ($6 != "") verdict = (r >= $6 ? "ok" : "BELOW TARGET")
  } else if ($6 != "") verdict = "n/a"
  printf fmt, $1, num($2) " " $5, $3, num($4) " " $5, ratio, target, verdict
}' "$rows"
if [ -s "$notes" ]; then echo; sed 's/^/  /' "$notes"; fi
exit 0
