-- truthound.security.sandbox.pool: warm workers of one sandbox context
-- (one plugin under one policy).
--
--   local pool = Pool.new{start = fn, stop = fn, size = 1, max = 4,
--                         recycle_after = 1000, reuse = true}
--   local w = pool:acquire()      -- waits (same call, both worlds) in FIFO order
--   ...                           -- one call on w
--   pool:release(w)               -- back to the idle list, or stopped when
--                                 -- w.dead, w.calls >= recycle_after or not reuse
--   pool:close()
--
-- start() -> worker (raises on failure) starts a worker; stop(w) ends one.
-- After a worker crashed (w.crashed), the next start waits a backoff that
-- doubles per consecutive crash (10 ms to 1 s) and resets on a good call.
-- A caller that waits is woken in the order it came; when the pool closes,
-- every waiter gets a SandboxError: no queued call is dropped silently.

local errors = require("truthound.errors")
local core = require("truthound.native")
local loop = require("truthound.loop")

local Pool = {}
Pool.__index = Pool

local M = {}

function M.new(opts)
  return setmetatable({
    start_fn = opts.start, stop_fn = opts.stop,
    size = opts.size or 1, max = math.max(opts.max or 4, opts.size or 1),
    recycle_after = opts.recycle_after or 1000, reuse = opts.reuse ~= false,
    idle = {}, all = {}, count = 0, busy = 0,
    waiting = {}, next_ticket = 1, serving = 1,
    crashes = 0, closed = false, started = 0, restarts = 0,
  }, Pool)
end

local function sleep(ms)
  loop.await(core.loop.timer(ms))
end

function Pool:_start()
  if self.crashes > 0 then
    sleep(math.min(1000, 10 * 2 ^ (self.crashes - 1)))
    self.restarts = self.restarts + 1
  end
  self.count = self.count + 1        -- reserved while it starts
  local ok, w = pcall(self.start_fn)
  if not ok then
    self.count = self.count - 1
    error(w, 0)
  end
  self.all[w] = true
  self.started = self.started + 1
  return w
end

-- warm(): start workers until size are there (errors raise).
function Pool:warm()
  while self.reuse and self.count < self.size and not self.closed do
    self.idle[#self.idle + 1] = self:_start()
  end
end

local function closed_error()
  errors.raise("SandboxError", "the sandbox was terminated while the call waited for a worker",
               {reason = "terminated"}, 3)
end

-- acquire() -> a worker for one call.
function Pool:acquire()
  if self.closed then closed_error() end
  local ticket = self.next_ticket
  self.next_ticket = ticket + 1
  -- FIFO: wait for our turn, then for a worker (idle, or room to start one)
  while true do
    if self.closed then closed_error() end
    if ticket == self.serving then
      if not self.reuse then
        self.serving = self.serving + 1
        local w = self:_start()
        self.busy = self.busy + 1
        return w
      end
      local w = table.remove(self.idle)
      if w then
        self.serving = self.serving + 1
        self.busy = self.busy + 1
        return w
      end
      if self.count < self.max then
        self.serving = self.serving + 1
        local ok, nw = pcall(self._start, self)
        if not ok then error(nw, 0) end
        self.busy = self.busy + 1
        return nw
      end
    end
    sleep(1)
  end
end

function Pool:_drop(w)
  if self.all[w] then
    self.all[w] = nil
    self.count = self.count - 1
  end
  pcall(self.stop_fn, w)
end

-- release(w): after one call.
function Pool:release(w)
  self.busy = self.busy - 1
  if w.crashed then self.crashes = self.crashes + 1 elseif not w.dead then self.crashes = 0 end
  if w.dead or self.closed or not self.reuse or w.calls >= self.recycle_after then
    self:_drop(w)
  else
    self.idle[#self.idle + 1] = w
  end
end

function Pool:workers() return self.count end

-- close(): stop every idle worker now; busy ones are stopped on release.
function Pool:close()
  self.closed = true
  for _, w in ipairs(self.idle) do self:_drop(w) end
  self.idle = {}
end

-- kill(fn): close, then fn(w) for every worker still alive (busy ones too:
-- their calls end with the worker's death).
function Pool:kill(fn)
  self:close()
  for w in pairs(self.all) do pcall(fn, w) end
end

return M
