#!/bin/sh
# tplua check: policy files and plugin directories, text and JSON, exit
# codes. The validation itself is specified in tests/lua/policy*_spec.lua
# and manifest_spec.lua; this checks the command around it.
set -u
TPLUA=${TPLUA:-$PWD/build/tplua}
V=tests/vectors
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}
run() { "$TPLUA" check "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }

run $V/policies/good/flat.lua $V/manifests/good/hello policies/strict.lua
check "valid files: exit 0" 0 "$rc"
check "valid files: one ok line each" \
  "$(printf '%s\n' "$V/policies/good/flat.lua: ok (policy, PROCESS isolation)" \
     "$V/manifests/good/hello: ok (plugin hello 1.2.0-beta.1+build.7)" \
     "policies/strict.lua: ok (policy, CONTAINER isolation)")" "$(cat "$TMP/out")"

run $V/policies/bad/conflicts.lua $V/policies/good/flat.lua
check "a bad policy: exit 1" 1 "$rc"
check "every problem as file:line: key: message, then a count" \
  "$(printf '%s\n' \
  "$V/policies/bad/conflicts.lua:3: writable_paths: lists writable paths, but allow_file_write is false; set allow_file_write = true, or remove the paths" \
  "$V/policies/bad/conflicts.lua:5: require_trusted_signer: has no effect while required_signatures is 0; require at least 1 signature, or set false" \
  "$V/policies/bad/conflicts.lua:6: signature_max_age_days: has no effect while required_signatures is 0; require at least 1 signature, or set false for no limit" \
  "$V/policies/bad/conflicts.lua:9: resource_limits.max_memory_mb: given twice: here and as the top-level key 'max_memory_mb' (line 7); write it once" \
  "$V/policies/good/flat.lua: ok (policy, PROCESS isolation)" \
  "4 problems in 1 of 2 files")" "$(cat "$TMP/out")"

run $V/manifests/bad/everything/plugin.lua
check "plugin.lua names its plugin directory: exit 1" 1 "$rc"
check "all 17 manifest problems, then the count" "17 problems in 1 of 1 file" "$(tail -n 1 "$TMP/out")"
check "manifest problems carry file:line: key" \
  "$V/manifests/bad/everything/plugin.lua:2: id: expected a lowercase letter or digit at column 1, found 'E'" \
  "$(head -n 1 "$TMP/out")"

run /nonexistent/policy.lua
check "a missing file is a problem, not a crash" \
  "/nonexistent/policy.lua: cannot open: No such file or directory|1" "$(head -n 1 "$TMP/out")|$rc"

printf 'while true do end\n' >"$TMP/loop.lua"
run "$TMP/loop.lua"
check "an endless policy is stopped by its budget" \
  "$TMP/loop.lua:1: ran past its budget of 1000000 instructions (an endless loop?)|1" "$(head -n 1 "$TMP/out")|$rc"

run --json $V/policies/bad/conflicts.lua $V/manifests/good/hello
check "--json: exit 1 with problems" 1 "$rc"
got=$(lua5.4 -e '
  local r = require("cjson").decode(io.read("a"))
  local f1, f2 = r.files[1], r.files[2]
  print(math.tointeger(r.problems), f1.kind, f1.ok, #f1.problems, math.tointeger(f1.problems[1].line), f1.problems[1].field,
        f2.kind, f2.ok, f2.manifest.id, f2.manifest.dependencies.json.constraint)' <"$TMP/out" 2>&1)
check "--json: problems, kinds and records decode" \
  "$(printf '4\tpolicy\tfalse\t4\t3\twritable_paths\tmanifest\ttrue\thello\t^1.2')" "$got"

run --explain policies/standard.lua
check "--explain: exit 0 for a valid policy" 0 "$rc"
check "--explain: names the mechanism for each field and why it is not applied yet" \
  "1" "$(grep -c '^  resource_limits.max_memory_mb  *512  *Lua allocator cap: no engine in this build applies lua.alloc_cap yet$' "$TMP/out")"
run --json --explain policies/strict.lua
got=$(lua5.4 -e '
  local r = require("cjson").decode(io.read("a"))
  local rows = r.files[1].explain
  local found
  for _, row in ipairs(rows) do
    if row.field == "allow_network" and row.name == "netns" then found = row end
  end
  print(#rows > 10, found and found.implemented, found and found.available)' <"$TMP/out" 2>&1)
check "--json --explain: rows with mechanism, availability and implementation" \
  "$(printf 'true\tfalse\ttrue')" "$got"

run
check "no file: usage error, exit 2" \
  "2|tplua: UsageError: check: expected a policy file or a plugin directory" "$rc|$(head -n 1 "$TMP/err")"
run --frobnicate x.lua
check "an unknown option: exit 2" 2 "$rc"
echo "1..$n"
