#!/bin/sh
# tplua resolve: plugin directories (several roots, several versions),
# registry files, the explanation and exit 1, --json, --require, skipped
# manifests, the step budget, usage errors. The resolver itself is
# specified in tests/lua/resolver*_spec.lua.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
V=tests/vectors/resolve
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}
run() { "$TPLUA" resolve "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }

# plugin ROOT ID VERSION [DEPENDENCIES]: a plugin directory ROOT/ID
plugin() {
  mkdir -p "$1/$2"
  printf 'return {id = "%s", version = "%s", entry = "main", dependencies = {%s}}\n' "$2" "$3" "${4:-}" >"$1/$2/plugin.lua"
  echo 'return {}' >"$1/$2/main.lua"
}

run examples/plugins
check "the example plugins: exit 0" 0 "$rc"
check "selected versions in load order, with their directories" \
  "$(printf '%s\n' "selected 3 plugins (load order):" \
     "  greeter 1.0.0    $PWD/examples/plugins/greeter" \
     "  csv-stats 0.3.1  $PWD/examples/plugins/csv-stats" \
     "  report 1.1.0     $PWD/examples/plugins/report" \
     "warning: csv-stats 0.3.1: optional dependency log.core is missing")" "$(cat "$TMP/out")"

# Two roots hold two versions of json; app's newest needs the older json.
plugin "$TMP/old" json 1.4.0
plugin "$TMP/new" json 2.0.0
plugin "$TMP/new" app 3.0.0 'json = "^1.2"'
plugin "$TMP/new" cli 1.0.0 'app = ">=3"'
run "$TMP/new" "$TMP/old"
check "several roots: the version that works, from its own directory" \
  "$(printf '%s\n' "selected 3 plugins (load order):" "  json 1.4.0  $TMP/old/json" \
     "  app 3.0.0   $TMP/new/app" "  cli 1.0.0   $TMP/new/cli")|0" "$(cat "$TMP/out")|$rc"

plugin "$TMP/new" web 1.0.0 'json = "^2"'
run "$TMP/new" "$TMP/old"
check "no selection works: the explanation, exit 1" \
  "$(printf '%s\n' "Because web 1.0.0 depends on json ^2 and app 3.0.0 depends on json ^1.2, web 1.0.0 is incompatible with app 3.0.0." \
     "So, because app and web are required, version solving failed.")|1" "$(cat "$TMP/out")|$rc"

run --json "$TMP/new" "$TMP/old"
got=$(lua5.4 -e '
  local r = require("cjson").decode(io.read("a"))
  print(r.success, #r.conflicts, r.conflicts[1].kind, r.conflicts[1].id, r.conflicts[1].dependency,
        r.conflicts[1].constraint, r.explanation:match("version solving failed%.$") ~= nil)' <"$TMP/out" 2>&1)
check "--json: the failure and its facts" "$(printf 'false\t4\tdependency\tweb\tjson\t^2\ttrue')" "$got"

run --require 'cli' --require 'json <2' "$TMP/new" "$TMP/old"
check "--require: only what the requirements need" \
  "$(printf '%s\n' "selected 3 plugins (load order):" "  json 1.4.0  $TMP/old/json" \
     "  app 3.0.0   $TMP/new/app" "  cli 1.0.0   $TMP/new/cli")|0" "$(cat "$TMP/out")|$rc"

run --json --require 'p0 0.0.0' $V/pubgrub_large_case_u16.lua
got=$(lua5.4 -e '
  local r = require("cjson").decode(io.read("a"))
  local n = 0 for _ in pairs(r.selected) do n = n + 1 end
  print(r.success, r.selected.p0, n, #r.load_order)' <"$TMP/out" 2>&1)
check "a registry file: the pubgrub hard case from p0 0.0.0" "$(printf 'true\t0.0.0\t52\t52')|0" "$got|$rc"

# Each tplua process hashes strings with a seed of its own, so pairs()
# visits dependency tables (and cjson writes keys) in another order each
# run: the result must not change.
canon() {  # the decoded result, keys sorted
  lua5.4 -e '
    local function show(v)
      if type(v) ~= "table" then return tostring(v) end
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      local out = {}
      for _, k in ipairs(keys) do out[#out + 1] = tostring(k) .. "=" .. show(v[k]) end
      return "{" .. table.concat(out, ",") .. "}"
    end
    print(show(require("cjson").decode(io.read("a"))))' <"$1" 2>&1
}
for i in 1 2 3; do
  "$TPLUA" resolve --json --require ui --require 'core ^2' $V/tangled.lua >"$TMP/det$i" 2>&1
done
check "deterministic across processes: the same result, facts, steps and explanation" \
  "$(canon "$TMP/det1")|$(canon "$TMP/det1")" "$(canon "$TMP/det2")|$(canon "$TMP/det3")"
check "the tangled registry: ten lines of explanation" 10 "$(lua5.4 -e '
  local r = require("cjson").decode(io.read("a")) local _, n = r.explanation:gsub("\n", "") print(n + 1)' <"$TMP/det1" 2>&1)"

run --max-steps 20 --require 'p0 0.0.0' $V/pubgrub_large_case_u16.lua
check "past the step budget: too complex, exit 3" \
  "3|tplua: DependencyError: resolve: too complex: gave up after 21 steps (max_steps = 20); pin some versions with requirements, or raise max_steps" \
  "$rc|$(head -n 1 "$TMP/err")"

mkdir -p "$TMP/bad/broken"
printf 'return {id = "broken", version = "1.2"}\n' >"$TMP/bad/broken/plugin.lua"
plugin "$TMP/bad" fine 1.0.0
run "$TMP/bad"
check "a manifest that fails is skipped, with its problems on stderr" \
  "0|selected 1 plugin (load order):|tplua resolve: skipped: $TMP/bad/broken/plugin.lua:1: version: invalid version \"1.2\" at column 4: expected '.' and a patch version number, found end of input" \
  "$rc|$(head -n 1 "$TMP/out")|$(head -n 1 "$TMP/err")"

printf 'return {a = {["1.0"] = {}}}\n' >"$TMP/reg.lua"
run "$TMP/reg.lua"
check "a registry with problems and nothing else: exit 1, the problems" \
  "1|tplua resolve: $TMP/reg.lua:1: a[\"1.0\"]: invalid version \"1.0\" at column 4: expected '.' and a patch version number, found end of input" \
  "$rc|$(head -n 1 "$TMP/err")"

run
check "no path: usage error, exit 2" \
  "2|tplua: UsageError: resolve: expected a plugin directory, a directory of them or a registry file" "$rc|$(head -n 1 "$TMP/err")"
run --frobnicate x
check "an unknown option: exit 2" 2 "$rc"
run --require
check "--require without a value: exit 2" 2 "$rc"
echo "1..$n"
