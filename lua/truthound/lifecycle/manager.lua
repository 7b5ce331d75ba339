-- truthound.lifecycle.manager: LifecycleManager, the per-plugin state
-- machine with observable, vetoable transitions.
--
--   local lifecycle = require("truthound.lifecycle")
--   local lm = lifecycle.LifecycleManager.new()
--   lm:on("BEFORE_ACTIVATE", function(plugin, event, data)
--     if data.metadata and data.metadata.frozen then return false, "frozen" end
--   end, {priority = 10})
--   lm:register("greeter")                               -- DISCOVERED
--   lm:transition("greeter", "LOADING")                  --> true
--   lm:transition("greeter", "LOADED", {action = load})  -- load() fails: ERROR
--   lm:get_state("greeter"), lm:get_history("greeter", 5)
--
-- Transitions of one plugin run one at a time, in the order they were
-- asked for: a transition asked from a handler of the same plugin is queued
-- (true, "queued", ticket) and runs once the current one is over; one asked
-- from another task waits for its turn there and returns its own outcome.
-- Handlers and actions may wait (tp.sleep, task:wait) when the transition
-- runs in a loop task. docs/lifecycle.md has the rules.

local loop = require("truthound.loop")
local errors = require("truthound.errors")
local states = require("truthound.lifecycle.states")

local parse_state, parse_event = states.parse_state, states.parse_event

-- Who runs a transition: the loop task (loop.current()), or MAIN for code
-- outside every task.
local MAIN = setmetatable({}, {__name = "truthound.lifecycle.main"})

-- A vetoed transition raises this kind when errors.lua has it, else a
-- LifecycleError with vetoed = true (the fields are the same).
local VETO_KIND = errors.classes.LifecycleVetoError and "LifecycleVetoError" or "LifecycleError"

local function describe(e)
  if e == nil then return "nil" end
  local ok, s = pcall(tostring, e)
  return ok and s or "(error object)"
end

local function default_warn(msg)
  io.stderr:write("truthound.lifecycle: warning: ", msg, "\n")
end

local function usage(msg, level)
  errors.raise("UsageError", msg, nil, (level or 1) + 1)
end

-- FIFO with moving ends (waiters leave from the middle, rarely).
local function qnew() return {first = 1, last = 0} end
local function qpush(q, v) q.last = q.last + 1; q[q.last] = v end
local function qpeek(q) return q[q.first] end
local function qpop(q)
  local i = q.first
  if i > q.last then return nil end
  local v = q[i]
  q[i] = nil
  q.first = i + 1
  return v
end
local function qremove(q, v)
  for i = q.first, q.last do
    if q[i] == v then
      table.move(q, i + 1, q.last, i)
      q[q.last] = nil
      q.last = q.last - 1
      return true
    end
  end
  return false
end
local function qlen(q) return q.last - q.first + 1 end

-- A latch: a task that finishes when released, so that a task or the
-- main chunk can loop.await() it (same call, both worlds). It waits on a
-- companion task that waits on it: nothing keeps the loop alive, so a
-- latch nobody releases ends in the loop's "still waiting" LoopError
-- instead of a hang.
local function latch_new()
  local blocker
  local latch = loop.spawn(function() loop.await(blocker) end)
  blocker = loop.spawn(function() loop.await(latch) end)
  return latch
end

local function latch_release(latch)
  local s = latch:status()
  if s == "pending" or s == "waiting" then latch:cancel() end
end

---------------------------------------------------------------------------
-- Tickets: one per transition asked for. A queued transition's ticket is
-- returned to the caller, who can read or wait for its outcome.

local Ticket = {__name = "truthound.lifecycle.Ticket"}
Ticket.__index = Ticket

-- "queued" | "running" | "done" | "vetoed" | "failed" | "illegal" |
-- "cancelled"
function Ticket:status()
  return self._status
end

-- ok, err once finished; nil while queued or running.
function Ticket:result()
  if self._finished then return self._ok, self._err end
  return nil
end

-- Waits until the transition has run and returns ok, err. Raises
-- LifecycleError when the caller is the one the ticket is waiting for
-- (inside a handler of the same plugin's running transition).
function Ticket:wait()
  if self._finished then return self._ok, self._err end
  local rec = self._rec
  if rec.runner == (loop.current() or MAIN) then
    errors.raise("LifecycleError", ("plugin '%s': waiting here for the queued transition to %s "
      .. "would deadlock: it runs after the transition this code is part of")
      :format(rec.id, self.to), {plugin_id = rec.id, to_state = self.to}, 2)
  end
  self._done_latch = self._done_latch or latch_new()
  loop.await(self._done_latch)
  return self._ok, self._err
end

function Ticket:__tostring()
  return ("lifecycle ticket (%s -> %s, %s)"):format(self.plugin_id, self.to, self._status)
end

local function finish(req, status, ok, err)
  req._status, req._ok, req._err, req._finished = status, ok, err, true
  if req._done_latch then latch_release(req._done_latch) end
  return ok, err
end

---------------------------------------------------------------------------
-- LifecycleManager

local LifecycleManager = {__name = "truthound.LifecycleManager"}
LifecycleManager.__index = LifecycleManager

-- LifecycleManager.new([opts]): opts.history_limit (entries kept per
-- plugin, default 100), opts.clock (timestamps; default os.time),
-- opts.warn (function(msg) for problems nobody else hears about; default
-- a line on stderr).
function LifecycleManager.new(opts)
  if opts ~= nil and type(opts) ~= "table" then
    usage("LifecycleManager.new: options table expected, got " .. type(opts), 2)
  end
  opts = opts or {}
  local limit = opts.history_limit or 100
  if math.type(limit) ~= "integer" or limit < 1 then
    usage("LifecycleManager.new: history_limit must be an integer >= 1, got " .. describe(limit), 2)
  end
  for _, k in ipairs({"clock", "warn"}) do
    if opts[k] ~= nil and type(opts[k]) ~= "function" then
      usage(("LifecycleManager.new: %s must be a function, got %s"):format(k, type(opts[k])), 2)
    end
  end
  return setmetatable({
    _plugins = {},          -- id -> record
    _handlers = {},         -- event -> sorted list of handles
    _seq = 0,               -- registration order of handlers
    _history_limit = limit,
    _clock = opts.clock or os.time,
    _warn = opts.warn or default_warn,
  }, LifecycleManager)
end

-- set_warn(fn): where problems go that no handler hears (an ON_ERROR
-- handler that raised, an error with no ON_ERROR handler, a queued
-- transition that turned out illegal).
function LifecycleManager:set_warn(fn)
  if type(fn) ~= "function" then usage("set_warn: function expected, got " .. type(fn), 2) end
  self._warn = fn
end

function LifecycleManager:_warn_msg(msg)
  local ok = pcall(self._warn, msg)
  if not ok then pcall(default_warn, msg) end
end

-- plugin: an id string, or a table with a string .id (kept, and given to
-- handlers and actions as `plugin`).
local function plugin_ref(plugin, level)
  if type(plugin) == "string" and plugin ~= "" then return plugin, nil end
  if type(plugin) == "table" and type(plugin.id) == "string" and plugin.id ~= "" then
    return plugin.id, plugin
  end
  usage("lifecycle: plugin id (a non-empty string) or a table with .id expected, got "
    .. (type(plugin) == "table" and "a table without a string id" or type(plugin)), (level or 1) + 1)
end

-- Handlers ------------------------------------------------------------------

local Handle = {__name = "truthound.lifecycle.Handle"}
Handle.__index = Handle

-- handle:remove() -> true the first time, false after. Safe during a
-- dispatch: a removed handler that has not run yet is not called.
function Handle:remove()
  if self.removed then return false end
  self.removed = true
  local list = self._manager._handlers[self.event]
  for i = 1, #list do
    if list[i] == self then table.remove(list, i); break end
  end
  return true
end

-- on(event, handler [, {priority = n, name = s}]) -> handle.
-- handler(plugin, event, data); higher priority first, then in the order
-- they were added.
function LifecycleManager:on(event, handler, opts)
  event = parse_event(event, 2)
  if type(handler) ~= "function" then
    local mt = getmetatable(handler)
    if not (type(mt) == "table" and mt.__call) then
      usage("on: handler function expected, got " .. type(handler), 2)
    end
  end
  if opts ~= nil and type(opts) ~= "table" then
    usage("on: options table expected, got " .. type(opts), 2)
  end
  local priority = opts and opts.priority or 0
  if type(priority) ~= "number" or priority ~= priority then
    usage("on: priority must be a number, got " .. describe(priority), 2)
  end
  self._seq = self._seq + 1
  local h = setmetatable({event = event, fn = handler, priority = priority,
                          name = opts and opts.name, seq = self._seq, _manager = self}, Handle)
  local list = self._handlers[event]
  if not list then list = {}; self._handlers[event] = list end
  local pos = #list + 1
  for i = 1, #list do
    if list[i].priority < priority then pos = i; break end
  end
  table.insert(list, pos, h)
  return h
end

-- The handlers of an event as they are when the dispatch starts.
function LifecycleManager:_snapshot(event)
  local list = self._handlers[event]
  if not list or #list == 0 then return nil end
  return table.move(list, 1, #list, 1, {})
end

local function handler_label(h)
  return h.name and ("%s handler '%s'"):format(h.event, h.name) or ("a %s handler"):format(h.event)
end

-- BEFORE_*: true, or false, reason, cause (the error a handler raised).
function LifecycleManager:_dispatch_before(event, plugin, data)
  local list = self:_snapshot(event)
  if not list then return true end
  for _, h in ipairs(list) do
    if not h.removed then
      local ok, r1, r2 = pcall(h.fn, plugin, event, data)
      if not ok then
        return false, ("%s raised: %s"):format(handler_label(h), describe(r1)), r1
      elseif r1 == false then
        return false, r2 ~= nil and describe(r2) or (handler_label(h) .. " returned false"), nil
      end
    end
  end
  return true
end

-- ON_ERROR: every handler hears it; one that raises is reported through
-- warn, never through ON_ERROR again. With no handler at all, warn.
function LifecycleManager:_dispatch_error(plugin, data)
  local list = self:_snapshot("ON_ERROR")
  local heard = false
  for _, h in ipairs(list or {}) do
    if not h.removed then
      heard = true
      local ok, e = pcall(h.fn, plugin, "ON_ERROR", data)
      if not ok then
        self:_warn_msg(("plugin '%s': %s raised while handling \"%s\": %s")
          :format(data.plugin_id, handler_label(h), data.reason, describe(e)))
      end
    end
  end
  if not heard then
    self:_warn_msg(("plugin '%s': %s (no ON_ERROR handler)"):format(data.plugin_id, data.reason))
  end
end

-- AFTER_* and ON_RELOAD: a handler that raises is reported through
-- ON_ERROR (source "handler"); the others still run; the state stays.
function LifecycleManager:_dispatch_after(event, plugin, data)
  if event == "ON_ERROR" then return self:_dispatch_error(plugin, data) end
  local list = self:_snapshot(event)
  if not list then return end
  for _, h in ipairs(list) do
    if not h.removed then
      local ok, e = pcall(h.fn, plugin, event, data)
      if not ok then
        self:_dispatch_error(plugin, {
          plugin_id = data.plugin_id, source = "handler", event = event,
          from = data.from, to = data.to, state = data.to, metadata = data.metadata,
          error = e, reason = ("%s raised: %s"):format(handler_label(h), describe(e)),
        })
      end
    end
  end
end

-- emit(plugin, event, data): fire ON_RELOAD or ON_ERROR for a plugin
-- without a transition (a dependency was reloaded; a failure that left
-- the state as it was). data.plugin_id is set; ON_ERROR needs data.reason.
function LifecycleManager:emit(plugin, event, data)
  local id, obj = plugin_ref(plugin, 2)
  event = parse_event(event, 2)
  if event ~= "ON_RELOAD" and event ~= "ON_ERROR" then
    usage("emit: only ON_RELOAD and ON_ERROR fire without a transition, got " .. event, 2)
  end
  local rec = self._plugins[id]
  data = data or {}
  data.plugin_id = id
  if event == "ON_ERROR" and data.reason == nil then usage("emit: ON_ERROR needs data.reason", 2) end
  self:_dispatch_after(event, rec and rec.obj or obj or id, data)
end

-- Plugins and history ---------------------------------------------------------

function LifecycleManager:_record(rec, entry)
  entry.timestamp = self._clock()
  local h = rec.history
  h[#h + 1] = entry
  while #h > self._history_limit do table.remove(h, 1) end
end

-- register(plugin [, state]): introduce a plugin, in DISCOVERED unless
-- told otherwise (a host restoring its view). No event fires. Raises
-- LifecycleError if the id is known already.
function LifecycleManager:register(plugin, state)
  local id, obj = plugin_ref(plugin, 2)
  state = parse_state(state or "DISCOVERED", 2)
  local old = self._plugins[id]
  if old then
    errors.raise("LifecycleError", ("plugin '%s' is already registered (state %s)"):format(id, old.state),
      {plugin_id = id, from_state = old.state, to_state = state}, 2)
  end
  local rec = {id = id, obj = obj, state = state, history = {}, queue = qnew(), runner = nil}
  self._plugins[id] = rec
  self:_record(rec, {from = nil, to = state, reason = "registered", duration_ms = 0})
  return state
end

-- forget(id) -> true if it was known. Only a plugin at rest (DISCOVERED,
-- UNLOADED or ERROR, nothing running or queued) can be forgotten.
local RESTING = {DISCOVERED = true, UNLOADED = true, ERROR = true}
function LifecycleManager:forget(plugin)
  local id = plugin_ref(plugin, 2)
  local rec = self._plugins[id]
  if not rec then return false end
  if not RESTING[rec.state] or rec.runner ~= nil then
    errors.raise("LifecycleError", ("plugin '%s' cannot be forgotten in state %s%s; "
      .. "only DISCOVERED, UNLOADED or ERROR plugins with no transition under way")
      :format(id, rec.state, rec.runner ~= nil and " with a transition under way" or ""),
      {plugin_id = id, from_state = rec.state}, 2)
  end
  self._plugins[id] = nil
  return true
end

-- get_state(id) -> the state, or nil for an unknown plugin.
function LifecycleManager:get_state(plugin)
  local rec = self._plugins[plugin_ref(plugin, 2)]
  return rec and rec.state
end

-- list() -> {{id = , state = , queued = n}, ...} sorted by id.
function LifecycleManager:list()
  local out = {}
  for id, rec in pairs(self._plugins) do
    out[#out + 1] = {id = id, state = rec.state, queued = qlen(rec.queue)}
  end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

local function copy(t)
  if t == nil then return nil end
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- get_history(id [, limit]) -> list of entries, newest last: from, to,
-- timestamp, reason, duration_ms, and when they apply vetoed, failed,
-- attempted, event, error, metadata. Copies; {} for an unknown plugin.
function LifecycleManager:get_history(plugin, limit)
  local rec = self._plugins[plugin_ref(plugin, 2)]
  if limit ~= nil and (math.type(limit) ~= "integer" or limit < 0) then
    usage("get_history: limit must be an integer >= 0, got " .. describe(limit), 2)
  end
  if not rec then return {} end
  local h = rec.history
  local first = limit and math.max(1, #h - limit + 1) or 1
  local out = {}
  for i = first, #h do
    local e = copy(h[i])
    e.metadata = copy(e.metadata)
    out[#out + 1] = e
  end
  return out
end

-- Transitions -------------------------------------------------------------------

local function illegal_error(rec, to)
  local allowed = states.allowed(rec.state)
  return errors.new("LifecycleError", ("plugin '%s': cannot go from %s to %s (allowed from %s: %s)")
    :format(rec.id, rec.state, to, rec.state, #allowed > 0 and table.concat(allowed, ", ") or "none"),
    {plugin_id = rec.id, from_state = rec.state, to_state = to, allowed = allowed})
end

-- Runs one transition; the caller holds the plugin's turn and has checked
-- that it is legal. Sets the ticket's outcome and returns ok, err.
function LifecycleManager:_execute(rec, req)
  req._status = "running"
  rec.current = req
  local from, to = rec.state, req.to
  local id, plugin = rec.id, rec.obj or rec.id
  local t0 = loop.now()
  req._t0 = t0
  local data = {plugin_id = id, from = from, to = to, metadata = req.metadata}
  local function elapsed() return loop.now() - t0 end

  local before = states.event_before(to)
  if before then
    req._phase = "before"
    local ok, reason, cause = self:_dispatch_before(before, plugin, data)
    if not ok then
      local err = errors.new(VETO_KIND, ("plugin '%s': %s -> %s vetoed: %s"):format(id, from, to, reason),
        {plugin_id = id, from_state = from, to_state = to, reason = reason, event = before,
         cause = cause, vetoed = true})
      self:_record(rec, {from = from, to = to, vetoed = true, event = before, reason = reason,
                         duration_ms = elapsed(), metadata = req.metadata})
      rec.current = nil
      return finish(req, "vetoed", false, err)
    end
  end

  if req.action then
    req._phase = "action"
    local ok, r1, r2 = pcall(req.action, plugin, data)
    -- Failure: it raised, or returned false [, msg] or nil, msg (Lua's
    -- "fail, message" convention). Returning nothing is success.
    if not ok or r1 == false or (r1 == nil and r2 ~= nil) then
      local cause = ok and r2 or r1
      local reason = ("%s -> %s failed: %s"):format(from, to, cause == nil and "the action returned false"
        or describe(cause))
      local err = errors.new("LifecycleError", ("plugin '%s': %s"):format(id, reason),
        {plugin_id = id, from_state = from, to_state = to, reason = reason, cause = cause, failed = true})
      rec.state = "ERROR"
      self:_record(rec, {from = from, to = "ERROR", failed = true, attempted = to, reason = reason,
                         error = cause, duration_ms = elapsed(), metadata = req.metadata})
      rec.current = nil
      finish(req, "failed", false, err)
      self:_dispatch_error(plugin, {plugin_id = id, source = "action", from = from, to = "ERROR",
        state = "ERROR", attempted = to, metadata = req.metadata, error = cause, reason = reason})
      return false, err
    end
  end

  rec.state = to
  local reason = req.metadata and req.metadata.reason
  self:_record(rec, {from = from, to = to, reason = reason ~= nil and describe(reason) or nil,
                     duration_ms = elapsed(), metadata = req.metadata})
  rec.current = nil
  req._phase = "after"
  local after = states.event_after(from, to)
  -- A reload that failed before its swap returns to ACTIVE with the old
  -- version: that is an error to report, not a reload to announce.
  if after == "ON_RELOAD" and req.metadata and req.metadata.rolled_back then
    after = "ON_ERROR"
  end
  if after then
    if after == "ON_ERROR" then
      data.source, data.state = "transition", to
      data.reason = reason ~= nil and describe(reason) or ("%s -> %s"):format(from, to)
      data.error = req.metadata and req.metadata.error
    end
    self:_dispatch_after(after, plugin, data)
  end
  return finish(req, "done", true, nil)
end

-- The turn passes on: to the next waiting task (woken to run its own
-- transition), or the plugin is free. Queued transitions asked by the
-- turn's holder itself are run here, in order.
function LifecycleManager:_drain(rec)
  while true do
    local nxt = qpeek(rec.queue)
    if nxt == nil then rec.runner = nil; return end
    qpop(rec.queue)
    if nxt._latch then
      rec.runner, nxt._handed = nxt._owner, true
      latch_release(nxt._latch)
      return
    end
    if states.can_transition(rec.state, nxt.to) then
      self:_execute(rec, nxt)
    else
      local err = illegal_error(rec, nxt.to)
      finish(nxt, "illegal", false, err)
      self:_warn_msg("queued transition dropped: " .. err.message)
    end
  end
end

-- Closes a turn: normally _drain has passed it on already.
local TurnGuard = {
  __close = function(g)
    if not g.done then g.manager:_abandon(g.rec) end
  end,
}

-- The holder of the turn left without finishing (its task was cancelled,
-- or an internal error escaped). Record what happened to the transition
-- under way, then let the others go on: a waiting task is woken; queued
-- transitions of the holder run in a task of their own.
function LifecycleManager:_abandon(rec)
  local req = rec.current
  rec.current = nil
  if req and not req._finished then
    local reason = "interrupted: the task running the transition was cancelled or failed"
    local ms = req._t0 and loop.now() - req._t0 or 0
    if req._phase == "action" then
      local from = rec.state
      rec.state = "ERROR"
      self:_record(rec, {from = from, to = "ERROR", failed = true, attempted = req.to,
                         reason = reason, duration_ms = ms, metadata = req.metadata})
      finish(req, "failed", false, errors.new("LifecycleError",
        ("plugin '%s': %s -> %s %s"):format(rec.id, from, req.to, reason),
        {plugin_id = rec.id, from_state = from, to_state = req.to, reason = reason, failed = true}))
      -- We may be closing a cancelled coroutine, where handlers could not
      -- wait: ON_ERROR runs in a task of its own.
      local data = {plugin_id = rec.id, source = "action", from = from, to = "ERROR", state = "ERROR",
                    attempted = req.to, metadata = req.metadata, reason = reason}
      loop.spawn(function() self:_dispatch_error(rec.obj or rec.id, data) end)
    elseif req._phase == "before" then
      self:_record(rec, {from = rec.state, to = req.to, vetoed = true, reason = reason,
                         duration_ms = ms, metadata = req.metadata})
      finish(req, "vetoed", false, errors.new(VETO_KIND,
        ("plugin '%s': %s -> %s %s"):format(rec.id, rec.state, req.to, reason),
        {plugin_id = rec.id, from_state = rec.state, to_state = req.to, reason = reason, vetoed = true}))
    else  -- the state had changed; only the AFTER_* handlers were cut short
      finish(req, "done", true, nil)
    end
  end
  local nxt = qpeek(rec.queue)
  if nxt == nil then
    rec.runner = nil
  elseif nxt._latch then
    self:_drain(rec)
  else
    rec.runner = loop.spawn(function()
      local guard <close> = setmetatable({manager = self, rec = rec}, TurnGuard)
      self:_drain(rec)
      guard.done = true
    end)
  end
end

function LifecycleManager:_turn(rec, req)
  local guard <close> = setmetatable({manager = self, rec = rec}, TurnGuard)
  self:_execute(rec, req)
  self:_drain(rec)
  guard.done = true
  return req._ok, req._err
end

-- A task waiting for its turn was cancelled: leave the queue, or pass on
-- a turn that was handed to it.
local WaitGuard = {
  __close = function(g)
    local req = g.req
    if req._started then return end
    latch_release(req._latch)
    finish(req, "cancelled", false, errors.new("LifecycleError",
      ("plugin '%s': transition to %s cancelled while waiting for its turn"):format(g.rec.id, req.to),
      {plugin_id = g.rec.id, to_state = req.to}))
    if req._handed then
      g.manager:_abandon(g.rec)
    else
      qremove(g.rec.queue, req)
    end
  end,
}

-- transition(plugin, to_state [, metadata]) -> ok, err.
-- metadata: a table recorded in the history; metadata.reason is the
-- entry's reason; metadata.action (not recorded) is a function(plugin,
-- data) run after the BEFORE_* handlers agreed and before the state
-- changes: if it raises, returns false[, msg] or nil, msg, the plugin goes
-- to ERROR.
--   true, nil               the transition happened
--   false, err              vetoed (state unchanged) or the action failed
--                           (state ERROR); err is a LifecycleError
--   true, "queued", ticket  asked from inside a transition of the same
--                           plugin: runs after it; ticket:wait() / :result()
-- Raises LifecycleError for an illegal transition (nothing changes) and
-- for an unknown plugin (except to DISCOVERED, which registers it).
function LifecycleManager:transition(plugin, to_state, metadata)
  local id, obj = plugin_ref(plugin, 2)
  local to = parse_state(to_state, 2)
  if metadata ~= nil and type(metadata) ~= "table" then
    usage("transition: metadata must be a table, got " .. type(metadata), 2)
  end
  local action
  if metadata then
    action = metadata.action
    if action ~= nil and type(action) ~= "function" then
      usage("transition: metadata.action must be a function, got " .. type(action), 2)
    end
    metadata = copy(metadata)
    metadata.action = nil
    if next(metadata) == nil then metadata = nil end
  end
  local rec = self._plugins[id]
  if not rec then
    if to == "DISCOVERED" then self:register(plugin); return true, nil end
    errors.raise("LifecycleError", ("plugin '%s' is not registered (register it, or transition "
      .. "it to DISCOVERED first)"):format(id), {plugin_id = id, to_state = to}, 2)
  end
  if obj then rec.obj = obj end
  local req = setmetatable({plugin_id = id, to = to, metadata = metadata, action = action,
                            _rec = rec, _status = "queued"}, Ticket)
  local owner = loop.current() or MAIN

  if rec.runner == nil then
    if not states.can_transition(rec.state, to) then error(illegal_error(rec, to), 2) end
    rec.runner = owner
    req._started = true
    return self:_turn(rec, req)
  elseif rec.runner == owner then
    qpush(rec.queue, req)
    return true, "queued", req
  end

  -- Another task (or the main chunk) holds the turn: wait for ours.
  req._latch, req._owner = latch_new(), owner
  qpush(rec.queue, req)
  do
    local wguard <close> = setmetatable({manager = self, rec = rec, req = req}, WaitGuard)
    loop.await(req._latch)
    req._started = true
  end
  req._latch = nil
  if not states.can_transition(rec.state, to) then
    local err = illegal_error(rec, to)
    finish(req, "illegal", false, err)
    local guard <close> = setmetatable({manager = self, rec = rec}, TurnGuard)
    self:_drain(rec)
    guard.done = true
    error(err, 2)
  end
  return self:_turn(rec, req)
end

return LifecycleManager
