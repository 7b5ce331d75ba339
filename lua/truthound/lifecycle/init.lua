-- truthound.lifecycle: the plugin lifecycle state machine.
--
--   local lifecycle = require("truthound.lifecycle")
--   lifecycle.PluginState.ACTIVE                         --> "ACTIVE"
--   lifecycle.TRANSITIONS.LOADED                         --> {"ACTIVATING", "UNLOADING", "ERROR"}
--   local lm = lifecycle.LifecycleManager.new{history_limit = 50}
--   lm:on(lifecycle.LifecycleEvent.AFTER_LOAD, function(plugin, event, data) ... end)
--   lm:register("greeter")
--   lm:transition("greeter", "LOADING")
--
-- The states, the table and which event fires when: truthound.lifecycle.
-- states; the manager: truthound.lifecycle.manager; docs/lifecycle.md.

local states = require("truthound.lifecycle.states")

local M = {
  PluginState = states.PluginState,
  LifecycleEvent = states.LifecycleEvent,
  TRANSITIONS = states.TRANSITIONS,
  can_transition = function(from, to)
    return states.can_transition(states.parse_state(from, 2), states.parse_state(to, 2))
  end,
  allowed = function(from) return states.allowed(states.parse_state(from, 2)) end,
  event_before = function(to) return states.event_before(states.parse_state(to, 2)) end,
  event_after = function(from, to)
    return states.event_after(states.parse_state(from, 2), states.parse_state(to, 2))
  end,
  LifecycleManager = require("truthound.lifecycle.manager"),
}

-- HotReloadManager and ReloadStrategy (truthound.lifecycle.hot_reload)
-- load on first use: they need the plugin manager's modules.
return setmetatable(M, {__index = function(t, k)
  if k == "HotReloadManager" or k == "ReloadStrategy" then
    local hr = require("truthound.lifecycle.hot_reload")
    t.HotReloadManager, t.ReloadStrategy = hr.HotReloadManager, hr.ReloadStrategy
    return t[k]
  end
end})
