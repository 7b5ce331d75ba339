-- examples/manifest.lua: the demo that `make run` runs (scripts/demo.sh
-- signs the three plugins in a copy of this directory, then):
--
--   tplua run build/demo/manifest.lua
--
-- An application manifest (docs/manager.md) is trusted Lua: it returns the
-- plugin manager's settings, lifecycle handlers and a main function that
-- tplua calls as a task of the truthound loop, with the global
-- tp = require("truthound"). Relative paths are read from this directory.

local CSV = [[
item,price,qty
apple,1.20,10
pear,0.80,4
fig,3.50,2
plum,0.95,12
]]

-- A hostile function in a sandbox of its own: the policy's time limit
-- stops the loop, the missing io stops the read, and the worker goes on.
local function show_sandbox()
  local security, sandbox = tp.security, require("truthound.security.sandbox")
  local policy = security.policies.create_policy{base = security.policies.STANDARD,
    required_signatures = 0, require_trusted_signer = false, max_execution_time_sec = "1s",
    max_memory_mb = "64MB"}
  local engine = sandbox.SandboxFactory.create(policy.isolation_level)
  local ctx = engine:create_sandbox("hostile", policy)
  local ok, e = pcall(engine.execute, engine, ctx, function() while true do end end)
  print(("  a function that loops: %s"):format(ok and "returned?!" or tostring(e)))
  local ok2, e2 = pcall(engine.execute, engine, ctx, function() return io.open("/etc/shadow") end)
  print(("  io, which the policy does not grant: %s"):format(ok2 and "allowed?!" or tostring(e2)))
  print("  and the sandbox still answers: " .. engine:execute(ctx, function(a, b) return a + b end, 40, 2))
  engine:terminate(ctx)
end

local function show_versions()
  local c = tp.versioning.parse_constraint("^1.2")
  local best = tp.versioning.max_satisfying({"1.1.0", "1.2.3", "1.4.0", "2.0.0"}, c)
  print(("  ^1.2 means %s; of 1.1.0 1.2.3 1.4.0 2.0.0 the best is %s"):format(tostring(c), best))
end

-- Three tasks sleep at once; main, itself a task, waits for them.
local function show_loop()
  local start, finished = tp.now(), {}
  for _, job in ipairs({{"slow", 60}, {"fast", 20}, {"medium", 40}}) do
    tp.spawn(function()
      tp.sleep(job[2])
      finished[#finished + 1] = job[1]
    end)
  end
  tp.sleep(80)
  print(("  tasks sleeping 60, 20 and 40 ms finished %s in %.0f ms, not 120")
        :format(table.concat(finished, ", "), tp.now() - start))
end

return {
  name = "truthound-demo",
  version = "0.2.0",
  description = "three signed plugins, verified, resolved and run in sandboxes",

  -- The plugin manager (docs/manager.md).
  plugin_dirs = {"plugins"},
  require_signature = true,           -- nothing unsigned is even read
  trust_store_path = "trust.json",    -- scripts/demo.sh trusts its key here
  default_security_policy = "standard",
  policies = {report = "policy.lua"}, -- one plugin gets a tighter policy
  audit_log = "audit.jsonl",

  handlers = {
    after_activate = function(plugin)
      local row
      for _, p in ipairs(plugin.manager:list_plugins()) do
        if p.id == plugin.id then row = p end
      end
      print(("  activated %-9s %s  %s isolation, policy %s, signed by %s"):format(plugin.id,
        row.version, row.isolation, row.policy, row.signer or "nobody"))
    end,
    after_unload = function(plugin)
      print("  unloaded " .. plugin.id)
    end,
    on_error = function(plugin, _, data)
      print(("  plugin %s failed: %s"):format(plugin.id, data.reason))
    end,
  },

  main = function(manager, app)
    print(("%s %s: %s"):format(app.manifest.name, app.manifest.version,
                               app.manifest.description))
    print("\nLoading report, which needs csv-stats, which needs greeter:")
    assert(manager:load("report"))
    print("\nCalling into the plugins (each call runs in the plugin's own worker):")
    print("  greeter.greet -> " .. manager:get_plugin("greeter"):call("greet", "tplua"))
    local stats = manager:get_plugin("csv-stats"):call("summarize", CSV, "price")
    print("  report.render -> " .. manager:get_plugin("report"):call("render", "price", stats))
    print("\nSandbox (truthound.security.sandbox):")
    show_sandbox()
    print("\nVersions and the event loop:")
    show_versions()
    show_loop()
    print("\nShutting down (reverse dependency order):")
  end,
}
