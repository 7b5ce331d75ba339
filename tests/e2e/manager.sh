#!/bin/sh
# The plugin manager end to end, through `tplua run` (docs/manager.md):
# unsigned and tampered plugins are refused before a byte of them runs,
# one plugin failing leaves the others running, dependency cycles and
# version conflicts are refused with the resolver's explanation, SIGTERM
# shuts down in reverse dependency order with a complete audit log, a
# second signal forces, --json.
#
#   TPLUA=$PWD/build/tplua sh tests/e2e/manager.sh      (from the repo root)
set -u
cd "$(dirname "$0")/../.." || exit 1
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tplua-manager.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
chmod 755 "$TMP"       # the workers run as nobody when the tests run as root
unset LUA_INIT LUA_INIT_5_4

TAB=$(printf '\t')
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
  n=$((n + 1)); echo "not ok $n - $1"; shift
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}
# check WHAT WANT GOT
check() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "wanted: $2" "got:    $3"; fi
}
# row WHAT FILE ID VERSION STATE: the summary table has that row
row() {
  if grep -qE "^$3 +$4 +$5( |\$)" "$2"; then pass "$1"; else fail "$1" "no row '$3 $4 $5' in:" "$(cat "$2")"; fi
}
# has WHAT FILE TEXT: the file holds the text (fixed string)
has() {
  if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1" "no '$3' in:" "$(cat "$2")"; fi
}

"$TPLUA" keygen --algorithm ed25519 --out "$TMP/signer" >/dev/null
"$TPLUA" trust add "$TMP/signer.pub" --signer tester --level trusted --store "$TMP/trust.json" >/dev/null

# plugin DIR ID VERSION DEPS HOOKS BODY: a plugin directory DIR/ID whose
# entry module is main.lua with BODY between "local M = {}" and "return M".
plugin() {
  mkdir -p "$1/$2"
  printf 'return {id = "%s", version = "%s", entry = "main",\n  dependencies = {%s}, hooks = {%s}}\n' \
    "$2" "$3" "$4" "$5" >"$1/$2/plugin.lua"
  printf 'local M = {}\n%s\nreturn M\n' "$6" >"$1/$2/main.lua"
}
sign() { "$TPLUA" sign "$1" --key "$TMP/signer.key" --signer tester --expires 2d >/dev/null; }

# app FILE PLUGIN_DIR MAIN [EXTRA]: an application manifest.
app() {
  cat >"$1" <<EOF
return {
  name = "e2e",
  plugin_dirs = {"$2"},
  trust_store_path = "$TMP/trust.json",
  audit_log = "$1.audit",
  require_signature = true,
  ${4:-}
  main = function(manager, app)
    $3
  end,
}
EOF
}
run() { "$TPLUA" run "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }

# --- Unsigned and tampered plugins are refused, unread ----------------------
P=$TMP/p1
plugin "$P" good 1.0.0 '' '"activate"' 'function M.activate() end
function M.hi() return "hi" end'
sign "$P/good"
# plugin.lua and the module would each leave a marker if anything ran them
mkdir -p "$P/evil"
cat >"$P/evil/plugin.lua" <<EOF
local f = io.open("$TMP/marker-manifest", "w") f:write("ran") f:close()
return {id = "evil", version = "1.0.0", entry = "main", hooks = {"load"}}
EOF
printf 'io.open("%s", "w"):write("ran")\nreturn {load = function() end}\n' "$TMP/marker-module" >"$P/evil/main.lua"
plugin "$P" tampered 1.0.0 '' '"load"' 'function M.load() end'
sign "$P/tampered"
printf 'io.open("%s", "w"):write("ran")\nreturn {load = function() end}\n' "$TMP/marker-tampered" >"$P/tampered/main.lua"
app "$TMP/a1.lua" "$P" 'print("good:", manager:get_plugin("good"):call("hi"))' 'auto_load = true,'
run "$TMP/a1.lua"
check "unsigned/tampered: tplua run exits 0, the good plugin serves" "0|good:${TAB}hi" "$rc|$(grep '^good:' "$TMP/out")"
has "the unsigned plugin is refused for its missing signature" "$TMP/err" \
  "tplua: refused plugin evil ($P/evil): SignatureError: $P/evil/plugin.sig: the plugin is not signed (no plugin.sig)"
has "the tampered plugin is refused for its digest" "$TMP/err" "tplua: refused plugin tampered ($P/tampered): SignatureTamperError"
if [ ! -e "$TMP/marker-manifest" ] && [ ! -e "$TMP/marker-module" ] && [ ! -e "$TMP/marker-tampered" ]; then
  pass "no byte of a refused plugin ran: no marker file"
else
  fail "no byte of a refused plugin ran: no marker file" "$(ls "$TMP"/marker-* 2>&1)"
fi
row "the summary lists the refused plugins" "$TMP/out" evil - REFUSED
has "the audit log has the refusal" "$TMP/a1.lua.audit" '"event":"refused"'
has "the audit log has the verification verdict" "$TMP/a1.lua.audit" '"event":"verified"'

# --- Verified, then swapped on disk: the verified copy runs --------------------
P=$TMP/p6
plugin "$P" swap 1.0.0 '' '' 'function M.who() return "verified" end'
sign "$P/swap"
app "$TMP/a6.lua" "$P" 'local f = io.open("'"$P"'/swap/main.lua", "w")
    f:write("return {who = function() return \"swapped\" end}")
    f:close()
    manager:load("swap")
    print("who:", manager:get_plugin("swap"):call("who"))'
run "$TMP/a6.lua"
check "a plugin swapped after verification: the verified copy runs" "0|who:${TAB}verified" \
  "$rc|$(grep '^who:' "$TMP/out")"
staged=$(lua5.4 -e '
  for line in io.lines() do
    local r = require("cjson").decode(line)
    if r.event == "discovered" and r.staged then print(r.staged) end
  end' <"$TMP/a6.lua.audit")
case $staged in
  */[0-9]*/swap)
    root=${staged%/*/swap}
    if [ ! -e "$root" ]; then pass "the plugin ran from a staged copy, removed at exit"
    else fail "the plugin ran from a staged copy, removed at exit" "$root is still there"; fi ;;
  *) fail "the plugin ran from a staged copy, removed at exit" "staged: '$staged'" ;;
esac

# --- One failing plugin: ERROR; its dependent is not activated; the rest run
P=$TMP/p2
plugin "$P" base 1.0.0 '' '"activate"' 'function M.activate() end
function M.ping() return "pong" end'
plugin "$P" broken 1.0.0 '' '"activate"' 'function M.activate() error("activate refuses", 0) end'
plugin "$P" needy 1.0.0 'broken = "^1"' '"activate"' 'function M.activate() end'
plugin "$P" other 2.0.0 'base = "^1"' '"activate"' 'function M.activate() end
function M.ping() return "other pong" end'
for p in base broken needy other; do sign "$P/$p"; done
app "$TMP/a2.lua" "$P" 'print("base:", manager:get_plugin("base"):call("ping"))
    print("other:", manager:get_plugin("other"):call("ping"))
    local ok, e = pcall(manager.get_plugin(manager, "broken").call, manager:get_plugin("broken"), "x")
    print("broken call:", tostring(e))' 'auto_load = true,'
run "$TMP/a2.lua"
check "a failing activate: exit 0, the others serve" "0|base:${TAB}pong|other:${TAB}other pong" \
  "$rc|$(grep '^base:' "$TMP/out")|$(grep '^other:' "$TMP/out")"
row "the failing plugin is in ERROR" "$TMP/out" broken 1.0.0 ERROR
has "... the reason is the hook's error" "$TMP/out" "activate refuses"
row "its dependent is not loaded" "$TMP/out" needy 1.0.0 DISCOVERED
has "... and the summary says why" "$TMP/out" "not loaded: its dependency broken is in ERROR"
has "the plugin in ERROR takes no calls, and says why" "$TMP/out" \
  "broken call:${TAB}PluginError: plugin broken is ERROR, not ACTIVE: it takes no calls"
row "the others are ACTIVE" "$TMP/out" other 2.0.0 ACTIVE

# --- Dependency cycle and version conflict: refused with the explanation -----
P=$TMP/p3
plugin "$P" ying 1.0.0 'yang = "^1"' '' ''
plugin "$P" yang 1.0.0 'ying = "^1"' '' ''
plugin "$P" lib 1.0.0 '' '' ''
plugin "$P" lib2user 1.0.0 'lib = "^2"' '' ''
for p in ying yang lib lib2user; do sign "$P/$p"; done
app "$TMP/a3.lua" "$P" 'for _, id in ipairs({"ying", "lib2user"}) do
      local ok, e = pcall(manager.load, manager, id)
      print(id, ok, tostring(e))
    end
    print("lib still loads:", manager:load("lib"))'
run "$TMP/a3.lua"
if grep -qE "The selected plugins depend on each other in a cycle: (ying -> yang -> ying|yang -> ying -> yang)\.$" "$TMP/out"; then
  pass "a dependency cycle is refused with the resolver's explanation"
else
  fail "a dependency cycle is refused with the resolver's explanation" "$(cat "$TMP/out")"
fi
has "... as a DependencyError" "$TMP/out" "ying${TAB}false${TAB}DependencyError: cannot load ying:"
has "a version conflict is refused with the explanation" "$TMP/out" "lib2user 1.0.0 depends on lib ^2"
has "... and the rest still loads" "$TMP/out" "lib still loads:${TAB}true"
check "... tplua run exits 0" 0 "$rc"

# --- SIGTERM: reverse dependency order, audit complete, exit 0 ----------------
P=$TMP/p4
plugin "$P" root 1.0.0 '' '"activate", "deactivate", "unload"' 'function M.activate() end
function M.deactivate() end
function M.unload() end'
plugin "$P" mid 1.0.0 'root = "^1"' '"activate", "deactivate"' 'function M.activate() end
function M.deactivate() end'
plugin "$P" top 1.0.0 'mid = "^1"' '"activate"' 'function M.activate() end'
for p in root mid top; do sign "$P/$p"; done
app "$TMP/a4.lua" "$P" 'manager:load("top")
    io.open("'"$TMP"'/ready", "w"):close()
    tp.sleep(60000)
    print("main was not cancelled")'
rm -f "$TMP/ready"
"$TPLUA" run "$TMP/a4.lua" >"$TMP/out" 2>"$TMP/err" &
pid=$!
i=0
while [ ! -e "$TMP/ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$pid"
wait "$pid"
rc=$?
check "SIGTERM: exit 0" 0 "$rc"
if grep -q "main was not cancelled" "$TMP/out"; then fail "SIGTERM stops main" "$(cat "$TMP/out")"
else pass "SIGTERM stops main"; fi
order=$(lua5.4 -e '
  local cjson = require("cjson")
  local seen = {}
  for line in io.lines() do
    local r = cjson.decode(line)
    if r.event == "transition" and r.to == "UNLOADED" then seen[#seen + 1] = r.plugin_id end
  end
  print(table.concat(seen, " "))' <"$TMP/a4.lua.audit")
check "SIGTERM: unloaded in reverse dependency order" "top mid root" "$order"
has "SIGTERM: the audit log records the signal" "$TMP/a4.lua.audit" '"signal":"TERM"'
has "SIGTERM: the audit log ends with a clean stop" "$TMP/a4.lua.audit" '"event":"manager_stopped"'
has "SIGTERM: the summary says so" "$TMP/out" "shut down cleanly"

# --- A second signal forces ------------------------------------------------
P=$TMP/p5
plugin "$P" stuck 1.0.0 '' '"activate", "deactivate"' 'function M.activate() end
function M.deactivate() while true do end end'
sign "$P/stuck"
app "$TMP/a5.lua" "$P" 'manager:load("stuck")
    io.open("'"$TMP"'/ready5", "w"):close()
    tp.sleep(60000)' 'shutdown_grace_ms = 60000,'
"$TPLUA" run "$TMP/a5.lua" >"$TMP/out" 2>"$TMP/err" &
pid=$!
i=0
while [ ! -e "$TMP/ready5" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$pid"
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
check "a second signal during the shutdown forces: exit 128 + SIGINT" 130 "$rc"
has "... and says so" "$TMP/err" "tplua: SIGINT again: stopping every plugin now"

# --- --json -----------------------------------------------------------------
run --json "$TMP/a1.lua"
got=$(sed -n '$p' "$TMP/out" | lua5.4 -e '
  local r = require("cjson").decode(io.read("a"))
  local ids = {}
  for _, p in ipairs(r.plugins) do ids[#ids + 1] = p.id .. "=" .. p.state end
  for _, p in ipairs(r.refused) do ids[#ids + 1] = p.id .. "=refused" end
  table.sort(ids)
  print(table.concat(ids, " "), r.clean)' 2>&1)
check "--json: one document with plugins, refused, clean" "evil=refused good=ACTIVE tampered=refused${TAB}true" "$got"

echo "1..$n"
