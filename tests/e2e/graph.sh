#!/bin/sh
# `tplua graph DIR...`: text, dot and json, exit codes, several roots and
# versions, broken manifests, usage errors. The graph itself is specified in
# tests/lua/graph_spec.lua; --tsort is compared with GNU tsort in tsort.sh.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}
run() { "$TPLUA" graph "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }

# plugin ROOT ID VERSION DEPS: a plugin directory with a valid manifest
plugin() {
  mkdir -p "$1/$2"
  printf 'return {}\n' >"$1/$2/main.lua"
  printf 'return {\n  id = "%s",\n  version = "%s",\n  entry = "main",\n  dependencies = %s,\n}\n' \
    "$2" "$3" "${4:-{\}}" >"$1/$2/plugin.lua"
}

A=$TMP/a
plugin "$A" app 1.0.0 '{json = "^1.2", log = {constraint = ">=2", type = "optional"}, kit = {constraint = "*", type = "dev"}}'
plugin "$A" json 1.4.0
plugin "$A" cli 0.1.0 '{app = "*"}'

run "$A"
check "a valid graph: exit 0" 0 "$rc"
check "text: the load order, the edges" "$(printf '%s\n' \
  "load order (3 plugins):" \
  "    1  json 1.4.0  $A/json" \
  "    2  app 1.0.0   $A/app" \
  "    3  cli 0.1.0   $A/cli" \
  "dependencies:" \
  "  app -> json ^1.2" \
  "  app -> kit * (dev, absent)" \
  "  app -> log >=2 (optional, absent)" \
  "  cli -> app *")" "$(cat "$TMP/out")"

run "$A" --format dot
check "dot: exit 0" 0 "$rc"
check "dot: a digraph with typed edges and the missing nodes" "$(printf '%s\n' \
  'digraph "dependencies" {' \
  '  node [shape=box, fontname="sans-serif"];' \
  '  edge [fontname="sans-serif", fontsize=10];' \
  '  "app" [label="app\n1.0.0"];' \
  '  "cli" [label="cli\n0.1.0"];' \
  '  "json" [label="json\n1.4.0"];' \
  '  "kit" [label="kit\n(missing)", style=dashed, color=red, fontcolor=red];' \
  '  "log" [label="log\n(missing)", style=dashed, color=red, fontcolor=red];' \
  '  "app" -> "json" [label="^1.2"];' \
  '  "app" -> "kit" [label="dev", style=dotted];' \
  '  "app" -> "log" [label="optional >=2", style=dashed];' \
  '  "cli" -> "app";' \
  '}')" "$(cat "$TMP/out")"
if command -v dot >/dev/null 2>&1; then
  "$TPLUA" graph "$A" --format dot | dot -Tsvg >"$TMP/g.svg" 2>"$TMP/dot.err"
  check "dot: Graphviz renders it" "0|1" "$?|$(grep -c '<svg' "$TMP/g.svg")"
else
  n=$((n + 1)); echo "ok $n # SKIP Graphviz (dot) is not installed"
fi

run "$A" --format=json
check "json: exit 0" 0 "$rc"
got=$(lua5.4 -e '
  local r = require("cjson").decode(io.read("a"))
  print(r.ok, table.concat(r.load_order, ","), #r.edges, r.edges[2].to, r.edges[2].type, r.edges[2].present,
        #r.problems, #r.manifest_problems, r.plugins[1].id, r.plugins[1].dependencies.json.constraint)' <"$TMP/out" 2>&1)
check "json: ok, load_order, edges, problems, plugins" \
  "$(printf 'true\tjson,app,cli\t4\tkit\tdev\tfalse\t0\t0\tapp\t^1.2')" "$got"
first=$(cat "$TMP/out"); run "$A" --format json
check "json: the same bytes every time (sorted keys)" "$first" "$(cat "$TMP/out")"

run "$A" --include-dev
check "--include-dev: a missing dev dependency is a problem, exit 1" \
  "1|  app requires kit * (dev), which is not in the graph" "$rc|$(tail -n 1 "$TMP/out")"

B=$TMP/b
plugin "$B" json 1.2.0
plugin "$B" app 2.0.0 '{json = "^2"}'
run "$A" "$B"
check "two roots: the highest version of each plugin, a version problem, exit 1" "1" "$rc"
check "two roots: the other versions are listed" "$(printf '%s\n' \
  "also found (a higher version is in the graph):" \
  "  app 1.0.0  $A/app" \
  "  json 1.2.0  $B/json" \
  "problems (1):" \
  "  app requires json ^2, but json is 1.4.0")" "$(tail -n 5 "$TMP/out")"

C=$TMP/c
plugin "$C" p 1.0.0 '{q = "*"}'
plugin "$C" q 1.0.0 '{p = "*"}'
plugin "$C" r 1.0.0 '{gone = "^1"}'
plugin "$C" broken 1.0
run "$C"
check "cycles, missing and broken manifests: exit 1" 1 "$rc"
check "... each reported, the plugins listed without a load order" "$(printf '%s\n' \
  "plugins (3; no load order, the problems below prevent one):" \
  "    1  p 1.0.0  $C/p" \
  "    2  q 1.0.0  $C/q" \
  "    3  r 1.0.0  $C/r" \
  "dependencies:" \
  "  p -> q *" \
  "  q -> p *" \
  "  r -> gone ^1 (absent)" \
  "problems (3):" \
  "  dependency cycle p -> q -> p" \
  "  r requires gone ^1, which is not in the graph" \
  "  $C/broken/plugin.lua:3: version: invalid version \"1.0\" at column 4: expected '.' and a patch version number, found end of input")" \
  "$(cat "$TMP/out")"
run "$C" --format dot
check "dot with problems: exit 1, the problems on stderr" "1|3" "$rc|$(grep -c '^tplua: graph: ' "$TMP/err")"

run
check "no directory: usage error, exit 2" \
  "2|tplua: UsageError: graph: expected a plugin directory or a directory of plugin directories" \
  "$rc|$(head -n 1 "$TMP/err")"
run "$A" --format svg
check "an unknown format: exit 2" "2|tplua: UsageError: graph: --format expects text, dot or json, got 'svg'" \
  "$rc|$(head -n 1 "$TMP/err")"
run --bogus
check "an unknown option: exit 2" 2 "$rc"
run --tsort a b
check "--tsort takes one FILE at most: exit 2" 2 "$rc"
run "$TMP/nowhere"
check "a path that does not exist is a problem: exit 1" \
  "1|  $TMP/nowhere: cannot open: No such file or directory" "$rc|$(tail -n 1 "$TMP/out")"
"$TPLUA" graph --help >"$TMP/out" 2>&1
check "--help: usage first" "usage: tplua graph DIR... [--format text|dot|json] [--include-dev]" "$(head -n 1 "$TMP/out")"

echo "1..$n"
