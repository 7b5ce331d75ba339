-- The hot reload side of scripts/bench/reload.sh: from a file write to the
-- first call served by the new version, over N reloads.
--
--   lua5.4 scripts/bench/reload.lua DIR LEVEL N DEBOUNCE_MS
--
-- One plugin in DIR/plugins/p at isolation LEVEL (NONE: the development
-- preset; PROCESS: standard without signatures), watched by the manager
-- (enable_hot_reload, watch_for_changes). Each round writes main.lua with a
-- new return value, then calls the plugin every 0.5 ms until it answers
-- with it. Prints "reload<TAB>p50_ms<TAB>p99_ms<TAB>failed_calls".
local tp = require("truthound")
local sandbox = require("truthound.security.sandbox")
sandbox.set_warn(function() end)

local dir, level, n, debounce = arg[1], arg[2] or "NONE", tonumber(arg[3]) or 100, tonumber(arg[4]) or 10
local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end
os.execute(("mkdir -p '%s/plugins/p'"):format(dir))
write(dir .. "/plugins/p/plugin.lua", 'return {id = "p", version = "1.0.0", entry = "main"}\n')
local function module(i) write(dir .. "/plugins/p/main.lua", ("return {v = function() return %d end}\n"):format(i)) end
module(0)

local policy = level == "NONE" and "development" or
  tp.security.policies.create_policy{base = "standard", required_signatures = 0,
                                     require_trusted_signer = false, name = "bench"}
local m = tp.EnterprisePluginManager.new{plugin_dirs = {dir .. "/plugins"}, require_signature = false,
  scan_entrypoints = false, default_security_policy = policy, enable_hot_reload = true,
  watch_for_changes = true, reload = {debounce_ms = debounce}}
m:set_warn(function() end)
m:discover_plugins()
assert(m:load("p"))
local p = m:get_plugin("p")
local times, failed = {}, 0
local t = tp.spawn(function()
  tp.sleep(50)
  for i = 1, n do
    local t0 = tp.now()
    module(i)
    while true do
      local ok, v = pcall(p.call, p, "v")
      if not ok then failed = failed + 1 elseif v == i then break end
      tp.sleep(0.5)
    end
    times[#times + 1] = tp.now() - t0
    tp.sleep(debounce + 5)     -- let the watch settle before the next write
  end
end)
tp.run()
t:wait()
table.sort(times)
print(("reload\t%.2f\t%.2f\t%d"):format(times[math.max(1, math.floor(#times * 0.5))],
      times[math.max(1, math.floor(#times * 0.99))], failed))
m:shutdown()
m:close()
