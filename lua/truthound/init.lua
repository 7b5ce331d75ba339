-- truthound: a plugin engine for Lua 5.4 applications.
--
--   local tp = require("truthound")
--   tp.versioning.parse_constraint("^1.2"):is_satisfied_by("1.4.0")  --> true
--   tp.spawn(function() tp.sleep(10) end); tp.run()
--
-- Submodules load on first use: tp.versioning is require("truthound.versioning").

local tp = {
  _VERSION = "truthound 0.1.0",
  VERSION = "0.1.0",
}

-- Fields that name a submodule; anything else is nil as usual.
local submodules = {
  errors = "truthound.errors",
  versioning = "truthound.versioning",
  security = "truthound.security",
  manifest = "truthound.manifest",
  units = "truthound.units",
  datafile = "truthound.datafile",
  loop = "truthound.loop",
  cli = "truthound.cli",
  dependencies = "truthound.dependencies",
  lifecycle = "truthound.lifecycle",
  manager = "truthound.manager",
  fswatch = "truthound.fswatch",
}

-- The facade's classes (DESIGN.md section 3): field -> module, name.
local classes = {
  EnterprisePluginManager = {"truthound.manager", "EnterprisePluginManager"},
  EnterprisePluginManagerConfig = {"truthound.manager", "Config"},
}

setmetatable(tp, {
  __index = function(t, k)
    local class = classes[k]
    if class then
      local c = require(class[1])[class[2]]
      rawset(t, k, c)
      return c
    end
    local name = submodules[k]
    if not name then return nil end
    local m = require(name)
    rawset(t, k, m)
    return m
  end,
})

-- The event loop functions live at the top level (DESIGN.md section 3).
local loop = require("truthound.loop")
tp.spawn, tp.run, tp.sleep, tp.now = loop.spawn, loop.run, loop.sleep, loop.now
tp.signal = loop.signal

return tp
