-- The manager's side of scripts/bench/manager.sh: N signed plugins in
-- PROCESS isolation, from EnterprisePluginManager.new to all ACTIVE.
--
--   lua5.4 scripts/bench/manager.lua DIR N
--
-- Makes DIR/plugins/p001..pNNN (every tenth starts a chain: p002 needs
-- p001, ... p010 needs p009), signs each with one Ed25519 key trusted in
-- DIR/trust.json, then prints "manager<TAB>ms<TAB>host_rss_kib<TAB>
-- worker_rss_kib_mean<TAB>active" for a run of discover_plugins +
-- load_all.
local core = require("truthound.native")
local signing = require("truthound.security.signing")
local sandbox = require("truthound.security.sandbox")
sandbox.set_warn(function() end)

local dir, n = arg[1], tonumber(arg[2]) or 100

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local key = core.crypto.generate("ED25519")
local store = signing.TrustStore.new{persist_path = dir .. "/trust.json"}
store:add_trusted_key(key:public_pem(), "bench", signing.TrustLevel.TRUSTED)
local svc = signing.SigningService.new{algorithm = "ED25519", signer_id = "bench", validity_days = 2}
os.execute(("mkdir -p '%s/plugins'"):format(dir))
for i = 1, n do
  local id = ("p%03d"):format(i)
  local p = dir .. "/plugins/" .. id
  os.execute(("mkdir -p '%s'"):format(p))
  local deps = (i % 10 ~= 1) and ('p%03d = "^1"'):format(i - 1) or ""
  write(p .. "/plugin.lua", ('return {id = %q, version = "1.0.0", entry = "main", ' ..
    'dependencies = {%s}, hooks = {"load", "activate"}}\n'):format(id, deps))
  write(p .. "/main.lua", "local M = {}\nfunction M.load() M.n = 0 end\n" ..
    "function M.activate() M.on = true end\nfunction M.ping() return 1 end\nreturn M\n")
  svc:sign{plugin_path = p, private_key = key, write = true}
end

local function rss(pid)
  local f = io.open(("/proc/%s/status"):format(pid))
  if not f then return nil end
  local kb = tonumber(f:read("a"):match("VmRSS:%s*(%d+)"))
  f:close()
  return kb
end

local manager = require("truthound.manager")
local t0 = core.loop.now()
local m = manager.EnterprisePluginManager.new{plugin_dirs = {dir .. "/plugins"},
  trust_store_path = dir .. "/trust.json", scan_entrypoints = false}
m:set_warn(function() end)
m:discover_plugins()
m:load_all()
local ms = core.loop.now() - t0
local active, wsum, wn = 0, 0, 0
for _, p in ipairs(m:list_plugins()) do
  if p.state == "ACTIVE" then active = active + 1 end
end
for _, rec in pairs(m.records) do
  for w in pairs(rec.ctx and rec.ctx.pool and rec.ctx.pool.all or {}) do
    local kb = rss(w.pid)
    if kb then wsum, wn = wsum + kb, wn + 1 end
  end
end
print(("manager\t%.1f\t%d\t%.0f\t%d"):format(ms, rss("self"), wn > 0 and wsum / wn or 0, active))
m:shutdown()
