#!/bin/sh
# Differential test of our version constraints against node-semver 7.8.5
# (the copy bundled with npm), over ~20k generated ranges and the cargo
# corpora. Prints TAP: one test point per property class. docs/testing.md
# explains the classes, the shared grammar and the deliberate deviations.
#
#   sh tests/e2e/semver_diff.sh        from the repo root, with TPLUA set to
#                                      build/tplua and LUA_PATH/LUA_CPATH set
#                                      so that require("truthound") works
#
# Knobs: SEMVER_DIFF_SEED (generator seed), SEMVER_DIFF_COUNT (generated
# ranges, default 20000), SEMVER_DIFF_KEEP=DIR (keep every input and answer
# in DIR), SEMVER_DIFF_SHOW (disagreements listed per class, default 8),
# SEMVER=DIR (the semver package to use), SEMVER_DIFF_ANY_VERSION=1 (run
# against a semver other than 7.8.5).
set -u
here=tests/e2e/semver_diff
LUA=${LUA:-lua5.4}
SEED=${SEMVER_DIFF_SEED:-20260101}
COUNT=${SEMVER_DIFF_COUNT:-20000}

skip() { echo "ok 1 # SKIP node-semver not found ($1)"; echo "1..1"; exit 0; }

command -v node >/dev/null 2>&1 || skip "no node on PATH"
if [ -z "${SEMVER:-}" ]; then
  for d in "$(npm root -g 2>/dev/null)/npm/node_modules/semver" \
           /usr/lib/node_modules/npm/node_modules/semver \
           /usr/local/lib/node_modules/npm/node_modules/semver; do
    if [ -f "$d/package.json" ]; then SEMVER=$d; break; fi
  done
fi
[ -n "${SEMVER:-}" ] && [ -f "$SEMVER/package.json" ] ||
  skip "no semver package under \$(npm root -g)/npm/node_modules; set SEMVER=DIR"
version=$(node -p "require('$SEMVER/package.json').version" 2>/dev/null) ||
  skip "node cannot read $SEMVER/package.json"
if [ "$version" != 7.8.5 ] && [ -z "${SEMVER_DIFF_ANY_VERSION:-}" ]; then
  skip "found semver $version at $SEMVER, the oracle is 7.8.5; SEMVER_DIFF_ANY_VERSION=1 to run anyway"
fi
export SEMVER

if [ -n "${SEMVER_DIFF_KEEP:-}" ]; then
  work=$SEMVER_DIFF_KEEP; mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/semver_diff.XXXXXX") || exit 3
  trap 'rm -rf "$work"' EXIT INT TERM
fi
echo "# node-semver $version at $SEMVER; seed $SEED, $COUNT generated ranges; tplua ${TPLUA:-unset}"

die() { echo "not ok 1 - semver_diff: $1"; [ -f "$2" ] && tail -n 20 "$2" | sed 's/^/# /'; echo "1..1"; exit 1; }

"$LUA" "$here/gen.lua" "$work" "$SEED" "$COUNT" tests/vectors/semver 2>"$work/gen.err" ||
  die "the generator failed" "$work/gen.err"

# Our satisfaction answers come from the CLI, one line per pair; it runs
# beside node's reference (two cores).
awk -F'\t' 'NR == FNR { r[NR] = $3; next }
            { i = index($0, "\t"); print r[substr($0, 1, i - 1)] "\t" substr($0, i + 1) }' \
  "$work/ranges.tsv" "$work/pairs.tsv" >"$work/check_in.txt"
run_check() {
  if [ -n "${TPLUA:-}" ] && [ -x "$TPLUA" ]; then
    "$TPLUA" semver check $1 <"$work/check_in.txt" >"$2" 2>"$3" || echo "exit status $?" >>"$3"
  else
    echo "TPLUA is '${TPLUA:-}', not an executable" >"$3"; : >"$2"
  fi
}
run_check "" "$work/ours_sat_def.txt" "$work/check_def.err" &
p1=$!
node "$here/ref.js" "$work" 2>"$work/ref.err" || die "node's reference script failed" "$work/ref.err"
run_check --include-prerelease "$work/ours_sat_inc.txt" "$work/check_inc.err"
wait $p1

"$LUA" "$here/ours.lua" "$work" 2>"$work/ours.err" ||
  die "ours.lua failed (does \`$LUA -e 'require(\"truthound\")'\` work?)" "$work/ours.err"
if [ -n "${TPLUA:-}" ] && [ -x "$TPLUA" ]; then
  "$TPLUA" semver sort <"$work/sort_ours_in.txt" >"$work/ours_cli_sort.txt" 2>"$work/sort.err"
fi
node "$here/ref.js" "$work" sortcheck ours_sort.txt ours_cli_sort.txt 2>"$work/ref.err" ||
  die "node's reference script failed on our sort output" "$work/ref.err"

"$LUA" "$here/compare.lua" "$work"
