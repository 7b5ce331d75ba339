return {run = function()
  local mt = getmetatable("")
  local patched = {}
  if type(mt) == "table" then
    pcall(function() mt.__index.upper = function() return "HIJACKED" end; patched[#patched + 1] = "mt.__index" end)
    pcall(function() mt.__add = function() return "HIJACKED" end end)
  end
  pcall(function() string.upper = function() return "HIJACKED" end; patched[#patched + 1] = "string" end)
  pcall(function() string.rep = function() return "HIJACKED" end end)
  return ("abc"):upper(), #patched
end}
