# make bench rows for the dependency resolver (sourced by scripts/bench.sh).

# DependencyResolver:resolve, whole (input conversion, search, result,
# load order), in solves per second. There is no peer program to run
# beside it here, so each row's peer is its target: the issue's time per
# solve, as solves per second (10 ms is 100/s, 50 ms is 20/s), and the
# ratio is how far inside the target we are. scripts/bench/resolve.lua
# describes the registries.
bench_resolve() {
  say "resolve: measuring the pubgrub hard case and two 1,000-plugin registries"
  if ! "$LUA" scripts/bench/resolve.lua >"$work/resolve.out" 2>"$work/resolve.err"; then
    note "resolve: failed: $(tail -n 3 "$work/resolve.err")"
    return
  fi
  solves() { awk -F'\t' -v k="$1" '$1 == k {print $2}' "$work/resolve.out"; }
  row "resolve: pubgrub hard case, from p0 0.0.0" "$(solves pubgrub)" \
      "target 10 ms per solve" 100 "solves/s" 1
  row "resolve: 1,000 plugins x 20 versions, pins" "$(solves pins)" \
      "target 50 ms per solve" 20 "solves/s" 1
  row "resolve: 1,000 plugins x 20 versions, cascade" "$(solves cascade)" \
      "target 50 ms per solve" 20 "solves/s" 1
  while IFS="$(printf '\t')" read -r _ _ what; do note "resolve: $what"; done <"$work/resolve.out"
}
