#!/bin/sh
# The sandbox engines as whole programs: workers die with their host
# (PDEATHSIG), leave no process or cgroup behind after cleanup, and a host
# killed mid-call takes its workers along. TAP.
set -u
LUA=${LUA:-lua5.4}
B=${B:-build}
export LUA_PATH="${LUA_PATH:-$PWD/lua/?.lua;$PWD/lua/?/init.lua;;}"
export LUA_CPATH="${LUA_CPATH:-$PWD/$B/?.so;;}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0 killed=""
check() {  # check WHAT WANT GOT
  n=$((n + 1))
  if [ "$2" = "$3" ]; then echo "ok $n - $1"
  else echo "not ok $n - $1"; printf '%s\n' "wanted: $2" "got:    $3" | sed 's/^/# /'; fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

cat >"$TMP/host.lua" <<'LUA'
local sandbox = require("truthound.security.sandbox")
local security = require("truthound.security")
sandbox.set_warn(function() end)
local level, mode = ...
local ok, why = sandbox.SandboxFactory.is_available(level)
if not ok then print("unavailable", why) os.exit(0) end
local e = sandbox.SandboxFactory.create(level)
local p = security.SecurityPolicy.new{isolation_level = level, enforcement = "best_effort",
  required_signatures = 0, require_trusted_signer = false,
  resource_limits = {max_execution_time_sec = 30, max_memory_mb = 32}}
local ctx = e:create_sandbox("e2e", p, {pool_size = 2, pool_max = 2})
local pids = {}
for w in pairs(ctx.pool.all) do pids[#pids + 1] = w.pid end
print("workers", table.concat(pids, " "))
io.stdout:flush()
if mode == "hang" then
  e:execute(ctx, function() while true do end end)    -- killed from outside
elseif mode == "cleanup" then
  print("result", e:execute(ctx, function(a) return a * 2 end, 21))
  e:cleanup()
  print("done")
end
LUA

for level in PROCESS CONTAINER; do
  "$LUA" "$TMP/host.lua" "$level" cleanup >"$TMP/out" 2>"$TMP/err"
  if grep -q '^unavailable' "$TMP/out"; then
    skip "$level: $(sed -n 's/^unavailable\t//p' "$TMP/out")"
    skip "$level"; skip "$level"; skip "$level"
    continue
  fi
  check "$level: a call returns its result" "result	42" "$(grep '^result' "$TMP/out")"
  left=""
  for p in $(sed -n 's/^workers\t//p' "$TMP/out"); do alive "$p" && left="$left $p"; done
  check "$level: cleanup leaves no worker running" "" "$left"
  check "$level: cleanup leaves no cgroup" "" \
        "$(ls -d /sys/fs/cgroup/*/truthound-*-* /sys/fs/cgroup/memory/*/*/truthound-*-* 2>/dev/null |
           grep -- "-$(sed -n 's/^workers\t\([0-9]*\).*/\1/p' "$TMP/out")-" || true)"

  # A host killed mid-call: its workers die with it (PDEATHSIG / --die-with-parent).
  "$LUA" "$TMP/host.lua" "$level" hang >"$TMP/out2" 2>"$TMP/err2" &
  host=$!
  i=0
  while [ $i -lt 100 ] && ! grep -q "^workers" "$TMP/out2" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
  sleep 0.2
  kill -9 "$host" 2>/dev/null
  wait "$host" 2>/dev/null
  sleep 0.3
  left=""
  for p in $(sed -n 's/^workers\t//p' "$TMP/out2"); do alive "$p" && left="$left $p"; done
  check "$level: workers die with a killed host" "" "$left"
  killed="$killed $host"
done

# The groups a killed host left are removed by the next host that uses cgroups.
if [ -n "${killed:-}" ]; then
  "$LUA" -e 'require("truthound.security.sandbox.cgroup").usable()' 2>/dev/null
  stale=""
  for h in $killed; do
    ls -d /sys/fs/cgroup/*/truthound-"$h"-* /sys/fs/cgroup/memory/*/*/truthound-"$h"-* \
       >/dev/null 2>&1 && stale="$stale $h"
  done
  check "stale cgroups of killed hosts are swept" "" "$stale"
fi
# An engine module required on its own knows what the build applies: a
# strict policy is accepted without loading truthound.security.sandbox.
"$LUA" -e '
  local process = require("truthound.security.sandbox.process")
  local security = require("truthound.security")
  local ok, why = process.probe()
  if not ok then print("unavailable", why) return end
  local e = process.new{}
  local p = security.SecurityPolicy.new{isolation_level = "PROCESS",
    required_signatures = 0, require_trusted_signer = false,
    resource_limits = {max_execution_time_sec = 5, max_memory_mb = 32}}
  local ctx = e:create_sandbox("direct", p)
  print(e:execute(ctx, function(a) return a + 1 end, 41))
  e:cleanup()' >"$TMP/out" 2>"$TMP/err"
if grep -q '^unavailable' "$TMP/out"; then
  skip "PROCESS: $(sed -n 's/^unavailable\t//p' "$TMP/out")"
else
  check "an engine module required directly runs a strict policy" "42" \
        "$(cat "$TMP/out")$(head -c 300 "$TMP/err")"
fi

echo "1..$n"
