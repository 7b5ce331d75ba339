-- The sandbox engines' side of scripts/bench/sandbox.sh. Prints lines
-- "name<TAB>value..." (microseconds unless said).
--
--   lua5.4 scripts/bench/sandbox.lua none N           none_us pcall_us (mean per call)
--   lua5.4 scripts/bench/sandbox.lua warm LEVEL N [CPU]   p50 p99 of a warm call
--   lua5.4 scripts/bench/sandbox.lua fresh LEVEL N    p50 p99 of a call on a fresh worker
--   lua5.4 scripts/bench/sandbox.lua rss LEVEL K      mean RSS (KiB) of K idle workers

local sandbox = require("truthound.security.sandbox")
local security = require("truthound.security")
local core = require("truthound.native")
sandbox.set_warn(function() end)

local mode, a, b, c = ...
local now = core.loop.now

local function policy(level)
  return security.SecurityPolicy.new{isolation_level = level, enforcement = "best_effort",
    required_signatures = 0, require_trusted_signer = false,
    resource_limits = {max_execution_time_sec = 10, max_memory_mb = 64}}
end

local function pct(t)
  table.sort(t)
  return t[math.max(1, math.floor(#t * 0.5))] * 1000, t[math.max(1, math.floor(#t * 0.99))] * 1000
end

local function add(x, y) return x + y end

if mode == "none" then
  local n = tonumber(a) or 100000
  local e = sandbox.SandboxFactory.create("NONE")
  local ctx = e:create_sandbox("bench", policy("NONE"))
  local best_sb, best_pc = math.huge, math.huge
  for _ = 1, 3 do
    local t0 = now()
    for i = 1, n do e:execute(ctx, add, i, 1) end
    best_sb = math.min(best_sb, (now() - t0) * 1000 / n)
    t0 = now()
    for i = 1, n do pcall(add, i, 1) end
    best_pc = math.min(best_pc, (now() - t0) * 1000 / n)
  end
  print(("none\t%.3f\t%.3f"):format(best_sb, best_pc))
elseif mode == "warm" or mode == "fresh" then
  local level, n = a, tonumber(b) or 2000
  local e = sandbox.SandboxFactory.create(level)
  local ctx = e:create_sandbox("bench", policy(level),
                               {reuse = mode == "warm", cpu = tonumber(c)})
  for i = 1, (mode == "warm" and 200 or 5) do e:execute(ctx, add, i, 1) end
  local t = {}
  for i = 1, n do
    local t0 = now()
    e:execute(ctx, add, i, 1)
    t[i] = now() - t0
  end
  print(("%s\t%.2f\t%.2f"):format(mode, pct(t)))
  e:cleanup()
elseif mode == "rss" then
  local level, k = a, tonumber(b) or 4
  local e = sandbox.SandboxFactory.create(level)
  local ctx = e:create_sandbox("bench", policy(level), {pool_size = k, pool_max = k})
  local sum, seen = 0, 0
  for w in pairs(ctx.pool.all) do
    local f = io.open("/proc/" .. w.pid .. "/status")
    if f then
      local kb = tonumber(f:read("a"):match("VmRSS:%s*(%d+)"))
      f:close()
      -- CONTAINER: the worker is bwrap's child; measure it, not bwrap
      if level == "CONTAINER" then
        local ch = io.open(("/proc/%d/task/%d/children"):format(w.pid, w.pid))
        local cpid = ch and ch:read("a"):match("%d+")
        if ch then ch:close() end
        local g = cpid and io.open("/proc/" .. cpid .. "/status")
        if g then kb = tonumber(g:read("a"):match("VmRSS:%s*(%d+)")); g:close() end
      end
      if kb then sum, seen = sum + kb, seen + 1 end
    end
  end
  print(("rss\t%.0f\t%d"):format(seen > 0 and sum / seen or 0, seen))
  e:cleanup()
end
