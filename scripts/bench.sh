#!/bin/sh
# make bench: one table. Each row is one measurement of ours against a peer
# (or a physical floor) measured in the same run, and their ratio against
# the target ratio. Nothing here fails on a slow figure: a row below its
# target says so in the last column. docs/bench.md describes every row.
#
#   B=build scripts/bench.sh          (make bench runs it after the build)
#
# Adding a row: write a function bench_NAME that measures both sides and
# calls
#   row "MEASUREMENT" OURS "PEER NAME" PEER UNIT TARGET
# (OURS and PEER in UNIT, larger is better; PEER "" when the peer is
# missing; TARGET the ratio wanted, or "" for none), then add NAME to
# BENCHES below. note "TEXT" adds a line under the table.
set -u
cd "$(dirname "$0")/.." || exit 3
B=${B:-build}
LUA=${LUA:-lua5.4}
BENCHES="semver"

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

# Version constraints: is_satisfied_by calls per second on the cargo corpora
# (one version per requirement, drawn near it), against node-semver.
bench_semver() {
  say "semver: building pairs from tests/vectors/semver"
  if ! "$LUA" scripts/bench/semver.lua pairs tests/vectors/semver >"$work/ours.tsv" 2>"$work/semver.err"; then
    note "semver: failed: $(tail -n 3 "$work/semver.err")"
    return
  fi
  peer_sat="" peer_test="" pairs=$work/ours.tsv
  if find_semver; then
    peer="node-semver $(node -p "require('$SEMVER/package.json').version")"
    if node scripts/bench/semver.js filter <"$work/ours.tsv" >"$work/pairs.tsv" 2>>"$work/semver.err"; then
      pairs=$work/pairs.tsv
      say "semver: measuring $peer"
      node scripts/bench/semver.js bench "$pairs" >"$work/node.out" 2>>"$work/semver.err"
      peer_sat=$(awk -F'\t' '$1 == "satisfies" {print $2}' "$work/node.out")
      peer_test=$(awk -F'\t' '$1 == "range_test" {print $2}' "$work/node.out")
    fi
  else
    peer="node-semver (not found)"
    note "semver: node or its semver package is missing: the peer columns are empty"
  fi
  say "semver: measuring ours"
  if ! "$LUA" scripts/bench/semver.lua bench "$pairs" >"$work/lua.out" 2>>"$work/semver.err"; then
    note "semver: our side failed: $(tail -n 3 "$work/semver.err")"
    return
  fi
  ours() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$work/lua.out"; }
  row "semver: v.satisfies(ver, range), parse each time" "$(ours satisfies)" \
      "$peer satisfies()" "$peer_sat" "calls/s" 20
  row "semver: parse_constraint(r):is_satisfied_by(ver)" "$(ours parse_each)" \
      "$peer satisfies()" "$peer_sat" "calls/s" 20
  row "semver: c:is_satisfied_by(ver), c pre-parsed" "$(ours preparsed)" \
      "$peer Range.test()" "$peer_test" "calls/s" 5
  while IFS= read -r l; do note "semver: $l"; done <"$work/semver.err"
}

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
