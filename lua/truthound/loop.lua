-- truthound.loop: tasks on the libuv loop of this lua_State.
--
--   local tp = require("truthound")
--   local t = tp.spawn(function(a) tp.sleep(10); return a * 2 end, 21)
--   tp.run()              -- until nothing is pending; re-raises a task's error
--   t:wait()              --> 42
--
-- A task is a coroutine the loop resumes. Anything that waits (tp.sleep,
-- task:wait, and later process, socket and watch operations) goes through
-- loop.await(w): inside a task it yields and the loop resumes the task once
-- w has finished; anywhere else it runs the loop itself until w has
-- finished, so spawned tasks make progress meanwhile. docs/loop.md has the
-- rules; this file is their implementation.

local core = require("truthound.native")
local errors = require("truthound.errors")

local C = core.loop
local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_running, co_status, co_close = coroutine.running, coroutine.status, coroutine.close
local co_isyieldable = coroutine.isyieldable
local pack, unpack = table.pack, table.unpack

local loop = {}

local function loop_error(message, level)
  errors.raise("LoopError", message, nil, (level or 1) + 1)
end

-- What a task yields to the loop to say "resume me when w has finished".
-- Any other yield that reaches the loop just lets the other tasks run.
local AWAIT = setmetatable({}, {__name = "truthound.loop.AWAIT"})

local Task = {__name = "truthound.Task"}
Task.__index = Task

local TERMINAL = {done = true, failed = true, cancelled = true}

-- FIFO queues with moving ends, so popping is O(1).
local function queue() return {first = 1, last = 0} end

local function qpush(q, v)
  local i = q.last + 1
  q.last = i
  q[i] = v
end

local function qpop(q)
  local i = q.first
  if i > q.last then return nil end
  local v = q[i]
  q[i] = nil
  q.first = i + 1
  return v
end

local function qlen(q) return q.last - q.first + 1 end

local ready = queue()      -- tasks to resume, in order
local failures = queue()   -- failed tasks nobody was waiting for
local waiters = {}         -- waitable -> list of tasks awaiting it
local finished = setmetatable({}, {__mode = "k"})  -- operations delivered by step
-- op -> function(op): called when step hands op back, for operations no
-- task waits for (a signal watch's next delivery).
local on_done = setmetatable({}, {__mode = "k"})
local nwaiting = 0         -- tasks in status "waiting"
local current = nil        -- the task being resumed (innermost), or nil
local step_out = {}        -- reused by C.step

local function is_task(v) return getmetatable(v) == Task end

local function is_finished(w)
  if is_task(w) then return TERMINAL[w._status] == true end
  return finished[w] == true
end

-- w has finished: its waiters become ready, in the order they came.
local function wake(w)
  local list = waiters[w]
  if list == nil then return end
  waiters[w] = nil
  for i = 1, #list do
    local t = list[i]
    nwaiting = nwaiting - 1
    t._waiting = nil
    t._status = "pending"
    qpush(ready, t)
  end
end

local function wait_on(t, w)
  local list = waiters[w]
  if list == nil then
    list = {}
    waiters[w] = list
  end
  list[#list + 1] = t
  t._waiting = w
  t._status = "waiting"
  nwaiting = nwaiting + 1
end

local function describe(e)
  local ok, s = pcall(tostring, e)
  return ok and s or "(error object)"
end

-- t ended with error e. Its waiters get the error through task:wait();
-- without waiters, the error waits in `failures` for the loop's driver.
local function fail(t, e)
  t._status = "failed"
  t._error = e
  if waiters[t] then t._observed = true else qpush(failures, t) end
  wake(t)
end

local function ended(t, prev, ok, ...)
  current = prev
  if ok and co_status(t._co) == "suspended" then     -- it yielded
    local what, w = ...
    if what == AWAIT and not is_finished(w) then
      wait_on(t, w)
    else
      t._status = "pending"
      qpush(ready, t)
    end
  elseif ok then                                     -- it returned
    t._status = "done"
    t._results = pack(...)
    wake(t)
  else
    local e = ...
    t._traceback = debug.traceback(t._co, describe(e))
    -- Run the coroutine's pending __close handlers; as in pcall, an error
    -- raised by one of them replaces the original error. (pcall: close
    -- refuses a coroutine that is still on the stack, which only happens
    -- when someone resumed a task's coroutine by hand.)
    local okc, closed, e2 = pcall(co_close, t._co)
    fail(t, (okc and not closed) and e2 or e)
  end
end

local function resume(t)
  local prev = current
  current = t
  t._status = "running"
  local args = t._args
  if args then
    t._args = nil
    return ended(t, prev, co_resume(t._co, unpack(args, 1, args.n)))
  end
  return ended(t, prev, co_resume(t._co))
end

-- The driver (tp.run, or a wait outside every task) raises the error of
-- the first failed task nobody collected, unchanged.
local function raise_failure()
  while true do
    local t = qpop(failures)
    if t == nil then return end
    if not t._observed then
      t._observed = true
      error(t._error, 0)
    end
  end
end

-- One turn: resume the tasks that were ready when it began, then one turn
-- of the uv loop (blocking only when no task is ready). Returns false when
-- there was nothing at all to do (a task that ran counts: it may be what
-- the caller waits for, finished without leaving anything pending).
local function turn(driver)
  local ran = false
  for _ = 1, qlen(ready) do
    local t = qpop(ready)
    if t == nil then break end              -- a nested turn took them
    if t._status == "pending" then          -- not cancelled meanwhile
      ran = true
      resume(t)
      if driver then raise_failure() end
    end
  end
  local block = qlen(ready) == 0
  if block and not C.alive() then return ran end
  local n = C.step(block, step_out)
  for i = 1, n do
    local op = step_out[i]
    step_out[i] = nil
    finished[op] = true
    local cb = on_done[op]
    if cb then on_done[op] = nil; cb(op) end
    wake(op)
  end
  return true
end

-- Cancels the operation a blocking wait was for when the wait is left by
-- an error: nobody is left to collect its result.
local Guard = {
  __close = function(g, err)
    if err ~= nil and not is_finished(g.w) then g.w:cancel() end
  end,
}

-- loop.await(w): wait until w has finished. w is a task or an operation
-- object from a binding (core.loop.timer, ...). Returns nothing; read the
-- result from w itself.
function loop.await(w)
  local task = is_task(w)
  if not task and type(w) ~= "userdata" then
    error(("bad argument #1 to 'await' (task or operation expected, got %s)")
      :format(type(w)), 2)
  end
  if is_finished(w) then return end
  if task and w == current then loop_error("a task cannot wait for itself", 2) end
  if current ~= nil and co_running() == current._co and co_isyieldable() then
    co_yield(AWAIT, w)           -- the loop resumes us once w finished
    return
  end
  -- Not a loop task (or one that cannot yield here: inside a C function
  -- such as a table.sort comparator): run the loop here until w finishes.
  -- Outside every task this call is the driver and raises other tasks'
  -- failures; inside a task those are left to the outer driver.
  local driver = current == nil
  local guard <close> = (not task) and setmetatable({w = w}, Guard) or nil
  if driver then raise_failure() end
  while not is_finished(w) do
    if not turn(driver) then
      loop_error("wait can never complete: no task is ready and no operation is pending", 2)
    end
  end
end

-- loop.current(): the task the loop is running (innermost), or nil.
function loop.current()
  return current
end

local function typename(v)
  if v ~= v then return "nan" end
  if math.type(v) then return tostring(v) end
  return type(v)
end

-- loop.spawn(fn, ...): a new task that runs fn(...) once the loop runs.
function loop.spawn(fn, ...)
  local f = fn
  if type(fn) ~= "function" then
    local mt = getmetatable(fn)
    if type(mt) ~= "table" or mt.__call == nil then
      error(("bad argument #1 to 'spawn' (function expected, got %s)"):format(type(fn)), 2)
    end
    f = function(...) return fn(...) end
  end
  local t = setmetatable({_co = co_create(f), _args = pack(...), _status = "pending"}, Task)
  qpush(ready, t)
  return t
end

-- loop.run(): run until no task is ready and nothing is pending. Stops at
-- the first task that fails and raises its error unchanged; the other
-- tasks stay as they are and a later run() goes on with them.
function loop.run()
  if current ~= nil then
    loop_error("tp.run() called inside a task; wait there with tp.sleep or task:wait()", 2)
  end
  raise_failure()
  while turn(true) do end
  if nwaiting > 0 then
    loop_error(("%d task(s) still waiting with nothing left to wake them "
      .. "(waiting on each other, or on a cancelled operation)"):format(nwaiting), 2)
  end
end

-- loop.sleep(ms): wait ms milliseconds (tp.now() grows by at least ms).
function loop.sleep(ms)
  if math.type(ms) == nil or ms ~= ms or ms < 0 or ms == math.huge then
    error(("bad argument #1 to 'sleep' (non-negative finite number of milliseconds "
      .. "expected, got %s)"):format(typename(ms)), 2)
  end
  loop.await(C.timer(ms))
end

-- loop.now(): milliseconds on CLOCK_MONOTONIC, a float.
loop.now = C.now

-- Tasks --------------------------------------------------------------------

-- "pending" (ready to run) | "running" | "waiting" | "done" | "failed" |
-- "cancelled"
function Task:status()
  return self._status
end

-- Wait for the task (same call, both worlds) and return its results; if it
-- failed, raise its error unchanged; if it was cancelled, raise LoopError.
function Task:wait()
  loop.await(self)
  local s = self._status
  if s == "done" then
    local r = self._results
    return unpack(r, 1, r.n)
  elseif s == "failed" then
    self._observed = true
    error(self._error, 0)
  end
  loop_error("the task was cancelled", 2)
end

-- The error of a failed task (nil otherwise). Reading it counts as
-- handling it: tp.run will not raise it any more.
function Task:error()
  if self._status ~= "failed" then return nil end
  self._observed = true
  return self._error
end

-- The stack traceback where a failed task raised (a string), or nil.
function Task:traceback()
  return self._traceback
end

-- Stop a task that has not finished: it is never resumed again and its
-- pending to-be-closed variables are closed. The operation it waited for
-- is cancelled when no other task waits for it. Returns true if the task
-- was cancelled, false if it had already finished.
function Task:cancel()
  local s = self._status
  if s == "running" then loop_error("cannot cancel a running task", 2) end
  if TERMINAL[s] then return false end
  if s == "waiting" then
    local w = self._waiting
    local list = waiters[w]
    for i = #list, 1, -1 do
      if list[i] == self then table.remove(list, i) end
    end
    nwaiting = nwaiting - 1
    self._waiting = nil
    if #list == 0 then
      waiters[w] = nil
      if not is_task(w) then w:cancel() end
    end
  end
  self._status = "cancelled"
  self._args = nil
  local ok, e = co_close(self._co)
  if ok then wake(self) else fail(self, e) end
  return true
end

function Task:__tostring()
  return ("task (%s): %p"):format(self._status, self)
end

-- Signals ------------------------------------------------------------------
--
--   tp.signal.wait(names [, timeout_ms]) -> "INT" | ... | nil on timeout
--   tp.signal.watch(names, handler)      -> watch; handler(name, watch) runs
--                                           as a new task per delivery
--
-- POSIX signals reach the loop through libuv (core/loopsig.c): libuv's
-- handler only writes to the loop's pipe, and no Lua runs in a signal
-- handler. docs/loop.md "Signals" has the rules.

local S = core.signal
local signal = {}
loop.signal = signal

local SIGNAL_LIST = "INT, TERM, HUP, USR1, USR2, QUIT"

local function signal_usage(fname, message, input)
  -- Level 4: signal_usage < signal_numbers < tp.signal.<fname> < its caller.
  errors.raise("UsageError", ("tp.signal.%s: %s"):format(fname, message),
    {input = input, expected = SIGNAL_LIST}, 4)
end

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return typename(v)
end

-- A name or a list of names (case does not matter, nor a "SIG" prefix) ->
-- the distinct signal numbers and their canonical names.
local function signal_numbers(names, fname)
  local list = type(names) == "string" and {names} or names
  if type(list) ~= "table" or #list == 0 then
    signal_usage(fname, ("a signal name or a list of them expected (%s), got %s")
      :format(SIGNAL_LIST, type(names) == "table" and "an empty list" or show(names)), names)
  end
  local nums, canon, seen = {}, {}, {}
  for i = 1, #list do
    local name = list[i]
    local key = type(name) == "string" and (name:upper():gsub("^SIG", "")) or nil
    local num = key and S.numbers[key]
    if not num then
      signal_usage(fname, ("unknown signal %s (accepted: %s)"):format(show(name), SIGNAL_LIST),
        name)
    end
    if not seen[num] then
      seen[num] = true
      nums[#nums + 1] = num
      canon[#canon + 1] = key
    end
  end
  return nums, canon
end

-- signal.wait(names [, timeout_ms]): wait for one of the signals (same call,
-- both worlds) and return its name, or nil once timeout_ms passed. Only
-- deliveries after the call count. While it waits, the loop stays alive
-- and the signals do not take their usual action; cancelling the waiting
-- task stops the wait.
function signal.wait(names, timeout_ms)
  local nums = signal_numbers(names, "wait")
  if timeout_ms ~= nil and (math.type(timeout_ms) == nil or timeout_ms ~= timeout_ms
      or timeout_ms < 0 or timeout_ms == math.huge) then
    error(("bad argument #2 to 'wait' (non-negative finite number of milliseconds "
      .. "expected, got %s)"):format(typename(timeout_ms)), 2)
  end
  local op = S.wait(nums, timeout_ms)
  loop.await(op)
  return op:result()
end

-- Watches ----------------------------------------------------------------
--
-- A watch (signals here, file trees in truthound.fswatch) is a native
-- operation that never completes; its next() gives a notice that comes
-- back from the loop's step when the watch has something new. No task
-- waits for a notice, on purpose: an idle watch must not count as a
-- waiting task when tp.run() decides whether it is done or stuck. So
-- turn() calls back (on_done), and the watch dispatches and arms the next
-- notice. A watch object has _native, _active and _next.

-- The armed notice of each running watch -> the watch. Strong: a running
-- watch lives until it is stopped, whether or not its creator keeps the
-- object.
local watching = {}

-- watch_arm(w, dispatch): arm w's next notice; when it comes back and w
-- is still active, dispatch(w) runs (a dispatch that raises fails a task
-- of its own, the watch goes on) and the next notice is armed.
function loop.watch_arm(w, dispatch)
  local nx = w._native:next()
  w._next = nx
  watching[nx] = w
  on_done[nx] = function(op)
    watching[op] = nil
    w._next = nil
    if w._active then
      local ok, e = pcall(dispatch, w)
      if not ok then loop.spawn(error, e, 0) end
      loop.watch_arm(w, dispatch)
    end
  end
end

-- watch_stop(w [, last]): stop w (true), or false if it was stopped
-- already. last(w), if given, runs between the disarm and the native stop
-- (a signal watch hands out the deliveries the loop already read).
function loop.watch_stop(w, last)
  if not w._active then return false end
  w._active = false
  local nx = w._next
  if nx ~= nil then
    watching[nx] = nil
    on_done[nx] = nil
    w._next = nil
  end
  if last then last(w) end
  w._native:stop()               -- also cancels the notice
  return true
end

-- Methods every watch has (its class's __index falls back on these).
loop.WatchMethods = {
  active = function(w) return w._active end,
  dropped = function(w) return w._native:dropped() end,
}

local Watch = setmetatable({__name = "truthound.SignalWatch"}, {__index = loop.WatchMethods})
Watch.__index = Watch

-- Every delivery the loop has read becomes a new task of the handler.
local function dispatch(w)
  local names = w._native:take()
  for i = 1, #names do loop.spawn(w._handler, names[i], w) end
end

-- signal.watch(names, handler): from now until watch:stop(), every delivery
-- of one of the signals runs handler(name, watch) as a new task. The watch
-- does not keep the loop alive: tp.run() returns when only watches are
-- left, and their deliveries are handled the next time the loop runs.
function signal.watch(names, handler)
  local nums, canon = signal_numbers(names, "watch")
  if type(handler) ~= "function" then
    local mt = getmetatable(handler)
    if type(mt) ~= "table" or mt.__call == nil then
      error(("bad argument #2 to 'watch' (function expected, got %s)"):format(type(handler)), 2)
    end
  end
  local w = setmetatable({names = canon, _native = S.watch(nums), _handler = handler,
    _active = true}, Watch)
  loop.watch_arm(w, dispatch)
  return w
end

-- watch:stop(): deliveries the loop already read still get their tasks;
-- then each signal gets back the disposition it had before the first
-- watcher (SIG_DFL, a host's Ctrl-C handler, SIG_IGN, ...) once no other
-- watch or wait has it. Returns true, or false if it was stopped already.
function Watch:stop()
  return loop.watch_stop(self, dispatch)
end

-- `local w <close> = tp.signal.watch(...)` stops at the end of the block.
function Watch:__close()
  self:stop()
end

-- Watch:active(), Watch:dropped() (loop.WatchMethods): dropped counts the
-- deliveries the watch could not keep (more than 65536 waiting for the
-- loop to hand them out); 0 in any sane program.

function Watch:__tostring()
  return ("signal watch (%s, %s): %p"):format(table.concat(self.names, " "),
    self._active and "active" or "stopped", self)
end

-- signal.disposition(name): what the signal does in this process right
-- now: "loop" (a wait or watch has it), "default", "ignored" or "other" (a
-- handler of someone else, e.g. the interpreter's Ctrl-C handler).
function signal.disposition(name)
  local nums = signal_numbers(name, "disposition")
  return S.disposition(nums[1])
end

return loop
