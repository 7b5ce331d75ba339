-- The warm worker pool: the pool alone with fake workers, then the
-- PROCESS engine's pool under concurrent tasks.

local tp = require("truthound")
local errors = require("truthound.errors")
local Pool = require("truthound.security.sandbox.pool")
local sandbox = require("truthound.security.sandbox")
local security = require("truthound.security")
sandbox.set_warn(function() end)

local function fake_pool(opts)
  local n, stopped = 0, {}
  opts.start = opts.start or function()
    n = n + 1
    return {id = n, calls = 0}
  end
  opts.stop = function(w) stopped[#stopped + 1] = w.id end
  return Pool.new(opts), stopped, function() return n end
end

describe("pool (fake workers)", function()
  it("warms size workers and reuses them", function()
    local p, _, count = fake_pool{size = 2, max = 2}
    p:warm()
    assert.equal(2, count())
    local a = p:acquire(); a.calls = a.calls + 1; p:release(a)
    local b = p:acquire(); p:release(b)
    assert.equal(2, count())
    assert.equal(a, b)
  end)

  it("recycles after K calls and after a death", function()
    local p, stopped = fake_pool{size = 1, max = 1, recycle_after = 2}
    p:warm()
    local w = p:acquire(); w.calls = 2; p:release(w)
    assert.same({1}, stopped)
    w = p:acquire(); w.dead = true; p:release(w)
    assert.same({1, 2}, stopped)
    assert.equal(3, p:acquire().id)
  end)

  it("starts a fresh worker per call without reuse", function()
    local p, stopped, count = fake_pool{reuse = false}
    for _ = 1, 3 do local w = p:acquire(); w.calls = 1; p:release(w) end
    assert.equal(3, count())
    assert.same({1, 2, 3}, stopped)
  end)

  it("serves waiters in FIFO order", function()
    local p = fake_pool{size = 1, max = 1}
    p:warm()
    local order = {}
    local held = p:acquire()
    local tasks = {}
    for i = 1, 4 do
      tasks[i] = tp.spawn(function()
        local w = p:acquire()
        order[#order + 1] = i
        tp.sleep(1)
        p:release(w)
      end)
    end
    tp.sleep(5)
    p:release(held)
    tp.run()
    assert.same({1, 2, 3, 4}, order)
  end)

  it("backs off after crashes and resets after a good call", function()
    local p = fake_pool{size = 1, max = 1}
    p:warm()
    local w = p:acquire(); w.dead = true; w.crashed = true; p:release(w)
    assert.equal(1, p.crashes)
    local t0 = tp.now()
    w = p:acquire()
    assert.is_true(tp.now() - t0 >= 10)        -- waited the first backoff
    assert.equal(1, p.restarts)
    p:release(w)
    assert.equal(0, p.crashes)
  end)

  it("fails waiting calls when closed, never silently", function()
    local p = fake_pool{size = 1, max = 1}
    p:warm()
    local held = p:acquire()
    local t = tp.spawn(function() return p:acquire() end)
    tp.sleep(3)
    p:close()
    local rok, e = pcall(tp.run)
    assert.is_false(rok)
    assert.is_true(errors.is(e, "SandboxError"), tostring(e))
    p:release(held)
  end)
end)

describe("PROCESS pool", function()
  local ok, why = sandbox.SandboxFactory.is_available("PROCESS")
  -- a host without the mechanisms skips; a broken worker is a failure
  if not ok and tostring(why):find("a probe worker failed", 1, true) then error(why) end
  local function policy()
    return security.SecurityPolicy.new{isolation_level = "PROCESS", enforcement = "best_effort",
      required_signatures = 0, require_trusted_signer = false,
      resource_limits = {max_execution_time_sec = 1, max_memory_mb = 32}}
  end

  it("runs concurrent calls on at most pool_max workers, in order", function()
    if not ok then pending(why); return end
    local engine = sandbox.SandboxFactory.create("PROCESS", {singleton = false})
    local ctx = engine:create_sandbox("q", policy(), {pool_size = 1, pool_max = 2})
    local tasks = {}
    for i = 1, 6 do
      tasks[i] = tp.spawn(function()
        return engine:execute(ctx, function(x)
          local t = os.clock() + 0.005
          while os.clock() < t do end
          return x * 2
        end, i)
      end)
    end
    tp.run()
    for i = 1, 6 do assert.equal(i * 2, tasks[i]:wait()) end
    local s = engine:stats(ctx)
    assert.equal(6, s.calls)
    assert.is_true(s.started <= 2)
    engine:cleanup()
  end)

  it("keeps serving the queue when a call times out holding the only worker", function()
    if not ok then pending(why); return end
    local engine = sandbox.SandboxFactory.create("PROCESS", {singleton = false})
    local ctx = engine:create_sandbox("q", policy(), {pool_size = 1, pool_max = 1})
    local slow = tp.spawn(function()
      return engine:execute(ctx, function() return ("x"):rep(1e6):find(".-.-.-.-.-.-.-y") end)
    end)
    local fast = tp.spawn(function() return engine:execute(ctx, function() return 7 end) end)
    local rok, e = pcall(tp.run)
    assert.is_false(rok)
    assert.is_true(errors.is(e, "SandboxTimeoutError"), tostring(e))
    tp.run()
    assert.equal(7, fast:wait())
    engine:cleanup()
  end)

  it("starts a fresh worker per call with reuse = false", function()
    if not ok then pending(why); return end
    local engine = sandbox.SandboxFactory.create("PROCESS", {singleton = false})
    local ctx = engine:create_sandbox("q", policy(), {reuse = false})
    local pids = {}
    for i = 1, 3 do
      pids[engine:execute(ctx, function() return io and 0 or i end)] = true
    end
    assert.equal(3, engine:stats(ctx).started)
    engine:cleanup()
  end)

  it("recycles a worker after recycle_after calls", function()
    if not ok then pending(why); return end
    local engine = sandbox.SandboxFactory.create("PROCESS", {singleton = false})
    local ctx = engine:create_sandbox("q", policy(), {recycle_after = 2})
    for _ = 1, 5 do engine:execute(ctx, function() return 1 end) end
    assert.is_true(engine:stats(ctx).started >= 3)
    engine:cleanup()
  end)

  it("answers the same with and without the spin before sleeping", function()
    if not ok then pending(why); return end
    for _, spin in ipairs{0, 50, 5000} do
      local engine = sandbox.SandboxFactory.create("PROCESS", {singleton = false, spin_us = spin})
      local ctx = engine:create_sandbox("s", policy())
      for i = 1, 20 do assert.equal(i + 1, engine:execute(ctx, function(x) return x + 1 end, i)) end
      local e = select(2, pcall(engine.execute, engine, ctx, function() error("no") end))
      assert.is_true(errors.is(e, "SandboxError"))
      engine:cleanup()
    end
  end)
end)
