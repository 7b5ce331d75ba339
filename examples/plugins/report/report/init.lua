-- report: entry module. Pure functions of plain data, as every call into
-- a sandbox is: the arguments and results cross as copies.
local M = {}

function M.activate() M.format = "%d rows, mean %.2f (min %g, max %g)" end

function M.render(title, s)
  return ("%s: " .. M.format):format(title, s.count, s.mean or 0, s.min or 0, s.max or 0)
end

return M
