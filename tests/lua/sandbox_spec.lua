-- The sandbox engines through their Lua API (truthound.security.sandbox).
-- NONE always; PROCESS and CONTAINER where this build has a worker and the
-- host offers them (the other cases are pending with the reason).

local sandbox = require("truthound.security.sandbox")
local errors = require("truthound.errors")
local enforcement = require("truthound.security.enforcement")
local security = require("truthound.security")

local Factory = sandbox.SandboxFactory
sandbox.set_warn(function() end)

local function policy(level, extra)
  local spec = {
    isolation_level = level, enforcement = "best_effort",
    resource_limits = {max_execution_time_sec = 1, max_memory_mb = 32, denied_syscalls = {}},
    required_signatures = 0, require_trusted_signer = false,
  }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return security.SecurityPolicy.new(spec)
end

local function plugin_dir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local f = assert(io.open(dir .. "/geo.lua", "w"))
  f:write([[
local M = {}
function M.add(a, b) return a + b end
function M.echo(...) return ... end
function M.fail() error("geo failed") end
function M.spin() while true do end end
return M
]])
  f:close()
  return dir
end

local function raises(kind, fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected " .. kind)
  assert.is_true(errors.is(e, kind), "expected " .. kind .. ", got " .. tostring(e))
  return e
end

describe("IsolationLevel", function()
  it("has the three levels and the WASM slot", function()
    assert.equal("NONE", sandbox.IsolationLevel.NONE)
    assert.equal("WASM", sandbox.IsolationLevel.WASM)
    assert.equal("PROCESS", sandbox.IsolationLevel.parse("process"))
    assert.is_nil((sandbox.IsolationLevel.parse("vm")))
  end)
end)

describe("SandboxFactory", function()
  after_each(function() Factory.reset() end)

  it("creates singletons unless asked not to", function()
    local a, b = Factory.create("NONE"), Factory.create("none")
    assert.equal(a, b)
    assert.are_not.equal(a, Factory.create("NONE", {singleton = false}))
  end)

  it("probes NONE for real", function()
    local ok, why = Factory.is_available("NONE")
    assert.is_true(ok, why)
    assert.is_true(#Factory.list_available() >= 1)
  end)

  it("has no WASM engine until one is registered", function()
    assert.is_false((Factory.is_available("WASM")))
    raises("SandboxError", Factory.create, "WASM")
    local fake = {new = function() return {kind = "fake"} end,
                  probe = function() return true, "fake" end}
    Factory.register("WASM", fake)
    assert.equal("fake", Factory.create("WASM").kind)
    Factory.unregister("WASM")
    raises("SandboxError", Factory.create, "WASM")
  end)

  it("never falls below the policy's isolation level", function()
    local p = policy("PROCESS")
    local ok, engine, level, note = pcall(Factory.get_best_available,
                                          {preferred = "NONE", policy = p})
    if ok then
      assert.is_true(level == "PROCESS" or level == "CONTAINER", level)
      assert.matches("weaker", note)
    else
      assert.is_true(errors.is(engine, "SandboxError"))
    end
  end)

  it("falls back to NONE when the policy allows it, and says so", function()
    local p = policy("NONE")
    local engine, level, note = Factory.get_best_available{preferred = "NONE", policy = p}
    assert.equal("NONE", level)
    assert.is_string(note)
    assert.is_table(engine)
  end)

  it("refuses an unknown level", function()
    raises("UsageError", Factory.create, "VM")
  end)
end)

describe("ResourceLimits syscall names", function()
  it("are checked against libseccomp's table", function()
    if not (require("truthound.native").sandbox or {}).syscall_resolve then
      pending("no seccomp resolver in this build"); return
    end
    local e = raises("PolicyError", security.SecurityPolicy.new,
                     {resource_limits = {denied_syscalls = {"no_such_call"}}})
    assert.matches("no_such_call", tostring(e))
    assert.is_table(security.SecurityPolicy.new{resource_limits = {denied_syscalls = {"ptrace"}}})
  end)
end)

describe("mechanisms", function()
  it("NONE registers the in-process ones", function()
    for _, m in ipairs{"lua.alloc_cap", "lua.instruction_hook", "lua.require_gate",
                       "lua.no_io", "lua.no_socket", "lua.no_subprocess"} do
      assert.is_string(enforcement.provider(m), m)
    end
  end)
end)

describe("NONE engine", function()
  local engine, ctx, dir
  setup(function()
    dir = plugin_dir()
    engine = Factory.create("NONE", {singleton = false})
    ctx = engine:create_sandbox("geo", policy("NONE"), {plugin_dir = dir, entry = "geo"})
  end)
  teardown(function()
    engine:cleanup()
    os.execute("rm -rf " .. dir)
  end)

  it("runs a function with plain-data upvalues", function()
    local k = {base = 10}
    assert.equal(13, engine:execute(ctx, function(a, b) return a + b + k.base end, 1, 2))
  end)

  it("runs a reference into the plugin directory", function()
    assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
  end)

  it("returns every result, nils included", function()
    local r = table.pack(engine:execute(ctx, "geo.echo", nil, 1, nil))
    assert.equal(3, r.n)
    assert.equal(1, r[2])
  end)

  it("copies tables both ways", function()
    local t = {1, 2, {x = "y"}, z = true}
    local r = engine:execute(ctx, function(v) v[4] = 4; return v end, t)
    assert.same({1, 2, {x = "y"}, 4, z = true}, r)
    assert.is_nil(t[4])
  end)

  it("refuses functions with non-data upvalues", function()
    local f = print
    raises("UsageError", engine.execute, engine, ctx, function() return f end)
  end)

  it("refuses results the wire cannot carry", function()
    local e = raises("SandboxError", engine.execute, engine, ctx, function() return print end)
    assert.equal("result", e.reason)
  end)

  it("maps a plugin error to SandboxError", function()
    local e = raises("SandboxError", engine.execute, engine, ctx, "geo.fail")
    assert.matches("geo failed", e.message)
  end)

  it("stops an infinite loop, even inside pcall and coroutines", function()
    local e = raises("SandboxTimeoutError", engine.execute, engine, ctx, function()
      local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end)
      co()
    end)
    assert.equal(1, e.timeout_seconds)
    assert.is_number(e.execution_time)
    assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))   -- still usable
  end)

  it("caps memory", function()
    local e = raises("SandboxResourceError", engine.execute, engine, ctx, function()
      local t = {}
      for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end
    end)
    assert.equal("memory", e.resource_type)
    assert.equal(32 * 1024 * 1024, e.limit)
  end)

  it("gates modules", function()
    local e = raises("SandboxSecurityViolation", engine.execute, engine, ctx,
                     function() return require("io") end)
    assert.matches("io", e.message)
    raises("SandboxError", engine.execute, engine, ctx, function() return debug.getinfo(1) end)
    raises("SandboxError", engine.execute, engine, ctx, function() return load(string.dump(print)) end)
  end)

  it("counts calls", function()
    local s = engine:stats(ctx)
    assert.is_true(s.calls >= 1)
    assert.is_number(s.peak_memory_bytes)
    assert.equal(0, s.workers)
  end)

  it("refuses io at NONE", function()
    raises("PolicyError", engine.create_sandbox, engine, "x",
           policy("NONE", {allowed_modules = {"io"}, blocked_modules = {}}))
  end)

  it("refuses a policy that asks for stronger isolation", function()
    raises("PolicyError", engine.create_sandbox, engine, "x", policy("PROCESS"))
  end)

  it("refuses strict policies it cannot enforce", function()
    local p = security.SecurityPolicy.new{isolation_level = "NONE", enforcement = "strict",
      required_signatures = 0, require_trusted_signer = false,
      resource_limits = {max_cpu_percent = 50, denied_syscalls = {}}}
    local e = raises("PolicyError", engine.create_sandbox, engine, "x", p)
    assert.matches("max_cpu_percent", tostring(e))
  end)

  it("terminates a context", function()
    local c2 = engine:create_sandbox("t2", policy("NONE"))
    engine:terminate(c2)
    raises("SandboxError", engine.execute, engine, c2, function() end)
  end)
end)

-- PROCESS and CONTAINER: the same behaviour plus what only a process gives.
for _, level in ipairs{"PROCESS", "CONTAINER"} do
  describe(level .. " engine", function()
    local engine, ctx, dir, why
    setup(function()
      local ok
      ok, why = Factory.is_available(level)
      if not ok then return end
      dir = plugin_dir()
      engine = Factory.create(level, {singleton = false})
      ctx = engine:create_sandbox("geo", policy(level, {
        allowed_modules = {"io", "os"}, blocked_modules = {},
        resource_limits = {max_execution_time_sec = 1, max_memory_mb = 32,
                           max_file_descriptors = 16, denied_syscalls = {"ptrace"}},
      }), {plugin_dir = dir, entry = "geo"})
    end)
    teardown(function()
      if engine then engine:cleanup() end
      if dir then os.execute("rm -rf " .. dir) end
    end)
    local function skip()
      -- A host without the mechanisms skips; a worker that fails where
      -- the host has them is a failure, never a skip.
      if not engine and tostring(why):find("a probe worker failed", 1, true) then
        error(level .. ": " .. tostring(why))
      end
      if not engine then pending(level .. " is not available: " .. tostring(why)); return true end
    end

    it("runs functions and references", function()
      if skip() then return end
      local k = 10
      assert.equal(13, engine:execute(ctx, function(a, b) return a + b + k end, 1, 2))
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
      local r = table.pack(engine:execute(ctx, "geo.echo", nil, {1, {x = "y"}}, nil))
      assert.equal(3, r.n)
      assert.same({1, {x = "y"}}, r[2])
    end)

    it("times a call from its start, even after the host computed for longer than the limit", function()
      if skip() then return end
      -- the loop does not run meanwhile, so its cached clock goes stale
      local t0 = os.clock()
      while os.clock() - t0 < 1.5 do end   -- longer than the 1 s limit
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
    end)

    it("maps plugin errors and keeps the worker", function()
      if skip() then return end
      local e = raises("SandboxError", engine.execute, engine, ctx, "geo.fail")
      assert.matches("geo failed", e.message)
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
    end)

    it("stops a Lua loop (the worker's hook) and a C loop (SIGKILL)", function()
      if skip() then return end
      local e = raises("SandboxTimeoutError", engine.execute, engine, ctx, "geo.spin")
      assert.equal(1, e.timeout_seconds)
      local kills = engine:stats(ctx).kills
      e = raises("SandboxTimeoutError", engine.execute, engine, ctx, function()
        return ("x"):rep(1e6):find(".-.-.-.-.-.-.-y")
      end)
      assert.equal(1, e.timeout_seconds)
      assert.is_true(e.execution_time >= 1)
      assert.is_true(engine:stats(ctx).kills > kills)
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))   -- a new worker serves
    end)

    it("caps memory", function()
      if skip() then return end
      local e = raises("SandboxResourceError", engine.execute, engine, ctx, function()
        local t = {}
        for i = 1, 1e9 do t[i] = ("x"):rep(64) .. i end
      end)
      assert.equal("memory", e.resource_type)
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
    end)

    it("runs as an unprivileged user with no network and no host secrets", function()
      if skip() then return end
      -- /proc must be an allowed path to read our own status at all
      local c2 = engine:create_sandbox("proc", policy(level, {
        allowed_modules = {"io"}, blocked_modules = {},
        resource_limits = {max_execution_time_sec = 5, denied_syscalls = {},
                           allowed_paths = {"/proc"}},
      }))
      local uid, net, shadow = engine:execute(c2, function()
        local f = assert(io.open("/proc/self/status"))
        local s = f:read("a")
        f:close()
        local n = io.open("/proc/self/net/dev")
        local devs = n and n:read("a") or ""
        if n then n:close() end
        return tonumber(s:match("Uid:%s*(%d+)")), (devs:gsub("[^\n]*lo:[^\n]*", "")
               :match("%w+:%s*%d")), (io.open("/etc/shadow")) ~= nil
      end)
      engine:terminate(c2)
      if require("truthound.native").sandbox.getuid() == 0 then assert.equal(65534, uid) end
      assert.is_nil(net)          -- only the loopback device
      assert.is_false(shadow)
      -- and without /proc allowed, not even that
      local ok = engine:execute(ctx, function() return io.open("/proc/self/status") ~= nil end)
      assert.is_false(ok)
    end)

    it("cannot start a subprocess", function()
      if skip() then return end
      local ok, e = pcall(engine.execute, engine, ctx, function()
        return os.execute("echo hi > /tmp/pwned")
      end)
      -- either the call is refused in the runtime (io.popen/os.execute
      -- removed) or the kernel stops it (seccomp) and the worker dies
      if ok then assert.is_not_true(e) else
        assert.is_true(errors.is(e, "SandboxError"), tostring(e))
      end
    end)

    it("recovers from a worker that dies mid-call", function()
      if skip() then return end
      local e = raises("SandboxError", engine.execute, engine, ctx, function()
        os.exit(3)
      end)
      assert.equal("worker_died", e.reason)
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
    end)

    it("reports a worker killed from outside, then starts another", function()
      if skip() then return end
      local core = require("truthound.native")
      for w in pairs(ctx.pool.all) do core.sandbox.kill(w.pid, 9, true) end
      -- under CONTAINER the worker dies after bwrap, through its death signal
      require("truthound").sleep(300)
      local ok, e = pcall(engine.execute, engine, ctx, "geo.add", 2, 3)
      assert.is_false(ok)
      assert.is_true(errors.is(e, "SandboxError"), tostring(e))
      assert.equal("worker_died", e.reason)
      assert.equal(5, engine:execute(ctx, "geo.add", 2, 3))
    end)

    it("counts calls, workers and kills", function()
      if skip() then return end
      local s = engine:stats(ctx)
      assert.is_true(s.calls >= 5)
      assert.is_true(s.workers >= 1)
      assert.is_true(s.kills >= 1)
    end)

    it("fails queued calls after terminate", function()
      if skip() then return end
      local c2 = engine:create_sandbox("t2", policy(level))
      engine:terminate(c2)
      raises("SandboxError", engine.execute, engine, c2, function() end)
    end)
  end)
end

describe("the CONTAINER engine", function()
  it("refuses a container runtime it does not support, rather than using bwrap silently", function()
    local ok, e = pcall(require("truthound.security.sandbox").SandboxFactory.create, "CONTAINER",
                        {singleton = false, runtime = "podman"})
    assert.is_false(ok)
    assert.equal("SandboxError", require("truthound.errors").kind(e))
    assert.matches("runtime podman is not supported", e.message)
  end)
end)
