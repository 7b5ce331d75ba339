local M = {}
function M.activate() return "hello" end
return M
