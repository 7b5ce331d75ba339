#!/bin/sh
# Hot reload end to end (docs/hot-reload.md): tplua run with
# enable_hot_reload and watch_for_changes, a signed PROCESS plugin served
# by a client loop while its files are edited: a new return value is seen;
# a syntax error, a failing activate, a bad signature, a version conflict
# and a deleted file each roll back with the old version serving; 20 rapid
# saves are one reload.
#
#   TPLUA=$PWD/build/tplua sh tests/e2e/hot_reload.sh      (from the repo root)
set -u
cd "$(dirname "$0")/../.." || exit 1
TPLUA=${TPLUA:-$PWD/build/tplua}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tplua-reload.XXXXXX") || exit 1
pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
chmod 755 "$TMP"
unset LUA_INIT LUA_INIT_5_4

n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
  n=$((n + 1)); echo "not ok $n - $1"; shift
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
}

"$TPLUA" keygen --algorithm ed25519 --out "$TMP/signer" >/dev/null
"$TPLUA" trust add "$TMP/signer.pub" --signer tester --level trusted --store "$TMP/trust.json" >/dev/null
sign() { "$TPLUA" sign "$TMP/plugins/$1" --key "$TMP/signer.key" --signer tester --expires 2d >/dev/null; }

P=$TMP/plugins
mkdir -p "$P/p" "$P/dep"
# manifest VERSION [HOOKS]; module VALUE [EXTRA]
manifest() {
  printf 'return {id = "p", version = "%s", entry = "main", hooks = {%s}}\n' "$1" "${2:-}" >"$P/p/plugin.lua"
}
module() { printf 'local M = {}\nfunction M.v() return "%s" end\n%s\nreturn M\n' "$1" "${2:-}" >"$P/p/main.lua"; }
manifest 1.0.0; module v1; sign p
printf 'return {id = "dep", version = "1.0.0", entry = "main", dependencies = {p = "^1"}}\n' >"$P/dep/plugin.lua"
printf 'return {}\n' >"$P/dep/main.lua"
sign dep

cat >"$TMP/app.lua" <<EOF
return {
  plugin_dirs = {"plugins"}, trust_store_path = "trust.json", audit_log = "audit.jsonl",
  auto_load = true, enable_hot_reload = true, watch_for_changes = true,
  reload = {debounce_ms = 300},
  main = function(manager)
    local p = manager:get_plugin("p")
    local last
    while not io.open("$TMP/stop") do
      local ok, v = pcall(p.call, p, "v")
      v = ok and v or ("error: " .. tostring(v))
      if v ~= last then
        local f = io.open("$TMP/served", "a") f:write(v, "\n") f:close()
        last = v
      end
      tp.sleep(5)
    end
  end,
}
EOF

# wait_served VALUE: until the client's last answer is VALUE (15 s at most)
wait_served() {
  i=0
  while [ "$(tail -n 1 "$TMP/served" 2>/dev/null)" != "$1" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$(tail -n 1 "$TMP/served" 2>/dev/null)" = "$1" ]
}
# reloads: "ok" and "rolled back" counts from the audit log
reloads() {
  lua5.4 -e '
    local ok, back = 0, 0
    for line in io.lines() do
      local r = require("cjson").decode(line)
      if r.event == "reload" then
        if r.success then ok = ok + 1 elseif r.rolled_back then back = back + 1 end
      end
    end
    print(ok .. " " .. back)' <"$TMP/audit.jsonl"
}
# wait_reloads OK BACK: until the audit log has that many (15 s at most)
wait_reloads() {
  i=0
  while [ "$(reloads)" != "$1 $2" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$(reloads)" = "$1 $2" ]
}
last_reason() {
  lua5.4 -e '
    local reason
    for line in io.lines() do
      local r = require("cjson").decode(line)
      if r.event == "reload" and r.rolled_back then reason = r.reason end
    end
    print(reason)' <"$TMP/audit.jsonl"
}
# rollback WHAT OK BACK PATTERN: the reload rolled back, for PATTERN, and
# the old version still answers
rollback() {
  if wait_reloads "$2" "$3" && last_reason | grep -q -- "$4" && [ "$(tail -n 1 "$TMP/served")" = "$5" ]; then
    pass "$1: rolled back, $5 still serving"
  else
    fail "$1: rolled back, $5 still serving" "reloads $(reloads) (wanted $2 $3)" \
      "reason: $(last_reason)" "served: $(tail -n 3 "$TMP/served")"
  fi
}

(cd "$TMP" && exec "$TPLUA" run app.lua >"$TMP/out" 2>"$TMP/err") &
pid=$!

if wait_served v1; then pass "the plugin serves v1"; else fail "the plugin serves v1" "$(cat "$TMP/err")"; fi

module v2; sign p
if wait_served v2 && [ "$(reloads)" = "1 0" ]; then pass "an edited return value is seen by the next calls"
else fail "an edited return value is seen by the next calls" "reloads $(reloads)" "$(tail -n 3 "$TMP/served")"; fi

printf 'local M = {\n' >"$P/p/main.lua"; sign p
rollback "a syntax error" 1 1 "unexpected symbol" v2

module v3; sign p
if wait_served v3; then pass "a fixed version reloads after a failed one"; else fail "a fixed version reloads after a failed one"; fi

manifest 1.0.1 '"activate"'; module v4 'function M.activate() error("activate refuses", 0) end'; sign p
rollback "a failing activate" 2 2 "activate refuses" v3

manifest 1.0.2; module unsigned          # not signed again
rollback "a bad signature" 2 3 "SignatureTamperError" v3

manifest 2.0.0; module v5; sign p
rollback "a version its dependent excludes" 2 4 "dep 1.0.0 depends on p ^1" v3

rm "$P/p/main.lua"
rollback "a deleted file" 2 5 "SignatureTamperError" v3
manifest 1.1.0; module v6; sign p
if wait_served v6 && wait_reloads 3 5; then pass "the restored file reloads"
else fail "the restored file reloads" "reloads $(reloads)" "$(tail -n 3 "$TMP/served")"; fi

i=1
while [ $i -le 20 ]; do module "v7-$i"; i=$((i + 1)); done
sign p
if wait_served v7-20 && sleep 1 && [ "$(reloads)" = "4 5" ]; then pass "20 rapid saves are one reload"
else fail "20 rapid saves are one reload" "reloads $(reloads) (wanted 4 5)"; fi

if grep -q '^error:' "$TMP/served"; then fail "no call failed during the reloads" "$(grep '^error:' "$TMP/served")"
else pass "no call failed during the reloads"; fi

if grep -q "reload failed: SignatureTamperError" "$TMP/err"; then pass "a rolled-back reload is reported on stderr"
else fail "a rolled-back reload is reported on stderr" "$(cat "$TMP/err")"; fi

touch "$TMP/stop"
wait "$pid"
rc=$?
pid=""
if [ "$rc" = 0 ]; then pass "tplua run exits 0"; else fail "tplua run exits 0" "exit $rc" "$(cat "$TMP/err")"; fi

echo "1..$n"
