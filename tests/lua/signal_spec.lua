-- tp.signal: POSIX signals delivered to the truthound loop (wait, watch).
-- Signals are sent to this very process by kill(1) in a child (io.popen,
-- not os.execute: system(3) ignores SIGINT and SIGQUIT in the caller while
-- it waits). Every test has a wait or a watch on the signal before it is
-- sent, so nothing here can take a signal's default action on busted; the
-- default actions are checked in child processes. No durations are
-- asserted, only the lower bound of a timeout.

local tp = require("truthound")
local errors = require("truthound.errors")
local loop = require("truthound.loop")
local core = require("truthound.native")

local signal = tp.signal or loop.signal
local pid = core.sandbox.getpid()

-- send("USR1"): kill -s USR1 <this process>. The signal has been handled
-- (by libuv's handler, which writes to the loop's pipe) when this returns:
-- kill(2) returned before the child exited and pclose waited for it.
local function send(name)
  local p = assert(io.popen("kill -s " .. name .. " " .. pid))
  p:close()
end

local spawned, watches = {}, {}

local function go(fn, ...)
  local t = tp.spawn(fn, ...)
  spawned[#spawned + 1] = t
  return t
end

local function watch(names, handler)
  local w = signal.watch(names, handler)
  watches[#watches + 1] = w
  return w
end

local function cleanup()
  for _, w in ipairs(watches) do w:stop() end
  watches = {}
  for _, t in ipairs(spawned) do
    local s = t:status()
    if s == "pending" or s == "waiting" then t:cancel() end
  end
  spawned = {}
  for _ = 1, 100 do
    if pcall(tp.run) then return end
  end
  error("the loop could not be cleaned up")
end

-- Let the loop run (and read the signal pipe) until cond() holds; a bound
-- turns a bug into a failure instead of a hang.
local function until_(cond)
  for _ = 1, 2000 do
    if cond() then return end
    tp.sleep(1)
  end
  error("condition never held")
end

local function raised(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return e
end

-- Run a chunk in a fresh interpreter (lua5.4, or tplua when given);
-- returns how it ended ("exit" or "signal"), the code, and its output.
local function child(chunk, interpreter)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write([[
local tp = require("truthound")
local signal = tp.signal or require("truthound.loop").signal
local pid = require("truthound.native").sandbox.getpid()
local function send(name)
  local p = assert(io.popen("kill -s " .. name .. " " .. pid))
  p:close()
end
local function say(s) io.stdout:write(s, "\n"); io.stdout:flush() end
]] .. chunk)
  f:close()
  -- -W (lua5.4): an error in a finalizer shows in the output.
  local cmd = interpreter and (interpreter .. " " .. path)
    or ((os.getenv("LUA") or "lua5.4") .. " -W " .. path)
  -- exec: the shell does not stay between us and the interpreter, so a
  -- death by signal is reported as such.
  local p = io.popen("exec " .. cmd .. " 2>&1")
  local out = p:read("a")
  local _, how, code = p:close()
  os.remove(path)
  return how, code, out
end

local function tplua()
  local path = os.getenv("TPLUA")
  if path and io.open(path) then return path end
  return nil
end

describe("tp.signal", function()
  after_each(cleanup)

  it("is exported by truthound.loop", function()
    assert.is_function(loop.signal.wait)
    assert.is_function(loop.signal.watch)
    if tp.signal ~= nil then assert.are.equal(loop.signal, tp.signal) end
  end)

  describe("wait", function()
    it("returns the name of the signal that arrived (inside a task)", function()
      local t = go(function() return signal.wait({"USR1", "USR2"}) end)
      go(function() send("USR2") end)
      tp.run()
      assert.are.equal("done", t:status())
      assert.are.equal("USR2", t:wait())
    end)

    it("runs the loop outside a task: same call, both worlds", function()
      local sender = go(function() send("USR1") end)
      assert.are.equal("USR1", signal.wait("USR1"))
      assert.are.equal("done", sender:status())
    end)

    it("takes a name in any case, with or without SIG, and answers canonically", function()
      go(function() send("HUP") end)
      assert.are.equal("HUP", signal.wait({"sighup", "Sigterm"}))
      go(function() send("QUIT") end)
      assert.are.equal("QUIT", signal.wait("quit"))
      go(function() send("TERM") end)
      assert.are.equal("TERM", signal.wait({"TERM", "term", "SIGTERM"}))
    end)

    it("returns nil when the timeout passes first, not before", function()
      local start = tp.now()
      assert.is_nil(signal.wait("USR1", 15))
      assert.is_true(tp.now() - start >= 15)
      assert.is_nil(signal.wait("USR1", 0))
      local t = go(function() return signal.wait("USR2", 2.5) end)
      tp.run()
      assert.are.equal("done", t:status())
      assert.is_nil(t:wait())
    end)

    it("a signal before the timeout wins", function()
      go(function() send("USR1") end)
      assert.are.equal("USR1", signal.wait("USR1", 60000))
    end)

    it("keeps the loop alive, and the signal's action away, while it waits", function()
      local t = go(function() return signal.wait("TERM") end)
      local seen
      go(function()
        tp.sleep(5)
        seen = signal.disposition("TERM")
        send("TERM")           -- would kill busted with the default action
      end)
      tp.run()                 -- does not return while t waits
      assert.are.equal("loop", seen)
      assert.are.equal("TERM", t:wait())
      assert.are.equal("default", signal.disposition("TERM"))
    end)

    it("stops watching when it returns: the previous disposition is back", function()
      local before = signal.disposition("INT")   -- lua.c's Ctrl-C handler under busted
      go(function() send("INT") end)
      assert.are.equal("INT", signal.wait("INT"))
      assert.are.equal(before, signal.disposition("INT"))
      assert.are.equal("default", signal.disposition("USR1"))
    end)

    it("cancelling the waiting task stops the wait", function()
      local t = go(function() return signal.wait("USR2") end)
      tp.sleep(0)                            -- t starts and waits
      assert.are.equal("waiting", t:status())
      assert.are.equal("loop", signal.disposition("USR2"))
      assert.is_true(t:cancel())
      assert.are.equal("default", signal.disposition("USR2"))
      tp.run()                               -- returns: nothing keeps it alive
      assert.are.equal("cancelled", t:status())
    end)

    it("a blocking wait left by a failing task stops watching", function()
      go(function() error("boom") end)
      local e = raised(signal.wait, "USR1")
      assert.matches("boom", tostring(e))
      assert.are.equal("default", signal.disposition("USR1"))
    end)

    it("refuses unknown names with a UsageError naming the accepted ones", function()
      for _, bad in ipairs({"KILL", "SIGSEGV", "CHLD", "", 9}) do
        local e = raised(signal.wait, bad)
        assert.is_true(errors.is(e, "UsageError"), tostring(e))
        assert.is_true(errors.is(e, "InputError"))
        assert.are.equal(bad, e.input)
        assert.matches("INT, TERM, HUP, USR1, USR2, QUIT", e.message, 1, true)
      end
      local e = raised(signal.wait, {"INT", "BOGUS"})
      assert.matches('unknown signal "BOGUS"', e.message, 1, true)
      for _, bad in ipairs({{}, false, 42.5}) do
        assert.is_true(errors.is(raised(signal.wait, bad), "UsageError"))
      end
      assert.is_true(errors.is(raised(signal.wait), "UsageError"))
      assert.are_not.equal("loop", signal.disposition("INT"))
    end)

    it("refuses a bad timeout like tp.sleep does", function()
      for _, bad in ipairs({-1, 0 / 0, math.huge, "10", true}) do
        local e = raised(signal.wait, "USR1", bad)
        assert.matches("bad argument #2 to 'wait'", tostring(e), 1, true)
      end
      assert.are.equal("default", signal.disposition("USR1"))
    end)
  end)

  describe("watch", function()
    it("runs the handler as a new task for every delivery", function()
      local got, tasks = {}, {}
      local w = watch({"USR1", "HUP"}, function(name, wt)
        tasks[#tasks + 1] = loop.current()
        assert.is_truthy(wt.names)
        tp.sleep(1)                          -- a handler may wait
        got[#got + 1] = name
      end)
      assert.are.same({"USR1", "HUP"}, w.names)
      send("USR1")
      send("HUP")
      send("USR1")                           -- three deliveries before any turn
      until_(function() return #got == 3 end)
      table.sort(got)
      assert.are.same({"HUP", "USR1", "USR1"}, got)
      assert.are.equal(3, #tasks)
      assert.are_not.equal(tasks[1], tasks[2])
      assert.are_not.equal(tasks[2], tasks[3])
      assert.are.equal(0, w:dropped())
      assert.are.equal("loop", signal.disposition("USR1"))
    end)

    it("hands deliveries to the handler in the order they came", function()
      local got = {}
      watch({"USR1", "USR2"}, function(name) got[#got + 1] = name end)
      send("USR2"); send("USR1"); send("USR2"); send("USR2"); send("USR1")
      until_(function() return #got == 5 end)
      assert.are.same({"USR2", "USR1", "USR2", "USR2", "USR1"}, got)
    end)

    it("does not keep tp.run() running: it returns with only a watch left", function()
      local w = watch("TERM", function() end)
      tp.run()                               -- returns at once
      assert.is_true(w:active())
      -- Deliveries that arrive meanwhile wait for the next time the loop runs.
      local got = 0
      local w2 = watch("USR2", function() got = got + 1 end)
      send("USR2")
      assert.are.equal(0, got)
      until_(function() return got == 1 end)
      assert.is_true(w2:active())
    end)

    it("keeps running when its object is dropped, until stopped", function()
      local got = 0
      local weak = setmetatable({signal.watch("USR1", function() got = got + 1 end)},
                                {__mode = "v"})
      collectgarbage(); collectgarbage()
      assert.is_truthy(weak[1])
      watches[#watches + 1] = weak[1]        -- cleanup stops it if this fails
      send("USR1")
      until_(function() return got == 1 end)
      weak[1]:stop()
      assert.are.equal("default", signal.disposition("USR1"))
    end)

    it("stop restores the previous disposition and returns false the second time", function()
      local before = signal.disposition("INT")
      local w = watch({"INT", "USR2"}, function() end)
      assert.are.equal("loop", signal.disposition("INT"))
      assert.are.equal("loop", signal.disposition("USR2"))
      assert.is_true(w:stop())
      assert.is_false(w:stop())
      assert.is_false(w:active())
      assert.are.equal(before, signal.disposition("INT"))
      assert.are.equal("default", signal.disposition("USR2"))
      assert.matches("signal watch %(INT USR2, stopped%)", tostring(w))
    end)

    it("a <close> variable stops it at the end of the block", function()
      do
        local w <close> = signal.watch("HUP", function() end)
        assert.are.equal("loop", signal.disposition("HUP"))
        assert.is_true(w:active())
      end
      assert.are.equal("default", signal.disposition("HUP"))
    end)

    it("two watchers of a signal each get it; the last stop restores", function()
      local a, b = 0, 0
      local wa = watch("USR1", function() a = a + 1 end)
      local wb = watch({"USR1", "USR2"}, function() b = b + 1 end)
      send("USR1")
      until_(function() return a == 1 and b == 1 end)
      wa:stop()
      assert.are.equal("loop", signal.disposition("USR1"))
      send("USR1")
      until_(function() return b == 2 end)
      assert.are.equal(1, a)
      wb:stop()
      assert.are.equal("default", signal.disposition("USR1"))
    end)

    it("a wait and a watch of one signal both see a delivery", function()
      local got = 0
      watch("USR2", function() got = got + 1 end)
      go(function() send("USR2") end)
      assert.are.equal("USR2", signal.wait("USR2"))
      until_(function() return got == 1 end)
      assert.are.equal("loop", signal.disposition("USR2"))   -- the watch still has it
    end)

    it("a handler may stop its own watch", function()
      local got = 0
      watch("USR1", function(_, w)
        got = got + 1
        w:stop()
      end)
      send("USR1")
      until_(function() return got == 1 end)
      assert.are.equal("default", signal.disposition("USR1"))
    end)

    it("a failing handler fails its task, which the driver raises", function()
      watch("USR2", function() error("handler failed") end)
      send("USR2")
      local e = raised(until_, function() return false end)
      assert.matches("handler failed", tostring(e))
    end)

    it("refuses bad names and bad handlers", function()
      local e = raised(signal.watch, "STOP", function() end)
      assert.is_true(errors.is(e, "UsageError"))
      assert.matches("tp.signal.watch: unknown signal", e.message, 1, true)
      e = raised(signal.watch, "USR1")
      assert.matches("bad argument #2 to 'watch' (function expected, got nil)", tostring(e), 1, true)
      local callable = setmetatable({}, {__call = function() end})
      watch("USR1", callable)
      assert.are.equal("loop", signal.disposition("USR1"))
    end)
  end)

  describe("in a child process", function()
    it("a stopped watch leaves SIGTERM's default action: the process dies of it", function()
      local how, code, out = child([[
local got = {}
local w = signal.watch("TERM", function(name) got[#got + 1] = name end)
send("TERM")
while #got == 0 do tp.sleep(1) end
say("handled " .. table.concat(got, ","))
w:stop()
send("TERM")
say("survived")
]])
      assert.are.equal("signal", how, out)
      assert.are.equal(15, code)
      assert.matches("handled TERM", out, 1, true)
      assert.is_nil(out:find("survived", 1, true))
    end)

    it("a stopped watch gives SIGINT back to lua5.4's Ctrl-C handler", function()
      local how, code, out = child([[
local got = 0
local w = signal.watch("INT", function() got = got + 1 end)
send("INT")
while got == 0 do tp.sleep(1) end
say("handled " .. got)
w:stop()
send("INT")
for _ = 1, 1e8 do end   -- the interpreter's hook fires here
say("survived")
]])
      assert.are.equal("exit", how, out)
      assert.are.equal(1, code)
      assert.matches("handled 1", out, 1, true)
      assert.matches("interrupted!", out, 1, true)
      assert.is_nil(out:find("survived", 1, true))
    end)

    it("the shutdown pattern of docs/loop.md: stop main on TERM, a second TERM forces", function()
      local how, code, out = child([[
local main = tp.spawn(function() tp.sleep(1e9) end)
local w = signal.watch({"INT", "TERM"}, function(name, watch)
  watch:stop()
  say("got " .. name .. ", main cancelled: " .. tostring(main:cancel()))
end)
tp.spawn(function() tp.sleep(1); send("TERM") end)
local ok, e = pcall(main.wait, main)
say("main: " .. tostring(e))
say("cleaning up")
send("TERM")
say("not forced")
]])
      assert.are.equal("signal", how, out)
      assert.are.equal(15, code)
      assert.matches("got TERM, main cancelled: true\nmain: LoopError: the task was cancelled\n"
        .. "cleaning up\n", out, 1, true)
      assert.is_nil(out:find("not forced", 1, true))
    end)

    it("an active watch, never stopped, ends cleanly with the interpreter", function()
      local how, code, out = child([[
signal.watch({"TERM", "HUP"}, function() end)
local t = tp.spawn(function() return signal.wait("USR1") end)
tp.sleep(0)
send("HUP")
tp.sleep(1)
say("bye")
]])
      assert.are.equal("exit", how, out)
      assert.are.equal(0, code, out)
      assert.are.equal("bye\n", out)
    end)

    it("under tplua: the watch wins over tplua's Ctrl-C handler, which comes back", function()
      local host = tplua()
      if host == nil then pending("TPLUA does not name a built tplua") return end
      local how, code, out = child([[
local got = 0
local w = signal.watch("INT", function() got = got + 1 end)
send("INT")
while got == 0 do tp.sleep(1) end
say("handled " .. got)
w:stop()
send("INT")
for _ = 1, 1e8 do end
say("survived")
]], host)
      assert.matches("handled 1", out, 1, true)
      assert.matches("interrupted!", out, 1, true)
      assert.is_nil(out:find("survived", 1, true))
      assert.are.equal("exit", how, out)
      assert.are_not.equal(0, code)
    end)
  end)

  it("under tplua: a watch that outlives its chunk keeps SIGINT", function()
    local host = tplua()
    if host == nil then pending("TPLUA does not name a built tplua") return end
    -- tplua installs its Ctrl-C handler around each chunk and puts back the
    -- previous one after it; through tp_loopsig_action that goes
    -- underneath an active watch instead of replacing it.
    local src = io.open("core/tplua.c")
    local patched = src and src:read("a"):find("tp_loopsig_action", 1, true)
    if src then src:close() end
    if not patched then pending("core/tplua.c does not use tp_loopsig_action yet") return end
    local pre = [[signal = require("truthound.loop").signal
pid = require("truthound.native").sandbox.getpid()
function send(name) local p = assert(io.popen("kill -s " .. name .. " " .. pid)); p:close() end]]
    local p = io.popen("exec " .. host .. " -e '" .. pre .. "'"
      .. " -e 'got = 0; w = signal.watch(\"INT\", function() got = got + 1 end)'"
      .. " -e 'print(signal.disposition(\"INT\")); send(\"INT\")"
      .. "; for i = 1, 2000 do if got > 0 then break end tp.sleep(1) end"
      .. "; print(\"handled\", got); w:stop()' 2>&1")
    local out = p:read("a")
    local ok = p:close()
    assert.is_true(ok, out)
    assert.are.equal("loop\nhandled\t1\n", out)
  end)
end)
