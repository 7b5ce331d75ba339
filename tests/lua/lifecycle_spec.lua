-- truthound.lifecycle: the transition table (every legal and illegal
-- pair), events, veto, priorities, handler error routing, actions,
-- reentrancy and queueing, waiting handlers in loop tasks, history.

local tp = require("truthound")
local errors = require("truthound.errors")
local lifecycle = require("truthound.lifecycle")

local LM = lifecycle.LifecycleManager
local STATES = lifecycle.PluginState.list()

-- Every test gets a manager whose warnings are collected, not printed.
local warnings
local function new(opts)
  opts = opts or {}
  warnings = {}
  opts.warn = opts.warn or function(msg) warnings[#warnings + 1] = msg end
  return LM.new(opts)
end

-- The loop is shared by every spec file: leave nothing behind.
local spawned = {}
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
  for _ = 1, 100 do
    if pcall(tp.run) then return end
  end
  error("the loop could not be cleaned up")
end

local function raised(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return e
end

local function last(lm, id)
  local h = lm:get_history(id)
  return h[#h]
end

-- Records every event: "EVENT plugin from>to".
local function recorder(lm)
  local log = {}
  for _, ev in ipairs(lifecycle.LifecycleEvent.list()) do
    lm:on(ev, function(plugin, event, data)
      local id = type(plugin) == "table" and plugin.id or plugin
      log[#log + 1] = ("%s %s %s>%s"):format(event, id, tostring(data.from), tostring(data.to))
    end)
  end
  return log
end

-- The documented table (docs/lifecycle.md); the module must agree with it.
local DOC_TABLE = {
  DISCOVERED   = {"LOADING", "ERROR"},
  LOADING      = {"LOADED", "ERROR"},
  LOADED       = {"ACTIVATING", "UNLOADING", "ERROR"},
  ACTIVATING   = {"ACTIVE", "ERROR"},
  ACTIVE       = {"DEACTIVATING", "RELOADING", "ERROR"},
  DEACTIVATING = {"INACTIVE", "ERROR"},
  INACTIVE     = {"ACTIVATING", "UNLOADING", "ERROR"},
  UNLOADING    = {"UNLOADED", "ERROR"},
  UNLOADED     = {"LOADING", "ERROR"},
  RELOADING    = {"ACTIVE", "ERROR"},
  ERROR        = {"LOADING", "UNLOADING"},
}

local function legal_set(from)
  local s = {}
  for _, to in ipairs(DOC_TABLE[from]) do s[to] = true end
  return s
end

describe("lifecycle states and table", function()
  it("has the 11 states and 10 events, parsed in any case", function()
    assert.are.same({"DISCOVERED", "LOADING", "LOADED", "ACTIVATING", "ACTIVE", "DEACTIVATING",
                     "INACTIVE", "UNLOADING", "UNLOADED", "RELOADING", "ERROR"}, STATES)
    assert.are.equal(10, #lifecycle.LifecycleEvent.list())
    assert.are.equal("ACTIVE", lifecycle.PluginState.parse("active"))
    assert.are.equal("ON_RELOAD", lifecycle.LifecycleEvent.parse("on_reload"))
    local v, msg = lifecycle.PluginState.parse("ACTIV")
    assert.is_nil(v)
    assert.matches("unknown plugin state 'ACTIV'; expected one of DISCOVERED", msg, 1, true)
  end)

  it("TRANSITIONS is the documented table and read-only", function()
    for _, from in ipairs(STATES) do
      local row = {}
      for i, to in ipairs(lifecycle.TRANSITIONS[from]) do row[i] = to end
      assert.are.same(DOC_TABLE[from], row, from)
      assert.are.same(DOC_TABLE[from], lifecycle.allowed(from))
    end
    assert.has_error(function() lifecycle.TRANSITIONS.ACTIVE = {} end)
    assert.is_true(lifecycle.can_transition("active", "reloading"))
    assert.is_false(lifecycle.can_transition("ACTIVE", "LOADED"))
  end)

  it("maps transitions to events", function()
    assert.are.equal("BEFORE_LOAD", lifecycle.event_before("LOADING"))
    assert.are.equal("BEFORE_UNLOAD", lifecycle.event_before("UNLOADING"))
    assert.is_nil(lifecycle.event_before("RELOADING"))
    assert.are.equal("AFTER_ACTIVATE", lifecycle.event_after("ACTIVATING", "ACTIVE"))
    assert.are.equal("ON_RELOAD", lifecycle.event_after("RELOADING", "ACTIVE"))
    assert.are.equal("ON_ERROR", lifecycle.event_after("LOADED", "ERROR"))
    assert.is_nil(lifecycle.event_after("LOADED", "ACTIVATING"))
  end)

  it("refuses unknown state and event names with a UsageError", function()
    local lm = new()
    lm:register("p")
    local e = raised(lm.transition, lm, "p", "RUNNING")
    assert.is_true(errors.is(e, "UsageError"))
    assert.matches("unknown plugin state 'RUNNING'", e.message, 1, true)
    e = raised(lm.on, lm, "AFTER_START", function() end)
    assert.is_true(errors.is(e, "UsageError"))
    assert.matches("unknown lifecycle event 'AFTER_START'", e.message, 1, true)
    assert.is_true(errors.is(raised(lm.on, lm, "ON_ERROR", 42), "UsageError"))
    assert.is_true(errors.is(raised(lm.transition, lm, {}, "LOADING"), "UsageError"))
    assert.is_true(errors.is(raised(LM.new, {history_limit = 0}), "UsageError"))
  end)
end)

describe("LifecycleManager transitions", function()
  after_each(cleanup)

  it("takes every legal transition of the table", function()
    local n = 0
    for _, from in ipairs(STATES) do
      for _, to in ipairs(DOC_TABLE[from]) do
        local lm = new()
        lm:register("p", from)
        local ok, err = lm:transition("p", to, {reason = "test"})
        assert.is_true(ok, from .. " -> " .. to)
        assert.is_nil(err)
        assert.are.equal(to, lm:get_state("p"))
        local h = last(lm, "p")
        assert.are.equal(from, h.from)
        assert.are.equal(to, h.to)
        assert.are.equal("test", h.reason)
        assert.is_nil(h.vetoed)
        n = n + 1
      end
    end
    assert.are.equal(25, n)
  end)

  it("refuses every illegal transition, changing nothing", function()
    local n = 0
    for _, from in ipairs(STATES) do
      local ok_to = legal_set(from)
      for _, to in ipairs(STATES) do
        if not ok_to[to] then
          local lm = new()
          local fired = 0
          for _, ev in ipairs(lifecycle.LifecycleEvent.list()) do
            lm:on(ev, function() fired = fired + 1 end)
          end
          lm:register("x", from)
          local ran = false
          local e = raised(lm.transition, lm, "x", to, {action = function() ran = true end})
          assert.is_true(errors.is(e, "LifecycleError"), from .. " -> " .. to)
          assert.are.equal("x", e.plugin_id)
          assert.are.equal(from, e.from_state)
          assert.are.equal(to, e.to_state)
          assert.are.same(DOC_TABLE[from], e.allowed)
          assert.are.equal(("plugin 'x': cannot go from %s to %s (allowed from %s: %s)")
            :format(from, to, from, table.concat(DOC_TABLE[from], ", ")), e.message)
          assert.are.equal(from, lm:get_state("x"))
          assert.are.equal(1, #lm:get_history("x"))
          assert.are.equal(0, fired)
          assert.is_false(ran)
          n = n + 1
        end
      end
    end
    assert.are.equal(11 * 11 - 25, n)
  end)

  it("knows only registered plugins", function()
    local lm = new()
    assert.is_nil(lm:get_state("nobody"))
    assert.are.same({}, lm:get_history("nobody"))
    local e = raised(lm.transition, lm, "nobody", "LOADING")
    assert.is_true(errors.is(e, "LifecycleError"))
    assert.matches("plugin 'nobody' is not registered", e.message, 1, true)
    assert.is_true(lm:transition("nobody", "DISCOVERED"))      -- registers
    assert.are.equal("DISCOVERED", lm:get_state("nobody"))
    e = raised(lm.register, lm, "nobody")
    assert.is_true(errors.is(e, "LifecycleError"))
    assert.matches("already registered (state DISCOVERED)", e.message, 1, true)
    lm:register({id = "b"}, "inactive")
    assert.are.same({{id = "b", state = "INACTIVE", queued = 0},
                     {id = "nobody", state = "DISCOVERED", queued = 0}}, lm:list())
    assert.is_true(errors.is(raised(lm.forget, lm, "b"), "LifecycleError"))
    assert.is_true(lm:forget("nobody"))
    assert.is_false(lm:forget("nobody"))
    assert.is_nil(lm:get_state("nobody"))
  end)

  it("fires the documented events along a whole life", function()
    local lm = new()
    local log = recorder(lm)
    lm:register("p")
    for _, to in ipairs({"LOADING", "LOADED", "ACTIVATING", "ACTIVE", "RELOADING", "ACTIVE",
                         "DEACTIVATING", "INACTIVE", "ACTIVATING", "ACTIVE", "DEACTIVATING",
                         "INACTIVE", "UNLOADING", "UNLOADED", "LOADING", "ERROR", "UNLOADING"}) do
      assert.is_true(lm:transition("p", to))
    end
    assert.are.same({
      "BEFORE_LOAD p DISCOVERED>LOADING", "AFTER_LOAD p LOADING>LOADED",
      "BEFORE_ACTIVATE p LOADED>ACTIVATING", "AFTER_ACTIVATE p ACTIVATING>ACTIVE",
      "ON_RELOAD p RELOADING>ACTIVE",
      "BEFORE_DEACTIVATE p ACTIVE>DEACTIVATING", "AFTER_DEACTIVATE p DEACTIVATING>INACTIVE",
      "BEFORE_ACTIVATE p INACTIVE>ACTIVATING", "AFTER_ACTIVATE p ACTIVATING>ACTIVE",
      "BEFORE_DEACTIVATE p ACTIVE>DEACTIVATING", "AFTER_DEACTIVATE p DEACTIVATING>INACTIVE",
      "BEFORE_UNLOAD p INACTIVE>UNLOADING", "AFTER_UNLOAD p UNLOADING>UNLOADED",
      "BEFORE_LOAD p UNLOADED>LOADING", "ON_ERROR p LOADING>ERROR",
      "BEFORE_UNLOAD p ERROR>UNLOADING",
    }, log)
  end)

  it("gives handlers the plugin table, the event and the data", function()
    local lm = new()
    local plugin = {id = "greeter", version = "1.0.0"}
    local got
    lm:on("BEFORE_LOAD", function(p, event, data) got = {p = p, event = event, data = data} end)
    lm:register(plugin)
    lm:transition("greeter", "LOADING", {reason = "boot", by = "test"})
    assert.are.equal(plugin, got.p)
    assert.are.equal("BEFORE_LOAD", got.event)
    assert.are.equal("greeter", got.data.plugin_id)
    assert.are.equal("DISCOVERED", got.data.from)
    assert.are.equal("LOADING", got.data.to)
    assert.are.same({reason = "boot", by = "test"}, got.data.metadata)
  end)

  it("gives handlers the id when the plugin is a string", function()
    local lm = new()
    local got
    lm:on("AFTER_LOAD", function(p) got = p end)
    lm:register("s", "LOADING")
    lm:transition("s", "LOADED")
    assert.are.equal("s", got)
  end)
end)

describe("LifecycleManager veto", function()
  after_each(cleanup)

  it("a BEFORE_* handler returning false vetoes, with its reason", function()
    local lm = new()
    local after, ran, later = false, false, false
    lm:on("BEFORE_ACTIVATE", function() return false, "maintenance window" end, {priority = 5})
    lm:on("BEFORE_ACTIVATE", function() later = true end)
    lm:on("AFTER_ACTIVATE", function() after = true end)
    lm:register("p", "LOADED")
    local ok, err = lm:transition("p", "ACTIVATING", {action = function() ran = true end})
    assert.is_false(ok)
    assert.is_true(errors.is(err, "LifecycleError"))
    assert.is_true(err.vetoed)
    assert.are.equal("maintenance window", err.reason)
    assert.are.equal("BEFORE_ACTIVATE", err.event)
    assert.are.equal("LOADED", err.from_state)
    assert.are.equal("ACTIVATING", err.to_state)
    assert.are.equal("plugin 'p': LOADED -> ACTIVATING vetoed: maintenance window", err.message)
    assert.are.equal("LOADED", lm:get_state("p"))
    assert.is_false(after or ran or later)
    local h = last(lm, "p")
    assert.are.same({"LOADED", "ACTIVATING", true, "maintenance window", "BEFORE_ACTIVATE"},
                    {h.from, h.to, h.vetoed, h.reason, h.event})
  end)

  it("a bare false names the handler", function()
    local lm = new()
    lm:on("BEFORE_LOAD", function() return false end, {name = "quota"})
    lm:register("p")
    local ok, err = lm:transition("p", "LOADING")
    assert.is_false(ok)
    assert.are.equal("BEFORE_LOAD handler 'quota' returned false", err.reason)
  end)

  it("a BEFORE_* handler that raises vetoes; the error is kept as the cause", function()
    local lm = new()
    local cause = errors.new("PolicyError", "plugin wants the network", {field = "allow_network"})
    lm:on("BEFORE_UNLOAD", function() error(cause) end)
    lm:register("p", "INACTIVE")
    local ok, err = lm:transition("p", "UNLOADING")
    assert.is_false(ok)
    assert.is_true(err.vetoed)
    assert.are.equal(cause, err.cause)
    assert.matches("raised: PolicyError: plugin wants the network", err.reason, 1, true)
    assert.are.equal("INACTIVE", lm:get_state("p"))
    assert.is_true(last(lm, "p").vetoed)
    -- a string error too
    lm:on("BEFORE_LOAD", function() error("disk full", 0) end)
    lm:register("q")
    ok, err = lm:transition("q", "LOADING")
    assert.is_false(ok)
    assert.are.equal("a BEFORE_LOAD handler raised: disk full", err.reason)
  end)

  it("anything but false lets the transition through", function()
    local lm = new()
    lm:on("BEFORE_LOAD", function() return nil end)
    lm:on("BEFORE_LOAD", function() return 0 end)
    lm:on("BEFORE_LOAD", function() return true, "ignored" end)
    lm:register("p")
    assert.is_true(lm:transition("p", "LOADING"))
  end)
end)

describe("LifecycleManager handlers", function()
  after_each(cleanup)

  it("run by priority, then in registration order", function()
    local lm = new()
    local order = {}
    local function h(name) return function() order[#order + 1] = name end end
    lm:on("AFTER_LOAD", h("a0"))
    lm:on("AFTER_LOAD", h("b10"), {priority = 10})
    lm:on("AFTER_LOAD", h("c0"))
    lm:on("AFTER_LOAD", h("d-5"), {priority = -5})
    lm:on("AFTER_LOAD", h("e10"), {priority = 10})
    lm:on("AFTER_LOAD", h("f2.5"), {priority = 2.5})
    lm:register("p", "LOADING")
    lm:transition("p", "LOADED")
    assert.are.same({"b10", "e10", "f2.5", "a0", "c0", "d-5"}, order)
  end)

  it("handles remove once, and only their handler", function()
    local lm = new()
    local calls = {}
    local h1 = lm:on("ON_ERROR", function() calls[#calls + 1] = 1 end)
    lm:on("ON_ERROR", function() calls[#calls + 1] = 2 end)
    assert.is_true(h1:remove())
    assert.is_false(h1:remove())
    lm:register("p")
    lm:transition("p", "ERROR")
    assert.are.same({2}, calls)
  end)

  it("removing during a dispatch is safe", function()
    local lm = new()
    local calls = {}
    local hb, hself
    lm:on("AFTER_LOAD", function() calls[#calls + 1] = "a"; hb:remove() end, {priority = 3})
    hself = lm:on("AFTER_LOAD", function() calls[#calls + 1] = "self"; hself:remove() end,
                  {priority = 2})
    hb = lm:on("AFTER_LOAD", function() calls[#calls + 1] = "b" end, {priority = 1})
    lm:on("AFTER_LOAD", function() calls[#calls + 1] = "c"
      lm:on("AFTER_LOAD", function() calls[#calls + 1] = "added" end, {priority = 100})
    end)
    lm:register("p", "LOADING")
    lm:transition("p", "LOADED")
    assert.are.same({"a", "self", "c"}, calls)    -- b removed before its turn; "added" next time
    lm:register("q", "LOADING")
    calls = {}
    lm:transition("q", "LOADED")
    assert.are.same({"added", "a", "c"}, calls)
    assert.are.same({}, warnings)
  end)

  it("a vetoing BEFORE_* handler removed by an earlier one does not veto", function()
    local lm = new()
    local veto
    lm:on("BEFORE_LOAD", function() veto:remove() end, {priority = 1})
    veto = lm:on("BEFORE_LOAD", function() return false, "should not run" end)
    lm:register("p")
    assert.is_true(lm:transition("p", "LOADING"))
    assert.are.equal("LOADING", lm:get_state("p"))
  end)

  it("AFTER_* handler errors go to ON_ERROR; the others still run; the state stays", function()
    local lm = new()
    local plugin = {id = "p"}
    local seen, second = nil, false
    local boom = errors.new("SandboxError", "hook crashed")
    lm:on("AFTER_LOAD", function() error(boom) end, {priority = 1, name = "audit"})
    lm:on("AFTER_LOAD", function() second = true end)
    lm:on("ON_ERROR", function(p, event, data) seen = {p = p, event = event, data = data} end)
    lm:register(plugin, "LOADING")
    local ok, err = lm:transition(plugin, "LOADED")
    assert.is_true(ok)
    assert.is_nil(err)
    assert.is_true(second)
    assert.are.equal("LOADED", lm:get_state("p"))
    assert.are.equal(plugin, seen.p)
    assert.are.equal("ON_ERROR", seen.event)
    assert.are.equal("handler", seen.data.source)
    assert.are.equal("AFTER_LOAD", seen.data.event)
    assert.are.equal(boom, seen.data.error)
    assert.are.equal("p", seen.data.plugin_id)
    assert.are.equal("AFTER_LOAD handler 'audit' raised: SandboxError: hook crashed", seen.data.reason)
    assert.are.same({}, warnings)
  end)

  it("ON_RELOAD handler errors go to ON_ERROR too", function()
    local lm = new()
    local n = 0
    lm:on("ON_RELOAD", function() error("reload hook") end)
    lm:on("ON_ERROR", function(_, _, data) n = n + 1; assert.are.equal("ON_RELOAD", data.event) end)
    lm:register("p", "RELOADING")
    assert.is_true(lm:transition("p", "ACTIVE"))
    assert.are.equal(1, n)
  end)

  it("an ON_ERROR handler that raises is reported through warn, once, without recursion", function()
    local lm = new()
    local calls, other = 0, 0
    lm:on("ON_ERROR", function() calls = calls + 1; error("handler bug", 0) end, {priority = 1})
    lm:on("ON_ERROR", function() other = other + 1 end)
    lm:on("AFTER_UNLOAD", function() error("after bug", 0) end)
    lm:register("p", "UNLOADING")
    assert.is_true(lm:transition("p", "UNLOADED"))
    assert.are.equal(1, calls)
    assert.are.equal(1, other)
    assert.are.equal(1, #warnings)
    assert.matches("plugin 'p': a ON_ERROR handler raised while handling", warnings[1], 1, true)
    assert.matches("after bug", warnings[1], 1, true)
    assert.matches("handler bug", warnings[1], 1, true)
  end)

  it("an error nobody handles is warned about, never swallowed", function()
    local lm = new()
    lm:on("AFTER_DEACTIVATE", function() error("lost", 0) end)
    lm:register("p", "DEACTIVATING")
    lm:transition("p", "INACTIVE")
    assert.are.equal(1, #warnings)
    assert.matches("plugin 'p': .*lost %(no ON_ERROR handler%)", warnings[1])
  end)

  it("a warn function that raises falls back to stderr instead of failing", function()
    local lm = LM.new{warn = function() error("bad warn") end}
    lm:register("p", "LOADING")
    local lines, real = {}, io.stderr
    io.stderr = {write = function(_, ...) lines[#lines + 1] = table.concat({...}) end}
    local ok, e = pcall(lm.transition, lm, "p", "ERROR", {reason = "expected in this test"})
    io.stderr = real
    assert.is_true(ok, tostring(e))
    assert.are.same({"truthound.lifecycle: warning: plugin 'p': expected in this test "
                     .. "(no ON_ERROR handler)\n"}, lines)
    lm:set_warn(function() end)
    assert.is_true(errors.is(raised(lm.set_warn, lm, 1), "UsageError"))
  end)

  it("entering ERROR fires ON_ERROR with the reason", function()
    local lm = new()
    local data
    lm:on("ON_ERROR", function(_, _, d) data = d end)
    lm:register("p", "ACTIVE")
    local e = errors.new("SandboxTimeoutError", "slow", {timeout_seconds = 1})
    assert.is_true(lm:transition("p", "ERROR", {reason = "watchdog", error = e}))
    assert.are.same({"transition", "ACTIVE", "ERROR", "watchdog"},
                    {data.source, data.from, data.to, data.reason})
    assert.are.equal(e, data.error)
  end)
end)

describe("LifecycleManager actions", function()
  after_each(cleanup)

  it("run after the BEFORE_* handlers, before the state changes", function()
    local lm = new()
    local order = {}
    lm:on("BEFORE_LOAD", function() order[#order + 1] = "before" end)
    lm:register({id = "p", tag = "T"})
    local ok = lm:transition("p", "LOADING", {reason = "r", action = function(plugin, data)
      order[#order + 1] = ("action %s %s>%s in %s"):format(plugin.tag, data.from, data.to,
                                                           lm:get_state("p"))
    end})
    assert.is_true(ok)
    assert.are.same({"before", "action T DISCOVERED>LOADING in DISCOVERED"}, order)
    assert.are.same({reason = "r"}, last(lm, "p").metadata)       -- action not recorded
  end)

  it("a failing action sends the plugin to ERROR and fires ON_ERROR", function()
    local lm = new()
    local data, after = nil, false
    lm:on("ON_ERROR", function(_, _, d) data = d end)
    lm:on("AFTER_ACTIVATE", function() after = true end)
    lm:register("p", "ACTIVATING")
    local cause = errors.new("SandboxTimeoutError", "activate ran too long",
                             {timeout_seconds = 2, execution_time = 2.1})
    local ok, err = lm:transition("p", "ACTIVE", {action = function() error(cause) end})
    assert.is_false(ok)
    assert.is_true(errors.is(err, "LifecycleError"))
    assert.is_true(err.failed)
    assert.are.equal(cause, err.cause)
    assert.are.equal("plugin 'p': ACTIVATING -> ACTIVE failed: SandboxTimeoutError: activate ran too long",
                     err.message)
    assert.are.equal("ERROR", lm:get_state("p"))
    assert.is_false(after)
    assert.are.same({"action", "ACTIVATING", "ERROR", "ACTIVE"},
                    {data.source, data.from, data.to, data.attempted})
    assert.are.equal(cause, data.error)
    local h = last(lm, "p")
    assert.are.same({"ACTIVATING", "ERROR", true, "ACTIVE"}, {h.from, h.to, h.failed, h.attempted})
    assert.are.equal(err.reason, h.reason)
  end)

  it("an action returning false, msg fails too", function()
    local lm = new()
    lm:register("p", "LOADING")
    local ok, err = lm:transition("p", "LOADED", {action = function() return false, "no entry module" end})
    assert.is_false(ok)
    assert.are.equal("LOADING -> LOADED failed: no entry module", err.reason)
    assert.are.equal("ERROR", lm:get_state("p"))
    assert.are.equal(1, #warnings)          -- no ON_ERROR handler: warned
  end)

  it("an action returning nil, msg fails; returning nothing or true succeeds", function()
    local lm = new()
    lm:register("p", "UNLOADING")
    local ok, err = lm:transition("p", "UNLOADED", {action = function() return nil, "busy" end})
    assert.is_false(ok)
    assert.are.equal("UNLOADING -> UNLOADED failed: busy", err.reason)
    lm:register("q", "UNLOADING")
    assert.is_true(lm:transition("q", "UNLOADED", {action = function() end}))
    lm:register("r", "UNLOADING")
    assert.is_true(lm:transition("r", "UNLOADED", {action = function() return true end}))
    lm:register("s", "UNLOADING")
    assert.is_true(lm:transition("s", "UNLOADED", {action = function() return nil end}))
  end)

  it("is not run when the transition is vetoed", function()
    local lm = new()
    local ran = false
    lm:on("BEFORE_DEACTIVATE", function() return false, "busy" end)
    lm:register("p", "ACTIVE")
    assert.is_false(lm:transition("p", "DEACTIVATING", {action = function() ran = true end}))
    assert.is_false(ran)
    assert.are.equal("ACTIVE", lm:get_state("p"))
  end)

  it("refuses a non-function action", function()
    local lm = new()
    lm:register("p")
    assert.is_true(errors.is(raised(lm.transition, lm, "p", "LOADING", {action = "load"}), "UsageError"))
    assert.is_true(errors.is(raised(lm.transition, lm, "p", "LOADING", "meta"), "UsageError"))
  end)
end)

describe("LifecycleManager ERROR recovery and RELOADING", function()
  after_each(cleanup)

  it("recovers from ERROR by loading again", function()
    local lm = new()
    local log = recorder(lm)
    lm:register("p", "ERROR")
    assert.is_true(lm:transition("p", "LOADING"))
    assert.is_true(lm:transition("p", "LOADED"))
    assert.are.same({"BEFORE_LOAD p ERROR>LOADING", "AFTER_LOAD p LOADING>LOADED"}, log)
  end)

  it("recovers from ERROR by unloading", function()
    local lm = new()
    lm:register("p", "ERROR")
    assert.is_true(lm:transition("p", "UNLOADING"))
    assert.is_true(lm:transition("p", "UNLOADED"))
    assert.are.equal("UNLOADED", lm:get_state("p"))
  end)

  it("a recovery whose action fails stays in ERROR", function()
    local lm = new()
    local n = 0
    lm:on("ON_ERROR", function() n = n + 1 end)
    lm:register("p", "ERROR")
    local ok, err = lm:transition("p", "LOADING", {action = function() error("still broken", 0) end})
    assert.is_false(ok)
    assert.are.equal("ERROR", lm:get_state("p"))
    assert.are.equal(1, n)
    local h = last(lm, "p")
    assert.are.same({"ERROR", "ERROR", "LOADING"}, {h.from, h.to, h.attempted})
    assert.matches("still broken", err.message, 1, true)
  end)

  it("reloads: ACTIVE -> RELOADING -> ACTIVE fires ON_RELOAD, not AFTER_ACTIVATE", function()
    local lm = new()
    local log = recorder(lm)
    lm:register("p", "ACTIVE")
    assert.is_true(lm:transition("p", "RELOADING"))
    assert.is_true(lm:transition("p", "ACTIVE", {action = function() end}))
    assert.are.same({"ON_RELOAD p RELOADING>ACTIVE"}, log)
  end)

  it("a failed reload goes to ERROR, explicitly or through its action", function()
    local lm = new()
    local log = recorder(lm)
    lm:register("a", "RELOADING")
    assert.is_true(lm:transition("a", "ERROR", {reason = "new version broken"}))
    lm:register("b", "RELOADING")
    assert.is_false(lm:transition("b", "ACTIVE", {action = function() error("no", 0) end}))
    assert.are.same({"ON_ERROR a RELOADING>ERROR", "ON_ERROR b RELOADING>ERROR"}, log)
    -- and from ERROR, reloading is not a way back
    assert.is_true(errors.is(raised(lm.transition, lm, "b", "RELOADING"), "LifecycleError"))
    assert.is_true(errors.is(raised(lm.transition, lm, "b", "ACTIVE"), "LifecycleError"))
  end)
end)

describe("LifecycleManager reentrancy", function()
  after_each(cleanup)

  it("a transition of the same plugin from a handler is queued and runs after", function()
    local lm = new()
    local inside = {}
    lm:on("AFTER_LOAD", function(p)
      local ok, note, ticket = lm:transition(p, "ACTIVATING", {reason = "auto"})
      inside = {ok = ok, note = note, ticket = ticket, state = lm:get_state(p),
                status = ticket:status(), result = ticket:result()}
      local e = raised(ticket.wait, ticket)            -- would deadlock
      inside.wait_error = e
    end)
    lm:register("p", "LOADING")
    local ok, err = lm:transition("p", "LOADED")
    assert.is_true(ok)
    assert.is_nil(err)
    assert.is_true(inside.ok)
    assert.are.equal("queued", inside.note)
    assert.are.equal("LOADED", inside.state)
    assert.are.equal("queued", inside.status)
    assert.is_nil(inside.result)
    assert.is_true(errors.is(inside.wait_error, "LifecycleError"))
    assert.matches("would deadlock", inside.wait_error.message, 1, true)
    -- the queued one ran before the outer call returned
    assert.are.equal("ACTIVATING", lm:get_state("p"))
    assert.are.equal("done", inside.ticket:status())
    assert.are.same({true}, {inside.ticket:result()})
    assert.are.same({true}, {inside.ticket:wait()})
    local h = lm:get_history("p")
    assert.are.same({"LOADING", "LOADED"}, {h[2].from, h[2].to})
    assert.are.same({"LOADED", "ACTIVATING", "auto"}, {h[3].from, h[3].to, h[3].reason})
  end)

  it("queued transitions run in order and chain", function()
    local lm = new()
    lm:on("AFTER_LOAD", function(p)
      lm:transition(p, "ACTIVATING")
      lm:transition(p, "ACTIVE")
    end)
    lm:on("AFTER_ACTIVATE", function(p) lm:transition(p, "DEACTIVATING") end)
    lm:register("p", "LOADING")
    lm:transition("p", "LOADED")
    local tos = {}
    for _, h in ipairs(lm:get_history("p")) do tos[#tos + 1] = h.to end
    assert.are.same({"LOADING", "LOADED", "ACTIVATING", "ACTIVE", "DEACTIVATING"}, tos)
  end)

  it("a queued transition that became illegal is dropped with a warning", function()
    local lm = new()
    local ticket
    lm:on("BEFORE_LOAD", function(p)
      local _, _, t = lm:transition(p, "LOADED")
      ticket = t
      return false, "not now"                 -- so LOADED is illegal when its turn comes
    end)
    lm:register("p")
    assert.is_false(lm:transition("p", "LOADING"))
    assert.are.equal("illegal", ticket:status())
    local ok, err = ticket:result()
    assert.is_false(ok)
    assert.are.equal("plugin 'p': cannot go from DISCOVERED to LOADED (allowed from DISCOVERED: LOADING, ERROR)",
                     err.message)
    assert.are.equal(1, #warnings)
    assert.matches("queued transition dropped", warnings[1], 1, true)
    assert.are.equal("DISCOVERED", lm:get_state("p"))
  end)

  it("a transition of another plugin from a handler runs at once", function()
    local lm = new()
    local seen
    lm:on("AFTER_LOAD", function(p)
      if p == "a" then
        local ok, note = lm:transition("b", "LOADED")
        seen = {ok = ok, note = note, b = lm:get_state("b")}
      end
    end)
    lm:register("a", "LOADING")
    lm:register("b", "LOADING")
    lm:transition("a", "LOADED")
    assert.are.same({ok = true, b = "LOADED"}, seen)
  end)

  it("two plugins whose handlers transition each other do not deadlock", function()
    local lm = new()
    lm:on("AFTER_ACTIVATE", function(p)
      local other = p == "a" and "b" or "a"
      if lm:get_state(other) == "ACTIVE" then lm:transition(other, "DEACTIVATING") end
      lm:transition(p, "RELOADING")
    end)
    lm:register("a", "ACTIVATING")
    lm:register("b", "ACTIVATING")
    lm:transition("a", "ACTIVE")            -- a: ACTIVE, then RELOADING (queued)
    assert.are.equal("RELOADING", lm:get_state("a"))
    lm:transition("b", "ACTIVE")            -- b's handler: a is not ACTIVE any more
    assert.are.equal("RELOADING", lm:get_state("b"))
    lm:register("c", "ACTIVATING")
    lm:register("d", "ACTIVE")
    lm:on("BEFORE_DEACTIVATE", function(p)
      if p == "d" then lm:transition("c", "RELOADING") end   -- c's own transition is under way
    end)
    lm:on("AFTER_ACTIVATE", function(p) if p == "c" then lm:transition("d", "DEACTIVATING") end end)
    -- c's AFTER_ACTIVATE: d -> DEACTIVATING at once (inline), whose BEFORE
    -- handler transitions c: queued behind c's running transition.
    lm:transition("c", "ACTIVE")
    assert.are.equal("DEACTIVATING", lm:get_state("d"))
    assert.are.equal("RELOADING", lm:get_state("c"))
  end)
end)

describe("LifecycleManager in loop tasks", function()
  after_each(cleanup)

  it("handlers may wait; a transition asked from another task waits for its turn", function()
    local lm = new()
    local log = {}
    lm:on("BEFORE_LOAD", function(p)
      log[#log + 1] = "before_load start"
      tp.sleep(20)
      log[#log + 1] = "before_load end"
    end)
    lm:on("AFTER_LOAD", function() log[#log + 1] = "after_load" end)
    lm:register("p")
    local t1 = go(function() return lm:transition("p", "LOADING") end)
    local t2 = go(function()
      tp.sleep(1)
      log[#log + 1] = "t2 asks in " .. lm:get_state("p")
      local ok, err = lm:transition("p", "LOADED")
      log[#log + 1] = "t2 returns " .. tostring(ok)
      return ok, err
    end)
    tp.run()
    assert.are.same({true}, {t1:wait()})
    assert.are.same({true}, {t2:wait()})
    assert.are.same({"before_load start", "t2 asks in DISCOVERED", "before_load end",
                     "after_load", "t2 returns true"}, log)
    assert.are.equal("LOADED", lm:get_state("p"))
  end)

  it("several waiting tasks run in the order they asked", function()
    local lm = new()
    lm:on("BEFORE_ACTIVATE", function() tp.sleep(5) end)
    lm:on("BEFORE_DEACTIVATE", function() tp.sleep(5) end)
    lm:register("p", "LOADED")
    local order = {}
    local steps = {"ACTIVATING", "ACTIVE", "DEACTIVATING", "INACTIVE", "ACTIVATING"}
    for i, to in ipairs(steps) do
      go(function()
        tp.sleep(i)                   -- ask in this order
        local ok = lm:transition("p", to)
        order[#order + 1] = to .. "=" .. tostring(ok)
      end)
    end
    tp.run()
    assert.are.same({"ACTIVATING=true", "ACTIVE=true", "DEACTIVATING=true", "INACTIVE=true",
                     "ACTIVATING=true"}, order)
    assert.are.equal(6, #lm:get_history("p"))
  end)

  it("a waiting task whose transition became illegal gets the LifecycleError raised", function()
    local lm = new()
    lm:on("BEFORE_LOAD", function() tp.sleep(10) end)
    lm:register("p")
    go(function() lm:transition("p", "LOADING") end)
    local t2 = go(function() tp.sleep(1); return lm:transition("p", "LOADING") end)
    local t3 = go(function() tp.sleep(2); return lm:transition("p", "LOADED") end)
    local ok = pcall(tp.run)
    assert.is_false(ok)                   -- t2's error reaches the driver
    local e = t2:error()
    assert.is_true(errors.is(e, "LifecycleError"))
    assert.matches("cannot go from LOADING to LOADING", e.message, 1, true)
    tp.run()
    assert.are.same({true}, {t3:wait()})  -- the turn went on after t2
    assert.are.equal("LOADED", lm:get_state("p"))
  end)

  it("different plugins are independent while a handler waits", function()
    local lm = new()
    local log = {}
    lm:on("BEFORE_ACTIVATE", function(p)
      if p == "slow" then tp.sleep(30) end
      log[#log + 1] = p
    end)
    lm:register("slow", "LOADED")
    lm:register("fast", "LOADED")
    go(function() lm:transition("slow", "ACTIVATING") end)
    go(function() tp.sleep(1); lm:transition("fast", "ACTIVATING") end)
    tp.run()
    assert.are.same({"fast", "slow"}, log)
  end)

  it("the main chunk waits for a task's turn (same call, both worlds)", function()
    local lm = new()
    lm:on("BEFORE_UNLOAD", function() tp.sleep(10) end)
    lm:register("p", "INACTIVE")
    local t = go(function() return lm:transition("p", "UNLOADING") end)
    tp.sleep(2)                               -- t holds the turn, waiting in its handler
    assert.are.equal("INACTIVE", lm:get_state("p"))
    local ok = lm:transition("p", "UNLOADED") -- runs the loop until t is done, then ours
    assert.is_true(ok)
    assert.are.equal("UNLOADED", lm:get_state("p"))
    assert.are.same({true}, {t:wait()})
  end)

  it("a task waits while the main chunk holds the turn", function()
    local lm = new()
    local log = {}
    lm:on("BEFORE_ACTIVATE", function()
      log[#log + 1] = "main handler sleeps"
      tp.sleep(10)                            -- blocking wait: the loop runs t
      log[#log + 1] = "main handler wakes"
    end)
    lm:register("p", "LOADED")
    local t = go(function()
      log[#log + 1] = "t asks"
      local ok = lm:transition("p", "ACTIVE")
      log[#log + 1] = "t done " .. tostring(ok)
      return ok
    end)
    assert.is_true(lm:transition("p", "ACTIVATING"))
    assert.are.same({"main handler sleeps", "t asks", "main handler wakes"}, log)
    assert.are.equal("ACTIVATING", lm:get_state("p"))
    tp.run()
    assert.are.same({true}, {t:wait()})
    assert.are.equal("ACTIVE", lm:get_state("p"))
    assert.are.equal("t done true", log[4])
  end)

  it("a queued ticket can be waited for from another task", function()
    local lm = new()
    local ticket
    lm:on("AFTER_LOAD", function(p)
      local _, _, tk = lm:transition(p, "ACTIVATING")
      ticket = tk
      tp.sleep(10)                            -- keep the turn a while
    end)
    lm:on("BEFORE_ACTIVATE", function() tp.sleep(5) end)
    lm:register("p", "LOADING")
    go(function() lm:transition("p", "LOADED") end)
    local w = go(function()
      tp.sleep(2)
      return ticket:status(), ticket:wait()
    end)
    tp.run()
    assert.are.same({"queued", true}, {w:wait()})
    assert.are.equal("ACTIVATING", lm:get_state("p"))
  end)

  it("cancelling the task that holds the turn records it and lets the others go on", function()
    local lm = new()
    lm:on("BEFORE_LOAD", function() tp.sleep(1000) end)
    lm:register("p")
    local t1 = go(function() return lm:transition("p", "LOADING") end)
    local t2 = go(function() tp.sleep(1); return lm:transition("p", "ERROR", {reason = "gave up"}) end)
    tp.sleep(5)
    assert.is_true(t1:cancel())
    tp.run()
    assert.are.same({true}, {t2:wait()})
    local h = lm:get_history("p")
    assert.is_true(h[2].vetoed)
    assert.matches("interrupted", h[2].reason, 1, true)
    assert.are.same({"DISCOVERED", "ERROR"}, {h[3].from, h[3].to})
    assert.are.equal("ERROR", lm:get_state("p"))
  end)

  it("cancelling a task that waits for its turn leaves the queue", function()
    local lm = new()
    lm:on("BEFORE_LOAD", function() tp.sleep(10) end)
    lm:register("p")
    go(function() lm:transition("p", "LOADING") end)
    local t2 = go(function() tp.sleep(1); return lm:transition("p", "ERROR") end)
    local t3 = go(function() tp.sleep(2); return lm:transition("p", "LOADED") end)
    tp.sleep(5)
    assert.are.equal(2, lm:list()[1].queued)
    assert.is_true(t2:cancel())
    assert.are.equal(1, lm:list()[1].queued)
    tp.run()
    assert.are.same({true}, {t3:wait()})
    assert.are.equal("LOADED", lm:get_state("p"))
  end)

  it("an action cut short by cancellation leaves the plugin in ERROR", function()
    local lm = new()
    local heard
    lm:on("ON_ERROR", function(_, _, data) tp.sleep(1); heard = data end)
    lm:register("p", "LOADING")
    local t1 = go(function()
      return lm:transition("p", "LOADED", {action = function() tp.sleep(1000) end})
    end)
    tp.sleep(2)
    t1:cancel()
    assert.are.equal("ERROR", lm:get_state("p"))
    local h = last(lm, "p")
    assert.are.same({"LOADING", "ERROR", "LOADED", true}, {h.from, h.to, h.attempted, h.failed})
    assert.are.equal("number", type(h.duration_ms))
    assert.is_true(lm:transition("p", "UNLOADING"))     -- the turn was given back
    tp.run()                                            -- ON_ERROR runs in its own task
    assert.are.same({"action", "LOADED"}, {heard.source, heard.attempted})
    assert.matches("interrupted", heard.reason, 1, true)
  end)
end)

describe("LifecycleManager history", function()
  after_each(cleanup)

  it("is bounded, newest last, with every field", function()
    local t = 1000
    local lm = new{history_limit = 3, clock = function() t = t + 1; return t end}
    lm:register("p")                                                    -- 1001
    lm:transition("p", "LOADING", {reason = "boot", action = function() end})  -- 1002
    lm:transition("p", "LOADED")                                        -- 1003
    lm:on("BEFORE_ACTIVATE", function() return false, "later" end)
    lm:transition("p", "ACTIVATING", {who = "test"})                    -- 1004 vetoed
    lm:transition("p", "ERROR", {reason = "x"})                         -- 1005
    local h = lm:get_history("p")
    assert.are.equal(3, #h)
    assert.are.same({1003, 1004, 1005}, {h[1].timestamp, h[2].timestamp, h[3].timestamp})
    assert.are.same({"LOADING", "LOADED"}, {h[1].from, h[1].to})
    assert.is_nil(h[1].vetoed)
    assert.is_nil(h[1].metadata)
    assert.are.same({"LOADED", "ACTIVATING", true, "later"}, {h[2].from, h[2].to, h[2].vetoed, h[2].reason})
    assert.are.same({who = "test"}, h[2].metadata)
    assert.are.same({"LOADED", "ERROR", "x"}, {h[3].from, h[3].to, h[3].reason})
    for _, e in ipairs(h) do
      assert.are.equal("number", type(e.duration_ms))
      assert.is_true(e.duration_ms >= 0)
    end
    local two = lm:get_history("p", 2)
    assert.are.same({1004, 1005}, {two[1].timestamp, two[2].timestamp})
    assert.are.same({}, lm:get_history("p", 0))
    assert.are.equal(3, #lm:get_history("p", 50))
    assert.is_true(errors.is(raised(lm.get_history, lm, "p", -1), "UsageError"))
  end)

  it("hands out copies", function()
    local lm = new()
    lm:register("p")
    lm:transition("p", "LOADING", {k = "v"})
    local h = lm:get_history("p")
    h[2].to = "ACTIVE"
    h[2].metadata.k = "changed"
    h[3] = {}
    local again = lm:get_history("p")
    assert.are.equal(2, #again)
    assert.are.equal("LOADING", again[2].to)
    assert.are.equal("v", again[2].metadata.k)
  end)

  it("keeps the default bound of 100 per plugin", function()
    local lm = new()
    lm:register("p", "ACTIVE")
    lm:register("q")
    for _ = 1, 60 do
      lm:transition("p", "RELOADING")
      lm:transition("p", "ACTIVE")
    end
    local h = lm:get_history("p")
    assert.are.equal(100, #h)
    assert.are.same({"RELOADING", "ACTIVE"}, {h[100].from, h[100].to})
    assert.are.equal(1, #lm:get_history("q"))
  end)
end)
