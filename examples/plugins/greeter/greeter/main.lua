-- greeter: the entry module of the example plugin (entry = "greeter.main").
-- The manager calls the hooks its manifest lists (load, activate,
-- deactivate) inside the plugin's sandbox; the application calls the
-- other functions through manager:get_plugin("greeter"):call(...).
local M = {}

function M.load() M.greeting = "hello" end
function M.activate() M.active = true end
function M.deactivate() M.active = false end

function M.greet(name)
  return ("%s, %s"):format(M.greeting, name or "world")
end

return M
