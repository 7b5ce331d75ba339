return {run = function()
  local s = string.rep("x", 100000)
  return (s:gsub(string.rep(".-", 25) .. "y", "z"))
end}
