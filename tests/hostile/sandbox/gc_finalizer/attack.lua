return {run = function()
  local t = setmetatable({}, {__gc = function() while true do end end})
  t = nil
  pcall(collectgarbage, "collect")
  return "returned"
end}
