-- greeter: the entry module of the example plugin. The lifecycle that
-- calls these hooks arrives with the plugin manager; for now tplua check
-- reads the manifest and the demo calls the hooks in a sandbox worker.
local M = {}

function M.load(ctx) M.name = (ctx and ctx.name) or "world" end
function M.activate() return "hello, " .. M.name end
function M.deactivate() M.name = nil end

return M
