-- HotReloadManager (truthound.lifecycle.hot_reload): reload with state
-- handover, rollback that leaves the old version serving, events,
-- dependents' constraints, coalescing, GRACEFUL and IMMEDIATE swaps.
-- NONE plugins (development preset) unless a case needs a worker of its
-- own; tests/e2e/hot_reload.sh drives the file watching through tplua run.

local errors = require("truthound.errors")
local sandbox = require("truthound.security.sandbox")
local lifecycle = require("truthound.lifecycle")
local tp = require("truthound")

sandbox.set_warn(function() end)

local dirs = dofile("tests/lua/support/plugin_dirs.lua")
local tmpdir, write, plugin = dirs.tmpdir, dirs.write, dirs.plugin

local HOOKS = 'hooks = {"activate", "deactivate", "save", "restore"}'
local function counter(tag)
  return ('M.n = 0 function M.activate() end function M.deactivate() end\n' ..
          'function M.save() return {n = M.n} end function M.restore(s) M.n = s.n end\n' ..
          'function M.v() M.n = M.n + 1 return %q, M.n end'):format(tag)
end

describe("HotReloadManager", function()
  local root, m, hr
  -- start(policy [, sandbox]): a manager over root, discovered, and its
  -- HotReloadManager; sandbox: the plugins' sandbox options (pools)
  local function start(policy, sandbox_opts)
    m = tp.EnterprisePluginManager.new{plugin_dirs = {root}, require_signature = false,
      scan_entrypoints = false, default_security_policy = policy or "development",
      sandbox = sandbox_opts}
    m:set_warn(function() end)
    m:discover_plugins()
    hr = lifecycle.HotReloadManager.new(m)
  end
  before_each(function() root = tmpdir() end)
  after_each(function()
    if m then m:shutdown(); m:close() end
    m = nil
    sandbox.SandboxFactory.cleanup_all()
    os.execute("rm -rf '" .. root .. "'")
  end)

  it("swaps in the new version with the old one's saved state", function()
    plugin(root, "p", "1.0.0", HOOKS, counter("one"))
    start()
    assert.is_true(m:load("p"))
    local reloaded = {}
    m:on("ON_RELOAD", function(plugin, _, data) reloaded[#reloaded + 1] = plugin.id end)
    assert.same({"one", 1}, {m:get_plugin("p"):call("v")})
    plugin(root, "p", "1.1.0", HOOKS, counter("two"))
    local r = hr:reload("p")
    assert.is_true(r.success, tostring(r.error))
    assert.is_false(r.rolled_back)
    assert.equal("1.0.0", r.previous_version)
    assert.equal("1.1.0", r.new_version)
    assert.is_number(r.reload_time_ms)
    assert.same({"two", 2}, {m:get_plugin("p"):call("v")})   -- n came over through save/restore
    assert.equal("1.1.0", m:get_plugin("p"):version())
    assert.same({"p"}, reloaded)
    local hist = m:get_plugin("p"):history(2)
    assert.equal("RELOADING", hist[1].to)
    assert.equal("ACTIVE", hist[2].to)
  end)

  for _, case in ipairs({
    {"a syntax error", function() write(root .. "/p/main.lua", "local M = {") end, "unexpected symbol"},
    {"a failing activate", function()
       plugin(root, "p", "1.1.0", 'hooks = {"activate"}', 'function M.activate() error("no", 0) end')
     end, "no"},
    {"a broken manifest", function() write(root .. "/p/plugin.lua", "return {") end, "ManifestError"},
    {"a capability the policy denies", function()
       plugin(root, "p", "1.1.0", 'capabilities = {network = true}', counter("two"))
     end, "allow_network"},
  }) do
    it("rolls back on " .. case[1] .. ": the old version keeps serving, ON_ERROR hears it", function()
      plugin(root, "p", "1.0.0", HOOKS, counter("one"))
      local policy = require("truthound.security").policies.create_policy{base = "development",
        allow_network = false, name = "nonet"}
      start(policy)
      assert.is_true(m:load("p"))
      local heard
      m:on("ON_ERROR", function(_, _, data) heard = data.reason end)
      m:get_plugin("p"):call("v")
      case[2]()
      local r = hr:reload("p")
      assert.is_false(r.success)
      assert.is_true(r.rolled_back)
      assert.matches(case[3], tostring(r.error), 1, true)
      assert.equal("ACTIVE", m:get_state("p"))
      assert.same({"one", 2}, {m:get_plugin("p"):call("v")})     -- same version, same state
      assert.matches("reload failed", heard)
    end)
  end

  it("refuses a new version that a loaded dependent's constraint excludes", function()
    plugin(root, "lib", "1.0.0", nil, 'function M.v() return "lib1" end')
    plugin(root, "app", "1.0.0", 'dependencies = {lib = "^1"}')
    start()
    assert.is_true(m:load("app"))
    plugin(root, "lib", "2.0.0", nil, 'function M.v() return "lib2" end')
    local r = hr:reload("lib")
    assert.is_false(r.success)
    assert.is_true(r.rolled_back)
    assert.equal("VersionConflictError", errors.kind(r.error))
    assert.matches("app 1.0.0 depends on lib %^1", r.error.message)
    assert.equal("lib1", m:get_plugin("lib"):call("v"))
  end)

  it("tells active dependents with ON_RELOAD", function()
    plugin(root, "lib", "1.0.0")
    plugin(root, "app", "1.0.0", 'dependencies = {lib = "^1"}')
    start()
    assert.is_true(m:load("app"))
    local heard = {}
    m:on("ON_RELOAD", function(plugin, _, data)
      heard[#heard + 1] = plugin.id .. (data.dependency and (" <- " .. data.dependency) or "")
    end)
    plugin(root, "lib", "1.0.1")
    assert.is_true(hr:reload("lib").success)
    table.sort(heard)
    assert.same({"app <- lib", "lib"}, heard)
  end)

  it("deactivates and activates again, in order, the dependents that ask for it", function()
    plugin(root, "lib", "1.0.0")
    plugin(root, "mid", "1.0.0", 'dependencies = {lib = {constraint = "^1", reactivate = true}}, ' ..
           'hooks = {"activate", "deactivate"}', 'function M.activate() end function M.deactivate() end')
    plugin(root, "top", "1.0.0", 'dependencies = {mid = "^1"}, hooks = {"activate"}',
           'function M.activate() end')
    plugin(root, "side", "1.0.0", 'dependencies = {lib = "^1"}')
    start()
    assert.is_true(m:load("top"))
    assert.is_true(m:load("side"))
    local log = {}
    for _, ev in ipairs({"AFTER_DEACTIVATE", "AFTER_ACTIVATE"}) do
      m:on(ev, function(plugin) log[#log + 1] = ev:sub(7, 7) .. ":" .. plugin.id end)
    end
    plugin(root, "lib", "1.0.1")
    assert.is_true(hr:reload("lib").success)
    -- top (above mid) goes down first and comes back last; side did not ask
    assert.same({"D:top", "D:mid", "A:mid", "A:top"}, log)
    for _, id in ipairs({"lib", "mid", "top", "side"}) do assert.equal("ACTIVE", m:get_state(id)) end
  end)

  it("only reloads an ACTIVE plugin, and knows its strategies", function()
    plugin(root, "p", "1.0.0")
    start()
    local r = hr:reload("p")
    assert.is_false(r.success)
    assert.is_false(r.rolled_back)
    assert.matches("only an ACTIVE plugin", r.error.message)
    assert.has_error(function() hr:reload("p", {strategy = "SOMETIMES"}) end)
    assert.is_true(m:load("p"))
    r = hr:reload("p", {strategy = "ROLLING"})
    assert.is_false(r.success)
    assert.matches("without a pool of workers to roll", r.error.message)
  end)

  it("coalesces concurrent requests for one plugin", function()
    plugin(root, "p", "1.0.0", HOOKS, counter("one"))
    start()
    assert.is_true(m:load("p"))
    plugin(root, "p", "1.1.0", HOOKS, counter("two"))
    local function reloads()
      local n = 0
      for _, h in ipairs(m:get_plugin("p"):history(50)) do
        if h.to == "RELOADING" then n = n + 1 end
      end
      return n
    end
    local results = {}
    for i = 1, 3 do
      tp.spawn(function() results[i] = hr:reload("p") end)
    end
    tp.run()
    -- asked together: one reload, one result for all
    assert.equal(1, reloads())
    assert.is_true(results[1].success)
    assert.equal(results[1], results[2])
    assert.equal(results[1], results[3])
    -- asked while it runs (here from its own ON_RELOAD handler): one more after it
    local asked = false
    local queued
    m:on("ON_RELOAD", function()
      if not asked then asked = true; queued = hr:reload("p") end
    end)
    assert.is_true(hr:reload("p").success)
    assert.is_true(queued.queued)
    assert.equal(3, reloads())
  end)

  describe("in PROCESS workers", function()
    local policy
    before_each(function()
      policy = require("truthound.security").policies.create_policy{base = "standard",
        required_signatures = 0, require_trusted_signer = false, name = "unsigned"}
    end)

    -- reload_during_slow_call(seconds, strategy) -> {pcall results of a
    -- call that spins that long}, the handle: version 1.1.0 is reloaded
    -- by the strategy 50 ms into the call
    local function reload_during_slow_call(seconds, strategy)
      plugin(root, "p", "1.0.0", nil, ('function M.slow() local t = os.clock() ' ..
             'while os.clock() - t < %g do end return "old" end function M.v() return "old" end')
             :format(seconds))
      start(policy)
      assert.is_true(m:load("p"))
      local h = m:get_plugin("p")
      local slow
      tp.spawn(function() slow = {pcall(h.call, h, "slow")} end)
      tp.spawn(function()
        tp.sleep(50)
        plugin(root, "p", "1.1.0", nil, 'function M.v() return "new" end')
        assert.is_true(hr:reload("p", {strategy = strategy}).success)
      end)
      tp.run()
      return slow, h
    end

    it("GRACEFUL: a call under way finishes on the old version; the next goes to the new", function()
      local slow, h = reload_during_slow_call(0.3, "GRACEFUL")
      assert.same({true, "old"}, slow)
      assert.equal("new", h:call("v"))
    end)

    it("GRACEFUL under load: 100 reloads while a client calls, no call fails", function()
      local function version(i) return ("1.0.%d"):format(i) end
      local function write_version(i)
        plugin(root, "p", version(i), nil, ('function M.v() return %q end'):format(version(i)))
      end
      write_version(0)
      start(policy)
      assert.is_true(m:load("p"))
      local h = m:get_plugin("p")
      local calls, failed, seen, done = 0, {}, {}, false
      tp.spawn(function()
        while not done do
          local ok, v = pcall(h.call, h, "v")
          calls = calls + 1
          if ok then seen[v] = true else failed[#failed + 1] = tostring(v) end
        end
      end)
      local bad = {}
      tp.spawn(function()
        for i = 1, 100 do
          write_version(i)
          local r = hr:reload("p", {strategy = "GRACEFUL"})
          if not r.success then bad[#bad + 1] = tostring(r.error) end
          tp.sleep(1)
        end
        done = true
      end)
      tp.run()
      assert.same({}, bad)
      assert.same({}, failed)
      assert.is_true(calls > 100, "only " .. calls .. " calls")
      assert.equal(version(100), h:call("v"))
      local n = 0
      for v in pairs(seen) do
        assert.matches("^1%.0%.%d+$", v)       -- every answer names exactly one version
        n = n + 1
      end
      assert.is_true(n > 1)
    end)

    it("ROLLING under load: a pool of 3 is replaced worker by worker, never below 3, no call fails", function()
      -- (the pool may not shrink at all: a new worker joins before an old one leaves)
      local function write_version(i)
        plugin(root, "p", ("1.0.%d"):format(i), 'hooks = {"activate"}',
               ('function M.activate() M.on = true end function M.v() assert(M.on) return %d end'):format(i))
      end
      write_version(0)
      start(policy, {pool_size = 3, pool_max = 3})
      assert.is_true(m:load("p"))
      local h = m:get_plugin("p")
      local pool = m.records.p.ctx.pool
      local calls, failed, low, done = 0, {}, math.huge, false
      for _ = 1, 3 do                                  -- three clients: the pool is busy
        tp.spawn(function()
          while not done do
            local ok, v = pcall(h.call, h, "v")
            calls = calls + 1
            if not ok then failed[#failed + 1] = tostring(v) end
            low = math.min(low, pool.count)
          end
        end)
      end
      local bad = {}
      tp.spawn(function()
        for i = 1, 10 do
          write_version(i)
          local r = hr:reload("p", {strategy = "ROLLING"})
          if not r.success then bad[#bad + 1] = tostring(r.error) end
        end
        done = true
      end)
      tp.run()
      assert.same({}, bad)
      assert.same({}, failed)
      assert.is_true(low >= 3, "the pool fell to " .. low)
      assert.is_true(calls > 10)
      assert.equal(10, h:call("v"))
      assert.equal("1.0.10", h:version())
    end)

    it("ROLLING rolls back when a new worker fails its check: the old workers stay", function()
      plugin(root, "p", "1.0.0", nil, 'function M.v() return "old" end')
      start(policy, {pool_size = 2, pool_max = 2})
      assert.is_true(m:load("p"))
      plugin(root, "p", "1.1.0", 'hooks = {"activate"}',
             'function M.activate() error("not healthy", 0) end function M.v() return "new" end')
      local r = hr:reload("p", {strategy = "ROLLING"})
      assert.is_false(r.success)
      assert.is_true(r.rolled_back)
      assert.matches("not healthy", tostring(r.error))
      local h = m:get_plugin("p")
      for _ = 1, 4 do assert.equal("old", h:call("v")) end
      assert.equal(2, m.records.p.ctx.pool.count)
    end)

    it("IMMEDIATE: a call under way is cut short with ReloadInterrupted", function()
      local slow, h = reload_during_slow_call(2, "IMMEDIATE")
      assert.is_false(slow[1])
      assert.equal("ReloadInterrupted", errors.kind(slow[2]))
      assert.equal("1.0.0", slow[2].version)
      assert.equal("1.1.0", slow[2].new_version)
      assert.equal("new", h:call("v"))
      assert.equal("ACTIVE", h:state())
    end)
  end)
end)
