-- truthound.loop: tasks, tp.run, tp.sleep, tp.now, the await mechanism.
-- These specs test order and semantics. The only timing assertions are
-- lower bounds, which the loop guarantees: tp.sleep(ms) never returns
-- before tp.now() has grown by ms.

local tp = require("truthound")
local errors = require("truthound.errors")
local loop = require("truthound.loop")
local core = require("truthound.native")

-- The loop is per lua_State, so every spec file shares it: record the tasks
-- each test spawns and leave nothing behind for the next test.
local spawned = {}
local failing_task

local function go(fn, ...)
  local t = tp.spawn(fn, ...)
  spawned[#spawned + 1] = t
  return t
end

local function cleanup()
  for _, t in ipairs(spawned) do
    local s = t:status()
    if s == "pending" or s == "waiting" then t:cancel() end
  end
  spawned = {}
  for _ = 1, 100 do                 -- uncollected failures, one per run
    if pcall(tp.run) then return end
  end
  error("the loop could not be cleaned up")
end

-- The error raised by f(...), or fail the test if it returns.
local function raised(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return e
end

-- Run lua5.4 on a chunk in a fresh process (warnings on, so an error in a
-- finalizer shows in the output); returns exit status and output.
local function child(chunk)
  local lua = os.getenv("LUA") or "lua5.4"
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(chunk)
  f:close()
  local p = io.popen(lua .. " -W " .. path .. " 2>&1")   -- -W: show errors in __gc
  local out = p:read("a")
  local _, _, status = p:close()
  os.remove(path)
  return status, out
end

describe("truthound.loop", function()
  after_each(cleanup)

  it("is what require('truthound') exports", function()
    assert.are.equal(loop.spawn, tp.spawn)
    assert.are.equal(loop.run, tp.run)
    assert.are.equal(loop.sleep, tp.sleep)
    assert.are.equal(loop.now, tp.now)
  end)

  describe("tp.now", function()
    it("is a float count of milliseconds that never goes back", function()
      local a = tp.now()
      assert.are.equal("float", math.type(a))
      for _ = 1, 1000 do
        local b = tp.now()
        assert.is_true(b >= a)
        a = b
      end
    end)

    it("advances by at least the time slept", function()
      local a = tp.now()
      tp.sleep(12)
      assert.is_true(tp.now() - a >= 12)
    end)
  end)

  describe("tp.spawn and tp.run", function()
    it("runs a task with its arguments and keeps its results", function()
      local t = go(function(a, b) return a + b, nil, "x" end, 40, 2)
      assert.are.equal("pending", t:status())
      tp.run()
      assert.are.equal("done", t:status())
      assert.are.same({42, nil, "x", n = 3}, table.pack(t:wait()))
    end)

    it("returns at once when nothing is pending", function()
      tp.run()
      tp.run()
    end)

    it("starts tasks in the order they were spawned", function()
      local log = {}
      for i = 1, 5 do go(function() log[#log + 1] = i end) end
      tp.run()
      assert.are.same({1, 2, 3, 4, 5}, log)
    end)

    it("resumes sleepers in the order their deadlines come", function()
      local log = {}
      for _, ms in ipairs({30, 10, 20, 0}) do
        go(function() tp.sleep(ms); log[#log + 1] = ms end)
      end
      tp.run()
      assert.are.same({0, 10, 20, 30}, log)
    end)

    it("interleaves tasks at every wait", function()
      local log = {}
      local function worker(name)
        for i = 1, 3 do
          log[#log + 1] = name .. i
          tp.sleep(0)
        end
      end
      go(worker, "a")
      go(worker, "b")
      tp.run()
      assert.are.same({"a1", "b1", "a2", "b2", "a3", "b3"}, log)
    end)

    it("treats a bare coroutine.yield in a task as letting the others run", function()
      local log = {}
      go(function() log[#log + 1] = "a1"; coroutine.yield("ignored"); log[#log + 1] = "a2" end)
      go(function() log[#log + 1] = "b1" end)
      tp.run()
      assert.are.same({"a1", "b1", "a2"}, log)
    end)

    it("runs tasks spawned by tasks", function()
      local inner
      go(function()
        inner = go(function() tp.sleep(1); return "inner" end)
      end)
      tp.run()
      assert.are.equal("inner", inner:wait())
    end)

    it("reports each status of a task's life", function()
      local seen = {}
      local t
      local gate = go(function() tp.sleep(1) end)
      t = go(function()
        seen.inside = t:status()
        assert.are.equal(t, loop.current())
        gate:wait()
      end)
      go(function() seen.while_waiting = t:status() end)
      seen.before = t:status()
      tp.run()
      assert.are.same({before = "pending", inside = "running", while_waiting = "waiting"}, seen)
      assert.are.equal("done", t:status())
      assert.is_nil(loop.current())
      assert.matches("^task %(done%): ", tostring(t))
    end)

    it("accepts a callable table and refuses what cannot be called", function()
      local t = go(setmetatable({}, {__call = function(_, x) return x end}), 7)
      tp.run()
      assert.are.equal(7, t:wait())
      assert.matches("bad argument #1 to 'spawn' %(function expected, got number%)",
                     raised(tp.spawn, 42))
      assert.matches("got nil", raised(tp.spawn))
    end)
  end)

  describe("errors", function()
    it("re-raises a task's typed error from tp.run unchanged", function()
      local thrown
      local t = go(function()
        tp.sleep(1)
        thrown = errors.new("SandboxTimeoutError", "plugin ran too long",
                            {timeout_seconds = 2, execution_time = 2.5})
        error(thrown)
      end)
      local e = raised(tp.run)
      assert.are.equal(thrown, e)                      -- the same object
      assert.is_true(errors.is(e, "SandboxTimeoutError"))
      assert.is_true(errors.is(e, "SecurityError"))
      assert.are.equal(2, e.timeout_seconds)
      assert.are.equal("SandboxTimeoutError: plugin ran too long", tostring(e))
      assert.are.equal("failed", t:status())
      assert.matches("stack traceback", t:traceback())
    end)

    it("re-raises a string error as it was raised, with its position", function()
      go(function() error("boom") end)
      assert.matches("loop_spec%.lua:%d+: boom$", raised(tp.run))
    end)

    it("stops at the first failure and goes on with the rest on the next run", function()
      local log = {}
      go(function() log[#log + 1] = "a"; error("first") end)
      go(function() log[#log + 1] = "b"; error("second") end)
      go(function() tp.sleep(5); log[#log + 1] = "c" end)
      assert.matches("first$", raised(tp.run))
      assert.are.same({"a"}, log)
      assert.matches("second$", raised(tp.run))
      tp.run()
      assert.are.same({"a", "b", "c"}, log)
    end)

    it("raises each failure once", function()
      go(function() error("once") end)
      assert.matches("once$", raised(tp.run))
      tp.run()
    end)

    it("hands a failure to a task waiting for it instead of tp.run", function()
      local failing = go(function() tp.sleep(1); errors.raise("PolicyError", "no", {field = "x"}) end)
      local caught
      go(function()
        local ok, e = pcall(failing.wait, failing)
        caught = (not ok) and e
      end)
      tp.run()
      assert.is_true(errors.is(caught, "PolicyError"))
      assert.are.equal("x", caught.field)
      assert.are.equal(caught, failing:error())
    end)

    it("propagates through a waiting task that does not catch it", function()
      local failing = go(function() tp.sleep(1); errors.raise("SignatureError", "bad") end)
      local waiter = go(function() return failing:wait() end)
      local e = raised(tp.run)
      assert.is_true(errors.is(e, "SignatureError"))
      assert.are.equal("failed", waiter:status())
      assert.are.equal(e, waiter:error())
    end)

    it("does not raise a failure already read with task:error()", function()
      local seen
      -- The failure happens while a task blocks (a plain coroutine inside
      -- it drives the loop), so it waits for the outer driver, tp.run...
      go(function()
        coroutine.wrap(function() tp.sleep(2) end)()
        seen = failing_task:error()
      end)
      failing_task = go(function() error({code = 1}) end)
      tp.run()                          -- ...which finds it handled
      assert.are.same({code = 1}, seen)
      failing_task = nil
    end)

    it("raises a task's failure from a blocking sleep that ran it", function()
      local t = go(function() error({code = 2}) end)
      assert.are.same({code = 2}, raised(tp.sleep, 1))
      assert.are.equal("failed", t:status())
      tp.run()                          -- raised once, not again
    end)

    it("raises LoopError when tp.run is called inside a task", function()
      local t = go(function() tp.run() end)
      local e = raised(tp.run)
      assert.is_true(errors.is(e, "LoopError"))
      assert.matches("inside a task", tostring(e))
      assert.are.equal(e, t:error())
    end)

    it("raises LoopError for tp.run in a plain coroutine inside a task", function()
      go(function() coroutine.wrap(function() tp.run() end)() end)
      assert.is_true(errors.is(raised(tp.run), "LoopError"))
    end)

    it("runs a failed task's pending __close handlers", function()
      local closed = false
      go(function()
        local _ <close> = setmetatable({}, {__close = function() closed = true end})
        tp.sleep(1)
        error("x")
      end)
      raised(tp.run)
      assert.is_true(closed)
    end)
  end)

  describe("tp.sleep", function()
    it("waits at least ms inside a task", function()
      local elapsed
      go(function()
        local a = tp.now()
        tp.sleep(15.5)
        elapsed = tp.now() - a
      end)
      tp.run()
      assert.is_true(elapsed >= 15.5, elapsed)
    end)

    it("blocks outside tasks while spawned tasks progress", function()
      local log = {}
      go(function()
        for i = 1, 3 do tp.sleep(1); log[#log + 1] = i end
      end)
      local a = tp.now()
      tp.sleep(200)
      assert.is_true(tp.now() - a >= 200)
      assert.are.same({1, 2, 3}, log)
    end)

    it("blocks in a plain coroutine outside the loop", function()
      local log = {}
      go(function() log[#log + 1] = "task" end)
      local co = coroutine.wrap(function()
        tp.sleep(5)
        log[#log + 1] = "coroutine"
        return "back"
      end)
      assert.are.equal("back", co())
      assert.are.same({"task", "coroutine"}, log)
    end)

    it("blocks, not yields, in a plain coroutine inside a task", function()
      local got, log = nil, {}
      go(function()
        local co = coroutine.wrap(function() tp.sleep(5); return "slept" end)
        got = co()
        log[#log + 1] = "outer"
      end)
      go(function() log[#log + 1] = "other" end)
      tp.run()
      assert.are.equal("slept", got)
      assert.are.same({"other", "outer"}, log)   -- others ran during the block
    end)

    it("blocks inside a task where it cannot yield (across a C call)", function()
      local log = {}
      go(function()
        local t = {3, 1, 2}
        table.sort(t, function(a, b) tp.sleep(0); return a < b end)
        log[#log + 1] = table.concat(t, ",")
      end)
      go(function() log[#log + 1] = "other" end)
      tp.run()
      assert.are.same({"other", "1,2,3"}, log)
    end)

    it("refuses what is not a non-negative finite number", function()
      for _, bad in ipairs({-1, -0.5, "10", true, 0 / 0, math.huge}) do
        local e = raised(tp.sleep, bad)
        assert.matches("bad argument #1 to 'sleep' %(non%-negative finite number", e)
      end
      assert.matches("got nil", raised(tp.sleep))
      assert.matches("got string", raised(tp.sleep, "10"))
      assert.matches("got nan", raised(tp.sleep, 0 / 0))
      local t = go(function() tp.sleep(-3) end)
      assert.matches("got %-3", raised(tp.run))
      assert.are.equal("failed", t:status())
    end)

    it("accepts zero and fractions", function()
      tp.sleep(0)
      tp.sleep(0.25)
    end)
  end)

  describe("task:wait", function()
    it("blocks outside tasks until the task is done", function()
      local t = go(function() tp.sleep(5); tp.sleep(5); return "a", "b" end)
      local a, b = t:wait()
      assert.are.equal("a", a)
      assert.are.equal("b", b)
    end)

    it("returns outside tasks when the task ends leaving nothing pending", function()
      -- The turn that ran the task found nothing else to do: that must not
      -- read as a wait that can never complete.
      assert.are.equal(1, go(function() return 1 end):wait())
      assert.are.equal(2, go(function() tp.sleep(0) return 2 end):wait())
    end)

    it("yields inside a task until the other task is done", function()
      local log = {}
      local t = go(function() tp.sleep(5); log[#log + 1] = "t"; return 1 end)
      go(function()
        local v = t:wait()
        log[#log + 1] = "waiter" .. v
      end)
      go(function() log[#log + 1] = "third" end)
      tp.run()
      assert.are.same({"third", "t", "waiter1"}, log)
    end)

    it("refuses a task waiting for itself", function()
      local t
      t = go(function() t:wait() end)
      local e = raised(tp.run)
      assert.is_true(errors.is(e, "LoopError"))
      assert.matches("itself", tostring(e))
    end)

    it("raises LoopError for a task that was cancelled", function()
      local t = go(function() tp.sleep(1) end)
      assert.is_true(t:cancel())
      assert.is_true(errors.is(raised(t.wait, t), "LoopError"))
    end)
  end)

  describe("task:cancel", function()
    it("stops a sleeping task and its timer", function()
      local resumed = false
      local closed = false
      local t = go(function()
        local _ <close> = setmetatable({}, {__close = function() closed = true end})
        tp.sleep(60000)
        resumed = true
      end)
      go(function() tp.sleep(1); t:cancel() end)
      tp.run()                        -- would wait a minute for a live timer
      assert.are.equal("cancelled", t:status())
      assert.is_false(resumed)
      assert.is_true(closed)
      assert.is_false(core.loop.alive())
      assert.is_false(t:cancel())
    end)

    it("stops a task that has not started", function()
      local ran = false
      local t = go(function() ran = true end)
      assert.is_true(t:cancel())
      tp.run()
      assert.is_false(ran)
    end)

    it("refuses to cancel a running task", function()
      local t
      t = go(function() t:cancel() end)
      assert.is_true(errors.is(raised(tp.run), "LoopError"))
    end)

    it("wakes the tasks waiting for the cancelled one", function()
      local t = go(function() tp.sleep(60000) end)
      local got
      go(function()
        local ok, e = pcall(t.wait, t)
        got = (not ok) and errors.kind(e)
      end)
      go(function() tp.sleep(1); t:cancel() end)
      tp.run()
      assert.are.equal("LoopError", got)
    end)
  end)

  describe("deadlock", function()
    it("tp.run raises LoopError when tasks wait for each other", function()
      local a, b
      a = go(function() tp.sleep(1); b:wait() end)
      b = go(function() tp.sleep(1); a:wait() end)
      local e = raised(tp.run)
      assert.is_true(errors.is(e, "LoopError"))
      assert.matches("2 task%(s%) still waiting", tostring(e))
    end)

    it("a blocking wait raises LoopError when it can never complete", function()
      local a, b
      a = go(function() b:wait() end)
      b = go(function() a:wait() end)
      assert.is_true(errors.is(raised(a.wait, a), "LoopError"))
    end)
  end)

  describe("loop.await and operations", function()
    it("refuses what is neither a task nor an operation", function()
      assert.matches("bad argument #1 to 'await'", raised(loop.await, {}))
    end)

    it("waits for a bare timer operation in both worlds", function()
      local op = core.loop.timer(2)
      assert.are.equal("pending", op:status())
      loop.await(op)
      assert.are.equal("done", op:status())
      local op2 = core.loop.timer(2)
      go(function() loop.await(op2) end)
      tp.run()
      assert.are.equal("done", op2:status())
      loop.await(op2)                 -- finished: returns at once
    end)

    it("keeps a pending operation alive, and lets it go once delivered", function()
      local weak = setmetatable({}, {__mode = "v"})
      weak[1] = core.loop.timer(5)
      collectgarbage()
      collectgarbage()
      assert.is_not_nil(weak[1])      -- anchored while pending
      assert.matches("^truthound%.LoopOp %(timer, pending%): ", tostring(weak[1]))
      tp.run()
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])          -- no reference left behind
    end)

    it("cancels an operation, which then never completes", function()
      local op = core.loop.timer(60000)
      assert.is_true(op:cancel())
      assert.is_false(op:cancel())
      assert.are.equal("cancelled", op:status())
      tp.run()
      assert.is_false(core.loop.alive())
    end)

    it("cancels the operation of a blocking wait left by an error", function()
      local op = core.loop.timer(60000)
      go(function() error("interrupt") end)
      assert.matches("interrupt$", raised(loop.await, op))
      assert.are.equal("cancelled", op:status())
    end)

    it("rejects a bad timer in the binding", function()
      assert.matches("bad argument #1 .*non%-negative, finite", raised(core.loop.timer, -1))
      assert.matches("non%-negative, finite", raised(core.loop.timer, 0 / 0))
    end)

    it("closes an operation with <close>, cancelling it", function()
      local op
      do
        local timer <close> = core.loop.timer(60000)
        op = timer
      end
      assert.are.equal("closed", op:status())
      assert.is_false(op:cancel())
      tp.run()                        -- would wait a minute for a live timer
      assert.is_false(core.loop.alive())
      assert.matches("number expected", raised(core.loop.timer, "x"))
    end)
  end)

  describe("a closing lua_State", function()
    it("closes cleanly with pending timers, sleepers and tasks never resumed", function()
      local status, out = child([[
        local tp = require("truthound")
        local core = require("truthound.native")
        tp.spawn(function() tp.sleep(60000) end)
        tp.spawn(function() tp.sleep(1); tp.sleep(60000) end)
        local keep = core.loop.timer(60000)
        local dropped = core.loop.timer(60000)
        dropped = nil
        tp.sleep(5)
        local cancelled = core.loop.timer(60000)
        cancelled:cancel()
        tp.spawn(function() error("never run") end)
        tp.spawn(function() end)       -- garbage: never resumed
        collectgarbage()
        io.write("closing\n")
      ]])
      assert.are.equal("closing\n", out)
      assert.are.equal(0, status)
    end)
  end)
end)
