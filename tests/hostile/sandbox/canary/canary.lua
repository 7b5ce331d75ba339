-- The canary: called after every attack, in the same host process, to
-- show that the host and its other plugins still work.
local M = {}
function M.ping(x) return x * 2, "pong" end
return M
