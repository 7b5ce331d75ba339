# make bench rows for the dependency graph (sourced by scripts/bench.sh).
#
# Input: a random DAG of GRAPH_NODES nodes (100,000) and GRAPH_EDGES pairs
# (1,000,000) in tsort's format, made by scripts/bench/graph.lua with a
# fixed seed; both sides read the same file and write their whole order
# (to /dev/null). The peer is GNU tsort (coreutils), run in the same bench.

# seconds since the epoch, with nanoseconds
graph_now() { date +%s.%N; }

# graph_rate CMD...: runs/s of a command, the best of 3 measurements, each
# running it until BENCH_MIN_SECONDS have passed (at least once).
graph_rate() {
  best=0
  for _ in 1 2 3; do
    runs=0 t0=$(graph_now)
    while :; do
      "$@" >/dev/null 2>&1 || return 1
      runs=$((runs + 1))
      el=$(awk -v a="$t0" -v b="$(graph_now)" 'BEGIN {print b - a}')
      awk -v e="$el" -v m="${BENCH_MIN_SECONDS:-1}" 'BEGIN {exit !(e >= m)}' && break
    done
    best=$(awk -v r="$runs" -v e="$el" -v b="$best" 'BEGIN {x = r / e; print (x > b ? x : b)}')
  done
  echo "$best"
}

bench_graph() {
  nodes=${GRAPH_NODES:-100000} edges=${GRAPH_EDGES:-1000000}
  input=$work/graph.txt
  say "graph: generating $nodes nodes, $edges pairs"
  if ! "$LUA" scripts/bench/graph.lua gen "$nodes" "$edges" >"$input" 2>"$work/graph.err"; then
    note "graph: input generation failed: $(tail -n 3 "$work/graph.err")"
    return
  fi
  # Both must order every node without a loop, or the figures mean nothing.
  ours_lines=$("$B/tplua" graph --tsort "$input" 2>>"$work/graph.err" | wc -l)
  peer="GNU tsort" peer_rate=""
  if tsort --version 2>/dev/null | grep -q 'GNU coreutils'; then
    peer="GNU tsort $(tsort --version | sed -n '1s/.* //p')"
    peer_lines=$(tsort "$input" 2>>"$work/graph.err" | wc -l)
    [ "$peer_lines" = "$nodes" ] || note "graph: tsort ordered $peer_lines of $nodes nodes"
    say "graph: measuring $peer --tsort"
    peer_rate=$(graph_rate tsort "$input") || peer_rate=""
  else
    note "graph: GNU tsort not found: the peer columns are empty"
  fi
  [ "$ours_lines" = "$nodes" ] || note "graph: tplua graph --tsort ordered $ours_lines of $nodes nodes"
  say "graph: measuring tplua graph --tsort"
  ours_rate=$(graph_rate "$B/tplua" graph --tsort "$input") || ours_rate=""
  edges_per() { [ -n "$1" ] && awk -v r="$1" -v e="$edges" 'BEGIN {printf "%.0f", r * e}'; }
  row "graph: --tsort, $((nodes / 1000))k nodes, $((edges / 1000))k pairs" \
      "$(edges_per "$ours_rate")" "$peer" "$(edges_per "$peer_rate")" "pairs/s" 3
  say "graph: measuring DependencyGraph add_node + get_load_order"
  if "$LUA" scripts/bench/graph.lua api "$input" >"$work/graph.api" 2>>"$work/graph.err"; then
    api_rate=$(awk -F'\t' '$1 == "api" {print $2}' "$work/graph.api")
    row "graph: Lua add_node x$((nodes / 1000))k + get_load_order" \
        "$(edges_per "$api_rate")" "$peer (same pairs)" "$(edges_per "$peer_rate")" "pairs/s" 1
    note "graph: Lua API run: $(awk -F'\t' '$1 == "add_node" {a = $2} $1 == "get_load_order" {o = $2} $1 == "edges" {e = $2}
      END {printf "add_node x %d nodes %.3f s, get_load_order %.3f s (%d distinct pairs)", '"$nodes"', a, o, e}' "$work/graph.api")"
  else
    note "graph: Lua API run failed: $(tail -n 3 "$work/graph.err")"
  fi
  # GNU tsort's messages for this input, if any (there should be none).
  while IFS= read -r l; do note "graph: $l"; done <"$work/graph.err"
}
