-- examples/manifest.lua: the demo that `make run` runs:
--
--   tplua run examples/manifest.lua
--
-- An application manifest (docs/tplua.md) returns a table: a name, a
-- version, and a main function that tplua calls as a task of the truthound
-- loop, with the global tp = require("truthound"). This demo shows version
-- constraints, the example plugins' manifests (examples/plugins), policies
-- and the event loop; the plugin manager takes this file over in a later
-- issue.

-- What a registry might offer, and what plugins might ask for.
local AVAILABLE = {"0.9.0", "1.0.0", "1.2.3", "1.4.0-beta.1", "1.4.0", "2.0.0", "2.1.0"}

local WANTED = {
  "^1.2",             -- compatible with 1.2: >=1.2.0 <2.0.0
  "~1.2.0",           -- patch updates only
  ">=1.0.0,<2.0.0",   -- a comma is AND, as in the seed
  "1.x || >=2.1.0",
  "^0.9",             -- on 0.x, ^ allows patches only
  ">=3",
}

local function show_constraints(versioning)
  print("  available: " .. table.concat(AVAILABLE, " "))
  for _, text in ipairs(WANTED) do
    local c = versioning.parse_constraint(text)
    local best = versioning.max_satisfying(AVAILABLE, c)
    print(("  %-16s means %-30s best: %s"):format(text, tostring(c), best or "none"))
  end
end

local function show_prerelease(versioning)
  local c = versioning.parse_constraint("^1.2")
  print(("  ^1.2 and 1.4.0-beta.1: %s; with include_prerelease: %s"):format(
    tostring(c:is_satisfied_by("1.4.0-beta.1")),
    tostring(c:is_satisfied_by("1.4.0-beta.1", {include_prerelease = true}))))
end

-- The items of a (frozen) list, as a plain list.
local function frozen_list(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v end
  return out
end

local function show_bad_input(versioning)
  local ok, e = pcall(versioning.parse_constraint, ">=1.0.0,,<2")
  print("  a malformed constraint is an error, never 'any version':")
  print("    " .. (ok and "accepted?!" or tostring(e)))
end

-- Plugins and policies are data files, checked before anything runs.
local function show_plugins(dir)
  local m = {}
  for _, id in ipairs({"greeter", "csv-stats"}) do
    m[id] = tp.manifest.load(dir .. "/plugins/" .. id)
    print(("  plugin %-10s %s  hooks: %s"):format(m[id].id, m[id].version,
      table.concat(frozen_list(m[id].hooks), ", ")))
  end
  local dep = m["csv-stats"].dependencies.greeter
  print(("  csv-stats needs greeter %s; greeter %s satisfies it: %s"):format(
    dep.constraint, m.greeter.version, tostring(dep.parsed_constraint:is_satisfied_by(m.greeter.version))))
end

local function show_policies()
  local security = tp.security
  local strict = security.policies.STRICT
  print(("  STRICT: %s isolation, %d MiB, %s%% CPU, %ss, network %s, %d signatures"):format(
    strict.isolation_level, strict.resource_limits.max_memory_mb,
    strict.resource_limits.max_cpu_percent, strict.resource_limits.max_execution_time_sec,
    tostring(strict.allow_network), strict.required_signatures))
  local mine = security.policies.create_policy{base = security.policies.STANDARD,
                                               max_memory_mb = "1GiB", allow_network = true}
  print(("  create_policy{base = STANDARD, max_memory_mb = \"1GiB\"}: %d MiB"):format(
    mine.resource_limits.max_memory_mb))
  local ok, e = pcall(security.policies.eval, 'return {isolation_level = "jail", max_memory_mb = "-5MB"}',
                      "policy.lua")
  print("  a bad policy file: every problem at once:")
  for line in tostring(ok or e):gmatch("[^\n]+") do print("    " .. line) end
end

-- The greeter plugin in a worker process, then a hostile function that
-- loops: the time limit stops it with a typed error and the worker goes on.
local function show_sandbox(dir)
  local security, sandbox = tp.security, require("truthound.security.sandbox")
  local policy = security.SecurityPolicy.new{isolation_level = "PROCESS",
    required_signatures = 0, require_trusted_signer = false,
    resource_limits = {max_memory_mb = 64, max_cpu_percent = 50, max_execution_time_sec = 1,
                       max_file_descriptors = 32}}
  local engine, level, note = sandbox.SandboxFactory.get_best_available{preferred = "PROCESS",
                                                                       policy = policy}
  print("  engine: " .. (note or level))
  local ctx = engine:create_sandbox("greeter", policy, {plugin_dir = dir .. "/plugins/greeter",
                                                        entry = "greeter.main"})
  engine:execute(ctx, "greeter.main.load", {name = "sandbox"})
  print("  greeter.main.activate() -> " .. engine:execute(ctx, "greeter.main.activate"))
  local ok, e = pcall(engine.execute, engine, ctx, function() while true do end end)
  print(("  a function that loops: %s"):format(ok and "returned?!" or tostring(e)))
  local ok2, e2 = pcall(engine.execute, engine, ctx, function() return io.open("/etc/shadow") end)
  print(("  io, which the policy does not grant: %s"):format(ok2 and "allowed?!" or tostring(e2)))
  print("  and the worker still answers: " .. engine:execute(ctx, function(a, b) return a + b end, 40, 2))
  local st = engine:stats(ctx)
  print(("  stats: %d calls, %d kills, peak Lua memory %d KiB"):format(st.calls, st.kills,
        (st.peak_memory_bytes or 0) // 1024))
  engine:cleanup()
  -- Fail closed: every field of STRICT needs a mechanism an engine applies.
  local ok3, why = pcall(security.enforcement.check, security.policies.STRICT)
  print(ok3 and "  enforcing STRICT here: ok" or
        ("  enforcing STRICT here: refused, %d field/mechanism pair(s) unenforced, e.g.\n    %s: %s")
        :format(#why.problems, why.field, why.mechanism))
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
  print(("  tasks sleeping 60, 20 and 40 ms finished %s in %.0f ms, not 120:"
         .. " they ran concurrently"):format(table.concat(finished, ", "),
                                             tp.now() - start))
end

return {
  name = "truthound-demo",
  version = "0.1.0",
  description = "version constraints, plugins and policies, the sandbox, and the event loop, through tplua run",
  main = function(app)
    print(("%s %s: %s"):format(app.manifest.name, app.manifest.version,
                               app.manifest.description))
    print("\nVersion constraints (tp.versioning):")
    show_constraints(tp.versioning)
    show_prerelease(tp.versioning)
    show_bad_input(tp.versioning)
    print("\nPlugins and policies (tp.manifest, tp.security):")
    show_plugins(app.path:match("^(.*)/[^/]*$") or ".")
    show_policies()
    print("\nSandbox (truthound.security.sandbox):")
    show_sandbox(app.path:match("^(.*)/[^/]*$") or ".")
    print("\nEvent loop (tp.spawn, tp.sleep, tp.now):")
    show_loop()
  end,
}
