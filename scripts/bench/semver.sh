# make bench rows for version constraints (sourced by scripts/bench.sh).

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
