-- truthound.lifecycle.states: the plugin states, the lifecycle events and
-- the transition table, as data.
--
--   local states = require("truthound.lifecycle.states")
--   states.PluginState.ACTIVE                      --> "ACTIVE"
--   states.PluginState.parse("active")             --> "ACTIVE"
--   states.can_transition("LOADED", "ACTIVATING")  --> true
--   states.allowed("ACTIVE")                       --> {"DEACTIVATING", "RELOADING", "ERROR"}
--   states.event_before("ACTIVATING")              --> "BEFORE_ACTIVATE"
--   states.event_after("RELOADING", "ACTIVE")      --> "ON_RELOAD"
--
-- docs/lifecycle.md draws the table and says which event fires when.

local frozen = require("truthound.frozen")
local errors = require("truthound.errors")

local M = {}

local function show(v)
  if type(v) == "string" then return ("'%s'"):format(v) end
  return tostring(v)
end

-- An enum: a frozen table of string constants with parse(s) (any case)
-- and list() (the constants in order).
local function enum(kind, values)
  local data, order = {}, {}
  for i, v in ipairs(values) do data[v] = v; order[i] = v end
  local methods = {}
  -- parse(s) -> the constant, or nil and a message naming what was expected.
  function methods.parse(s)
    local v = type(s) == "string" and data[s:upper()]
    if v then return v end
    return nil, ("unknown %s %s; expected one of %s"):format(kind, show(s),
      table.concat(order, ", "))
  end
  function methods.list()
    return table.move(order, 1, #order, 1, {})
  end
  return frozen.freeze(data, {name = kind, methods = methods})
end

M.PluginState = enum("plugin state", {
  "DISCOVERED", "LOADING", "LOADED", "ACTIVATING", "ACTIVE", "DEACTIVATING",
  "INACTIVE", "UNLOADING", "UNLOADED", "RELOADING", "ERROR",
})

M.LifecycleEvent = enum("lifecycle event", {
  "BEFORE_LOAD", "AFTER_LOAD", "BEFORE_ACTIVATE", "AFTER_ACTIVATE",
  "BEFORE_DEACTIVATE", "AFTER_DEACTIVATE", "BEFORE_UNLOAD", "AFTER_UNLOAD",
  "ON_ERROR", "ON_RELOAD",
})

-- The transition table: from -> the states it may go to, in the order
-- messages list them. Every state but ERROR may go to ERROR (a failure can
-- happen anywhere); ERROR recovers only by loading again or unloading.
local TABLE = {
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
M.TRANSITIONS = frozen.freeze(TABLE, {name = "TRANSITIONS"})

local legal = {}
for from, tos in pairs(TABLE) do
  legal[from] = {}
  for _, to in ipairs(tos) do legal[from][to] = true end
end

-- can_transition(from, to) -> boolean (both already parsed).
function M.can_transition(from, to)
  local row = legal[from]
  return row ~= nil and row[to] == true
end

-- allowed(from) -> a fresh list of the states `from` may go to.
function M.allowed(from)
  local tos = TABLE[from]
  return tos and table.move(tos, 1, #tos, 1, {}) or {}
end

-- Entering one of these states first asks the BEFORE_* handlers, which may
-- veto.
local BEFORE = {
  LOADING = "BEFORE_LOAD",
  ACTIVATING = "BEFORE_ACTIVATE",
  DEACTIVATING = "BEFORE_DEACTIVATE",
  UNLOADING = "BEFORE_UNLOAD",
}

-- Once one of these transitions happened, these handlers are told.
local AFTER = {
  ["LOADING>LOADED"] = "AFTER_LOAD",
  ["ACTIVATING>ACTIVE"] = "AFTER_ACTIVATE",
  ["DEACTIVATING>INACTIVE"] = "AFTER_DEACTIVATE",
  ["UNLOADING>UNLOADED"] = "AFTER_UNLOAD",
  ["RELOADING>ACTIVE"] = "ON_RELOAD",
}

-- event_before(to) -> the vetoable event entering `to` fires, or nil.
function M.event_before(to)
  return BEFORE[to]
end

-- event_after(from, to) -> the event fired once from -> to happened, or
-- nil. Entering ERROR, from anywhere, fires ON_ERROR.
function M.event_after(from, to)
  if to == "ERROR" then return "ON_ERROR" end
  return AFTER[tostring(from) .. ">" .. to]
end

-- parse_state(s, what, level) / parse_event(...): the constant, or raise a
-- UsageError naming the input and what was expected.
local function parser(enum_, what)
  return function(s, level)
    local v, msg = enum_.parse(s)
    if v then return v end
    errors.raise("UsageError", what .. ": " .. msg,
      {input = s, expected = table.concat(enum_.list(), ", ")}, (level or 1) + 1)
  end
end
M.parse_state = parser(M.PluginState, "lifecycle")
M.parse_event = parser(M.LifecycleEvent, "lifecycle")

return M
